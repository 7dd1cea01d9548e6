// ModelSpec: what a transformer is, in the terms of its HF config.json: sizes, attention kind (multi-head with
// grouped KV heads, or DeepSeek's multi-head latent attention), which layers are mixture-of-experts, and the
// element types of its weights, activations and KV cache. Every other part derives shapes, bytes and FLOPs from it.
//
//   ModelSpec m = ...;                          // from LoadModel (model_file.h)
//   double kv = m.KvBytesPerToken();            // Llama-3.1-70B at bf16: 2 x 8 x 128 x 80 x 2 = 327,680
//   bool moe = m.IsMoeLayer(3);                 // DeepSeek-V3: true (layers 0-2 are dense)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/dtype.h"

namespace wiresim {

enum class AttentionKind {
  kMultiHead,    // MHA, GQA and MQA: num_key_value_heads K and V heads of head_dim each
  kMultiLatent,  // MLA (DeepSeek-V2/V3): K and V rebuilt from a cached latent of kv_lora_rank + qk_rope_head_dim
};

// Multi-head latent attention (HF DeepseekV3Config field names).
struct MlaShape {
  int64_t q_lora_rank = 0;  // 0: queries are projected directly from the hidden state
  int64_t kv_lora_rank = 0;
  int64_t qk_nope_head_dim = 0;
  int64_t qk_rope_head_dim = 0;
  int64_t v_head_dim = 0;
};

// Mixture of experts. num_experts == 0 means every layer has a dense MLP.
struct MoeShape {
  int64_t num_experts = 0;               // routed experts per MoE layer
  int64_t experts_per_token = 0;         // top-k
  int64_t expert_intermediate_size = 0;  // FFN width of one routed expert
  int64_t num_shared_experts = 0;        // experts every token passes through (DeepSeek: 1)
  int64_t shared_intermediate_size = 0;  // total FFN width of the shared experts together
  // Which layers are MoE: layer >= first_k_dense_replace, layer % moe_layer_freq == 0 (DeepSeek), and
  // (layer + 1) % decoder_sparse_step == 0 and not in mlp_only_layers (Qwen). The others are dense.
  int64_t first_k_dense_replace = 0;
  int64_t moe_layer_freq = 1;
  int64_t decoder_sparse_step = 1;
  std::vector<int64_t> mlp_only_layers;
  // Group-limited routing (DeepSeek's n_group and topk_group): the experts form expert_groups contiguous groups and a
  // token picks its k experts inside the topk_groups groups its router ranks first. 1 and 1: no limit.
  int64_t expert_groups = 1;
  int64_t topk_groups = 1;
};

struct ModelSpec {
  std::string name;        // "llama-3.1-70b"
  std::string model_type;  // HF model_type: "llama", "deepseek_v3", ...
  std::string source;      // where the figures come from (an HF config URL), for output

  int64_t hidden_size = 0;
  int64_t num_layers = 0;  // num_hidden_layers; MTP layers (num_nextn_predict_layers) are not among them
  int64_t num_attention_heads = 0;
  int64_t num_kv_heads = 0;       // num_key_value_heads (MLA: ignored for the KV cache)
  int64_t head_dim = 0;           // explicit head_dim, else hidden_size / num_attention_heads
  int64_t intermediate_size = 0;  // dense MLP width (gated: gate, up and down projections)
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 0;
  bool tie_word_embeddings = false;
  bool attention_bias = false;           // q, k and v projections carry biases (Qwen2)
  int64_t num_nextn_predict_layers = 0;  // DeepSeek MTP; counted separately, not in the parameter total

  AttentionKind attention = AttentionKind::kMultiHead;
  MlaShape mla;
  MoeShape moe;

  DataType activation_dtype = DataType::kBFloat16;  // torch_dtype / dtype
  DataType weight_dtype = DataType::kBFloat16;      // linear layers; fp8 or int4 when quantized
  DataType kv_cache_dtype = DataType::kBFloat16;

  bool IsMoe() const { return moe.num_experts > 0; }
  bool IsMoeLayer(int64_t layer) const;
  int64_t MoeLayerCount() const;

  // Query/key and value head widths: head_dim for both, or MLA's qk_nope + qk_rope and v_head_dim.
  int64_t QkHeadDim() const;
  int64_t VHeadDim() const;
  // Elements one token stores in one layer's KV cache: 2 x kv_heads x head_dim, or MLA's
  // kv_lora_rank + qk_rope_head_dim (the compressed latent, as vLLM and SGLang cache it).
  int64_t KvElementsPerTokenPerLayer() const;
  // Bytes per token over all layers at kv_cache_dtype.
  double KvBytesPerToken() const;
};

}  // namespace wiresim
