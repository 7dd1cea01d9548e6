// Test support: topologies written inline as TOML text, and a SourceReader that serves named strings, so tests
// need no file system.
//
//   Topology topo = TopologyFromText(R"(
//     [[node]] ...
//   )");
#pragma once

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>

#include "sim/core/check.h"
#include "sim/core/source.h"
#include "sim/topology/topology_file.h"

namespace wiresim::testing {

class MemoryReader : public SourceReader {
 public:
  std::map<std::string, std::string> files;

  Result<SourceFile> Read(const std::string& path, const std::string& /*relative_to*/) override {
    auto it = files.find(path);
    if (it == files.end()) return NotFound("no file '" + path + "'");
    return SourceFile{path, it->second};
  }
};

// Parses and builds; a test topology that does not load is a bug in the test.
inline Topology TopologyFromText(const std::string& text, MemoryReader reader = {}) {
  auto topo = LoadTopology(SourceFile{"test.toml", text}, reader);
  WIRESIM_CHECK(topo.ok()) << topo.status().ToString();
  return std::move(topo).value();
}

// Serves the files of one directory of the source tree (the shipped topologies, test data).
class DirectoryReader : public SourceReader {
 public:
  explicit DirectoryReader(std::string dir) : dir_(std::move(dir)) {}
  Result<SourceFile> Read(const std::string& path, const std::string& /*relative_to*/) override {
    std::ifstream in(dir_ + "/" + path);
    if (!in) return NotFound("no file '" + dir_ + "/" + path + "'");
    std::ostringstream text;
    text << in.rdbuf();
    return SourceFile{path, text.str()};
  }

 private:
  std::string dir_;
};

#ifdef WIRESIM_SOURCE_DIR
// A shipped topology by name ("dgx-h100-2node"), read from the source tree.
inline Topology ShippedTopology(const std::string& name) {
  DirectoryReader reader(WIRESIM_SOURCE_DIR "/topologies");
  auto file = reader.Read(name + ".toml", "");
  WIRESIM_CHECK(file.ok()) << file.status().ToString();
  auto topo = LoadTopology(*file, reader);
  WIRESIM_CHECK(topo.ok()) << topo.status().ToString();
  return std::move(topo).value();
}
#endif

}  // namespace wiresim::testing
