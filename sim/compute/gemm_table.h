// Measured GEMM times and the kernel-time model that uses them. A calibration profile (wiresim-calibrate on the
// user's GPUs) holds GEMM measurements; GemmTable indexes them by (n, k, dtype) and interpolates over m in log
// space, where GEMM time is close to piecewise linear (flat while bandwidth-bound, then proportional to m).
// TableKernelTimeModel times GEMMs from the table and everything else from a fallback model (a roofline):
//
//   WIRESIM_ASSIGN_OR_RETURN(GemmTable table, GemmTable::Build(measurements));
//   TableKernelTimeModel model(std::move(table), std::make_unique<RooflineModel>(*FindGpuSpec("h100")));
//   Time t = model.KernelTime(GemmKernel(48, 8192, 8192, DataType::kBFloat16, DataType::kBFloat16));
//
// A GEMM whose (n, k, dtype) was measured gets the measured time, interpolated between the measured m on either
// side; outside the measured range of m, and for shapes not measured, the fallback's time is scaled by the
// measured/fallback ratio of the nearest measured shape (nearest in log n, log k; m clamped into its range), so
// calibration corrects the roofline where it has evidence and leaves its shape dependence elsewhere.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "sim/compute/kernel_time_model.h"
#include "sim/core/status.h"

namespace wiresim {

struct GemmMeasurement {
  int64_t m = 0;
  int64_t n = 0;
  int64_t k = 0;
  DataType dtype = DataType::kBFloat16;
  Time time;
};

class GemmTable {
 public:
  // Indexes `measurements`. Repeated shapes are averaged (geometric mean). Fails on a dimension < 1 or a time <= 0,
  // naming the entry by its index.
  static Result<GemmTable> Build(const std::vector<GemmMeasurement>& measurements);

  // The measured time at (m, n, k, dtype): exact at a measured m, log-log interpolated between two. nullopt when
  // that (n, k, dtype) was not measured or m lies outside its measured range.
  std::optional<Time> Lookup(int64_t m, int64_t n, int64_t k, DataType dtype) const;
  // The same in seconds, unrounded.
  std::optional<double> LookupSeconds(int64_t m, int64_t n, int64_t k, DataType dtype) const;

  // The measured shape nearest to (n, k) for `dtype` (log distance), and m clamped into its measured range; the
  // interpolated time there. nullopt when nothing of that dtype was measured.
  struct Nearest {
    int64_t m = 0;
    int64_t n = 0;
    int64_t k = 0;
    Time time;
  };
  std::optional<Nearest> NearestMeasured(int64_t m, int64_t n, int64_t k, DataType dtype) const;

  size_t shape_count() const { return series_.size(); }
  size_t measurement_count() const { return measurements_; }

 private:
  struct Series {  // one (n, k, dtype): times over m, sorted by m
    int64_t n = 0;
    int64_t k = 0;
    DataType dtype = DataType::kBFloat16;
    std::vector<double> log_m;
    std::vector<double> log_seconds;
  };
  const Series* Find(int64_t n, int64_t k, DataType dtype) const;
  static double Interpolate(const Series& s, double log_m);

  std::vector<Series> series_;  // sorted by (dtype, n, k)
  size_t measurements_ = 0;
};

class TableKernelTimeModel : public KernelTimeModel {
 public:
  // REQUIRES: fallback != nullptr.
  TableKernelTimeModel(GemmTable table, std::unique_ptr<KernelTimeModel> fallback);

  Time KernelTime(const KernelShape& kernel) const override;
  double KernelSeconds(const KernelShape& kernel) const override;
  Time GroupedGemmTime(std::span<const int64_t> tokens_per_expert, int64_t n, int64_t k, DataType dtype,
                       DataType weight_dtype) const override;
  std::string_view name() const override { return "table"; }

  const GemmTable& table() const { return table_; }

 private:
  // measured / fallback at the nearest measured shape; 1 when the table has nothing for `dtype`.
  double Correction(int64_t m, int64_t n, int64_t k, DataType dtype, DataType weight_dtype) const;

  GemmTable table_;
  std::unique_ptr<KernelTimeModel> fallback_;
};

}  // namespace wiresim
