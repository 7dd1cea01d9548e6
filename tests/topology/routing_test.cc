// Routes on small hand-built topologies whose answers follow from the link figures alone.
#include "sim/topology/routing.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "sim/topology/path_matrix.h"
#include "sim/topology/topology_file.h"
#include "tests/testing/topology.h"

namespace wiresim {
namespace {

using testing::TopologyFromText;

NodeId Id(const Topology& t, const std::string& name) {
  auto id = t.FindNode(name);
  REQUIRE(id.has_value());
  return *id;
}

TEST_CASE("A route's bandwidth is its slowest link and its latency the sum of its links") {
  // gpu0 -(PCIe 32 GB/s, 500 ns)- sw -(PCIe 16 GB/s, 200 ns)- gpu1
  Topology t = TopologyFromText(R"(
[[node]]
name = "gpu"
kind = "gpu"
count = 2
[[node]]
name = "sw"
kind = "pcie_switch"
[[link]]
from = "gpu0"
to = "sw"
kind = "pcie"
bandwidth_GBps = 32
latency_ns = 500
[[link]]
from = "gpu1"
to = "sw"
kind = "pcie"
bandwidth_GBps = 16
latency_ns = 200
)");
  Router r(t);
  const Route* route = r.Find(t.gpu(0), t.gpu(1));
  REQUIRE(route != nullptr);
  CHECK(route->bandwidth_GBps == Approx(16.0));
  CHECK(route->latency == Time::Nanoseconds(700));
  CHECK(route->hop_count == 2);
  CHECK(route->path_count == 1);
  REQUIRE(route->hops.size() == 2);
  CHECK(route->hops[0].share == 1.0);
  CHECK(r.Classify(*route).ToString() == "PIX");  // one PCIe switch between them
}

TEST_CASE("Equal-cost NVSwitch planes share the traffic in proportion to their links") {
  // HGX H100: 18 NVLink4 links per GPU as 5+5+4+4 over 4 switches, 25 GB/s each per direction. Split in
  // proportion to capacity, plane k carries c_k/18 of the bytes over c_k*25 GB/s, so every plane allows
  // c_k*25 / (c_k/18) = 450 GB/s: the route runs at 18 x 25 = 450 GB/s.
  Topology t = TopologyFromText(R"(
[[node]]
name = "gpu"
kind = "gpu"
count = 2
[[node]]
name = "nvs"
kind = "nvswitch"
count = 4
[[link]]
from = "gpu[*]"
to = "nvs[0-1]"
preset = "nvlink4"
count = 5
[[link]]
from = "gpu[*]"
to = "nvs[2-3]"
preset = "nvlink4"
count = 4
)");
  Router r(t);
  const Route* route = r.Find(t.gpu(0), t.gpu(1));
  REQUIRE(route != nullptr);
  CHECK(route->bandwidth_GBps == Approx(450.0));
  CHECK(route->path_count == 4);
  CHECK(route->hops.size() == 8);
  double first_hop_share = 0;
  for (const RouteHop& h : route->hops) {
    const Link& l = t.link(h.link);
    if (l.from == t.gpu(0)) {
      CHECK(h.share == Approx(l.count / 18.0));
      first_hop_share += h.share;
    }
  }
  CHECK(first_hop_share == Approx(1.0));
  const PathInfo info = r.Classify(*route);
  CHECK(info.ToString() == "NV18");
}

TEST_CASE("GPUs never forward traffic") {
  // gpu0 = gpu1 = gpu2 by NVLink in a line (no gpu0-gpu2 link); all three on one CPU over PCIe. The 0->2 route must
  // take PCIe through the CPU (NODE), not NVLink through gpu1, even though two NVLink hops are quicker.
  Topology t = TopologyFromText(R"(
[[node]]
name = "gpu"
kind = "gpu"
count = 3
[[node]]
name = "cpu"
kind = "cpu"
[[link]]
from = "gpu0"
to = "gpu1"
preset = "nvlink3"
count = 4
[[link]]
from = "gpu1"
to = "gpu2"
preset = "nvlink3"
count = 4
[[link]]
from = "gpu[*]"
to = "cpu"
preset = "pcie4x16"
)");
  Router r(t);
  const Route* route = r.Find(t.gpu(0), t.gpu(2));
  REQUIRE(route != nullptr);
  CHECK(r.Classify(*route).ToString() == "NODE");
  CHECK(route->bandwidth_GBps == Approx(31.5));
  CHECK(r.Classify(*r.Find(t.gpu(0), t.gpu(1))).ToString() == "NV4");
  CHECK(r.Find(t.gpu(0), t.gpu(1))->bandwidth_GBps == Approx(100.0));  // 4 x 25
}

// A host of one GPU and two NICs, all three on one PCIe switch.
const std::string kGpuTwoNicBox = R"(
[[template]]
name = "box"
  [[template.node]]
  name = "gpu"
  kind = "gpu"
  [[template.node]]
  name = "nic"
  kind = "nic"
  count = 2
  [[template.node]]
  name = "sw"
  kind = "pcie_switch"
  [[template.link]]
  from = "gpu"
  to = "sw"
  preset = "pcie5x16"
  [[template.link]]
  from = "nic[*]"
  to = "sw"
  preset = "pcie5x16"
)";

// Two such hosts, both NICs of each on one switch: the cross-host class is NET.
const std::string kTwoHosts = kGpuTwoNicBox + R"(
[[host]]
template = "box"
name = "h"
count = 2
[[fabric]]
kind = "single_switch"
name = "ib"
preset = "ndr"
)";

TEST_CASE("Across hosts the class is NET and the NIC paces the route") {
  Topology t = TopologyFromText(kTwoHosts);
  Router r(t);
  const Route* route = r.Find(t.gpu(0), t.gpu(1));
  REQUIRE(route != nullptr);
  CHECK(r.Classify(*route).ToString() == "NET");
  // Two NICs per host, both on the switch: the bytes split over the two 50 GB/s ports (and the 63 GB/s PCIe
  // link of the GPU is the limit): min(63, 2 x 50) = 63.
  CHECK(route->bandwidth_GBps == Approx(63.0));
  CHECK(route->path_count == 4);  // 2 NICs out x 2 NICs in
}

TEST_CASE("Two devices of one host talk inside it even when the network is quicker") {
  Topology t = TopologyFromText(kTwoHosts);
  Router r(t);
  // h0/nic0 -> h0/nic1: through the PCIe switch (PIX, 1.0 us) although nic0 -> ib -> nic1 is 0.7 us.
  const Route* route = r.Find(Id(t, "h0/nic0"), Id(t, "h0/nic1"));
  REQUIRE(route != nullptr);
  CHECK(r.Classify(*route).ToString() == "PIX");
  CHECK(route->latency == Time::Nanoseconds(1000));
}

TEST_CASE("GPU pairs by class count every ordered pair from the sources, with their range of routes") {
  // Two DGX H100 on NDR rails: inside a node every pair is NV18 (18 NVLink4 links x 25 GB/s = 450 GB/s), across the
  // two it is NET at one 400 Gb/s port (50 GB/s). Ordered pairs: 2 nodes x 8 x 7 = 112 NV18 and 16 x 8 = 128 NET.
  const Topology t = testing::ShippedTopology("dgx-h100-2node");
  const std::vector<NodeId> gpus(t.gpus().begin(), t.gpus().end());
  const auto all = SummarizePathClasses(t, gpus, gpus);
  REQUIRE(all.size() == 2);
  CHECK(all.at("NV18").pairs == 112);
  CHECK(all.at("NV18").bandwidth_min_GBps == Approx(450));
  CHECK(all.at("NV18").bandwidth_max_GBps == Approx(450));
  CHECK(all.at("NET").pairs == 128);
  CHECK(all.at("NET").bandwidth_max_GBps == Approx(50));
  // GPU i reaches GPU i of the other node through its rail's leaf, GPU j != i also over a spine: two latencies.
  CHECK(all.at("NET").latency_min < all.at("NET").latency_max);
  // The same as a matrix gives, pair by pair.
  const PathMatrix m = ComputePathMatrix(t, gpus);
  size_t net = 0;
  for (size_t i = 0; i < gpus.size(); ++i)
    for (size_t j = 0; j < gpus.size(); ++j) net += i != j && m.at(i, j).info.ToString() == "NET";
  CHECK(net == 128);
  // From the first node's 8 GPUs only: 8 x 7 NV18 and 8 x 8 NET.
  const std::vector<NodeId> first(gpus.begin(), gpus.begin() + 8);
  const auto some = SummarizePathClasses(t, first, gpus);
  CHECK(some.at("NV18").pairs == 56);
  CHECK(some.at("NET").pairs == 64);
}

// Three such hosts and two switches; h0 and h1 hang off leaf0 by their nic0. Each test adds the rest of the cabling.
const std::string kThreeBoxesTwoLeaves = kGpuTwoNicBox + R"(
[[host]]
template = "box"
name = "h"
count = 3
[[node]]
name = "leaf"
kind = "switch"
count = 2
[[link]]
from = "h[0-1]/nic0"
to = "leaf0"
preset = "ndr"
)";

TEST_CASE("No route uses a server as a switch") {
  // h0 and h1 share leaf0; h0 and h2 share leaf1; nothing joins the leaves. h1 -> h2 exists only as
  // leaf0 -> h0/nic0 -> h0/sw -> h0/nic1 -> leaf1, through h0's PCIe switch (no GPU on the way), which routes
  // must not use: building the topology fails because GPUs cannot reach each other.
  testing::MemoryReader reader;
  auto topo = LoadTopology(SourceFile{"t.toml", kThreeBoxesTwoLeaves + R"(
[[link]]
from = "h0/nic1"
to = "leaf1"
preset = "ndr"
[[link]]
from = "h2/nic1"
to = "leaf1"
preset = "ndr"
)"},
                           reader);
  REQUIRE_FALSE(topo.ok());
  CHECK_THAT(topo.status().message(), Catch::Matchers::Contains("cannot reach"));
}

TEST_CASE("Each nvidia-smi class comes from the nodes a route crosses") {
  // One socket with a host bridge (two switches under it), a second socket; plus a NIC per socket.
  Topology t = TopologyFromText(R"(
[[node]]
name = "gpu"
kind = "gpu"
count = 6
[[node]]
name = "sw"
kind = "pcie_switch"
count = 4
[[node]]
name = "hb"
kind = "host_bridge"
[[node]]
name = "cpu"
kind = "cpu"
count = 2
[[link]]
from = "gpu[0-1]"
to = "sw0"
preset = "pcie4x16"
[[link]]
from = "gpu2"
to = "sw1"
preset = "pcie4x16"
[[link]]
from = "sw[0-1]"
to = "sw2"
preset = "pcie4x16"
[[link]]
from = "sw2"
to = "hb"
preset = "pcie4x16"
[[link]]
from = "gpu3"
to = "hb"
preset = "pcie4x16"
[[link]]
from = "hb"
to = "cpu0"
preset = "pcie4x16"
[[link]]
from = "gpu4"
to = "cpu0"
preset = "pcie4x16"
[[link]]
from = "gpu5"
to = "sw3"
preset = "pcie4x16"
[[link]]
from = "sw3"
to = "cpu1"
preset = "pcie4x16"
[[link]]
from = "cpu0"
to = "cpu1"
preset = "upi-spr"
)");
  const PathMatrix m = ComputePathMatrix(t, std::vector<NodeId>(t.gpus().begin(), t.gpus().end()));
  CHECK(m.at(0, 1).info.ToString() == "PIX");        // one switch
  CHECK(m.at(0, 2).info.ToString() == "PXB");        // sw0, sw2, sw1
  CHECK(m.at(0, 3).info.ToString() == "PHB");        // through the host bridge
  CHECK(m.at(0, 4).info.ToString() == "NODE");       // through the socket
  CHECK(m.at(0, 5).info.ToString() == "SYS");        // across sockets
  CHECK(m.at(0, 5).bandwidth_GBps == Approx(22.0));  // the UPI link
}

void CheckSameRoute(const Route* got, const Route* expected) {
  REQUIRE((got == nullptr) == (expected == nullptr));
  if (got == nullptr) return;
  CHECK(got->latency == expected->latency);
  CHECK(got->hop_count == expected->hop_count);
  CHECK(got->path_count == expected->path_count);
  CHECK(got->bandwidth_GBps == expected->bandwidth_GBps);
  REQUIRE(got->hops.size() == expected->hops.size());
  for (size_t h = 0; h < got->hops.size(); ++h) {
    CHECK(got->hops[h].link == expected->hops[h].link);
    CHECK(got->hops[h].share == expected->hops[h].share);
  }
}

// Searches skip the servers a route cannot pass through: Router::Find toward one destination, ForEachRouteFrom
// toward its destinations' servers. From every GPU to all the others (every server searched) as the reference,
// each pair must come out the same both ways, link for link and share for share.
void CheckRoutesAsWholeSearch(const Topology& t) {
  Router whole(t), toward(t), row(t);
  const std::vector<NodeId> gpus(t.gpus().begin(), t.gpus().end());
  size_t pairs = 0;
  for (NodeId a : gpus) {
    whole.ForEachRouteFrom(a, gpus, [&](NodeId b, const Route* expected) {
      ++pairs;
      CheckSameRoute(toward.Find(a, b), expected);
      size_t visits = 0;
      row.ForEachRouteFrom(a, {b}, [&](NodeId dst, const Route* got) {
        ++visits;
        CHECK(dst == b);
        CheckSameRoute(got, expected);
      });
      CHECK(visits == 1);
    });
  }
  CHECK(pairs == gpus.size() * (gpus.size() - 1));
}

TEST_CASE("A search toward one server gives the routes of a search of the whole cluster") {
  // Rail-optimised (non-blocking and 2:1), a RoCE fabric, an NVL72 rack and the PCIe-only L40S box.
  for (const char* name : {"dgx-h100-4node", "dgx-h100-4node-oversub", "oci-h200-2node", "gcp-a3-mega-2node",
                           "gb200-nvl72", "pcie-8x-l40s"}) {
    INFO(name);
    CheckRoutesAsWholeSearch(testing::ShippedTopology(name));
  }
}

TEST_CASE("A NIC cabled to two switches can carry a route between them: its server is no dead end") {
  // h1 hangs off leaf0 and h2 off leaf1; nothing joins the leaves but h0's nic0, cabled to both. A route that
  // stays in the network may cross a NIC (only leaving the network for a server and coming back is forbidden), so
  // h1 -> h2 runs leaf0 -> h0/nic0 -> leaf1, and the search toward h2 must not skip h0.
  Topology t = TopologyFromText(kThreeBoxesTwoLeaves + R"(
[[link]]
from = "h0/nic0"
to = "leaf1"
preset = "ndr"
[[link]]
from = "h2/nic0"
to = "leaf1"
preset = "ndr"
[[link]]
from = "h0/nic1"
to = "leaf1"
preset = "ndr"
)");
  Router r(t);
  const Route* route = r.Find(t.gpu(1), t.gpu(2));
  REQUIRE(route != nullptr);
  bool through_h0 = false;
  for (const RouteHop& hop : route->hops) through_h0 = through_h0 || t.link(hop.link).to == Id(t, "h0/nic0");
  CHECK(through_h0);
  // gpu -> sw -> nic0 -> leaf0 -> h0/nic0 -> leaf1 -> nic0 -> sw -> gpu
  CHECK(route->hop_count == 8);
  CheckRoutesAsWholeSearch(t);
}

TEST_CASE("Nearest NICs, rails and NVLink domains") {
  Topology t = TopologyFromText(kTwoHosts);
  CHECK(t.nearest_nics(t.gpu(0)).size() == 2);  // both NICs one switch away
  CHECK(t.ShareNic(t.gpu(0), t.gpu(0)));
  CHECK_FALSE(t.ShareNic(t.gpu(0), t.gpu(1)));
  CHECK_FALSE(t.SameHost(t.gpu(0), t.gpu(1)));
  CHECK_FALSE(t.SameNvlinkDomain(t.gpu(0), t.gpu(1)));  // no NVLink at all: each GPU alone
  CHECK(t.NvlinkDomains().size() == 2);
}

}  // namespace
}  // namespace wiresim
