#include "sim/model/model_file.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sim/config/toml_reader.h"
#include "sim/core/numeric_field.h"

namespace wiresim {
namespace {

// Every integer a model file gives is one of its sizes (or a negative "not set"); each is bounded so that the products
// ValidateModel checks, and those parameters.cc forms, stay in int64.
constexpr NumericRange kModelInteger{-static_cast<double>(kMaxModelDimension),
                                     false,
                                     static_cast<double>(kMaxModelDimension),
                                     true,
                                     "an integer",
                                     "2^24"};

// A JSON value as a message quotes it: scalars as written (cut to 40 characters), containers by kind, so that no
// message holds a whole subtree.
std::string Describe(const nlohmann::json& v) {
  if (v.is_object()) return "an object";
  if (v.is_array()) return "an array";
  return InputExcerpt(v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// The fields of one table of a model file, whatever the file's format, so that one set of rules reads both.
// Getters return nullopt for an absent key (and for a JSON null, which HF configs use for "not set").
class Fields {
 public:
  virtual ~Fields() = default;
  virtual Result<std::optional<int64_t>> Int(std::string_view key) = 0;
  virtual Result<std::optional<double>> Number(std::string_view key) = 0;
  virtual Result<std::optional<std::string>> String(std::string_view key) = 0;
  virtual Result<std::optional<bool>> Bool(std::string_view key) = 0;
  virtual Result<std::vector<int64_t>> IntList(std::string_view key) = 0;
  // nullptr when absent.
  virtual Result<std::unique_ptr<Fields>> Sub(std::string_view key) = 0;
  // Marks keys that are understood but do not change shapes or bytes.
  virtual void Ignore(std::string_view key) = 0;
  virtual Status Error(std::string_view key, const std::string& message) const = 0;
  // OK when `value`, read from `key`, is in `range`; else an error placed at the key.
  virtual Status Check(std::string_view key, int64_t value, const NumericRange& range) const = 0;
  // TOML: fails on keys nobody asked for. JSON: always OK.
  virtual Status CheckNoUnknownKeys() const = 0;
};

class TomlFields : public Fields {
 public:
  explicit TomlFields(config::TableReader reader) : r_(std::move(reader)) {}

  Result<std::optional<int64_t>> Int(std::string_view key) override { return r_.OptionalIntIn(key, kModelInteger); }
  Result<std::optional<double>> Number(std::string_view key) override { return r_.OptionalNumber(key); }
  Result<std::optional<std::string>> String(std::string_view key) override { return r_.OptionalString(key); }
  Result<std::optional<bool>> Bool(std::string_view key) override { return r_.OptionalBool(key); }
  Result<std::vector<int64_t>> IntList(std::string_view key) override {
    r_.Accept(key);
    std::vector<int64_t> out;
    const toml::node* node = r_.table().get(key);
    if (node == nullptr) return out;
    const toml::array* array = node->as_array();
    if (array == nullptr) return r_.Error(key, "expected an array of integers");
    for (const toml::node& item : *array) {
      if (!item.is_integer()) return r_.Error(key, "expected an array of integers");
      WIRESIM_RETURN_IF_ERROR(Check(key, *item.value<int64_t>(), kModelInteger));
      out.push_back(*item.value<int64_t>());
    }
    return out;
  }
  Result<std::unique_ptr<Fields>> Sub(std::string_view key) override {
    WIRESIM_ASSIGN_OR_RETURN(std::optional<config::TableReader> sub, r_.Table(key));
    if (!sub) return std::unique_ptr<Fields>();
    return std::unique_ptr<Fields>(std::make_unique<TomlFields>(std::move(*sub)));
  }
  void Ignore(std::string_view key) override { r_.Accept(key); }
  Status Error(std::string_view key, const std::string& message) const override { return r_.Error(key, message); }
  Status Check(std::string_view key, int64_t value, const NumericRange& range) const override {
    return CheckInteger(r_.Where(key), r_.Field(key), value, range);
  }
  Status CheckNoUnknownKeys() const override { return r_.CheckNoUnknownKeys(); }

 private:
  config::TableReader r_;
};

// A JSON object of a config.json. nlohmann keeps no positions, so a message finds the key's line in the text.
class JsonFields : public Fields {
 public:
  JsonFields(const nlohmann::json& object, const SourceFile& file, std::string path, size_t search_from)
      : object_(&object), file_(&file), path_(std::move(path)), search_from_(search_from) {}

  Result<std::optional<int64_t>> Int(std::string_view key) override {
    const nlohmann::json* v = Find(key);
    if (v == nullptr) return std::optional<int64_t>();
    const std::optional<int64_t> i = JsonWholeNumber(*v);
    if (!i) return Error(key, "expected an integer, got " + Describe(*v));
    WIRESIM_RETURN_IF_ERROR(Check(key, *i, kModelInteger));
    return i;
  }
  Result<std::optional<double>> Number(std::string_view key) override {
    const nlohmann::json* v = Find(key);
    if (v == nullptr) return std::optional<double>();
    if (v->is_number()) return std::optional<double>(v->get<double>());
    return Error(key, "expected a number, got " + Describe(*v));
  }
  Result<std::optional<std::string>> String(std::string_view key) override {
    const nlohmann::json* v = Find(key);
    if (v == nullptr) return std::optional<std::string>();
    if (v->is_string()) return std::optional<std::string>(v->get<std::string>());
    return Error(key, "expected a string, got " + Describe(*v));
  }
  Result<std::optional<bool>> Bool(std::string_view key) override {
    const nlohmann::json* v = Find(key);
    if (v == nullptr) return std::optional<bool>();
    if (v->is_boolean()) return std::optional<bool>(v->get<bool>());
    return Error(key, "expected true or false, got " + Describe(*v));
  }
  Result<std::vector<int64_t>> IntList(std::string_view key) override {
    std::vector<int64_t> out;
    const nlohmann::json* v = Find(key);
    if (v == nullptr) return out;
    if (!v->is_array()) return Error(key, "expected an array of integers, got " + Describe(*v));
    for (const nlohmann::json& item : *v) {
      const std::optional<int64_t> i = item.is_number_float() ? std::nullopt : JsonWholeNumber(item);
      if (!i) return Error(key, "expected an array of integers, got " + Describe(item) + " in it");
      WIRESIM_RETURN_IF_ERROR(Check(key, *i, kModelInteger));
      out.push_back(*i);
    }
    return out;
  }
  Result<std::unique_ptr<Fields>> Sub(std::string_view key) override {
    const nlohmann::json* v = Find(key);
    if (v == nullptr) return std::unique_ptr<Fields>();
    if (!v->is_object()) return Error(key, "expected an object, got " + Describe(*v));
    const size_t at = file_->text.find("\"" + std::string(key) + "\"", search_from_);
    return std::unique_ptr<Fields>(
        std::make_unique<JsonFields>(*v, *file_, Field(key), at == std::string::npos ? search_from_ : at));
  }
  void Ignore(std::string_view) override {}
  Status Error(std::string_view key, const std::string& message) const override {
    return InvalidInput(SourceLocation{file_->name, LineOf(key), 0}, Field(key), message);
  }
  Status Check(std::string_view key, int64_t value, const NumericRange& range) const override {
    return CheckInteger(SourceLocation{file_->name, LineOf(key), 0}, Field(key), value, range);
  }
  Status CheckNoUnknownKeys() const override { return Status::Ok(); }

 private:
  const nlohmann::json* Find(std::string_view key) const {
    auto it = object_->find(std::string(key));
    if (it == object_->end() || it->is_null()) return nullptr;
    return &*it;
  }
  std::string Field(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  int LineOf(std::string_view key) const {
    const std::string& text = file_->text;
    size_t at = text.find("\"" + std::string(key) + "\"", search_from_);
    if (at == std::string::npos) at = search_from_;
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
  }

  const nlohmann::json* object_;
  const SourceFile* file_;
  std::string path_;
  size_t search_from_;
};

// HF keys that do not change shapes, bytes or FLOPs; a TOML spec may carry them so that it mirrors its config.
constexpr std::string_view kIgnoredKeys[] = {"architectures",
                                             "attention_dropout",
                                             "bos_token_id",
                                             "eos_token_id",
                                             "pad_token_id",
                                             "hidden_act",
                                             "initializer_range",
                                             "rms_norm_eps",
                                             "layer_norm_eps",
                                             "rope_theta",
                                             "rope_scaling",
                                             "use_cache",
                                             "transformers_version",
                                             "pretraining_tp",
                                             "mlp_bias",
                                             "sliding_window",
                                             "use_sliding_window",
                                             "max_window_layers",
                                             "output_router_logits",
                                             "router_aux_loss_coef",
                                             "router_jitter_noise",
                                             "norm_topk_prob",
                                             "topk_method",
                                             "scoring_func",
                                             "routed_scaling_factor",
                                             "aux_loss_alpha",
                                             "seq_aux",
                                             "ep_size",
                                             "auto_map",
                                             "_name_or_path",
                                             "description"};

Result<DataType> ParseDtypeField(Fields& f, std::string_view key, const std::string& value) {
  std::optional<DataType> t = ParseDataType(value);
  if (!t) {
    return f.Error(key, "unknown dtype \"" + value + "\" (expected bfloat16, float16, float32, fp8, int8 or int4)");
  }
  return *t;
}

// The weight type of a quantization_config: fp8 checkpoints (DeepSeek-V3, Meta's FP8 405B), AWQ/GPTQ int4,
// bitsandbytes and compressed-tensors.
Result<std::optional<DataType>> WeightTypeOf(Fields& q) {
  WIRESIM_ASSIGN_OR_RETURN(std::optional<std::string> method, q.String("quant_method"));
  if (!method) return q.Error("quant_method", "is required in quantization_config");
  WIRESIM_ASSIGN_OR_RETURN(std::optional<int64_t> bits, q.Int("bits"));
  for (std::string_view k : {"fmt",
                             "activation_scheme",
                             "weight_block_size",
                             "group_size",
                             "zero_point",
                             "version",
                             "sym",
                             "desc_act",
                             "modules_to_not_convert",
                             "activation_scale_ub",
                             "quant_type",
                             "config_groups",
                             "format",
                             "ignore",
                             "kv_cache_scheme",
                             "quantization_status",
                             "global_compression_ratio",
                             "bnb_4bit_compute_dtype",
                             "bnb_4bit_quant_type",
                             "bnb_4bit_use_double_quant",
                             "llm_int8_threshold",
                             "llm_int8_skip_modules"}) {
    q.Ignore(k);
  }
  const std::string& m = *method;
  if (m == "fp8" || m == "fbgemm_fp8") return std::optional<DataType>(DataType::kFloat8E4M3);
  if (m == "awq" || m == "gptq" || m == "marlin" || m == "awq_marlin" || m == "gptq_marlin") {
    const int64_t b = bits.value_or(4);
    if (b == 4) return std::optional<DataType>(DataType::kInt4);
    if (b == 8) return std::optional<DataType>(DataType::kInt8);
    return q.Error("bits", "expected 4 or 8, got " + std::to_string(b));
  }
  if (m == "bitsandbytes") {
    WIRESIM_ASSIGN_OR_RETURN(std::optional<bool> four, q.Bool("load_in_4bit"));
    WIRESIM_ASSIGN_OR_RETURN(std::optional<bool> eight, q.Bool("load_in_8bit"));
    q.Ignore("_load_in_4bit");
    q.Ignore("_load_in_8bit");
    if (four.value_or(false)) return std::optional<DataType>(DataType::kInt4);
    if (eight.value_or(false)) return std::optional<DataType>(DataType::kInt8);
    return q.Error("quant_method", "bitsandbytes without load_in_4bit or load_in_8bit");
  }
  if (m == "compressed-tensors") {
    // The weight type sits in config_groups.<group>.weights {num_bits, type}; one group is the common case.
    return q.Error("quant_method",
                   "compressed-tensors configs are not read yet; give the weight type with --weight-dtype");
  }
  return q.Error("quant_method", "unknown quantization method \"" + m +
                                     "\" (understood: fp8, fbgemm_fp8, awq, gptq, marlin, bitsandbytes)");
}

// The first of several alias keys that is present; an error when two disagree.
Result<std::optional<int64_t>> IntAlias(Fields& f, std::initializer_list<std::string_view> keys) {
  std::optional<int64_t> found;
  std::string_view found_key;
  for (std::string_view key : keys) {
    WIRESIM_ASSIGN_OR_RETURN(std::optional<int64_t> v, f.Int(key));
    if (!v) continue;
    if (found && *found != *v) {
      return f.Error(key, "is " + std::to_string(*v) + " but " + std::string(found_key) + " is " +
                              std::to_string(*found) + " (they name the same thing)");
    }
    found = v;
    found_key = key;
  }
  return found;
}

Result<int64_t> RequiredInt(Fields& f, std::string_view key, int64_t min = 1) {
  WIRESIM_ASSIGN_OR_RETURN(std::optional<int64_t> v, f.Int(key));
  if (!v) return f.Error(key, "is required (an integer)");
  if (*v < min) return f.Error(key, "expected an integer >= " + std::to_string(min) + ", got " + std::to_string(*v));
  return *v;
}

Result<int64_t> IntOr(Fields& f, std::string_view key, int64_t fallback, int64_t min = 0) {
  WIRESIM_ASSIGN_OR_RETURN(std::optional<int64_t> v, f.Int(key));
  if (v && *v < min) {
    return f.Error(key, "expected an integer >= " + std::to_string(min) + ", got " + std::to_string(*v));
  }
  return v.value_or(fallback);
}

// Reads the shape fields of `f` (the document, or its text_config) into `m`.
Status ReadShape(Fields& f, ModelSpec& m) {
  WIRESIM_ASSIGN_OR_RETURN(m.hidden_size, RequiredInt(f, "hidden_size"));
  WIRESIM_ASSIGN_OR_RETURN(m.num_layers, RequiredInt(f, "num_hidden_layers"));
  WIRESIM_RETURN_IF_ERROR(f.Check("num_hidden_layers", m.num_layers, kModelLayers));
  WIRESIM_ASSIGN_OR_RETURN(m.num_attention_heads, RequiredInt(f, "num_attention_heads"));
  WIRESIM_ASSIGN_OR_RETURN(m.num_kv_heads, IntOr(f, "num_key_value_heads", m.num_attention_heads, 1));
  WIRESIM_ASSIGN_OR_RETURN(std::optional<int64_t> head_dim, f.Int("head_dim"));
  if (head_dim) {
    if (*head_dim < 1) return f.Error("head_dim", "expected an integer >= 1, got " + std::to_string(*head_dim));
    m.head_dim = *head_dim;
  } else {
    if (m.hidden_size % m.num_attention_heads != 0) {
      return f.Error("num_attention_heads", "hidden_size " + std::to_string(m.hidden_size) +
                                                " is not divisible by num_attention_heads " +
                                                std::to_string(m.num_attention_heads) + "; give head_dim");
    }
    m.head_dim = m.hidden_size / m.num_attention_heads;
  }
  WIRESIM_ASSIGN_OR_RETURN(m.intermediate_size, IntOr(f, "intermediate_size", 0));
  WIRESIM_ASSIGN_OR_RETURN(m.vocab_size, RequiredInt(f, "vocab_size"));
  WIRESIM_ASSIGN_OR_RETURN(m.max_position_embeddings, IntOr(f, "max_position_embeddings", 0));
  WIRESIM_ASSIGN_OR_RETURN(std::optional<bool> tie, f.Bool("tie_word_embeddings"));
  m.tie_word_embeddings = tie.value_or(false);
  // Qwen2 and Qwen2-MoE put biases on q, k and v without saying so in the config.
  const bool qkv_bias_family = m.model_type == "qwen2" || m.model_type == "qwen2_moe";
  WIRESIM_ASSIGN_OR_RETURN(std::optional<bool> bias, f.Bool("attention_bias"));
  m.attention_bias = bias.value_or(qkv_bias_family);
  WIRESIM_ASSIGN_OR_RETURN(m.num_nextn_predict_layers, IntOr(f, "num_nextn_predict_layers", 0));
  WIRESIM_RETURN_IF_ERROR(f.Check("num_nextn_predict_layers", m.num_nextn_predict_layers, WholeUpTo(kMaxModelLayers)));

  // MLA: present when kv_lora_rank is.
  WIRESIM_ASSIGN_OR_RETURN(std::optional<int64_t> kv_lora, f.Int("kv_lora_rank"));
  if (kv_lora && *kv_lora > 0) {
    m.attention = AttentionKind::kMultiLatent;
    m.mla.kv_lora_rank = *kv_lora;
    WIRESIM_ASSIGN_OR_RETURN(m.mla.q_lora_rank, IntOr(f, "q_lora_rank", 0));
    WIRESIM_ASSIGN_OR_RETURN(m.mla.qk_nope_head_dim, RequiredInt(f, "qk_nope_head_dim"));
    WIRESIM_ASSIGN_OR_RETURN(m.mla.qk_rope_head_dim, RequiredInt(f, "qk_rope_head_dim"));
    WIRESIM_ASSIGN_OR_RETURN(m.mla.v_head_dim, RequiredInt(f, "v_head_dim"));
  } else {
    for (std::string_view k : {"q_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"}) f.Ignore(k);
  }

  // MoE: three names for the expert count across families.
  WIRESIM_ASSIGN_OR_RETURN(std::optional<int64_t> experts,
                           IntAlias(f, {"num_local_experts", "n_routed_experts", "num_experts"}));
  WIRESIM_ASSIGN_OR_RETURN(std::optional<int64_t> moe_width, f.Int("moe_intermediate_size"));
  WIRESIM_ASSIGN_OR_RETURN(std::optional<int64_t> top_k, f.Int("num_experts_per_tok"));
  WIRESIM_ASSIGN_OR_RETURN(int64_t n_shared, IntOr(f, "n_shared_experts", 0));
  WIRESIM_ASSIGN_OR_RETURN(int64_t shared_width, IntOr(f, "shared_expert_intermediate_size", 0));
  WIRESIM_ASSIGN_OR_RETURN(int64_t first_dense, IntOr(f, "first_k_dense_replace", 0));
  WIRESIM_ASSIGN_OR_RETURN(int64_t layer_freq, IntOr(f, "moe_layer_freq", 1, 1));
  WIRESIM_ASSIGN_OR_RETURN(int64_t sparse_step, IntOr(f, "decoder_sparse_step", 1, 1));
  WIRESIM_ASSIGN_OR_RETURN(std::vector<int64_t> mlp_only, f.IntList("mlp_only_layers"));
  // Group-limited routing: DeepSeek's routers pick topk_group of n_group expert groups, then the top-k experts inside
  // them (topk_method "group_limited_greedy" in V2, "noaux_tc" in V3; "greedy" ignores the groups).
  WIRESIM_ASSIGN_OR_RETURN(int64_t n_group, IntOr(f, "n_group", 1, 1));
  WIRESIM_ASSIGN_OR_RETURN(int64_t topk_group, IntOr(f, "topk_group", 1, 1));
  WIRESIM_ASSIGN_OR_RETURN(std::optional<std::string> topk_method, f.String("topk_method"));
  if (experts && *experts > 0) {
    MoeShape& moe = m.moe;
    moe.num_experts = *experts;
    if (!top_k || *top_k < 1) return f.Error("num_experts_per_tok", "is required (>= 1) for a MoE model");
    if (*top_k > *experts) {
      return f.Error("num_experts_per_tok",
                     "top-k " + std::to_string(*top_k) + " exceeds the " + std::to_string(*experts) + " experts");
    }
    moe.experts_per_token = *top_k;
    moe.expert_intermediate_size = moe_width.value_or(m.intermediate_size);
    if (moe.expert_intermediate_size < 1) {
      return f.Error("moe_intermediate_size", "is required for a MoE model (or intermediate_size)");
    }
    moe.num_shared_experts = n_shared > 0 ? n_shared : (shared_width > 0 ? 1 : 0);
    moe.shared_intermediate_size = n_shared > 0 ? n_shared * moe.expert_intermediate_size : shared_width;
    moe.first_k_dense_replace = first_dense;
    moe.moe_layer_freq = layer_freq;
    moe.decoder_sparse_step = sparse_step;
    moe.mlp_only_layers = std::move(mlp_only);
    if (topk_method != std::optional<std::string>("greedy") && n_group > 1) {
      if (*experts % n_group != 0) {
        return f.Error("n_group", "must divide the " + std::to_string(*experts) + " routed experts, got " +
                                      std::to_string(n_group));
      }
      if (topk_group > n_group) {
        return f.Error("topk_group",
                       "must be at most n_group " + std::to_string(n_group) + ", got " + std::to_string(topk_group));
      }
      if (topk_group * (*experts / n_group) < *top_k) {
        return f.Error("topk_group", std::to_string(topk_group) + " groups of " + std::to_string(*experts / n_group) +
                                         " experts hold fewer than num_experts_per_tok " + std::to_string(*top_k));
      }
      moe.expert_groups = n_group;
      moe.topk_groups = topk_group;
    }
  }
  return Status::Ok();
}

Status ReadDtypes(Fields& top, Fields* text, ModelSpec& m) {
  // `dtype` (transformers >= 4.56) or `torch_dtype`; a text_config's own value wins.
  std::optional<std::string> dtype;
  Fields* dtype_from = nullptr;
  std::string_view dtype_key;
  for (Fields* f : {text, &top}) {
    if (f == nullptr) continue;
    for (std::string_view key : {"dtype", "torch_dtype"}) {
      WIRESIM_ASSIGN_OR_RETURN(std::optional<std::string> v, f->String(key));
      if (v && !dtype) {
        dtype = v;
        dtype_from = f;
        dtype_key = key;
      }
    }
  }
  if (dtype) {
    WIRESIM_ASSIGN_OR_RETURN(m.activation_dtype, ParseDtypeField(*dtype_from, dtype_key, *dtype));
  }
  m.weight_dtype = m.activation_dtype;
  m.kv_cache_dtype = m.activation_dtype;
  for (Fields* f : {text, &top}) {
    if (f == nullptr) continue;
    WIRESIM_ASSIGN_OR_RETURN(std::unique_ptr<Fields> q, f->Sub("quantization_config"));
    if (q) {
      WIRESIM_ASSIGN_OR_RETURN(std::optional<DataType> w, WeightTypeOf(*q));
      if (w) m.weight_dtype = *w;
      WIRESIM_RETURN_IF_ERROR(q->CheckNoUnknownKeys());
      break;
    }
  }
  // kv_cache_dtype is wiresim's (vLLM's flag name): "auto" keeps the activation type.
  WIRESIM_ASSIGN_OR_RETURN(std::optional<std::string> kv, top.String("kv_cache_dtype"));
  if (kv && *kv != "auto") {
    WIRESIM_ASSIGN_OR_RETURN(m.kv_cache_dtype, ParseDtypeField(top, "kv_cache_dtype", *kv));
  }
  return Status::Ok();
}

Result<ModelSpec> ReadModel(Fields& top, const std::string& file_name, const std::string& default_name) {
  ModelSpec m;
  WIRESIM_ASSIGN_OR_RETURN(std::optional<std::string> name, top.String("name"));
  m.name = name.value_or(default_name);
  WIRESIM_ASSIGN_OR_RETURN(std::optional<std::string> source, top.String("source"));
  m.source = source.value_or(file_name);
  WIRESIM_ASSIGN_OR_RETURN(std::unique_ptr<Fields> text, top.Sub("text_config"));
  Fields& shape = text ? *text : top;
  WIRESIM_ASSIGN_OR_RETURN(std::optional<std::string> type, shape.String("model_type"));
  if (!type && text) {
    WIRESIM_ASSIGN_OR_RETURN(type, top.String("model_type"));
  } else if (text) {
    top.Ignore("model_type");
  }
  m.model_type = type.value_or("");
  WIRESIM_RETURN_IF_ERROR(ReadShape(shape, m));
  WIRESIM_RETURN_IF_ERROR(ReadDtypes(top, text.get(), m));
  for (Fields* f : {&top, text.get()}) {
    if (f == nullptr) continue;
    for (std::string_view k : kIgnoredKeys) f->Ignore(k);
    // A wrapper's other parts (vision towers, audio encoders) are not simulated.
    for (std::string_view k : {"vision_config", "audio_config", "image_token_index", "image_token_id"}) f->Ignore(k);
  }
  if (text) WIRESIM_RETURN_IF_ERROR(text->CheckNoUnknownKeys());
  WIRESIM_RETURN_IF_ERROR(top.CheckNoUnknownKeys());
  WIRESIM_RETURN_IF_ERROR(ValidateModel(m, file_name));
  return m;
}

std::string StemOf(const std::string& name) {
  std::string stem = std::filesystem::path(name).filename().string();
  for (std::string_view suffix : {".config.json", ".json", ".toml"}) {
    if (stem.size() > suffix.size() && stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return stem.substr(0, stem.size() - suffix.size());
    }
  }
  return stem;
}

}  // namespace

Status ValidateModel(const ModelSpec& m, const std::string& where) {
  auto bad = [&](const std::string& field, const std::string& message) {
    return InvalidInput(SourceLocation{where, 0, 0}, field, message);
  };
  // Sizes one at a time (a spec built in code skips the readers), then their products in int64 with overflow
  // detected: a generous bound on the parameter count (q, k, v and o at the widest head; the MLA projections; dense,
  // shared and routed MLPs at three matrices each; embedding and head), which stays below kMaxModelParameters.
  const SourceLocation at{where, 0, 0};
  WIRESIM_RETURN_IF_ERROR(CheckInteger(at, "num_hidden_layers", m.num_layers, kModelLayers));
  WIRESIM_RETURN_IF_ERROR(
      CheckInteger(at, "num_nextn_predict_layers", m.num_nextn_predict_layers, WholeUpTo(kMaxModelLayers)));
  const std::pair<const char*, int64_t> sizes[] = {{"hidden_size", m.hidden_size},
                                                   {"num_attention_heads", m.num_attention_heads},
                                                   {"num_key_value_heads", m.num_kv_heads},
                                                   {"head_dim", m.head_dim},
                                                   {"vocab_size", m.vocab_size}};
  for (const auto& [field, value] : sizes) WIRESIM_RETURN_IF_ERROR(CheckInteger(at, field, value, kModelDimension));
  const std::pair<const char*, int64_t> optional_sizes[] = {{"intermediate_size", m.intermediate_size},
                                                            {"max_position_embeddings", m.max_position_embeddings},
                                                            {"q_lora_rank", m.mla.q_lora_rank},
                                                            {"kv_lora_rank", m.mla.kv_lora_rank},
                                                            {"qk_nope_head_dim", m.mla.qk_nope_head_dim},
                                                            {"qk_rope_head_dim", m.mla.qk_rope_head_dim},
                                                            {"v_head_dim", m.mla.v_head_dim},
                                                            {"num_experts", m.moe.num_experts},
                                                            {"num_experts_per_tok", m.moe.experts_per_token},
                                                            {"moe_intermediate_size", m.moe.expert_intermediate_size},
                                                            {"n_shared_experts", m.moe.num_shared_experts},
                                                            {"first_k_dense_replace", m.moe.first_k_dense_replace}};
  for (const auto& [field, value] : optional_sizes) {
    WIRESIM_RETURN_IF_ERROR(CheckInteger(at, field, value, WholeUpTo(kMaxModelDimension, "2^24")));
  }
  WIRESIM_RETURN_IF_ERROR(CheckInteger(at, "shared_expert_intermediate_size", m.moe.shared_intermediate_size,
                                       WholeUpTo(kMaxModelDimension * kMaxModelDimension, "2^48")));
  const int64_t widest_head = std::max(m.QkHeadDim(), m.VHeadDim());
  const int64_t rank = m.mla.q_lora_rank + m.mla.kv_lora_rank;
  WIRESIM_ASSIGN_OR_RETURN(
      int64_t attention,
      CheckedProduct(at, "num_attention_heads",
                     {m.hidden_size + rank, m.num_attention_heads * widest_head + rank + m.mla.qk_rope_head_dim, 4},
                     kMaxModelParameters));
  WIRESIM_ASSIGN_OR_RETURN(
      int64_t dense,
      CheckedProduct(at, "intermediate_size", {m.hidden_size, m.intermediate_size + m.moe.shared_intermediate_size, 3},
                     kMaxModelParameters));
  WIRESIM_ASSIGN_OR_RETURN(
      int64_t routed,
      CheckedProduct(at, "num_experts", {m.hidden_size, m.moe.expert_intermediate_size, m.moe.num_experts, 3},
                     kMaxModelParameters));
  WIRESIM_ASSIGN_OR_RETURN(
      int64_t layers,
      CheckedProduct(at, "num_hidden_layers", {attention + dense + routed, m.num_layers + m.num_nextn_predict_layers},
                     kMaxModelParameters));
  WIRESIM_ASSIGN_OR_RETURN(int64_t embeddings,
                           CheckedProduct(at, "vocab_size", {m.vocab_size, m.hidden_size, 2}, kMaxModelParameters));
  if (layers + embeddings > kMaxModelParameters) {
    return bad("vocab_size", "the model has more than 2^50 parameters, the most wiresim represents; check the sizes");
  }
  if (m.attention == AttentionKind::kMultiHead && m.num_attention_heads % m.num_kv_heads != 0) {
    return bad("num_key_value_heads", "num_attention_heads " + std::to_string(m.num_attention_heads) +
                                          " is not a multiple of num_key_value_heads " +
                                          std::to_string(m.num_kv_heads));
  }
  bool any_dense = false;
  for (int64_t l = 0; l < m.num_layers && !any_dense; ++l) any_dense = !m.IsMoeLayer(l);
  if (any_dense && m.intermediate_size < 1) {
    return bad("intermediate_size", "is required (>= 1): the model has dense MLP layers");
  }
  if (m.IsMoe() && m.MoeLayerCount() == 0) {
    return bad("first_k_dense_replace", "leaves no MoE layer among the " + std::to_string(m.num_layers) + " layers");
  }
  return Status::Ok();
}

Result<ModelSpec> ParseModelToml(const SourceFile& file) {
  WIRESIM_ASSIGN_OR_RETURN(toml::table doc, config::ParseToml(file));
  TomlFields top(config::TableReader(doc, file.name, ""));
  return ReadModel(top, file.name, StemOf(file.name));
}

Result<ModelSpec> ParseHfConfigJson(const SourceFile& file) {
  WIRESIM_RETURN_IF_ERROR(CheckJsonNesting(file.name, file.text));
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(file.text);
  } catch (const nlohmann::json::parse_error& e) {
    const size_t at = std::min(static_cast<size_t>(e.byte), file.text.size());
    const int line =
        1 + static_cast<int>(std::count(file.text.begin(), file.text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
    return InvalidInput(SourceLocation{file.name, line, 0}, "", "JSON syntax error: " + InputExcerpt(e.what(), 200));
  } catch (const nlohmann::json::exception& e) {
    // out_of_range: a number such as 1e400 that no double holds.
    return JsonNumberOutOfRange(file.name, file.text, e.what());
  }
  if (!doc.is_object()) return InvalidInput(SourceLocation{file.name, 1, 0}, "", "expected a JSON object");
  JsonFields top(doc, file, "", 0);
  return ReadModel(top, file.name, StemOf(file.name));
}

Result<ModelSpec> LoadModel(const SourceFile& file) {
  const bool json_name = file.name.size() >= 5 && file.name.compare(file.name.size() - 5, 5, ".json") == 0;
  const size_t first = file.text.find_first_not_of(" \t\r\n");
  const bool json_text = first != std::string::npos && file.text[first] == '{';
  return json_name || json_text ? ParseHfConfigJson(file) : ParseModelToml(file);
}

}  // namespace wiresim
