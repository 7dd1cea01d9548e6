// Serving traffic that shares wires: two replicas whose tensor-parallel all-reduces cross the same NIC slow each
// other by exactly what max-min sharing of that NIC says, and a replica alone on its links gets the same answer from
// the flow network as from the closed forms.
//
// The fixture (tests/data/topology/two_hosts_one_nic.toml): two hosts of two H100s, each host's GPUs under one PCIe
// switch with the host's only NIC (50 GB/s NDR). Llama-3.1-8B at tp=2 with placement 0,2,1,3: replica 0 is
// host0/gpu0 + host1/gpu0, replica 1 is host0/gpu1 + host1/gpu1, so every TP collective of either replica crosses
// both NICs, in both directions.
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "sim/app/cli.h"
#include "tests/testing/cli.h"

namespace wiresim::app {
namespace {

nlohmann::json Summary(const std::string& network, int requests) {
  const testing::CliRun r =
      testing::RunWiresim({"run",
                           "--topology",
                           std::string(WIRESIM_SOURCE_DIR) + "/tests/data/topology/two_hosts_one_nic.toml",
                           "--model",
                           "llama-3.1-8b",
                           "--plan",
                           "tp=2,dp=2",
                           "--placement",
                           "0,2,1,3",
                           "--requests",
                           std::to_string(requests),
                           "--rate",
                           "inf",
                           "--input-len",
                           "2048",
                           "--output-len",
                           "1",
                           "--network",
                           network,
                           "--json",
                           "--quiet"});
  INFO(r.err);
  REQUIRE(r.code == kExitOk);
  return nlohmann::json::parse(r.out);
}

nlohmann::json MeanTtft(const std::string& network, int requests) { return Summary(network, requests)["mean_ttft_ms"]; }

TEST_CASE("One replica busy: the flow network and the closed forms agree on a TP collective crossing NICs") {
  // One request goes to replica 0; replica 1 is idle, so nothing else is on replica 0's links. Under --network flow
  // replica 0's groups still run as transfers (they can meet replica 1's), and transfers alone on their route take
  // what the closed form says.
  const double analytical = MeanTtft("analytical", 1).get<double>();
  const double flow = MeanTtft("flow", 1).get<double>();
  CHECK(flow == Approx(analytical).margin(1e-6));  // ms: a nanosecond
}

TEST_CASE("Two replicas on the same NICs: each all-reduce gets half the NIC, as max-min fairness says") {
  // Two requests arrive together and go to one replica each: identical prefills, so both replicas' collectives start
  // at the same instants and each flow has half of every NIC direction. The analytical run assumes each alone.
  //
  // A 2,048-token prefill of Llama-3.1-8B at tp=2 (32 layers, hidden 4096, vocab 128,256, bf16) has 65 all-reduces
  // of 2048 x 4096 x 2 = 16,777,216 bytes (the embedding's and two per layer; NCCL's Ring/Simple at this size, as
  // `model show --plan` prints); a 2-rank ring sends S bytes from each rank to the other over the NICs. Halving the
  // NIC adds S / (50 GB/s x 0.94) per all-reduce (the NIC efficiency of the Simple protocol, collective_params.h):
  //   65 x 16,777,216 / 47e9 s = 23.2025 ms.
  // The logits all-gather (1 token x 128,256 x 2 bytes, half from each rank, LL protocol: half the payload rate)
  // adds 128,256 / (47e9 x 0.5) s = 5.46 us. Total extra TTFT: 23.2080 ms.
  const double alone = MeanTtft("analytical", 2).get<double>();
  const double shared = MeanTtft("flow", 2).get<double>();
  const double extra_ms = (65.0 * 16777216.0 / 47e9 + 128256.0 / (47e9 * 0.5)) * 1e3;
  CHECK(shared - alone == Approx(extra_ms).margin(0.001));  // within a microsecond of 23.2 ms
  // And the analytical run is the same with one request or two: it shares nothing.
  CHECK(alone == Approx(MeanTtft("analytical", 1).get<double>()).margin(1e-9));
}

TEST_CASE("Link utilisation: a NIC carries the bytes of every all-reduce that crosses it, under either network") {
  // Each replica's 65 all-reduces send S = 16,777,216 bytes from host0's GPU to host1's (above) and its logits
  // all-gather 128,256 bytes: host0's NIC uplink carries 2 x (65 x 16,777,216 + 128,256) = 2,181,294,592 bytes
  // whether the collectives ran as flows or were counted from their closed forms. Utilisation is bytes / (50 GB/s x
  // the run); under flows the link was busy at least that fraction (it never ran above its rate).
  for (const char* network : {"analytical", "flow"}) {
    INFO(network);
    const nlohmann::json j = Summary(network, 2);
    const double run_s = j["wiresim"]["simulated_seconds"].get<double>();
    bool found = false;
    for (const nlohmann::json& l : j["wiresim"]["hottest_links"]) {
      if (l["from"] != "host0/nic" || l["to"] != "ib/switch") continue;
      found = true;
      CHECK(l["bytes"].get<double>() == Approx(2181294592.0).epsilon(1e-12));
      CHECK(l["utilisation"].get<double>() == Approx(2181294592.0 / (50e9 * run_s)).epsilon(1e-9));
      if (l.contains("busy_fraction")) {
        CHECK(l["busy_fraction"].get<double>() >= l["utilisation"].get<double>());
        CHECK(l["busy_fraction"].get<double>() <= 1.0);
      }
    }
    CHECK(found);
  }
}

TEST_CASE("One attention-DP + EP replica: --network flow gives the analytical run's numbers") {
  // DeepSeek-V3 at dp=16, ep=16 on two DGX H100 nodes is one replica whose EP group holds every GPU, and a GPU's
  // collectives run one at a time, so nothing can share its links: the group is private and timed by its closed
  // form under both networks (docs/serving.md, wide EP). With two-batch overlap too.
  for (const char* overlap : {"none", "two-batch"}) {
    INFO(overlap);
    auto run = [&](const std::string& network) {
      // --max-model-len: the KV cache holds less than one 163,840-token context, which vLLM would refuse.
      const testing::CliRun r = testing::RunWiresim(
          {"run",        "--topology",   "dgx-h100-2node", "--model",   "deepseek-v3", "--plan", "dp=16,ep=16",
           "--requests", "32",           "--rate",         "inf",       "--input-len", "256",    "--output-len",
           "4",          "--ep-overlap", overlap,          "--network", network,       "--json", "--quiet",
           "--max-model-len", "4096"});
      INFO(r.err);
      REQUIRE(r.code == kExitOk);
      return nlohmann::json::parse(r.out);
    };
    const nlohmann::json analytical = run("analytical"), flow = run("flow");
    CHECK(flow["mean_ttft_ms"] == analytical["mean_ttft_ms"]);
    CHECK(flow["mean_tpot_ms"] == analytical["mean_tpot_ms"]);
    CHECK(flow["duration"] == analytical["duration"]);
  }
}

TEST_CASE("The timeline's link counters add up to the bytes the link carried") {
  // Each counter point is the bytes of its bucket over (capacity x bucket width), so summing point x width x 50 GB/s
  // over host0's NIC uplink gives back its bytes: 2,181,294,592 (above).
  testing::ScratchDir dir("wiresim-link-counters");
  const testing::CliRun r = testing::RunWiresim(
      {"run", "--topology", std::string(WIRESIM_SOURCE_DIR) + "/tests/data/topology/two_hosts_one_nic.toml", "--model",
       "llama-3.1-8b", "--plan", "tp=2,dp=2", "--placement", "0,2,1,3", "--requests", "2", "--rate", "inf",
       "--input-len", "2048", "--output-len", "1", "--quiet", "--timeline", dir / "t.json"});
  INFO(r.err);
  REQUIRE(r.code == kExitOk);
  std::ifstream in(dir / "t.json");
  const nlohmann::json trace = nlohmann::json::parse(in);
  std::vector<std::pair<double, double>> points;  // (ts us, utilisation)
  for (const nlohmann::json& e : trace["traceEvents"]) {
    if (e["ph"] == "C" && e["name"] == "host0/nic -> ib/switch") {
      points.emplace_back(e["ts"].get<double>(), e["args"]["utilisation"].get<double>());
    }
  }
  REQUIRE(points.size() >= 2);
  const double width_s = (points[1].first - points[0].first) * 1e-6;
  double bytes = 0;
  for (const auto& [ts, u] : points) bytes += u * width_s * 50e9;
  CHECK(bytes == Approx(2181294592.0).epsilon(1e-6));
}

}  // namespace
}  // namespace wiresim::app
