// Memory per GPU: weights as each GPU holds them, the activation estimate, and KV tokens, against hand sums; and
// the headline case: Llama-3.1-405B on one 8x H100 node does not fit at bf16 and fits at fp8.
#include "sim/parallel/memory.h"

#include <catch2/catch.hpp>

#include "tests/model/model_test_util.h"

namespace wiresim {
namespace {

using Catch::Matchers::Contains;
using testing::ShippedModel;

std::vector<GpuSpec> Gpus(const char* name, int n) { return std::vector<GpuSpec>(n, *FindGpuSpec(name)); }

Placement Packed(const ParallelPlan& p) { return *ParsePlacement("packed", p, p.WorldSize()); }

ParallelPlan Tp(int tp, int pp = 1) {
  ParallelPlan p;
  p.tp = tp;
  p.pp = pp;
  return p;
}

// Llama-3.1-405B at tp=8, per GPU, per layer: q and o 16384^2 / 8, k and v one of 8 KV heads (16384 x 128 each),
// gate/up/down 3 x 16384 x 53248 / 8 = 398,458,880 matrix parameters, plus 32,768 norm parameters (replicated).
constexpr double kMatrixParams405 = 398'458'880;
constexpr double kNormParams405 = 32'768;
// Embedding and LM head: 128256 / 8 = 16032 vocabulary rows of 16384 each, bf16; final norm 16384 x 2 bytes.
constexpr double kOuterBytes405 = 2 * 16032.0 * 16384 * 2 + 16384 * 2;
// Activations (ActivationBytes): 8192 tokens x the MLP's live set (2 x 16384 + 3 x 53248 / 8 = 52,736 elements,
// above attention's 2 x 16384 + (16 + 2) x 128 + 16 x 128 = 37,120) x 2 bytes, plus the sampler's fp32 logits and
// probabilities for 256 sequences x 16032 rows.
constexpr double kActivations405 = 8192.0 * 52'736 * 2 + 2.0 * 256 * 16032 * 4;
constexpr double kReserve = 2.0 * 1024 * 1024 * 1024;

TEST_CASE("Llama-3.1-405B on one 8x H100 node: bf16 does not fit, with the numbers") {
  const ModelSpec m = ShippedModel("llama-3.1-405b");
  const ParallelPlan p = Tp(8);
  CHECK(ActivationBytes(m, p, MemoryOptions{}, true) == Approx(kActivations405));
  Result<MemoryPlan> mem = PlanMemory(m, p, Packed(p), Gpus("h100", 8), MemoryOptions{});
  REQUIRE_FALSE(mem.ok());
  CHECK(mem.status().code() == StatusCode::kFailedPrecondition);
  // Weights (126 x (398,458,880 + 32,768) x 2 + outer) = 101,470,601,216 B; + activations 896,860,160 +
  // reserve 2,147,483,648 = 104.5 GB, against 80 GB x 0.9 = 72.0 GB.
  const double weights = 126 * (kMatrixParams405 + kNormParams405) * 2 + kOuterBytes405;
  CHECK(weights == 101'470'601'216.0);
  CHECK_THAT(mem.status().message(), Contains("does not fit") &&
                                         Contains("GPU 0 (rank 0, pipeline stage 0, h100-sxm)") &&
                                         Contains("needs 104.5 GB (weights 101.5 GB, activations 0.9 GB, runtime "
                                                  "reserve 2.1 GB)") &&
                                         Contains("72.0 GB is usable (80.0 GB x gpu_memory_utilization 0.90)"));
}

TEST_CASE("Llama-3.1-405B at fp8 with tp=8 fits, and the KV cache holds the tokens the leftover buys") {
  ModelSpec m = ShippedModel("llama-3.1-405b");
  m.weight_dtype = DataType::kFloat8E4M3;
  const ParallelPlan p = Tp(8);
  Result<MemoryPlan> mem = PlanMemory(m, p, Packed(p), Gpus("h100", 8), MemoryOptions{});
  REQUIRE(mem.ok());
  // Matrices at 1 byte, norms, embedding and LM head at 2.
  const double weights = 126 * (kMatrixParams405 * 1 + kNormParams405 * 2) + kOuterBytes405;
  const GpuMemory& g = mem->gpus[0];
  CHECK(g.weights.total() == Approx(weights));
  const double kv = 72e9 - weights - kActivations405 - kReserve;
  CHECK(g.kv_cache == Approx(kv));
  // Per token this GPU caches 126 layers x K and V of its one KV head x 128 x 2 bytes = 64,512 B; whole blocks of 16.
  CHECK(g.kv_bytes_per_token == 64'512);
  const int64_t tokens = static_cast<int64_t>(kv / (64'512.0 * 16)) * 16;
  CHECK(tokens == 274'224);
  CHECK(mem->max_kv_tokens == tokens);
}

TEST_CASE("KV heads replicate when tp exceeds them, MLA's latent is cached whole on every TP rank") {
  const ModelSpec llama = ShippedModel("llama-3.1-70b");
  const LocalShapes s16 = LocalShapesOf(llama, Tp(16));
  CHECK(s16.q_heads == 4);
  CHECK(s16.kv_heads == 1);                            // 8 KV heads over 16 GPUs: each held twice
  CHECK(s16.kv_bytes_per_token_layer == 2 * 128 * 2);  // K and V of one head, bf16
  const ModelSpec ds = ShippedModel("deepseek-v3");
  CHECK(LocalShapesOf(ds, Tp(8)).kv_bytes_per_token_layer == 576 * 2);  // the whole latent, not 1/8 of it
}

TEST_CASE("Pipeline stages: layers split, embedding first, LM head last, a tied head is held twice") {
  const ModelSpec small = ShippedModel("llama-3.2-1b");  // 16 layers, tied embedding 128256 x 2048
  const ParallelPlan p = Tp(1, 2);
  Result<MemoryPlan> mem = PlanMemory(small, p, Packed(p), Gpus("rtx-4090", 2), MemoryOptions{});
  REQUIRE(mem.ok());
  const double embedding = 128256.0 * 2048 * 2;
  CHECK(mem->gpus[0].weights.embedding == Approx(embedding));
  CHECK(mem->gpus[0].weights.lm_head == 0);
  CHECK(mem->gpus[1].weights.embedding == 0);
  CHECK(mem->gpus[1].weights.lm_head == Approx(embedding + 2048 * 2));  // the tied matrix again, and the final norm
  // 8 layers each: 2 x 2048^2 + 2 x 2048 x 512 + 3 x 2048 x 8192 + 2 x 2048 = 60,821,504 parameters per layer.
  CHECK(mem->gpus[0].weights.layers == Approx(8 * 60'821'504.0 * 2));
}

TEST_CASE("Context parallelism multiplies the tokens a replica caches") {
  const ModelSpec m = ShippedModel("llama-3.1-8b");
  ParallelPlan cp1 = Tp(1), cp2 = Tp(1);
  cp2.cp = 2;
  Result<MemoryPlan> one = PlanMemory(m, cp1, Packed(cp1), Gpus("h100", 1), MemoryOptions{});
  Result<MemoryPlan> two = PlanMemory(m, cp2, Packed(cp2), Gpus("h100", 2), MemoryOptions{});
  REQUIRE(one.ok());
  REQUIRE(two.ok());
  // Same weights per GPU; the CP ranks' activations are for half the tokens, so each has a little more KV room.
  CHECK(two->gpus[0].kv_tokens >= one->gpus[0].kv_tokens);
  CHECK(two->max_kv_tokens == 2 * two->gpus[0].kv_tokens);
}

}  // namespace
}  // namespace wiresim
