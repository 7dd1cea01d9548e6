// What the fuzz targets of wiresim-calibrate's readers (calibrate/) share. Those readers end a command by throwing
// CalibrateError, which main() prints before exiting with code 2; so for them a CalibrateError naming the file is
// the refusal that a failed Status is for the simulator's readers, and any other exception is a finding.
#pragma once

#include <string>

#include "calibrate/profile.h"
#include "tests/fuzz/fuzz_support.h"

namespace wiresim::fuzz {

// Runs `body` on the input; a CalibrateError must name the file.
template <typename Body>
void ExpectCalibrateErrorOrValue(const SourceFile& file, Body&& body) {
  try {
    body();
  } catch (const calibrate::CalibrateError& e) {
    CheckStatus(InvalidArgument(e.what()), file);
  }
}

}  // namespace wiresim::fuzz
