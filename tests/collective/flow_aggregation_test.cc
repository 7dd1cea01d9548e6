// Collectives on the flow network with flow aggregation on and off (the same completion times), and the link
// loads ClosedFormCollectives reports for closed-form collectives, pinned by the algorithms' traffic by hand.
#include <catch2/catch.hpp>

#include "sim/collective/collective_model.h"
#include "sim/collective/collective_timing.h"
#include "sim/network/flow_network.h"
#include "tests/testing/topology.h"

namespace wiresim {
namespace {

struct Job {
  std::vector<int> gpus;
  CollectiveChoice choice;
  double bytes;
  Time start;
};

// Plays each job's expansion on one FlowNetwork from its start; returns each one's end and the number of
// transfers that joined another's flow.
std::vector<Time> Play(const Topology& topo, const std::vector<Job>& jobs, bool aggregate, int64_t* aggregated) {
  CollectiveModel model(topo);
  Simulator sim;
  FlowNetwork net(sim, topo);
  net.set_aggregation(aggregate);
  std::vector<std::unique_ptr<PreparedCollective>> prepared;
  std::vector<CollectiveSchedule> schedules;
  for (const Job& j : jobs) {
    CollectiveCall call;
    call.gpus = j.gpus;
    auto p = model.Prepare(call, {});
    REQUIRE(p.ok());
    prepared.push_back(std::move(p).value());
    auto s = prepared.back()->Expand(j.choice, j.bytes);
    REQUIRE(s.ok());
    schedules.push_back(std::move(s).value());
  }
  std::vector<Time> done(jobs.size());
  std::vector<std::unique_ptr<ScheduleRun>> runs;
  for (size_t i = 0; i < jobs.size(); ++i) {
    runs.push_back(std::make_unique<ScheduleRun>(sim, net, schedules[i], [&done, &sim, i] { done[i] = sim.Now(); }));
    ScheduleRun* run = runs.back().get();
    sim.Schedule(jobs[i].start, [run] { run->Start(); });
  }
  sim.Run();
  for (const auto& r : runs) REQUIRE(r->done());
  REQUIRE(net.CheckConservation().ok());
  *aggregated = net.stats().aggregated;
  return done;
}

std::vector<int> Range(int from, int to) {
  std::vector<int> v;
  for (int i = from; i < to; ++i) v.push_back(i);
  return v;
}

void RequireSameWithAndWithoutAggregation(const Topology& topo, const std::vector<Job>& jobs) {
  int64_t merged_on = 0, merged_off = 0;
  const std::vector<Time> on = Play(topo, jobs, true, &merged_on);
  const std::vector<Time> off = Play(topo, jobs, false, &merged_off);
  CHECK(merged_off == 0);
  for (size_t i = 0; i < jobs.size(); ++i) {
    INFO("job " << i << ": " << on[i].picoseconds() << " ps aggregated, " << off[i].picoseconds() << " ps not ("
                << merged_on << " transfers joined a flow)");
    CHECK(std::llabs(on[i].picoseconds() - off[i].picoseconds()) <= 1);
  }
}

const CollectiveChoice kRing{Algorithm::kRing, Protocol::kSimple};
const CollectiveChoice kTree{Algorithm::kTree, Protocol::kSimple};
const CollectiveChoice kRingLL{Algorithm::kRing, Protocol::kLL};

TEST_CASE("collectives alone give the same times with flow aggregation on and off") {
  const Topology topo = testing::ShippedTopology("dgx-h100-2node");
  for (double bytes : {4096.0, 1048576.0, 67108864.0}) {
    for (CollectiveChoice c : {kRing, kTree, kRingLL}) {
      INFO(ToString(c.algorithm) << "/" << ToString(c.protocol) << ", " << bytes << " bytes");
      RequireSameWithAndWithoutAggregation(topo, {{Range(0, 16), c, bytes, Time::Zero()}});
    }
  }
}

TEST_CASE("collectives sharing links with other traffic give the same times with aggregation on and off") {
  const Topology topo = testing::ShippedTopology("dgx-h100-2node");
  // A 16-GPU tree all-reduce, a ring over node 0's GPUs that starts 3 us later, and a ring over two GPUs of each
  // node: they meet on node 0's NVLinks and on the NICs.
  RequireSameWithAndWithoutAggregation(topo, {{Range(0, 16), kTree, 33554432.0, Time::Zero()},
                                              {Range(0, 8), kRing, 8388608.0, Time::Microseconds(3)},
                                              {{0, 1, 8, 9}, kRing, 16777216.0, Time::Microseconds(1)}});
}

// The GPU's outgoing NVLinks (to its NVSwitches).
double NvlinkBytesOut(const Topology& topo, const CollectiveLinkLoad& load, int gpu) {
  double sum = 0;
  for (const LinkBytes& lb : load) {
    const Link& link = topo.link(lb.link);
    if (link.from == topo.gpu(gpu) && link.kind == LinkKind::kNvLink) sum += lb.bytes;
  }
  return sum;
}

TEST_CASE("a ring all-reduce's link load: each GPU sends 2(n-1)/n x S over its NVLinks") {
  const Topology topo = testing::ShippedTopology("dgx-h100");
  CollectiveModel model(topo);
  AlgorithmFilter ring;
  ring.algorithms = 1u << static_cast<int>(Algorithm::kRing);
  ring.protocols = 1u << static_cast<int>(Protocol::kSimple);
  ClosedFormCollectives closed(model, ring, nullptr);
  CollectiveCall call;
  call.gpus = Range(0, 8);
  call.bytes = 1 << 26;
  auto load = closed.LinkLoad(call);
  REQUIRE(load.ok());
  // Ring all-reduce over n = 8 ranks: 2(n-1) steps, each rank sending S/n to the next: 2(n-1)/n x S = 1.75 S out of
  // every GPU, all of it over NVLink (one node, one ring).
  for (int g = 0; g < 8; ++g) CHECK(NvlinkBytesOut(topo, **load, g) == Approx(1.75 * call.bytes));
  // Sorted by link, cached.
  for (size_t i = 1; i < (*load)->size(); ++i) CHECK((**load)[i - 1].link < (**load)[i].link);
  auto again = closed.LinkLoad(call);
  REQUIRE(again.ok());
  CHECK(*again == *load);
}

TEST_CASE("a 2-node ring all-reduce's NIC bytes") {
  const Topology topo = testing::ShippedTopology("dgx-h100-2node");
  CollectiveModel model(topo);
  AlgorithmFilter ring;
  ring.algorithms = 1u << static_cast<int>(Algorithm::kRing);
  ring.protocols = 1u << static_cast<int>(Protocol::kSimple);
  ClosedFormCollectives closed(model, ring, nullptr);
  CollectiveCall call;
  call.gpus = Range(0, 16);
  call.bytes = 1 << 26;
  auto load = closed.LinkLoad(call);
  REQUIRE(load.ok());
  // n = 16 ranks, G = 8 rings (one per NIC rail), each ring crossing from node 0 to node 1 once and back once. A
  // ring moves S/(nG) per step over each edge for 2(n-1) = 30 steps, so each rail's NIC sends 30 S / 128 out of
  // host 0 onto the network: the InfiniBand links leaving host 0's NICs carry 8 x 30/128 S = 1.875 S in all,
  // 30/128 S each.
  const Host& host0 = topo.hosts()[0];
  double out = 0;
  int nics_used = 0;
  for (NodeId nic : host0.nics) {
    double from_nic = 0;
    for (const LinkBytes& lb : **load) {
      const Link& link = topo.link(lb.link);
      if (link.from == nic && IsNetworkLink(link.kind)) from_nic += lb.bytes;
    }
    if (from_nic > 0) {
      ++nics_used;
      CHECK(from_nic == Approx(30.0 / 128 * call.bytes));
    }
    out += from_nic;
  }
  CHECK(nics_used == 8);
  CHECK(out == Approx(1.875 * call.bytes));
}

}  // namespace
}  // namespace wiresim
