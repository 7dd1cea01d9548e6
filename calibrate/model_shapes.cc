#include "calibrate/model_shapes.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "calibrate/profile.h"

namespace wiresim::calibrate {
namespace {

// Field access over JSON or TOML through one small interface.
struct Fields {
  const nlohmann::json* json = nullptr;
  const toml::table* toml = nullptr;

  bool Has(const char* key) const {
    return json ? json->contains(key) && !(*json)[key].is_null() : toml->contains(key);
  }
  int64_t Int(const char* key, int64_t fallback) const {
    if (!Has(key)) return fallback;
    if (json) {
      const auto& v = (*json)[key];
      if (v.is_number_integer()) return v.get<int64_t>();
      if (v.is_array()) return static_cast<int64_t>(v.size());
      return fallback;
    }
    if (auto v = (*toml)[key].value<int64_t>()) return *v;
    if (auto* a = (*toml)[key].as_array()) return static_cast<int64_t>(a->size());
    return fallback;
  }
  std::string String(const char* key) const {
    if (!Has(key)) return "";
    if (json) return (*json)[key].is_string() ? (*json)[key].get<std::string>() : "";
    return (*toml)[key].value_or(std::string());
  }
};

int64_t FirstOf(const Fields& f, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (f.Has(k)) return f.Int(k, 0);
  return 0;
}

ModelShape FromFields(const Fields& f, const std::string& where) {
  ModelShape m;
  m.name = f.String("_name_or_path");
  m.hidden = f.Int("hidden_size", 0);
  m.heads = f.Int("num_attention_heads", 0);
  m.kv_heads = f.Int("num_key_value_heads", m.heads);
  m.head_dim = f.Int("head_dim", m.heads > 0 ? m.hidden / m.heads : 0);
  m.intermediate = f.Int("intermediate_size", 0);
  m.vocab = f.Int("vocab_size", 0);
  m.experts = FirstOf(f, {"num_local_experts", "n_routed_experts", "num_experts"});
  m.top_k = f.Int("num_experts_per_tok", 0);
  m.moe_intermediate = f.Int("moe_intermediate_size", m.intermediate);
  m.shared_experts = f.Int("n_shared_experts", 0);
  m.first_dense_layers = f.Int("first_k_dense_replace", 0);
  m.q_lora_rank = f.Int("q_lora_rank", 0);
  m.kv_lora_rank = f.Int("kv_lora_rank", 0);
  m.qk_nope_head_dim = f.Int("qk_nope_head_dim", 0);
  m.qk_rope_head_dim = f.Int("qk_rope_head_dim", 0);
  m.v_head_dim = f.Int("v_head_dim", 0);
  m.has_dense_mlp = m.experts == 0 || m.first_dense_layers > 0 || f.Int("mlp_only_layers", 0) > 0;
  for (auto [value, key] : {std::pair{m.hidden, "hidden_size"}, std::pair{m.heads, "num_attention_heads"},
                            std::pair{m.intermediate, "intermediate_size"}, std::pair{m.vocab, "vocab_size"}}) {
    if (value <= 0) throw CalibrateError(where + ": " + key + " is missing or not a positive integer");
  }
  return m;
}

}  // namespace

ModelShape ModelShapeFromJsonText(const std::string& text, const std::string& where) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw CalibrateError(where + ": not valid JSON (" + std::string(e.what()) + ")");
  }
  const nlohmann::json& root = doc.contains("text_config") ? doc["text_config"] : doc;
  return FromFields(Fields{&root, nullptr}, where);
}

ModelShape ReadModelShape(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw CalibrateError(path + ": cannot be opened");
  std::ostringstream text;
  text << in.rdbuf();
  if (path.size() > 5 && path.substr(path.size() - 5) == ".toml") {
    toml::table doc;
    try {
      doc = toml::parse(text.str(), std::string_view(path));
    } catch (const toml::parse_error& e) {
      throw CalibrateError(path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
    }
    const toml::table* root = doc["text_config"].as_table() ? doc["text_config"].as_table() : &doc;
    ModelShape m = FromFields(Fields{nullptr, root}, path);
    if (m.name.empty()) m.name = path;
    return m;
  }
  ModelShape m = ModelShapeFromJsonText(text.str(), path);
  if (m.name.empty()) m.name = path;
  return m;
}

std::vector<LinearShape> LinearLayers(const ModelShape& m, int tp) {
  if (tp < 1 || m.heads % tp != 0) {
    throw CalibrateError("tensor-parallel degree " + std::to_string(tp) + " does not divide the " +
                         std::to_string(m.heads) + " attention heads of " + m.name);
  }
  const int64_t heads = m.heads / tp;
  std::vector<LinearShape> out;
  if (m.kv_lora_rank > 0) {
    // MLA (DeepSeek-V2/V3) as vLLM runs it: low-rank query and key/value projections (the two down-projections
    // fused into one GEMM when the query is low-rank too), and in decode the per-head products that absorb the
    // up-projections into the query and the output (one GEMM per head, the same shape for every head and any tp).
    const int64_t qk_head = m.qk_nope_head_dim + m.qk_rope_head_dim;
    const int64_t latent = m.kv_lora_rank + m.qk_rope_head_dim;
    if (m.q_lora_rank > 0) {
      out.push_back({"fused_qkv_a", m.q_lora_rank + latent, m.hidden});
      out.push_back({"q_b", heads * qk_head, m.q_lora_rank});
    } else {
      out.push_back({"q", heads * qk_head, m.hidden});
      out.push_back({"kv_a", latent, m.hidden});
    }
    out.push_back({"kv_b", heads * (m.qk_nope_head_dim + m.v_head_dim), m.kv_lora_rank});
    out.push_back({"mla_q_absorb", m.kv_lora_rank, m.qk_nope_head_dim});
    out.push_back({"mla_v_absorb", m.v_head_dim, m.kv_lora_rank});
    out.push_back({"o", m.hidden, heads * m.v_head_dim});
  } else {
    const int64_t kv = std::max<int64_t>(1, m.kv_heads / tp);  // replicated when tp > kv heads
    out.push_back({"qkv", (heads + 2 * kv) * m.head_dim, m.hidden});
    out.push_back({"o", m.hidden, heads * m.head_dim});
  }
  if (m.has_dense_mlp) {
    out.push_back({"gate_up", 2 * m.intermediate / tp, m.hidden});
    out.push_back({"down", m.hidden, m.intermediate / tp});
  }
  if (m.experts > 0) {
    out.push_back({"router", m.experts, m.hidden});  // replicated on every GPU
    out.push_back({"expert_gate_up", 2 * m.moe_intermediate / tp, m.hidden, true});
    out.push_back({"expert_down", m.hidden, m.moe_intermediate / tp, true});
    if (m.shared_experts > 0) {
      out.push_back({"shared_gate_up", 2 * m.shared_experts * m.moe_intermediate / tp, m.hidden});
      out.push_back({"shared_down", m.hidden, m.shared_experts * m.moe_intermediate / tp});
    }
  }
  out.push_back({"lm_head", m.vocab / tp, m.hidden});
  return out;
}

}  // namespace wiresim::calibrate
