// Rings kept implicit (RingSchedule): played step by step they run exactly as their stored transfers, and alone on a
// network (ScheduleRun::set_exclusive) their times follow from the ring's dependencies at the transfers' caps, which
// must be what the flow network computes for every transfer one by one.
#include <cstdlib>
#include <memory>

#include <catch2/catch.hpp>

#include "sim/collective/collective_model.h"
#include "sim/network/analytical_network.h"
#include "sim/network/flow_network.h"
#include "tests/testing/topology.h"

namespace wiresim {
namespace {

std::vector<int> Range(int from, int to) {
  std::vector<int> v;
  for (int i = from; i < to; ++i) v.push_back(i);
  return v;
}

std::unique_ptr<PreparedCollective> Prepare(CollectiveModel& model, CollectiveOp op, const std::vector<int>& gpus) {
  CollectiveCall call;
  call.op = op;
  call.gpus = gpus;
  auto p = model.Prepare(call, {});
  REQUIRE(p.ok());
  return std::move(p).value();
}

enum class Net { kAnalytical, kFlow, kFlowUnaggregated };

struct Played {
  Time done;
  int64_t flows = 0;  // transfers the network saw
  std::vector<double> link_bytes;
};

// Plays one schedule from time zero on a fresh network.
Played Play(const Topology& topo, const CollectiveSchedule& schedule, Net kind, bool exclusive) {
  Simulator sim;
  AnalyticalNetwork analytical(sim, topo);
  FlowNetwork flow(sim, topo);
  flow.set_aggregation(kind == Net::kFlow);
  Network& net = kind == Net::kAnalytical ? static_cast<Network&>(analytical) : flow;
  Played out;
  ScheduleRun run(sim, net, schedule, [&] { out.done = sim.Now(); });
  run.set_exclusive(exclusive);
  run.Start();
  sim.Run();
  REQUIRE(run.done());
  REQUIRE(net.CheckConservation().ok());
  out.flows = net.ledger().transfers_started();
  for (LinkId l = 0; l < topo.link_count(); ++l) out.link_bytes.push_back(net.ledger().bytes(l));
  return out;
}

CollectiveSchedule ExpandOk(PreparedCollective& p, CollectiveChoice c, double bytes) {
  auto s = p.Expand(c, bytes);
  REQUIRE(s.ok());
  return std::move(s).value();
}

const CollectiveOp kRingOps[] = {CollectiveOp::kAllReduce, CollectiveOp::kAllGather, CollectiveOp::kReduceScatter};
const Protocol kProtocols[] = {Protocol::kSimple, Protocol::kLL, Protocol::kLL128};

TEST_CASE("a ring's expansion stores one transfer per edge, not per step") {
  const Topology topo = testing::ShippedTopology("dgx-h100-16node");
  CollectiveModel model(topo);
  auto ar = Prepare(model, CollectiveOp::kAllReduce, Range(0, 128));
  const CollectiveSchedule s = ExpandOk(*ar, {Algorithm::kRing, Protocol::kSimple}, 1 << 26);
  // 128 ranks, 8 rings (one per rail): 8 x 128 edges; 2(n-1) = 254 steps of them, then one copy per edge.
  CHECK(s.transfers.empty());
  REQUIRE(s.ring.has_value());
  CHECK(s.ring->edges.size() == 8u * 128u);
  CHECK(s.ring->steps == 254);
  CHECK(s.transfer_count() == 8u * 128u * 254u + 8u * 128u);
  CHECK(s.Materialized().transfers.size() == s.transfer_count());
}

TEST_CASE("an implicit ring plays exactly as its stored transfers") {
  const Topology topo = testing::ShippedTopology("dgx-h100-2node");
  CollectiveModel model(topo);
  for (CollectiveOp op : kRingOps) {
    auto c = Prepare(model, op, Range(0, 16));
    for (Protocol p : kProtocols) {
      for (double bytes : {4096.0, 1048576.0, 67108864.0}) {
        for (Net net : {Net::kFlow, Net::kFlowUnaggregated, Net::kAnalytical}) {
          INFO(ToString(op) << " " << ToString(p) << ", " << bytes << " bytes, network " << static_cast<int>(net));
          const CollectiveSchedule implicit = ExpandOk(*c, {Algorithm::kRing, p}, bytes);
          const Played lazy = Play(topo, implicit, net, false);
          const Played stored = Play(topo, implicit.Materialized(), net, false);
          // The same transfers in the same order: the same events, to the picosecond and the byte.
          CHECK(lazy.done == stored.done);
          CHECK(lazy.flows == stored.flows);
          CHECK(lazy.flows == static_cast<int64_t>(implicit.transfer_count()));
          CHECK(lazy.link_bytes == stored.link_bytes);
        }
      }
    }
  }
}

// The ring alone, from its dependencies at the caps, against the flow network playing every transfer as its own
// flow (no aggregation), and against the analytical network.
void RequireAloneMatchesFullRun(const Topology& topo, int gpus) {
  CollectiveModel model(topo);
  for (CollectiveOp op : kRingOps) {
    auto c = Prepare(model, op, Range(0, gpus));
    for (Protocol p : kProtocols) {
      for (double bytes : {8192.0, 1048576.0, 67108864.0}) {
        const CollectiveSchedule s = ExpandOk(*c, {Algorithm::kRing, p}, bytes);
        REQUIRE(RingAloneAtCaps(*s.ring, s.efficiencies).has_value());
        const CollectiveSchedule stored = s.Materialized();
        for (Net net : {Net::kFlowUnaggregated, Net::kAnalytical}) {
          INFO(ToString(op) << " " << ToString(p) << ", " << bytes << " bytes, network " << static_cast<int>(net));
          const Played alone = Play(topo, s, net, true);
          const Played full = Play(topo, stored, net, false);
          CHECK(alone.flows == 0);  // the network was not needed
          CHECK(full.flows == static_cast<int64_t>(s.transfer_count()));
          // Each transfer at its cap either way; max-min may settle a hair below a cap where a link is exactly full
          // (the caps sum to its capacity up to rounding), a picosecond at most on a drain.
          INFO(alone.done.picoseconds() << " ps alone, " << full.done.picoseconds() << " ps as flows");
          CHECK(std::llabs(alone.done.picoseconds() - full.done.picoseconds()) <= 1);
        }
      }
    }
  }
}

TEST_CASE("a ring alone takes what its flows take on the network: one node") {
  RequireAloneMatchesFullRun(testing::ShippedTopology("dgx-h100"), 8);
}

TEST_CASE("a ring alone takes what its flows take on the network: 2 and 4 nodes") {
  RequireAloneMatchesFullRun(testing::ShippedTopology("dgx-h100-2node"), 16);
  RequireAloneMatchesFullRun(testing::ShippedTopology("dgx-h100-4node"), 32);
}

TEST_CASE("a ring alone on an oversubscribed fabric") {
  // Half the leaves' uplinks: the rings' caps are set by the busiest link, wherever it is.
  RequireAloneMatchesFullRun(testing::ShippedTopology("dgx-h100-4node-oversub"), 32);
}

TEST_CASE("two ranks exchanging by hand: each step waits for the previous delivery") {
  const Topology topo = testing::ShippedTopology("dgx-h100");
  Router router(topo);
  RingSchedule ring;
  ring.topology = &topo;
  ring.groups = 1;
  ring.ranks = 2;
  ring.steps = 5;
  ScheduledTransfer t;
  t.bytes = 1e6;
  t.max_rate_GBps = 100;  // 1 MB at 100 GB/s: 10 us to drain, far below the NVLinks' 450 GB/s
  t.extra_latency = Time::Nanoseconds(700);
  t.route = router.Find(topo.gpu(0), topo.gpu(1));
  ring.edges.push_back(t);
  t.route = router.Find(topo.gpu(1), topo.gpu(0));
  ring.edges.push_back(t);
  const Time hop = ring.edges[0].route->latency + Time::Nanoseconds(700);
  REQUIRE(ring.edges[1].route->latency == ring.edges[0].route->latency);
  CollectiveSchedule s;
  s.efficiencies.push_back(LinkEfficiency{});
  s.ring = ring;
  // A rank drains its step before the other's data arrives (10 us < 10 us + hop), so every step starts at the
  // previous delivery: 5 x (10 us + hop).
  const Time expected = 5 * (Time::Microseconds(10) + hop);
  CHECK(RingAloneAtCaps(ring, s.efficiencies) == expected);
  CHECK(Play(topo, s, Net::kFlowUnaggregated, true).done == expected);
  CHECK(Play(topo, s, Net::kFlowUnaggregated, false).done == expected);

  // Caps that together need more than a link has: the dependencies alone cannot say, the network decides.
  s.ring->edges[0].max_rate_GBps = s.ring->edges[1].max_rate_GBps = 1e4;
  CHECK_FALSE(RingAloneAtCaps(*s.ring, s.efficiencies).has_value());
  const Played fallback = Play(topo, s, Net::kFlowUnaggregated, true);
  CHECK(fallback.flows == 10);
  CHECK(fallback.done == Play(topo, s, Net::kFlowUnaggregated, false).done);
  // No cap at all: the same.
  s.ring->edges[0].max_rate_GBps = s.ring->edges[1].max_rate_GBps = 0;
  CHECK_FALSE(RingAloneAtCaps(*s.ring, s.efficiencies).has_value());
}

}  // namespace
}  // namespace wiresim
