// LinkUseAccounting's utilisation series: each point is the bytes counted in its bucket over (capacity x width),
// whatever order the buckets were filled in and however often they doubled.
#include "sim/serving/link_use.h"

#include <catch2/catch.hpp>

#include "tests/testing/topology.h"

namespace wiresim {
namespace {

TEST_CASE("Link use: series points are each bucket's bytes, across buckets, late additions and doublings") {
  Topology t = testing::TopologyFromText(R"(
[[node]]
name = "gpu"
kind = "gpu"
count = 2
[[link]]
from = "gpu0"
to = "gpu1"
kind = "pcie"
bandwidth_GBps = 1
)");
  REQUIRE(t.link_count() >= 1);
  const LinkId l = 0;
  LinkUseAccounting use(t);
  const std::vector<LinkBytes> per_byte{{l, 1.0}};
  use.Add(per_byte, 1e6, Time::Microseconds(500), Time::Microseconds(100));   // bucket 0
  use.Add(per_byte, 1e6, Time::Microseconds(700), Time::Microseconds(100));   // bucket 0
  use.Add(per_byte, 3e6, Time::Microseconds(2200), Time::Microseconds(100));  // bucket 2
  use.AddBytes({{l, 5e6}}, Time::Microseconds(1500));                         // bucket 1, after bucket 2 began

  // 1 ms buckets on a 1 GB/s link hold 1e6 bytes at full use: 2e6, 5e6 and 3e6 bytes read 2, 5 and 3.
  const double capacity = 1e9;
  auto points = use.Series(l, capacity, Time::Microseconds(2900));
  REQUIRE(points.size() == 3);
  CHECK(points[0].first == Time::Zero());
  CHECK(points[1].first == Time::Milliseconds(1));
  CHECK(points[0].second == Approx(2.0));
  CHECK(points[1].second == Approx(5.0));
  CHECK(points[2].second == Approx(3.0));

  // A call at 600 ms outgrows 512 buckets of 1 ms: they double to 2 ms (old 0+1 -> 7e6 bytes, 2+3 -> 3e6), and the
  // new call lands in bucket 300. A 2 ms bucket holds 2e6 bytes at full use.
  use.Add(per_byte, 4e6, Time::Milliseconds(600), Time::Microseconds(100));
  points = use.Series(l, capacity, Time::Milliseconds(601));
  REQUIRE(points.size() == 301);  // 601 ms / 2 ms, plus the bucket 600 ms starts
  CHECK(points[0].second == Approx(3.5));
  CHECK(points[1].second == Approx(1.5));
  CHECK(points[1].first == Time::Milliseconds(2));
  CHECK(points[300].second == Approx(2.0));
  double rest = 0;
  for (size_t k = 2; k < 300; ++k) rest += points[k].second;
  CHECK(rest == 0.0);

  // The totals: 1 + 1 + 3 + 5 + 4 = 14e6 bytes; busy 4 x 100 us (the AddBytes carries no busy time).
  const std::vector<LinkUse> links = use.Collect(nullptr);
  REQUIRE(links.size() == 1);
  CHECK(links[0].bytes == Approx(14e6));
  CHECK(links[0].busy == Time::Microseconds(400));
  CHECK(use.busy_incomplete());
}

}  // namespace
}  // namespace wiresim
