// Fabric generators: switch counts and routes from the parameters.
#include <catch2/catch.hpp>

#include "sim/topology/path_matrix.h"
#include "sim/topology/topology_file.h"
#include "tests/testing/memory_reader.h"
#include "tests/testing/topology.h"

namespace wiresim {
namespace {

// Hosts with 2 GPUs and 2 NICs (GPU i behind NIC i) on a fabric given by `fabric`.
Topology Cluster(int hosts, const std::string& fabric) {
  testing::MemoryReader reader;
  const std::string toml = testing::TwoGpuBoxTemplate(true, false) + R"(
[[host]]
template = "box"
name = "h"
count = )" + std::to_string(hosts) +
                           "\n" + fabric;
  auto topo = LoadTopology(SourceFile{"c.toml", toml}, reader);
  INFO(topo.status().message());
  REQUIRE(topo.ok());
  return std::move(topo).value();
}

int CountSwitches(const Topology& t, const std::string& part) {
  int n = 0;
  for (NodeId i = 0; i < t.node_count(); ++i)
    if (t.node(i).spec.kind == NodeKind::kSwitch && t.node(i).spec.name.find(part) != std::string::npos) ++n;
  return n;
}

TEST_CASE("Rail-optimised: one leaf per rail per group of hosts, spines sized by uplinks") {
  // 6 hosts, 2 rails, 4 host ports per leaf: each rail needs ceil(6/4) = 2 leaves (4 and 2 hosts); uplinks
  // ceil(4/1) + ceil(2/1) = 6 per rail, 12 in all; radix 8 gives ceil(12/8) = 2 spines.
  Topology t = Cluster(6, R"(
[[fabric]]
kind = "rail_optimized"
name = "ib"
preset = "ndr"
radix = 8
leaf_down_ports = 4
)");
  CHECK(CountSwitches(t, "leaf") == 4);
  CHECK(CountSwitches(t, "spine") == 2);
  CHECK(t.rail(t.gpu(0)) == 0);
  CHECK(t.rail(t.gpu(1)) == 1);
  CHECK(t.rail(t.gpu(11)) == 1);  // h5/gpu1
  const PathMatrix m = ComputePathMatrix(t, std::vector<NodeId>(t.gpus().begin(), t.gpus().end()));
  // h0/gpu0 -> h1/gpu0: same rail, same leaf: gpu-sw-nic-leaf-nic-sw-gpu, 6 hops, no spine.
  CHECK(m.at(0, 2).hops == 6);
  // h0/gpu0 -> h5/gpu0: same rail, other leaf: through a spine, 8 hops, 2 equal paths (2 spines).
  CHECK(m.at(0, 10).hops == 8);
  // Every cross-host route is paced by the 50 GB/s NIC port.
  CHECK(m.at(0, 10).bandwidth_GBps == Approx(50.0));
}

TEST_CASE("Oversubscription cuts uplinks, which a single route's bandwidth may not show") {
  // 4 hosts, 2 rails, 4 ports per leaf: 2 leaves (one per rail); 2:1 leaves have ceil(4/2) = 2 uplinks each, on
  // ceil(4/8) = 1 spine: 2 links of 50 GB/s per leaf-spine pair = 100 GB/s >= one NIC port, so one transfer still
  // runs at 50; contention shows only when several transfers cross (the network models' job).
  Topology t = Cluster(4, R"(
[[fabric]]
kind = "rail_optimized"
preset = "ndr"
radix = 8
leaf_down_ports = 4
oversubscription = 2
)");
  CHECK(CountSwitches(t, "spine") == 1);
  for (NodeId i = 0; i < t.node_count(); ++i) {
    if (t.node(i).spec.name.find("spine") == std::string::npos) continue;
    for (LinkId l : t.out_links(i)) CHECK(t.link(l).count == 2);
  }
}

TEST_CASE("Fat tree fills leaves in host order, single switch takes every NIC") {
  Topology ft = Cluster(3, R"(
[[fabric]]
kind = "fat_tree"
preset = "ndr"
radix = 8
leaf_down_ports = 4
)");
  // 6 NICs, 4 per leaf: 2 leaves; uplinks 4 + 2 = 6 on ceil(6/8) = 1 spine.
  CHECK(CountSwitches(ft, "leaf") == 2);
  CHECK(CountSwitches(ft, "spine") == 1);
  CHECK(ft.rail(ft.gpu(0)) == -1);  // no rails in a fat tree
  Topology one = Cluster(3, "[[fabric]]\nkind = \"single_switch\"\npreset = \"roce400\"\n");
  CHECK(CountSwitches(one, "switch") == 1);
}

TEST_CASE("Bad fabrics are refused") {
  testing::MemoryReader reader;
  auto bad = LoadTopology(SourceFile{"f.toml", R"([[node]]
name = "gpu"
kind = "gpu"
[[fabric]]
kind = "torus"
)"},
                          reader);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Matchers::Contains("f.toml:5: fabric.kind: unknown fabric kind 'torus'"));
}

}  // namespace
}  // namespace wiresim
