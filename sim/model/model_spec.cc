#include "sim/model/model_spec.h"

#include <algorithm>

namespace wiresim {

bool ModelSpec::IsMoeLayer(int64_t layer) const {
  if (!IsMoe()) return false;
  if (layer < moe.first_k_dense_replace) return false;
  if (moe.moe_layer_freq > 1 && layer % moe.moe_layer_freq != 0) return false;
  if (moe.decoder_sparse_step > 1 && (layer + 1) % moe.decoder_sparse_step != 0) return false;
  return std::find(moe.mlp_only_layers.begin(), moe.mlp_only_layers.end(), layer) == moe.mlp_only_layers.end();
}

int64_t ModelSpec::MoeLayerCount() const {
  int64_t n = 0;
  for (int64_t l = 0; l < num_layers; ++l) n += IsMoeLayer(l) ? 1 : 0;
  return n;
}

int64_t ModelSpec::QkHeadDim() const {
  return attention == AttentionKind::kMultiLatent ? mla.qk_nope_head_dim + mla.qk_rope_head_dim : head_dim;
}

int64_t ModelSpec::VHeadDim() const { return attention == AttentionKind::kMultiLatent ? mla.v_head_dim : head_dim; }

int64_t ModelSpec::KvElementsPerTokenPerLayer() const {
  if (attention == AttentionKind::kMultiLatent) return mla.kv_lora_rank + mla.qk_rope_head_dim;
  return 2 * num_kv_heads * head_dim;
}

double ModelSpec::KvBytesPerToken() const {
  return static_cast<double>(KvElementsPerTokenPerLayer() * num_layers) * BytesPerElement(kv_cache_dtype);
}

}  // namespace wiresim
