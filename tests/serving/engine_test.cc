// Tests for the engine profiles: which all-reduces each engine runs itself and at what closed-form cost, and how
// CUDA-graph capture pads batches. Expected values are derived by hand in the comments from the cited constants
// (engine.cc, docs/engines.md), never read back from the code.
#include "sim/serving/engine.h"

#include <catch2/catch.hpp>

#include "sim/collective/collective_model.h"
#include "tests/testing/topology.h"

namespace wiresim {
namespace {

using testing::ShippedTopology;

constexpr double kKiB = 1024.0;
constexpr double kMiB = 1024.0 * 1024.0;

double Us(std::optional<Time> t) {
  REQUIRE(t.has_value());
  return t->ToMicroseconds();
}

std::vector<int> Range(int from, int to) {
  std::vector<int> v;
  for (int i = from; i < to; ++i) v.push_back(i);
  return v;
}

TEST_CASE("ParseEngine: the three names, and an error naming them for anything else") {
  CHECK(ParseEngine("vllm").value() == Engine::kVllm);
  CHECK(ParseEngine("sglang").value() == Engine::kSglang);
  CHECK(ParseEngine("trtllm").value() == Engine::kTrtllm);
  for (const char* bad : {"vLLM", "tensorrt-llm", "", "vllm "}) {
    Result<Engine> e = ParseEngine(bad);
    REQUIRE_FALSE(e.ok());
    CHECK(e.status().message().find("vllm, sglang or trtllm") != std::string::npos);
  }
}

TEST_CASE("vLLM custom all-reduce on a DGX H100: 8 GPUs, 64 KiB, one-shot closed form") {
  // One-shot below 256 KiB at 8 GPUs. Per GPU: 18 NVLink4 links x 25 GB/s = 450 GB/s to the NVSwitches; at the
  // one-shot efficiency 0.75, B = 337.5e9 B/s. t = 5.5 us + 65536 x 7 / 337.5e9 s = 5.5 + 1.35923 = 6.8592 us.
  Topology topo = ShippedTopology("dgx-h100");
  EngineAllReduce car(ProfileOf(Engine::kVllm), topo);
  CHECK(car.KernelFor(Range(0, 8), 64 * kKiB) == EngineKernel::kOneShot);
  CHECK(Us(car.Duration(Range(0, 8), 64 * kKiB)) == Approx(5.5 + 65536.0 * 7 / 337.5e9 * 1e6).epsilon(1e-6));
  CHECK(Us(car.Duration(Range(0, 8), 64 * kKiB)) == Approx(6.8592).epsilon(1e-4));
}

TEST_CASE("vLLM on Hopper: custom kernel, then symmetric memory, then NCCL, by size and group") {
  Topology topo = ShippedTopology("dgx-h100");
  EngineAllReduce car(ProfileOf(Engine::kVllm), topo);
  // 8 GPUs: the custom kernel's limit drops to CUSTOM_ALL_REDUCE_MAX_SIZES["9.0"][8] = 256 KiB (under 256 KiB it is
  // one-shot anyway); symmetric memory multimem (8 in _WORLD_SIZES_MULTIMEM["9.0"]) to 64 MiB inclusive; NCCL after.
  CHECK(car.KernelFor(Range(0, 8), 256 * kKiB - 16) == EngineKernel::kOneShot);
  CHECK(car.KernelFor(Range(0, 8), 256 * kKiB) == EngineKernel::kSymmMemMultimem);
  CHECK(car.KernelFor(Range(0, 8), 64 * kMiB) == EngineKernel::kSymmMemMultimem);
  CHECK_FALSE(car.KernelFor(Range(0, 8), 64 * kMiB + 16).has_value());
  // 4 GPUs: custom limit min(8 MiB, 32 MiB) = 8 MiB, one-shot under 512 KiB; multimem to 32 MiB.
  CHECK(car.KernelFor(Range(0, 4), 512 * kKiB - 16) == EngineKernel::kOneShot);
  CHECK(car.KernelFor(Range(0, 4), 512 * kKiB) == EngineKernel::kTwoShot);
  CHECK(car.KernelFor(Range(0, 4), 8 * kMiB) == EngineKernel::kSymmMemMultimem);
  CHECK(car.KernelFor(Range(0, 4), 32 * kMiB) == EngineKernel::kSymmMemMultimem);
  CHECK_FALSE(car.KernelFor(Range(0, 4), 32 * kMiB + 16).has_value());
  // 6 GPUs: custom limit 512 KiB, one-shot under 256 KiB, two-shot between.
  CHECK(car.KernelFor(Range(0, 6), 256 * kKiB) == EngineKernel::kTwoShot);
  CHECK(car.KernelFor(Range(0, 6), 512 * kKiB) == EngineKernel::kSymmMemMultimem);
  // 2 GPUs: the custom kernel (always one-shot) under 8 MiB; then symmetric memory's two-shot (2 is not a multimem
  // world size) to 64 MiB.
  CHECK(car.KernelFor(Range(0, 2), 8 * kMiB - 16) == EngineKernel::kOneShot);
  CHECK(car.KernelFor(Range(0, 2), 8 * kMiB) == EngineKernel::kSymmMemTwoShot);
  CHECK(car.KernelFor(Range(0, 2), 64 * kMiB) == EngineKernel::kSymmMemTwoShot);
  CHECK_FALSE(car.KernelFor(Range(0, 2), 64 * kMiB + 16).has_value());
}

TEST_CASE("vLLM's symmetric-memory kernels: copies in and out plus the NVLink traffic") {
  Topology topo = ShippedTopology("dgx-h100");
  EngineAllReduce car(ProfileOf(Engine::kVllm), topo);
  // Copies: 2 x (read + write of the bytes) at 0.85 x 3.35e12 = 2.8475e12 B/s.
  // multimem, 8 GPUs, 1 MiB: copies 4 x 1048576 / 2.8475e12 = 1.47298 us; NVLink traffic 1048576 x 9/8 at
  // 0.77 x 450e9 = 346.5e9: 3.40447 us; t = 8.5 + 1.47298 + 3.40447 = 13.3775 us (vLLM PR #42324 measured 14).
  CHECK(Us(car.Duration(Range(0, 8), 1 * kMiB)) == Approx(13.3775).epsilon(1e-4));
  // two-shot, 2 GPUs, 8 MiB: copies 4 x 8388608 / 2.8475e12 = 11.7838 us; traffic 2 x 8388608 x 1/2 at
  // 0.71 x 450e9 = 319.5e9: 26.2554 us; t = 8.25 + 11.7838 + 26.2554 = 46.289 us.
  CHECK(Us(car.Duration(Range(0, 2), 8 * kMiB)) == Approx(46.289).epsilon(1e-4));
  // The custom two-shot forced at 8 GPUs, 1 MiB: 2 x 4.75 + 2 x 1048576 x 7/8 / (0.47 x 450e9) s = 9.5 + 8.6762 =
  // 18.176 us.
  CHECK(Us(car.KernelDuration(EngineKernel::kTwoShot, Range(0, 8), 1 * kMiB)) == Approx(18.176).epsilon(1e-4));
}

TEST_CASE("vLLM with symmetric memory off: the custom kernel keeps 8 MiB, NCCL takes the rest") {
  Topology topo = ShippedTopology("dgx-h100");
  EngineProfile profile = ProfileOf(Engine::kVllm);
  profile.symm_mem.available = false;
  EngineAllReduce car(profile, topo);
  CHECK(car.KernelFor(Range(0, 8), 256 * kKiB) == EngineKernel::kTwoShot);
  CHECK(car.KernelFor(Range(0, 8), 8 * kMiB - 16) == EngineKernel::kTwoShot);
  CHECK_FALSE(car.KernelFor(Range(0, 8), 8 * kMiB).has_value());  // should_custom_ar: inp_size < max_size
  CHECK(Us(car.Duration(Range(0, 8), 1 * kMiB)) == Approx(18.176).epsilon(1e-4));
}

TEST_CASE("vLLM on B200: the sm100 limits, multimem only at 6 and 8 GPUs") {
  Topology topo = ShippedTopology("dgx-b200");
  EngineAllReduce car(ProfileOf(Engine::kVllm), topo);
  // CUSTOM_ALL_REDUCE_MAX_SIZES["10.0"][8] = 1 MiB; SYMM_MEM_ALL_REDUCE_MAX_SIZES["10.0"][8] = 128 MiB.
  CHECK(car.KernelFor(Range(0, 8), 512 * kKiB) == EngineKernel::kTwoShot);
  CHECK(car.KernelFor(Range(0, 8), 1 * kMiB) == EngineKernel::kSymmMemMultimem);
  CHECK(car.KernelFor(Range(0, 8), 128 * kMiB) == EngineKernel::kSymmMemMultimem);
  CHECK_FALSE(car.KernelFor(Range(0, 8), 128 * kMiB + 16).has_value());
  // 4 GPUs: custom limit 2 MiB, then two-shot (4 is not a multimem world size on "10.0") to 32 MiB.
  CHECK(car.KernelFor(Range(0, 4), 2 * kMiB - 16) == EngineKernel::kTwoShot);
  CHECK(car.KernelFor(Range(0, 4), 2 * kMiB) == EngineKernel::kSymmMemTwoShot);
  // Blackwell's larger fixed costs (docs/engines.md): multimem, 8 GPUs, 1 MiB: 12.75 us + copies 4 x 1048576 /
  // (0.85 x 7.7e12) s = 0.64084 us + 1048576 x 9/8 / (0.77 x 900e9) s = 1.70223 us: 15.0931 us.
  CHECK(Us(car.Duration(Range(0, 8), 1 * kMiB)) == Approx(15.0931).epsilon(1e-4));
  // Custom two-shot, 8 GPUs, 512 KiB: 2 x 9.75 us + 2 x 524288 x 7/8 / (0.47 x 900e9) s = 19.5 + 2.16927 = 21.669 us.
  CHECK(Us(car.Duration(Range(0, 8), 512 * kKiB)) == Approx(21.669).epsilon(1e-4));
}

TEST_CASE("Engine all-reduce refuses: two hosts, 4 PCIe GPUs, world size 3, no symmetric memory without NVSwitch") {
  Topology dgx = ShippedTopology("dgx-h100");
  EngineAllReduce car(ProfileOf(Engine::kVllm), dgx);
  CHECK_FALSE(car.Duration(Range(0, 3), 64 * kKiB).has_value());  // not in [2, 4, 6, 8]
  CHECK_FALSE(car.Duration({0, 1, 2, 3, 4}, 64 * kKiB).has_value());
  CHECK(car.Duration(Range(0, 6), 64 * kKiB).has_value());

  Topology two = ShippedTopology("dgx-h100-2node");
  EngineAllReduce car2(ProfileOf(Engine::kVllm), two);
  CHECK(car2.Duration(Range(8, 16), 64 * kKiB).has_value());  // the second box alone
  CHECK_FALSE(car2.Duration({0, 1, 2, 3, 8, 9, 10, 11}, 64 * kKiB).has_value());
  CHECK_FALSE(car2.Duration({0, 8}, 64 * kKiB).has_value());
  CHECK_FALSE(car2.Duration({0, 1, 2, 3, 8, 9, 10, 11}, 4 * kMiB).has_value());  // symmetric memory: one host too

  Topology pcie = ShippedTopology("pcie-8x-l40s");
  EngineAllReduce car3(ProfileOf(Engine::kVllm), pcie);
  CHECK_FALSE(car3.Duration(Range(0, 4), 64 * kKiB).has_value());
  CHECK_FALSE(car3.Duration(Range(0, 8), 64 * kKiB).has_value());
  // A PCIe pair is allowed (world_size == 2). Each L40S has one Gen4 x16 link, 32 GB/s: B = 0.75 x 32e9 = 24e9;
  // t = 5.5 us + 65536 / 24e9 s = 5.5 + 2.7307 = 8.2307 us.
  CHECK(Us(car3.Duration({0, 1}, 64 * kKiB)) == Approx(8.2307).epsilon(1e-4));
  // Over 8 MiB no symmetric memory (an sm89 GPU has no limit, and no NVSwitch to multicast through): NCCL.
  CHECK_FALSE(car3.Duration({0, 1}, 8 * kMiB).has_value());
  CHECK_FALSE(car3.KernelDuration(EngineKernel::kSymmMemMultimem, {0, 1}, 1 * kMiB).has_value());
}

TEST_CASE("TRT-LLM's AUTO table: NCCL from 8 MiB at TP 8, two-shot from 512 KiB, no PCIe pairs, no TP 6") {
  Topology dgx = ShippedTopology("dgx-h100");
  EngineAllReduce car(ProfileOf(Engine::kTrtllm), dgx);
  CHECK(car.KernelFor(Range(0, 8), 256 * kKiB) == EngineKernel::kOneShot);
  CHECK(car.KernelFor(Range(0, 8), 512 * kKiB) == EngineKernel::kTwoShot);
  CHECK(car.KernelFor(Range(0, 8), 4 * kMiB) == EngineKernel::kTwoShot);
  CHECK_FALSE(car.KernelFor(Range(0, 8), 8 * kMiB).has_value());
  CHECK(car.KernelFor(Range(0, 2), 8 * kMiB) == EngineKernel::kOneShot);
  CHECK_FALSE(car.KernelFor(Range(0, 6), 64 * kKiB).has_value());
  Topology pcie = ShippedTopology("pcie-8x-l40s");
  EngineAllReduce car_pcie(ProfileOf(Engine::kTrtllm), pcie);
  CHECK_FALSE(car_pcie.Duration({0, 1}, 64 * kKiB).has_value());
}

TEST_CASE("SGLang: vLLM's custom kernel and rule, no symmetric memory, NCCL without NVLS") {
  Topology topo = ShippedTopology("dgx-h100");
  const EngineProfile sglang = ProfileOf(Engine::kSglang);
  CHECK_FALSE(sglang.nccl_nvls);  // NCCL_NVLS_ENABLE = enable_nccl_nvls (False)
  CHECK(ProfileOf(Engine::kVllm).nccl_nvls);
  EngineAllReduce car(sglang, topo);
  CHECK(car.KernelFor(Range(0, 8), 1 * kMiB) == EngineKernel::kTwoShot);
  CHECK_FALSE(car.KernelFor(Range(0, 8), 8 * kMiB).has_value());
}

TEST_CASE("EngineAllReduce as a CollectiveOverride: all-reduces only") {
  Topology topo = ShippedTopology("dgx-h100");
  CollectiveModel model(topo);
  CollectiveCall ar;
  ar.gpus = Range(0, 8);
  ar.bytes = 64 * kKiB;
  auto prepared = model.Prepare(ar, {});
  REQUIRE(prepared.ok());
  EngineAllReduce car(ProfileOf(Engine::kSglang), topo);
  const CollectiveOverride& engine = car;
  CHECK(Us(engine.Duration(ar, **prepared)) == Approx(6.8592).epsilon(1e-4));  // SGLang: vLLM's kernel and rule
  CollectiveCall ag = ar;
  ag.op = CollectiveOp::kAllGather;
  CHECK_FALSE(engine.Duration(ag, **prepared).has_value());
}

TEST_CASE("EngineAllReduce::Describe: which kernel takes which sizes, as the run's header prints it") {
  Topology h100 = ShippedTopology("dgx-h100");
  // vLLM at TP 8 on Hopper: the custom limit 256 KiB (one-shot throughout), multimem to 64 MiB (the table above).
  CHECK(EngineAllReduce(ProfileOf(Engine::kVllm), h100).Describe(Range(0, 8)) ==
        "custom one-shot below 256 KiB, symm-mem multimem to 64 MiB, NCCL above");
  // SGLang at TP 4: one-shot below 512 KiB, two-shot below 8 MiB, no symmetric memory.
  CHECK(EngineAllReduce(ProfileOf(Engine::kSglang), h100).Describe(Range(0, 4)) ==
        "custom one-shot below 512 KiB, two-shot below 8 MiB, NCCL above");
  CHECK(EngineAllReduce(ProfileOf(Engine::kVllm), h100).Describe(Range(0, 3)) == "NCCL");  // no limit for 3
  Topology two = ShippedTopology("dgx-h100-2node");
  CHECK(EngineAllReduce(ProfileOf(Engine::kVllm), two).Describe({0, 8}) == "NCCL");  // across hosts
}

TEST_CASE("ParseEngineKernel: the four names, and an error naming them") {
  CHECK(ParseEngineKernel("one-shot").value() == EngineKernel::kOneShot);
  CHECK(ParseEngineKernel("two-shot").value() == EngineKernel::kTwoShot);
  CHECK(ParseEngineKernel("multimem").value() == EngineKernel::kSymmMemMultimem);
  CHECK(ParseEngineKernel("symm-two-shot").value() == EngineKernel::kSymmMemTwoShot);
  Result<EngineKernel> bad = ParseEngineKernel("oneshot");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("one-shot, two-shot") != std::string::npos);
}

TEST_CASE("Capture sizes: vLLM's, SGLang's and TRT-LLM's default lists") {
  // vLLM at max_num_seqs 256: 1, 2, 4 (3) + 8..248 step 8 (31) + 256..512 step 16 (17) = 51 sizes.
  const std::vector<int64_t> v = VllmCaptureSizes(256, 8192);
  CHECK(v.size() == 51);
  CHECK(v.back() == 512);
  CHECK(VllmCaptureSizes(16, 8192) == std::vector<int64_t>{1, 2, 4, 8, 16, 24, 32});  // min(2 x 16, 512) = 32
  CHECK(VllmCaptureSizes(256, 100).back() == 96);  // sizes over max_num_batched_tokens dropped
  // Speculative decoding, one draft: the largest is min(16 x 2 x 2, 512) = 64, and 1 rounds up to 2.
  CHECK(VllmCaptureSizes(16, 8192, 2) == std::vector<int64_t>{2, 4, 8, 16, 24, 32, 40, 48, 56, 64});
  // Two drafts: multiples of 3 up to 96; 1, 2 -> 3, 4 -> 6, 8 -> 9, 16 -> 18, 24 stays, 32 -> 33, 40 -> 42, ...
  const std::vector<int64_t> k2 = VllmCaptureSizes(16, 8192, 3);
  CHECK(std::vector<int64_t>(k2.begin(), k2.begin() + 8) == std::vector<int64_t>{3, 6, 9, 18, 24, 33, 42, 48});
  CHECK(k2.back() == 96);
  // Three drafts and one sequence: the largest is 8; 1, 2, 4 -> 4, 8 stays.
  CHECK(VllmCaptureSizes(1, 8192, 4) == std::vector<int64_t>{4, 8});
  // SGLang at 256: 1, 2, 4, 8, 12 (5) + 16..256 step 8 (31) = 36.
  CHECK(SglangCaptureSizes(256).size() == 36);
  CHECK(SglangCaptureSizes(256).back() == 256);
  // At 512: + 272..496 step 16 (15) + 512 (1) = 52.
  CHECK(SglangCaptureSizes(512).size() == 52);
  // TRT-LLM at 128: 1..31 (31) + 32, 64, 128 = 34.
  const std::vector<int64_t> t = TrtllmCaptureSizes(128);
  CHECK(t.size() == 34);
  CHECK(t.back() == 128);
}

// SGLang's server_args.py, _handle_gpu_memory_settings, on GPUs given an exact device memory (MiB = bytes / 2^20).
GpuSpec GpuWithMiB(double mib) {
  GpuSpec g = *FindGpuSpec("h100");
  g.device_memory_bytes = mib * kMiB;
  return g;
}

TEST_CASE("SGLang's defaults by GPU memory: chunked prefill, CUDA-graph batch limit, mem_fraction_static") {
  // The branches: < 20 GiB 2048 / 8; < 35 GiB 2048 / 24 (80 from TP 4); < 60 GiB 4096 / 32 (160); < 160 GiB 8192 /
  // 256 (512); else 16384 / 512.
  CHECK(SglangDefaultsFor(GpuWithMiB(16 * 1024), 1).cuda_graph_max_bs == 8);
  CHECK(SglangDefaultsFor(GpuWithMiB(24 * 1024), 1).cuda_graph_max_bs == 24);
  CHECK(SglangDefaultsFor(GpuWithMiB(24 * 1024), 4).cuda_graph_max_bs == 80);
  CHECK(SglangDefaultsFor(GpuWithMiB(40 * 1024), 2).chunked_prefill_size == 4096);
  CHECK(SglangDefaultsFor(GpuWithMiB(80 * 1024), 8).cuda_graph_max_bs == 512);
  CHECK(SglangDefaultsFor(GpuWithMiB(192 * 1024), 1).chunked_prefill_size == 16384);

  // 80 GiB = 81920 MiB, TP 1, chunked 8192, batch limit 256: reserved 512 + 1.5 x 8192 + 2 x 256 + 1 x 1 / 8 x 1024
  // = 13440 MiB; (81920 - 13440) / 81920 = 0.8359 -> 0.836.
  const GpuSpec g80 = GpuWithMiB(81920);
  CHECK(SglangMemFractionStatic(g80, 1, 1, 1, false, 8192, 256) == Approx(0.836));
  // TP 8 (batch limit 512): 512 + 12288 + 1024 + 1024 = 14848; 0.8188 -> 0.819.
  CHECK(SglangMemFractionStatic(g80, 8, 1, 1, false, 8192, 512) == Approx(0.819));
  // Attention DP over 8 (tp_size 8, dp 8): 14848 + 3 x 512 x 8 = 12288 + (512 > 300) 1.5 x 512 x 8 = 6144 ->
  // 33280; 0.5938 -> 0.594.
  CHECK(SglangMemFractionStatic(g80, 8, 1, 8, true, 8192, 512) == Approx(0.594));
  // Chunked prefill off: max_prefill_tokens 16384 -> 512 + 24576 + 512 + 128 = 25728; 0.6859 -> 0.686.
  CHECK(SglangMemFractionStatic(g80, 1, 1, 1, false, 0, 256) == Approx(0.686));
  // A small chunk on a GPU over 60 GiB: 512 + 3072 + 512 + 128 = 4224, raised to the 10 GiB floor; 0.875.
  CHECK(SglangMemFractionStatic(g80, 1, 1, 1, false, 2048, 256) == Approx(0.875));
  // 40 GiB (40960 MiB), below 60 GiB, no floor: 512 + 1.5 x 4096 + 2 x 32 + 128 = 6848; 0.8328 -> 0.833.
  CHECK(SglangMemFractionStatic(GpuWithMiB(40960), 1, 1, 1, false, 4096, 32) == Approx(0.833));

  // A plan's: tp=1,dp=8,ep=8 is attention DP (SGLang's tp_size 8); dp=2 without experts is two replicas.
  CHECK(SglangTpSize(*ParsePlan("tp=1,dp=8,ep=8")) == 8);
  CHECK(SglangTpSize(*ParsePlan("tp=4,dp=2")) == 4);
  CHECK(SglangDefaultFraction(*ParsePlan("tp=8"), g80, 8192) == Approx(0.819));
  // The profile takes the GPU's chunked prefill and batch limit: an A100 40GB at TP 1, 4096 tokens and graphs to 32.
  const EngineProfile a100 = ProfileOf(Engine::kSglang, FindGpuSpec("a100-sxm-40gb"), 1);
  CHECK(a100.max_num_batched_tokens == 4096);
  CHECK(a100.cuda_graphs.capture_sizes.back() == 32);
}

// vLLM's EngineArgs.get_batch_defaults for `vllm serve`: at least 70 GiB of device memory and no "a100" in the
// device name gives 1024 sequences and 8192 tokens, anything else 256 and 2048. The A100 80GB (79.19 GiB) is the
// case the name rule exists for; the L40S (44.52 GiB) falls below the memory rule.
TEST_CASE("vLLM's scheduler defaults follow the GPU") {
  struct Case {
    const char* gpu;
    int64_t seqs, tokens;
  };
  for (const Case& c : {Case{"h100", 1024, 8192}, Case{"h200", 1024, 8192}, Case{"h100-nvl", 1024, 8192},
                        Case{"b200", 1024, 8192}, Case{"a100", 256, 2048}, Case{"a100-sxm-40gb", 256, 2048},
                        Case{"l40s", 256, 2048}, Case{"rtx-4090", 256, 2048}}) {
    INFO(c.gpu);
    const SchedulerDefaults d = VllmSchedulerDefaults(*FindGpuSpec(c.gpu));
    CHECK(d.max_num_seqs == c.seqs);
    CHECK(d.max_num_batched_tokens == c.tokens);
    const EngineProfile p = ProfileOf(Engine::kVllm, FindGpuSpec(c.gpu));
    CHECK(p.max_num_seqs == c.seqs);
    CHECK(p.max_num_batched_tokens == c.tokens);
  }
}

TEST_CASE("PadForCudaGraph: decode batches to the next captured size, mixed ones per engine") {
  const EngineProfile vllm = ProfileOf(Engine::kVllm);
  const EngineProfile sglang = ProfileOf(Engine::kSglang);
  const EngineProfile trtllm = ProfileOf(Engine::kTrtllm);

  // decode=5 -> 8 rows in vLLM: three padding rows; the five decodes are unchanged and still a decode batch.
  BatchShape d5 = ParseBatch("decode=5x1000").value();
  BatchShape p = PadForCudaGraph(d5, vllm);
  CHECK(p.Tokens() == 8);
  CHECK(p.padding == 3);
  REQUIRE(p.decode_contexts.size() == 5);
  CHECK(p.decode_contexts[4] == 1000);
  CHECK(p.prefills.empty());
  CHECK(p.phase() == Phase::kDecode);
  CHECK(p.LogitRows() == 5);

  // decode=300: vLLM's sizes from 256 step 16: 256, 272, 288, 304 -> 304.
  CHECK(PadForCudaGraph(ParseBatch("decode=300x100").value(), vllm).Tokens() == 304);
  // decode=513: over the largest (512): eager, unchanged.
  CHECK(PadForCudaGraph(ParseBatch("decode=513x100").value(), vllm).Tokens() == 513);
  // decode=9: vLLM 16 (8, 16, ...); SGLang 12 (8, 12, 16, ...); TRT-LLM pads nothing (padding off).
  CHECK(PadForCudaGraph(ParseBatch("decode=9x100").value(), vllm).Tokens() == 16);
  CHECK(PadForCudaGraph(ParseBatch("decode=9x100").value(), sglang).Tokens() == 12);
  CHECK(PadForCudaGraph(ParseBatch("decode=40x100").value(), trtllm).Tokens() == 40);
  // SGLang's largest at its default cuda_graph_max_bs 256: 257 runs eagerly.
  CHECK(PadForCudaGraph(ParseBatch("decode=257x100").value(), sglang).Tokens() == 257);

  // A large mixed batch (2048 + 5 = 2053 tokens > 512) is unchanged everywhere.
  BatchShape big = ParseBatch("prefill=1x2048,decode=5x100").value();
  for (const EngineProfile* e : {&vllm, &sglang, &trtllm}) {
    BatchShape out = PadForCudaGraph(big, *e);
    CHECK(out.decode_contexts.size() == 5);
    CHECK(out.Tokens() == 2053);
  }
  // A small mixed batch (100 + 3 = 103 tokens): vLLM's piecewise graphs pad it to 104; SGLang runs it eagerly.
  BatchShape small = ParseBatch("prefill=1x100,decode=3x50").value();
  CHECK(PadForCudaGraph(small, vllm).Tokens() == 104);
  CHECK(PadForCudaGraph(small, vllm).prefills.size() == 1);
  CHECK(PadForCudaGraph(small, vllm).phase() == Phase::kMixed);
  CHECK(PadForCudaGraph(ParseBatch("prefill=1x100").value(), vllm).phase() == Phase::kPrefill);
  CHECK(PadForCudaGraph(small, sglang).Tokens() == 103);
  // An empty batch stays empty.
  CHECK(PadForCudaGraph(BatchShape{}, vllm).empty());
}

}  // namespace
}  // namespace wiresim
