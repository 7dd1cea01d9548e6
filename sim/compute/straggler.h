// StragglerKernelTimeModel: one GPU that runs every kernel `factor` times as long as its peers (thermal or power
// throttling, a bad HBM stack, a noisy neighbour). It wraps the model that times the healthy GPU.
//
//   StragglerKernelTimeModel slow(healthy, 1.3);
//   slow.KernelTime(k);   // healthy.KernelTime(k) * 1.3, rounded up to the next picosecond
#pragma once

#include "sim/compute/kernel_time_model.h"

namespace wiresim {

class StragglerKernelTimeModel : public KernelTimeModel {
 public:
  // REQUIRES: factor >= 1 and finite. `healthy` outlives this.
  StragglerKernelTimeModel(const KernelTimeModel& healthy, double factor);

  Time KernelTime(const KernelShape& kernel) const override;
  double KernelSeconds(const KernelShape& kernel) const override;
  Time GroupedGemmTime(std::span<const int64_t> tokens_per_expert, int64_t n, int64_t k, DataType dtype,
                       DataType weight_dtype) const override;
  std::string_view name() const override { return healthy_.name(); }

  double factor() const { return factor_; }

 private:
  Time Slow(Time t) const;

  const KernelTimeModel& healthy_;
  double factor_;
};

}  // namespace wiresim
