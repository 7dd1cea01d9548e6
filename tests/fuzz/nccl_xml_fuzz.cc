// Fuzz target: NCCL topology XML (sim/topology/import_nccl_xml.cc), imported, written and loaded back.
#include "tests/fuzz/import_exercise.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return wiresim::fuzz::Run(data, size, "topo.xml", [](const wiresim::SourceFile& file) {
    wiresim::fuzz::ImportAndLoad(file, wiresim::ImportFormat::kNcclXml);
  });
}
