// Reading models from TOML and from HF config.json: the aliases, wrappers and dtype keys published configs use,
// and the messages a bad file gets.
#include "sim/model/model_file.h"

#include <catch2/catch.hpp>

#include "sim/model/parameters.h"
#include "tests/model/model_test_util.h"

namespace wiresim {
namespace {

using Catch::Matchers::Contains;
using testing::ReadSourceFile;
using testing::ShippedModel;

Result<ModelSpec> FromToml(const std::string& text) { return LoadModel(SourceFile{"m.toml", text}); }

constexpr const char* kTinyToml = R"(
hidden_size = 256
num_hidden_layers = 2
num_attention_heads = 8
num_key_value_heads = 2
intermediate_size = 512
vocab_size = 1000
)";

TEST_CASE("A Llama-style config.json reads like the shipped TOML of the same model") {
  Result<ModelSpec> json = LoadModel(ReadSourceFile("tests/data/hf/llama-style.config.json"));
  REQUIRE(json.ok());
  const ModelSpec toml = ShippedModel("llama-3.1-70b");
  CHECK(json->name == "llama-style");                    // from the file name
  CHECK(json->head_dim == 128);                          // head_dim: null falls back to 8192 / 64
  CHECK(json->activation_dtype == DataType::kBFloat16);  // from `dtype`, the newer key
  CHECK(CountParameters(*json).total == CountParameters(toml).total);
  CHECK(json->KvBytesPerToken() == toml.KvBytesPerToken());
}

TEST_CASE("A DeepSeek-style config.json: MLA, routed and shared experts, dense first layers, fp8 weights") {
  Result<ModelSpec> m = LoadModel(ReadSourceFile("tests/data/hf/deepseek-style.config.json"));
  REQUIRE(m.ok());
  CHECK(m->attention == AttentionKind::kMultiLatent);
  CHECK(m->KvElementsPerTokenPerLayer() == 512 + 64);
  CHECK(m->moe.num_experts == 256);                // n_routed_experts
  CHECK(m->moe.shared_intermediate_size == 2048);  // 1 shared expert x moe_intermediate_size
  CHECK_FALSE(m->IsMoeLayer(2));
  CHECK(m->IsMoeLayer(3));
  CHECK(m->weight_dtype == DataType::kFloat8E4M3);  // quantization_config.quant_method = fp8
  CHECK(m->kv_cache_dtype == DataType::kBFloat16);  // torch_dtype
  CHECK(m->num_nextn_predict_layers == 1);
  CHECK(CountParameters(*m).total == CountParameters(ShippedModel("deepseek-v3")).total);
  // Group-limited routing (topk_method noaux_tc): 4 of 8 groups, as the shipped TOML says.
  CHECK(m->moe.expert_groups == 8);
  CHECK(m->moe.topk_groups == 4);
  CHECK(ShippedModel("deepseek-v3").moe.expert_groups == 8);
  CHECK(ShippedModel("deepseek-v3").moe.topk_groups == 4);
}

TEST_CASE("Expert groups: read for group-limited routers, ignored by greedy ones, refused when they cannot hold") {
  const std::string moe = std::string(kTinyToml) + "num_experts = 64\nnum_experts_per_tok = 6\n";
  Result<ModelSpec> grouped = FromToml(moe + "n_group = 8\ntopk_group = 3\n");
  REQUIRE(grouped.ok());
  CHECK(grouped->moe.expert_groups == 8);
  CHECK(grouped->moe.topk_groups == 3);
  // DeepSeek-V2's "greedy" router picks over every expert whatever n_group says.
  Result<ModelSpec> greedy = FromToml(moe + "n_group = 8\ntopk_group = 3\ntopk_method = \"greedy\"\n");
  REQUIRE(greedy.ok());
  CHECK(greedy->moe.expert_groups == 1);
  // 64 experts do not split into 7 groups; 9 of 8 groups is more than there are; 0 groups; 1 group of 8 experts
  // cannot hold a top-10.
  Result<ModelSpec> r = FromToml(moe + "n_group = 7\ntopk_group = 3\n");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Contains("n_group") && Contains("must divide the 64 routed experts"));
  r = FromToml(moe + "n_group = 8\ntopk_group = 9\n");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Contains("topk_group") && Contains("at most n_group 8"));
  r = FromToml(moe + "n_group = 8\ntopk_group = 0\n");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Contains("topk_group"));
  r = FromToml(std::string(kTinyToml) + "num_experts = 64\nnum_experts_per_tok = 10\nn_group = 8\ntopk_group = 1\n");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Contains("1 groups of 8 experts hold fewer than num_experts_per_tok 10"));
}

TEST_CASE("A Qwen3-MoE-style config.json: num_experts and an explicit head_dim") {
  Result<ModelSpec> m = LoadModel(ReadSourceFile("tests/data/hf/qwen3-moe-style.config.json"));
  REQUIRE(m.ok());
  CHECK(m->moe.num_experts == 128);
  CHECK(m->moe.expert_intermediate_size == 1536);
  CHECK(m->head_dim == 128);
  CHECK(m->MoeLayerCount() == 94);
  CHECK(CountParameters(*m).total == CountParameters(ShippedModel("qwen3-235b-a22b")).total);
}

TEST_CASE("A text_config wrapper: shapes from inside, dtype from outside, the vision tower ignored") {
  Result<ModelSpec> m = LoadModel(ReadSourceFile("tests/data/hf/wrapped-style.config.json"));
  REQUIRE(m.ok());
  CHECK(m->model_type == "mixtral");
  CHECK(m->hidden_size == 4096);
  CHECK(m->moe.num_experts == 8);                   // num_local_experts
  CHECK(m->moe.expert_intermediate_size == 14336);  // no moe_intermediate_size: intermediate_size
  CHECK(CountParameters(*m).total == CountParameters(ShippedModel("mixtral-8x7b")).total);
}

TEST_CASE("TOML: defaults for KV heads and head_dim, and the weight and KV types") {
  Result<ModelSpec> m = FromToml(std::string(kTinyToml) + "kv_cache_dtype = \"fp8\"\n");
  REQUIRE(m.ok());
  CHECK(m->head_dim == 32);  // 256 / 8
  CHECK(m->kv_cache_dtype == DataType::kFloat8E4M3);
  CHECK(m->KvBytesPerToken() == 2 * 2 * 32 * 2 * 1);  // K and V x 2 heads x 32 x 2 layers x 1 byte
  Result<ModelSpec> int4 =
      FromToml(std::string(kTinyToml) + "[quantization_config]\nquant_method = \"awq\"\nbits = 4\n");
  REQUIRE(int4.ok());
  CHECK(int4->weight_dtype == DataType::kInt4);
  CHECK(int4->kv_cache_dtype == DataType::kBFloat16);  // weight-only: KV and activations stay bf16
}

TEST_CASE("TOML errors name the file, line and field") {
  SECTION("a typo is an unknown key") {
    Result<ModelSpec> m = FromToml(std::string(kTinyToml) + "num_atention_heads = 8\n");
    REQUIRE_FALSE(m.ok());
    CHECK_THAT(m.status().message(), Contains("m.toml:8") && Contains("num_atention_heads") && Contains("unknown key"));
  }
  SECTION("a required field is missing") {
    Result<ModelSpec> m = FromToml("hidden_size = 256\nnum_hidden_layers = 2\nnum_attention_heads = 8\n");
    REQUIRE_FALSE(m.ok());
    CHECK_THAT(m.status().message(), Contains("vocab_size") && Contains("required"));
  }
  SECTION("heads that KV heads do not divide") {
    Result<ModelSpec> m = FromToml(
        "hidden_size = 256\nnum_hidden_layers = 2\nnum_attention_heads = 8\nnum_key_value_heads = 3\n"
        "intermediate_size = 512\nvocab_size = 1000\n");
    REQUIRE_FALSE(m.ok());
    CHECK_THAT(m.status().message(), Contains("num_key_value_heads") && Contains("not a multiple"));
  }
  SECTION("aliases that disagree") {
    Result<ModelSpec> m =
        FromToml(std::string(kTinyToml) + "num_local_experts = 8\nnum_experts = 16\nnum_experts_per_tok = 2\n");
    REQUIRE_FALSE(m.ok());
    CHECK_THAT(m.status().message(), Contains("num_experts") && Contains("num_local_experts is 8"));
  }
  SECTION("top-k above the expert count") {
    Result<ModelSpec> m = FromToml(std::string(kTinyToml) + "num_experts = 4\nnum_experts_per_tok = 6\n");
    REQUIRE_FALSE(m.ok());
    CHECK_THAT(m.status().message(), Contains("m.toml:9") && Contains("num_experts_per_tok"));
  }
}

TEST_CASE("config.json errors carry the line of the offending key") {
  const std::string text = "{\n  \"hidden_size\": 256,\n  \"num_hidden_layers\": \"two\",\n  \"vocab_size\": 10\n}\n";
  Result<ModelSpec> m = LoadModel(SourceFile{"c.json", text});
  REQUIRE_FALSE(m.ok());
  CHECK_THAT(m.status().message(), Contains("c.json:3") && Contains("num_hidden_layers") && Contains("integer"));
  Result<ModelSpec> syntax = LoadModel(SourceFile{"c.json", "{\n  \"hidden_size\": 256,\n}\n"});
  REQUIRE_FALSE(syntax.ok());
  CHECK_THAT(syntax.status().message(), Contains("c.json:3") && Contains("JSON syntax error"));
}

}  // namespace
}  // namespace wiresim

namespace wiresim {
namespace {

TEST_CASE("Model sizes are bounded, and their products are checked in int64 (docs/formats/numbers.md)") {
  // 10^12 layers used to hang the dense-layer scan; 2^16 is the bound.
  const std::string layers = std::string(kTinyToml).replace(std::string(kTinyToml).find("num_hidden_layers = 2"), 21,
                                                            "num_hidden_layers = 1000000000000");
  auto many = FromToml(layers);
  REQUIRE_FALSE(many.ok());
  CHECK_THAT(many.status().message(), Contains("m.toml:3") && Contains("num_hidden_layers"));
  // Each size passes its own bound (2^24, 2^16 layers) yet the product does not fit: hidden 2^24 x intermediate 2^24
  // x 3 = 8.4e14 parameters per layer, times 2^16 layers, is far past 2^50 = 1.13e15.
  ModelSpec m;
  m.hidden_size = int64_t{1} << 24;
  m.num_layers = int64_t{1} << 16;
  m.num_attention_heads = 1;
  m.num_kv_heads = 1;
  m.head_dim = 1;
  m.intermediate_size = int64_t{1} << 24;
  m.vocab_size = 1;
  const Status s = ValidateModel(m, "big.toml");
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.message(), Contains("big.toml") && Contains("the most wiresim represents"));
  // One layer of a 2^20-wide MLP: 2^24 x 2^20 x 3 = 5.3e13 parameters, inside the bound.
  m.num_layers = 1;
  m.intermediate_size = int64_t{1} << 20;
  CHECK(ValidateModel(m, "ok.toml").ok());
}

TEST_CASE("config.json integers that no int64 holds are refused, not wrapped") {
  const auto wrapped =
      LoadModel(SourceFile{"c.json",
                           R"({"hidden_size": 256, "num_hidden_layers": 18446744073709551615, "num_attention_heads": 8,
 "intermediate_size": 512, "vocab_size": 1000})"});
  REQUIRE_FALSE(wrapped.ok());
  CHECK_THAT(wrapped.status().message(), Contains("num_hidden_layers") && Contains("expected an integer"));
  const auto huge = LoadModel(SourceFile{"c.json", R"({"hidden_size": 1e400})"});
  REQUIRE_FALSE(huge.ok());
  CHECK_THAT(huge.status().message(), Contains("c.json") && Contains("out of range"));
  // An error quotes at most 40 characters of a bad value, never a whole subtree.
  const auto long_string = LoadModel(SourceFile{"c.json", "{\"hidden_size\": \"" + std::string(10000, 'x') + "\"}"});
  REQUIRE_FALSE(long_string.ok());
  CHECK(long_string.status().message().size() < 200);
}

}  // namespace
}  // namespace wiresim
