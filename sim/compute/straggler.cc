#include "sim/compute/straggler.h"

#include <cmath>

#include "sim/core/check.h"

namespace wiresim {

StragglerKernelTimeModel::StragglerKernelTimeModel(const KernelTimeModel& healthy, double factor)
    : healthy_(healthy), factor_(factor) {
  WIRESIM_CHECK(std::isfinite(factor) && factor >= 1);
}

Time StragglerKernelTimeModel::Slow(Time t) const {
  return Time::Picoseconds(static_cast<int64_t>(std::ceil(static_cast<double>(t.picoseconds()) * factor_)));
}

Time StragglerKernelTimeModel::KernelTime(const KernelShape& kernel) const { return Slow(healthy_.KernelTime(kernel)); }

double StragglerKernelTimeModel::KernelSeconds(const KernelShape& kernel) const {
  return healthy_.KernelSeconds(kernel) * factor_;
}

Time StragglerKernelTimeModel::GroupedGemmTime(std::span<const int64_t> tokens_per_expert, int64_t n, int64_t k,
                                               DataType dtype, DataType weight_dtype) const {
  return Slow(healthy_.GroupedGemmTime(tokens_per_expert, n, k, dtype, weight_dtype));
}

}  // namespace wiresim
