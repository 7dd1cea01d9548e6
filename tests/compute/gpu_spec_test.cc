// The GPU catalog: every model name shipped topologies use resolves, with its datasheet figures.
#include "sim/compute/gpu_spec.h"

#include <catch2/catch.hpp>

namespace wiresim {
namespace {

TEST_CASE("Every GPU model a topology names is in the catalog") {
  for (const char* name :
       {"h100-sxm", "h200-sxm", "a100-sxm-80gb", "b200", "gb200", "l40s", "rtx-4090", "rtx-a6000", "h100-pcie", "h20",
        "h20-3e", "b300", "l4", "a10", "rtx-5090", "rtx-pro-6000", "rtx-pro-6000-ws"}) {
    INFO(name);
    const GpuSpec* g = FindGpuSpec(name);
    REQUIRE(g != nullptr);
    CHECK(g->name == name);
    CHECK(g->bf16_flops > 0);
    CHECK(g->memory_bandwidth > 0);
    CHECK(g->memory_bytes > 0);
    CHECK(g->sm_count > 0);
  }
  CHECK(FindGpuSpec("mi300x") == nullptr);
}

TEST_CASE("Aliases: short names, nvidia-smi product names, any case and separators") {
  CHECK(FindGpuSpec("h100")->name == "h100-sxm");
  CHECK(FindGpuSpec("NVIDIA H100 80GB HBM3")->name == "h100-sxm");  // nvidia-smi --query-gpu=name
  CHECK(FindGpuSpec("H200")->name == "h200-sxm");
  CHECK(FindGpuSpec("A100_SXM4_80GB")->name == "a100-sxm-80gb");
  CHECK(FindGpuSpec("RTX 4090")->name == "rtx-4090");
  CHECK(FindGpuSpec("a6000")->name == "rtx-a6000");
  CHECK(FindGpuSpec("NVIDIA RTX PRO 6000 Blackwell Server Edition")->name == "rtx-pro-6000");
  CHECK(FindGpuSpec("NVIDIA RTX PRO 6000 Blackwell Workstation Edition")->name == "rtx-pro-6000-ws");
  CHECK(FindGpuSpec("NVIDIA H100 PCIe")->name == "h100-pcie");
  CHECK(FindGpuSpec("NVIDIA GeForce RTX 5090")->name == "rtx-5090");
}

TEST_CASE("Driver device names: the most specific part wins, and look-alike parts are not taken for others") {
  CHECK(FindGpuSpecByDeviceName("NVIDIA H100 PCIe")->name == "h100-pcie");
  CHECK(FindGpuSpecByDeviceName("NVIDIA H100 80GB HBM3")->name == "h100-sxm");
  CHECK(FindGpuSpecByDeviceName("NVIDIA H20")->name == "h20");
  CHECK(FindGpuSpecByDeviceName("NVIDIA H20-3e")->name == "h20-3e");
  CHECK(FindGpuSpecByDeviceName("NVIDIA H200")->name == "h200-sxm");  // contains "H20"
  CHECK(FindGpuSpecByDeviceName("NVIDIA B300 SXM6 AC")->name == "b300");
  CHECK(FindGpuSpecByDeviceName("NVIDIA L4")->name == "l4");
  CHECK(FindGpuSpecByDeviceName("NVIDIA A10")->name == "a10");
  // The A10G (AWS, 80 SMs) is another part; an L40 is not an L4 or an L40S.
  CHECK(FindGpuSpecByDeviceName("NVIDIA A10G") == nullptr);
  CHECK(FindGpuSpecByDeviceName("NVIDIA L40") == nullptr);
}

TEST_CASE("Device memory as CUDA reports it, below the datasheet figure") {
  constexpr double kGiB = 1024.0 * 1024 * 1024;
  // vLLM v0.19.0 on an H100-80GB logs "Free memory on device (78.68/79.19 GiB)".
  CHECK(FindGpuSpec("h100")->device_memory_bytes / kGiB == Approx(79.19));
  // The B200's figure comes from torch's device properties (182,642 MiB); vLLM PR #21489's log on the same part reads
  // "(177.66/178.36 GiB)": the two sources agree to 0.01 GiB.
  CHECK(FindGpuSpec("b200")->device_memory_bytes / kGiB == Approx(178.36).margin(0.01));
  // An RTX 4090: deviceQuery's 24081 MBytes (25,250,627,584 bytes).
  CHECK(FindGpuSpec("rtx-4090")->device_memory_bytes == 25'250'627'584.0);
  // torch's total_memory=97250MB (MiB) on an RTX PRO 6000 Server Edition is the 94.97 GiB of its out-of-memory
  // messages on the Workstation Edition.
  CHECK(FindGpuSpec("rtx-pro-6000")->device_memory_bytes / kGiB == Approx(94.97).margin(0.005));
  for (const GpuSpec& g : GpuCatalog()) {
    INFO(g.name);
    // Every part reports less than its datasheet capacity read in GiB, and more than 90% of it.
    CHECK(g.device_memory_bytes < g.memory_bytes / 1e9 * kGiB);
    CHECK(g.device_memory_bytes > 0.9 * g.memory_bytes / 1e9 * kGiB);
  }
}

TEST_CASE("Datasheet figures: H100 SXM, H200, A100 80GB") {
  const GpuSpec& h100 = *FindGpuSpec("h100");
  // H100 datasheet: BF16 1,979 TF with sparsity = 989.4 dense; FP8 twice that; 3.35 TB/s; 80 GB; 132 SMs.
  CHECK(h100.bf16_flops == Approx(989.4e12));
  CHECK(h100.fp8_flops == Approx(2 * 989.45e12).epsilon(1e-3));
  CHECK(h100.memory_bandwidth == Approx(3.35e12));
  CHECK(h100.memory_bytes == Approx(80e9));
  CHECK(h100.sm_count == 132);
  // H200: the same compute, 141 GB at 4.8 TB/s.
  const GpuSpec& h200 = *FindGpuSpec("h200");
  CHECK(h200.bf16_flops == h100.bf16_flops);
  CHECK(h200.memory_bytes == Approx(141e9));
  CHECK(h200.memory_bandwidth == Approx(4.8e12));
  // A100 80GB SXM: 312 TF bf16, 2,039 GB/s, 108 SMs, no fp8.
  const GpuSpec& a100 = *FindGpuSpec("a100");
  CHECK(a100.bf16_flops == Approx(312e12));
  CHECK(a100.memory_bandwidth == Approx(2.039e12));
  CHECK(a100.sm_count == 108);
  CHECK(a100.fp8_flops == 0);
}

TEST_CASE("Datasheet figures: PCIe and workstation parts") {
  // RTX PRO 6000: NVIDIA's 4,000 AI TOPS are FP4 with sparsity, 8x the dense BF16 rate: about 500 TF on the
  // Workstation Edition; the Server Edition is clocked for 120 of the Workstation's 125 FP32 TF, and its memory runs
  // at 1,597 GB/s against 28 Gbps x 512 bits = 1,792 GB/s.
  const GpuSpec& server = *FindGpuSpec("rtx-pro-6000");
  const GpuSpec& ws = *FindGpuSpec("rtx-pro-6000-ws");
  CHECK(ws.bf16_flops == Approx(4000e12 / 8).epsilon(0.01));
  CHECK(server.bf16_flops == Approx(ws.bf16_flops * 120 / 125).epsilon(1e-3));
  CHECK(ws.memory_bandwidth == Approx(28e9 * 512 / 8));
  CHECK(server.memory_bandwidth == Approx(1597e9));
  CHECK(server.sm_count == 188);
  // GeForce RTX 5090: FP32 accumulate at half the FP16-accumulate rate (419 TF): 209.5.
  CHECK(FindGpuSpec("5090")->bf16_flops == Approx(419e12 / 2));
  // L4: the datasheet prints only sparse figures: 242 TF BF16* halved.
  CHECK(FindGpuSpec("l4")->bf16_flops == Approx(242e12 / 2));
  // A10 has no FP8: FP8 runs at the BF16 rate.
  CHECK(PeakFlops(*FindGpuSpec("a10"), DataType::kFloat8E4M3) == Approx(125e12));
  // H20: the H100's die cut to 148 TF BF16 but with 4 TB/s of HBM3: decode-heavy work runs near an H100's speed.
  CHECK(FindGpuSpec("h20")->bf16_flops / FindGpuSpec("h100")->bf16_flops == Approx(148.0 / 989.4));
}

TEST_CASE("The fraction of its datasheet peak each part sustains, against the H100's") {
  // torch-performance-test-data's largest BF16 matmul (gpu_spec.cc): H100 SXM 790.6 TF of 989.4 (80%), H20 142.06
  // of 148 (96%): the H20's tensor rates scale by 0.9599 / 0.7991 = 1.2012; the H100 is the reference (1); a part
  // with no measurement keeps the H100's fraction (1).
  CHECK(SustainedTensorScale(*FindGpuSpec("h100")) == 1.0);
  CHECK(SustainedTensorScale(*FindGpuSpec("h20")) == Approx((142.06 / 148) / (790.6 / 989.4)));
  CHECK(SustainedTensorScale(*FindGpuSpec("b300")) == 1.0);
  // Every measured part: between half and one and a half times the H100's fraction, and never above 1.2 of its own
  // datasheet peak (a clock boost past the rated one, as on GeForce cards, but not a misprint).
  for (const GpuSpec& g : GpuCatalog()) {
    INFO(g.name);
    if (g.measured_bf16_flops == 0) continue;
    CHECK(SustainedTensorScale(g) > 0.5);
    CHECK(SustainedTensorScale(g) < 1.5);
    CHECK(g.measured_bf16_flops < 1.2 * g.bf16_flops);
  }
}

TEST_CASE("PeakFlops picks the tensor-core path of the input type") {
  const GpuSpec& h100 = *FindGpuSpec("h100");
  const GpuSpec& a100 = *FindGpuSpec("a100");
  CHECK(PeakFlops(h100, DataType::kFloat8E4M3) == h100.fp8_flops);
  CHECK(PeakFlops(h100, DataType::kFloat32) == h100.tf32_flops);     // TF32 tensor cores
  CHECK(PeakFlops(h100, DataType::kInt4) == h100.bf16_flops);        // weight-only: computes in 16 bits
  CHECK(PeakFlops(a100, DataType::kFloat8E4M3) == a100.bf16_flops);  // no fp8 tensor cores on Ampere
}

}  // namespace
}  // namespace wiresim
