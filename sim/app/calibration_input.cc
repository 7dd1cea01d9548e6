#include "sim/app/calibration_input.h"

namespace wiresim::app {

Result<LoadedCalibration> LoadCalibration(AppContext& ctx, const std::string& path, const Topology* topo,
                                          const CollectiveParams& params, const AlgorithmFilter& filter,
                                          const NcclVersionRequest* nccl) {
  WIRESIM_ASSIGN_OR_RETURN(SourceFile file, ReadInput(ctx, path, InputKind::kOther));
  LoadedCalibration out;
  WIRESIM_ASSIGN_OR_RETURN(out.profile, ParseCalibrationProfile(file));
  CollectiveParams fit_params = params;
  if (nccl != nullptr) {
    WIRESIM_ASSIGN_OR_RETURN(out.nccl, ChooseNcclVersion(nccl->given, nccl->given_by, &out.profile));
    fit_params.SetNcclVersion(out.nccl->version);
  }
  if (topo == nullptr) {
    out.note = file.name + ": " + std::to_string(out.profile.gemm.size()) + " GEMMs, " +
               std::to_string(out.profile.memory.size()) + " copies";
    return out;
  }
  std::string refit_why;
  if (!out.profile.fitted_json.empty()) {
    WIRESIM_ASSIGN_OR_RETURN(FittedCalibration stored, FittedFromJson(out.profile.fitted_json, file.name));
    if (stored.topology == topo->name()) {
      // Corrections are relative to one release's model (its choices, latency and bytes terms): a fit against
      // another release than the run models, or one that does not say (it reads as no release), is made again.
      const Result<NcclVersion> release = ParseNcclVersion(stored.nccl_version);
      if (release.ok() && release->minor == fit_params.nccl_version.minor) {
        if (!stored.other_gpu) WIRESIM_RETURN_IF_ERROR(CheckCalibrationGpu(out.profile, *topo));
        out.note = file.name + ": fitted on " + stored.topology + ", " +
                   std::to_string(stored.collective.entries.size()) + " collective corrections";
        out.fitted = std::move(stored);
        return out;
      }
      refit_why = stored.nccl_version.empty() ? "; its stored fit does not say which NCCL release it was made against"
                                              : "; its stored fit was made against NCCL " + stored.nccl_version +
                                                    ", this run models " + fit_params.nccl_version.ToString();
    }
  }
  FitOptions options;
  options.params = fit_params;
  options.filter = filter;
  WIRESIM_ASSIGN_OR_RETURN(FittedCalibration now, FitCalibration(out.profile, *topo, options, WIRESIM_VERSION));
  out.note = file.name + ": fitted now on " + topo->name() + " (" + std::to_string(now.collective_measurements) +
             " collective measurements, " + std::to_string(now.collective.entries.size()) + " corrections" + refit_why +
             ")";
  out.fitted = std::move(now);
  return out;
}

}  // namespace wiresim::app

#include "sim/compute/gemm_table.h"

namespace wiresim::app {

std::unique_ptr<KernelTimeModel> KernelModelFor(const GpuSpec& gpu, RooflineParams params,
                                                const LoadedCalibration* calibration, std::string* note) {
  std::string said = "roofline";
  if (calibration != nullptr) {
    const auto& names = calibration->profile.provenance.gpu_names;
    const GpuSpec* measured = names.empty() ? nullptr : FindGpuSpecByDeviceName(names.front());
    if (measured == nullptr && !calibration->profile.gemm.empty()) {
      said = "roofline (the calibration does not say which GPU it measured: not applied)";
    } else if (measured != nullptr && measured->name != gpu.name) {
      said =
          "roofline (the calibration measured " + names.front() + ", not " + std::string(gpu.name) + ": not applied)";
    } else {
      if (auto hbm = MeasuredHbmBandwidth(calibration->profile)) {
        params.memory_efficiency = std::min(1.0, *hbm * 1e9 / gpu.memory_bandwidth);
        said = "roofline with the measured HBM bandwidth";
      }
      auto table = GemmTableOf(calibration->profile);
      if (table.ok()) {
        const size_t shapes = table->shape_count();
        if (note != nullptr) {
          *note = "measured GEMMs (" + std::to_string(shapes) + " shapes) over a " + said;
        }
        return std::make_unique<TableKernelTimeModel>(std::move(table).value(),
                                                      std::make_unique<RooflineModel>(gpu, params));
      }
    }
  }
  if (note != nullptr) *note = said;
  return std::make_unique<RooflineModel>(gpu, params);
}

}  // namespace wiresim::app
