// GPU specs: the figures a kernel-time model needs (peak dense tensor-core FLOP/s per input type, memory
// bandwidth and capacity, SM count), one entry per GPU model a topology can name, each figure from the vendor's
// datasheet or architecture whitepaper (cited in gpu_spec.cc).
//
//   const GpuSpec* h100 = FindGpuSpec("H100 80GB HBM3");    // aliases: "h100", "h100-sxm", nvidia-smi's name
//   double peak = PeakFlops(*h100, DataType::kBFloat16);    // 989.4e12
#pragma once

#include <span>
#include <string_view>

#include "sim/core/dtype.h"

namespace wiresim {

struct GpuSpec {
  std::string_view name;     // the name topologies use: "h100-sxm"
  std::string_view product;  // "NVIDIA H100 SXM5 80GB"
  // Peak dense tensor-core throughput (no 2:4 sparsity) by input type, in FLOP/s (int8: OP/s). 0 when the GPU
  // has no tensor-core path for that type.
  double fp64_flops = 0;
  double tf32_flops = 0;
  double bf16_flops = 0;  // fp16 is the same on every GPU here (with fp32 accumulation)
  double fp8_flops = 0;
  double int8_ops = 0;
  double memory_bytes = 0;      // HBM or GDDR capacity (datasheet GB, 1e9 bytes)
  double memory_bandwidth = 0;  // bytes per second
  int sm_count = 0;
  // Device memory as the CUDA runtime reports it (cudaMemGetInfo's total, torch's total_memory, what vLLM logs as
  // total_gpu_memory and multiplies by gpu_memory_utilization): the datasheet's capacity read in GiB, less what the
  // driver holds (and ECC on GDDR parts). Measured where a published log shows it; gpu_spec.cc cites each.
  double device_memory_bytes = 0;
  // BF16 FLOP/s a large square torch.matmul reaches on this part (the best of 1024^2 to 10240^2), measured by one
  // public benchmark run on many GPUs (gpu_spec.cc cites it); 0 where it has no figure. The fraction of the
  // datasheet peak a part sustains differs by part (its clocks under load against the rated boost clock, its power
  // limit): an H100 SXM reaches 80%, an H20 96%, a GeForce RTX 4090 101%.
  double measured_bf16_flops = 0;
};

// The catalog, in a fixed order.
std::span<const GpuSpec> GpuCatalog();

// A spec by name or alias, ignoring case, spaces, underscores and a leading "nvidia": "h100", "H100-SXM5",
// "NVIDIA H100 80GB HBM3" (nvidia-smi), "a100", "b200", "gb200", "l40s", "4090", "a6000". nullptr when unknown.
const GpuSpec* FindGpuSpec(std::string_view name);
// The catalog entry for a GPU as its driver names it ("NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-80GB",
// "NVIDIA GeForce RTX 4090"): what calibration profiles and nccl-tests logs record. nullptr when unknown.
const GpuSpec* FindGpuSpecByDeviceName(std::string_view device_name);
// The names FindGpuSpec knows, for messages: "h100-sxm, h200-sxm, ...".
std::string_view KnownGpuNames();

// Peak FLOP/s of a matrix multiply whose inputs are `dtype`: fp32 runs on TF32 tensor cores (as cuBLAS does
// with TF32 enabled, and XLA by default); fp8 on a GPU without fp8 tensor cores runs at the bf16 rate (weights
// upcast, as weight-only fp8 kernels do on Ampere); int4 weight-only GEMMs compute in the activation type, so the
// caller passes that.
double PeakFlops(const GpuSpec& gpu, DataType dtype);

// How much more (or less) of its datasheet tensor peak `gpu` sustains than the H100 SXM, whose GEMMs the roofline's
// efficiencies were fitted on: (measured / datasheet BF16) / (the H100's measured / datasheet BF16), or 1 where the
// part has no measurement. The roofline multiplies every tensor-core rate (GEMMs, attention) by it, for every input
// type (the benchmark measures BF16; the same clocks drive the other types).
double SustainedTensorScale(const GpuSpec& gpu);

}  // namespace wiresim
