// FlowNetwork: max-min sharing pinned by closed forms computed by hand in the comments.
#include "sim/network/flow_network.h"

#include <catch2/catch.hpp>

#include "sim/network/analytical_network.h"
#include "tests/testing/topology.h"

namespace wiresim {
namespace {

// gpu0..gpu3 hang off switch `sw` on 100 GB/s links; gpu4 off switch `sw2` on a 450 GB/s NVLink, and `sw2` reaches
// gpu5 only through a NIC on a 50 GB/s InfiniBand link. Every latency is 1 us so deliveries are easy to predict.
// Links (spec order, directed ids 2i forward and 2i+1 back): 0 gpu0-sw, 1 gpu1-sw, 2 gpu2-sw, 3 gpu3-sw,
// 4 gpu4-sw2, 5 sw2-nic, 6 nic-gpu5, 7 sw-sw2.
constexpr const char* kStar = R"(
name = "star"
[[node]]
name = "gpu"
kind = "gpu"
count = 6
[[node]]
name = "sw"
kind = "nvswitch"
[[node]]
name = "sw2"
kind = "nvswitch"
[[node]]
name = "nic"
kind = "nic"
[[link]]
from = "gpu[0-3]"
to = "sw"
kind = "nvlink"
bandwidth_GBps = 100
latency_ns = 500
[[link]]
from = "gpu4"
to = "sw2"
kind = "nvlink"
bandwidth_GBps = 450
latency_ns = 500
[[link]]
from = "sw2"
to = "nic"
kind = "infiniband"
bandwidth_GBps = 50
latency_ns = 500
[[link]]
from = "nic"
to = "gpu5"
kind = "pcie"
bandwidth_GBps = 64
latency_ns = 500
[[link]]
from = "sw"
to = "sw2"
kind = "nvlink"
bandwidth_GBps = 1000
latency_ns = 500
)";

struct Fixture {
  Topology topo = testing::TopologyFromText(kStar);
  Router router{topo};
  Simulator sim;
  FlowNetwork net{sim, topo};

  const Route* route(int a, int b) { return router.Find(topo.gpu(a), topo.gpu(b)); }

  // Starts a transfer at `at` and records when it is delivered.
  void Start(Time at, const Route* r, double bytes, Time* delivered, double cap_GBps = 1e300, LinkEfficiency eff = {}) {
    sim.Schedule(at, [=, this] {
      TransferRequest req;
      req.route = r;
      req.bytes = bytes;
      req.max_rate_GBps = cap_GBps;
      req.efficiency = eff;
      net.Transfer(req, {.on_drained = nullptr, .on_delivered = [=, this] { *delivered = sim.Now(); }});
    });
  }
};

// Completion times are rounded up to the picosecond from double arithmetic; a hand-computed time is met to within
// a few picoseconds.
void RequireNear(Time got, Time want) {
  INFO("got " << got.picoseconds() << " ps, want " << want.picoseconds() << " ps");
  REQUIRE(std::llabs(got.picoseconds() - want.picoseconds()) <= 4);
}

const Time kOneHop = Time::Nanoseconds(500);

TEST_CASE("two flows on one link each get half") {
  Fixture f;
  // gpu0->gpu1 and gpu2->gpu1 both cross sw->gpu1 (100 GB/s). 1e9 bytes each at 50 GB/s: 20 ms, + 2 hops of 0.5 us.
  Time a, b;
  f.Start(Time::Zero(), f.route(0, 1), 1e9, &a);
  f.Start(Time::Zero(), f.route(2, 1), 1e9, &b);
  f.sim.Run();
  RequireNear(a, Time::Milliseconds(20) + 2 * kOneHop);
  RequireNear(b, Time::Milliseconds(20) + 2 * kOneHop);
}

TEST_CASE("links are directional: a send and a receive do not slow each other") {
  Fixture f;
  // gpu0->gpu1 uses gpu0->sw and sw->gpu1; gpu1->gpu0 uses the reverse directions. Each alone: 1e9 / 100 GB/s.
  Time a, b;
  f.Start(Time::Zero(), f.route(0, 1), 1e9, &a);
  f.Start(Time::Zero(), f.route(1, 0), 1e9, &b);
  f.sim.Run();
  RequireNear(a, Time::Milliseconds(10) + 2 * kOneHop);
  RequireNear(b, Time::Milliseconds(10) + 2 * kOneHop);
}

TEST_CASE("a flow through a 50 GB/s NIC and a 450 GB/s NVLink runs at 50") {
  Fixture f;
  // gpu4 -> sw2 (450) -> nic (50) -> gpu5 (64): the NIC link is the bottleneck. 1e9 / 50e9 = 20 ms, 3 hops.
  Time a;
  f.Start(Time::Zero(), f.route(4, 5), 1e9, &a);
  f.sim.Run();
  RequireNear(a, Time::Milliseconds(20) + 3 * kOneHop);
}

TEST_CASE("three flows with staggered starts finish at hand-computed times") {
  Fixture f;
  // All three end at gpu3 and share sw->gpu3 (100 GB/s):
  //   A: 3e9 bytes from t=0; B: 2e9 from 10 ms; C: 0.5e9 from 20 ms.
  //   0-10 ms   A alone at 100 GB/s: sends 1e9 (A left 2e9).
  //   10-20 ms  A, B at 50: each sends 0.5e9 (A 1.5e9, B 1.5e9 left).
  //   20 ms     C joins, 100/3 GB/s each: C's 0.5e9 takes 15 ms -> C drains at 35 ms; A, B have 1e9 left each.
  //   35 ms     A, B at 50: 1e9 takes 20 ms -> both drain at 55 ms.
  // Each is delivered 2 hops (1 us) after it drains.
  Time a, b, c;
  f.Start(Time::Zero(), f.route(0, 3), 3e9, &a);
  f.Start(Time::Milliseconds(10), f.route(1, 3), 2e9, &b);
  f.Start(Time::Milliseconds(20), f.route(2, 3), 0.5e9, &c);
  f.sim.Run();
  RequireNear(c, Time::Milliseconds(35) + 2 * kOneHop);
  RequireNear(a, Time::Milliseconds(55) + 2 * kOneHop);
  RequireNear(b, Time::Milliseconds(55) + 2 * kOneHop);
}

TEST_CASE("a capped flow leaves the rest of the link to the others") {
  Fixture f;
  // On sw->gpu1 (100 GB/s): A capped at 10 GB/s, B uncapped gets the other 90. A: 1e8 / 10e9 = 10 ms.
  // B: 1.8e9 at 90 GB/s for the first 10 ms (0.9e9 sent), then 100 GB/s for the remaining 0.9e9 (9 ms) = 19 ms.
  Time a, b;
  f.Start(Time::Zero(), f.route(0, 1), 1e8, &a, /*cap_GBps=*/10);
  f.Start(Time::Zero(), f.route(2, 1), 1.8e9, &b);
  f.sim.Run();
  RequireNear(a, Time::Milliseconds(10) + 2 * kOneHop);
  RequireNear(b, Time::Milliseconds(19) + 2 * kOneHop);
}

TEST_CASE("a flow's efficiency scales what it gets from each link") {
  Fixture f;
  // NVLink at efficiency 0.5: gpu0->gpu1 runs at 50 GB/s, 1e9 bytes in 20 ms.
  LinkEfficiency half;
  half.set(LinkKind::kNvLink, 0.5);
  Time a;
  f.Start(Time::Zero(), f.route(0, 1), 1e9, &a, 1e300, half);
  f.sim.Run();
  RequireNear(a, Time::Milliseconds(20) + 2 * kOneHop);
}

TEST_CASE("a multipath flow is limited by its most contended link") {
  Fixture f;
  // X crosses links p and q (sw->gpu1, sw->gpu2) with share 1/2 each; Y crosses p alone. Raising both rates
  // together, p carries r/2 + r and fills at r = 100/1.5 = 66.67 GB/s; q (r/2) never fills. Both freeze there.
  // Y: 2e9 / 66.67e9 = 30 ms. X: its 2e9 also take 30 ms at 66.67 GB/s.
  const Route* r01 = f.route(0, 1);
  const Route* r02 = f.route(0, 2);
  Route x;
  x.hops = {{r01->hops.back().link, 0.5}, {r02->hops.back().link, 0.5}};
  Route y;
  y.hops = {{r01->hops.back().link, 1.0}};
  Time tx, ty;
  f.Start(Time::Zero(), &x, 2e9, &tx);
  f.Start(Time::Zero(), &y, 2e9, &ty);
  f.sim.Run();
  RequireNear(tx, Time::Milliseconds(30));
  RequireNear(ty, Time::Milliseconds(30));
}

TEST_CASE("links a route crosses in proportion are one bundle until a route crosses part of it") {
  Fixture f;
  // X crosses p and q (sw->gpu1, sw->gpu2, 100 GB/s each) with half its bytes on each: the network keeps them as
  // one 200 GB/s bundle, and X alone runs at 200 GB/s (each link carrying its 100). X: 4e9 bytes, 2e9 by 10 ms.
  // At 10 ms Y (2e9) crosses p alone: the bundle splits, and the rates are the per-link max-min ones: p carries
  // r/2 + r and fills at r = 66.67 GB/s for both. X's last 2e9 and Y's 2e9 take 30 ms: both drain at 40 ms.
  const Route* r01 = f.route(0, 1);
  const Route* r02 = f.route(0, 2);
  const LinkId p = r01->hops.back().link, q = r02->hops.back().link;
  Route x;
  x.hops = {{p, 0.5}, {q, 0.5}};
  Route y;
  y.hops = {{p, 1.0}};
  Time tx, ty;
  f.Start(Time::Zero(), &x, 4e9, &tx);
  f.Start(Time::Milliseconds(10), &y, 2e9, &ty);
  f.sim.RunUntil(Time::Milliseconds(5));
  CHECK(f.net.LinkPayloadRate(p) == Approx(100e9));
  CHECK(f.net.LinkPayloadRate(q) == Approx(100e9));
  f.sim.RunUntil(Time::Milliseconds(20));
  CHECK(f.net.LinkPayloadRate(p) == Approx(100e9));        // X's half and Y
  CHECK(f.net.LinkPayloadRate(q) == Approx(100e9 / 3.0));  // X's half of 66.67
  f.sim.Run();
  RequireNear(tx, Time::Milliseconds(40));
  RequireNear(ty, Time::Milliseconds(40));
}

TEST_CASE("drained comes one route latency before delivered, and counters return to zero") {
  Fixture f;
  Time drained, delivered;
  TransferRequest req;
  req.route = f.route(4, 5);
  req.bytes = 5e8;  // 10 ms at 50 GB/s
  f.net.Transfer(req, {.on_drained = [&] { drained = f.sim.Now(); }, .on_delivered = [&] { delivered = f.sim.Now(); }});
  REQUIRE(f.net.in_flight() == 1);
  f.sim.RunUntil(Time::Milliseconds(5));
  // Mid-transfer the NIC link carries the flow's full 50 GB/s.
  REQUIRE(f.net.LinkPayloadRate(req.route->hops[1].link) == Approx(50e9));
  f.sim.Run();
  RequireNear(drained, Time::Milliseconds(10));
  RequireNear(delivered, Time::Milliseconds(10) + 3 * kOneHop);
  REQUIRE(f.net.in_flight() == 0);
  REQUIRE(f.net.active_flows() == 0);
}

TEST_CASE("flow and analytical agree when no link is shared") {
  // Four transfers on disjoint directed links, started together and at different times: each alone on its route, so
  // the flow model's max-min rate is the route's bottleneck and both models give latency + bytes / bottleneck.
  struct Case {
    int src, dst;
    Time at;
    double bytes;
  };
  const Case cases[] = {{0, 1, Time::Zero(), 3e9},
                        {2, 3, Time::Zero(), 7e8},
                        {4, 5, Time::Microseconds(3), 1.25e9},
                        {1, 0, Time::Milliseconds(1), 12345}};
  std::vector<Time> flow_done(4), analytical_done(4);
  for (int model = 0; model < 2; ++model) {
    Topology topo = testing::TopologyFromText(kStar);
    Router router(topo);
    Simulator sim;
    FlowNetwork flow(sim, topo);
    AnalyticalNetwork analytical(sim, topo);
    Network& net = model == 0 ? static_cast<Network&>(flow) : analytical;
    std::vector<Time>& done = model == 0 ? flow_done : analytical_done;
    for (size_t i = 0; i < 4; ++i) {
      const Case c = cases[i];
      const Route* r = router.Find(topo.gpu(c.src), topo.gpu(c.dst));
      sim.Schedule(c.at, [&net, &sim, &done, r, c, i] {
        TransferRequest req;
        req.route = r;
        req.bytes = c.bytes;
        net.Transfer(req, {.on_drained = nullptr, .on_delivered = [&done, &sim, i] { done[i] = sim.Now(); }});
      });
    }
    sim.Run();
  }
  for (size_t i = 0; i < 4; ++i) {
    INFO("transfer " << i);
    REQUIRE(std::llabs(flow_done[i].picoseconds() - analytical_done[i].picoseconds()) <= 1);
  }
  // And the analytical time is the closed form: gpu4->gpu5 starts at 3 us, 1.25e9 / 50e9 = 25 ms, 3 hops of 0.5 us.
  RequireNear(analytical_done[2], Time::Microseconds(3) + Time::Milliseconds(25) + 3 * kOneHop);
}

TEST_CASE("a zero-byte transfer is delivered one latency later") {
  Fixture f;
  Time a;
  f.Start(Time::Microseconds(7), f.route(0, 1), 0, &a);
  f.sim.Run();
  REQUIRE(a == Time::Microseconds(7) + 2 * kOneHop);
}

}  // namespace
}  // namespace wiresim

namespace wiresim {
namespace {

// Star link ids (see kStar): gpu0->sw is 0, sw->gpu1 is 3, sw->gpu3 is 7.
constexpr LinkId kGpu0Up = 0, kSwToGpu1 = 3;

// The same transfers, aggregated or not: three identical gpu0->gpu1 transfers at time zero (one flow of 3 when
// aggregated), gpu2->gpu1 and gpu0->gpu3 beside them, and gpu2->gpu1 again at 10 ms, which changes every rate.
std::vector<Time> RunMixed(bool aggregate, int64_t* aggregated, Fixture& f) {
  f.net.set_aggregation(aggregate);
  std::vector<Time> done(6);
  for (int i = 0; i < 3; ++i) f.Start(Time::Zero(), f.route(0, 1), 1e9, &done[static_cast<size_t>(i)]);
  f.Start(Time::Zero(), f.route(2, 1), 1e9, &done[3]);
  f.Start(Time::Zero(), f.route(0, 3), 1e9, &done[4]);
  f.Start(Time::Milliseconds(10), f.route(2, 1), 5e8, &done[5]);
  f.sim.Run();
  *aggregated = f.net.stats().aggregated;
  return done;
}

TEST_CASE("identical transfers started together run as one flow and finish as the separate flows do") {
  Fixture on, off;
  int64_t merged_on = 0, merged_off = 0;
  const std::vector<Time> a = RunMixed(true, &merged_on, on);
  const std::vector<Time> b = RunMixed(false, &merged_off, off);
  CHECK(merged_on == 2);  // the 2nd and 3rd gpu0->gpu1 joined the 1st
  CHECK(merged_off == 0);
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("transfer " << i << ": " << a[i].picoseconds() << " vs " << b[i].picoseconds() << " ps");
    CHECK(std::llabs(a[i].picoseconds() - b[i].picoseconds()) <= 1);
  }
  // By hand, until 10 ms: sw->gpu1 carries 4 flows (3 + gpu2's) and gpu0->sw 4 (3 + gpu0->gpu3): 25 GB/s each,
  // 2.5e8 bytes each by 10 ms. Then sw->gpu1 carries 5: 20 GB/s each, and gpu0->gpu3 takes what gpu0->sw leaves,
  // 100 - 3 x 20 = 40 GB/s. The late 5e8 flow drains first, at 10 + 5e8 / 20e9 s = 35 ms, having moved 5e8 while
  // the others moved 5e8 more (7.5e8 in all). Then 4 flows on sw->gpu1 again at 25 GB/s: 2.5e8 left -> 45 ms.
  // gpu0->gpu3: 2.5e8 + 25 ms x 40 GB/s = 1.25e9 > 1e9, so it drains at 10 + 7.5e8 / 40e9 s = 28.75 ms; from then
  // gpu0->sw has spare room and nothing changes the others (sw->gpu1 is their bottleneck).
  RequireNear(a[0], Time::Milliseconds(45) + 2 * kOneHop);
  RequireNear(a[3], Time::Milliseconds(45) + 2 * kOneHop);
  RequireNear(a[4], Time::Microseconds(28750) + 2 * kOneHop);
  RequireNear(a[5], Time::Milliseconds(35) + 2 * kOneHop);
}

TEST_CASE("the flow network's ledger: bytes per link and busy time, and conservation") {
  Fixture f;
  Time a, b, c;
  // 1e9 bytes gpu0->gpu1 alone at 100 GB/s: busy 0-10 ms; two more of 1e9 from 20 ms share it: 20-40 ms.
  f.Start(Time::Zero(), f.route(0, 1), 1e9, &a);
  f.Start(Time::Milliseconds(20), f.route(0, 1), 1e9, &b);
  f.Start(Time::Milliseconds(20), f.route(0, 1), 1e9, &c);
  f.sim.RunUntil(Time::Milliseconds(25));
  CHECK_FALSE(f.net.CheckConservation().ok());  // two in flight
  f.sim.Run();
  const LinkLedger& l = f.net.ledger();
  CHECK(l.bytes(kGpu0Up) == Approx(3e9));
  CHECK(l.bytes(kSwToGpu1) == Approx(3e9));
  RequireNear(l.busy(kGpu0Up), Time::Milliseconds(30));
  RequireNear(l.busy(kSwToGpu1), Time::Milliseconds(30));
  CHECK(l.bytes(kSwToGpu1 + 4) == 0);  // sw->gpu3: nothing
  CHECK(f.net.CheckConservation().ok());
  CHECK(l.transfers_started() == 3);
  CHECK(l.bytes_delivered() == Approx(3e9));
}

TEST_CASE("the analytical network's ledger counts overlapping transfers' busy time once") {
  Topology topo = testing::TopologyFromText(kStar);
  Router router(topo);
  Simulator sim;
  AnalyticalNetwork net(sim, topo);
  const Route* r = router.Find(topo.gpu(0), topo.gpu(1));
  const auto start = [&](Time at, double bytes) {
    sim.Schedule(at, [&, bytes] {
      TransferRequest req;
      req.route = r;
      req.bytes = bytes;
      net.Transfer(req, {});
    });
  };
  // Each alone at 100 GB/s: 10 ms from 0, 10 ms from 5 ms (union 0-15 ms), 1 ms from 30 ms: 16 ms busy, 2.1e9 bytes.
  start(Time::Zero(), 1e9);
  start(Time::Milliseconds(5), 1e9);
  start(Time::Milliseconds(30), 1e8);
  sim.Run();
  RequireNear(net.ledger().busy(kGpu0Up), Time::Milliseconds(16));
  CHECK(net.ledger().bytes(kGpu0Up) == Approx(2.1e9));
  CHECK(net.CheckConservation().ok());
}

}  // namespace
}  // namespace wiresim
