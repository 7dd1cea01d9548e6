#include "sim/model/parameters.h"

namespace wiresim {
namespace {

WeightMatrix Matrix(const char* name, WeightGroup group, TpSplit split, int64_t in, int64_t out) {
  WeightMatrix w;
  w.name = name;
  w.group = group;
  w.split = split;
  w.in = in;
  w.out = out;
  return w;
}

WeightMatrix ByHeads(const char* name, int64_t in, int64_t heads, int64_t head_width, bool bias) {
  WeightMatrix w = Matrix(name, WeightGroup::kAttention, TpSplit::kColumnByHeads, in, heads * head_width);
  w.heads = heads;
  w.bias = bias;
  return w;
}

WeightMatrix Norm(const char* name, int64_t size) {
  WeightMatrix w = Matrix(name, WeightGroup::kNorm, TpSplit::kReplicated, 1, size);
  w.quantized = false;
  return w;
}

void AddAttention(const ModelSpec& m, std::vector<WeightMatrix>& out) {
  const int64_t h = m.hidden_size;
  const int64_t heads = m.num_attention_heads;
  if (m.attention == AttentionKind::kMultiLatent) {
    const MlaShape& a = m.mla;
    const int64_t qk = a.qk_nope_head_dim + a.qk_rope_head_dim;
    if (a.q_lora_rank > 0) {
      out.push_back(Matrix("q_a_proj", WeightGroup::kAttention, TpSplit::kReplicated, h, a.q_lora_rank));
      out.push_back(Norm("q_a_layernorm", a.q_lora_rank));
      out.push_back(ByHeads("q_b_proj", a.q_lora_rank, heads, qk, false));
    } else {
      out.push_back(ByHeads("q_proj", h, heads, qk, false));
    }
    out.push_back(Matrix("kv_a_proj_with_mqa", WeightGroup::kAttention, TpSplit::kReplicated, h,
                         a.kv_lora_rank + a.qk_rope_head_dim));
    out.push_back(Norm("kv_a_layernorm", a.kv_lora_rank));
    out.push_back(ByHeads("kv_b_proj", a.kv_lora_rank, heads, a.qk_nope_head_dim + a.v_head_dim, false));
    out.push_back(Matrix("o_proj", WeightGroup::kAttention, TpSplit::kRow, heads * a.v_head_dim, h));
    return;
  }
  out.push_back(ByHeads("q_proj", h, heads, m.head_dim, m.attention_bias));
  out.push_back(ByHeads("k_proj", h, m.num_kv_heads, m.head_dim, m.attention_bias));
  out.push_back(ByHeads("v_proj", h, m.num_kv_heads, m.head_dim, m.attention_bias));
  out.push_back(Matrix("o_proj", WeightGroup::kAttention, TpSplit::kRow, heads * m.head_dim, h));
  // Qwen3 normalises queries and keys per head.
  if (m.model_type == "qwen3" || m.model_type == "qwen3_moe") {
    out.push_back(Norm("q_norm", m.head_dim));
    out.push_back(Norm("k_norm", m.head_dim));
  }
}

// A gated MLP (SiLU or GELU gate): gate and up projections to `width`, down projection back.
void AddGatedMlp(const char* gate, const char* up, const char* down, WeightGroup group, int64_t hidden, int64_t width,
                 int64_t copies, std::vector<WeightMatrix>& out) {
  for (const char* name : {gate, up}) {
    WeightMatrix w = Matrix(name, group, TpSplit::kColumn, hidden, width);
    w.copies = copies;
    out.push_back(w);
  }
  WeightMatrix d = Matrix(down, group, TpSplit::kRow, width, hidden);
  d.copies = copies;
  out.push_back(d);
}

}  // namespace

std::vector<WeightMatrix> LayerWeights(const ModelSpec& m, int64_t layer) {
  std::vector<WeightMatrix> out;
  out.push_back(Norm("input_layernorm", m.hidden_size));
  AddAttention(m, out);
  out.push_back(Norm("post_attention_layernorm", m.hidden_size));
  if (!m.IsMoeLayer(layer)) {
    AddGatedMlp("gate_proj", "up_proj", "down_proj", WeightGroup::kDenseMlp, m.hidden_size, m.intermediate_size, 1,
                out);
    return out;
  }
  const MoeShape& moe = m.moe;
  WeightMatrix router = Matrix("gate", WeightGroup::kRouter, TpSplit::kReplicated, m.hidden_size, moe.num_experts);
  router.quantized = false;
  out.push_back(router);
  AddGatedMlp("experts.gate_proj", "experts.up_proj", "experts.down_proj", WeightGroup::kRoutedExperts, m.hidden_size,
              moe.expert_intermediate_size, moe.num_experts, out);
  if (moe.shared_intermediate_size > 0) {
    AddGatedMlp("shared_experts.gate_proj", "shared_experts.up_proj", "shared_experts.down_proj",
                WeightGroup::kSharedExperts, m.hidden_size, moe.shared_intermediate_size, 1, out);
  }
  return out;
}

std::vector<WeightMatrix> OuterWeights(const ModelSpec& m) {
  std::vector<WeightMatrix> out;
  WeightMatrix embed = Matrix("embed_tokens", WeightGroup::kEmbedding, TpSplit::kVocab, m.vocab_size, m.hidden_size);
  embed.quantized = false;
  out.push_back(embed);
  out.push_back(Norm("norm", m.hidden_size));
  if (!m.tie_word_embeddings) {
    WeightMatrix head = Matrix("lm_head", WeightGroup::kLmHead, TpSplit::kVocab, m.hidden_size, m.vocab_size);
    head.quantized = false;
    out.push_back(head);
  }
  return out;
}

double BytesPerParameter(const ModelSpec& m, const WeightMatrix& w) {
  if (!w.quantized) return BytesPerElement(m.activation_dtype);
  if (m.weight_dtype == DataType::kInt4) return 0.5 + 4.0 / 128.0;  // fp16 scale + fp16 zero per 128 weights
  return BytesPerElement(m.weight_dtype);
}

double WeightBytes(const ModelSpec& m, const WeightMatrix& w) {
  return static_cast<double>(w.Parameters()) * BytesPerParameter(m, w);
}

ParameterCounts CountParameters(const ModelSpec& m) {
  ParameterCounts p;
  auto add = [&p](const WeightMatrix& w) {
    const int64_t n = w.Parameters();
    p.total += n;
    switch (w.group) {
      case WeightGroup::kAttention:
        p.attention += n;
        break;
      case WeightGroup::kDenseMlp:
        p.dense_mlp += n;
        break;
      case WeightGroup::kRoutedExperts:
        p.routed_experts += n;
        break;
      case WeightGroup::kSharedExperts:
        p.shared_experts += n;
        break;
      case WeightGroup::kRouter:
        p.router += n;
        break;
      case WeightGroup::kNorm:
        p.norms += n;
        break;
      case WeightGroup::kEmbedding:
        p.embedding += n;
        break;
      case WeightGroup::kLmHead:
        p.lm_head += n;
        break;
    }
  };
  int64_t unused_experts = 0;
  for (int64_t l = 0; l < m.num_layers; ++l) {
    for (const WeightMatrix& w : LayerWeights(m, l)) {
      add(w);
      if (w.group == WeightGroup::kRoutedExperts) {
        unused_experts += (w.copies - m.moe.experts_per_token) * (w.Parameters() / w.copies);
      }
    }
  }
  for (const WeightMatrix& w : OuterWeights(m)) add(w);
  p.active = p.total - unused_experts;
  return p;
}

double ModelWeightBytes(const ModelSpec& m) {
  double bytes = 0;
  for (int64_t l = 0; l < m.num_layers; ++l) {
    for (const WeightMatrix& w : LayerWeights(m, l)) bytes += WeightBytes(m, w);
  }
  for (const WeightMatrix& w : OuterWeights(m)) bytes += WeightBytes(m, w);
  return bytes;
}

FlopsPerToken CountFlopsPerToken(const ModelSpec& m) {
  FlopsPerToken f;
  const ParameterCounts p = CountParameters(m);
  // Tied models multiply by the embedding matrix once more, as their LM head.
  const int64_t head = m.tie_word_embeddings ? p.embedding : p.lm_head;
  f.linear = 2.0 * static_cast<double>(p.active - p.embedding - p.lm_head - p.norms + head);
  f.attention_per_context_token = 2.0 * static_cast<double>(m.num_layers * m.num_attention_heads) *
                                  static_cast<double>(m.QkHeadDim() + m.VHeadDim());
  return f;
}

}  // namespace wiresim
