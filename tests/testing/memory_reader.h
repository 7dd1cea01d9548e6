// Test helpers: a SourceReader over strings (files given inline, ninja-style), and one over the source tree.
#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>

#include "sim/core/source.h"

namespace wiresim::testing {

// Serves files from a map of name -> text; includes resolve by name alone.
class MemoryReader : public SourceReader {
 public:
  MemoryReader& Add(const std::string& name, const std::string& text) {
    files_[name] = text;
    return *this;
  }
  Result<SourceFile> Read(const std::string& path, const std::string& /*relative_to*/) override {
    auto it = files_.find(path);
    if (it == files_.end()) return NotFound(path + ": no such file");
    return SourceFile{path, it->second};
  }

 private:
  std::map<std::string, std::string> files_;
};

// Reads files of the source tree (paths relative to it), resolving includes beside the including file.
class SourceTreeReader : public SourceReader {
 public:
  Result<SourceFile> Read(const std::string& path, const std::string& relative_to) override {
    std::string rel = path;
    if (!relative_to.empty()) {
      const size_t slash = relative_to.rfind('/');
      if (slash != std::string::npos) rel = relative_to.substr(0, slash + 1) + path;
    }
    std::ifstream in(std::string(WIRESIM_SOURCE_DIR) + "/" + rel);
    if (!in) return NotFound(rel + ": no such file");
    std::ostringstream text;
    text << in.rdbuf();
    return SourceFile{rel, text.str()};
  }
};

// A file of the source tree ("tests/data/hf/llama-style.config.json"); a fixture that is missing fails the test.
inline SourceFile ReadSourceFile(const std::string& relative_path) {
  auto file = SourceTreeReader().Read(relative_path, "");
  INFO(file.status().message());
  REQUIRE(file.ok());
  return std::move(file).value();
}

}  // namespace wiresim::testing
