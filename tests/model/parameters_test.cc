// Parameter counts, KV bytes and FLOPs of the shipped models against the figures their authors published, and
// against hand derivations from the config shapes.
#include "sim/model/parameters.h"

#include <cmath>

#include <catch2/catch.hpp>

#include "tests/model/model_test_util.h"

namespace wiresim {
namespace {

using testing::ShippedModel;

// Rounds to `digits` decimals of a billion, the way model cards state sizes.
double Billions(int64_t n, int digits) {
  const double scale = std::pow(10.0, digits);
  return std::round(static_cast<double>(n) / 1e9 * scale) / scale;
}

TEST_CASE("Llama-3.1-70B: 70.6B parameters and 327,680 KV bytes per token at bf16") {
  const ModelSpec m = ShippedModel("llama-3.1-70b");
  const ParameterCounts p = CountParameters(m);
  // Per layer: q and o 8192 x 8192 each, k and v 8192 x (8 x 128) each = 150,994,944; gate, up and down
  // 3 x 8192 x 28672 = 704,643,072; two norms 2 x 8192. 80 layers = 68,452,352,000. Embedding and untied LM head
  // 2 x 128256 x 8192 = 2,101,346,304, final norm 8192. Total 70,553,706,496.
  CHECK(p.total == 70'553'706'496);
  CHECK(Billions(p.total, 1) == 70.6);  // Meta's model card: 70.6B
  CHECK(p.active == p.total);           // dense
  // 2 (K and V) x 8 KV heads x 128 x 80 layers x 2 bytes (FORMATS.md section 6).
  CHECK(m.KvBytesPerToken() == 327'680);
}

TEST_CASE("Llama-3.1-405B: 405.9B parameters") {
  const ParameterCounts p = CountParameters(ShippedModel("llama-3.1-405b"));
  // Per layer: 2 x 16384^2 + 2 x 16384 x 1024 = 570,425,344 attention; 3 x 16384 x 53248 = 2,617,245,696 MLP;
  // 32,768 norms. x126 = 401,650,679,808; + 2 x 128256 x 16384 + 16384 = 405,853,388,800.
  CHECK(p.total == 405'853'388'800);
  CHECK(Billions(p.total, 1) == 405.9);  // Meta's model card: 405.9B
}

TEST_CASE("DeepSeek-V3: 671B total, 37B active, 70,272 KV bytes per token") {
  const ModelSpec m = ShippedModel("deepseek-v3");
  REQUIRE(m.attention == AttentionKind::kMultiLatent);
  REQUIRE(m.MoeLayerCount() == 58);  // 61 layers, the first 3 dense
  const ParameterCounts p = CountParameters(m);
  // Per layer MLA: q_a 7168 x 1536, q_a norm 1536, q_b 1536 x 128 x 192, kv_a 7168 x 576, kv_a norm 512,
  // kv_b 512 x 128 x 256, o 128 x 128 x 7168 = 187,107,328. One expert 3 x 7168 x 2048 = 44,040,192; an MoE layer
  // holds 256 of them, the shared one and a 7168 x 256 router. Dense MLP 3 x 7168 x 18432.
  const int64_t attention = 187'107'328;
  const int64_t expert = 44'040'192;
  const int64_t total = 61 * (attention + 2 * 7168) + 3 * (3 * 7168 * 18432) + 58 * (257 * expert + 7168 * 256) +
                        2 * int64_t{129280} * 7168 + 7168;
  CHECK(p.total == total);
  CHECK(Billions(p.total, 0) == 671);  // technical report: 671B
  CHECK(p.active == total - 58 * (256 - 8) * expert);
  // The report's "37B activated" is 37.55B with the embedding counted (36.6B without): either way 37 and change.
  CHECK(std::floor(static_cast<double>(p.active) / 1e9) == 37);
  // MLA caches the latent: (512 + 64) x 61 layers x 2 bytes (FORMATS.md section 6).
  CHECK(m.KvBytesPerToken() == 70'272);
}

TEST_CASE("Mixtral and Qwen3 MoE totals and active parameters match their model cards") {
  const ParameterCounts m7 = CountParameters(ShippedModel("mixtral-8x7b"));
  CHECK(Billions(m7.total, 1) == 46.7);   // Mixtral paper: 46.7B
  CHECK(Billions(m7.active, 1) == 12.9);  // 12.9B active (2 of 8 experts)
  const ParameterCounts m22 = CountParameters(ShippedModel("mixtral-8x22b"));
  CHECK(Billions(m22.total, 0) == 141);  // Mistral AI: 141B, 39B active
  CHECK(Billions(m22.active, 0) == 39);
  const ParameterCounts q = CountParameters(ShippedModel("qwen3-235b-a22b"));
  CHECK(Billions(q.total, 0) == 235);  // Qwen3 model card: 235B total, 22B activated
  CHECK(Billions(q.active, 0) == 22);
}

TEST_CASE("Small dense models: Llama-3.1-8B 8.03B, Llama-3.2-1B 1.24B with a tied LM head") {
  CHECK(Billions(CountParameters(ShippedModel("llama-3.1-8b")).total, 2) == 8.03);
  const ModelSpec small = ShippedModel("llama-3.2-1b");
  const ParameterCounts p = CountParameters(small);
  CHECK(p.lm_head == 0);                  // tied: the embedding is the LM head
  CHECK(p.embedding == 128256LL * 2048);  // counted once
  CHECK(Billions(p.total, 2) == 1.24);    // model card: 1.24B
  // head_dim 64: 2 x 8 x 64 x 16 layers x 2 bytes = 32,768 bytes per token.
  CHECK(small.KvBytesPerToken() == 32'768);
}

TEST_CASE("Qwen3's explicit head_dim sizes the KV cache, not hidden / heads") {
  const ModelSpec q = ShippedModel("qwen3-235b-a22b");
  CHECK(q.head_dim == 128);  // 4096 / 64 would be 64
  // 2 x 4 x 128 x 94 x 2 = 192,512 bytes (188 KiB, FORMATS.md section 6).
  CHECK(q.KvBytesPerToken() == 192'512);
}

TEST_CASE("Weight bytes follow the weight type, the embedding and LM head stay at the activation type") {
  ModelSpec m = ShippedModel("llama-3.1-405b");
  const ParameterCounts p = CountParameters(m);
  const double outer = static_cast<double>(p.embedding + p.lm_head + p.norms);
  CHECK(ModelWeightBytes(m) == Approx(2.0 * static_cast<double>(p.total)));
  m.weight_dtype = DataType::kFloat8E4M3;
  // Linear layers at 1 byte, everything else at 2.
  CHECK(ModelWeightBytes(m) == Approx(static_cast<double>(p.total) - outer + 2.0 * outer));
  m.weight_dtype = DataType::kInt4;
  // int4: half a byte plus a 2-byte scale and a 2-byte zero per 128 weights.
  CHECK(ModelWeightBytes(m) == Approx((static_cast<double>(p.total) - outer) * (0.5 + 4.0 / 128) + 2.0 * outer));
}

TEST_CASE("FLOPs per token: 2 x active matmul parameters, and attention per context token") {
  const ModelSpec m = ShippedModel("llama-3.1-70b");
  const FlopsPerToken f = CountFlopsPerToken(m);
  const ParameterCounts p = CountParameters(m);
  // Everything but the embedding lookup and the norms is a matrix multiply.
  CHECK(f.linear == 2.0 * static_cast<double>(p.total - p.embedding - p.norms));
  // QK^T and PV: 2 x 80 layers x 64 heads x (128 + 128).
  CHECK(f.attention_per_context_token == 2.0 * 80 * 64 * 256);

  const FlopsPerToken d = CountFlopsPerToken(ShippedModel("deepseek-v3"));
  // MLA without weight absorption: q/k heads of 192, v heads of 128, 128 heads, 61 layers.
  CHECK(d.attention_per_context_token == 2.0 * 61 * 128 * (192 + 128));
}

}  // namespace
}  // namespace wiresim
