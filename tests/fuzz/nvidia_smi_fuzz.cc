// Fuzz target: `nvidia-smi topo -m` text (sim/topology/import_nvidia_smi.cc), imported, written and loaded back.
#include "tests/fuzz/import_exercise.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return wiresim::fuzz::Run(data, size, "topo.txt", [](const wiresim::SourceFile& file) {
    wiresim::fuzz::ImportAndLoad(file, wiresim::ImportFormat::kNvidiaSmi);
  });
}
