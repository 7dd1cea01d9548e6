// Fuzz target: a model TOML file (sim/model/model_file.h), read as `--model FILE.toml` is.
#include "tests/fuzz/model_exercise.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return wiresim::fuzz::Run(data, size, "model.toml", wiresim::fuzz::LoadAndExerciseModel);
}
