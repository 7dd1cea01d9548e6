// --placement spread: the DP replicas on different hosts, each placed inside its GPUs by the search
// (docs/placement.md, "Spreading replicas over failure domains").
#include "sim/parallel/spread_placement.h"

#include <set>

#include <catch2/catch.hpp>

#include "tests/model/model_test_util.h"
#include "tests/parallel/placement_test_util.h"
#include "tests/testing/topology.h"

namespace wiresim {
namespace {

using testing::Auto;
using testing::Plan;
using testing::Range;
using testing::Score;
using testing::ShippedModel;
using testing::ShippedTopology;
using testing::TpGroups;

// The hosts (failure domains) each DP replica of `where` touches.
std::vector<std::set<int>> ReplicaHosts(const Topology& topo, const ParallelPlan& plan, const Placement& where) {
  std::vector<std::set<int>> hosts(static_cast<size_t>(plan.dp));
  for (int r = 0; r < plan.WorldSize(); ++r) {
    hosts[static_cast<size_t>(CoordOf(plan, r).dp)].insert(topo.node(topo.gpu(where.GpuOf(r))).host_index);
  }
  return hosts;
}

Placement Spread(const Topology& topo, const ModelSpec& m, const ParallelPlan& plan, const std::vector<int>& gpus,
                 PlacementScore* score = nullptr) {
  Result<Placement> p = SpreadPlacement(topo, m, plan, gpus, score);
  INFO(p.status().message());
  REQUIRE(p.ok());
  return *p;
}

TEST_CASE("Spread puts DP replicas on different hosts while each TP group stays in one NVLink domain") {
  const Topology topo = ShippedTopology("dgx-h100-2node");  // 2 hosts of 8 H100 on one NVSwitch each
  const ModelSpec llama8b = ShippedModel("llama-3.1-8b");
  const ParallelPlan plan = Plan("tp=4,dp=2");
  // Auto takes the first 8 GPUs it grows through, one host: losing it loses both replicas.
  const Placement packed_in_one = Auto(topo, llama8b, plan, Range(16));
  CHECK(ReplicaHosts(topo, plan, packed_in_one)[0] == ReplicaHosts(topo, plan, packed_in_one)[1]);
  PlacementScore why;
  const Placement spread = Spread(topo, llama8b, plan, Range(16), &why);
  const std::vector<std::set<int>> hosts = ReplicaHosts(topo, plan, spread);
  CHECK(hosts[0] == std::set<int>{0});
  CHECK(hosts[1] == std::set<int>{1});
  // Replicas do not talk, so the communication estimate is auto's: each TP group inside one NVSwitch domain.
  CHECK(why.cost_seconds == Approx(Score(topo, llama8b, plan, packed_in_one.gpu_of_rank)));
  REQUIRE(!why.lines.empty());
  CHECK(why.lines.back() ==
        "DP replicas (2 of 4 GPUs): hosts node0 | node1; losing one host loses at most 1 of 2 "
        "replicas");
}

TEST_CASE(
    "Spread: six replicas on two hosts lose at most three to one host, and replicas larger than a host span two") {
  const Topology two = ShippedTopology("dgx-h100-2node");
  const ModelSpec llama8b = ShippedModel("llama-3.1-8b");
  // 6 replicas over 2 hosts: the best any placement can do is ceil(6 / 2) = 3 on each.
  const ParallelPlan six = Plan("tp=2,dp=6");
  const Placement p6 = Spread(two, llama8b, six, Range(16));
  int on_first = 0;
  for (const std::set<int>& h : ReplicaHosts(two, six, p6)) {
    CHECK(h.size() == 1);
    on_first += h.count(0) ? 1 : 0;
  }
  CHECK(on_first == 3);
  for (const std::set<int>& g : TpGroups(six, p6)) {
    CHECK(two.SameNvlinkDomain(two.gpu(*g.begin()), two.gpu(*g.rbegin())));
  }

  // tp=8,pp=2: a replica of 16 GPUs needs two hosts of 8; on 6 hosts, two replicas need not share one.
  const Topology sixteen = ShippedTopology("dgx-h100-16node");
  const ModelSpec llama70b = ShippedModel("llama-3.1-70b");
  const ParallelPlan big = Plan("tp=8,pp=2,dp=2");
  const Placement pb = Spread(sixteen, llama70b, big, Range(48));
  const std::vector<std::set<int>> hosts = ReplicaHosts(sixteen, big, pb);
  CHECK(hosts[0].size() == 2);
  CHECK(hosts[1].size() == 2);
  for (int h : hosts[0]) CHECK(hosts[1].count(h) == 0);
  // Each TP group of 8 still fills one node's NVSwitch.
  for (const std::set<int>& g : TpGroups(big, pb)) {
    CHECK(sixteen.SameNvlinkDomain(sixteen.gpu(*g.begin()), sixteen.gpu(*g.rbegin())));
  }
}

TEST_CASE("Spread leaves replicas joined by expert parallelism together, and one host's GPUs as auto places them") {
  const Topology two = ShippedTopology("dgx-h100-2node");
  const ModelSpec mixtral = ShippedModel("mixtral-8x7b");
  const ParallelPlan coupled = Plan("tp=2,dp=4,ep=8");
  PlacementScore why;
  const Placement p = Spread(two, mixtral, coupled, Range(16), &why);
  CHECK(p.gpu_of_rank == Auto(two, mixtral, coupled, Range(16)).gpu_of_rank);
  REQUIRE(!why.lines.empty());
  CHECK_THAT(why.lines.back(), Catch::Matchers::Contains("they fail together"));

  const Topology one = ShippedTopology("dgx-h100");
  const ParallelPlan plan = Plan("tp=2,dp=4");
  CHECK(Spread(one, ShippedModel("llama-3.1-8b"), plan, Range(8)).gpu_of_rank ==
        Auto(one, ShippedModel("llama-3.1-8b"), plan, Range(8)).gpu_of_rank);
}

}  // namespace
}  // namespace wiresim
