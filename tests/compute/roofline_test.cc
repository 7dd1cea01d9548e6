// The roofline kernel-time model against closed forms: with the overheads and shape penalties switched off each
// term is a one-line formula, and each penalty changes the answer by exactly its own factor.
#include "sim/compute/roofline.h"

#include <vector>

#include <catch2/catch.hpp>

namespace wiresim {
namespace {

// A made-up GPU with round numbers: 100 TFLOP/s bf16, 1 TB/s, 10 SMs.
GpuSpec RoundGpu() {
  GpuSpec g;
  g.name = "round";
  g.bf16_flops = 100e12;
  g.fp8_flops = 200e12;
  g.memory_bandwidth = 1e12;
  g.memory_bytes = 10e9;
  g.sm_count = 10;
  return g;
}

// Every penalty and overhead off: time = max(flops / peak, bytes / bandwidth).
RooflineParams Ideal() {
  RooflineParams p;
  p.gemm_efficiency = 1;
  p.memory_efficiency = 1;
  p.gemm_k_half = 0;
  p.gemm_k_step_ns = 0;
  p.m_granularity = 1;
  p.tile_m = 1;
  p.tile_n = 1;
  p.gemm_overhead_us = 0;
  p.attention_efficiency = 1;
  p.attention_keys_half = 0;
  p.attention_memory_efficiency = 1;
  p.attention_overhead_us = 0;
  p.memory_bound_overhead_us = 0;
  return p;
}

constexpr DataType kBf16 = DataType::kBFloat16;

// Times in microseconds, compared with a relative tolerance: the model rounds up to the next picosecond.
double Us(Time t) { return t.ToMicroseconds(); }
double Us(double seconds) { return seconds * 1e6; }

TEST_CASE("GEMM: compute-bound and memory-bound limits") {
  const RooflineModel model(RoundGpu(), Ideal());
  // 1000 x 1000 x 1000: 2e9 FLOPs / 100e12 = 20 us; bytes 3 x 1e6 x 2 = 6 MB / 1e12 = 6 us -> 20 us.
  CHECK(Us(model.KernelTime(GemmKernel(1000, 1000, 1000, kBf16, kBf16))) == Approx(20));
  // 1 x 10000 x 10000: weights 1e8 x 2 B = 200 MB -> 200 us (+ 2e4 x 2 B of activations and 1e4 x 2 B out).
  const Time decode = model.KernelTime(GemmKernel(1, 10000, 10000, kBf16, kBf16));
  CHECK(Us(decode) == Approx(Us((2e8 + 2e4 + 2e4) / 1e12)));
  // fp8 weights halve the weight bytes; int4 quarter them plus scales (4 B per 128 weights).
  CHECK(Us(model.KernelTime(GemmKernel(1, 10000, 10000, DataType::kFloat8E4M3, DataType::kFloat8E4M3))) ==
        Approx(Us((1e8 + 1e4 + 2e4) / 1e12)));
  CHECK(Us(model.KernelTime(GemmKernel(1, 10000, 10000, kBf16, DataType::kInt4))) ==
        Approx(Us((1e8 * (0.5 + 4.0 / 128) + 2e4 + 2e4) / 1e12)));
}

TEST_CASE("A part that sustains more of its datasheet peak than the H100 computes that much faster") {
  // RoundGpu sustains 90 of its 100 TF in a large GEMM; the H100 SXM 790.6 of 989.4 (gpu_spec.cc): the scale is
  // 0.9 / (790.6 / 989.4) = 1.1263. Compute-bound work (the 20 us GEMM above, a causal prefill) takes 1/1.1263 of
  // the time; the memory-bound decode GEMM is unchanged.
  GpuSpec measured = RoundGpu();
  measured.measured_bf16_flops = 90e12;
  const double scale = 0.9 / (790.6 / 989.4);
  CHECK(SustainedTensorScale(measured) == Approx(scale));
  const RooflineModel plain(RoundGpu(), Ideal());
  const RooflineModel faster(measured, Ideal());
  CHECK(Us(faster.KernelTime(GemmKernel(1000, 1000, 1000, kBf16, kBf16))) == Approx(20 / scale));
  CHECK(faster.KernelTime(GemmKernel(1, 10000, 10000, kBf16, kBf16)) ==
        plain.KernelTime(GemmKernel(1, 10000, 10000, kBf16, kBf16)));
  AttentionHeads heads;
  heads.q_heads = 8;
  heads.qk_dim = 128;
  heads.v_dim = 128;
  heads.dtype = kBf16;
  heads.kv_bytes_per_token = 2.0 * 8 * 128 * 2;
  const std::vector<AttentionChunk> chunk = {{4096, 0}};
  const KernelShape prefill = PrefillAttentionKernel(heads, chunk);
  CHECK(Us(faster.KernelTime(prefill)) == Approx(Us(plain.KernelTime(prefill)) / scale));
}

TEST_CASE("GEMM penalties: overhead, K latency, short K, M padding, waves") {
  RooflineParams p = Ideal();
  const GpuSpec gpu = RoundGpu();
  const KernelShape big = GemmKernel(1000, 1000, 1000, kBf16, kBf16);  // 20 us compute-bound
  SECTION("fixed overhead and per-K latency add") {
    p.gemm_overhead_us = 3;
    p.gemm_k_step_ns = 2;  // 2 ns x 1000 = 2 us
    CHECK(Us(RooflineModel(gpu, p).KernelTime(big)) == Approx(25));
  }
  SECTION("efficiency and short K scale the compute rate") {
    p.gemm_efficiency = 0.5;
    p.gemm_k_half = 1000;  // k / (k + 1000) = 1/2 at k = 1000
    CHECK(Us(RooflineModel(gpu, p).KernelTime(big)) == Approx(80));
  }
  SECTION("M is padded to the MMA tile") {
    p.m_granularity = 64;
    // 1000 -> 1024 rows: 20 us x 1024 / 1000.
    CHECK(Us(RooflineModel(gpu, p).KernelTime(big)) == Approx(Us(20e-6 * 1.024)));
  }
  SECTION("a partial last wave of tiles costs a whole wave") {
    p.tile_m = 100;
    p.tile_n = 1000;
    // 1100 rows -> 11 tiles on 10 SMs: 2 waves, 11/20 of the slots busy.
    const KernelShape s = GemmKernel(1100, 1000, 1000, kBf16, kBf16);
    CHECK(Us(RooflineModel(gpu, p).KernelTime(s)) == Approx(Us(2.0 * 1100 * 1000 * 1000 / 100e12 * 20 / 11)));
    // Fewer tiles than SMs is not penalised (split-K fills the machine).
    CHECK(Us(RooflineModel(gpu, p).KernelTime(big)) == Approx(20));
  }
}

TEST_CASE("Grouped GEMM: uniform tokens per expert equal the batched GEMM, uneven ones cost their padding") {
  RooflineParams p = Ideal();
  p.m_granularity = 64;
  const RooflineModel model(RoundGpu(), p);
  const std::vector<int64_t> even(8, 64);
  CHECK(model.GroupedGemmTime(even, 2048, 4096, kBf16, kBf16) ==
        model.KernelTime(GroupedGemmKernel(8, 64, 2048, 4096, kBf16, kBf16)));
  // The same 512 tokens as 1 + 7 x 73 pad to 64 + 7 x 128 = 960 rows: 1.29 ms of compute at 100 TFLOP/s, above
  // the 1.07 ms it takes to read the 8 experts' 8192 x 8192 weights, where 8 x 64 rows stay memory-bound.
  const std::vector<int64_t> skew = {1, 73, 73, 73, 73, 73, 73, 73};
  CHECK(model.GroupedGemmTime(skew, 8192, 8192, kBf16, kBf16) > model.GroupedGemmTime(even, 8192, 8192, kBf16, kBf16));
}

TEST_CASE("Attention: causal prefill FLOPs and decode KV bytes") {
  const RooflineModel model(RoundGpu(), Ideal());
  AttentionHeads h;
  h.q_heads = 8;
  h.qk_dim = 128;
  h.v_dim = 128;
  h.kv_bytes_per_token = 2 * 1 * 128 * 2;  // one KV head, bf16
  // One chunk of 1000 new tokens: 1000 x 1001 / 2 = 500,500 pairs; 2 x 8 x 256 x 500,500 = 2.05e9 FLOPs -> 20.5 us.
  const AttentionChunk chunk{1000, 0};
  const KernelShape prefill = PrefillAttentionKernel(h, std::span(&chunk, 1));
  CHECK(prefill.flops == 2.0 * 8 * 256 * 500'500);
  CHECK(Us(model.KernelTime(prefill)) == Approx(Us(prefill.flops / 100e12)));
  // A chunk after 3000 cached tokens scores 1000 x 3000 more pairs.
  const AttentionChunk later{1000, 3000};
  CHECK(PrefillAttentionKernel(h, std::span(&later, 1)).flops == 2.0 * 8 * 256 * (500'500 + 3'000'000.0));
  // 64 sequences of 4096 cached tokens: the KV read is 64 x 4096 x 512 B = 134 MB -> 134 us at 1 TB/s.
  const std::vector<int64_t> contexts(64, 4096);
  const KernelShape decode = DecodeAttentionKernel(h, contexts);
  CHECK(decode.bytes == 64.0 * 4096 * 512 + 64.0 * 8 * 256 * 2);
  CHECK(Us(model.KernelTime(decode)) == Approx(Us(decode.bytes / 1e12)));
  // Verifying 3 drafts (4 queries) over 4096 tokens, the 4 new ones included: query i sees 4093 + i keys, 16,378
  // pairs in all (4 x 4096 - 4 x 3 / 2); the KV is read once, Q and O 4 times.
  const std::vector<int64_t> one(1, 4096), four(1, 4);
  const KernelShape verify = DecodeAttentionKernel(h, one, four);
  CHECK(verify.flops == 2.0 * 8 * 256 * (4093 + 4094 + 4095 + 4096));
  CHECK(verify.bytes == 4096.0 * 512 + 4.0 * 8 * 256 * 2);
}

TEST_CASE("Attention's rate grows with the keys each query sees, as FlashAttention-3's does on an H100") {
  // pytorch/benchmark PR #2391 (its test plan): FlashAttention-3's forward pass on an H100 SXM, head dim 128, BF16,
  // batch x sequence = 16k: 430.32, 517.099, 565.544, 590.233, 614.234, 620.73 TFLOP/s at 512 to 16384 keys. The
  // default parameters give 989.4 x 0.637 x keys / (keys + 238): within 1.5% of every point.
  const RooflineParams p;
  const double keys[] = {512, 1024, 2048, 4096, 8192, 16384};
  const double measured[] = {430.32, 517.099, 565.544, 590.233, 614.234, 620.73};
  for (int i = 0; i < 6; ++i) {
    INFO(keys[i]);
    CHECK(989.4 * p.attention_efficiency * keys[i] / (keys[i] + p.attention_keys_half) ==
          Approx(measured[i]).epsilon(0.015));
  }
  // A causal chunk stands for its mean keys per query: a 1000-token prompt's queries see 500.5 keys on average
  // (k = 501), one after 3000 cached tokens 3500.5 (k = 3501); two chunks weigh them by their pairs.
  AttentionHeads h;
  h.q_heads = 8;
  h.qk_dim = 128;
  h.v_dim = 128;
  h.kv_bytes_per_token = 2 * 1 * 128 * 2;
  const AttentionChunk first{1000, 0}, later{1000, 3000};
  CHECK(PrefillAttentionKernel(h, std::span(&first, 1)).k == 501);
  CHECK(PrefillAttentionKernel(h, std::span(&later, 1)).k == 3501);
  const std::vector<AttentionChunk> both = {first, later};
  // (500,500 x 500.5 + 3,500,500 x 3500.5) / 4,001,000 = 3125.1
  CHECK(PrefillAttentionKernel(h, both).k == 3125);
  // On the round GPU with only the attention terms: the 1000-token chunk runs at 0.637 x 501 / 739 of 100 TF.
  RooflineParams only = Ideal();
  only.attention_efficiency = p.attention_efficiency;
  only.attention_keys_half = p.attention_keys_half;
  const RooflineModel model(RoundGpu(), only);
  const KernelShape chunk = PrefillAttentionKernel(h, std::span(&first, 1));
  CHECK(Us(model.KernelTime(chunk)) == Approx(Us(chunk.flops / (100e12 * 0.637 * 501 / (501 + 238)))));
}

TEST_CASE("KernelSeconds is KernelTime before rounding, and stays finite past Time's range") {
  const RooflineModel model(RoundGpu(), Ideal());
  // 1000^3 GEMM: 2e9 FLOPs / 100e12 = 20 us, rounding to a picosecond loses nothing.
  const KernelShape big = GemmKernel(1000, 1000, 1000, kBf16, kBf16);
  CHECK(model.KernelSeconds(big) == Approx(20e-6));
  CHECK(model.KernelTime(big).ToSeconds() == Approx(model.KernelSeconds(big)).margin(1e-12));
  // 2^24 of each of m, n, k and batch over 1 x 1 tiles: 2^72 tiles on 10 SMs, more than an int64 counts. The
  // waves are counted in doubles, so the answer is the ideal 2 x 2^96 FLOPs / 100e12 (the last partial wave of
  // 2^72 / 10 is lost in rounding), about 1.58e15 s: no Time holds it.
  const double d = 16777216.0;
  const KernelShape huge = GemmKernel(1 << 24, 1 << 24, 1 << 24, kBf16, kBf16, 1 << 24);
  CHECK(model.KernelSeconds(huge) == Approx(2 * d * d * d * d / 100e12).epsilon(1e-9));
  CHECK_FALSE(Time::FitsSeconds(model.KernelSeconds(huge)));
}

TEST_CASE("Roofline parameters can be overridden by name, and bad names or values are errors") {
  Result<RooflineParams> p = ParseRooflineParams("gemm_efficiency=0.5,tile_n=128");
  REQUIRE(p.ok());
  CHECK(p->gemm_efficiency == 0.5);
  CHECK(p->tile_n == 128);
  CHECK(p->memory_efficiency == RooflineParams{}.memory_efficiency);  // untouched
  CHECK_FALSE(ParseRooflineParams("gemm_eficiency=0.5").ok());
  CHECK_FALSE(ParseRooflineParams("tile_n=12.5").ok());
  CHECK_FALSE(ParseRooflineParams("memory_efficiency=0").ok());
  // Non-finite values, and integers past 2^16 (1e300 would not even cast to an int64), are refused.
  CHECK_FALSE(ParseRooflineParams("gemm_efficiency=nan").ok());
  CHECK_FALSE(ParseRooflineParams("gemm_overhead_us=inf").ok());
  CHECK_FALSE(ParseRooflineParams("tile_m=1e300").ok());
  CHECK_FALSE(ParseRooflineParams("tile_m=65537").ok());
  CHECK(ParseRooflineParams("tile_m=65536").ok());
}

}  // namespace
}  // namespace wiresim
