// LinkBundles: the partition of links into bundles that every route crosses whole and in proportion to capacity.
#include "sim/network/link_bundles.h"

#include <catch2/catch.hpp>

#include "tests/testing/topology.h"

namespace wiresim {
namespace {

// Three parallel 100 GB/s NVLinks gpu0 -> gpu1 and one of 50 GB/s, declared one by one (a `count` would bond them
// into one link): four links of one kind between the same pair, directed ids 0, 2, 4, 6 forward.
constexpr const char* kParallel = R"(
name = "parallel"
[[node]]
name = "gpu"
kind = "gpu"
count = 2
[[link]]
from = "gpu0"
to = "gpu1"
kind = "nvlink"
bandwidth_GBps = 100
[[link]]
from = "gpu0"
to = "gpu1"
kind = "nvlink"
bandwidth_GBps = 100
[[link]]
from = "gpu0"
to = "gpu1"
kind = "nvlink"
bandwidth_GBps = 100
[[link]]
from = "gpu0"
to = "gpu1"
kind = "nvlink"
bandwidth_GBps = 50
)";

TEST_CASE("a route in proportion to capacity is one bundle, part of it, or other proportions, split it") {
  const Topology topo = testing::TopologyFromText(kParallel);
  LinkBundles bundles(topo);
  const LinkId l0 = 0, l1 = 2, l2 = 4, l3 = 6;
  REQUIRE(topo.link_count() == 8);
  REQUIRE(topo.link(l0).capacity_GBps == 100);
  REQUIRE(topo.link(l3).capacity_GBps == 50);
  // Bytes split in proportion to capacity (100, 100, 100, 50 of 350): one bundle of 350 GB/s.
  Route whole;
  whole.hops = {{l0, 100.0 / 350}, {l1, 100.0 / 350}, {l2, 100.0 / 350}, {l3, 50.0 / 350}};
  std::vector<LinkBundles::Part> parts;
  std::vector<LinkBundles::Split> splits;
  bundles.Map(whole, &parts, &splits);
  REQUIRE(parts.size() == 1);
  CHECK(parts[0].share == Approx(1.0));
  CHECK(bundles.capacity(parts[0].bundle) == Approx(350e9));
  CHECK(splits.empty());
  const uint32_t b = parts[0].bundle;

  // A route over l0 and l1 only: the bundle keeps l2 and l3 (150 of 350) and gives l0, l1 (200) to a new one.
  Route part;
  part.hops = {{l0, 0.5}, {l1, 0.5}};
  parts.clear();
  bundles.Map(part, &parts, &splits);
  REQUIRE(splits.size() == 2);
  CHECK(splits[0].from == b);
  CHECK(splits[0].to == b);
  CHECK(splits[0].fraction == Approx(150.0 / 350));
  CHECK(splits[1].fraction == Approx(200.0 / 350));
  REQUIRE(parts.size() == 1);
  CHECK(parts[0].bundle == splits[1].to);
  CHECK(bundles.capacity(parts[0].bundle) == Approx(200e9));
  CHECK(bundles.bundle_of(l2) == b);

  // The same two links in other proportions: they part ways.
  Route skewed;
  skewed.hops = {{l0, 0.75}, {l1, 0.25}};
  parts.clear();
  splits.clear();
  bundles.Map(skewed, &parts, &splits);
  CHECK(parts.size() == 2);
  CHECK(splits.size() == 2);
  CHECK(bundles.bundle_of(l0) != bundles.bundle_of(l1));
}

}  // namespace
}  // namespace wiresim
