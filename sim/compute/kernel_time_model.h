// KernelTimeModel: how long a kernel runs on one GPU. The simulator asks it for every kernel of every iteration
// shape, so implementations are cheap (no allocation per call) and const. Two exist: RooflineModel (roofline.h),
// from datasheet peaks and fitted efficiencies, and TableKernelTimeModel (gemm_table.h), which interpolates
// measured GEMMs from a calibration profile and falls back to a roofline for everything else.
//
//   std::unique_ptr<KernelTimeModel> model = std::make_unique<RooflineModel>(*FindGpuSpec("h100"));
//   Time t = model->KernelTime(GemmKernel(1, 8192, 8192, DataType::kBFloat16, DataType::kBFloat16));
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "sim/compute/kernel.h"
#include "sim/core/time.h"

namespace wiresim {

class KernelTimeModel {
 public:
  virtual ~KernelTimeModel() = default;

  // The time of one kernel, launch overheads included. REQUIRES: `kernel` built by the constructors of kernel.h,
  // and Time::FitsSeconds(KernelSeconds(kernel)): the serving simulation's shapes are bounded by memory fit.
  virtual Time KernelTime(const KernelShape& kernel) const = 0;

  // The same time in seconds, before rounding to a Time and unbounded (infinite or past Time's range for a shape
  // no GPU holds). For a caller whose shapes come straight from the user (`compute gemm`) to refuse a time that
  // no simulation represents before asking KernelTime. Equals KernelTime(kernel).ToSeconds() within a picosecond
  // per rounding the model does.
  virtual double KernelSeconds(const KernelShape& kernel) const = 0;

  // One grouped GEMM over experts with uneven token counts (MoE routing as it happened): y_e[t_e, n] =
  // x_e[t_e, k] W_e[k, n] for each expert e with t_e = tokens_per_expert[e].
  virtual Time GroupedGemmTime(std::span<const int64_t> tokens_per_expert, int64_t n, int64_t k, DataType dtype,
                               DataType weight_dtype) const = 0;

  // "roofline", "table": for output.
  virtual std::string_view name() const = 0;
};

}  // namespace wiresim
