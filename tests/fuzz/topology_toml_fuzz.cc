// Fuzz target: the topology file (sim/topology/topology_file.h), includes served from the built-in topologies.
#include "sim/topology/topology_file.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/fuzz/topology_exercise.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return wiresim::fuzz::Run(data, size, "fuzz.toml", [](const wiresim::SourceFile& file) {
    wiresim::fuzz::ShippedFileReader reader;
    wiresim::Result<wiresim::Topology> topo = wiresim::LoadTopology(file, reader);
    if (!topo.ok()) return wiresim::fuzz::CheckStatus(topo.status(), file);
    wiresim::fuzz::ExerciseTopology(*topo);
  });
}
