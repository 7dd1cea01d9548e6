// Fuzz target: nccl-tests text output (sim/calibration/nccl_tests_log.h), imported into a profile and fitted.
#include "tests/fuzz/calibration_exercise.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return wiresim::fuzz::Run(data, size, "all_reduce_perf.txt", wiresim::fuzz::ImportLog);
}
