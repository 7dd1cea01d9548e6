// What one GPU of a plan holds of a model: its attention heads, MLP and expert widths, vocabulary slice, KV cache
// per token, and weight bytes. Memory accounting and the step graph both read shapes from here, so the two agree.
//
//   LocalShapes s = LocalShapesOf(llama70b, plan_tp8);   // s.q_heads = 8, s.kv_heads = 1, s.dense_width = 3584
//   double bytes = StageWeightBytes(llama70b, plan_tp8, SplitLayers(80, 1)[0], true, true).total;
#pragma once

#include <cstdint>

#include "sim/model/parameters.h"
#include "sim/parallel/draft_model.h"
#include "sim/parallel/plan.h"

namespace wiresim {

struct LocalShapes {
  int64_t q_heads = 0;       // num_attention_heads / tp
  int64_t kv_heads = 0;      // MHA: num_key_value_heads / tp, or 1 when tp exceeds them (each KV head replicated)
  int64_t dense_width = 0;   // intermediate_size / tp
  int64_t experts = 0;       // routed experts held: E / ep with expert parallelism, else all E
  int64_t expert_width = 0;  // of each held expert: whole with expert parallelism, else / tp
  int64_t shared_width = 0;  // shared experts: whole (replicated) with expert parallelism, else / tp
  int64_t vocab = 0;         // ceil(vocab_size / tp): the embedding and LM head rows held
  // This GPU's KV cache per token per layer: kv_heads x 2 x head_dim, or MLA's whole latent (every TP rank
  // caches all of it, as vLLM does), at the KV-cache type. Context parallelism splits the tokens, not this.
  double kv_bytes_per_token_layer = 0;
};
LocalShapes LocalShapesOf(const ModelSpec& model, const ParallelPlan& plan);

// With ep > 1, how the MLPs other than the routed experts are split (the layouts of step_graph.h):
//  - kTp: dense MLPs over TP, the shared experts whole on every EP rank (the all-to-all layouts);
//  - kSharedOverTp: the shared experts over TP too (vLLM's gather with TP inside each DP rank, GathersOverDpGroup);
//  - kEpGroup: dense MLPs and shared experts over every rank of the EP group, run on the gathered rows (SGLang's
//    gather: its MLPs run in the FULL scatter mode over the whole TP group, python/sglang/srt/layers/communicator.py,
//    and models/deepseek_v2.py shards the shared experts over it unless an all-to-all backend runs).
enum class EpMlpSplit { kTp, kSharedOverTp, kEpGroup };

// The fraction of matrix `w` one GPU holds.
double ShardFraction(const ModelSpec& model, const ParallelPlan& plan, const WeightMatrix& w,
                     EpMlpSplit split = EpMlpSplit::kTp);

struct StageWeights {
  double layers = 0;     // the stage's decoder layers
  double embedding = 0;  // first stage (and the last one too when the LM head is tied to it and pp > 1)
  double lm_head = 0;    // last stage: LM head and final norm
  double drafter = 0;    // last stage, with speculative decoding: the drafter's layer and input projection
  double total() const { return layers + embedding + lm_head + drafter; }
};
// Weight bytes on each GPU of a stage (all GPUs of a stage hold the same amount).
StageWeights StageWeightBytes(const ModelSpec& model, const ParallelPlan& plan, const StageLayers& stage,
                              bool first_stage, bool last_stage, EpMlpSplit split = EpMlpSplit::kTp);
// The drafter's weights on each GPU of the last stage: one decoder layer of its kind (at its own weight type when it
// has one), sharded as the target's, and
// its 2h x h input projection, replicated (vLLM's MTP eh_proj is a plain nn.Linear). The embedding and the LM head
// are the target's, shared (vLLM's EagleProposer.load_model); an EAGLE-3 head's own small LM head is not counted.
double DrafterWeightBytes(const ModelSpec& model, const ParallelPlan& plan, const DraftModel& draft,
                          EpMlpSplit split = EpMlpSplit::kTp);

}  // namespace wiresim
