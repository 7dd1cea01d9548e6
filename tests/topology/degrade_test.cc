// What-if topologies: degraded links keep their place at a fraction of their rate, failed elements take their links
// with them, and routes are recomputed from what is left.
#include "sim/topology/degrade.h"

#include <catch2/catch.hpp>

#include "sim/topology/routing.h"
#include "tests/testing/topology.h"

namespace wiresim {
namespace {

NodeId Node(const Topology& topo, const char* name) {
  std::optional<NodeId> id = topo.FindNode(name);
  INFO(name);
  REQUIRE(id);
  return *id;
}

// The capacity of every directed link between two named nodes, summed.
double Capacity(const Topology& topo, const char* a, const char* b) {
  double total = 0;
  for (LinkId l : topo.out_links(Node(topo, a))) {
    if (topo.link(l).to == Node(topo, b)) total += topo.link(l).capacity_GBps;
  }
  return total;
}

// Whether any link of the route starts or ends at a node with this name.
bool Crosses(const Topology& topo, const Route& r, const std::string& name) {
  for (const RouteHop& h : r.hops) {
    if (topo.node(topo.link(h.link).from).spec.name == name || topo.node(topo.link(h.link).to).spec.name == name) {
      return true;
    }
  }
  return false;
}

TEST_CASE("Degrading a NIC to 0.5 halves every link touching it and nothing else") {
  const Topology topo = testing::ShippedTopology("dgx-h100-2node");
  TopologyChanges c;
  c.degrade.push_back({Node(topo, "node0/nic2"), kNoNode, 0.5});
  Result<Topology> what_if = ApplyTopologyChanges(topo, c);
  REQUIRE(what_if.ok());
  // NDR port 50 GB/s and its Gen5 x16 PCIe switch link 64 GB/s (topologies/dgx-h100*.toml), both halved.
  CHECK(Capacity(topo, "node0/nic2", "node0/pcie2") == 64.0);
  CHECK(Capacity(*what_if, "node0/nic2", "node0/pcie2") == 32.0);
  CHECK(Capacity(*what_if, "node0/pcie2", "node0/nic2") == 32.0);
  int touched = 0;
  for (LinkId l = 0; l < topo.link_count(); ++l) {
    const Link& before = topo.link(l);
    const Link& after = what_if->link(l);  // same nodes, same links: ids hold
    REQUIRE(before.from == after.from);
    const bool nic = topo.node(before.from).spec.name == "node0/nic2" || topo.node(before.to).spec.name == "node0/nic2";
    CHECK(after.capacity_GBps == (nic ? 0.5 * before.capacity_GBps : before.capacity_GBps));
    touched += nic ? 1 : 0;
  }
  CHECK(touched == 4);  // PCIe and InfiniBand, each direction
  // The rail-2 route between the nodes was bound by the 50 GB/s port; now by the halved port, 25 GB/s.
  Router healthy(topo), degraded(*what_if);
  CHECK(healthy.Find(topo.gpu(2), topo.gpu(10))->bandwidth_GBps == 50.0);
  CHECK(degraded.Find(what_if->gpu(2), what_if->gpu(10))->bandwidth_GBps == 25.0);
}

TEST_CASE("Degrading one named link leaves the element's other links alone") {
  const Topology topo = testing::ShippedTopology("dgx-h100");
  const NodeId gpu = Node(topo, "node/gpu1"), sw = Node(topo, "node/nvswitch2");
  REQUIRE(LinksBetween(topo, gpu, sw).size() == 1);
  CHECK(LinksBetween(topo, gpu, Node(topo, "node/gpu2")).empty());
  TopologyChanges c;
  c.degrade.push_back({gpu, sw, 0.25});
  Result<Topology> what_if = ApplyTopologyChanges(topo, c);
  REQUIRE(what_if.ok());
  // 4 NVLink4 links of 25 GB/s to NVSwitches 2 and 3, 5 to 0 and 1 (topologies/dgx-h100.toml).
  CHECK(Capacity(*what_if, "node/gpu1", "node/nvswitch2") == 25.0);
  CHECK(Capacity(*what_if, "node/gpu1", "node/nvswitch3") == 100.0);
  CHECK(Capacity(*what_if, "node/gpu1", "node/nvswitch0") == 125.0);
}

TEST_CASE("A failed NIC is gone: the GPU beside it reaches the other node through another NIC") {
  const Topology topo = testing::ShippedTopology("dgx-h100-2node");
  Router healthy(topo);
  const Route* before = healthy.Find(topo.gpu(2), topo.gpu(10));
  REQUIRE(before != nullptr);
  REQUIRE(Crosses(topo, *before, "node0/nic2"));
  TopologyChanges c;
  c.fail.push_back(Node(topo, "node0/nic2"));
  Result<Topology> what_if = ApplyTopologyChanges(topo, c);
  REQUIRE(what_if.ok());
  CHECK_FALSE(what_if->FindNode("node0/nic2"));
  CHECK(what_if->gpu_count() == 16);
  CHECK(what_if->hosts()[0].nics.size() == 7);
  Router router(*what_if);
  const Route* after = router.Find(what_if->gpu(2), what_if->gpu(10));
  REQUIRE(after != nullptr);
  CHECK_FALSE(Crosses(*what_if, *after, "node0/nic2"));
  // Out of its PCIe switch to the CPU socket and down to the other NICs of that socket (0, 1, 3).
  CHECK(Crosses(*what_if, *after, "node0/cpu0"));
  for (NodeId nic : what_if->nearest_nics(what_if->gpu(2))) {
    const std::string& name = what_if->node(nic).spec.name;
    CHECK((name == "node0/nic0" || name == "node0/nic1" || name == "node0/nic3"));
  }
}

TEST_CASE("A failed GPU keeps its index and loses its links, GPU numbering holds") {
  const Topology topo = testing::ShippedTopology("dgx-h100");
  TopologyChanges c;
  c.fail.push_back(topo.gpu(3));
  Result<Topology> what_if = ApplyTopologyChanges(topo, c);
  REQUIRE(what_if.ok());
  REQUIRE(what_if->gpu_count() == 8);
  CHECK(what_if->node(what_if->gpu(3)).spec.name == "node/gpu3");
  CHECK(what_if->out_links(what_if->gpu(3)).empty());
  Router router(*what_if);
  CHECK(router.Find(what_if->gpu(0), what_if->gpu(3)) == nullptr);
  CHECK(router.Find(what_if->gpu(0), what_if->gpu(4)) != nullptr);
  // Building it with every pair checked says which GPU is cut off.
  Result<Topology> strict = Topology::Build(what_if->ToSpec());
  REQUIRE_FALSE(strict.ok());
  CHECK_THAT(strict.status().message(), Catch::Contains("node/gpu3"));
}

}  // namespace
}  // namespace wiresim
