// Timing one GEMM through cuBLASLt, as a linear layer runs it: C[m x n] (bf16) = A[m x k] x B[k x n]^T, the TN
// layout PyTorch's linear layers use, inputs bf16, fp16 or fp8 (e4m3), fp32 accumulation. Several buffer sets are
// rotated so the working set exceeds the L2 cache and no repetition is served from it.
#pragma once

#include <string>

#include "calibrate/plan.h"
#include "calibrate/profile.h"

namespace wiresim::calibrate {

class GemmRunner {
 public:
  // Uses the current device. REQUIRES: a CUDA device.
  GemmRunner();
  ~GemmRunner();
  GemmRunner(const GemmRunner&) = delete;
  GemmRunner& operator=(const GemmRunner&) = delete;

  // Measures `job`. Returns false and sets `why` when the shape cannot run here (fp8 before sm_89, out of memory,
  // no cuBLASLt algorithm).
  bool Measure(const GemmJob& job, const Options& options, GemmEntry* out, std::string* why);

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace wiresim::calibrate
