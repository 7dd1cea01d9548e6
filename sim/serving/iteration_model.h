// IterationModel: what running one iteration of a replica takes, at two levels that agree where both apply.
//   - Full(): the step graph of the batch, op by op, for IterationRun to play (every kernel, every collective; the
//     level that must be used when collectives share links with other traffic).
//   - Compile(): the same iteration collapsed per GPU into [pipeline receive] body [pipeline send], the body timed
//     once per iteration shape by EvaluateStepGraph. An iteration's kernels other than attention depend on its
//     batch only through a small key (new tokens, logit rows, the numbers of prefill chunks, decodes and decode rows,
//     and for MLA or context parallelism the prefill positions), so the body is cached per key with its attention
//     left out, and each iteration adds back layers x its own attention time. Where every GPU of the replica times
//     kernels alike and the DP ranks do not step together, this is exact: every rank of a stage runs the same
//     attention, so the attention shifts every rank of every segment between collectives by the same amount (a
//     test holds the two levels equal to the picosecond over whole runs).
//   - Collapsed(): an iteration whose DP ranks step together (attention-DP + EP) cannot be compiled whole, since
//     each rank runs its own batch and the MoE all-to-alls join them at every layer; but each rank's kernels
//     between two collectives run back to back on its compute stream, so they collapse into one op timed in
//     advance (their durations summed), and the collectives stay ops for the executor (flows where they share
//     links). Where every op of a program waits only for the op before it this is the op-by-op iteration to the
//     picosecond; it is built from one decoder layer of each kind per stage (the others repeat it op for op), so
//     the kernels are timed once per rank and layer kind.
//
//   IterationModel im(model, plan, placement, /*replica=*/0, options, kernel_models, closed);
//   WIRESIM_ASSIGN_OR_RETURN(const CompiledIteration* c, im.Compile(batch));
//   im.BodyTimes(*c, batch, &times);   // per program of c->graph
#pragma once

#include <array>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "sim/collective/collective_timing.h"
#include "sim/compute/kernel_time_model.h"
#include "sim/core/status.h"
#include "sim/metrics/gpu_time.h"
#include "sim/model/model_spec.h"
#include "sim/parallel/step_graph.h"

namespace wiresim {

// One GPU's part of a compiled iteration: what its body did apart from attention, and how many attention kernels
// it runs (each layer of its stage: one prefill and one decode attention, when the batch has them).
struct CompiledBody {
  int gpu = 0;
  Time static_time;  // body duration with attention taking no time
  int prefill_attention = 0;
  int decode_attention = 0;
  int later_draft_attention = 0;  // the drafter's passes after the first (one decode attention each)
  Time static_compute;  // kernels other than attention
  std::array<std::array<Time, kPhases>, kParallelDims> exposed{};
  Time communication;
};

struct CompiledIteration {
  std::shared_ptr<const StepGraph> graph;  // per program: [pp_recv] "iteration_body" [pp_send]
  std::vector<CompiledBody> bodies;        // per program
  bool reduced = false;                    // timed on one layer per kind (every stage's ranks in step)
  // The bytes the body's collectives (all but the pipeline's sends, which run as ops) put on each link: NCCL's
  // choice for each call expanded (ClosedFormCollectives::LinkLoad), summed; sorted by link.
  std::vector<LinkBytes> link_bytes;
};

// A coupled iteration with each program's runs of kernels collapsed into one kernel op ("compute_segment"). Its
// collective ops carry only their instance (the call is the instance's).
struct CollapsedIteration {
  std::shared_ptr<const StepGraph> graph;
  std::vector<std::vector<Time>> op_time;  // per program, per op: a segment's duration (zero for collectives)
};

class IterationModel {
 public:
  // `kernel_models[g]` times global GPU g's kernels (not owned; null for GPUs the replica does not use).
  IterationModel(const ModelSpec& model, const ParallelPlan& plan, const Placement& placement, int replica,
                 double expert_imbalance, std::vector<const KernelTimeModel*> kernel_models,
                 ClosedFormCollectives& closed);
  // `moe` gives the MoE options of every graph (expert_imbalance, routing, two_batch_overlap) and the drafter of
  // speculative decoding (draft); its replica and dp_batches are ignored. Two-batch overlap interleaves the
  // micro-batches across layer boundaries, so such an iteration is never compiled (CanCompile() is false: it runs op by
  // op).
  IterationModel(const ModelSpec& model, const ParallelPlan& plan, const Placement& placement, int replica,
                 const StepGraphOptions& moe, std::vector<const KernelTimeModel*> kernel_models,
                 ClosedFormCollectives& closed);
  IterationModel(const IterationModel&) = delete;
  IterationModel& operator=(const IterationModel&) = delete;

  // The iteration op by op. With coupled DP ranks (ep > 1, dp > 1) `dp_batches` gives each DP rank's batch.
  Result<std::shared_ptr<const StepGraph>> Full(const BatchShape& batch,
                                                const std::vector<BatchShape>& dp_batches = {});
  // Whether Compile() is exact for this replica (see the file comment).
  bool CanCompile() const { return can_compile_; }
  // REQUIRES: CanCompile(). Cached per key.
  Result<const CompiledIteration*> Compile(const BatchShape& batch);
  // The body duration of each program of `c` for `batch` (which must have c's key), and its compute time.
  void BodyTimes(const CompiledIteration& c, const BatchShape& batch, std::vector<Time>* body,
                 std::vector<Time>* compute) const;

  // Whether Collapsed() applies: the DP ranks step together (ep > 1, dp > 1) without two-batch overlap.
  bool CanCollapse() const { return can_collapse_; }
  // REQUIRES: CanCollapse(). The iteration of `dp_batches` (one per DP rank) collapsed; null (no error) when some
  // program is not a chain of ops each waiting for the one before it (then run Full()).
  Result<std::shared_ptr<const CollapsedIteration>> Collapsed(const std::vector<BatchShape>& dp_batches);
  // The durations of `c`'s ops, for IterationRun.
  static KernelDuration SegmentTimes(std::shared_ptr<const CollapsedIteration> c);

  // The kernel time of program p's op in a full graph.
  KernelDuration KernelTimes(std::shared_ptr<const StepGraph> graph) const;

  size_t compiled_shapes() const { return compiled_.size(); }
  const ParallelPlan& plan() const { return plan_; }

 private:
  using Key = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t>;
  Key KeyOf(const BatchShape& batch) const;
  Result<std::unique_ptr<CompiledIteration>> CompileNow(const BatchShape& batch);
  // Null (no error) when `reduced` and some stage's ranks are not in step at a layer boundary.
  Result<std::unique_ptr<CompiledIteration>> CompileGraph(const StepGraph& graph, bool reduced);

  // The layers of `layer`'s kind (dense or MoE) on pipeline stage `stage`: how often a reduced graph's layer repeats.
  int64_t LayersOfKind(int stage, int layer) const {
    return layer_kinds_[static_cast<size_t>(stage)][model_.IsMoeLayer(layer) ? 1 : 0];
  }
  // The time of kernel `k` on global GPU `gpu`, remembered by shape (most DP ranks run the same shapes).
  Time KernelTimeOf(int gpu, const KernelShape& k);

  const ModelSpec& model_;
  ParallelPlan plan_;
  Placement placement_;
  StepGraphOptions graph_options_;
  std::vector<const KernelTimeModel*> kernel_models_;
  ClosedFormCollectives& closed_;
  LayerAttentionShapes attention_;
  std::vector<std::array<int64_t, 2>> layer_kinds_;  // per pipeline stage: its [dense, MoE] layers
  bool can_compile_ = true;
  bool can_collapse_ = false;
  bool key_needs_positions_ = false;
  std::map<Key, std::unique_ptr<CompiledIteration>> compiled_;
  using KernelKey = std::tuple<const KernelTimeModel*, KernelKind, int64_t, int64_t, int64_t, int64_t, DataType,
                               DataType, double, double>;
  static constexpr size_t kKernelTimesKept = 1 << 16;
  std::map<KernelKey, Time> kernel_times_;
  // The last collapsed graph and the one-layer-per-kind graph it came from (Collapsed() reuses it when the next
  // step's has the same shape).
  std::shared_ptr<const StepGraph> last_graph_;
  StepGraph last_reduced_;
};

}  // namespace wiresim
