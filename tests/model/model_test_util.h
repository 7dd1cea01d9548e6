// Loading the shipped model specs and the HF-format fixtures from the source tree, for the model tests.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "sim/model/model_file.h"

namespace wiresim::testing {

inline SourceFile ReadSourceFile(const std::string& relative_path) {
  const std::string path = std::string(WIRESIM_SOURCE_DIR) + "/" + relative_path;
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return SourceFile{relative_path, text.str()};
}

// A shipped spec by name ("llama-3.1-70b"). REQUIRES: it loads (a test failure says why otherwise).
inline ModelSpec ShippedModel(const std::string& name) {
  Result<ModelSpec> m = LoadModel(ReadSourceFile("workloads/models/" + name + ".toml"));
  WIRESIM_CHECK(m.ok()) << m.status().ToString();
  return std::move(m).value();
}

}  // namespace wiresim::testing
