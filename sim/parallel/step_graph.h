// The step graph: for one iteration of one replica and one BatchShape, the ordered kernels and collectives each
// GPU runs, with their FLOPs, bytes and message sizes. It is plain data, built once per iteration shape; the
// compute part times its kernels and the collective part its collectives (CollectiveCall over global GPU indices).
//
//   WIRESIM_ASSIGN_OR_RETURN(StepGraph g, BuildStepGraph(model, plan, placement, batch, {}));
//   for (const StepOp& op : g.programs[0].ops)
//     if (op.kind == StepOp::Kind::kCollective) bytes += op.collective.bytes;
//
// Rules (docs/models.md derives each): per layer, a TP all-reduce of tokens x hidden after the attention output
// projection and after the MLP down projection (reduce-scatter + all-gather around the norms with sequence
// parallelism); with ep > 1, MoE layers dispatch and combine tokens x top-k x hidden over the EP group (split
// by the routing: all-to-all-v of copies x hidden, dispatch at 1 byte + scales with fp8 experts, combine at the
// activation type; optionally two micro-batches overlapping each other's all-to-all); context parallelism passes
// prefill KV around a ring (or all-gathers it) and gathers decode queries; pipeline stages send hidden state and
// residual to the next stage; the first stage embeds (vocab-parallel: an all-reduce) and the last computes logits
// (gathered over TP) and samples.
#pragma once

#include <array>
#include <memory>
#include <string_view>
#include <vector>

#include "sim/collective/collective_op.h"
#include "sim/compute/kernel.h"
#include "sim/compute/kernel_time_model.h"
#include "sim/core/status.h"
#include "sim/model/model_spec.h"
#include "sim/parallel/batch.h"
#include "sim/parallel/draft_model.h"
#include "sim/parallel/expert_routing.h"
#include "sim/parallel/placement.h"
#include "sim/parallel/shard.h"
#include "sim/parallel/step_graph_timing.h"

namespace wiresim {

// Where an op runs on its GPU: kernels one at a time on the compute stream, in program order; collectives on the
// communication stream, started as soon as their dependencies are done and every participant has posted them.
enum class Stream { kCompute, kCommunication };

struct StepOp {
  enum class Kind { kKernel, kCollective };
  Kind kind = Kind::kKernel;
  Stream stream = Stream::kCompute;
  std::string_view name;  // "qkv_proj", "tp_all_reduce", ... (static strings)
  // The decoder layer; -1 before the first (embedding, pipeline receive), num_layers after the last (final norm,
  // LM head, sampling, pipeline send).
  int layer = 0;
  Phase phase = Phase::kMixed;
  KernelShape kernel;                  // kKernel
  CollectiveCall collective;           // kCollective
  ParallelDim dim = ParallelDim::kTp;  // kCollective
  int instance = -1;                   // kCollective: index into StepGraph::collectives
  // Earlier ops of the same program that must be done before this one starts (ascending).
  std::vector<int32_t> deps;
};

// One collective as all its participants see it. `programs[i]` is the index (into StepGraph::programs) of the
// participant whose GPU is call.gpus[i]; for a send/recv, [0] sends and [1] receives.
struct CollectiveInstance {
  std::string_view name;  // the sender's op name for send/recv ("pp_send", "cp_ring_kv_pass")
  ParallelDim dim = ParallelDim::kTp;
  Phase phase = Phase::kMixed;
  int layer = 0;
  CollectiveCall call;
  std::vector<int> programs;
};

struct GpuProgram {
  int rank = 0;
  int gpu = 0;  // global index
  RankCoord coord;
  std::vector<StepOp> ops;
};

struct StepGraph {
  std::vector<GpuProgram> programs;  // by rank; the replica's ranks only
  std::vector<CollectiveInstance> collectives;
  BatchShape batch;  // per DP rank
  Phase phase = Phase::kMixed;
};

struct StepGraphOptions {
  // The busiest EP rank receives this many times the average routed tokens (>= 1; 1 = perfectly balanced). The
  // busiest is EP rank 0; the others share the rest evenly.
  double expert_imbalance = 1.0;
  // Which experts the tokens choose (expert_routing.h): the dispatch and combine all-to-all-v matrices follow.
  ExpertRouting routing;
  // By global GPU index: the NVLink domain each GPU is in (Topology's nvlink_domain; GpuNvlinkDomains), -1 for a
  // GPU with no NVLink peer. Where an EP group spans domains, a kAllToAll dispatch in a step where some rank
  // extends sends a token once per other domain and forwards it over NVLink there (DeepEP's internode normal
  // kernels; internal::EpTraffic::MatrixOf). Empty: every GPU is taken as one domain with every other (each token
  // goes once to each destination rank, whatever links join them).
  std::vector<int> gpu_domain;
  // ep > 1: two-micro-batch overlap (DeepSeek's inference system, SGLang's two-batch overlap). Each DP rank's batch
  // is split into two micro-batches of half its tokens (A takes the first ceil(T/2)); every MoE layer runs
  //   compute stream:  pre(A) pre(B) experts(A) experts(B)      (pre = norms, attention, router)
  //   comm stream:     dispatch(A) dispatch(B) combine(A) combine(B)
  // (program order: pre(A) dispatch(A) pre(B) dispatch(B) experts(A) combine(A) experts(B) combine(B)), each
  // collective after its own micro-batch's compute and after the collective before it on the communication stream,
  // each kernel after its own micro-batch's previous op, so A's all-to-all overlaps B's compute and B's overlaps
  // A's (B's combine the next layer's pre(A)). Dense layers, the embedding and the head run the whole batch.
  bool two_batch_overlap = false;
  // ep > 1: how the EP group exchanges tokens (docs/serving.md, wide expert parallelism).
  //  - kAllToAll: an all-to-all-v of each token's routed copies (DeepEP's format: fp8 with scales when the experts
  //    are 8-bit), the combine its transpose: SGLang with --moe-a2a-backend deepep, TensorRT-LLM's wide EP on a
  //    multi-node NVLink system, vLLM's DeepEP and pplx backends.
  //  - kAllGather: the dispatch all-gathers every rank's tokens over the EP group and each rank runs its experts on
  //    the rows routed to them; the combine reduce-scatters the partial outputs back (`ep_gather` says what the
  //    rows carry and when an engine all-reduces instead). Each rank contributes the most tokens of any: vLLM pads
  //    every DP rank to it under CUDA graphs (vllm/v1/worker/dp_utils.py), SGLang in its MAX_LEN mode; wiresim
  //    pads every step.
  enum class EpExchange { kAllToAll, kAllGather };
  EpExchange ep_exchange = EpExchange::kAllToAll;
  // The rows of a kAllGather exchange, as each engine forms them.
  struct EpGatherFormat {
    // Each row carries its token's top-k weights (fp32) and expert ids (int32) beside the hidden state: the router
    // runs before the gather (vLLM's AgRsAll2AllManager, vllm/distributed/device_communicators/all2all.py;
    // TensorRT-LLM's MoE allgather of x, its scales, token_selected_slots and token_final_scales). False: the
    // hidden state alone, and every rank routes the gathered rows itself (SGLang's DP-attention gather).
    bool routing = true;
    // SGLang's padding modes (python/sglang/srt/layers/dp_attention.py, DpPaddingMode): a step in which some DP
    // rank prefills, or whose ranks' counts are so uneven that 2 x their sum < the largest x the ranks, lays every
    // rank's rows end to end in a zeroed buffer and all-reduces it (SUM_LEN), and the combine all-reduces the
    // experts' outputs; other steps all-gather rows padded to the largest (MAX_LEN) and reduce-scatter.
    bool sum_len = false;
    // The shared experts and the dense layers' MLPs run split over every rank of the EP group on the gathered rows,
    // between the gather and the reduce-scatter (a dense layer gathers and reduce-scatters for its MLP alone):
    // SGLang's FULL scatter mode (python/sglang/srt/layers/communicator.py, LayerScatterModes; models/deepseek_v2.py
    // shards the shared experts over the TP group unless an all-to-all backend runs). Applied with tp = 1 (one GPU
    // per DP rank); with TP inside each DP rank the graph keeps vLLM's layout (GathersOverDpGroup) and only the memory
    // plan splits those weights over the EP group.
    bool mlps_over_group = false;
  };
  EpGatherFormat ep_gather;
  // "alltoall" or "allgather"; "auto" is the engine's own (`engine_all_gathers`: EngineGathersExperts).
  // Anything else: InvalidArgument naming the words expected.
  static Result<EpExchange> ParseEpExchange(std::string_view word, bool engine_all_gathers);
  // Which DP rank's GPUs, when DP ranks are independent replicas. When MoE layers spread experts over the DP
  // ranks (ep > 1) the DP ranks step together and the graph holds all of them, each with `batch`.
  int replica = 0;
  // ep > 1 and dp > 1 only: each DP rank's own batch (dp of them), as attention-DP runs them; an empty one is an
  // idle rank, which still joins the MoE collectives with a one-token dummy batch. Empty: every DP rank runs
  // `batch`.
  std::vector<BatchShape> dp_batches;
  // Emit only the first decoder layer of each kind (dense, MoE) on each stage: the others repeat it op for op.
  // A compiled iteration times these and multiplies (iteration_model.h says when that is exact).
  bool one_layer_per_kind = false;
  // The drafter of speculative decoding (passes 0: none).
  DraftModel draft;
  // BuildGroups(plan, placement), when the caller keeps it: a replica builds many graphs of one plan and placement,
  // and the groups cover every rank of the world (all DP ranks). Null: built per graph.
  std::shared_ptr<const ParallelGroups> groups;
};

// vLLM's layout of an MoE layer with tp > 1 inside each DP rank (EpExchange::kAllGather, ep > 1, no sequence or
// context parallelism): every TP rank keeps all of its DP rank's tokens, the dispatch all-gathers over the DP group
// (the ranks of its TP index), the shared experts split over TP like a dense MLP, and a TP all-reduce sums the
// experts' partial outputs after the combine.
bool GathersOverDpGroup(const ParallelPlan& plan, StepGraphOptions::EpExchange exchange);

// How the weights of an EP deployment's dense MLPs and shared experts are split for its exchange (the memory plan's
// EpMlpSplit): over the EP group for SGLang's gather (EpGatherFormat::mlps_over_group), the shared experts over TP in
// vLLM's layout (GathersOverDpGroup), else as the all-to-all layouts hold them.
EpMlpSplit EpMlpSplitOf(const ParallelPlan& plan, StepGraphOptions::EpExchange exchange,
                        const StepGraphOptions::EpGatherFormat& format);

// The attention kernels one rank runs in every decoder layer for a batch (every rank of one DP rank runs the same
// ones): the step graph emits exactly these, and a compiled iteration recomputes only these when the contexts
// change. Holds scratch space: one instance per thread.
class LayerAttentionShapes {
 public:
  LayerAttentionShapes(const ModelSpec& model, const ParallelPlan& plan);
  // kAttentionPrefill over the batch's prefill chunks (with context parallelism, this rank's 1/cp of the queries);
  // flops == 0 when the batch has none.
  KernelShape Prefill(const BatchShape& batch) const;
  // kAttentionDecode over the batch's decodes (with context parallelism, over this rank's 1/cp of each context).
  KernelShape Decode(const BatchShape& batch) const;
  AttentionHeads PrefillHeads() const { return prefill_heads_; }
  AttentionHeads DecodeHeads() const { return decode_heads_; }

 private:
  int cp_;
  AttentionHeads prefill_heads_, decode_heads_;
  mutable std::vector<AttentionChunk> chunks_;
  mutable std::vector<int64_t> contexts_;
};

// The batch of a drafter pass after the first (pass >= 1): one query per sequence of `batch` (decodes and prefill
// chunks alike, as the proposer drafts for every request of the step), at its position after the step plus `pass`.
BatchShape DraftPassBatch(const BatchShape& batch, int pass);

// The two micro-batches of two-batch overlap: A the first ceil(T/2) token rows in the order decodes, prefill chunks,
// padding; B the rest. A prefill chunk cut in two becomes a chunk that does not sample and one after it whose
// context holds the first part (exact for causal attention).
std::array<BatchShape, 2> SplitInTwo(const BatchShape& batch);

// REQUIRES: ValidatePlan(plan, model, ...) is OK. Fails on an empty batch or options out of range.
Result<StepGraph> BuildStepGraph(const ModelSpec& model, const ParallelPlan& plan, const Placement& placement,
                                 const BatchShape& batch, const StepGraphOptions& options);

// Checks that the graph can be executed: every instance is referenced by exactly its participants (each once, on
// the GPU the call names), dependencies point backwards, and running every program with every instance joined
// by its participants reaches the end (no participant waits for an instance another never reaches). The error
// names the first instance or op at fault.
Status CheckStepGraph(const StepGraph& graph);

// The kernels of `program` timed back to back (collectives excluded): the GPU's compute time for the iteration.
Time ComputeTime(const GpuProgram& program, const KernelTimeModel& model);

}  // namespace wiresim
