// ParallelPlan: how one model is split over GPUs: tensor (tp), pipeline (pp), context (cp), data (dp) and expert
// (ep) parallelism, and sequence parallelism. A pipeline stage holds tp x cp x dp GPUs; the model's MoE layers
// spread their experts over all of them when ep > 1 (ep = tp x cp x dp: expert parallelism over the ranks of the
// attention part, as vLLM's --enable-expert-parallel and SGLang's attention-DP do), else shard every expert over
// the tp group like a dense MLP.
//
//   WIRESIM_ASSIGN_OR_RETURN(ParallelPlan plan, ParsePlan("tp=8,pp=2"));
//   WIRESIM_RETURN_IF_ERROR(ValidatePlan(plan, model, /*gpus_available=*/16));
//   std::vector<StageLayers> stages = SplitLayers(model.num_layers, plan.pp);   // [0, 40) and [40, 80)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/status.h"
#include "sim/model/model_spec.h"

namespace wiresim {

// How context-parallel ranks share the KV of a prefill: pass KV blocks around a ring (ring attention), or gather
// all of it on every rank before attention.
enum class CpAttention { kRing, kAllGather };

struct ParallelPlan {
  int tp = 1;
  int pp = 1;
  int cp = 1;
  int dp = 1;
  int ep = 1;                      // 1, or tp x cp x dp
  bool sequence_parallel = false;  // norms on 1/tp of the tokens; reduce-scatter + all-gather instead of all-reduce
  CpAttention cp_attention = CpAttention::kRing;

  int GpusPerStage() const { return tp * cp * dp; }
  int WorldSize() const { return GpusPerStage() * pp; }
  // "tp=8,pp=2" (degrees of 1 left out; "tp=1" when all are 1).
  std::string ToString() const;
};

// Bounds ParsePlan applies: every degree from 1 to 65536, the GPUs of the whole plan (tp x pp x cp x dp) at most
// kMaxPlanGpus, as any topology's; and with context parallelism cp at most 64 and tp x cp at most 512: each of a
// replica's tp x cp GPUs runs cp - 1 ring-attention passes per layer, and the step graph holds every one (tp=8 with
// cp=64 takes 2.4 GB for Llama-3.1-70B's 80 layers).
inline constexpr int64_t kMaxPlanGpus = int64_t{1} << 20;
inline constexpr int kMaxContextParallel = 64;
inline constexpr int kMaxContextParallelGpus = 512;

// Parses "tp=8,pp=2,cp=1,dp=1,ep=8,sp=on,cp_attention=allgather" (any subset, any order; "sp" also takes
// true/false/1/0). Errors name the offending item and what is accepted, or the bound above the plan passes.
Result<ParallelPlan> ParsePlan(std::string_view text);

// Checks the plan against the model and the GPUs at hand, with a message saying what to change: heads and KV
// heads vs tp, FFN widths vs tp, experts vs ep, layers vs pp (uneven splits allowed), world size vs GPUs.
// `gpus_available` 0 skips the last check.
Status ValidatePlan(const ParallelPlan& plan, const ModelSpec& model, int gpus_available);

// Layers [first, end) of one pipeline stage.
struct StageLayers {
  int64_t first = 0;
  int64_t end = 0;
  int64_t count() const { return end - first; }
};
// Contiguous stages; when pp does not divide the layers, the stages just before the last get one more each
// (vLLM's get_pp_indices: the last stage also holds the final norm and the LM head).
std::vector<StageLayers> SplitLayers(int64_t num_layers, int pp);

}  // namespace wiresim
