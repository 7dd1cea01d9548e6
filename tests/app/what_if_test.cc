// What-ifs in `wiresim run`: a degraded NIC slows a NIC-bound collective by the ratio of rates, a failed NIC is routed
// around, a GPU cut off from its peers stops the run naming it, a straggler GPU's iterations take its factor times as
// long, and the scenario file and the flags say the same thing.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "sim/app/cli.h"
#include "sim/collective/collective_model.h"
#include "sim/compute/gpu_spec.h"
#include "sim/compute/roofline.h"
#include "sim/compute/straggler.h"
#include "sim/model/model_file.h"
#include "sim/parallel/step_graph.h"
#include "sim/topology/degrade.h"
#include "tests/testing/cli.h"
#include "tests/testing/memory_reader.h"
#include "tests/testing/topology.h"

namespace wiresim::app {
namespace {

using Catch::Matchers::Contains;
using testing::RunWiresim;

nlohmann::json RunJson(std::vector<std::string> args) {
  args.insert(args.begin(), "run");
  args.push_back("--json");
  const testing::CliRun r = RunWiresim(args);
  INFO(r.err);
  REQUIRE(r.code == kExitOk);
  return nlohmann::json::parse(r.out);
}

std::vector<std::string> With(std::vector<std::string> base, const std::vector<std::string>& more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

// A ring all-reduce of node0/gpu2 and node1/gpu2 crosses rail 2 once each way: NIC-bound.
Time RingAllReduce(const Topology& topo, double bytes) {
  CollectiveModel model(topo);
  CollectiveCall call;
  call.op = CollectiveOp::kAllReduce;
  call.gpus = {2, 10};
  Result<std::unique_ptr<PreparedCollective>> ar = model.Prepare(call, {});
  REQUIRE(ar.ok());
  const CollectiveChoice ring{Algorithm::kRing, Protocol::kSimple};
  REQUIRE((*ar)->Usable(ring));
  return (*ar)->Cost(ring, bytes);
}

TEST_CASE("A NIC at half rate makes a NIC-bound cross-node all-reduce's bandwidth term twice as long") {
  // Ring all-reduce over n = 2 ranks: T(S) = a + 2(n-1)/n * S / B = a + S / B, with B the route's bottleneck: the
  // 50 GB/s NDR port in health, 25 GB/s with node0/nic2 (its port and its PCIe link) at 0.5. The latency term a does
  // not depend on rates, so T(S) - T(small) doubles, up to what grows with size but not with rate (the protocol's
  // per-chunk costs: 0.2 us of 46 ms here).
  const Topology healthy = testing::ShippedTopology("dgx-h100-2node");
  TopologyChanges c;
  c.degrade.push_back({*healthy.FindNode("node0/nic2"), kNoNode, 0.5});
  Result<Topology> degraded = ApplyTopologyChanges(healthy, c);
  REQUIRE(degraded.ok());
  const double big = 1 << 30, small = 1024;
  const double h = (RingAllReduce(healthy, big) - RingAllReduce(healthy, small)).ToSeconds();
  const double d = (RingAllReduce(*degraded, big) - RingAllReduce(*degraded, small)).ToSeconds();
  CHECK(d == Approx(2 * h).epsilon(1e-5));
  // And the healthy bandwidth term is S / 50 GB/s, up to the protocol's efficiency on bulk copies (within 10%).
  CHECK(h == Approx((big - small) / 50e9).epsilon(0.1));
  // The whole collective, latency included, is close to twice as long for a gigabyte.
  const double ratio = RingAllReduce(*degraded, big).ToSeconds() / RingAllReduce(healthy, big).ToSeconds();
  CHECK(ratio > 1.95);
  CHECK(ratio <= 2.0);
}

const std::vector<std::string> kOneGpu = {
    "--topology", "dgx-h100", "--model", "llama-3.2-1b",       "--plan", "tp=1", "--gpus",
    "0",          "--engine", "trtllm",  "--host-overhead-ms", "0.5", "--no-async-scheduling"};

// One iteration of a tp=1 replica: its kernels back to back, timed by the H100's roofline.
Time Iteration(const ModelSpec& m, const char* batch) {
  const ParallelPlan plan;
  const Placement where{{0}};
  Result<BatchShape> b = ParseBatch(batch);
  REQUIRE(b.ok());
  Result<StepGraph> g = BuildStepGraph(m, plan, where, *b, {});
  REQUIRE(g.ok());
  const RooflineModel h100(*FindGpuSpec("h100-sxm"));
  return ComputeTime(g->programs[0], h100);
}

TEST_CASE("A straggler at 2.0 doubles a one-GPU replica's iterations, the healthy run is reported beside it") {
  Result<ModelSpec> m = LoadModel(testing::ReadSourceFile("workloads/models/llama-3.2-1b.toml"));
  REQUIRE(m.ok());
  // A kernel's time doubles exactly (whole picoseconds times 2), and at tp=1 an iteration is its kernels back to
  // back, so each iteration takes twice its healthy time: TTFT = host + 2 * prefill, each decode host + 2 * step.
  const nlohmann::json j =
      RunJson(With(kOneGpu, {"--requests", "1", "--input-len", "100", "--output-len", "3", "--straggler", "0=2"}));
  const double host = 0.5;
  const double prefill = Iteration(*m, "prefill=1x100").ToMilliseconds();
  const double decode1 = Iteration(*m, "decode=1x101").ToMilliseconds();
  const double decode2 = Iteration(*m, "decode=1x102").ToMilliseconds();
  CHECK(j["mean_ttft_ms"].get<double>() == Approx(host + 2 * prefill).epsilon(1e-9));
  CHECK(j["mean_tpot_ms"].get<double>() == Approx(host + (decode1 + decode2)).epsilon(1e-9));
  CHECK(j["healthy"]["mean_ttft_ms"].get<double>() == Approx(host + prefill).epsilon(1e-9));
  CHECK(j["healthy"]["mean_tpot_ms"].get<double>() == Approx(host + (decode1 + decode2) / 2).epsilon(1e-9));
  CHECK(j["what_if"]["straggler"][0]["gpu"] == "0");
  CHECK(j["what_if"]["straggler"][0]["factor"] == 2.0);
  // The healthy figures are those of the same run without the what-if.
  const nlohmann::json plain = RunJson(With(kOneGpu, {"--requests", "1", "--input-len", "100", "--output-len", "3"}));
  CHECK(j["healthy"]["median_tpot_ms"] == plain["median_tpot_ms"]);
  CHECK(j["healthy"]["output_throughput"] == plain["output_throughput"]);
}

TEST_CASE("A GPU named twice as a straggler runs its factors' product") {
  Result<ModelSpec> m = LoadModel(testing::ReadSourceFile("workloads/models/llama-3.2-1b.toml"));
  REQUIRE(m.ok());
  // 2 x 1.5 = 3: at tp=1 TTFT = host + 3 * prefill, as the test above derives for one factor.
  const nlohmann::json j = RunJson(With(kOneGpu, {"--requests", "1", "--input-len", "100", "--output-len", "3",
                                                  "--straggler", "0=2", "--straggler", "0=1.5"}));
  const double host = 0.5;
  CHECK(j["mean_ttft_ms"].get<double>() ==
        Approx(host + 3 * Iteration(*m, "prefill=1x100").ToMilliseconds()).epsilon(1e-9));
  CHECK(j["what_if"]["straggler"].size() == 2);
}

TEST_CASE("A run that passes the simulation's horizon ends with exit 2 and writes nothing") {
  // One GPU, one sequence at a time (--max-num-seqs 1), every request a 100,000-token prompt and one output token:
  // the requests run one after another, so n of them take n x d, d the time of one (its 13 prefill chunks at 1000
  // times their time). The horizon is 2^62 ps = 4,611,686.018 s (Simulator::kHorizon): floor(4611686.018 / d)
  // requests finish inside it, one more passes it.
  const std::vector<std::string> base = {"--topology",  "dgx-h100", "--model",        "llama-3.1-8b",
                                         "--plan",      "tp=1",     "--rate",         "inf",
                                         "--input-len", "100000",   "--output-len",   "1",
                                         "--straggler", "0=1000",   "--max-num-seqs", "1"};
  const double d = RunJson(With(base, {"--requests", "1"}))["duration"].get<double>();
  const double horizon_s = static_cast<double>(int64_t{1} << 62) * 1e-12;
  const int fit = static_cast<int>(horizon_s / d);
  REQUIRE(fit > 100);  // d is about 6,400 s: some 720 requests fit
  const nlohmann::json inside = RunJson(With(base, {"--requests", std::to_string(fit)}));
  CHECK(inside["completed"] == fit);
  CHECK(inside["duration"].get<double>() == Approx(fit * d).epsilon(1e-4));

  testing::ScratchDir dir("wiresim-horizon");
  std::vector<std::string> args = With(
      base, {"--requests", std::to_string(fit + 1), "--out", dir / "out", "--timeline", dir / "t.json", "--quiet"});
  args.insert(args.begin(), "run");
  const testing::CliRun r = RunWiresim(args);
  CHECK(r.code == kExitBadInput);
  CHECK_THAT(r.err, Contains("passed the longest simulated time it holds, 4.6e6 s (about 53 days)") &&
                        Contains("with " + std::to_string(fit) + " of the " + std::to_string(fit + 1) + " requests"));
  CHECK_FALSE(std::filesystem::exists(dir / "out"));
  CHECK_FALSE(std::filesystem::exists(dir / "t.json"));
}

TEST_CASE("A straggler in a tp=2 replica runs it op by op and says so") {
  const testing::CliRun r = RunWiresim({"run", "--topology", "dgx-h100", "--model", "llama-3.2-1b", "--plan", "tp=2",
                                        "--requests", "4", "--straggler", "node/gpu1=1.5", "--quiet"});
  INFO(r.err);
  REQUIRE(r.code == kExitOk);
  CHECK_THAT(r.out, Contains("What-if against healthy"));
  CHECK_THAT(r.out, Contains("straggler GPU 1 (node/gpu1): replica 0 runs its iterations op by op"));
  CHECK_THAT(r.out, Contains("P99 TPOT (ms):"));
}

const std::vector<std::string> kCrossNode = {"--topology", "dgx-h100-2node", "--model", "llama-3.2-1b", "--plan",
                                             "tp=2",       "--gpus",         "2,10",    "--requests",   "6"};

TEST_CASE("A failed NIC is routed around and the run succeeds") {
  const nlohmann::json j = RunJson(With(kCrossNode, {"--fail", "node0/nic2"}));
  CHECK(j["completed"] == 6);
  CHECK(j["healthy"]["completed"] == 6);
  CHECK(j["what_if"]["fail"][0] == "node0/nic2");
  // Reaching the other node now takes the CPU socket's PCIe to another NIC: never faster.
  CHECK(j["median_e2el_ms"].get<double>() >= j["healthy"]["median_e2el_ms"].get<double>());
}

TEST_CASE("A GPU cut off from its tensor-parallel peers stops the run with exit 2, naming it") {
  // Every NVSwitch of the node and GPU 2's PCIe switch failed: GPU 2 has no link left.
  const testing::CliRun r =
      RunWiresim({"run", "--topology", "dgx-h100", "--model", "llama-3.2-1b", "--plan", "tp=8", "--requests", "2",
                  "--fail", "node/nvswitch0", "--fail", "node/nvswitch1", "--fail", "node/nvswitch2", "--fail",
                  "node/nvswitch3", "--fail", "node/pcie2"});
  CHECK(r.code == kExitBadInput);
  CHECK_THAT(r.err, Contains("GPU 2 (node/gpu2)"));
  CHECK_THAT(r.err, Contains("--fail node/pcie2"));
  CHECK(r.out.empty());
  // With the NVSwitches alone gone, the GPUs still meet over PCIe through the CPU sockets.
  const testing::CliRun pcie = RunWiresim({"run", "--topology", "dgx-h100", "--model", "llama-3.2-1b", "--plan", "tp=8",
                                           "--requests", "2", "--fail", "node/nvswitch0", "--fail", "node/nvswitch1",
                                           "--fail", "node/nvswitch2", "--fail", "node/nvswitch3", "--quiet"});
  INFO(pcie.err);
  CHECK(pcie.code == kExitOk);
  // A failed GPU the plan uses.
  const testing::CliRun gpu = RunWiresim({"run", "--topology", "dgx-h100", "--model", "llama-3.2-1b", "--plan", "tp=2",
                                          "--requests", "2", "--fail", "node/gpu1"});
  CHECK(gpu.code == kExitBadInput);
  CHECK_THAT(gpu.err, Contains("GPU 1 (node/gpu1)"));
}

TEST_CASE("What-ifs with bad names or factors are refused with exit 2, naming the flag") {
  struct Case {
    std::vector<std::string> flags;
    const char* says;
  };
  const Case cases[] = {
      {{"--degrade", "node9/nic3=0.5"}, "--degrade node9/nic3"},
      {{"--degrade", "node/nic3=1.5"}, "at most 1"},
      {{"--degrade", "node/nic3=0"}, "greater than 0"},
      {{"--degrade", "node/nic3"}, "ELEMENT=FACTOR"},
      {{"--degrade", "node/gpu1-node/gpu2=0.5"}, "no link between them"},
      {{"--fail", "node/nic9"}, "--fail node/nic9"},
      {{"--straggler", "node/gpu0=0.5"}, "from 1 to 1000"},
      {{"--straggler", "node/gpu0=1001"}, "from 1 to 1000"},
      // The factors of a GPU named twice multiply: 40 x 30 = 1200, past 1000.
      {{"--straggler", "node/gpu0=40", "--straggler", "0=30"}, "1200 times as long, more than 1000"},
      {{"--straggler", "node/gpu0=inf"}, "GPU=FACTOR"},
      {{"--straggler", "8=1.5"}, "GPUs 0 to 7"},
      {{"--straggler", "node/nic0=1.5"}, "not a GPU"},
      // A disaggregated deployment's transfers are not covered by the what-ifs' reachability check.
      {{"--fail", "node/nic0", "--prefill-plan", "tp=1", "--decode-plan", "tp=1"}, "apply to aggregated deployments"},
  };
  for (const Case& c : cases) {
    INFO(c.flags[0] << " " << c.flags[1]);
    const testing::CliRun r =
        RunWiresim(With({"run", "--topology", "dgx-h100", "--model", "llama-3.2-1b", "--requests", "2"}, c.flags));
    CHECK(r.code == kExitBadInput);
    CHECK_THAT(r.err, Contains(c.says));
  }
}

TEST_CASE("The scenario file's [what_if] table and the flags give the same run") {
  testing::ScratchDir dir("wiresim-what-if");
  const std::string path = dir / "scenario.toml";
  const std::string deployment = R"(
[deployment]
topology = "dgx-h100-2node"
model = "llama-3.2-1b"
plan = "tp=2,dp=2"
gpus = "2,10,3,11"
[workload]
requests = 12
rate = 20
input_len = "200"
output_len = "20"
)";
  {
    std::ofstream(path) << deployment << R"(
[what_if]
fail = ["node0/nic2"]
degrade = { "node1/nic3" = 0.5, "node0/gpu3-node0/pcie3" = 0.75 }
straggler = { "node0/gpu3" = 1.3 }
)";
  }
  const testing::CliRun file = RunWiresim({"run", path, "--quiet"});
  INFO(file.err);
  REQUIRE(file.code == kExitOk);
  { std::ofstream(path) << deployment; }
  // The table's keys come in name order: the flags give them in the same order.
  const testing::CliRun flags =
      RunWiresim({"run", path, "--quiet", "--fail", "node0/nic2", "--degrade", "node0/gpu3-node0/pcie3=0.75",
                  "--degrade", "node1/nic3=0.5", "--straggler", "node0/gpu3=1.3"});
  INFO(flags.err);
  REQUIRE(flags.code == kExitOk);
  CHECK(file.out == flags.out);
  CHECK_THAT(file.out, Contains("degrade node0/gpu3-node0/pcie3=0.75; degrade node1/nic3=0.5; fail node0/nic2; "
                                "straggler node0/gpu3=1.3"));
  // A bad factor in the file names its line.
  { std::ofstream(path) << deployment << "[what_if]\nstraggler = { \"node0/gpu3\" = 0.9 }\n"; }
  const testing::CliRun bad = RunWiresim({"run", path});
  CHECK(bad.code == kExitBadInput);
  CHECK_THAT(bad.err, Contains("scenario.toml:13"));
  CHECK_THAT(bad.err, Contains("what_if.straggler"));
}

}  // namespace
}  // namespace wiresim::app
