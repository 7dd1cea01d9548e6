// What `wiresim calibrate fit` derives from a profile for one topology, and how the simulator applies a profile:
// the collective corrections (collective_correction.h), the measured HBM bandwidth, and the measured GEMMs as a
// table for the compute model. Stored in the profile's `fitted` section.
//
//   WIRESIM_ASSIGN_OR_RETURN(FittedCalibration f, FitCalibration(profile, topo, {}));
//   profile.fitted_json = ToJson(f);
#pragma once

#include <optional>
#include <string>
#include <string_view>
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
  // The NCCL release of the model the corrections are relative to ("2.19.3"): its choices and its latency and bytes
  // terms. Empty in fits written before it was recorded.
  std::string nccl_version;
  CollectiveCorrection collective;
  std::optional<double> hbm_GBps;  // measured HBM bandwidth (read + write) of the largest copies
  int gemm_measurements = 0;
  int collective_measurements = 0;
  // Fitted although the profile measured another GPU model than the topology has (`calibrate fit --allow-other-gpu`).
  bool other_gpu = false;
  // What each measured sweep was fitted as (not stored: `calibrate fit` prints it).
  std::vector<SweepFit> sweeps;
};

struct FitOptions {
  // GPUs of the topology that ran each measured group, for profiles that do not record them (nccl-tests imports):
  // by default the first `ranks / nodes` GPUs of each of the first `nodes` hosts.
  std::vector<int> gpus;
  // What the measured machine let NCCL choose (NCCL_ALGO / NCCL_PROTO), for points that do not record their choice.
  AlgorithmFilter filter;
  // The collective model the corrections are relative to: predictions should use the same.
  CollectiveParams params = CollectiveParams::Defaults();
  // Fit a profile measured on another GPU model than the topology's (refused otherwise: CheckCalibrationGpu).
  bool allow_other_gpu = false;
};

// OK when the profile measured the GPU model `topo` has, or does not say which GPU it measured, or names one wiresim
// does not know, or has no collectives (its GEMMs and copies apply only on their own GPU model in any case). Otherwise
// an error naming both: a profile's curves and corrections carry the measured GPU's links and kernels (an H200
// all-reduce curve on a PCIe L40S box would predict NVLink speeds).
Status CheckCalibrationGpu(const CalibrationProfile& profile, const Topology& topo);

// The measured sweeps of a profile placed on `topo`: its rows grouped by operation, type, GPUs, source file and the
// NCCL_ALGO / NCCL_PROTO they ran under; the out-of-place rows, or the in-place ones of a group that has no
// out-of-place rows (a trace replay, a log trimmed to one group). Errors: an unknown operation, GPUs `topo` lacks, an
// NCCL_ALGO / NCCL_PROTO that cannot be read.
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

// Fits everything the profile has measurements for. `version` is recorded in the result. Refuses a profile of another
// GPU model (CheckCalibrationGpu) unless options.allow_other_gpu.
Result<FittedCalibration> FitCalibration(const CalibrationProfile& profile, const Topology& topo,
                                         const FitOptions& options, const std::string& version);

std::string ToJson(const FittedCalibration& fitted);
// Errors name the file and the field.
Result<FittedCalibration> FittedFromJson(const std::string& json, const std::string& file);

// The profile's GEMMs as a table; fails when it has none.
Result<GemmTable> GemmTableOf(const CalibrationProfile& profile);
// Median bandwidth of the device-to-device copies of at least 256 MiB (all copies when none is that large).
std::optional<double> MeasuredHbmBandwidth(const CalibrationProfile& profile);

// The NCCL release a run models, and one line saying where it came from.
struct NcclVersionChoice {
  NcclVersion version;
  std::string note;  // "NCCL 2.21.5 (the calibration profile's)", with a mismatch stated
};
// `given`: the release a flag or a scenario key names, empty when none; `given_by` names it for messages
// ("--nccl-version"). `profile` may be null. The given release wins; else the release the profile's provenance
// records, when it is one wiresim models (2.18 to 2.30); else the newest. A given release whose minor version
// differs from the profile's is stated in the note, as is a profile release wiresim does not model. An unreadable
// given release is an error naming `given_by`.
Result<NcclVersionChoice> ChooseNcclVersion(std::string_view given, std::string_view given_by,
                                            const CalibrationProfile* profile);

}  // namespace wiresim
