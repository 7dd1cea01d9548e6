// RooflineModel: kernel time from a GPU's datasheet peaks and a handful of efficiencies, shaped the way GEMM
// libraries behave: a kernel takes the longer of its compute time and its memory time, plus a fixed overhead.
// The compute time of a GEMM pays for tile quantisation (M padded to the MMA tile), wave quantisation (a last
// partial wave of output tiles over the SMs), a short-K penalty (the main loop's prologue and epilogue), and a
// serial latency per element of K; small M is therefore bandwidth-bound by construction. The efficiencies were
// fitted to measured GEMMs (tools/validate_compute.py, docs/validation/compute.md); docs/models.md derives each
// term. They are fractions of an H100's peak; on another part every tensor-core rate is scaled by how much more of
// its own datasheet peak that part sustains (SustainedTensorScale, from a measured large GEMM per part).
//
//   RooflineModel h100(*FindGpuSpec("h100"));                     // RooflineParams{} defaults
//   Time t = h100.KernelTime(GemmKernel(4096, 8192, 8192, DataType::kBFloat16, DataType::kBFloat16));
#pragma once

#include "sim/compute/gpu_spec.h"
#include "sim/compute/kernel_time_model.h"
#include "sim/core/status.h"

namespace wiresim {

// Fitted parameters; calibration may replace them. The defaults are the fit of docs/validation/compute.md
// (H100 and A100 GEMM measurements from Vidur and XLA's sm_90 table).
struct RooflineParams {
  double gemm_efficiency = 0.74;    // fraction of peak tensor FLOP/s a large, long-K GEMM sustains
  double memory_efficiency = 0.85;  // fraction of peak memory bandwidth a streaming kernel sustains
  double gemm_k_half = 64;          // short-K penalty: efficiency x k / (k + gemm_k_half)
  double gemm_k_step_ns = 0.5;      // serial main-loop latency per element of K, in ns
  int64_t tile_m = 128;             // output tile (rows x columns) for wave quantisation
  int64_t tile_n = 256;
  int64_t m_granularity = 64;     // M is padded to this many rows (the MMA tile's M)
  double gemm_overhead_us = 5.0;  // fixed cost per GEMM: launch tail, prologue, epilogue
  // Attention's compute rate grows with the keys each query attends to (the kernel's inner loop):
  //   efficiency = attention_efficiency x keys / (keys + attention_keys_half)
  // Fitted to FlashAttention-3's forward pass on an H100 SXM, head dim 128, BF16, 16k tokens per batch
  // (pytorch/benchmark PR #2391, its test plan: 430, 517, 566, 590, 614, 621 TFLOP/s at 512 to 16384 keys):
  // 0.637 of the H100's peak and 238 keys reproduce all six within 1.2%. That table is without the causal mask;
  // a causal chunk's mean keys per query (its context plus half its own tokens) stand in for its length.
  double attention_efficiency = 0.637;
  double attention_keys_half = 238;
  // Decode attention streams the KV cache; FlashDecoding-style split-K keeps it bandwidth-bound.
  double attention_memory_efficiency = 0.8;
  double attention_overhead_us = 4.0;
  double memory_bound_overhead_us = 2.0;  // norms, activations, rotary embeddings: a short kernel's floor
};

// Overrides fields of `base` from "gemm_efficiency=0.7,tile_n=128" (the field names above). For fitting and
// what-if runs; errors name the unknown field or the bad value.
Result<RooflineParams> ParseRooflineParams(std::string_view text, RooflineParams base = {});

class RooflineModel : public KernelTimeModel {
 public:
  explicit RooflineModel(const GpuSpec& gpu, RooflineParams params = {});

  Time KernelTime(const KernelShape& kernel) const override;
  double KernelSeconds(const KernelShape& kernel) const override;
  Time GroupedGemmTime(std::span<const int64_t> tokens_per_expert, int64_t n, int64_t k, DataType dtype,
                       DataType weight_dtype) const override;
  std::string_view name() const override { return "roofline"; }

  const GpuSpec& gpu() const { return gpu_; }
  const RooflineParams& params() const { return params_; }

 private:
  // Seconds for the GEMM part (no overhead, no K latency): max(compute, memory).
  double GemmSeconds(int64_t m, int64_t n, int64_t k, int64_t batch, DataType dtype, double bytes) const;

  GpuSpec gpu_;
  RooflineParams params_;
  double tensor_scale_;  // SustainedTensorScale(gpu_)
};

}  // namespace wiresim
