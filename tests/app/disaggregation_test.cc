// `wiresim run` with prefill and decode on separate replicas: one request's TTFT against the prefill, the KV
// transfer and the decode's first step timed by hand; layerwise transfer hiding all but the last layer; NVLink
// inside a node against the NIC between nodes; requests and tokens conserved; reruns byte-identical; bad
// specifications refused with exit 2.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "sim/app/calibration_input.h"
#include "sim/app/cli.h"
#include "sim/compute/gpu_spec.h"
#include "sim/model/model_file.h"
#include "sim/parallel/step_graph.h"
#include "sim/topology/routing.h"
#include "tests/testing/cli.h"
#include "tests/testing/memory_reader.h"
#include "tests/testing/topology.h"

namespace wiresim::app {
namespace {

using Catch::Matchers::Contains;
using Run = testing::CliRun;

nlohmann::json RunJson(std::vector<std::string> args) {
  args.insert(args.begin(), "run");
  args.push_back("--json");
  const Run r = testing::RunWiresim(args);
  INFO(r.err);
  REQUIRE(r.code == kExitOk);
  return nlohmann::json::parse(r.out);
}

std::vector<std::string> With(std::vector<std::string> base, const std::vector<std::string>& more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

ModelSpec Llama1b() {
  Result<ModelSpec> r = LoadModel(testing::ReadSourceFile("workloads/models/llama-3.2-1b.toml"));
  REQUIRE(r.ok());
  return std::move(r).value();
}

// One iteration of a one-GPU replica: its kernels back to back (tp=1 has no collectives), as the kernel model
// times them; independent of the scheduler, the executor and the transfers.
double IterationMs(const ModelSpec& m, const char* batch) {
  const ParallelPlan plan;
  const Placement where{{0}};
  Result<BatchShape> b = ParseBatch(batch);
  REQUIRE(b.ok());
  Result<StepGraph> g = BuildStepGraph(m, plan, where, *b, {});
  REQUIRE(g.ok());
  const std::unique_ptr<KernelTimeModel> timer = KernelModelFor(*FindGpuSpec("h100-sxm"), {}, nullptr, nullptr);
  return ComputeTime(g->programs[0], *timer).ToMilliseconds();
}

// TRT-LLM's profile pads no batch (docs/engines.md): each step computes exactly what the scheduler formed.
const std::vector<std::string> k1P1D = {
    "--topology",    "dgx-h100-2node", "--model",  "llama-3.2-1b", "--prefill-plan",     "tp=1",
    "--decode-plan", "tp=1",           "--engine", "trtllm",       "--host-overhead-ms", "0.5"};

// Llama-3.2-1B's KV per token (workloads/models/llama-3.2-1b.toml): 16 layers x 2 (K, V) x 8 KV heads x 64 x
// 2 bytes (bf16) = 32,768 bytes; per layer 2,048.
constexpr double kKvBytesPerTokenLayer = 2.0 * 8 * 64 * 2;
constexpr double kLayers = 16;

struct RouteFigures {
  double rate = 0;  // bytes per second
  double latency_ms = 0;
};

RouteFigures RouteBetween(int a, int b) {
  const Topology topo = testing::ShippedTopology("dgx-h100-2node");
  Router router(topo);
  const Route* r = router.Find(topo.gpu(a), topo.gpu(b));
  REQUIRE(r != nullptr);
  return {r->bandwidth_GBps * 1e9, r->latency.ToMilliseconds()};
}

TEST_CASE("1P1D across two nodes: TTFT is the prefill, the KV over the NIC, and the decode's first step") {
  const ModelSpec m = Llama1b();
  // GPU 0 (node 0) prefills, GPU 8 (node 1) decodes: the KV crosses GPU 0's NIC, a 400G NDR port = 50 GB/s
  // (topologies/dgx-h100-2node.toml, [CX7]).
  const RouteFigures net = RouteBetween(0, 8);
  REQUIRE(net.rate == Approx(50e9));
  const nlohmann::json j =
      RunJson(With(k1P1D, {"--gpus", "0,8", "--requests", "1", "--input-len", "1000", "--output-len", "5"}));
  // 1,000 tokens x 32,768 bytes = 32,768,000 bytes: 0.65536 ms at 50 GB/s, plus the route's latency.
  const double bytes = 1000 * kLayers * kKvBytesPerTokenLayer;
  const double transfer = 1000.0 * bytes / net.rate + net.latency_ms;
  const nlohmann::json& pd = j["wiresim"]["disaggregation"];
  CHECK(pd["mean_kv_transfer_bytes"].get<double>() == Approx(32768000));
  CHECK(pd["mean_kv_transfer_ms"].get<double>() == Approx(transfer).margin(1e-6));
  // Prefill: host + the 1,000-token prompt (its sampled token is not the user's). Decode, once the KV has landed:
  // host + token 1,000 recomputed after 999 moved in, which samples output token 1 (the TTFT); both steps are
  // formed on an idle instance, so the host's whole time shows. Then 4 decodes over 1,001 .. 1,004 tokens, each
  // formed while the step before runs (the engine's overlap scheduler): each decode step (about 1.5 ms) covers the
  // host's 0.5 ms, so only the steps show.
  const double host = 0.5;
  const double ttft = host + IterationMs(m, "prefill=1x1000") + transfer + host + IterationMs(m, "prefill=1x1@999");
  double decodes = 0;
  for (const char* b : {"decode=1x1001", "decode=1x1002", "decode=1x1003", "decode=1x1004"}) {
    REQUIRE(IterationMs(m, b) > host);
    decodes += IterationMs(m, b);
  }
  CHECK(j["mean_ttft_ms"].get<double>() == Approx(ttft).margin(1e-6));
  CHECK(j["mean_e2el_ms"].get<double>() == Approx(ttft + decodes).margin(1e-6));
  CHECK(j["mean_tpot_ms"].get<double>() == Approx(decodes / 4).margin(1e-6));
  CHECK(j["total_output_tokens"] == 5);
  // Steps: 1 prefill + 5 decode.
  CHECK(j["wiresim"]["steps"] == 6);
}

TEST_CASE("Layerwise transfer hides every layer but the last when the NIC outpaces the prefill's layers") {
  const ModelSpec m = Llama1b();
  const RouteFigures net = RouteBetween(0, 8);
  const std::vector<std::string> one = {"--gpus", "0,8", "--requests", "1", "--input-len", "1000", "--output-len", "5"};
  const nlohmann::json after = RunJson(With(With(k1P1D, one), {"--kv-transfer", "after-prefill"}));
  const nlohmann::json layerwise = RunJson(With(With(k1P1D, one), {"--kv-transfer", "layerwise"}));
  // A layer's KV, 1,000 x 2,048 bytes, takes x = 0.04096 ms at 50 GB/s; the prefill spends c = step / 16 per
  // layer. With x < c each layer's KV is gone before the next is ready, and only the last one's x (plus the
  // latency) is left when the prefill ends.
  const double x = 1000.0 * 1000 * kKvBytesPerTokenLayer / net.rate;
  const double c = IterationMs(m, "prefill=1x1000") / kLayers;
  REQUIRE(x < c);
  const double whole = 1000.0 * 1000 * kLayers * kKvBytesPerTokenLayer / net.rate;
  CHECK(layerwise["wiresim"]["disaggregation"]["mean_kv_transfer_ms"].get<double>() ==
        Approx(x + net.latency_ms).margin(1e-6));
  CHECK(layerwise["mean_ttft_ms"].get<double>() ==
        Approx(after["mean_ttft_ms"].get<double>() - whole + x).margin(1e-6));
  // The bytes are the same either way.
  CHECK(layerwise["wiresim"]["disaggregation"]["mean_kv_transfer_bytes"] ==
        after["wiresim"]["disaggregation"]["mean_kv_transfer_bytes"]);
}

TEST_CASE("1P1D inside one node moves the KV over NVLink, faster than across nodes") {
  const RouteFigures nvlink = RouteBetween(0, 1);
  const RouteFigures ib = RouteBetween(0, 8);
  // DGX H100: 18 NVLink4 links of 25 GB/s per GPU to the NVSwitches, 450 GB/s (topologies/dgx-h100.toml).
  CHECK(nvlink.rate == Approx(450e9));
  const std::vector<std::string> one = {"--requests", "1", "--input-len", "1000", "--output-len", "5"};
  const nlohmann::json same = RunJson(With(With(k1P1D, one), {"--gpus", "0,1"}));
  const nlohmann::json across = RunJson(With(With(k1P1D, one), {"--gpus", "0,8"}));
  const double bytes = 1000 * kLayers * kKvBytesPerTokenLayer;
  const double t_nvlink = 1000.0 * bytes / nvlink.rate + nvlink.latency_ms;
  const double t_ib = 1000.0 * bytes / ib.rate + ib.latency_ms;
  CHECK(same["wiresim"]["disaggregation"]["mean_kv_transfer_ms"].get<double>() == Approx(t_nvlink).margin(1e-6));
  CHECK(t_nvlink < t_ib);
  // Everything else is the same: the TTFTs differ by the transfers alone.
  CHECK(across["mean_ttft_ms"].get<double>() - same["mean_ttft_ms"].get<double>() ==
        Approx(t_ib - t_nvlink).margin(1e-6));
}

TEST_CASE("Disaggregated runs conserve requests and tokens, under the flow network too, and rerun identically") {
  for (const char* network : {"analytical", "flow"}) {
    INFO(network);
    // 1 prefill, 2 decode replicas (GPUs 0, 8, 9); 12 requests of 300 prompt and 7 output tokens.
    const std::vector<std::string> args =
        With(k1P1D, {"--gpus", "0,8,9", "--decode-replicas", "2", "--requests", "12", "--rate", "50", "--input-len",
                     "300", "--output-len", "7", "--network", network, "--router", "least-outstanding"});
    const Run first = testing::RunWiresim(With(With({"run"}, args), {"--json"}));
    REQUIRE(first.code == kExitOk);
    const nlohmann::json j = nlohmann::json::parse(first.out);
    CHECK(j["completed"] == 12);
    CHECK(j["failed"] == 0);
    CHECK(j["total_input_tokens"] == 12 * 300);
    CHECK(j["total_output_tokens"] == 12 * 7);
    const nlohmann::json& pd = j["wiresim"]["disaggregation"];
    CHECK(pd["kv_transfers"] == 12);
    CHECK(pd["mean_kv_transfer_bytes"].get<double>() == Approx(300 * kLayers * kKvBytesPerTokenLayer));
    CHECK(pd["decode"]["gpus"] == nlohmann::json::array({8, 9}));
    const Run again = testing::RunWiresim(With(With({"run"}, args), {"--json"}));
    CHECK(again.out == first.out);
  }
}

TEST_CASE("Disaggregated: compiled and op-by-op iterations give the same report") {
  // Without contention (analytical network) a compiled iteration is its ops' times summed exactly, so the two
  // levels agree byte for byte but for the line naming the level.
  const std::vector<std::string> args =
      With(k1P1D, {"--gpus", "0,8", "--requests", "8", "--rate", "20", "--input-len", "uniform:100-900", "--output-len",
                   "uniform:2-12", "--kv-transfer", "layerwise", "--json"});
  const Run compiled = testing::RunWiresim(With(With({"run"}, args), {"--iterations", "compiled"}));
  const Run op_by_op = testing::RunWiresim(With(With({"run"}, args), {"--iterations", "op-by-op"}));
  REQUIRE(compiled.code == kExitOk);
  REQUIRE(op_by_op.code == kExitOk);
  nlohmann::json a = nlohmann::json::parse(compiled.out), b = nlohmann::json::parse(op_by_op.out);
  CHECK(a["wiresim"]["iterations"] == "compiled");
  a["wiresim"].erase("iterations");
  b["wiresim"].erase("iterations");
  CHECK(a == b);
}

TEST_CASE("Disaggregated MoE replicas run the scenario's expert routing, as colocated ones do") {
  // Mixtral-8x7B on tp = ep = 4 replicas: under skewed (Zipf) routing the rank holding the popular experts runs more
  // rows than the 1/4 uniform routing gives each, and every layer waits for it, so the prefill (and TTFT) is
  // longer. A replica built without the scenario's MoE options would time both alike.
  auto ttft = [](const char* routing) {
    const nlohmann::json j = RunJson({"--topology", "dgx-h100-2node", "--model", "mixtral-8x7b", "--prefill-plan",
                                      "tp=4,ep=4", "--decode-plan", "tp=4,ep=4", "--engine", "sglang", "--requests",
                                      "1", "--input-len", "2048", "--output-len", "4", "--expert-routing", routing});
    return j["mean_ttft_ms"].get<double>();
  };
  CHECK(ttft("skewed") > 1.05 * ttft("uniform"));
}

TEST_CASE("Bad disaggregation specifications exit 2 naming the field") {
  struct Case {
    std::vector<std::string> args;
    const char* says;
  };
  const std::vector<Case> cases = {
      {{"--prefill-plan", "tp=8", "--decode-plan", "tp=8", "--prefill-replicas", "2"},
       "need 24 GPUs but dgx-h100-2node has 16"},
      {{"--kv-transfer", "sideways"}, "expected after_prefill or layerwise"},
      {{"--plan", "tp=2", "--prefill-plan", "tp=1"}, "not deployment.plan"},
      {{"--prefill-plan", "tp=1,dp=2"}, "give more replicas instead of dp"},
      {{"--prefill-plan", "tp=3"}, "disaggregation.prefill.plan"},
      {{"--gpus", "0", "--prefill-plan", "tp=1"}, "names 1"},
      {{"--decode-replicas", "0"}, "disaggregation.decode.replicas"},
      {{"--prefill-plan", "tp=1", "--placement", "strided"}, "got 'strided'"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"run",        "--topology", "dgx-h100-2node", "--model", "llama-3.2-1b",
                                     "--requests", "1"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    const Run r = testing::RunWiresim(args);
    INFO(r.err);
    CHECK(r.code == kExitBadInput);
    CHECK_THAT(r.err, Contains(c.says));
  }
}

TEST_CASE("A scenario file's [disaggregation] table is read, and its errors name file and field") {
  const auto dir = std::filesystem::temp_directory_path() / "wiresim-pd-scenario";
  std::filesystem::create_directories(dir);
  const auto good = dir / "pd.toml";
  std::ofstream(good) << "[deployment]\ntopology = \"dgx-h100-2node\"\nmodel = \"llama-3.2-1b\"\ngpus = \"0,8\"\n"
                         "engine = \"trtllm\"\n[disaggregation]\nprefill = { plan = \"tp=1\", replicas = 1 }\n"
                         "decode = { plan = \"tp=1\", replicas = 1 }\nkv_transfer = \"layerwise\"\n"
                         "[scheduler]\nhost_overhead_ms = 0.5\n[workload]\nrequests = 1\ninput_len = \"1000\"\n"
                         "output_len = \"5\"\n";
  const nlohmann::json from_file = RunJson({good.string()});
  const nlohmann::json from_flags = RunJson(With(k1P1D, {"--gpus", "0,8", "--requests", "1", "--input-len", "1000",
                                                         "--output-len", "5", "--kv-transfer", "layerwise"}));
  CHECK(from_file["mean_ttft_ms"] == from_flags["mean_ttft_ms"]);
  CHECK(from_file["wiresim"]["disaggregation"]["kv_transfer"] == "layerwise");
  const auto bad = dir / "bad.toml";
  std::ofstream(bad) << "[deployment]\ntopology = \"dgx-h100-2node\"\nmodel = \"llama-3.2-1b\"\n"
                        "[disaggregation]\nprefill = { plan = \"tp=1\", replicas = 1 }\n";
  const Run r = testing::RunWiresim({"run", bad.string()});
  CHECK(r.code == kExitBadInput);
  CHECK_THAT(r.err, Contains("bad.toml"));
  CHECK_THAT(r.err, Contains("decode"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace wiresim::app
