// The GEMM shapes of a transformer's linear layers on one GPU at a tensor-parallel degree, read from a model's
// HF config.json (or a TOML file with the same keys), so a calibration run measures exactly the products that
// model's serving would run. Dense and GQA attention, MLA (DeepSeek), dense and MoE MLPs, the LM head.
//
//   ModelShape model = ReadModelShape("config.json");
//   for (const LinearShape& s : LinearLayers(model, /*tp=*/4)) ...   // n, k per GPU; m is the token count
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wiresim::calibrate {

struct ModelShape {
  std::string name;
  int64_t hidden = 0, intermediate = 0, heads = 0, kv_heads = 0, head_dim = 0, vocab = 0;
  int64_t experts = 0, top_k = 0, moe_intermediate = 0, shared_experts = 0, first_dense_layers = 0;
  int64_t q_lora_rank = 0, kv_lora_rank = 0, qk_nope_head_dim = 0, qk_rope_head_dim = 0, v_head_dim = 0;
  bool has_dense_mlp = true;  // false when every layer is MoE
};

// One linear layer as a product [m x k] x [k x n] on each GPU.
struct LinearShape {
  std::string layer;  // "qkv", "o", "gate_up", "down", "expert_gate_up", ... , "lm_head"
  int64_t n = 0;
  int64_t k = 0;
  bool expert = false;  // m is the tokens routed to one expert (m x top_k / experts), not the batch's tokens
};

// Reads config.json (JSON) or a .toml with HF field names; the text_config wrapper of multimodal configs is
// followed. Throws CalibrateError naming the file and the missing field.
// Every size must be a whole number up to 2^24 (docs/formats/numbers.md); JSON nested deeper than 512 levels and
// numbers no double holds are refused too.
ModelShape ReadModelShape(const std::string& path);
// The same from the file's text: TOML when `where` ends in ".toml", JSON otherwise; `where` names the file in errors.
ModelShape ModelShapeFromText(const std::string& text, const std::string& where);
ModelShape ModelShapeFromJsonText(const std::string& text, const std::string& where);

// The linear layers at tensor-parallel degree `tp` (column-parallel layers split n, row-parallel ones split k; KV
// heads replicate when tp exceeds them, as vLLM does). Throws when tp does not divide the heads.
std::vector<LinearShape> LinearLayers(const ModelShape& model, int tp);

}  // namespace wiresim::calibrate
