// Test helpers: topologies written inline as TOML text, and the shipped ones read from the source tree.
//
//   Topology topo = TopologyFromText(R"(
//     [[node]] ...
//   )");
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <utility>

#include "sim/topology/topology_file.h"
#include "tests/testing/memory_reader.h"

namespace wiresim::testing {

// Parses and builds; a test topology that does not load fails the test, saying why.
inline Topology TopologyFromText(const std::string& text, MemoryReader reader = {}) {
  auto topo = LoadTopology(SourceFile{"test.toml", text}, reader);
  INFO(topo.status().message());
  REQUIRE(topo.ok());
  return std::move(topo).value();
}

// A shipped topology by name ("dgx-h100-2node"); its includes resolve beside it in topologies/.
inline Topology ShippedTopology(const std::string& name) {
  SourceTreeReader reader;
  auto topo = LoadTopology(ReadSourceFile("topologies/" + name + ".toml"), reader);
  INFO(topo.status().message());
  REQUIRE(topo.ok());
  return std::move(topo).value();
}

}  // namespace wiresim::testing
