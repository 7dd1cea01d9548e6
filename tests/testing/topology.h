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

// A [[template]] named "box": 2 GPUs and 2 NICs, GPU i and NIC i behind PCIe switch i; `cpu_joins_switches` puts
// the two switches under one CPU (each GPU then reaches both NICs), `nvlink_pair` joins the GPUs by NVLink.
inline std::string TwoGpuBoxTemplate(bool cpu_joins_switches, bool nvlink_pair) {
  std::string t = R"(
[[template]]
name = "box"
  [[template.node]]
  name = "gpu"
  kind = "gpu"
  count = 2
  [[template.node]]
  name = "nic"
  kind = "nic"
  count = 2
  [[template.node]]
  name = "sw"
  kind = "pcie_switch"
  count = 2
  [[template.node]]
  name = "cpu"
  kind = "cpu"
  [[template.link]]
  from = "gpu[*]"
  to = "sw[*]"
  map = "zip"
  preset = "pcie5x16"
  [[template.link]]
  from = "nic[*]"
  to = "sw[*]"
  map = "zip"
  preset = "pcie5x16"
)";
  if (cpu_joins_switches) t += "  [[template.link]]\n  from = \"sw[*]\"\n  to = \"cpu\"\n  preset = \"pcie5x16\"\n";
  if (nvlink_pair) t += "  [[template.link]]\n  from = \"gpu0\"\n  to = \"gpu1\"\n  preset = \"nvlink4\"\n";
  return t;
}

}  // namespace wiresim::testing
