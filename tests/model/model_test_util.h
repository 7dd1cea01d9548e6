// Loading the shipped model specs and the HF-format fixtures from the source tree, for the model tests.
#pragma once

#include <string>

#include "sim/model/model_file.h"
#include "tests/testing/memory_reader.h"

namespace wiresim::testing {

// A shipped spec by name ("llama-3.1-70b"). REQUIRES: it loads (a test failure says why otherwise).
inline ModelSpec ShippedModel(const std::string& name) {
  Result<ModelSpec> m = LoadModel(ReadSourceFile("workloads/models/" + name + ".toml"));
  WIRESIM_CHECK(m.ok()) << m.status().ToString();
  return std::move(m).value();
}

}  // namespace wiresim::testing
