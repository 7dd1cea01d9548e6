// What `wiresim calibrate fit` derives from a profile for one topology, and how the simulator applies a profile:
// the collective corrections (collective_correction.h), the measured HBM bandwidth, and the measured GEMMs as a
// table for the compute model. Stored in the profile's `fitted` section.
//
//   WIRESIM_ASSIGN_OR_RETURN(FittedCalibration f, FitCalibration(profile, topo, {}));
//   profile.fitted_json = ToJson(f);
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sim/calibration/calibration_profile.h"
#include "sim/calibration/collective_correction.h"
#include "sim/collective/collective_timing.h"
#include "sim/compute/gemm_table.h"
#include "sim/topology/topology.h"

namespace wiresim {

struct FittedCalibration {
  std::string wiresim_version;
  std::string topology;  // the topology the collective corrections were fitted on
  CollectiveCorrection collective;
  std::optional<double> hbm_GBps;  // measured HBM bandwidth (read + write) of the largest copies
  int gemm_measurements = 0;
  int collective_measurements = 0;
};

struct FitOptions {
  // GPUs of the topology that ran each measured group, for profiles that do not record them (nccl-tests imports):
  // by default the first `ranks / nodes` GPUs of each of the first `nodes` hosts.
  std::vector<int> gpus;
  // What the measured machine let NCCL choose (NCCL_ALGO / NCCL_PROTO), for points that do not record their choice.
  AlgorithmFilter filter;
  // The collective model the corrections are relative to: predictions should use the same.
  CollectiveParams params = CollectiveParams::Defaults();
};

// The measured sweeps of a profile (out-of-place rows, grouped by operation, type and GPUs) placed on `topo`.
Result<std::vector<MeasuredSweep>> SweepsOf(const CalibrationProfile& profile, const Topology& topo,
                                            const FitOptions& options);

// A fitted calibration as the executors of iterations see it (collective_timing.h): measured curves where the
// group and choice were measured, fitted corrections elsewhere. `filter` is what the run lets NCCL choose.
class FittedCollectiveCalibration : public CollectiveCalibration {
 public:
  FittedCollectiveCalibration(const CollectiveCorrection& correction, const AlgorithmFilter& filter)
      : correction_(correction), filter_(filter) {}
  std::optional<Time> Calibrated(const PreparedCollective& prepared, CollectiveChoice choice, double bytes,
                                 std::string* timed_by = nullptr) const override {
    CalibrationSource source = CalibrationSource::kNone;
    std::optional<Time> t = correction_.Calibrated(prepared, choice, bytes, filter_, &source);
    if (timed_by != nullptr) *timed_by = std::string(ToString(source));
    return t;
  }

 private:
  const CollectiveCorrection& correction_;
  AlgorithmFilter filter_;
};

// Fits everything the profile has measurements for. `version` is recorded in the result.
Result<FittedCalibration> FitCalibration(const CalibrationProfile& profile, const Topology& topo,
                                         const FitOptions& options, const std::string& version);

std::string ToJson(const FittedCalibration& fitted);
// Errors name the file and the field.
Result<FittedCalibration> FittedFromJson(const std::string& json, const std::string& file);

// The profile's GEMMs as a table; fails when it has none.
Result<GemmTable> GemmTableOf(const CalibrationProfile& profile);
// Median bandwidth of the device-to-device copies of at least 256 MiB (all copies when none is that large).
std::optional<double> MeasuredHbmBandwidth(const CalibrationProfile& profile);

}  // namespace wiresim
