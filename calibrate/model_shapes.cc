#include "calibrate/model_shapes.h"

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "calibrate/profile.h"
#include "sim/core/numeric_field.h"

namespace wiresim::calibrate {
namespace {

// Field access over JSON or TOML through one small interface. Every size is a whole number up to 2^24, the bound
// the simulator puts on a model's sizes (docs/formats/numbers.md), so that the layers' products (at most a few of
// them multiplied) stay far inside int64; a size outside it is an error naming the file, the line (TOML) and the key.
struct Fields {
  const nlohmann::json* json = nullptr;
  const toml::table* toml = nullptr;
  std::string where;

  bool Has(const char* key) const {
    return json ? json->contains(key) && !(*json)[key].is_null() : toml->contains(key);
  }
  // The key's whole number (an array counts as its length, as HF writes mlp_only_layers), `fallback` when absent or
  // of another type.
  int64_t Int(const char* key, int64_t fallback) const {
    if (!Has(key)) return fallback;
    std::optional<int64_t> v;
    SourceLocation at{where, 0, 0};
    if (json) {
      const auto& node = (*json)[key];
      if (node.is_array()) return static_cast<int64_t>(node.size());
      if (!node.is_number()) return fallback;
      v = JsonWholeNumber(node);
      if (!v) {
        // A fraction, or a whole number of 2^63 and more: said as the range says it.
        const Status s = CheckNumber(at, key, node.get<double>(), WholeUpTo(kMaxModelDimension, "2^24"));
        if (!s.ok()) throw CalibrateError(s.message());
        throw CalibrateError(where + ": " + key + ": expected a whole number, got " +
                             InputExcerpt(node.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
      }
    } else {
      const toml::node_view<const toml::node> node = (*toml)[key];
      if (const auto* a = node.as_array()) return static_cast<int64_t>(a->size());
      at.line = static_cast<int>(node.node()->source().begin.line);
      if (const auto* i = node.as_integer()) {
        v = i->get();
      } else if (const auto* f = node.as_floating_point()) {
        const double d = f->get();
        // A fraction, inf or nan, or past the range: said as the range says it (a double below 2^24 converts).
        const Status s = CheckNumber(at, key, d, WholeUpTo(kMaxModelDimension, "2^24"));
        if (!s.ok()) throw CalibrateError(s.message());
        v = static_cast<int64_t>(d);
      } else {
        return fallback;
      }
    }
    if (const Status s = CheckInteger(at, key, *v, WholeUpTo(kMaxModelDimension, "2^24")); !s.ok()) {
      throw CalibrateError(s.message());
    }
    return *v;
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

ModelShape FromJsonText(const std::string& text, const std::string& where) {
  if (const Status nesting = CheckJsonNesting(where, text); !nesting.ok()) throw CalibrateError(nesting.message());
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw CalibrateError(where + ": not valid JSON (" + std::string(e.what()) + ")");
  } catch (const nlohmann::json::exception& e) {
    // out_of_range: a number such as 1e400 that no double holds.
    throw CalibrateError(JsonNumberOutOfRange(where, text, e.what()).message());
  }
  const nlohmann::json& root = doc.contains("text_config") ? doc["text_config"] : doc;
  return FromFields(Fields{&root, nullptr, where}, where);
}

ModelShape FromTomlText(const std::string& text, const std::string& where) {
  toml::table doc;
  try {
    doc = toml::parse(text, std::string_view(where));
  } catch (const toml::parse_error& e) {
    throw CalibrateError(where + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  const toml::table* root = doc["text_config"].as_table() ? doc["text_config"].as_table() : &doc;
  return FromFields(Fields{nullptr, root, where}, where);
}

}  // namespace

ModelShape ModelShapeFromJsonText(const std::string& text, const std::string& where) {
  return FromJsonText(text, where);
}

ModelShape ModelShapeFromText(const std::string& text, const std::string& where) {
  const bool toml = where.size() > 5 && where.compare(where.size() - 5, 5, ".toml") == 0;
  ModelShape m = toml ? FromTomlText(text, where) : FromJsonText(text, where);
  if (m.name.empty()) m.name = where;
  return m;
}

ModelShape ReadModelShape(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CalibrateError(path + ": cannot be opened");
  std::ostringstream text;
  text << in.rdbuf();
  return ModelShapeFromText(text.str(), path);
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
