// The attention shapes a layer's ranks run, and the ways a step's batch is split (drafter passes, two micro-batches).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "sim/parallel/shard.h"
#include "sim/parallel/step_graph.h"

namespace wiresim {
namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

LayerAttentionShapes::LayerAttentionShapes(const ModelSpec& m, const ParallelPlan& p) : cp_(p.cp) {
  const LocalShapes s = LocalShapesOf(m, p);
  const double a = BytesPerElement(m.activation_dtype);
  prefill_heads_.q_heads = decode_heads_.q_heads = s.q_heads;
  prefill_heads_.dtype = decode_heads_.dtype = m.activation_dtype;
  if (m.attention == AttentionKind::kMultiLatent) {
    // MLA as vLLM runs it: prefill attends over up-projected K and V; decode over the cached latent itself.
    const MlaShape& l = m.mla;
    const int64_t qk = l.qk_nope_head_dim + l.qk_rope_head_dim;
    prefill_heads_.qk_dim = qk;
    prefill_heads_.v_dim = l.v_head_dim;
    prefill_heads_.kv_bytes_per_token = static_cast<double>(s.q_heads * (qk + l.v_head_dim)) * a;  // expanded K, V
    decode_heads_.qk_dim = l.kv_lora_rank + l.qk_rope_head_dim;
    decode_heads_.v_dim = l.kv_lora_rank;
    decode_heads_.kv_bytes_per_token = s.kv_bytes_per_token_layer;  // the latent, shared by all heads
  } else {
    prefill_heads_.qk_dim = prefill_heads_.v_dim = m.head_dim;
    decode_heads_.qk_dim = decode_heads_.v_dim = m.head_dim;
    prefill_heads_.kv_bytes_per_token = decode_heads_.kv_bytes_per_token = s.kv_bytes_per_token_layer;
  }
}

KernelShape LayerAttentionShapes::Prefill(const BatchShape& batch) const {
  chunks_.clear();
  for (const PrefillChunk& c : batch.prefills) chunks_.push_back({c.tokens, c.context});
  KernelShape k = PrefillAttentionKernel(prefill_heads_, chunks_);
  k.flops /= cp_;
  k.m = CeilDiv(k.m, cp_);
  return k;
}

KernelShape LayerAttentionShapes::Decode(const BatchShape& batch) const {
  contexts_.clear();
  for (int64_t c : batch.decode_contexts) contexts_.push_back(CeilDiv(c, cp_));
  return DecodeAttentionKernel(decode_heads_, contexts_, batch.decode_queries);
}

BatchShape DraftPassBatch(const BatchShape& batch, int pass) {
  BatchShape out;
  out.decode_contexts.reserve(batch.decode_contexts.size() + batch.prefills.size());
  for (int64_t c : batch.decode_contexts) out.decode_contexts.push_back(c + pass);
  for (const PrefillChunk& c : batch.prefills) out.decode_contexts.push_back(c.context + c.tokens + pass);
  return out;
}

std::array<BatchShape, 2> SplitInTwo(const BatchShape& b) {
  std::array<BatchShape, 2> out;
  int64_t left = (b.Tokens() + 1) / 2;  // rows still to give A
  for (size_t i = 0; i < b.decode_contexts.size(); ++i) {
    BatchShape& to = out[left > 0 ? 0 : 1];
    to.decode_contexts.push_back(b.decode_contexts[i]);
    if (!b.decode_queries.empty()) to.decode_queries.push_back(b.decode_queries[i]);
    left = std::max<int64_t>(0, left - b.Queries(i));
  }
  for (const PrefillChunk& c : b.prefills) {
    if (left >= c.tokens) {
      out[0].prefills.push_back(c);
      left -= c.tokens;
    } else if (left > 0) {
      out[0].prefills.push_back({left, c.context, false});
      out[1].prefills.push_back({c.tokens - left, c.context + left, c.last});
      left = 0;
    } else {
      out[1].prefills.push_back(c);
    }
  }
  out[0].padding = std::min(left, b.padding);
  out[1].padding = b.padding - out[0].padding;
  return out;
}

}  // namespace wiresim
