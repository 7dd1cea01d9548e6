// `wiresim run --placement auto` (and a scenario's placement = "auto"): the run uses the placement the search finds,
// on the topology after its what-ifs, and summary.json says which and why (docs/placement.md).
#include <fstream>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "sim/app/cli.h"
#include "tests/testing/cli.h"

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

std::set<int> FirstGroup(const nlohmann::json& summary, size_t size) {
  const std::vector<int> ranks = summary["wiresim"]["placement"]["gpu_of_rank"].get<std::vector<int>>();
  REQUIRE(ranks.size() >= size);
  return std::set<int>(ranks.begin(), ranks.begin() + static_cast<std::ptrdiff_t>(size));
}

const std::vector<std::string> kIslands = {"--topology", "a100-2x4-islands-scrambled",
                                           "--model",    "llama-3.1-8b",
                                           "--plan",     "tp=4,dp=2",
                                           "--rate",     "8",
                                           "--requests", "40"};

std::vector<std::string> With(std::vector<std::string> base, const std::vector<std::string>& more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

TEST_CASE("run --placement auto on the scrambled-island box serves each replica on one NVLink island") {
  // topologies/a100-2x4-islands-scrambled.toml: islands {0,3,5,6} and {1,2,4,7} (NVLink), PCIe between them.
  const nlohmann::json a = RunJson(With(kIslands, {"--placement", "auto"}));
  const nlohmann::json& p = a["wiresim"]["placement"];
  CHECK(p["policy"] == "auto");
  const std::set<int> first = FirstGroup(a, 4);
  CHECK((first == std::set<int>{0, 3, 5, 6} || first == std::set<int>{1, 2, 4, 7}));
  CHECK(p["estimated_communication_s"].get<double>() > 0);
  CHECK_THAT(p["explanation"][0].get<std::string>(), Contains("all inside one NVLink domain"));
  // Packed puts two GPUs of each island in every TP group: its all-reduces cross PCIe (31.5 GB/s, not 100), so its
  // decode steps are slower; packed prints no placement object.
  const nlohmann::json packed = RunJson(With(kIslands, {"--placement", "packed"}));
  CHECK_FALSE(packed["wiresim"].contains("placement"));
  CHECK(a["median_tpot_ms"].get<double>() < packed["median_tpot_ms"].get<double>());
}

TEST_CASE("run --placement auto places on the topology after --degrade, and a scenario file says the same") {
  // GPU 3's links at a quarter: tp=4 on one DGX H100 (no --gpus: all 8 are candidates) leaves it out.
  const nlohmann::json a = RunJson({"--topology", "dgx-h100", "--model", "llama-3.1-8b", "--plan", "tp=4",
                                    "--placement", "auto", "--degrade", "node/gpu3=0.25", "--requests", "20"});
  CHECK(FirstGroup(a, 4) == std::set<int>{0, 1, 2, 4});
  testing::ScratchDir dir("wiresim-placement-auto");
  {
    std::ofstream f(dir / "s.toml");
    f << "[deployment]\ntopology = \"dgx-h100\"\nmodel = \"llama-3.1-8b\"\nplan = \"tp=4\"\nplacement = \"auto\"\n"
         "[workload]\nrequests = 20\n[what_if]\ndegrade = { \"node/gpu3\" = 0.25 }\n";
  }
  const nlohmann::json s = RunJson({dir / "s.toml"});
  CHECK(s["wiresim"]["placement"]["gpu_of_rank"] == a["wiresim"]["placement"]["gpu_of_rank"]);
}

TEST_CASE("run --placement auto places a disaggregated deployment replica by replica, the widest first") {
  // The scrambled-island box: islands {0,3,5,6} and {1,2,4,7}. Packed puts the tp=4 decode replica on GPUs 4-7, two
  // on each island, so its all-reduces cross PCIe; auto places it first, on one whole island, and the two tp=2
  // prefill replicas on NVLink pairs of the other.
  const std::vector<std::string> base = {"--topology",
                                         "a100-2x4-islands-scrambled",
                                         "--model",
                                         "llama-3.1-8b",
                                         "--prefill-plan",
                                         "tp=2",
                                         "--prefill-replicas",
                                         "2",
                                         "--decode-plan",
                                         "tp=4",
                                         "--rate",
                                         "4",
                                         "--requests",
                                         "40"};
  const nlohmann::json a = RunJson(With(base, {"--placement", "auto"}));
  const nlohmann::json& dis = a["wiresim"]["disaggregation"];
  const std::vector<int> decode = dis["decode"]["replica_gpus"][0].get<std::vector<int>>();
  const std::set<int> island(decode.begin(), decode.end());
  CHECK((island == std::set<int>{0, 3, 5, 6} || island == std::set<int>{1, 2, 4, 7}));
  for (const nlohmann::json& p : dis["prefill"]["replica_gpus"]) {
    const std::vector<int> pair = p.get<std::vector<int>>();
    REQUIRE(pair.size() == 2);
    CHECK(island.count(pair[0]) == 0);
    CHECK(island.count(pair[1]) == 0);
  }
  // The decode all-reduces on NVLink instead of PCIe: a faster token for every user.
  const nlohmann::json packed = RunJson(With(base, {"--placement", "packed"}));
  CHECK(packed["wiresim"]["disaggregation"]["decode"]["replica_gpus"][0] == nlohmann::json({4, 5, 6, 7}));
  CHECK(a["median_tpot_ms"].get<double>() < packed["median_tpot_ms"].get<double>());
  // Spread is not a disaggregated placement.
  const testing::CliRun r = RunWiresim({"run", "--topology", "dgx-h100", "--model", "llama-3.1-8b", "--prefill-plan",
                                        "tp=2", "--decode-plan", "tp=2", "--placement", "spread", "--requests", "4"});
  CHECK(r.code == kExitBadInput);
  CHECK_THAT(r.err, Contains("got 'spread'"));
}

TEST_CASE("run --placement spread serves the DP replicas from different hosts, and says what one host's loss costs") {
  // dgx-h100-2node: GPUs 0-7 are node0, 8-15 node1. Two tp=4 replicas on all 16 GPUs: one per host.
  const nlohmann::json a = RunJson({"--topology", "dgx-h100-2node", "--gpus", "0-15", "--model", "llama-3.1-8b",
                                    "--plan", "tp=4,dp=2", "--placement", "spread", "--rate", "4", "--requests", "20"});
  const nlohmann::json& p = a["wiresim"]["placement"];
  CHECK(p["policy"] == "spread");
  const std::vector<int> ranks = p["gpu_of_rank"].get<std::vector<int>>();
  REQUIRE(ranks.size() == 8);
  for (int r = 0; r < 4; ++r) CHECK(ranks[static_cast<size_t>(r)] < 8);
  for (int r = 4; r < 8; ++r) CHECK(ranks[static_cast<size_t>(r)] >= 8);
  CHECK_THAT(p["explanation"].back().get<std::string>(), Contains("losing one host loses at most 1 of 2 replicas"));
  CHECK(a["completed"] == 20);
  // plan searches it as one more placement.
  const testing::CliRun plan =
      RunWiresim({"plan", "--topology", "dgx-h100-2node", "--model", "llama-3.1-8b", "--tp", "4", "--pp", "1", "--gpus",
                  "8", "--placement", "auto,spread", "--requests", "10", "--rate", "2", "--quiet"});
  INFO(plan.err);
  CHECK(plan.code == kExitOk);
}

}  // namespace
}  // namespace wiresim::app
