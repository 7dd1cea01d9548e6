// Fuzz target: a calibration profile (sim/calibration/calibration_profile.h), written back, its fitted section read
// (fitted_calibration.h) and fitted on a shipped topology.
#include "tests/fuzz/calibration_exercise.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return wiresim::fuzz::Run(data, size, "profile.json",
                            [](const wiresim::SourceFile& file) { wiresim::fuzz::UseProfile(file, /*fit=*/true); });
}
