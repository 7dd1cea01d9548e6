// `--calibration FILE` for every verb that takes it: reads the profile and, for verbs with a topology, the fitted
// corrections for it (those stored in the file when they were fitted on the same topology; otherwise fitted now).
//
//   WIRESIM_ASSIGN_OR_RETURN(LoadedCalibration c, LoadCalibration(ctx, "h100.json", &topo));
#pragma once

#include <optional>
#include <string>

#include "sim/app/app_context.h"
#include "sim/calibration/calibration_profile.h"
#include "sim/calibration/fitted_calibration.h"

namespace wiresim::app {

struct LoadedCalibration {
  CalibrationProfile profile;
  std::optional<FittedCalibration> fitted;  // set when `topo` was given
  std::string note;                         // one line: what was read or fitted, for the output header
  std::optional<NcclVersionChoice> nccl;    // set when a run asked which NCCL release to model
};

// A run's NCCL release as given (empty: not given) and by what ("--nccl-version"), for LoadCalibration to settle
// against the profile's (ChooseNcclVersion).
struct NcclVersionRequest {
  std::string given, given_by;
};

// `params` and `filter` are the collective model's options for the fit made here when the file holds none for `topo`.
// With `nccl`, the release is chosen (the given one, else the profile's, else the newest: `LoadedCalibration::nccl`)
// and the fit uses it.
Result<LoadedCalibration> LoadCalibration(AppContext& ctx, const std::string& path, const Topology* topo,
                                          const CollectiveParams& params = CollectiveParams::Defaults(),
                                          const AlgorithmFilter& filter = {}, const NcclVersionRequest* nccl = nullptr);

}  // namespace wiresim::app

#include <memory>

#include "sim/compute/gpu_spec.h"
#include "sim/compute/kernel_time_model.h"
#include "sim/compute/roofline.h"

namespace wiresim::app {

// The kernel-time model for `gpu`: the roofline with `params`, and, when `calibration` was measured on the same GPU
// model, its measured GEMMs (interpolated, and correcting the roofline for shapes not measured) and its measured
// HBM bandwidth. `note` (may be null) receives one line saying what applied.
std::unique_ptr<KernelTimeModel> KernelModelFor(const GpuSpec& gpu, RooflineParams params,
                                                const LoadedCalibration* calibration, std::string* note);

}  // namespace wiresim::app
