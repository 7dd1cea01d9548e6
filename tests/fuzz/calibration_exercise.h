// What `wiresim calibrate import` and `calibrate fit` do with what they read: a profile written from nccl-tests
// logs must read back; a profile read must write, read back, and fit on a shipped topology.
#pragma once

#include <memory>

#include "sim/calibration/calibration_profile.h"
#include "sim/calibration/fitted_calibration.h"
#include "sim/calibration/nccl_tests_import.h"
#include "sim/calibration/nccl_tests_log.h"
#include "sim/topology/topology_file.h"
#include "tests/fuzz/fuzz_support.h"

namespace wiresim::fuzz {

// The shipped two-node DGX H100 (16 GPUs) that profiles are fitted on; built once.
inline const Topology& FitTopology() {
  static const std::unique_ptr<Topology> topo = [] {
    ShippedFileReader reader;
    Result<SourceFile> file = reader.Read("topologies/dgx-h100-2node.toml", "");
    if (!file.ok()) Fail(file.status().message());
    Result<Topology> t = LoadTopology(*file, reader);
    if (!t.ok()) Fail(t.status().message());
    return std::make_unique<Topology>(std::move(t).value());
  }();
  return *topo;
}

// Reads a profile and uses it as `calibrate fit` and `--calibration` do; `fit`: fits it too (the slow part).
inline void UseProfile(const SourceFile& file, bool fit) {
  Result<CalibrationProfile> profile = ParseCalibrationProfile(file);
  if (!profile.ok()) return CheckStatus(profile.status(), file);
  const SourceFile written{"written.json", WriteCalibrationProfile(*profile)};
  Result<CalibrationProfile> again = ParseCalibrationProfile(written);
  if (!again.ok()) Fail("the written profile does not read back: " + again.status().message());
  if (!profile->fitted_json.empty()) {
    Result<FittedCalibration> stored = FittedFromJson(profile->fitted_json, file.name);
    if (!stored.ok()) CheckStatus(stored.status(), file);
  }
  if (Result<GemmTable> table = GemmTableOf(*profile); table.ok()) {
    for (const MeasuredGemm& g : profile->gemm) (void)table->Lookup(g.m, g.n, g.k, g.dtype);
  }
  (void)MeasuredHbmBandwidth(*profile);
  // A fit costs a collective prediction per measurement: fuzzed profiles are kept to a size a run takes quickly.
  if (!fit || profile->collectives.size() > 64) return;
  Result<FittedCalibration> fitted = FitCalibration(*profile, FitTopology(), FitOptions{}, "fuzz");
  if (fitted.ok()) {
    Result<FittedCalibration> back = FittedFromJson(ToJson(*fitted), "fitted.json");
    if (!back.ok()) Fail("the fitted section does not read back: " + back.status().message());
  }
}

// Reads an nccl-tests log and imports it into a profile as `calibrate import` does; the profile must read back
// (fitting it is the calibration_profile target's work).
inline void ImportLog(const SourceFile& file) {
  Result<NcclTestsLog> log = ParseNcclTestsLog(file);
  if (!log.ok()) return CheckStatus(log.status(), file);
  NcclTestsImportOptions options;
  options.op = "all_reduce";
  options.ranks = 8;
  Result<CalibrationProfile> profile = ImportNcclTestsLogs({*log}, options);
  if (!profile.ok()) return CheckStatus(profile.status(), file);
  UseProfile(SourceFile{file.name + ".profile.json", WriteCalibrationProfile(*profile)}, /*fit=*/false);
}

}  // namespace wiresim::fuzz
