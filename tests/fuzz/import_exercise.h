// What `wiresim topo import` does with an imported machine: write it as a topology file, which must load back.
#pragma once

#include "sim/topology/importers.h"
#include "sim/topology/topology_file.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/fuzz/topology_exercise.h"

namespace wiresim::fuzz {

inline void ImportAndLoad(const SourceFile& file, ImportFormat format) {
  ImportOptions options;
  options.format = format;
  Result<ImportResult> imported = ImportTopology(file, options);
  if (!imported.ok()) return CheckStatus(imported.status(), file);
  Result<std::string> toml = WriteMachineFile(imported->spec, imported->Comment(), ClusterLayout{});
  if (!toml.ok()) return CheckStatus(toml.status(), file);
  ShippedFileReader reader;
  Result<Topology> topo = LoadTopology(SourceFile{"written.toml", *toml}, reader);
  if (!topo.ok()) Fail("the written topology does not load: " + topo.status().message());
  ExerciseTopology(*topo);
}

}  // namespace wiresim::fuzz
