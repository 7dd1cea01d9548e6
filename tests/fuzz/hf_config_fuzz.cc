// Fuzz target: a HF config.json (sim/model/model_file.h), read as `--model config.json` is.
#include "tests/fuzz/model_exercise.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return wiresim::fuzz::Run(data, size, "config.json", wiresim::fuzz::LoadAndExerciseModel);
}
