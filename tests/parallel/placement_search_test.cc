// --placement auto: the communication a plan implies per dimension, the score of a placement, and the placement the
// search finds on regular and irregular topologies (docs/placement.md).
#include "sim/parallel/placement_search.h"

#include <algorithm>
#include <set>

#include <catch2/catch.hpp>

#include "sim/topology/degrade.h"
#include "sim/topology/importers.h"
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

TEST_CASE("DemandOf: the bytes per rank of each dimension, from the model's shapes") {
  const ModelSpec llama70b = ShippedModel("llama-3.1-70b");  // hidden 8192, 80 layers, bf16
  // tp=8, pp=2, 8192 tokens: 40 layers per stage; TP 2 all-reduces per layer of 8192 x 8192 x 2 bytes
  // = 2 x 40 x 134,217,728 = 10,737,418,240; PP one send of hidden + residual = 2 x 8192 x 8192 x 2 = 268,435,456.
  const CommDemand d = DemandOf(llama70b, Plan("tp=8,pp=2"), 8192);
  CHECK(d.tp == Approx(10737418240.0));
  CHECK(d.pp == Approx(268435456.0));
  CHECK(d.cp == 0);
  CHECK(d.ep == 0);
  CHECK(d.dp == 0);
  // Sequence parallelism: the PP send carries 1/tp of the tokens, 268,435,456 / 8; the TP bytes are the same
  // (reduce-scatter + all-gather instead of all-reduce).
  const CommDemand sp = DemandOf(llama70b, Plan("tp=8,pp=2,sp=on"), 8192);
  CHECK(sp.tp == Approx(10737418240.0));
  CHECK(sp.pp == Approx(33554432.0));
  // cp=2, tp=4: 4096 tokens per rank, TP 2 x 80 x 4096 x 8192 x 2 = 10,737,418,240; CP the KV of all 8192 tokens
  // per layer at this rank's 8 / 4 = 2 KV heads: 80 x 8192 x (2 x 2 x 128 x 2 bytes) = 671,088,640.
  const CommDemand cp = DemandOf(llama70b, Plan("tp=4,cp=2"), 8192);
  CHECK(cp.tp == Approx(10737418240.0));
  CHECK(cp.cp == Approx(671088640.0));
  // DeepSeek-V3, tp=1, dp=8, ep=8: 58 MoE layers (61 - 3 dense), top-8 of 256, hidden 7168, bf16 activations. The
  // scored step prefills, so a token goes once to each rank holding one of its experts, in 4 of the 8 groups of 32
  // (one per rank): 8 x (1/2)(1 - C(96, 8) / C(128, 8)) = 3.62901 rows; dispatch and combine of 1024 tokens x
  // 3.62901 rows x 7168 x 2 bytes each = 2 x 58 x 1024 x 3.62901 x 14336 = 6,179,797,065.
  const ModelSpec ds = ShippedModel("deepseek-v3");
  const CommDemand ep = DemandOf(ds, Plan("dp=8,ep=8"), 1024);
  CHECK(ep.ep == Approx(6179797065.0));
  // Without the group limit: 8 x (1 - C(224, 8) / C(256, 8)) = 5.29465 rows, 9,016,196,306 bytes.
  ModelSpec ungrouped = ds;
  ungrouped.moe.expert_groups = ungrouped.moe.topk_groups = 1;
  CHECK(DemandOf(ungrouped, Plan("dp=8,ep=8"), 1024).ep == Approx(9016196306.0));
  CHECK(ep.tp == 0);
  // The gather exchange: each MoE layer all-gathers and reduce-scatters the 8 ranks' 1024 tokens of 7168 x 2 bytes,
  // 2 x 58 x 8 x 1024 x 14336 = 13,623,099,392.
  using E = StepGraphOptions::EpExchange;
  CHECK(DemandOf(ds, Plan("dp=8,ep=8"), 1024, E::kAllGather).ep == Approx(13623099392.0));
  // Mixtral (top-2 of 8, hidden 4096, 32 MoE layers) at tp=2, dp=4, ep=8, 1024 tokens: one expert per rank, so a
  // token's 2 experts are on 2 ranks (8 x (1 - C(7, 2) / C(8, 2)) = 2 rows): the all-to-all sends 512 tokens x 2 rows
  // per rank, 2 x 32 x 1024 x 8192 = 536,870,912; vLLM's gather over the DP group of 4 moves every DP rank's
  // 1024 tokens, 2 x 32 x 4 x 1024 x 8192 = 2,147,483,648.
  const ModelSpec mixtral = ShippedModel("mixtral-8x7b");
  CHECK(DemandOf(mixtral, Plan("tp=2,dp=4,ep=8"), 1024).ep == Approx(536870912.0));
  CHECK(DemandOf(mixtral, Plan("tp=2,dp=4,ep=8"), 1024, E::kAllGather).ep == Approx(2147483648.0));
}

TEST_CASE("ScorePlacement: vLLM's gather with TP inside each DP rank is scored over the DP groups") {
  // Mixtral at tp=2, dp=4, ep=8 on one DGX H100, ranks packed: the all-to-all layout scores one EP group of 8 GPUs,
  // the gather layout the 2 DP groups of 4 (the ranks of one TP index).
  const Topology topo = ShippedTopology("dgx-h100");
  const ModelSpec m = ShippedModel("mixtral-8x7b");
  Placement p;
  for (int r = 0; r < 8; ++r) p.gpu_of_rank.push_back(r);
  const PlacementScore a2a = ScorePlacement(topo, m, Plan("tp=2,dp=4,ep=8"), p, 1024);
  const PlacementScore gather =
      ScorePlacement(topo, m, Plan("tp=2,dp=4,ep=8"), p, 1024, StepGraphOptions::EpExchange::kAllGather);
  const auto ep_line = [](const PlacementScore& s) {
    for (const std::string& l : s.lines)
      if (l.rfind("EP groups", 0) == 0) return l;
    return std::string();
  };
  CHECK_THAT(ep_line(a2a), Catch::Matchers::StartsWith("EP groups (1 of 8 GPUs)"));
  CHECK_THAT(ep_line(gather), Catch::Matchers::StartsWith("EP groups (2 of 4 GPUs)"));
}

TEST_CASE("ScorePlacement: a hand-computed cost on the two-island A100 box") {
  // Llama-3.1-8B (hidden 4096, 32 layers, bf16), tp=2, pp=2, 1024 tokens; TP groups {0,1} and {4,5}, one per island,
  // PP sends 0->4 and 1->5 across the islands.
  //   TP demand: 2 x 16 layers x 1024 x 4096 x 2 B = 268,435,456 B. GPU0-GPU1: 4 NVLink3 links x 25 = 100 GB/s, one
  //   300 ns link. Ring all-reduce of 2: 2(n-1)/n = 1 x 268,435,456 / 100e9 = 2.68435456 ms, plus 32 collectives x
  //   2(n-1) = 2 latencies x 300 ns = 19.2 us: 2.70355456 ms per stage.
  //   PP demand: 2 x 1024 x 4096 x 2 = 16,777,216 B over GPU-PCIe switch-CPU-PCIe switch-GPU, PCIe Gen4 x16
  //   31.5 GB/s, 4 links x 500 ns = 2 us: 0.532610032 ms + 2 us = 0.534610032 ms.
  //   Total: 2 x 2.70355456 + 0.534610032 = 5.941719152 ms.
  const Topology topo = ShippedTopology("a100-2x4-nvlink-islands");
  const ModelSpec m = ShippedModel("llama-3.1-8b");
  Placement p;
  p.gpu_of_rank = {0, 1, 4, 5};
  const PlacementScore s = ScorePlacement(topo, m, Plan("tp=2,pp=2"), p, 1024);
  CHECK(s.cost_seconds == Approx(5.941719152e-3).epsilon(1e-9));
  REQUIRE(s.lines.size() == 2);
  CHECK(s.lines[0].rfind("TP groups (2 of 2 GPUs): all inside one NVLink domain; slowest pair GPU 0-1 NV4 (100 GB/s)",
                         0) == 0);
  CHECK(s.lines[1].rfind("PP boundary 0->1 (2 sends): node -> node, slowest GPU 0-4 NODE (31.5 GB/s)", 0) == 0);
}

TEST_CASE("ScorePlacement: a TP group on an NVLink mesh sends on all its links") {
  // Llama-3.1-8B, tp=4, 1024 tokens, the group {0,1,2,3}: one island of the two-island A100 box, every pair joined by
  // its own 4 NVLink3 links (100 GB/s, 300 ns). NCCL's rings take orders that use all three of a GPU's links, so the
  // group sends at 3 x 100 = 300 GB/s per GPU.
  //   TP demand: 2 x 32 layers x 1024 x 4096 x 2 B = 536,870,912 B; ring all-reduce of 4: 2(n-1)/n = 1.5 x
  //   536,870,912 / 300e9 = 2.68435456 ms, plus 64 collectives x 2(n-1) = 6 latencies x 300 ns = 115.2 us:
  //   2.79955456 ms.
  const Topology topo = ShippedTopology("a100-2x4-nvlink-islands");
  const ModelSpec m = ShippedModel("llama-3.1-8b");
  Placement p;
  p.gpu_of_rank = {0, 1, 2, 3};
  const PlacementScore s = ScorePlacement(topo, m, Plan("tp=4"), p, 1024);
  CHECK(s.cost_seconds == Approx(2.79955456e-3).epsilon(1e-9));
  REQUIRE(s.lines.size() == 1);
  CHECK(s.lines[0].rfind("TP groups (1 of 4 GPUs): all inside one NVLink domain; slowest pair GPU 0-1 NV4 (100 GB/s; "
                         "an NVLink mesh, 300 GB/s per GPU)",
                         0) == 0);
  // Across the islands ({0,1,4,5}: pairs over PCIe) the group is paced by its slowest pair alone, GPU-PCIe
  // switch-CPU-PCIe switch-GPU at 31.5 GB/s and 4 x 500 ns: 1.5 x 536,870,912 / 31.5e9 = 25.565281524 ms, plus
  // 64 x 6 x 2 us = 0.768 ms: 26.333281524 ms.
  p.gpu_of_rank = {0, 1, 4, 5};
  const PlacementScore across = ScorePlacement(topo, m, Plan("tp=4"), p, 1024);
  CHECK(across.lines[0].find("mesh") == std::string::npos);
  CHECK(across.cost_seconds == Approx(26.333281524e-3).epsilon(1e-9));
}

TEST_CASE("Auto on a box whose GPU numbering does not follow its NVLink islands recovers the islands") {
  // topologies/a100-2x4-islands-scrambled.toml joins GPUs 0, 3, 5, 6 pairwise by 4 NVLink3 links (island A) and 1, 2,
  // 4, 7 likewise (island B); between islands only PCIe. tp=4, dp=2: the two TP groups must be the two islands.
  const Topology topo = ShippedTopology("a100-2x4-islands-scrambled");
  const ModelSpec m = ShippedModel("llama-3.1-8b");
  const ParallelPlan plan = Plan("tp=4,dp=2");
  PlacementScore why;
  const Placement where = Auto(topo, m, plan, Range(8), &why);
  CHECK(TpGroups(plan, where) == std::set<std::set<int>>{{0, 3, 5, 6}, {1, 2, 4, 7}});
  REQUIRE_FALSE(why.lines.empty());
  CHECK(why.lines[0].rfind("TP groups (2 of 4 GPUs): all inside one NVLink domain", 0) == 0);
  // Packed (0-3 | 4-7) and strided (0,2,4,6 | 1,3,5,7) both put PCIe (31.5 GB/s) inside every TP group instead of
  // NVLink (100 GB/s): their score is over 3x auto's.
  CHECK(Score(topo, m, plan, {0, 1, 2, 3, 4, 5, 6, 7}) > 3 * why.cost_seconds);
  CHECK(Score(topo, m, plan, {0, 2, 4, 6, 1, 3, 5, 7}) > 3 * why.cost_seconds);
  // The same from a scrambled --gpus order.
  CHECK(TpGroups(plan, Auto(topo, m, plan, {7, 6, 5, 4, 3, 2, 1, 0})) ==
        std::set<std::set<int>>{{0, 3, 5, 6}, {1, 2, 4, 7}});
}

TEST_CASE("Auto on two DGX H100: TP inside each node, PP across, also from a scrambled GPU order") {
  const Topology topo = ShippedTopology("dgx-h100-2node");
  const ModelSpec m = ShippedModel("llama-3.1-70b");
  const ParallelPlan plan = Plan("tp=8,pp=2");
  // In order, auto is packed: stage 0 on node0's GPUs 0-7, stage 1 on node1's 8-15.
  PlacementScore why;
  CHECK(Auto(topo, m, plan, Range(16), &why).gpu_of_rank == Range(16));
  REQUIRE(why.lines.size() == 2);
  CHECK(why.lines[0].rfind("TP groups (2 of 8 GPUs): all inside one NVLink domain; slowest pair GPU 0-1 NV18 (450 "
                           "GB/s)",
                           0) == 0);
  CHECK(why.lines[1].rfind("PP boundary 0->1 (8 sends): node0 -> node1, slowest GPU 0-8 NET (50 GB/s)", 0) == 0);
  // --gpus 0,8,1,9,...: packed would put GPUs of both nodes in every TP group; auto keeps each in one node.
  std::vector<int> scrambled;
  for (int i = 0; i < 8; ++i) {
    scrambled.push_back(i);
    scrambled.push_back(i + 8);
  }
  const Placement where = Auto(topo, m, plan, scrambled);
  CHECK(TpGroups(plan, where) == std::set<std::set<int>>{{0, 1, 2, 3, 4, 5, 6, 7}, {8, 9, 10, 11, 12, 13, 14, 15}});
  CHECK(Score(topo, m, plan, where.gpu_of_rank) < Score(topo, m, plan, scrambled));
}

TEST_CASE("Auto on 1,024 GPUs from a scrambled order keeps every TP group in one node") {
  // dgx-h100-128node: node k holds GPUs 8k .. 8k+7, one NVLink domain each. The order 0, 8, 16, ... would put eight
  // nodes in every packed TP group (and strided is no better); auto must give each TP group one node's 8 GPUs.
  const Topology topo = ShippedTopology("dgx-h100-128node");
  const ModelSpec m = ShippedModel("llama-3.1-70b");
  const ParallelPlan plan = Plan("tp=8,pp=2,dp=64");
  std::vector<int> order;
  for (int s = 0; s < 8; ++s) {
    for (int g = s; g < 1024; g += 8) order.push_back(g);
  }
  const Placement where = Auto(topo, m, plan, order);
  const ParallelGroups groups = BuildGroups(plan, where);
  std::set<int> used(where.gpu_of_rank.begin(), where.gpu_of_rank.end());
  CHECK(used.size() == 1024);
  for (const std::vector<int>& tp : groups.groups[0]) {
    const int node = tp.front() / 8;
    for (int g : tp) CHECK(g / 8 == node);
  }
}

TEST_CASE("Auto with a degraded NVLink: a spare GPU replaces the slow one, and the score prices it") {
  // Every link of DGX H100 GPU 3 at a quarter of its rate: its routes to the others run at 450 x 0.25 = 112.5 GB/s.
  const Topology base = ShippedTopology("dgx-h100");
  TopologyChanges c;
  c.degrade.push_back({base.gpu(3), kNoNode, 0.25});
  Result<Topology> built = ApplyTopologyChanges(base, c);
  REQUIRE(built.ok());
  const Topology& topo = *built;
  const ModelSpec m = ShippedModel("llama-3.1-70b");
  const ParallelPlan plan = Plan("tp=4");
  // Four GPUs of eight: the TP group leaves GPU 3 out and takes the next, 4 (ties go to the lower index).
  const Placement where = Auto(topo, m, plan, Range(8));
  std::vector<int> sorted = where.gpu_of_rank;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == std::vector<int>{0, 1, 2, 4});
  // Packed (0-3) includes GPU 3: its TP time is the ring's bytes over 112.5 instead of 450 GB/s. Both pay the same
  // latency (same routes' hop counts), so the ratio of the bandwidth terms is 4; the whole is a little under 4.
  const double packed = Score(topo, m, plan, {0, 1, 2, 3});
  const double chosen = Score(topo, m, plan, where.gpu_of_rank);
  CHECK(packed / chosen > 3.5);
  CHECK(packed / chosen < 4.0);
  // tp=4, dp=2 on all eight: one group has to hold GPU 3, and no placement does better than packed.
  const ParallelPlan two = Plan("tp=4,dp=2");
  CHECK(Score(topo, m, two, Auto(topo, m, two, Range(8)).gpu_of_rank) <= Score(topo, m, two, Range(8)));
}

TEST_CASE("Auto on the PCIe-only L40S box pairs the GPUs that share a PCIe switch") {
  // pcie-8x-l40s: gpu[*] -> pcie[*] with map = "block": GPUs 0,1 on switch 0, 2,3 on 1, 4,5 on 2, 6,7 on 3. Every
  // GPU pair on one socket has the same bandwidth (the GPUs' own Gen4 x16, 32 GB/s), but a pair under one switch
  // crosses 2 PCIe links (1 us) and one across switches 4 (2 us): the latency term picks the switch pairs.
  const Topology topo = ShippedTopology("pcie-8x-l40s");
  const ModelSpec m = ShippedModel("llama-3.1-8b");
  const ParallelPlan plan = Plan("tp=2,dp=4");
  PlacementScore why;
  const Placement where = Auto(topo, m, plan, {0, 2, 4, 6, 1, 3, 5, 7}, &why);
  CHECK(TpGroups(plan, where) == std::set<std::set<int>>{{0, 1}, {2, 3}, {4, 5}, {6, 7}});
  CHECK(why.lines[0].rfind(
            "TP groups (4 of 2 GPUs): all inside one host over PCIe or the CPU; slowest pair GPU 0-1 PIX", 0) == 0);
  // tp=4 (two replicas): each group on one socket (NODE, 32 GB/s), not across (SYS, UPI 22 GB/s).
  const ParallelPlan four = Plan("tp=4,dp=2");
  CHECK(TpGroups(four, Auto(topo, m, four, {0, 4, 1, 5, 2, 6, 3, 7})) ==
        std::set<std::set<int>>{{0, 1, 2, 3}, {4, 5, 6, 7}});
}

TEST_CASE("Auto on a machine imported from nvidia-smi topo -m pairs the GPUs its NVLink bridges join") {
  // Four GPUs, NVLink bridges (NV12) between GPUs 0-3 and 1-2 only, the rest NODE (PCIe through one CPU socket).
  // Packed tp=2 groups are {0,1} and {2,3}, strided ones {0,2} and {1,3}: both over PCIe. Auto must find {0,3}, {1,2}.
  const std::string smi =
      "\tGPU0\tGPU1\tGPU2\tGPU3\tCPU Affinity\tNUMA Affinity\n"
      "GPU0\t X \tNODE\tNODE\tNV12\t0-31\t0\n"
      "GPU1\tNODE\t X \tNV12\tNODE\t0-31\t0\n"
      "GPU2\tNODE\tNV12\t X \tNODE\t0-31\t0\n"
      "GPU3\tNV12\tNODE\tNODE\t X \t0-31\t0\n";
  ImportOptions options;
  options.gpu_model = "h100-nvl";
  Result<ImportResult> imported = ImportNvidiaSmiTopo(SourceFile{"smi.txt", smi}, options);
  INFO(imported.status().message());
  REQUIRE(imported.ok());
  Result<Topology> topo = Topology::Build(imported->spec);
  REQUIRE(topo.ok());
  const ModelSpec m = ShippedModel("llama-3.1-8b");
  const ParallelPlan plan = Plan("tp=2,dp=2");
  CHECK(TpGroups(plan, Auto(*topo, m, plan, Range(4))) == std::set<std::set<int>>{{0, 3}, {1, 2}});
}

TEST_CASE("Auto is never worse than packed and strided, and deterministic") {
  struct Case {
    const char* topology;
    const char* model;
    const char* plan;
    std::vector<int> gpus;
  };
  const std::vector<Case> cases = {
      {"a100-2x4-nvlink-islands", "llama-3.1-8b", "tp=2,pp=2,dp=2", Range(8)},
      {"h100-nvl-4gpu-pairs", "llama-3.1-8b", "tp=2,dp=2", {0, 2, 1, 3}},
      {"dgx-h100-4node", "llama-3.1-70b", "tp=4,pp=4,dp=2", Range(32)},
      {"dgx-h100-2node", "mixtral-8x7b", "tp=2,dp=8,ep=16", Range(16)},
      {"pcie-8x-l40s", "llama-3.1-8b", "tp=2,cp=2,dp=2", {7, 6, 5, 4, 3, 2, 1, 0}},
  };
  for (const Case& c : cases) {
    INFO(c.topology << " " << c.plan);
    const Topology topo = ShippedTopology(c.topology);
    const ModelSpec m = ShippedModel(c.model);
    const ParallelPlan plan = Plan(c.plan);
    PlacementScore why;
    const Placement where = Auto(topo, m, plan, c.gpus, &why);
    CHECK(why.cost_seconds == Approx(Score(topo, m, plan, where.gpu_of_rank)));
    Result<Placement> packed = PackedPlacement().Place(plan, c.gpus);
    Result<Placement> strided = StridedPlacement().Place(plan, c.gpus);
    REQUIRE(packed.ok());
    REQUIRE(strided.ok());
    CHECK(why.cost_seconds <= Score(topo, m, plan, packed->gpu_of_rank) * (1 + 1e-12));
    CHECK(why.cost_seconds <= Score(topo, m, plan, strided->gpu_of_rank) * (1 + 1e-12));
    CHECK(Auto(topo, m, plan, c.gpus).gpu_of_rank == where.gpu_of_rank);
  }
}

TEST_CASE("Auto rejects too few GPUs, a GPU listed twice and a GPU the topology lacks") {
  const Topology topo = ShippedTopology("dgx-h100");
  const ModelSpec m = ShippedModel("llama-3.1-8b");
  const std::vector<int> few = {0, 1, 2};
  const std::vector<int> twice = {0, 1, 1, 2};
  const std::vector<int> missing = {0, 1, 2, 8};
  Result<Placement> a = AutoPlacement(topo, m, Plan("tp=4"), few);
  REQUIRE_FALSE(a.ok());
  CHECK(a.status().message() == "placement auto: plan tp=4 needs 4 GPUs, 3 given");
  Result<Placement> b = AutoPlacement(topo, m, Plan("tp=4"), twice);
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().message() == "placement auto: GPU 1 given twice");
  Result<Placement> c = AutoPlacement(topo, m, Plan("tp=4"), missing);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message() == "placement auto: GPU 8 does not exist (dgx-h100 has GPUs 0-7)");
}

}  // namespace
}  // namespace wiresim
