#include "sim/parallel/shard.h"

namespace wiresim {
namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Heads on one GPU when `heads` split over tp: tp divides them, or each GPU holds one replicated head.
int64_t LocalHeads(int64_t heads, int64_t tp) { return heads % tp == 0 ? heads / tp : 1; }

}  // namespace

LocalShapes LocalShapesOf(const ModelSpec& m, const ParallelPlan& p) {
  LocalShapes s;
  const int64_t tp = p.tp;
  const bool ep = p.ep > 1;
  s.q_heads = m.num_attention_heads / tp;
  s.kv_heads = m.attention == AttentionKind::kMultiLatent ? 1 : LocalHeads(m.num_kv_heads, tp);
  s.dense_width = m.intermediate_size / tp;
  s.experts = ep ? m.moe.num_experts / p.ep : m.moe.num_experts;
  s.expert_width = ep ? m.moe.expert_intermediate_size : m.moe.expert_intermediate_size / tp;
  s.shared_width = ep ? m.moe.shared_intermediate_size : m.moe.shared_intermediate_size / tp;
  s.vocab = CeilDiv(m.vocab_size, tp);
  const double kv_elements = m.attention == AttentionKind::kMultiLatent
                                 ? static_cast<double>(m.KvElementsPerTokenPerLayer())
                                 : static_cast<double>(2 * s.kv_heads * m.head_dim);
  s.kv_bytes_per_token_layer = kv_elements * BytesPerElement(m.kv_cache_dtype);
  return s;
}

double ShardFraction(const ModelSpec& m, const ParallelPlan& p, const WeightMatrix& w, EpMlpSplit split) {
  const double tp = p.tp;
  switch (w.split) {
    case TpSplit::kReplicated:
      return 1.0;
    case TpSplit::kVocab:
      return static_cast<double>(CeilDiv(m.vocab_size, p.tp)) / static_cast<double>(m.vocab_size);
    case TpSplit::kColumnByHeads:
      return static_cast<double>(LocalHeads(w.heads, p.tp)) / static_cast<double>(w.heads);
    case TpSplit::kColumn:
    case TpSplit::kRow:
      if (w.group == WeightGroup::kRoutedExperts) return p.ep > 1 ? 1.0 / p.ep : 1.0 / tp;
      if (p.ep > 1 && split == EpMlpSplit::kEpGroup &&
          (w.group == WeightGroup::kSharedExperts || w.group == WeightGroup::kDenseMlp)) {
        return 1.0 / p.ep;
      }
      if (w.group == WeightGroup::kSharedExperts) return p.ep > 1 && split == EpMlpSplit::kTp ? 1.0 : 1.0 / tp;
      return 1.0 / tp;
  }
  return 1.0;
}

StageWeights StageWeightBytes(const ModelSpec& m, const ParallelPlan& p, const StageLayers& stage, bool first_stage,
                              bool last_stage, EpMlpSplit split) {
  StageWeights out;
  for (int64_t l = stage.first; l < stage.end; ++l) {
    for (const WeightMatrix& w : LayerWeights(m, l)) {
      out.layers += WeightBytes(m, w) * ShardFraction(m, p, w, split);
    }
  }
  for (const WeightMatrix& w : OuterWeights(m)) {
    const double bytes = WeightBytes(m, w) * ShardFraction(m, p, w);
    if (w.group == WeightGroup::kEmbedding) {
      if (first_stage) out.embedding += bytes;
      // A tied LM head is the embedding matrix; a last stage that is not the first keeps its own copy.
      if (m.tie_word_embeddings && last_stage && !first_stage) out.lm_head += bytes;
    } else if (last_stage) {
      out.lm_head += bytes;  // LM head and the final norm
    }
  }
  return out;
}

double DrafterWeightBytes(const ModelSpec& target, const ParallelPlan& p, const DraftModel& draft, EpMlpSplit split) {
  if (draft.passes == 0) return 0;
  ModelSpec m = target;
  m.weight_dtype = draft.weight_dtype.value_or(target.weight_dtype);
  // A layer of the drafter's kind: the last layer when it is one, else the first that is.
  int64_t layer = m.num_layers - 1;
  for (int64_t l = 0; m.IsMoeLayer(layer) != draft.moe && l < m.num_layers; ++l) {
    if (m.IsMoeLayer(l) == draft.moe) layer = l;
  }
  double bytes = 0;
  for (const WeightMatrix& w : LayerWeights(m, layer)) {
    bytes += WeightBytes(m, w) * ShardFraction(m, p, w, split);
  }
  const double h = static_cast<double>(m.hidden_size);
  return bytes + 2 * h * h * BytesPerElement(m.activation_dtype);
}

}  // namespace wiresim
