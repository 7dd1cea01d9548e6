// `wiresim calibrate import` (nccl-tests logs into a calibration profile) and `wiresim calibrate fit` (the
// corrections that make the models match a profile, for one topology).
#include <cmath>
#include <iomanip>
#include <map>
#include <ostream>

#include <nlohmann/json.hpp>

#include "sim/app/calibration_input.h"
#include "sim/app/cli.h"
#include "sim/app/collective_options.h"
#include "sim/app/gpu_selection.h"
#include "sim/app/number_format.h"
#include "sim/app/options.h"
#include "sim/app/topology_input.h"
#include "sim/app/verbs.h"
#include "sim/calibration/nccl_tests_import.h"
#include "sim/topology/topology_file.h"

namespace wiresim::app {
namespace po = boost::program_options;

namespace {

// Writes `text` to `path`, or to ctx.out when `path` is empty or "-".
int Emit(AppContext& ctx, const std::string& verb, const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    ctx.out << text;
    return kExitOk;
  }
  if (Status s = WriteFileAtomically(path, text); !s.ok()) return ReportError(ctx, verb, s);
  return kExitOk;
}

}  // namespace

int CalibrateImport(const Args& args, AppContext& ctx) {
  const std::string verb = "calibrate import";
  po::options_description options("options");
  std::vector<std::string> logs;
  std::string output;
  NcclTestsImportOptions opts;
  options.add_options()("log", po::value(&logs)->composing(), "nccl-tests output (text or -J JSON); several allowed")(
      "output,o", po::value(&output), "the profile to write (default: standard output)")(
      "op", po::value(&opts.op), "operation of logs that do not name their test: all_reduce, all_gather, ...")(
      "ranks", po::value(&opts.ranks), "rank count of logs that do not list their devices")(
      "nodes", po::value(&opts.nodes), "machines the logs ran on (default: the distinct hosts they list)");
  po::positional_options_description positional;
  positional.add("log", -1);
  po::variables_map vm;
  if (auto code = ParseOptions(args, ctx, verb, "LOG... [-o profile.json] [--op OP] [--ranks N] [--nodes N]",
                               "wiresim calibrate import all_reduce_perf.txt all_gather_perf.json -o profile.json",
                               options, positional, vm)) {
    return *code;
  }
  if (logs.empty()) return ReportError(ctx, verb, InvalidArgument("give at least one nccl-tests log"));
  std::vector<NcclTestsLog> parsed;
  std::map<std::string, std::string> first_with_text;  // a log's text -> the first path that had it
  for (const std::string& path : logs) {
    auto file = ReadInput(ctx, path, InputKind::kOther);
    if (!file.ok()) return ReportError(ctx, verb, file.status());
    // The same log given twice would count every measurement twice in the fit: read once, and say so.
    if (auto [it, fresh] = first_with_text.try_emplace(file->text, file->name); !fresh) {
      ctx.err << "wiresim " << verb << ": " << file->name << " is the same log as " << it->second
              << " (identical text): read once\n";
      continue;
    }
    auto log = ParseNcclTestsLog(*file);
    if (!log.ok()) return ReportError(ctx, verb, log.status());
    parsed.push_back(std::move(log).value());
  }
  std::vector<std::string> notes;
  auto profile = ImportNcclTestsLogs(parsed, opts, &notes);
  if (!profile.ok()) return ReportError(ctx, verb, profile.status());
  for (const std::string& note : notes) ctx.err << "wiresim " << verb << ": " << note << "\n";
  std::string command = "wiresim calibrate import";
  for (const std::string& a : args) command += " " + a;
  profile->provenance.command = command;
  if (!output.empty()) {
    ctx.err << "wiresim " << verb << ": " << profile->collectives.size() << " measurements from " << parsed.size()
            << " log" << (parsed.size() == 1 ? "" : "s") << " -> " << output << "\n";
  }
  return Emit(ctx, verb, output, WriteCalibrationProfile(*profile));
}

int CalibrateFit(const Args& args, AppContext& ctx) {
  const std::string verb = "calibrate fit";
  po::options_description options("options");
  std::string profile_arg, topology_arg, gpus_arg, output;
  options.add_options()("profile", po::value(&profile_arg)->required(), "the calibration profile to fit")(
      "topology,t", po::value(&topology_arg)->default_value("dgx-h100"), "the topology it was measured on")(
      "gpus,g", po::value(&gpus_arg), "GPUs of the topology that ran groups the profile does not place")(
      "output,o", po::value(&output), "write the profile with its fitted section here")(
      "allow-other-gpu", "fit a profile measured on another GPU model than the topology's (refused otherwise)")(
      "json", "print the fitted section as JSON");
  // The model the corrections are relative to; --algo/--proto: what the measured machine let NCCL choose.
  CollectiveModelOptions model_options;
  model_options.Add(options);
  po::positional_options_description positional;
  positional.add("profile", 1);
  po::variables_map vm;
  if (auto code = ParseOptions(args, ctx, verb, "PROFILE --topology T [-o fitted.json]",
                               "wiresim calibrate fit profile.json --topology dgx-h100-2node -o fitted.json", options,
                               positional, vm)) {
    return *code;
  }
  auto topo_file = ReadInput(ctx, topology_arg, InputKind::kTopology);
  if (!topo_file.ok()) return ReportError(ctx, verb, topo_file.status());
  auto topo = LoadTopologyForVerb(*topo_file, ctx.reader);
  if (!topo.ok()) return ReportError(ctx, verb, topo.status());
  auto file = ReadInput(ctx, profile_arg, InputKind::kOther);
  if (!file.ok()) return ReportError(ctx, verb, file.status());
  auto profile = ParseCalibrationProfile(*file);
  if (!profile.ok()) return ReportError(ctx, verb, profile.status());
  FitOptions fit_options;
  if (vm.count("gpus")) {
    auto gpus = ParseGpuSelection(gpus_arg, *topo);
    if (!gpus.ok()) return ReportError(ctx, verb, gpus.status());
    fit_options.gpus = *gpus;
  }
  auto filter = model_options.Filter(vm);
  if (!filter.ok()) return ReportError(ctx, verb, filter.status());
  fit_options.filter = *filter;
  auto params = model_options.Params(vm);
  if (!params.ok()) return ReportError(ctx, verb, params.status());
  if (params->ranks_per_process != 1) {
    // Each measurement carries its own layout (the log's nThread x nGpus); the profile describes ranks apart.
    return ReportError(ctx, verb,
                       InvalidArgument("--ranks-per-process: a fitted profile describes one process per GPU, as "
                                       "serving runs NCCL; each measurement's own layout comes from its log "
                                       "(ranks_per_process in the profile)"));
  }
  fit_options.params = *params;
  // The release the corrections are made against, as every run chooses it: --nccl-version, else the profile's.
  auto release = ChooseNcclVersion(vm.count("nccl-version") ? vm["nccl-version"].as<std::string>() : "",
                                   "--nccl-version", &*profile);
  if (!release.ok()) return ReportError(ctx, verb, release.status());
  fit_options.params.SetNcclVersion(release->version);
  fit_options.allow_other_gpu = vm.count("allow-other-gpu") > 0;
  auto fitted = FitCalibration(*profile, *topo, fit_options, WIRESIM_VERSION);
  if (!fitted.ok()) return ReportError(ctx, verb, fitted.status());
  // Measured curves are the points themselves; a fit is a correction, a GEMM table or an HBM figure.
  if (fitted->collective.entries.empty() && fitted->gemm_measurements == 0 && !fitted->hbm_GBps) {
    return ReportError(
        ctx, verb,
        InvalidArgument(file->name + ": nothing was fitted: its " + std::to_string(fitted->collective_measurements) +
                        " collective measurements give no operation, link, algorithm and protocol the 3 sizes a "
                        "correction needs, and it has no GEMMs or memory copies (measure more sizes: nccl-tests -b, "
                        "-e, -f); no file written"));
  }
  profile->fitted_json = ToJson(*fitted);
  if (vm.count("json")) {
    for (const SweepFit& s : fitted->sweeps) ctx.err << "wiresim " << verb << ": fitted " << s.ToString() << "\n";
    ctx.out << nlohmann::json::parse(profile->fitted_json).dump(1) << "\n";
  } else {
    std::ostream& out = ctx.out;
    out << "# calibration fit of " << file->name << " on " << topo->name() << ": " << fitted->collective_measurements
        << " collective measurements, " << fitted->gemm_measurements << " GEMMs; " << release->note << "\n";
    if (fitted->other_gpu) {
      out << "# --allow-other-gpu: " << file->name << " measured " << profile->provenance.gpu_names.front()
          << ", fitted on " << topo->name() << "'s GPUs anyway\n";
    }
    for (const SweepFit& s : fitted->sweeps) out << "# fitted " << s.ToString() << "\n";
    out << "# t = launch + a x latency + w(size) x bytes term, against the model's own terms (docs/calibration.md)\n";
    out << "#\n#" << std::setw(15) << "op" << std::setw(9) << "link" << std::setw(10) << "algo" << std::setw(8)
        << "proto" << std::setw(8) << "points" << std::setw(11) << "launch us" << std::setw(8) << "a" << std::setw(10)
        << "w small" << std::setw(9) << "w large" << std::setw(11) << "|err| med"
        << "\n";
    for (const CorrectionEntry& e : fitted->collective.entries) {
      out << " " << std::setw(15) << (e.op ? std::string(ToString(*e.op)) : "(any)") << std::setw(9) << ToString(e.link)
          << std::setw(10) << ToString(e.choice.algorithm) << std::setw(8) << ToString(e.choice.protocol)
          << std::setw(8) << e.points << std::setw(11) << Fixed(e.launch_us, 2) << std::setw(8)
          << Fixed(e.latency_scale, 2) << std::setw(10)
          << Fixed(e.bandwidth_scale.empty() ? 1 : e.bandwidth_scale.front(), 2) << std::setw(9)
          << Fixed(e.bandwidth_scale.empty() ? 1 : e.bandwidth_scale.back(), 2) << std::setw(10)
          << Fixed(e.median_abs_error * 100, 1) << "%\n";
    }
    if (fitted->hbm_GBps) out << "# HBM (device-to-device copies): " << Fixed(*fitted->hbm_GBps, 1) << " GB/s\n";
    if (fitted->gemm_measurements > 0) {
      out << "# GEMMs: " << fitted->gemm_measurements
          << " measured; `--calibration` times those shapes from them (docs/calibration.md)\n";
    }
  }
  if (!output.empty()) {
    if (int code = Emit(ctx, verb, output, WriteCalibrationProfile(*profile)); code != kExitOk) return code;
    ctx.err << "wiresim " << verb << ": wrote " << output << "\n";
  }
  return kExitOk;
}

}  // namespace wiresim::app
