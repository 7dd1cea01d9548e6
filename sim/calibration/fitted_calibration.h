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
