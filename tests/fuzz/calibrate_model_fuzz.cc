// Fuzz target: a model's config as wiresim-calibrate reads it for the GEMM shapes to measure
// (calibrate/model_shapes.h): HF config.json, and the same bytes as a .toml with HF keys. A model that loads is
// split into its linear layers at every tensor-parallel degree that divides its heads; every layer must have
// non-negative sizes (UBSan reports any product that overflows).
#include <string>

#include "calibrate/model_shapes.h"
#include "tests/fuzz/calibrate_error.h"

namespace wiresim::fuzz {
namespace {

void ReadAs(const SourceFile& file) {
  ExpectCalibrateErrorOrValue(file, [&] {
    const calibrate::ModelShape m = calibrate::ModelShapeFromText(file.text, file.name);
    for (int tp : {1, 2, 4, 8, 64}) {
      if (m.heads % tp != 0) continue;
      for (const calibrate::LinearShape& l : calibrate::LinearLayers(m, tp)) {
        if (l.n < 0 || l.k < 0) Fail("a linear layer with a negative size: " + l.layer);
      }
    }
  });
}

void ReadModel(const SourceFile& file) {
  ReadAs(file);
  ReadAs(SourceFile{"config.toml", file.text});
}

}  // namespace
}  // namespace wiresim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return wiresim::fuzz::Run(data, size, "config.json", wiresim::fuzz::ReadModel);
}
