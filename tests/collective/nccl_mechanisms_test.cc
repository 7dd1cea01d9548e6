// NCCL's mechanisms that hold on machines the model was not fitted to: the double binary tree's shape
// (src/graph/trees.cc), the NVLS pipeline's chunks, steps and fill (src/enqueue.cc), and the constants and
// formulas that differ between NCCL releases (src/graph/tuning.cc at each tag), each against a value derived by
// hand in the comments.
#include <algorithm>
#include <map>

#include <catch2/catch.hpp>

#include "sim/collective/algorithms.h"
#include "sim/collective/collective_model.h"
#include "sim/collective/collective_timing.h"
#include "sim/network/flow_network.h"
#include "tests/testing/topology.h"

namespace wiresim {
namespace {

std::vector<int> Range(int first, int end) {
  std::vector<int> v;
  for (int i = first; i < end; ++i) v.push_back(i);
  return v;
}

std::unique_ptr<PreparedCollective> Prepare(CollectiveModel& model, std::vector<int> gpus) {
  CollectiveCall call;
  call.op = CollectiveOp::kAllReduce;
  call.gpus = std::move(gpus);
  auto p = model.Prepare(call, {});
  INFO(p.status().ToString());
  REQUIRE(p.ok());
  return std::move(p).value();
}

AlgorithmFilter Only(Algorithm a) {
  AlgorithmFilter f;
  f.algorithms = 1u << static_cast<int>(a);
  f.protocols = 1u << static_cast<int>(Protocol::kSimple);
  return f;
}

// Parents of positions 0..n-1 in tree t.
std::vector<int> Parents(int n, int t) {
  std::vector<int> p;
  for (int r = 0; r < n; ++r) p.push_back(internal::DtreeParent(n, r, t));
  return p;
}

TEST_CASE("NCCL's btree: the root has one child, the second tree mirrors the first or shifts it") {
  // ncclGetBtree: position r's parent clears r's lowest set bit b and sets 2b, or only clears b when r ^ b | 2b
  // is out of range. 2 positions: 1 -> 0. 4: 1 -> 2, 2 -> (0 | 4 = 4, out) -> 0, 3 -> 2: the root 0 has the one
  // child 2, which has 1 and 3. 8: 4 -> 0; 2, 6 -> 4; 1, 3 -> 2; 5, 7 -> 6.
  CHECK(Parents(2, 0) == std::vector<int>{-1, 0});
  CHECK(Parents(4, 0) == std::vector<int>{-1, 2, 0, 2});
  CHECK(Parents(8, 0) == std::vector<int>{-1, 2, 4, 2, 0, 6, 4, 6});
  // Even n: tree 1 is the mirror, parent1(r) = n - 1 - parent0(n - 1 - r). 4: 3 is the root, 1 its child, 0 and
  // 2 under 1.
  CHECK(Parents(2, 1) == std::vector<int>{1, -1});
  CHECK(Parents(4, 1) == std::vector<int>{1, 3, 1, -1});
  CHECK(Parents(8, 1) == std::vector<int>{1, 3, 1, 7, 5, 3, 5, -1});
  // Odd n: tree 1 is tree 0 shifted by one, parent1(r) = parent0(r - 1) + 1 (mod n). 3 positions: tree 0 has
  // 1 -> (0 | 2 = 2, in range) 2 and 2 -> (0 | 4, out) 0; shifted: 0 -> 1, 2 -> 0, 1 the root.
  CHECK(Parents(3, 0) == std::vector<int>{-1, 2, 0});
  CHECK(Parents(3, 1) == std::vector<int>{1, -1, 0});
}

// Bytes each NIC of `topo` sends onto the network for the call, by NIC.
std::map<NodeId, double> NicBytesOut(const Topology& topo, const CollectiveLinkLoad& load) {
  std::map<NodeId, double> out;
  for (const Host& h : topo.hosts())
    for (NodeId nic : h.nics) out[nic] = 0;
  for (const LinkBytes& lb : load) {
    const Link& link = topo.link(lb.link);
    if (IsNetworkLink(link.kind) && out.count(link.from)) out[link.from] += lb.bytes;
  }
  return out;
}

TEST_CASE("a tree all-reduce's busiest NIC at 2, 4 and 8 DGX H100 nodes carries NCCL's btree load") {
  // G = 8 channel groups (one per rail), each splitting S/G over two trees: every tree edge between two nodes
  // carries S/16 each way, and rail g's NIC on node k sends S/16 for each edge node k has in the two trees. Edges
  // per node (tree 0 + tree 1, from the parents above): 2 nodes {1+1, 1+1}; 4 nodes {1+1, 1+3, 3+1, 1+1}; 8 nodes
  // {1+1, 1+3, 3+1, 1+3, 3+1, 1+3, 3+1, 1+1}. The busiest NIC sends 2/16 S at 2 nodes and 4/16 S at 4 and 8. (A
  // heap-shaped tree, root with two children, gives 3 edges per node at 4 nodes: 3/4 of this load.)
  struct Case {
    const char* topology;
    int nodes;
    double busiest;  // x S
    double least;
  };
  for (const Case& c : {Case{"dgx-h100-2node", 2, 2.0 / 16, 2.0 / 16}, Case{"dgx-h100-4node", 4, 4.0 / 16, 2.0 / 16},
                        Case{"dgx-h100-16node", 8, 4.0 / 16, 2.0 / 16}}) {
    INFO(c.topology);
    const Topology topo = testing::ShippedTopology(c.topology);
    CollectiveModel model(topo);
    ClosedFormCollectives closed(model, Only(Algorithm::kTree), nullptr);
    CollectiveCall call;
    call.gpus = Range(0, 8 * c.nodes);
    call.bytes = 1 << 26;
    auto load = closed.LinkLoad(call);
    REQUIRE(load.ok());
    double most = 0, least = 1e300;
    int used = 0;
    for (const auto& [nic, bytes] : NicBytesOut(topo, **load)) {
      if (bytes <= 0) continue;
      ++used;
      most = std::max(most, bytes);
      least = std::min(least, bytes);
    }
    CHECK(used == 8 * c.nodes);
    CHECK(most == Approx(c.busiest * call.bytes));
    CHECK(least == Approx(c.least * call.bytes));
  }
}

TEST_CASE("NVLSTree's trees between nodes have NCCL's btree shape too") {
  // On 4 nodes each GPU j's S/8 share goes over two trees between the j-th GPUs of the nodes, S/16 per tree edge
  // each way through that GPU's own NIC: nodes 1 and 2 have 4 edges, 0 and 3 have 2, so the busiest NIC sends
  // 4/16 S and the least busy 2/16 S.
  const Topology topo = testing::ShippedTopology("dgx-h100-4node");
  CollectiveModel model(topo);
  ClosedFormCollectives closed(model, Only(Algorithm::kNvlsTree), nullptr);
  CollectiveCall call;
  call.gpus = Range(0, 32);
  call.bytes = 1 << 26;
  auto load = closed.LinkLoad(call);
  REQUIRE(load.ok());
  double most = 0, least = 1e300;
  for (const auto& [nic, bytes] : NicBytesOut(topo, **load)) {
    if (bytes <= 0) continue;
    most = std::max(most, bytes);
    least = std::min(least, bytes);
  }
  CHECK(most == Approx(4.0 / 16 * call.bytes));
  CHECK(least == Approx(2.0 / 16 * call.bytes));
}

TEST_CASE("NVLS chunks follow NCCL's size thresholds") {
  // enqueue.cc, NVLS: from 128 KiB, 64 KiB below 64 x ops x chunk, 32 KiB below 8 x, 16 KiB below 2 x. On 8 GPUs
  // with 16 channels, ops = 128: 64 KiB below 1 GiB, 32 KiB below 64 MiB, 16 KiB below 8 MiB.
  const double MiB = 1 << 20;
  CHECK(internal::NvlsChunkBytes(2 * MiB, 128, 131072, false) == 16384);
  CHECK(internal::NvlsChunkBytes(8 * MiB, 128, 131072, false) == 32768);
  CHECK(internal::NvlsChunkBytes(63 * MiB, 128, 131072, false) == 32768);
  CHECK(internal::NvlsChunkBytes(64 * MiB, 128, 131072, false) == 65536);
  CHECK(internal::NvlsChunkBytes(1024 * MiB, 128, 131072, false) == 131072);
  // NVLSTree: 256 KiB below 32 x, 128 KiB below 16 x, 64 KiB below 4 x, 32 KiB below 1 x. From 128 KiB (2.21+):
  // 64 KiB below 64 MiB, 32 KiB below 8 MiB; from 2.20's 512 KiB: 256 KiB below 2 GiB.
  CHECK(internal::NvlsChunkBytes(7 * MiB, 128, 131072, true) == 32768);
  CHECK(internal::NvlsChunkBytes(32 * MiB, 128, 131072, true) == 65536);
  CHECK(internal::NvlsChunkBytes(512 * MiB, 128, 131072, true) == 131072);
  CHECK(internal::NvlsChunkBytes(1024 * MiB, 128, 524288, true) == 262144);
}

TEST_CASE("an NVLS step costs a synchronisation or its bytes at the switch's sustained rate, and the pipeline fills") {
  const Topology topo = testing::ShippedTopology("dgx-h100");
  CollectiveModel model(topo);
  auto ar = Prepare(model, Range(0, 8));
  const CollectiveChoice nvls{Algorithm::kNvls, Protocol::kSimple};
  const double MiB = 1 << 20;
  // Per byte of S, S(n+1)/n = 9/8 S each way: at the NVLink's raw kernel rate, 450 GB/s x 0.824, and at the switch's
  // sustained rate, x 0.85 (NCCL's nvlsEfficiency). A step of b bytes takes max(6.25 us + b x raw, b x sustained);
  // the pipeline takes its steps' time beyond S x sustained, and fills in 1.5 steps of the first step's bytes.
  // T = launch 5 + the kernel's 8.4 us + S x sustained + max(0, steps' time - S x sustained) + 1.5 x step(first).
  const double raw = 9.0 / 8.0 / (450e9 * 0.824);
  const double sustained = raw / 0.85;
  const auto step = [&](double b) { return std::max(6.25e-6 + b * raw, b * sustained); };
  const auto expected = [&](double S, double step_bytes) {
    const double full = std::floor(S / step_bytes);
    const double rest = S - full * step_bytes;
    const double paced = full * step(step_bytes) + (rest > 0 ? step(rest) : 0.0);
    return Time::FromMicroseconds(13.4) + Time::FromSecondsCeil(S * sustained + std::max(0.0, paced - S * sustained) +
                                                                1.5 * step(std::min(S, step_bytes)));
  };
  // 16 MiB: 32 KiB chunks, 128 x 32 KiB = 4 MiB a step, 4 steps of max(6.25 + 12.73, 14.97) = 18.98 us: the
  // synchronisation binds, 16.0 us beyond the bytes' 59.9.
  CHECK(std::llabs(ar->Cost(nvls, 16 * MiB).picoseconds() - expected(16 * MiB, 4 * MiB).picoseconds()) <= 2);
  CHECK((ar->Cost(nvls, 16 * MiB) - Time::FromMicroseconds(5)).ToMicroseconds() ==
        Approx(8.4 + 4 * 18.9754 + 1.5 * 18.9754).epsilon(1e-4));
  // 2 MiB: 16 KiB chunks, 2 MiB a step, one step. 3 MiB: a full step and a half one.
  CHECK(std::llabs(ar->Cost(nvls, 2 * MiB).picoseconds() - expected(2 * MiB, 2 * MiB).picoseconds()) <= 2);
  CHECK(std::llabs(ar->Cost(nvls, 3 * MiB).picoseconds() - expected(3 * MiB, 2 * MiB).picoseconds()) <= 2);
  // 256 MiB: 64 KiB chunks, 8 MiB a step, 32 steps of max(6.25 + 25.45, 29.94) = 31.70 us.
  CHECK(std::llabs(ar->Cost(nvls, 256 * MiB).picoseconds() - expected(256 * MiB, 8 * MiB).picoseconds()) <= 2);
  // The ramp against the 8x H200 curve of ml-engineering (NCCL 2.27.7, section 2 of
  // ../shared/refdata/stas00_mlengineering_collective_and_matmul_measurements.md): busbw 64.53 / 219.89 / 436.15
  // GB/s at 2 / 16 / 256 MiB. all_reduce_bench.py times each call alone (barrier, event, all-reduce, event,
  // synchronize), so each row carries the host's 19.4 us before the kernel (its rows up to 64 KiB less the Ring/LL
  // kernel) in place of the model's 5 us launch. The step synchronisation and the fill were fitted on this curve.
  const Time host = Time::FromMicroseconds(19.4 - 5);
  const double measured[][2] = {{2, 64.53}, {16, 219.89}, {256, 436.15}};
  for (const auto& m : measured) {
    const double S = m[0] * MiB;
    const double busbw = S / (ar->Cost(nvls, S) + host).ToSeconds() / 1e9 * 1.75;
    INFO(m[0] << " MiB: " << busbw);
    CHECK(std::abs(busbw / m[1] - 1) < 0.05);
  }
  // Held out: vLLM's kernel benchmark times NCCL under CUDA graphs (no launch, docs/validation/data/
  // vllm_allreduce_kernels.csv): 8 SM 9.0 GPUs (PR #42324) 33 / 37 / 121 / 561 us at 1.5 / 2 / 16 / 128 MiB; 6 H100s
  // (PR #24111) 43 / 47 / 53 us at 2 / 3 / 4 MiB, where 96 operations move 16 KiB chunks, 1.5 MiB a step.
  const auto kernel_us = [&](const std::unique_ptr<PreparedCollective>& p, double S) {
    return (p->Cost(nvls, S) - Time::FromMicroseconds(5)).ToMicroseconds();
  };
  const double graph8[][2] = {{1.5, 33}, {2, 37}, {16, 121}, {128, 561}};
  for (const auto& m : graph8) {
    INFO(m[0] << " MiB on 8 GPUs: " << kernel_us(ar, m[0] * MiB) << " us");
    CHECK(std::abs(m[1] / kernel_us(ar, m[0] * MiB) - 1) < 0.1);
  }
  auto six = Prepare(model, Range(0, 6));
  const double graph6[][2] = {{2, 43}, {3, 47}, {4, 53}};
  for (const auto& m : graph6) {
    INFO(m[0] << " MiB on 6 GPUs: " << kernel_us(six, m[0] * MiB) << " us");
    CHECK(std::abs(m[1] / kernel_us(six, m[0] * MiB) - 1) < 0.1);
  }
  // The plateau by GPU count stays the links': NCCL issue 1455 measures 367.5 / 420 / 440 / 460 / 480 GB/s busbw at
  // 4 GiB on 4 to 8 H100s (docs/validation/data/nccl_issue1455_h100_nvls_vs_gpus.csv); the 128 KiB steps of
  // 16 x n operations are sustained-bound at every n.
  const double plateau[][2] = {{4, 367.5}, {5, 420}, {6, 440}, {7, 460}, {8, 480}};
  for (const auto& m : plateau) {
    const int n = static_cast<int>(m[0]);
    auto p = Prepare(model, Range(0, n));
    const double S = 4.0 * 1024 * MiB;
    const double busbw = S / (p->Cost(nvls, S) - Time::FromMicroseconds(5)).ToSeconds() / 1e9 * 2 * (n - 1) / n;
    INFO(n << " GPUs: " << busbw);
    CHECK(std::abs(busbw / m[1] - 1) < 0.03);
  }
  // The transfers carry the same steps and fill: the flow network gives the closed form's time.
  Simulator sim;
  FlowNetwork net(sim, topo);
  auto schedule = ar->Expand(nvls, 16 * MiB);
  REQUIRE(schedule.ok());
  Time done;
  ScheduleRun run(sim, net, *schedule, [&] { done = sim.Now(); });
  run.Start();
  sim.Run();
  CHECK(std::llabs(done.picoseconds() - ar->Cost(nvls, 16 * MiB).picoseconds()) <= 8);
}

TEST_CASE("an NVLSTree all-reduce fills through the same copies as NVLS, then its switch and network stages") {
  // NCCL's NVLSTree kernel (src/device/all_reduce.h) has NVLS's scatter and gather copies around its switch
  // reduction, the trees' hops and the switch multicast, so its fill carries nvls_tree_fill_steps x the switch stage
  // too. Two DGX H100s, 1 MiB (below one step: the fill covers all of S): each GPU moves S(1 + 1/8) each way through
  // the switches at 450 GB/s x 0.824 x 0.85, so the copies add 1.1 x 1.125 x S / 315.18 GB/s = 4.117 us.
  const Topology topo = testing::ShippedTopology("dgx-h100-2node");
  CollectiveParams none = CollectiveParams::Defaults();
  none.nvls_tree_fill_steps = 0;
  CollectiveModel with(topo), without(topo, none);
  auto a = Prepare(with, Range(0, 16));
  auto b = Prepare(without, Range(0, 16));
  const CollectiveChoice nvls_tree{Algorithm::kNvlsTree, Protocol::kSimple};
  const double S = 1 << 20;
  const double copies_us = 1.1 * S * 1.125 / (450e9 * 0.824 * 0.85) * 1e6;
  CHECK((a->Cost(nvls_tree, S) - b->Cost(nvls_tree, S)).ToMicroseconds() == Approx(copies_us).margin(1e-3));
  // The one-node constants do not touch it: NVLSTree keeps its own synchronisation and fill.
  CollectiveParams one_node = CollectiveParams::Defaults();
  one_node.nvls_fill_steps = 0;
  one_node.nvls_step_sync = Time::Zero();
  CollectiveModel other(topo, one_node);
  auto c = Prepare(other, Range(0, 16));
  CHECK(c->Cost(nvls_tree, S) == a->Cost(nvls_tree, S));
}

TEST_CASE("LL128's enable rule: NICs within PXN on Hopper, and the GPU generations each release enables") {
  // ncclTopoTuneModel (src/graph/tuning.cc, 2.18 to 2.30): LL128 by default only when typeInter <= PATH_PXB, or
  // <= PATH_PXN on sm90 and later. GPUs 4-7 of two DGX H100 nodes restricted to NICs 0-3 (NCCL_IB_HCA) reach them
  // over NVLink through GPUs 0-3, which sit next to them (PXN): LL128 stays on for these Hopper GPUs.
  const Topology two = testing::ShippedTopology("dgx-h100-2node");
  CollectiveModel model(two);
  CollectiveCall call;
  call.op = CollectiveOp::kAllReduce;
  call.gpus = {4, 5, 6, 7, 12, 13, 14, 15};
  GroupOptions pxn;
  pxn.nics = {0, 1, 2, 3};
  auto ring = model.Prepare(call, pxn);
  REQUIRE(ring.ok());
  CHECK_FALSE((*ring)->group().nic_close());
  CHECK((*ring)->group().nic_within_pxn());
  CHECK((*ring)->tuning().TimeUs(CollectiveOp::kAllReduce, Algorithm::kRing, Protocol::kLL128, 4 << 20) > 0);

  // The generation part: on the sm86 NVLink-bridged RTX A6000 pair NCCL 2.26 has no case for sm86 (LL128 off), 2.27
  // enables every GPU from sm70.
  const Topology a6000 = testing::ShippedTopology("workstation-2x-a6000-nvlink");
  for (const auto& [minor, on] : {std::pair{26, false}, std::pair{27, true}}) {
    INFO("2." << minor);
    CollectiveModel m(a6000, CollectiveParams::ForNcclVersion(NcclVersion{2, minor, -1}));
    auto ar = Prepare(m, Range(0, 2));
    CHECK((ar->tuning().TimeUs(CollectiveOp::kAllReduce, Algorithm::kRing, Protocol::kLL128, 4 << 20) > 0) == on);
  }
}

TEST_CASE("rings on an NVLink mesh: the six directed orders of a 4-GPU board, each link in two") {
  const Topology mesh = testing::ShippedTopology("hgx-a100-4gpu");
  CollectiveModel model(mesh, CollectiveParams::Defaults());
  auto ar = Prepare(model, Range(0, 4));
  const CollectiveGroup& g = ar->group();
  // K4 has 3 undirected Hamiltonian cycles, 6 directed; 6 x 4 edges over 12 directed links: 2 rings per link.
  REQUIRE(g.channel_groups() == 6);
  std::map<std::pair<int, int>, int> uses;
  for (const RingOrder& r : g.rings()) {
    REQUIRE(r.order.size() == 4);
    for (size_t i = 0; i < 4; ++i) ++uses[{r.order[i], r.order[(i + 1) % 4]}];
  }
  CHECK(uses.size() == 12);
  for (const auto& [edge, n] : uses) CHECK(n == 2);
  // NCCL's search input per GPU: each ring's slowest edge, 4 x 25 GB/s x 0.80 (Ampere's NVLink kernel efficiency)
  // shared by 2 rings, summed over 6 rings = 240 GB/s, the GPU's 12 links at that efficiency.
  CHECK(g.intra_bandwidth_GBps() == Approx(6 * 100 * 0.80 / 2));
  // A ring all-reduce's bandwidth term on the mesh equals that of 4 GPUs on NVSwitches, where one ring's edge gets
  // all 12 links (300 x 0.80): the time from 2 to 4 GiB grows by the same amount on both.
  const Topology switched = testing::ShippedTopology("hgx-a100");
  CollectiveModel sw_model(switched, CollectiveParams::Defaults());
  auto sw = Prepare(sw_model, Range(0, 4));
  const CollectiveChoice ring{Algorithm::kRing, Protocol::kSimple};
  const double gib = 1024.0 * 1024 * 1024;
  const double slope_mesh = (ar->Cost(ring, 4 * gib) - ar->Cost(ring, 2 * gib)).ToSeconds();
  const double slope_sw = (sw->Cost(ring, 4 * gib) - sw->Cost(ring, 2 * gib)).ToSeconds();
  CHECK(slope_mesh == Approx(slope_sw).epsilon(0.01));
  // Two 4-GPU islands joined by PCIe have no NVLink ring over all 8: one ring, in island order.
  const Topology islands = testing::ShippedTopology("a100-2x4-nvlink-islands");
  CollectiveModel isl_model(islands, CollectiveParams::Defaults());
  CHECK(Prepare(isl_model, Range(0, 8))->group().channel_groups() == 1);
  CHECK(Prepare(isl_model, Range(0, 4))->group().channel_groups() == 6);
  // The six rings' transfers, played on the flow network, share the links as the closed form charges them.
  for (const Protocol proto : {Protocol::kSimple, Protocol::kLL}) {
    const CollectiveChoice c{Algorithm::kRing, proto};
    Simulator sim;
    FlowNetwork net(sim, mesh);
    auto schedule = ar->Expand(c, 64.0 * 1024 * 1024);
    REQUIRE(schedule.ok());
    Time done;
    ScheduleRun run(sim, net, *schedule, [&] { done = sim.Now(); });
    run.Start();
    sim.Run();
    CHECK(done.ToSeconds() == Approx(ar->Cost(c, 64.0 * 1024 * 1024).ToSeconds()).epsilon(1e-6));
  }
}

TEST_CASE("the trees' correction table: 64 B to 256 MiB up to NCCL 2.28, to 512 MiB from 2.29") {
  // ncclTopoGetAlgoTime scales a tree's bandwidth by treeCorrectionFactor[proto][log2(bytes / 64)]: 23 entries (64 B
  // to 256 MiB) up to 2.28, 24 from 2.29, whose last Simple entry is 0.9. 512 MiB is entry 23: uncorrected up to
  // 2.28, x 0.9 from 2.29, so the tree's modelled time beyond its latency is 1 / 0.9 longer there; at 256 MiB
  // (entry 22, 0.9 in both) and at 1 GiB (entry 24, beyond both tables) the releases agree.
  const CollectiveOp AR = CollectiveOp::kAllReduce;
  const Topology topo = testing::ShippedTopology("oci-bm-gpu4-2node");
  const auto tree_time = [&](int minor, double bytes) {
    NcclVersion ver;
    ver.minor = minor;
    CollectiveModel m(topo, CollectiveParams::ForNcclVersion(ver));
    auto p = Prepare(m, Range(0, 16));
    return p->tuning().TimeUs(AR, Algorithm::kTree, Protocol::kSimple, bytes) -
           p->tuning().LatencyUs(AR, Algorithm::kTree, Protocol::kSimple);
  };
  const double mib = 1 << 20;
  CHECK(tree_time(29, 512 * mib) / tree_time(28, 512 * mib) == Approx(1 / 0.9));
  CHECK(tree_time(29, 256 * mib) / tree_time(28, 256 * mib) == Approx(1.0));
  CHECK(tree_time(29, 1024 * mib) / tree_time(28, 1024 * mib) == Approx(1.0));
  // Against the tree's uncorrected bandwidth (what NCCL's model rates it at beyond the table): 0.9 at 256 MiB.
  NcclVersion v28;
  v28.minor = 28;
  CollectiveModel m(topo, CollectiveParams::ForNcclVersion(v28));
  auto p = Prepare(m, Range(0, 16));
  const double bw = p->tuning().BandwidthGBps(AR, Algorithm::kTree, Protocol::kSimple);
  CHECK(tree_time(28, 256 * mib) == Approx(256 * mib / (1000 * bw * 0.9)));
  CHECK(tree_time(28, 512 * mib) == Approx(512 * mib / (1000 * bw)));
}

TEST_CASE("NCCL versions: the constants and algorithms each release's tuning.cc has") {
  // Parsing: "2.21", "2.21.5", "2.21.5-1"; outside 2.18-2.30 or malformed, an error that says what is expected.
  auto v = ParseNcclVersion("2.21.5-1");
  REQUIRE(v.ok());
  CHECK(v->minor == 21);
  CHECK(v->patch == 5);
  CHECK(ParseNcclVersion("2.18")->ToString() == "2.18");
  for (const char* bad : {"2.17", "2.31", "3.0", "2", "2.x", "2.21.", "", "2.21.5-"}) {
    auto r = ParseNcclVersion(bad);
    INFO(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("expected an NCCL version from 2.18 to 2.30") != std::string::npos);
  }
  // The newest is the default.
  CHECK(CollectiveParams::ForNcclVersion(NcclVersion::Newest()).tuner.hw_latency_us ==
        CollectiveParams::Defaults().tuner.hw_latency_us);

  const Topology topo = testing::ShippedTopology("dgx-h100");
  const auto tuning_for = [&](int minor) {
    NcclVersion ver;
    ver.minor = minor;
    ver.patch = -1;
    auto model = std::make_unique<CollectiveModel>(topo, CollectiveParams::ForNcclVersion(ver));
    auto ar = Prepare(*model, Range(0, 8));
    return std::make_pair(std::move(model), std::move(ar));
  };
  const auto [m18, ar18] = tuning_for(18);
  const auto [m20, ar20] = tuning_for(20);
  const auto [m21, ar21] = tuning_for(21);
  const auto [m30, ar30] = tuning_for(30);
  const CollectiveOp AR = CollectiveOp::kAllReduce;
  // NVLS latency: 2.18 baseLat 23 (hwLat 0), 2.19-2.20 hwLat 23, 2.21+ hwLat 25.
  CHECK(ar18->tuning().LatencyUs(AR, Algorithm::kNvls, Protocol::kSimple) == Approx(23));
  CHECK(ar20->tuning().LatencyUs(AR, Algorithm::kNvls, Protocol::kSimple) == Approx(23));
  CHECK(ar30->tuning().LatencyUs(AR, Algorithm::kNvls, Protocol::kSimple) == Approx(25));
  // It changes what NCCL picks, not the kernel: the one-node NVLS kernel's fixed cost is the model's own (8.4 us,
  // CollectiveParams::nvls_kernel_latency), so 2.20 and 2.21 time an NVLS all-reduce alike.
  const CollectiveChoice nvls{Algorithm::kNvls, Protocol::kSimple};
  CHECK(ar21->Cost(nvls, 1 << 24) == ar20->Cost(nvls, 1 << 24));
  CHECK(ar21->Cost(nvls, 1 << 24) - ar21->Cost(nvls, 0) > Time::Zero());
  // Ring LL on one 8x H100 node: the graph is 12 channels x 30 GB/s = 360 GB/s. 2.30: min(141, 360 x 0.5) x n /
  // nsteps (8 / 14) = 80.57 GB/s; 2.20: min(87.7, 360 / 4) x 8 / 14 = 50.11 GB/s.
  CHECK(ar30->tuning().BandwidthGBps(AR, Algorithm::kRing, Protocol::kLL) == Approx(141.0 * 8 / 14));
  CHECK(ar20->tuning().BandwidthGBps(AR, Algorithm::kRing, Protocol::kLL) == Approx(87.7 * 8 / 14));
  // NCCL's NVLS graph on one node (search.cc): a channel per GPU, each GPU's 370.8 GB/s of NVLink carrying (n + 1)
  // x the speed, so bwIntra = 40 (9 x 40 <= 370.8 < 9 x 50), and the second pass raises bwInter to 60, the array's
  // top (it stops at twice bwIntra). Up to 2.27: channels x min(bwIntra, bwInter) x 5/6 = 8 x 40 x 5/6 = 266.7
  // GB/s. From 2.28: 8 x min(40 x 0.85 (nvlsEfficiency) x 7/8 x 2, 60) x n / nsteps (8 / 14) = 8 x 59.5 x 8 / 14 =
  // 272 GB/s.
  CHECK(ar20->tuning().BandwidthGBps(AR, Algorithm::kNvls, Protocol::kSimple) == Approx(8 * 40.0 * 5 / 6));
  CHECK(ar30->tuning().BandwidthGBps(AR, Algorithm::kNvls, Protocol::kSimple) == Approx(8 * 59.5 * 8 / 14));
  // On 4 GPUs the graph is 4 x 60 (5 x 60 <= 370.8), NVLS 4 x 60 x 5/6 = 200 GB/s against the ring's 360 x 4 / 6 =
  // 240: NCCL 2.27 rings there, and runs NVLS on 5 to 8 GPUs, as the ml-engineering 8x H200 node measured at 8 GiB
  // (../shared/refdata/stas00_mlengineering_collective_and_matmul_measurements.md: NVLS on and off give the same
  // 363.3 GB/s on 4 GPUs; 414, 436, 460 and 473 against about 365 from 5 to 8).
  for (int n = 4; n <= 8; ++n) {
    NcclVersion v27;
    v27.minor = 27;
    CollectiveModel m27(topo, CollectiveParams::ForNcclVersion(v27));
    auto g = Prepare(m27, Range(0, n));
    auto c = g->Choose(8.0 * (1 << 30), {});
    REQUIRE(c.ok());
    INFO(n << " GPUs");
    CHECK(c->algorithm == (n == 4 ? Algorithm::kRing : Algorithm::kNvls));
  }
  // From 2.21 the graph has at most NCCL_MAX_NVLS_ARITY (32) heads. On all 72 GPUs of a GB200 NVL72 (18 NVLink5 links
  // of 50 GB/s x 0.824 = 741.6 GB/s a GPU) a head carries 33 x the speed: 20 GB/s (33 x 24 > 741.6), bwInter raised
  // to 40. 2.30: 32 x min(20 x 0.74 x 31/32 x 2, 40) x 72 / 142 = 465.3 GB/s, above the ring's 16 x 45 x 72 / 142 =
  // 365.1: NVLS. Without the cap (72 heads, 73 x 18 > 741.6) no speed fits and NVLS would never run there.
  {
    const Topology nvl72 = testing::ShippedTopology("gb200-nvl72");
    CollectiveModel m72(nvl72);
    auto all = Prepare(m72, Range(0, 72));
    CHECK(all->tuning().BandwidthGBps(AR, Algorithm::kNvls, Protocol::kSimple) ==
          Approx(32 * (20 * 0.74 * 31 / 32 * 2) * 72 / 142));
    auto c = all->Choose(1 << 30, {});
    REQUIRE(c.ok());
    CHECK(c->algorithm == Algorithm::kNvls);
  }
  // Tree Simple per-hop latency: 28 us on every link class from 2.19 to 2.22, 4 us over NVLink otherwise.
  CHECK(NcclTunerConstants::ForVersion(*ParseNcclVersion("2.21")).hw_latency_us[kNcclHwNvlink][kNcclTree][2] == 28);
  CHECK(NcclTunerConstants::ForVersion(*ParseNcclVersion("2.23")).hw_latency_us[kNcclHwNvlink][kNcclTree][2] == 4);

  // PAT (one GPU per node, all-gather) arrives in 2.23: forced before, it says which release it needs.
  const Topology two = testing::ShippedTopology("dgx-h100-2node");
  for (const auto& [minor, usable] : {std::pair{22, false}, std::pair{23, true}}) {
    NcclVersion ver;
    ver.minor = minor;
    CollectiveModel model(two, CollectiveParams::ForNcclVersion(ver));
    CollectiveCall call;
    call.op = CollectiveOp::kAllGather;
    call.gpus = {0, 8};
    auto ag = model.Prepare(call, {});
    REQUIRE(ag.ok());
    const CollectiveChoice pat{Algorithm::kPat, Protocol::kSimple};
    CHECK((*ag)->Usable(pat) == usable);
    if (!usable) CHECK((*ag)->WhyNot(pat).find("NCCL 2.23") != std::string::npos);
  }
}

TEST_CASE("NVLS needs 3 GPUs of the communicator on a node before NCCL 2.28.7, 2 from then on") {
  // ncclNvlsInit (src/transport/nvls.cc) leaves nvlsSupport 0 when the node has `gpuCount <= 2` of the
  // communicator's GPUs in 2.18 to 2.28.3 and `gpuCount < 2` from 2.28.7. So NVLS and NVLSTree never run with one
  // GPU per node, and with two only from 2.28.7; "2.28" alone is its newest patch, 2.28.9.
  CHECK(NcclNvlsMinGpusPerNode(*ParseNcclVersion("2.18")) == 3);
  CHECK(NcclNvlsMinGpusPerNode(*ParseNcclVersion("2.28.3")) == 3);
  CHECK(NcclNvlsMinGpusPerNode(*ParseNcclVersion("2.28.7")) == 2);
  CHECK(NcclNvlsMinGpusPerNode(*ParseNcclVersion("2.28")) == 2);
  CHECK(NcclNvlsMinGpusPerNode(*ParseNcclVersion("2.30.7")) == 2);

  const CollectiveChoice nvls{Algorithm::kNvls, Protocol::kSimple};
  const CollectiveChoice nvls_tree{Algorithm::kNvlsTree, Protocol::kSimple};
  const auto prepared = [](const Topology& topo, const char* release, std::vector<int> gpus) {
    auto model = std::make_unique<CollectiveModel>(topo, CollectiveParams::ForNcclVersion(*ParseNcclVersion(release)));
    auto p = Prepare(*model, std::move(gpus));
    return std::make_pair(std::move(model), std::move(p));
  };
  // Two GPUs of one DGX H100: forced NVLS is refused before 2.28.7 (the reason names the release), allowed after.
  const Topology one = testing::ShippedTopology("dgx-h100");
  {
    const auto [m, p] = prepared(one, "2.27.5", {0, 1});
    CHECK_FALSE(p->Usable(nvls));
    CHECK(p->WhyNot(nvls).find("NCCL 2.27.5") != std::string::npos);
    CHECK(p->WhyNot(nvls).find("2.28.7") != std::string::npos);
  }
  CHECK(prepared(one, "2.28.7", {0, 1}).second->Usable(nvls));
  CHECK(prepared(one, "2.27.5", {0, 1, 2}).second->Usable(nvls));
  // Two DGX H100s: one GPU per node never runs NVLSTree; two per node only from 2.28.7, and there NCCL's own choice
  // for 64 MiB is NVLSTree (as on 8 per node), where 2.27 runs a ring.
  const Topology two = testing::ShippedTopology("dgx-h100-2node");
  for (const char* release : {"2.27.5", "2.30.7"})
    CHECK_FALSE(prepared(two, release, {0, 8}).second->Usable(nvls_tree));
  CHECK_FALSE(prepared(two, "2.28.3", {0, 1, 8, 9}).second->Usable(nvls_tree));
  const auto [m30, p30] = prepared(two, "2.30.7", {0, 1, 8, 9});
  REQUIRE(p30->Usable(nvls_tree));
  CHECK(p30->Choose(64.0 * (1 << 20), {})->algorithm == Algorithm::kNvlsTree);
  CHECK(prepared(two, "2.27.5", {0, 1, 8, 9}).second->Choose(64.0 * (1 << 20), {})->algorithm == Algorithm::kRing);
}

TEST_CASE("NCCL's p2p channels: how many a send/recv gets by size, ranks and release") {
  // A DGX A100: 12 NVLinks between any two GPUs, a ring search of 12 channels at 20 GB/s (6 at 40, duplicated), so
  // 24 communicator channels. p2pnChannels = pow2Up(24) = 32; a peer gets 2 x 12 = 24 channels, pow2Up 32.
  internal::P2pChannelInputs in;
  in.version = *ParseNcclVersion("2.30.7");
  in.ranks = 8;
  in.comm_channels = 24;
  in.fewest_nvlinks = 12;
  in.search_channel_GBps = 20;
  const internal::P2pChannelPlan eight = internal::PlanP2pChannels(in);
  CHECK(eight.channels == 32);
  CHECK(eight.per_peer == 32);
  // nChannelsMin: 32 halved while x 8 ranks > 32: 4. nChannelsMax: 32 from 2.20.
  CHECK(eight.min_per_op == 4);
  CHECK(eight.max_per_op == 32);
  // NVLink everywhere: p2pChunkSize 512 KiB, parts from 64 KiB to 16 MiB.
  CHECK(eight.min_part == 64 * 1024);
  CHECK(eight.max_part == 16 * 1024 * 1024);
  // A send of a paired send/recv gets 10 of the 20 warps: 20 GB/s x 10 / 16.
  CHECK(eight.channel_GBps == Approx(12.5));
  const double MiB = 1024.0 * 1024;
  CHECK(eight.Used(64 * 1024) == 1);
  CHECK(eight.Used(200 * 1024) == 4);  // ceil(200 / 64) = 4 parts, at most nChannelsMin
  CHECK(eight.Used(64 * MiB) == 4);    // 16 MiB parts: not over the most
  CHECK(eight.Used(128 * MiB) == 8);   // 32 MiB parts over 16 MiB: doubled once
  CHECK(eight.Used(256 * MiB) == 16);
  CHECK(eight.Used(1024 * MiB) == 32);  // 32 MiB parts, but 32 channels is nChannelsMax
  // Up to 2.19 one node also halves nChannelsMax while x 8 ranks > 4 x 32: 16.
  in.version = *ParseNcclVersion("2.18.3");
  const internal::P2pChannelPlan old = internal::PlanP2pChannels(in);
  CHECK(old.max_per_op == 16);
  CHECK(old.Used(1024 * MiB) == 16);
  // Up to 2.21 the warps of a paired send are 9 of 16 (finishWorkP2p).
  CHECK(old.channel_GBps == Approx(20.0 * 9 / 16));
  // Two ranks: nChannelsMin 16. 1.5 MiB from 2.22 runs on min(16, ceil(1.5 MiB / 64 KiB)) = 16 channels; up to 2.21
  // calcP2pChunkSize makes parts of max(64 KiB, 1.5 MiB / 16 = 96 KiB) rounded up to 128 KiB: 12 of them.
  in.ranks = 2;
  in.version = *ParseNcclVersion("2.22.3");
  CHECK(internal::PlanP2pChannels(in).Used(1.5 * MiB) == 16);
  in.version = *ParseNcclVersion("2.21.5");
  CHECK(internal::PlanP2pChannels(in).Used(1.5 * MiB) == 12);
  // A PCIe peer gets 2 channels, and the chunk is NCCL_P2P_PCI_CHUNKSIZE (128 KiB): parts from 16 KiB.
  in.fewest_nvlinks = 0;
  const internal::P2pChannelPlan pcie = internal::PlanP2pChannels(in);
  CHECK(pcie.per_peer == 2);
  CHECK(pcie.min_part == 16 * 1024);
  // The seconds a rank's sends take: 7 peers of 64 KiB on one channel each, 7 channels at 12.5 GB/s.
  CHECK(eight.Seconds(std::vector<double>(7, 1.0), 65536.0) == Approx(7 * 65536.0 / (7 * 12.5e9)));
  // A rank of an 8-rank all-to-all sends S/8 to each of 7 peers. The cap never takes longer than those bytes on one
  // channel per peer, 7/8 S / (7 x 12.5 GB/s): under a floor above that it is not walked (0), above it it is exact.
  internal::P2pChannelCap cap;
  cap.plan = eight;
  cap.shares = {std::vector<double>(7, 1.0 / 8)};
  cap.Finish();
  CHECK(cap.bound_seconds_per_byte == Approx(7.0 / 8 / (7 * 12.5e9)));
  const double S = 8 * 65536.0;  // 64 KiB a peer: one channel each, so the bound is the time
  CHECK(cap.Seconds(S) == Approx(S * cap.bound_seconds_per_byte));
  CHECK(cap.Seconds(S, 2 * S * cap.bound_seconds_per_byte) == 0);
  // 64 MiB: 8 MiB a peer on 4 channels each, 28 channels: a quarter of the bound.
  const double big = 64.0 * 1024 * 1024;
  CHECK(cap.Seconds(big, 0.1 * big * cap.bound_seconds_per_byte) == Approx(big * 7 / 8 / (28 * 12.5e9)));
}

TEST_CASE("NCCL's window to a network peer: channels x NCCL_STEPS x the p2p net chunk, by release") {
  // A DGX H100: one 400 Gb/s NIC per GPU (50 GB/s in NCCL's units), 24 communicator channels (p2pnChannels 32).
  internal::NetPeerInputs in;
  in.ranks = 2;
  in.comm_channels = 24;
  in.nics = 1;
  in.nic_GBps = 50;
  const double KiB = 1024;
  // The channels a release gives one network peer among `ranks`, through `nics` NICs of `GBps` together.
  auto channels = [&](const char* release, int ranks, int nics, double GBps) {
    internal::NetPeerInputs x = in;
    x.version = *ParseNcclVersion(release);
    x.ranks = ranks;
    x.nics = nics;
    x.nic_GBps = GBps;
    return internal::PlanNetPeerWindow(x).channels;
  };
  // Up to 2.19 NCCL_NCHANNELS_PER_NET_PEER is 2: 2 x 8 slots x 128 KiB = 2 MiB in flight.
  in.version = *ParseNcclVersion("2.19.3");
  CHECK(channels("2.19.3", 2, 1, 50) == 2);
  CHECK(internal::PlanNetPeerWindow(in).window_bytes() == 2 * 8 * 128 * KiB);
  // 2.20 to 2.28: max(the NICs, 2 halved while 2 x ranks > 4 x p2pnChannels). 2 ranks: 2; 256 ranks: 512 > 128, so
  // 1, and one NIC keeps it at 1, two at 2.
  CHECK(channels("2.27.7", 2, 1, 50) == 2);
  CHECK(channels("2.27.7", 256, 1, 50) == 1);
  CHECK(channels("2.27.7", 256, 2, 50) == 2);
  // From 2.29: max(the NICs, ceil(their bandwidth / 14 GB/s)): 50 GB/s takes 4 channels, 25 (HDR) 2, 100 (800G) 8.
  CHECK(channels("2.29.2", 2, 1, 50) == 4);
  CHECK(channels("2.29.2", 2, 1, 25) == 2);
  CHECK(channels("2.29.2", 2, 1, 100) == 8);
  in.version = *ParseNcclVersion("2.29.2");
  in.nic_GBps = 100;
  // Grace Blackwell (Arm, sm100) doubles the chunk from 2.29, not before.
  in.arm_sm100 = true;
  CHECK(internal::PlanNetPeerWindow(in).chunk_bytes == 256 * KiB);
  in.version = *ParseNcclVersion("2.28.9");
  CHECK(internal::PlanNetPeerWindow(in).chunk_bytes == 128 * KiB);
  // The chunk is at most the Simple buffer / NCCL_STEPS (computeBuffSizes).
  in.simple_buffer_bytes = 512 * KiB;
  CHECK(internal::PlanNetPeerWindow(in).chunk_bytes == 64 * KiB);
}

}  // namespace
}  // namespace wiresim
