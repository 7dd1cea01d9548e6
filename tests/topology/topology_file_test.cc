// The topology file: templates, selectors, maps, includes, and one test per kind of bad input, each naming the file,
// the line and the field.
#include "sim/topology/topology_file.h"

#include <catch2/catch.hpp>

#include "tests/testing/memory_reader.h"
#include "tests/testing/topology.h"

namespace wiresim {
namespace {

using Catch::Matchers::Contains;

Status LoadError(const std::string& toml, testing::MemoryReader reader = testing::MemoryReader()) {
  auto topo = LoadTopology(SourceFile{"bad.toml", toml}, reader);
  REQUIRE_FALSE(topo.ok());
  return topo.status();
}

// Two GPUs on one PCIe switch; the base for the bad-input variants below (line numbers matter).
const char* kGood = R"([[node]]
name = "gpu"
kind = "gpu"
count = 2
[[node]]
name = "sw"
kind = "pcie_switch"
[[link]]
from = "gpu[*]"
to = "sw"
kind = "pcie"
bandwidth_GBps = 32
)";

TEST_CASE("The base file loads") {
  testing::MemoryReader reader;
  auto topo = LoadTopology(SourceFile{"good.toml", kGood}, reader);
  REQUIRE(topo.ok());
  CHECK(topo->gpu_count() == 2);
  CHECK(topo->link_count() == 4);  // 2 links, each in both directions
}

TEST_CASE("Bad input: TOML syntax") {
  Status s = LoadError("[[node]]\nname = \"gpu\nkind = \"gpu\"\n");
  CHECK_THAT(s.message(), Contains("bad.toml:2:"));
  CHECK_THAT(s.message(), Contains("TOML syntax error"));
}

TEST_CASE("Bad input: unknown key") {
  std::string toml = kGood;
  toml.replace(toml.find("bandwidth_GBps"), 14, "bandwith_GBps");  // a typo on line 12
  Status s = LoadError(toml);
  CHECK_THAT(s.message(), Contains("bad.toml:12: link.bandwith_GBps: unknown key"));
}

TEST_CASE("Bad input: dangling endpoint") {
  std::string toml = kGood;
  toml.replace(toml.find("to = \"sw\""), 9, "to = \"sw2\"");  // line 10
  Status s = LoadError(toml);
  CHECK_THAT(s.message(), Contains("bad.toml:10: link.to: 'sw2' matches no node"));
}

TEST_CASE("Bad input: non-positive bandwidth") {
  std::string toml = kGood;
  toml.replace(toml.find("= 32"), 4, "= -5");
  Status s = LoadError(toml);
  // The bounds of docs/formats/numbers.md: bandwidths from 0.01 to 10^6 GB/s, latencies from 0 to 10^9 ns.
  CHECK_THAT(s.message(), Contains("bad.toml:12: link.bandwidth_GBps: expected a bandwidth in GB/s from 0.01"));
  toml.replace(toml.find("= -5"), 4, "= 0");
  CHECK_THAT(LoadError(toml).message(), Contains("bad.toml:12: link.bandwidth_GBps"));
}

TEST_CASE("Bad input: negative latency") {
  std::string toml = std::string(kGood) + "latency_ns = -1\n";  // line 13
  Status s = LoadError(toml);
  CHECK_THAT(s.message(), Contains("bad.toml:13: link.latency_ns: expected a latency in ns from 0 to 1000000000"));
}

TEST_CASE("Bad input: duplicate names") {
  std::string toml = std::string(kGood) + "[[node]]\nname = \"sw\"\nkind = \"pcie_switch\"\n";  // line 13
  Status s = LoadError(toml);
  CHECK_THAT(s.message(), Contains("bad.toml:13: node.name: duplicate node name 'sw'"));
  CHECK_THAT(s.message(), Contains("first declared at bad.toml:5"));

  Status hosts = LoadError(R"([[template]]
name = "t"
  [[template.node]]
  name = "gpu"
  kind = "gpu"
[[host]]
template = "t"
name = "a"
[[host]]
template = "t"
name = "a"
)");
  CHECK_THAT(hosts.message(), Contains("bad.toml:11: host.name: host 'a' is declared twice"));
}

TEST_CASE("Bad input: GPUs that cannot reach each other") {
  // A third GPU declared on line 13 with no link at all.
  std::string toml = std::string(kGood) + "[[node]]\nname = \"lost\"\nkind = \"gpu\"\n";
  Status s = LoadError(toml);
  CHECK_THAT(s.message(), Contains("bad.toml:13: node 'lost': GPU cannot reach GPU 'gpu0'"));
}

// Two machines "a" and "b" (testing::TwoGpuBoxTemplate), each GPU with its own NIC on its own network (rail 0 and
// rail 1, no spine), the GPUs of a machine joined by NVLink; `joined` puts a machine's two PCIe switches under its CPU.
std::string TwoRails(bool joined) {
  std::string t = testing::TwoGpuBoxTemplate(joined, true);
  t += R"([[host]]
template = "box"
name = "a"
[[host]]
template = "box"
name = "b"
[[node]]
name = "rail"
kind = "switch"
count = 2
[[link]]
from = "a/nic0"
to = "rail0"
preset = "ndr"
[[link]]
from = "b/nic0"
to = "rail0"
preset = "ndr"
[[link]]
from = "a/nic1"
to = "rail1"
preset = "ndr"
[[link]]
from = "b/nic1"
to = "rail1"
preset = "ndr"
)";
  return t;
}

TEST_CASE("GPUs on separate rails reach each other only through a machine's own links") {
  // Without the CPU, a/gpu0 leaves its machine only on rail 0: it reaches a/gpu1 over NVLink and b/gpu0 over rail
  // 0, but not b/gpu1 (on rail 1 only; a route may not pass through a/gpu1 or b/gpu0). The first such pair in GPU
  // order (a/gpu0 = 0, a/gpu1 = 1, b/gpu0 = 2, b/gpu1 = 3) is (0, 3).
  testing::MemoryReader reader;
  const auto split = LoadTopology(SourceFile{"rails.toml", TwoRails(false)}, reader);
  REQUIRE_FALSE(split.ok());
  CHECK_THAT(split.status().message(), Contains("node 'b/gpu1': GPU cannot reach GPU 'a/gpu0'"));
  // With the CPU each GPU reaches both NICs of its machine, so both rails: every pair joins.
  const auto joined = LoadTopology(SourceFile{"rails.toml", TwoRails(true)}, reader);
  INFO((joined.ok() ? std::string() : joined.status().message()));
  CHECK(joined.ok());
}

TEST_CASE("Bad input: a topology too large to build is refused before it is built") {
  // 2^20 hosts of 8 nodes = 2^23 nodes, past 2^22; refused at the [[host]] count, without allocating them.
  CHECK_THAT(LoadError("[[template]]\nname = \"t\"\n  [[template.node]]\n  name = \"gpu\"\n  kind = \"gpu\"\n"
                       "  count = 8\n[[host]]\ntemplate = \"t\"\ncount = 1048576\n")
                 .message(),
             Contains("bad.toml:9: host.count: the topology would have 8388608 nodes, more than 4194304 (2^22)"));
  // Every one of 4096 GPUs with every one of 4096 switches: 2^24 links, past 2^23.
  CHECK_THAT(
      LoadError("[[node]]\nname = \"gpu\"\nkind = \"gpu\"\ncount = 4096\n[[node]]\nname = \"sw\"\n"
                "kind = \"switch\"\ncount = 4096\n[[link]]\nfrom = \"gpu[*]\"\nto = \"sw[*]\"\npreset = \"ndr\"\n")
          .message(),
      Contains("the topology would have 16777216 links from this declaration, more than 8388608 (2^23)"));
}

TEST_CASE("Bad input: unknown kind, preset and map, wrong types") {
  std::string toml = kGood;
  toml.replace(toml.find("kind = \"pcie\""), 13, "kind = \"pcix\"");
  CHECK_THAT(LoadError(toml).message(), Contains("bad.toml:11: link.kind: unknown link kind 'pcix'"));
  toml = kGood;
  toml.replace(toml.find("kind = \"pcie_switch\""), 20, "kind = \"router\"");
  CHECK_THAT(LoadError(toml).message(), Contains("bad.toml:7: node.kind: unknown node kind 'router'"));
  toml = std::string(kGood) + "preset = \"nvlink9\"\n";
  CHECK_THAT(LoadError(toml).message(), Contains("bad.toml:13: link.preset: unknown link preset 'nvlink9'"));
  toml = std::string(kGood) + "map = \"zip\"\n";  // 2 GPUs zipped with 1 switch
  CHECK_THAT(LoadError(toml).message(), Contains("bad.toml:13: link.map: \"zip\" needs as many"));
  toml = kGood;
  toml.replace(toml.find("count = 2"), 9, "count = \"two\"");
  CHECK_THAT(LoadError(toml).message(), Contains("bad.toml:4: node.count: expected an integer, got \"two\""));
  toml = kGood;
  toml.replace(toml.find("count = 2"), 9, "count = 0");
  CHECK_THAT(LoadError(toml).message(), Contains("bad.toml:4: node.count: expected an integer in [1,"));
}

TEST_CASE("Bad input: includes") {
  Status missing = LoadError("include = [\"nowhere.toml\"]\n" + std::string(kGood));
  CHECK_THAT(missing.message(), Contains("bad.toml:1: include: nowhere.toml: no such file"));
  testing::MemoryReader reader;
  reader.Add("a.toml", "include = [\"b.toml\"]\n").Add("b.toml", "include = [\"a.toml\"]\n");
  Status cycle = LoadError("include = [\"a.toml\"]\n" + std::string(kGood), reader);
  CHECK_THAT(cycle.message(), Contains("includes itself"));
  testing::MemoryReader broken;
  broken.Add("c.toml",
             "[[template]]\nname = \"t\"\n  [[template.node]]\n  name = \"x\"\n  kind = \"gpu\"\n  colour = 1\n");
  Status inner = LoadError("include = [\"c.toml\"]\n" + std::string(kGood), broken);
  CHECK_THAT(inner.message(), Contains("c.toml:6: template.node.colour: unknown key"));
}

TEST_CASE("Templates, counts and maps expand to the expected nodes and links") {
  testing::MemoryReader reader;
  reader.Add("box.toml", R"(
[[template]]
name = "box"
  [[template.node]]
  name = "gpu"
  kind = "gpu"
  count = 4
  model = "h100-sxm"
  [[template.node]]
  name = "sw"
  kind = "pcie_switch"
  count = 2
  [[template.node]]
  name = "cpu"
  kind = "cpu"
  [[template.node]]
  name = "nic"
  kind = "nic"
  [[template.link]]
  from = "gpu[*]"
  to = "sw[*]"
  map = "block"        # gpu0,gpu1 -> sw0; gpu2,gpu3 -> sw1
  preset = "pcie5x16"
  [[template.link]]
  from = "sw[*]"
  to = "cpu"
  preset = "pcie5x16"
  [[template.link]]
  from = "nic"
  to = "cpu"
  preset = "pcie5x16"
)");
  auto spec = ParseTopologyFile(SourceFile{"c.toml", R"(
include = ["box.toml"]
[[host]]
template = "box"
name = "n"
count = 3
gpu_model = "h200-sxm"
[[fabric]]
kind = "single_switch"
preset = "ndr"
)"},
                                reader);
  REQUIRE(spec.ok());
  // 3 hosts x (4 GPUs + 2 switches + 1 CPU + 1 NIC) nodes, plus the fabric's switch; 3 x (4 + 2 + 1) links in
  // the hosts, plus one per NIC to the switch.
  CHECK(spec->nodes.size() == 25);
  CHECK(spec->links.size() == 24);
  CHECK(spec->nodes[8].name == "n1/gpu0");
  CHECK(spec->nodes[8].host == "n1");
  CHECK(spec->nodes[8].model == "h200-sxm");
  // The block map: link 1 of host 0 joins gpu1 to sw0; link 2 joins gpu2 to sw1.
  CHECK(spec->nodes[static_cast<size_t>(spec->links[1].b)].name == "n0/sw0");
  CHECK(spec->nodes[static_cast<size_t>(spec->links[2].b)].name == "n0/sw1");
  CHECK(spec->links[0].bandwidth_GBps == 63.0);  // PCIe 5.0 x16 preset
  auto topo = Topology::Build(std::move(spec).value());
  REQUIRE(topo.ok());
  CHECK(topo->hosts().size() == 3);
  CHECK(topo->hosts()[2].gpus.size() == 4);
  CHECK(topo->node(topo->gpu(9)).local_index == 1);  // GPU9 = n2/gpu1
}

TEST_CASE("A written topology reads back into the same nodes and links") {
  testing::MemoryReader reader;
  auto spec = ParseTopologyFile(SourceFile{"g.toml", kGood}, reader);
  REQUIRE(spec.ok());
  const std::string text = WriteTopologyFile(*spec, "round trip");
  auto again = ParseTopologyFile(SourceFile{"w.toml", text}, reader);
  REQUIRE(again.ok());
  REQUIRE(again->nodes.size() == spec->nodes.size());
  REQUIRE(again->links.size() == spec->links.size());
  for (size_t i = 0; i < spec->links.size(); ++i) {
    CHECK(again->links[i].a == spec->links[i].a);
    CHECK(again->links[i].b == spec->links[i].b);
    CHECK(again->links[i].bandwidth_GBps == spec->links[i].bandwidth_GBps);
    CHECK(again->links[i].latency == spec->links[i].latency);
  }
}

}  // namespace
}  // namespace wiresim
