// The weights of a model, matrix by matrix, and what follows from them: parameter counts (total, and active per
// token for MoE models), bytes at the model's weight type, and FLOPs per token. The parallel part shards these
// matrices over GPUs by their TpSplit, the way vLLM's layer classes do.
//
//   ParameterCounts p = CountParameters(model);   // Llama-3.1-70B: p.total = 70,553,706,496
//   for (const WeightMatrix& w : LayerWeights(model, 0)) bytes += WeightBytes(model, w);
//   FlopsPerToken f = CountFlopsPerToken(model);   // f.linear = 2 x active matmul parameters
#pragma once

#include <cstdint>
#include <vector>

#include "sim/model/model_spec.h"

namespace wiresim {

// How a matrix splits over a tensor-parallel group (vLLM: ColumnParallel, RowParallel, Replicated,
// VocabParallelEmbedding).
enum class TpSplit {
  kColumnByHeads,  // output features split by attention heads; `heads` heads share `out`
  kColumn,         // output features split (gate and up projections)
  kRow,            // input features split (o_proj, down projections); their outputs are summed over the group
  kReplicated,     // every GPU holds all of it (router, norms, MLA's latent down-projections)
  kVocab,          // embedding and LM head: vocabulary rows split
};

enum class WeightGroup { kAttention, kDenseMlp, kRoutedExperts, kSharedExperts, kRouter, kNorm, kEmbedding, kLmHead };

// One weight matrix, y[T, out] = x[T, in] W, or a norm's scale vector (in = 1).
struct WeightMatrix {
  const char* name = "";  // the HF module name: "q_proj", "experts.gate_proj", "input_layernorm"
  WeightGroup group = WeightGroup::kAttention;
  TpSplit split = TpSplit::kReplicated;
  int64_t in = 0;
  int64_t out = 0;
  int64_t heads = 0;      // kColumnByHeads: the heads `out` holds
  int64_t copies = 1;     // routed experts: one matrix per expert
  bool quantized = true;  // stored at the weight type; norms, router, embedding and LM head stay unquantized
  bool bias = false;

  int64_t Parameters() const { return copies * (in * out + (bias ? out : 0)); }
};

// The matrices of decoder layer `layer` (attention, then the dense MLP or the MoE block, then norms).
std::vector<WeightMatrix> LayerWeights(const ModelSpec& model, int64_t layer);
// The matrices outside the layers: token embedding, final norm, and the LM head unless tied to the embedding.
std::vector<WeightMatrix> OuterWeights(const ModelSpec& model);

// Bytes per parameter of `w` as stored: the weight type for quantized matrices (int4 adds one fp16 scale and
// one fp16 zero point per group of 128, as AWQ and GPTQ store them), else the activation type.
double BytesPerParameter(const ModelSpec& model, const WeightMatrix& w);
double WeightBytes(const ModelSpec& model, const WeightMatrix& w);

struct ParameterCounts {
  int64_t total = 0;   // every layer, the embedding, the final norm and the LM head; MTP layers excluded
  int64_t active = 0;  // what one token uses: total minus the routed experts it is not sent to
  int64_t embedding = 0;
  int64_t lm_head = 0;  // 0 when tied to the embedding
  int64_t attention = 0;
  int64_t dense_mlp = 0;
  int64_t routed_experts = 0;
  int64_t shared_experts = 0;
  int64_t router = 0;
  int64_t norms = 0;
};
ParameterCounts CountParameters(const ModelSpec& model);
// All weights at their stored types, in bytes (the checkpoint size, less metadata).
double ModelWeightBytes(const ModelSpec& model);

// FLOPs per token of one forward pass (a multiply-add is 2 FLOPs).
struct FlopsPerToken {
  double linear = 0;  // 2 x the active parameters in matrix multiplies (LM head included; embedding and norms not)
  // Attention scores and weighted values for each token already in context: 2 x layers x heads x (qk + v) head
  // dims. A token at position p adds p x this (a causal prefill of n tokens: n(n+1)/2 x this).
  double attention_per_context_token = 0;
};
FlopsPerToken CountFlopsPerToken(const ModelSpec& model);

}  // namespace wiresim
