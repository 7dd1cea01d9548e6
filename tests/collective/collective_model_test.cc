// The collective model against closed forms derived by hand, against its own expansion into transfers, and the
// cases the design must get right for the right reason: PCIe-joined NVLink islands, NIC-paced rings across DGX H100
// nodes, NVLS, and contention between collectives.
#include "sim/collective/collective_model.h"

#include <catch2/catch.hpp>

#include "sim/network/analytical_network.h"
#include "sim/network/flow_network.h"
#include "sim/topology/routing.h"
#include "tests/testing/topology.h"

namespace wiresim {
namespace {

// 4 A100s on one NVSwitch, 12 NVLink3 links each (300 GB/s per direction), 0.3 us per hop: every GPU pair is
// 2 hops, 0.6 us, 300 GB/s line rate, 240 GB/s at NCCL's Ampere NVLink efficiency (20 of 25 GB/s per link).
constexpr const char* kUniform4 = R"(
name = "uniform4"
[[template]]
name = "box"
  [[template.node]]
  name = "gpu"
  kind = "gpu"
  count = 4
  model = "a100-sxm-80gb"
  [[template.node]]
  name = "sw"
  kind = "nvswitch"
  [[template.link]]
  from = "gpu[*]"
  to = "sw"
  preset = "nvlink3"
  count = 12
  latency_ns = 300
[[host]]
template = "box"
name = "box"
)";

// The seed's 8-GPU box: two HGX-A100-4GPU boards, each board's GPUs fully connected by 4 NVLink3 links per pair
// (100 GB/s per direction), the boards joined only through PCIe Gen4 x16 (31.5 GB/s) to their CPU sockets and a
// 64 GB/s socket link (fast enough that PCIe, not the socket link, is the narrowest hop between the boards).
constexpr const char* kIslands = R"(
name = "islands"
[[template]]
name = "box"
  [[template.node]]
  name = "gpu"
  kind = "gpu"
  count = 8
  model = "a100-sxm-80gb"
  [[template.node]]
  name = "cpu"
  kind = "cpu"
  count = 2
  [[template.link]]
  from = "gpu0"
  to = "gpu[1-3]"
  preset = "nvlink3"
  count = 4
  [[template.link]]
  from = "gpu1"
  to = "gpu[2-3]"
  preset = "nvlink3"
  count = 4
  [[template.link]]
  from = "gpu2"
  to = "gpu3"
  preset = "nvlink3"
  count = 4
  [[template.link]]
  from = "gpu4"
  to = "gpu[5-7]"
  preset = "nvlink3"
  count = 4
  [[template.link]]
  from = "gpu5"
  to = "gpu[6-7]"
  preset = "nvlink3"
  count = 4
  [[template.link]]
  from = "gpu6"
  to = "gpu7"
  preset = "nvlink3"
  count = 4
  [[template.link]]
  from = "gpu[0-3]"
  to = "cpu0"
  preset = "pcie4x16"
  [[template.link]]
  from = "gpu[4-7]"
  to = "cpu1"
  preset = "pcie4x16"
  [[template.link]]
  from = "cpu0"
  to = "cpu1"
  kind = "cpu_interconnect"
  bandwidth_GBps = 64
[[host]]
template = "box"
name = "box"
)";

std::vector<int> Range(int first, int last) {
  std::vector<int> v;
  for (int i = first; i <= last; ++i) v.push_back(i);
  return v;
}

std::unique_ptr<PreparedCollective> Prepare(CollectiveModel& model, CollectiveOp op, std::vector<int> gpus,
                                            GroupOptions options = {}) {
  CollectiveCall call;
  call.op = op;
  call.gpus = std::move(gpus);
  auto p = model.Prepare(call, options);
  INFO(p.status().ToString());
  REQUIRE(p.ok());
  return std::move(p).value();
}

enum class Net { kAnalytical, kFlow };

// Plays the expansion of each (collective, choice, bytes) at time zero on one network; returns each one's end.
struct Job {
  PreparedCollective* collective;
  CollectiveChoice choice;
  double bytes;
};
std::vector<Time> Simulate(const Topology& topo, const std::vector<Job>& jobs, Net kind) {
  Simulator sim;
  AnalyticalNetwork analytical(sim, topo);
  FlowNetwork flow(sim, topo);
  Network& net = kind == Net::kFlow ? static_cast<Network&>(flow) : analytical;
  std::vector<CollectiveSchedule> schedules;
  for (const Job& j : jobs) {
    auto s = j.collective->Expand(j.choice, j.bytes);
    REQUIRE(s.ok());
    schedules.push_back(std::move(s).value());
  }
  std::vector<Time> done(jobs.size());
  std::vector<std::unique_ptr<ScheduleRun>> runs;
  for (size_t i = 0; i < jobs.size(); ++i) {
    runs.push_back(std::make_unique<ScheduleRun>(sim, net, schedules[i], [&done, &sim, i] { done[i] = sim.Now(); }));
    runs.back()->Start();
  }
  sim.Run();
  for (const auto& r : runs) REQUIRE(r->done());
  return done;
}

double Busbw(CollectiveOp op, int n, double bytes, Time t) {
  return bytes / t.ToSeconds() / 1e9 * BusBandwidthFactor(op, n);
}

const CollectiveChoice kRingSimple{Algorithm::kRing, Protocol::kSimple};

// The model with the terms that later tests pin one by one switched off (the ring's local copy, the A100 step
// factor), so the textbook forms below hold exactly.
CollectiveParams TextbookParams() {
  CollectiveParams p = CollectiveParams::Defaults();
  p.ring_local_copy = 0;
  p.sm80_nvlink_step_factor = {1, 1, 1};
  return p;
}

TEST_CASE("ring all-reduce is the textbook closed form, and its transfers add up to it") {
  const Topology topo = testing::TopologyFromText(kUniform4);
  CollectiveModel model(topo, TextbookParams());
  auto ar = Prepare(model, CollectiveOp::kAllReduce, Range(0, 3));
  const double S = 240e6;
  // T = launch 5 us + NCCL's Ring/Simple base latency 8.4 us
  //     + 2(n-1) steps x (0.6 us of links + Simple's 3.4 - 0.6 us of handshake over NVLink)
  //     + 2(n-1)/n x S / B, with B = 300 GB/s x 0.8 = 240 GB/s: 1.5 x 1 ms.
  const Time expected = Time::FromMicroseconds(5 + 8.4 + 6 * 3.4) + Time::FromSecondsCeil(1.5 * S / 240e9);
  const Time closed = ar->Cost(kRingSimple, S);
  CHECK(std::llabs(closed.picoseconds() - expected.picoseconds()) <= 2);
  // Each of the 6 steps is one transfer per rank, each alone on its links: both network models give the same time,
  // up to a picosecond of rounding per step.
  for (Net net : {Net::kAnalytical, Net::kFlow}) {
    const Time t = Simulate(topo, {{ar.get(), kRingSimple, S}}, net)[0];
    INFO("network " << (net == Net::kFlow ? "flow" : "analytical"));
    CHECK(std::llabs(t.picoseconds() - closed.picoseconds()) <= 8);
  }
}

TEST_CASE("all-gather and reduce-scatter rings take n-1 steps") {
  const Topology topo = testing::TopologyFromText(kUniform4);
  CollectiveModel model(topo, TextbookParams());
  const double S = 240e6;  // the total buffer, as nccl-tests counts it
  for (CollectiveOp op : {CollectiveOp::kAllGather, CollectiveOp::kReduceScatter}) {
    auto c = Prepare(model, op, Range(0, 3));
    // 5 + 8.4 + 3 x 3.4 us + (n-1)/n x S / 240 GB/s = 0.75 ms.
    const Time expected = Time::FromMicroseconds(5 + 8.4 + 3 * 3.4) + Time::FromSecondsCeil(0.75 * S / 240e9);
    CHECK(std::llabs(c->Cost(kRingSimple, S).picoseconds() - expected.picoseconds()) <= 2);
    const Time t = Simulate(topo, {{c.get(), kRingSimple, S}}, Net::kFlow)[0];
    CHECK(std::llabs(t.picoseconds() - expected.picoseconds()) <= 8);
  }
}

TEST_CASE("broadcast pipelines chunks down a chain") {
  const Topology topo = testing::TopologyFromText(kUniform4);
  CollectiveModel model(topo, TextbookParams());
  auto bc = Prepare(model, CollectiveOp::kBroadcast, Range(0, 3));
  // NCCL's channel search on 240 GB/s of NVLink finds 6 channels at 40 GB/s and, at 25 GB/s or more, doubles them:
  // 12 channels; a Simple chunk is 512 KiB per channel, 6 MiB for the chain.
  REQUIRE(bc->channels(Algorithm::kRing) == 12);
  const double S = 60.0 * 1024 * 1024;  // 10 chunks of 6 MiB
  // Three hops of 3.4 us, base 8.4, launch 5; chunks follow each other: the first crosses 3 hops, the other 9
  // arrive one chunk time d = 6 MiB / 240 GB/s apart: 3d + 9d.
  const double d = 6.0 * 1024 * 1024 / 240e9;
  const Time expected = Time::FromMicroseconds(5 + 8.4 + 3 * 3.4) + Time::FromSecondsCeil(12 * d);
  CHECK(std::llabs(bc->Cost(kRingSimple, S).picoseconds() - expected.picoseconds()) <= 4);
  const Time t = Simulate(topo, {{bc.get(), kRingSimple, S}}, Net::kFlow)[0];
  CHECK(std::llabs(t.picoseconds() - expected.picoseconds()) <= 64);
}

TEST_CASE("NVLS on a DGX H100: each GPU moves S(n+1)/n each way through the switches") {
  const Topology topo = testing::ShippedTopology("dgx-h100");
  CollectiveModel model(topo);
  auto ar = Prepare(model, CollectiveOp::kAllReduce, Range(0, 7));
  const CollectiveChoice nvls{Algorithm::kNvls, Protocol::kSimple};
  const double S = 8.0 * 1024 * 1024 * 1024;
  // 450 GB/s of NVLink4 per GPU x 0.824 (NCCL's 20.6 of 25 GB/s per link) x 0.85 (NCCL's nvlsEfficiency, the
  // switch's sustained rate); latency: launch 5 + the kernel's 8.4 us. The pipeline: 16 channels x 8 heads move a
  // 128 KiB chunk each per step (16 MiB). A step takes max(6.25 us + 16 MiB x 9/8 / 370.8 GB/s = 57.15 us,
  // 16 MiB x 9/8 / 315.18 GB/s = 59.92 us): the sustained rate binds, so the steps add nothing to the bytes' time
  // and the fill is 1.5 such steps.
  const double rate = 450e9 * 0.824 * 0.85;
  const double step = 16.0 * 1024 * 1024;
  const Time expected =
      Time::FromMicroseconds(13.4) + Time::FromSecondsCeil(S * 9.0 / 8.0 / rate + 1.5 * step * 9.0 / 8.0 / rate);
  CHECK(std::llabs(ar->Cost(nvls, S).picoseconds() - expected.picoseconds()) <= 2);
  // busbw = 2(n-1)/n x S / T: about 489 GB/s (490 for the bytes alone), where NCCL maintainers put an 8x H100 NVLS
  // peak "about 480" and ../shared/refdata/stas00_mlengineering_collective_and_matmul_measurements.md measures
  // 473-482 on 8x H200.
  const double busbw = Busbw(CollectiveOp::kAllReduce, 8, S, expected);
  CHECK(busbw == Approx(480).epsilon(0.02));
  // The transfers (one up and one down per GPU, each on its own NVLinks) give the same time on the flow network.
  const Time t = Simulate(topo, {{ar.get(), nvls, S}}, Net::kFlow)[0];
  CHECK(std::llabs(t.picoseconds() - expected.picoseconds()) <= 4);
}

TEST_CASE("NCCL's choice on one DGX H100: ring LL up to 1 MiB, NVLS above") {
  // ../shared/refdata/stas00_mlengineering_collective_and_matmul_measurements.md, section 2: on 8x H200 NCCL ran
  // Ring/LL up to 1 MiB and NVLS/Simple from 2 MiB up.
  const Topology topo = testing::ShippedTopology("dgx-h100");
  CollectiveModel model(topo);
  auto ar = Prepare(model, CollectiveOp::kAllReduce, Range(0, 7));
  for (double s : {8.0, 65536.0, 1048576.0}) {
    auto c = ar->Choose(s, {});
    REQUIRE(c.ok());
    CHECK(*c == CollectiveChoice{Algorithm::kRing, Protocol::kLL});
  }
  for (double s : {2097152.0, 1073741824.0}) {
    auto c = ar->Choose(s, {});
    REQUIRE(c.ok());
    CHECK(*c == CollectiveChoice{Algorithm::kNvls, Protocol::kSimple});
  }
  // Forcing what cannot run is an error that says why.
  AlgorithmFilter tree_only;
  REQUIRE_FALSE(ParseAlgorithmList("nvlstree", &tree_only));
  auto bad = ar->Choose(1 << 20, tree_only);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("several nodes") != std::string::npos);
}

TEST_CASE("the seed's box: all-reduce over both NVLink islands is paced by PCIe") {
  const Topology topo = testing::TopologyFromText(kIslands);
  CollectiveModel model(topo);
  auto all8 = Prepare(model, CollectiveOp::kAllReduce, Range(0, 7));
  auto island = Prepare(model, CollectiveOp::kAllReduce, Range(0, 3));
  const double S = 1024.0 * 1024 * 1024;
  // The ring over 8 crosses between the boards twice (3 -> 4 and 7 -> 0), each crossing paced by a PCIe Gen4 x16
  // hop: 31.5 GB/s x NCCL's PCIe efficiency 0.76 = 23.9 GB/s per ring edge, and a ring's busbw is its edge rate,
  // less the loop's local copy: 2(n-1) = 14 sending steps and half a step of copying, 14 / 14.5.
  const double pcie = 31.5 * 0.76;
  const double busbw8 = Busbw(CollectiveOp::kAllReduce, 8, S, all8->Cost(kRingSimple, S));
  CHECK(busbw8 == Approx(pcie * 14 / 14.5).epsilon(0.01));
  // Inside one island every pair has 4 NVLink3 links (100 GB/s x 0.8 = 80 GB/s) and NCCL's rings take all six
  // directed orders, each link in two of them, so each GPU sends on its 12 links at once: 3 x 80 = 240 GB/s; 6 steps
  // and half a step.
  const double busbw4 = Busbw(CollectiveOp::kAllReduce, 4, S, island->Cost(kRingSimple, S));
  CHECK(busbw4 == Approx(240 * 6 / 6.5).epsilon(0.01));
  // With NCCL's own choices, 8 GPUs are still slower per byte than 4 (a larger all-reduce moves more per GPU,
  // 2(n-1)/n, but here it is the PCIe hop that makes the difference).
  auto p8 = all8->Predict(S, {});
  auto p4 = island->Predict(S, {});
  REQUIRE(p8.ok());
  REQUIRE(p4.ok());
  CHECK(p8->time.ToSeconds() > 2 * p4->time.ToSeconds());
  CHECK(Busbw(CollectiveOp::kAllReduce, 8, S, p8->time) < pcie * 1.01);
}

TEST_CASE("two DGX H100 nodes: a 16-GPU ring is paced by the NICs") {
  const Topology topo = testing::ShippedTopology("dgx-h100-2node");
  CollectiveModel model(topo);
  auto ar = Prepare(model, CollectiveOp::kAllReduce, Range(0, 15));
  REQUIRE(ar->group().nodes() == 2);
  REQUIRE(ar->group().channel_groups() == 8);  // one ring per NIC rail
  const double S = 8.0 * 1024 * 1024 * 1024;
  // Each of the 8 rings crosses between the nodes once each way, on its own rail: the 8 NICs carry 1/8 of the
  // data each, so the ring's busbw is 8 x 50 GB/s x 0.94 (NDR NICs reach 47 of 50 GB/s, NCCL maintainers in
  // ../shared/refdata/github_issues_nccl_measurements_digest.md) = 376 GB/s, about the node's NIC line rate.
  // NVLink alone would allow more: each GPU sends 7/8 of its ring traffic over NVLink, 370.8 x 8/7 = 424 GB/s.
  // The NICs drain their edges while the kernels go on, so only the loop's local copy adds to the 30 NIC-paced
  // steps: half a step at the pace of the NVLink edges, whose busiest link carries 7 or 8 of the 8 rings' 1/128 of
  // S per step at 370.8 GB/s, against 1/128 at 47 GB/s on a NIC: 0.5 x (7 or 8) x 47 / 370.8 of a NIC step.
  const double busbw = Busbw(CollectiveOp::kAllReduce, 16, S, ar->Cost(kRingSimple, S));
  const double nic_paced = 8 * 50 * 0.94;
  // (and the ring's latency, 30 steps of a few us against 45 ms of bytes: under 0.5%).
  CHECK(busbw >= nic_paced * 30 / (30 + 0.5 * 8 * 47 / 370.8) * 0.995);
  CHECK(busbw <= nic_paced * 30 / (30 + 0.5 * 7 * 47 / 370.8) * 1.001);
  CHECK(busbw < 0.95 * 370.8 * 8 / 7);
  // The transfers on the flow network agree on the bandwidth (the rings share NVLinks, which the flow model shares
  // max-min). The closed form charges every step its hop latency, as NCCL's model does; step by step, a rank
  // starts sending as soon as its data is in, so the transfers hide up to that much latency behind the slow rail.
  const double S2 = 512.0 * 1024 * 1024;
  const Time closed = ar->Cost(kRingSimple, S2);
  const Time latency = ar->Cost(kRingSimple, 0) - CollectiveParams::Defaults().launch_overhead;
  const Time flow = Simulate(topo, {{ar.get(), kRingSimple, S2}}, Net::kFlow)[0];
  CHECK(flow <= closed);
  CHECK(flow >= closed - latency);
}

TEST_CASE("tree, NVLSTree and PAT expansions agree with their closed forms when nothing else runs") {
  const Topology topo = testing::ShippedTopology("dgx-h100-2node");
  CollectiveModel model(topo);
  const double S = 256.0 * 1024 * 1024;
  auto ar = Prepare(model, CollectiveOp::kAllReduce, Range(0, 15));
  for (CollectiveChoice c : {CollectiveChoice{Algorithm::kTree, Protocol::kSimple},
                             CollectiveChoice{Algorithm::kNvlsTree, Protocol::kSimple}}) {
    INFO(ToString(c.algorithm));
    const Time flow = Simulate(topo, {{ar.get(), c, S}}, Net::kFlow)[0];
    CHECK(flow.ToSeconds() == Approx(ar->Cost(c, S).ToSeconds()).epsilon(0.02));
  }
  // PAT: one GPU per node (GPU 0 of each).
  auto ag = Prepare(model, CollectiveOp::kAllGather, {0, 8});
  const CollectiveChoice pat{Algorithm::kPat, Protocol::kSimple};
  const Time flow = Simulate(topo, {{ag.get(), pat, S}}, Net::kFlow)[0];
  CHECK(flow.ToSeconds() == Approx(ag->Cost(pat, S).ToSeconds()).epsilon(0.01));
}

// Four DGX H100 nodes, 32 GPUs: each node's NIC on rail j carries several of its own collective's transfers at once
// (a binary tree over 4 nodes gives the root two children, and the mirrored tree's edge on the same rail makes 3
// streams out of one NIC; rings of 8 rails share each GPU's NVLinks). The analytical network gives a transfer its
// route alone, so an expansion whose transfers did not say what they share ran up to 4x too fast (the 64 MiB
// all-reduce on 1,024 GPUs: 269 us against the closed form's 579). With the transfers capped at their share of
// the links, the two networks give the same rates: their times differ only by the rounding of each drain up to the
// picosecond (at most one per transfer on the critical path: 2(n-1) = 62 ring steps, a few hundred chunk hops of a
// chain), so 1 ns holds them. Trees and NVLSTree start every transfer at once and charge latency and fill as the
// closed form does, and a chain's chunks follow one another as the closed form's fill says, so these match the
// closed form to the same rounding; a ring's transfers hide up to the closed form's per-step latency behind the
// slowest rail (see "two DGX H100 nodes" above).
TEST_CASE("without other traffic the analytical and flow expansions agree, and with the closed form, across nodes") {
  const Topology topo = testing::ShippedTopology("dgx-h100-4node");
  CollectiveModel model(topo);
  const double S = 64.0 * 1024 * 1024;
  auto ar = Prepare(model, CollectiveOp::kAllReduce, Range(0, 31));
  auto bc = Prepare(model, CollectiveOp::kBroadcast, Range(0, 31));
  struct Case {
    PreparedCollective* collective;
    CollectiveChoice choice;
    bool closed_to_rounding;
  };
  for (const Case& c : {Case{ar.get(), {Algorithm::kTree, Protocol::kLL128}, true},
                        Case{ar.get(), {Algorithm::kTree, Protocol::kSimple}, true},
                        Case{ar.get(), {Algorithm::kNvlsTree, Protocol::kSimple}, true},
                        Case{ar.get(), {Algorithm::kRing, Protocol::kSimple}, false},
                        Case{bc.get(), {Algorithm::kRing, Protocol::kLL128}, true}}) {
    INFO(ToString(c.collective->op()) << " " << ToString(c.choice.algorithm) << "/" << ToString(c.choice.protocol));
    const Time analytical = Simulate(topo, {{c.collective, c.choice, S}}, Net::kAnalytical)[0];
    const Time flow = Simulate(topo, {{c.collective, c.choice, S}}, Net::kFlow)[0];
    const Time closed = c.collective->Cost(c.choice, S);
    INFO("analytical " << analytical.picoseconds() << " ps, flow " << flow.picoseconds() << " ps, closed "
                       << closed.picoseconds() << " ps");
    CHECK(std::llabs(analytical.picoseconds() - flow.picoseconds()) <= 1000);
    if (c.closed_to_rounding) {
      CHECK(std::llabs(analytical.picoseconds() - closed.picoseconds()) <= 1000);
    } else {
      const Time latency = c.collective->Cost(c.choice, 0) - CollectiveParams::Defaults().launch_overhead;
      CHECK(analytical <= closed);
      CHECK(analytical >= closed - latency);
    }
  }
}

TEST_CASE("contention: all-reduces on the two halves of one DGX H100 do not slow each other") {
  const Topology topo = testing::ShippedTopology("dgx-h100");
  CollectiveModel model(topo);
  auto a = Prepare(model, CollectiveOp::kAllReduce, Range(0, 3));
  auto b = Prepare(model, CollectiveOp::kAllReduce, Range(4, 7));
  const double S = 256.0 * 1024 * 1024;
  const CollectiveChoice ca = *a->Choose(S, {});
  const CollectiveChoice cb = *b->Choose(S, {});
  const Time alone = Simulate(topo, {{a.get(), ca, S}}, Net::kFlow)[0];
  const std::vector<Time> both = Simulate(topo, {{a.get(), ca, S}, {b.get(), cb, S}}, Net::kFlow);
  // Each GPU's traffic stays on its own NVLinks (to the switches and back): nothing is shared.
  CHECK(both[0] == alone);
  CHECK(std::llabs(both[1].picoseconds() - alone.picoseconds()) <= 4);
}

TEST_CASE("contention: two 2-node all-reduces forced through the same NICs each take about twice as long") {
  const Topology topo = testing::ShippedTopology("dgx-h100-2node");
  CollectiveModel model(topo);
  const std::vector<int> left = {0, 1, 2, 3, 8, 9, 10, 11}, right = {4, 5, 6, 7, 12, 13, 14, 15};
  auto a = Prepare(model, CollectiveOp::kAllReduce, left);
  auto b_own = Prepare(model, CollectiveOp::kAllReduce, right);
  GroupOptions same_nics;
  same_nics.nics = {0, 1, 2, 3};  // as NCCL_IB_HCA would: the left half's NICs
  auto b_forced = Prepare(model, CollectiveOp::kAllReduce, right, same_nics);
  const double S = 256.0 * 1024 * 1024;
  // Rings: each half is paced by its 4 NICs (4 x 47 GB/s), well below what NVLink allows it.
  const Time alone = Simulate(topo, {{a.get(), kRingSimple, S}}, Net::kFlow)[0];
  CHECK(Busbw(CollectiveOp::kAllReduce, 8, S, alone) == Approx(4 * 50 * 0.94).epsilon(0.03));
  // On their own rails the halves do not meet.
  const auto apart = Simulate(topo, {{a.get(), kRingSimple, S}, {b_own.get(), kRingSimple, S}}, Net::kFlow);
  CHECK(apart[0].ToSeconds() == Approx(alone.ToSeconds()).epsilon(0.01));
  CHECK(apart[1].ToSeconds() == Approx(alone.ToSeconds()).epsilon(0.01));
  // Forced onto the same 4 NICs, each gets half of them.
  const auto shared = Simulate(topo, {{a.get(), kRingSimple, S}, {b_forced.get(), kRingSimple, S}}, Net::kFlow);
  CHECK(shared[0].ToSeconds() == Approx(2 * alone.ToSeconds()).epsilon(0.1));
  CHECK(shared[1].ToSeconds() == Approx(2 * alone.ToSeconds()).epsilon(0.1));
}

TEST_CASE("all-to-all over one NVSwitch: every pair at once, at the NVLink efficiency") {
  const Topology topo = testing::TopologyFromText(kUniform4);
  CollectiveModel model(topo);
  auto a2a = Prepare(model, CollectiveOp::kAllToAll, Range(0, 3));
  const double S = 120e6;  // each rank sends S/4 to each of the 3 others: 3S/4 leaves each GPU
  const CollectiveChoice direct{Algorithm::kDirect, Protocol::kSimple};
  // Rate: 300 GB/s x 0.8, the NVLink efficiency and nothing more (NCCL's maintainers: collectives other than the
  // all-reduce reach NVLink's ~80%, ../shared/refdata/github_issues_nccl_measurements_digest.md A, nccl-tests#212);
  // latency: launch 5 + (0.6 of links + 3.4 - 0.6 of Simple's handshake) x 3, the A100's NVLink step factor.
  const double rate = 300e9 * 0.8;
  const Time expected = Time::FromMicroseconds(5 + 3 * 3.4) + Time::FromSecondsCeil(0.75 * S / rate);
  CHECK(std::llabs(a2a->Cost(direct, S).picoseconds() - expected.picoseconds()) <= 2);
  const Time t = Simulate(topo, {{a2a.get(), direct, S}}, Net::kFlow)[0];
  CHECK(t.ToSeconds() == Approx(expected.ToSeconds()).epsilon(1e-6));
}

TEST_CASE("nccl-tests' sendrecv on 8 A100s: 4 channels up to 64 MiB, 8 at 128 MiB, then 16 (to 2.19) or the links") {
  // Each rank sends S to the next and receives S from the previous. The channels (nccl_mechanisms_test) give
  // 4 x 12.5 = 50 GB/s up to 64 MiB and 100 GB/s at 128 MiB, below the links' 300 x 0.8 = 240 GB/s: 64 and 128 MiB
  // take the same time, and 32 MiB less by 32 MiB / 50 GB/s. From 2.20 1 GiB runs on 32 channels (400 GB/s), and the
  // links pace it at 240 GB/s.
  const Topology topo = testing::ShippedTopology("hgx-a100");
  CollectiveModel model(topo);
  auto p = Prepare(model, CollectiveOp::kSendRecv, Range(0, 7));
  const CollectiveChoice direct{Algorithm::kDirect, Protocol::kSimple};
  const double MiB = 1024.0 * 1024;
  const Time t32 = p->Cost(direct, 32 * MiB), t64 = p->Cost(direct, 64 * MiB);
  const Time t128 = p->Cost(direct, 128 * MiB), t1g = p->Cost(direct, 1024 * MiB);
  CHECK((t64 - t32).ToSeconds() == Approx(32 * MiB / 50e9).epsilon(1e-6));
  CHECK(std::llabs((t128 - t64).picoseconds()) <= 2);
  CHECK(1024 * MiB / t1g.ToSeconds() / 1e9 == Approx(300 * 0.8).epsilon(0.01));
  // The flow simulation caps each transfer at its channels' rate the same way.
  const Time flow = Simulate(topo, {{p.get(), direct, 64 * MiB}}, Net::kFlow)[0];
  CHECK(flow.ToSeconds() == Approx(t64.ToSeconds()).epsilon(0.01));
  // li-plus measured this table in October 2023 (../shared/refdata/nccltests_a100_nvswitch_sendrecv.csv), when
  // NCCL's newest release was 2.19.3: a paired send's channel has 9 of 16 warps (20 x 9 / 16 = 11.25 GB/s), 128 MiB
  // runs on 8 channels (90 GB/s, measured 110.81) and 1 GiB on nChannelsMax = 16 (180 GB/s, measured 195.11): the
  // channels, not the links, set the table's plateau.
  CollectiveModel model19(topo, CollectiveParams::ForNcclVersion(*ParseNcclVersion("2.19.3")));
  auto p19 = Prepare(model19, CollectiveOp::kSendRecv, Range(0, 7));
  // (The launch and step latencies, about 15 us, are 1% of 128 MiB's 1.4 ms.)
  const double busbw_128 = 128 * MiB / p19->Cost(direct, 128 * MiB).ToSeconds() / 1e9;
  CHECK(busbw_128 == Approx(8 * 11.25).epsilon(0.015));
  CHECK(busbw_128 == Approx(110.81).epsilon(0.2));
  const double half_1g = (p19->Cost(direct, 1024 * MiB) - p19->Cost(direct, 512 * MiB)).ToSeconds();
  CHECK(512 * MiB / half_1g / 1e9 == Approx(16 * 11.25).epsilon(1e-6));
  const double busbw_1g = 1024 * MiB / p19->Cost(direct, 1024 * MiB).ToSeconds() / 1e9;
  CHECK(busbw_1g == Approx(195.11).epsilon(0.08));
}

TEST_CASE("a send alone gets all of a channel's warps, a send beside a receive half of them") {
  // Two A100s of a DGX: nChannelsMin = 32 / 2 = 16, and 128 KiB makes 2 parts of 64 KiB, so 2 channels either way.
  // nccl-tests' sendrecv pairs each send with a receive (10 of 20 warps: 20 GB/s x 10 / 16 = 12.5 GB/s a channel);
  // a pipeline's send runs alone (20 warps: 25 GB/s). Both are far under the links (240 GB/s), and the latencies
  // are the same: the two differ by 128 KiB / 25 GB/s - 128 KiB / 50 GB/s.
  const Topology topo = testing::ShippedTopology("hgx-a100");
  CollectiveModel model(topo);
  auto paired = Prepare(model, CollectiveOp::kSendRecv, {0, 1});
  auto alone = Prepare(model, CollectiveOp::kSend, {0, 1});
  const CollectiveChoice direct{Algorithm::kDirect, Protocol::kSimple};
  const double S = 128 * 1024;
  CHECK((paired->Cost(direct, S) - alone->Cost(direct, S)).ToSeconds() == Approx(S / 25e9 - S / 50e9).epsilon(1e-6));
  // 64 MiB spreads over all 16 channels: alone 16 x 25 = 400 GB/s, so the links pace it (240 GB/s); paired
  // 16 x 12.5 = 200 GB/s, under the links.
  const double big = 64.0 * (1 << 20);
  CHECK((paired->Cost(direct, big) - alone->Cost(direct, big)).ToSeconds() ==
        Approx(big / 200e9 - big / 240e9).epsilon(1e-6));
  // A send puts its bytes on one direction only; nccl-tests' sendrecv on both.
  CHECK(BusBandwidthFactor(CollectiveOp::kSend, 2) == 1.0);
  CHECK(ParseCollectiveOp("send") == CollectiveOp::kSend);
  CHECK(ToString(CollectiveOp::kSend) == "send");
}

TEST_CASE("one send between two nodes: each window of bytes waits a network step for its slots") {
  // One H100 of each DGX (dgx-h100-2node): the NIC gives 50 x 0.94 = 47 GB/s, and NCCL keeps W = 2 MiB in flight up
  // to 2.28 (above). Each window after the first waits for its slots: a Simple network step, the route's latency
  // plus NCCL's 14 - 2.7 us (hwLat NET Simple over Ring/LL, which the links reproduce). So from S = W on,
  // T(S) - T(S/2) = (S/2) / 47 GB/s + L x (S/2) / W.
  const Topology topo = testing::ShippedTopology("dgx-h100-2node");
  Router router(topo);
  const Route* route = router.Find(topo.gpu(0), topo.gpu(8));
  REQUIRE(route != nullptr);
  const double L = route->latency.ToSeconds() + (14.0 - 2.7) * 1e-6;
  const double MiB = 1024.0 * 1024, W = 2 * MiB;
  CollectiveModel model(topo, CollectiveParams::ForNcclVersion(*ParseNcclVersion("2.21.5")));
  auto send = Prepare(model, CollectiveOp::kSend, {0, 8});
  const CollectiveChoice direct{Algorithm::kDirect, Protocol::kSimple};
  const double S = 64 * MiB;
  const double half = (send->Cost(direct, S) - send->Cost(direct, S / 2)).ToSeconds();
  CHECK(half == Approx(S / 2 / 47e9 + L * S / 2 / W).epsilon(1e-6));
  // Vidur's H100 DGX pair measured 35.87 GB/s at 64 MiB (../shared/refdata/vidur_nccl_collectives_profiling.csv,
  // send_recv, devices_per_node 1), where the NIC alone gives 47.
  CHECK(S / send->Cost(direct, S).ToSeconds() / 1e9 == Approx(35.87).epsilon(0.03));
  // Under W nothing waits: the links alone (1 MiB differs from 512 KiB by 512 KiB / 47 GB/s).
  const double small = (send->Cost(direct, MiB) - send->Cost(direct, MiB / 2)).ToSeconds();
  CHECK(small == Approx(MiB / 2 / 47e9).epsilon(1e-6));
  // The flow simulation caps the transfer at the same rate.
  const Time flow = Simulate(topo, {{send.get(), direct, S}}, Net::kFlow)[0];
  CHECK(flow.ToSeconds() == Approx(send->Cost(direct, S).ToSeconds()).epsilon(0.01));
  // From 2.29 a 50 GB/s NIC gets 4 channels: W = 4 MiB, half the waits.
  CollectiveModel model29(topo, CollectiveParams::ForNcclVersion(*ParseNcclVersion("2.29.2")));
  auto send29 = Prepare(model29, CollectiveOp::kSend, {0, 8});
  const double half29 = (send29->Cost(direct, S) - send29->Cost(direct, S / 2)).ToSeconds();
  CHECK(half29 == Approx(S / 2 / 47e9 + L * S / 2 / (2 * W)).epsilon(1e-6));
}

TEST_CASE("an all-to-all across nodes keeps many peers' windows in flight: the NICs pace it") {
  // 16 H100s on two DGX nodes: each GPU sends S/16 to each of 8 peers on the other node over its one NIC. A peer's
  // window would allow 2 MiB / (2 MiB / 47 GB/s + L), about 36 GB/s, but the peers share the NIC, so at 64 MiB
  // (4 MiB a peer) the NIC's 47 GB/s paces the 8 x 4 MiB each GPU sends off node: NCCL's maintainers quote 48-49
  // GB/s per CX-7 NIC for all-to-all (../shared/refdata/github_issues_nccl_measurements_digest.md A, nccl-tests#267).
  const Topology topo = testing::ShippedTopology("dgx-h100-2node");
  CollectiveModel model(topo, CollectiveParams::ForNcclVersion(*ParseNcclVersion("2.21.5")));
  auto a2a = Prepare(model, CollectiveOp::kAllToAll, Range(0, 15));
  const CollectiveChoice direct{Algorithm::kDirect, Protocol::kSimple};
  const double S = 64.0 * 1024 * 1024;
  const double half = (a2a->Cost(direct, S) - a2a->Cost(direct, S / 2)).ToSeconds();
  CHECK(half == Approx(8 * S / 2 / 16 / 47e9).epsilon(1e-6));
}

TEST_CASE("PXN keeps an all-to-all across nodes on the rails: a 2:1 spine does not bite unless PXN is off") {
  // 4 DGX H100s on a rail-optimised fabric whose leaves have 2 uplinks for their 4 node ports (2:1). Of a GPU's S
  // bytes, 24/32 leave the node; 21/32 go to GPUs of other rails. NCCL's p2p transport (P2P_PXN_LEVEL 2) sends
  // them over NVLink to the GPU on the destination's rail and out through its NIC, so every byte stays on its rail:
  // the NICs pace the all-to-all, 0.75 S at 47 GB/s, as on a non-blocking fabric. Without PXN each GPU's own NIC
  // sends them up its leaf: a leaf's 2 uplinks carry 4 x 21/32 S = 2.625 S, 1.3125 S each, 1.75 times the NIC's.
  const Topology topo = testing::ShippedTopology("dgx-h100-4node-oversub");
  const CollectiveChoice direct{Algorithm::kDirect, Protocol::kSimple};
  const double S = 256.0 * 1024 * 1024;
  CollectiveModel with_pxn(topo);
  auto a = Prepare(with_pxn, CollectiveOp::kAllToAll, Range(0, 31));
  CHECK((a->Cost(direct, S) - a->Cost(direct, S / 2)).ToSeconds() == Approx(0.75 * S / 2 / 47e9).epsilon(1e-6));
  CollectiveParams off = CollectiveParams::Defaults();
  off.p2p_pxn = false;
  CollectiveModel without_pxn(topo, off);
  auto b = Prepare(without_pxn, CollectiveOp::kAllToAll, Range(0, 31));
  CHECK((b->Cost(direct, S) - b->Cost(direct, S / 2)).ToSeconds() == Approx(1.3125 * S / 2 / 47e9).epsilon(1e-6));
  // The flow simulation plays the same routes: the uplinks make the run without PXN about 1.75 times as long.
  const Time flow = Simulate(topo, {{a.get(), direct, S}}, Net::kFlow)[0];
  const Time flow_off = Simulate(topo, {{b.get(), direct, S}}, Net::kFlow)[0];
  CHECK(flow_off.ToSeconds() / flow.ToSeconds() == Approx(1.75).epsilon(0.1));
}

// The closed form of a Simple ring on kUniform4's 4 A100s (240 GB/s per ring edge) with the textbook latencies:
// launch 5 us, NCCL's Ring/Simple base 8.4 us, `sends` steps of 3.4 us, and `byte_steps` steps of S/4 each.
Time Uniform4SimpleRing(int sends, double byte_steps, double S) {
  return Time::FromMicroseconds(5 + 8.4 + sends * 3.4) + Time::FromSecondsCeil(byte_steps / 4 * S / 240e9);
}

TEST_CASE("each ring loop ends with a local copy that holds the channel half a step") {
  // NCCL's ring all-reduce runs 2(n-1) sending operations per loop and then copies the last chunk it received out of
  // the receive buffer: 2n-1 operations, of which the last sends nothing. With ring_local_copy = 0.5 it takes half
  // a step, so 4 A100s (240 GB/s per ring edge) take 6.5 steps of S/4 / 240 GB/s instead of 6.
  const Topology topo = testing::TopologyFromText(kUniform4);
  CollectiveParams params = TextbookParams();
  params.ring_local_copy = 0.5;
  CollectiveModel model(topo, params);
  auto ar = Prepare(model, CollectiveOp::kAllReduce, Range(0, 3));
  const double S = 240e6;
  const Time expected = Uniform4SimpleRing(6, 6.5, S);
  CHECK(std::llabs(ar->Cost(kRingSimple, S).picoseconds() - expected.picoseconds()) <= 2);
  // The expansion copies on no link after each rank's last step: the same time.
  const Time t = Simulate(topo, {{ar.get(), kRingSimple, S}}, Net::kFlow)[0];
  CHECK(std::llabs(t.picoseconds() - expected.picoseconds()) <= 16);
  // All-gather: n-1 = 3 sending steps and the copy, 3.5 steps of S/4.
  auto ag = Prepare(model, CollectiveOp::kAllGather, Range(0, 3));
  const Time ag_expected = Uniform4SimpleRing(3, 3.5, S);
  CHECK(std::llabs(ag->Cost(kRingSimple, S).picoseconds() - ag_expected.picoseconds()) <= 2);
}

TEST_CASE("ranks of one process write into each other's buffers: a Simple ring copies nothing at the end") {
  // P2P/direct pointer between ranks of one process (NCCL's p2p.cc, P2P_SAME_PID): the all-gather steps write into
  // the next rank's output buffer, so the loop's last receive finds its chunk in place. The same 4 A100s as above
  // then take the 6 sending steps alone (all-reduce) and 3 (all-gather).
  const Topology topo = testing::TopologyFromText(kUniform4);
  CollectiveParams params = TextbookParams();
  params.ring_local_copy = 0.5;
  params.ranks_per_process = 4;  // nccl-tests -g 4
  CollectiveModel model(topo, params);
  const double S = 240e6;
  auto ar = Prepare(model, CollectiveOp::kAllReduce, Range(0, 3));
  const Time ar_expected = Uniform4SimpleRing(6, 6.0, S);
  CHECK(std::llabs(ar->Cost(kRingSimple, S).picoseconds() - ar_expected.picoseconds()) <= 2);
  const Time t = Simulate(topo, {{ar.get(), kRingSimple, S}}, Net::kFlow)[0];
  CHECK(std::llabs(t.picoseconds() - ar_expected.picoseconds()) <= 16);
  auto ag = Prepare(model, CollectiveOp::kAllGather, Range(0, 3));
  const Time ag_expected = Uniform4SimpleRing(3, 3.0, S);
  CHECK(std::llabs(ag->Cost(kRingSimple, S).picoseconds() - ag_expected.picoseconds()) <= 2);
  // Reduce-scatter's ring is not direct (its kernel's Direct = 0): its last operation still reduces the chunk it
  // received into the output, 3.5 steps as with one rank per process.
  auto rs = Prepare(model, CollectiveOp::kReduceScatter, Range(0, 3));
  const Time rs_expected = Uniform4SimpleRing(3, 3.5, S);
  CHECK(std::llabs(rs->Cost(kRingSimple, S).picoseconds() - rs_expected.picoseconds()) <= 2);
  // LL and LL128 move data through their own buffers in every layout: LL's pace as in the small-message test
  // (min(240 x 0.5, 87.7 GB/s)), 6.5 steps of S/4 with the copy, the same with or without the shared process.
  const CollectiveChoice ll{Algorithm::kRing, Protocol::kLL};
  CollectiveParams apart = params;
  apart.ranks_per_process = 1;
  CollectiveModel apart_model(topo, apart);
  auto ar_apart = Prepare(apart_model, CollectiveOp::kAllReduce, Range(0, 3));
  CHECK(ar->Cost(ll, S) == ar_apart->Cost(ll, S));
  // Two processes of two ranks: the ring's edges 1 -> 2 and 3 -> 0 cross processes, those receivers copy, and the
  // ring goes at its slowest rank's pace: the copy stays (6.5 steps).
  CollectiveParams pairs = params;
  pairs.ranks_per_process = 2;
  CollectiveModel pairs_model(topo, pairs);
  auto ar_pairs = Prepare(pairs_model, CollectiveOp::kAllReduce, Range(0, 3));
  const Time pairs_expected = Uniform4SimpleRing(6, 6.5, S);
  CHECK(std::llabs(ar_pairs->Cost(kRingSimple, S).picoseconds() - pairs_expected.picoseconds()) <= 2);
}

TEST_CASE("an A100's NVLink steps take three times NCCL's per-step latency, a Hopper's NCCL's own") {
  const Topology a100 = testing::TopologyFromText(kUniform4);
  CollectiveModel model(a100);
  auto ar = Prepare(model, CollectiveOp::kAllReduce, Range(0, 3));
  // With no bytes only latency is left: launch 5 + NCCL's Ring/Simple base 8.4 + 6 steps of (0.6 us of links +
  // 3.4 - 0.6 us of Simple's handshake) x 3 (CollectiveParams::sm80_nvlink_step_factor).
  CHECK(ar->Cost(kRingSimple, 0) == Time::FromMicroseconds(5 + 8.4 + 6 * 3 * 3.4));
  // LL: base 6.6 + 6 x 0.6 x 3.
  const CollectiveChoice ll{Algorithm::kRing, Protocol::kLL};
  CHECK(std::llabs(ar->Cost(ll, 0).picoseconds() - Time::FromMicroseconds(5 + 6.6 + 6 * 3 * 0.6).picoseconds()) <= 1);
  // The same box with H100s: NCCL's figures as they are (NVLink4 links at the same 0.3 us per hop).
  std::string hopper = kUniform4;
  hopper.replace(hopper.find("a100-sxm-80gb"), 13, "h100-sxm");
  const Topology h100 = testing::TopologyFromText(hopper);
  CollectiveModel hmodel(h100);
  auto har = Prepare(hmodel, CollectiveOp::kAllReduce, Range(0, 3));
  CHECK(har->Cost(kRingSimple, 0) == Time::FromMicroseconds(5 + 8.4 + 6 * 3.4));
}

TEST_CASE("small messages run on fewer channels and threads, as NCCL gives them") {
  // 4 A100s: NCCL's search finds 12 channels of 20 GB/s (docs/collectives.md section 6) and runs 24. Ring LL moves
  // 8 bytes per thread per rank, x 4 ranks = 32, with 512 threads: a channel at full threads takes 16 KiB.
  const Topology topo = testing::TopologyFromText(kUniform4);
  CollectiveModel model(topo, TextbookParams());
  auto ar = Prepare(model, CollectiveOp::kAllReduce, Range(0, 3));
  const CollectiveChoice ll{Algorithm::kRing, Protocol::kLL};
  // Ring LL's pace: min(240 GB/s x 0.5, NCCL's llMaxBw 87.7 GB/s on one Ampere node) per ring edge; latency:
  // launch 5, base 6.6, 6 steps of 0.6 us.
  const auto expected = [](double bytes, double slower) {
    return Time::FromMicroseconds(5 + 6.6 + 6 * 0.6) + Time::FromSecondsCeil(slower * 1.5 * bytes / 87.7e9);
  };
  // 384 KiB and up: 24 channels, full speed needs 12.
  CHECK(std::llabs(ar->Cost(ll, 393216).picoseconds() - expected(393216, 1).picoseconds()) <= 2);
  // 64 KiB: NCCL drops channels while 64 KiB < channels x 16 KiB, down to 4: 12 / 4 = 3 times slower.
  CHECK(std::llabs(ar->Cost(ll, 65536).picoseconds() - expected(65536, 3).picoseconds()) <= 2);
  // 16 KiB: one channel at full threads: 12 times slower.
  CHECK(std::llabs(ar->Cost(ll, 16384).picoseconds() - expected(16384, 12).picoseconds()) <= 2);
  // 4 KiB: one channel, threads halved while 4 KiB < threads x 32 B: 128 threads, a quarter channel: 48 times.
  CHECK(std::llabs(ar->Cost(ll, 4096).picoseconds() - expected(4096, 48).picoseconds()) <= 2);
  // The expansion waits the difference before its full-width transfers: the same time.
  const Time t = Simulate(topo, {{ar.get(), ll, 65536}}, Net::kFlow)[0];
  CHECK(std::llabs(t.picoseconds() - ar->Cost(ll, 65536).picoseconds()) <= 16);
}

TEST_CASE("a tree's first chunk climbs the chain and comes back before the rest follow") {
  // One node of 4 A100s: NCCL's tree is a chain from GPU 0; both of its trees use it, each carrying S/2 up and S/2
  // down. GPUs 1 and 2 send up and down: 2 x 2 x S/2 = 2S over their 240 GB/s of NVLink at tree Simple's 0.92.
  const Topology topo = testing::TopologyFromText(kUniform4);
  CollectiveModel model(topo, TextbookParams());
  auto ar = Prepare(model, CollectiveOp::kAllReduce, Range(0, 3));
  const CollectiveChoice tree{Algorithm::kTree, Protocol::kSimple};
  const double rate = 300e9 * 0.8 * 0.92;
  // The fill: a chunk climbs 3 hops from GPU 3 and comes down 3. While it climbs nothing comes down, so each hop's
  // links carry one direction's S (the two trees' S/2), a pipeline's byte taking 2 / rate (2 pipelines): 6 hops of
  // 2 / rate, less the slowest, which the bandwidth term counts. A chunk is 512 KiB per NCCL channel, 12 channels
  // over 2 pipelines: 3 MiB; S = 48 MiB is 8 of them per tree.
  const double S = 48.0 * 1024 * 1024, chunk = 3.0 * 1024 * 1024;
  // Latency: launch 5, NCCL's Tree/Simple base 8.4, 2 x 3 chain hops of 0.6 + (4.0 - 0.6) us.
  const Time expected =
      Time::FromMicroseconds(5 + 8.4 + 6 * 4.0) + Time::FromSecondsCeil((2 * S + 5 * 2 * chunk) / rate);
  CHECK(std::llabs(ar->Cost(tree, S).picoseconds() - expected.picoseconds()) <= 2);
}

TEST_CASE("a host-bound benchmark reads no call under its interval") {
  const Topology topo = testing::TopologyFromText(kUniform4);
  CollectiveParams params = CollectiveParams::Defaults();
  params.call_interval = Time::Microseconds(100);
  CollectiveModel model(topo, params);
  CollectiveModel plain(topo);
  auto ar = Prepare(model, CollectiveOp::kAllReduce, Range(0, 3));
  auto alone = Prepare(plain, CollectiveOp::kAllReduce, Range(0, 3));
  // 8 bytes take less than 100 us alone (75 us of latency on A100s); 1 GiB far more.
  CHECK(alone->Cost(kRingSimple, 8) < Time::Microseconds(100));
  CHECK(ar->Cost(kRingSimple, 8) == Time::Microseconds(100));
  CHECK(ar->Cost(kRingSimple, 1 << 30) == alone->Cost(kRingSimple, 1 << 30));
}

TEST_CASE("bad calls say what is wrong") {
  const Topology topo = testing::TopologyFromText(kUniform4);
  CollectiveModel model(topo);
  CollectiveCall call;
  call.gpus = {0, 0};
  auto twice = model.Prepare(call, {});
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.status().message().find("twice") != std::string::npos);
  call.gpus = {0, 9};
  auto missing = model.Prepare(call, {});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message().find("GPU 9") != std::string::npos);
  call.gpus = {0, 1};
  call.op = CollectiveOp::kBroadcast;
  call.root = 3;
  auto root = model.Prepare(call, {});
  REQUIRE_FALSE(root.ok());
  CHECK(root.status().message().find("root") != std::string::npos);
}

}  // namespace
}  // namespace wiresim
