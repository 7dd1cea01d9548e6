// `wiresim plan` end to end: the candidates it enumerates (counted in closed form), the bound it prunes with
// (derived from the datasheet), the cases the search must find on the shipped topologies, the fewest-GPU answer,
// the Pareto front's definition, identical reruns, the files it writes, and bad input refused with exit 2.
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "sim/app/cli.h"
#include "sim/app/plan_search.h"
#include "tests/testing/cli.h"

namespace wiresim::app {
namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using Json = nlohmann::json;

testing::CliRun Plan(std::vector<std::string> args) {
  args.insert(args.begin(), "plan");
  args.push_back("--quiet");
  return testing::RunWiresim(args);
}

Json PlanJson(std::vector<std::string> args) {
  args.push_back("--json");
  const testing::CliRun r = Plan(args);
  INFO(r.err);
  REQUIRE(r.code == kExitOk);
  return Json::parse(r.out);
}

const Json& Best(const Json& j) {
  REQUIRE(!j["rows"].empty());
  REQUIRE(j["rows"][0]["fate"] == "simulated");
  return j["rows"][0];
}

// The row of `plan` (and weight dtype) in the ranking, and its rank (0-based).
std::pair<size_t, Json> Find(const Json& j, const std::string& plan, const std::string& weights = "") {
  for (size_t i = 0; i < j["rows"].size(); ++i) {
    const Json& r = j["rows"][i];
    if (r["plan"] == plan && (weights.empty() || r["weight_dtype"] == weights)) return {i, r};
  }
  FAIL("no row for " << plan);
  return {0, Json()};
}

TEST_CASE("plan enumerates every tp x pp of powers of two that fits the GPUs") {
  // 8 GPUs, a dense model: tp = 2^a, pp = 2^b with a + b <= 3, dp filling the rest: the pairs (a, b) of
  // non-negative integers with a + b <= 3 number C(3 + 2, 2) = 10, each with the three default placements (auto,
  // packed, strided): 30.
  const Json j = PlanJson({"--topology", "dgx-h100", "--model", "llama-3.1-8b", "--requests", "20", "--rate", "4"});
  CHECK(j["counts"]["considered"] == 30);
  std::set<std::string> plans;
  for (const Json& r : j["rows"]) plans.insert(r["plan"].get<std::string>());
  CHECK(plans == std::set<std::string>{"dp=8", "tp=2,dp=4", "tp=4,dp=2", "tp=8", "pp=2,dp=4", "tp=2,pp=2,dp=2",
                                       "tp=4,pp=2", "pp=4,dp=2", "tp=2,pp=4", "pp=8"});
  // Every candidate is accounted for once.
  const Json& c = j["counts"];
  CHECK(c["invalid"].get<int>() + c["pruned_memory"].get<int>() + c["pruned_slo_bound"].get<int>() +
            c["pruned_objective"].get<int>() + c["simulated"].get<int>() + c["failed"].get<int>() +
            c["duplicate"].get<int>() + c["pruned_placement_score"].get<int>() ==
        30);
  // On one NVSwitch every placement of a plan costs the same, so none is ruled out by its score; the placements
  // that differ are simulated, the rest make the same groups as auto.
  CHECK(c["pruned_placement_score"] == 0);
}

TEST_CASE("plan's TPOT bound is the active weights read once from HBM, split over the TP ranks") {
  // Llama-3.1-70B in bf16: 70.55e9 parameters x 2 bytes = 141.1 GB (Meta's model card; `wiresim model show`).
  // H100 SXM: 3.35 TB/s of HBM3 (NVIDIA's datasheet). tp=8: 141.1e9 / (8 x 3.35e12) s = 5.26 ms per token.
  const Json j = PlanJson({"--topology", "dgx-h100", "--model", "llama-3.1-70b", "--tp", "8", "--pp", "1", "--requests",
                           "20", "--rate", "2"});
  const auto [rank, row] = Find(j, "tp=8");
  CHECK(row["tpot_bound_ms"].get<double>() == Approx(141.1e9 / (8 * 3.35e12) * 1000).epsilon(0.01));
  // Every simulated decode is slower than its bound.
  CHECK(row["tpot_p50_ms"].get<double>() > row["tpot_bound_ms"].get<double>());

  // An SLO below the bound prunes the plan without simulating it: every request of more than one token misses.
  const Json tight = PlanJson({"--topology", "dgx-h100", "--model", "llama-3.1-70b", "--tp", "8", "--pp", "1",
                               "--requests", "20", "--rate", "2", "--slo", "tpot=5"});
  CHECK(Find(tight, "tp=8").second["fate"] == "pruned: SLO bound");
  CHECK(tight["counts"]["simulations"] == 0);
}

TEST_CASE("plan on the two-island box picks two tp=4 replicas over one tp=8") {
  // a100-2x4-nvlink-islands: GPUs 0-3 and 4-7 are NVLink islands joined only through PCIe and the CPUs, so tp=8's
  // all-reduces cross PCIe twice per layer while each tp=4 replica's stay on NVLink.
  const Json j = PlanJson({"--topology", "a100-2x4-nvlink-islands", "--model", "llama-3.1-70b", "--rate", "2",
                           "--requests", "150", "--slo", "ttft=2000,tpot=100"});
  CHECK(Best(j)["plan"] == "tp=4,dp=2");
  const auto [tp8_rank, tp8] = Find(j, "tp=8");
  CHECK(tp8_rank > 0);
  CHECK(tp8["exposed"].get<double>() > Best(j)["exposed"].get<double>());
}

TEST_CASE("plan on two DGX H100 keeps Llama-3.1-405B's TP inside a node") {
  // fp8 weights (405 GB) fit one node's 8 x 80 GB, so DP (or PP) can go across the InfiniBand and every TP
  // all-reduce stay on NVSwitch; tp=16 sends each of them through the NICs.
  const Json j = PlanJson({"--topology", "dgx-h100-2node", "--model", "llama-3.1-405b", "--weight-dtype", "fp8",
                           "--rate", "2", "--requests", "120", "--slo", "ttft=3000,tpot=100"});
  const Json& best = Best(j);
  const std::string plan = best["plan"];
  INFO(plan);
  CHECK(plan.find("tp=8") == 0);
  CHECK(plan != "tp=8");  // the other node is used, by PP or DP
  // Each TP group (8 consecutive ranks) sits on one host: GPUs 0-7 are node0, 8-15 node1.
  std::vector<int> gpus;
  std::stringstream order(best["placement_used"].get<std::string>());
  for (std::string g; std::getline(order, g, ',');) gpus.push_back(std::stoi(g));
  REQUIRE(gpus.size() == 16);
  for (size_t group = 0; group < 2; ++group) {
    std::set<int> hosts;
    for (size_t r = 8 * group; r < 8 * group + 8; ++r) hosts.insert(gpus[r] / 8);
    CHECK(hosts.size() == 1);
  }
}

TEST_CASE("plan on pcie-8x-l40s prefers tp=4 replicas to tp=8 for a 70B model") {
  // Eight L40S on PCIe: tp=8's all-reduces cross the CPUs' root complexes; two tp=4 replicas (fp8 weights, 35 GB
  // of 48) keep theirs under one socket and decode faster per user at the same offered load.
  const Json j = PlanJson({"--topology", "pcie-8x-l40s", "--model", "llama-3.1-70b", "--weight-dtype", "fp8", "--rate",
                           "3", "--requests", "150", "--slo", "ttft=3000,tpot=150"});
  const auto [tp4_rank, tp4] = Find(j, "tp=4,dp=2");
  const auto [tp8_rank, tp8] = Find(j, "tp=8");
  CHECK(tp4_rank < tp8_rank);
  CHECK(tp4["tpot_p50_ms"].get<double>() < tp8["tpot_p50_ms"].get<double>());
}

TEST_CASE("plan's fewest-GPU answer is the smallest replica count that still meets the SLO") {
  // Llama-3.1-8B at 0.5 req/s on H100: one GPU's decode bound is 16.1 GB / 3.35 TB/s = 4.8 ms per token against a
  // 100 ms SLO, and 0.5 req/s of ShareGPT lengths is far below one GPU's capacity: one GPU suffices.
  const Json j = PlanJson({"--topology", "dgx-h100", "--model", "llama-3.1-8b", "--tp", "1", "--pp", "1", "--rate",
                           "0.5", "--requests", "40", "--slo", "ttft=1000,tpot=100"});
  REQUIRE(!j["fewest_gpus"].empty());
  CHECK(j["fewest_gpus"][0]["gpus"] == 1);
  CHECK(j["fewest_gpus"][0]["plan"] == "tp=1");
  CHECK(j["fewest_gpus"][0]["meets_slo"] == true);
}

TEST_CASE("plan's Pareto front holds exactly the rows no other row beats on both axes") {
  const Json j = PlanJson({"--topology", "dgx-h100", "--model", "llama-3.1-8b", "--rate", "inf", "--requests", "60",
                           "--max-num-seqs", "8,64", "--objective", "throughput-per-gpu"});
  std::set<size_t> front;
  for (const Json& i : j["pareto"]) front.insert(i.get<size_t>());
  REQUIRE(!front.empty());
  const Json& rows = j["rows"];
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i]["fate"] != "simulated") continue;
    const double x = rows[i]["tokens_per_s_per_user"], y = rows[i]["output_throughput_per_gpu"];
    bool dominated = false;
    for (size_t k = 0; k < rows.size(); ++k) {
      if (k == i || rows[k]["fate"] != "simulated") continue;
      const double xk = rows[k]["tokens_per_s_per_user"], yk = rows[k]["output_throughput_per_gpu"];
      dominated |= xk >= x && yk >= y && (xk > x || yk > y);
    }
    CHECK(front.count(i) == (dominated ? 0u : 1u));
  }
}

TEST_CASE("plan reruns are byte-identical whatever the thread count, and --out writes the three files") {
  const std::vector<std::string> args = {"--topology", "dgx-h100", "--model", "llama-3.1-8b", "--requests",
                                         "30",         "--rate",   "4",       "--slo",        "ttft=500,tpot=50"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = args;
    a.insert(a.end(), extra.begin(), extra.end());
    return Plan(a);
  };
  const testing::CliRun one = with({"--jobs", "1"});
  const testing::CliRun three = with({"--jobs", "3"});
  REQUIRE(one.code == kExitOk);
  CHECK(one.out == three.out);
  testing::ScratchDir dir("wiresim-plan-test");
  const std::string out_dir = dir / "out";
  const testing::CliRun out = with({"--out", out_dir});
  REQUIRE(out.code == kExitOk);
  for (const char* f : {"plans.csv", "plans.json", "pareto.svg"}) {
    CHECK(std::filesystem::exists(std::filesystem::path(out_dir) / f));
  }
  std::ifstream csv(std::filesystem::path(out_dir) / "plans.csv");
  std::string header;
  std::getline(csv, header);
  CHECK_THAT(header, Contains("rank,plan,placement"));
  int lines = 0;
  for (std::string l; std::getline(csv, l);) ++lines;
  CHECK(lines == 30);  // one per candidate (the ten tp x pp of the first test, three placements each)
}

TEST_CASE("plan --disaggregated adds prefill/decode splits of whole replicas") {
  // 16 GPUs, tp=8 roles only: a role replica is 8 GPUs, so a prefill share of 1/4, 1/3 or 1/2 of the GPUs rounds
  // to one prefill replica and leaves one decode replica; 2/3 and 3/4 round to two and leave none. That split is
  // placed by auto and packed (strided stands for packed there), beside the aggregated tp=8,dp=2 under the three
  // default placements: 2 + 3 = 5 candidates. Each role's replica fills one node either way, so packed's comes out
  // the same as auto's.
  const Json j =
      PlanJson({"--topology", "dgx-h100-2node", "--model", "llama-3.1-70b", "--tp", "8", "--pp", "1", "--disaggregated",
                "--input-len", "4096", "--output-len", "64", "--rate", "2", "--requests", "30"});
  CHECK(j["counts"]["considered"] == 5);
  int found = 0;
  for (const Json& r : j["rows"]) {
    if (!r["disaggregated"].get<bool>() || r["fate"] != "simulated") continue;
    ++found;
    CHECK(r["prefill_plan"] == "tp=8");
    CHECK(r["decode_plan"] == "tp=8");
    CHECK(r["prefill_replicas"] == 1);
    CHECK(r["decode_replicas"] == 1);
    CHECK(r["gpus"] == 16);
  }
  CHECK(found == 1);
}

TEST_CASE("plan's fewest-GPU search shrinks a disaggregated plan's decode, then its prefill replicas") {
  // Llama-3.1-8B at 1 request/s: one tp=2 replica alone meets the SLO (the aggregated answer, 2 GPUs), so the
  // smallest disaggregated deployment, one prefill and one decode replica of tp=2, meets it too: 4 GPUs, found from
  // the 8-GPU splits by bisecting the decode replicas and then the prefill ones.
  const Json j =
      PlanJson({"--topology", "dgx-h100", "--model", "llama-3.1-8b", "--tp", "2", "--pp", "1", "--disaggregated",
                "--rate", "1", "--requests", "30", "--slo", "ttft=1000,tpot=50", "--objective", "min-gpus"});
  bool aggregated = false, disaggregated = false;
  std::set<std::string> labels;
  for (const Json& r : j["fewest_gpus"]) {
    CHECK(r["meets_slo"].get<bool>());
    // One answer per plan, whatever the placements tried.
    CHECK(labels
              .insert(r["plan"].get<std::string>() + r["prefill_plan"].get<std::string>() +
                      r["decode_plan"].get<std::string>() + std::to_string(r["disaggregated"].get<bool>()))
              .second);
    if (r["disaggregated"].get<bool>()) {
      disaggregated = true;
      CHECK(r["prefill_replicas"] == 1);
      CHECK(r["decode_replicas"] == 1);
      CHECK(r["gpus"] == 4);
    } else {
      aggregated = true;
      CHECK(r["gpus"] == 2);
    }
  }
  CHECK(aggregated);
  CHECK(disaggregated);
}

TEST_CASE("plan refuses bad search flags with exit 2, naming the flag") {
  const std::vector<std::string> base = {"--topology", "dgx-h100", "--model", "llama-3.1-8b"};
  auto bad = [&](std::vector<std::string> extra, const std::string& expect) {
    std::vector<std::string> a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    const testing::CliRun r = Plan(a);
    CHECK(r.code == kExitBadInput);
    CHECK_THAT(r.err, Contains(expect));
  };
  bad({"--tp", "0"}, "--tp 0");
  bad({"--tp", "two"}, "--tp two");
  bad({"--ep", "maybe"}, "--ep maybe");
  bad({"--objective", "speed"}, "--objective speed");
  bad({"--objective", "min-gpus"}, "--slo");
  bad({"--attainment", "1.5"}, "--attainment");
  bad({"--gpus", "9"}, "--gpus 9");
  bad({"--placement", "diagonal"}, "--placement diagonal");
  // pp=16 needs 16 GPUs; the box has 8: nothing to try, said once (the verb's name is not repeated).
  const testing::CliRun none = Plan({"--topology", "dgx-h100", "--model", "llama-3.1-8b", "--pp", "16"});
  CHECK(none.code == kExitBadInput);
  CHECK_THAT(none.err, StartsWith("wiresim plan: no plan to try with 8 GPUs (tp 1,2,4,8, pp 16, cp 1)"));
}

TEST_CASE("plan stops a simulation once the SLO is out of reach, and never one that would meet it") {
  // 300 requests at 30 req/s on one DGX H100: tp=8 and tp=4,dp=2 keep up; the pipelined plans fall behind. With an
  // attainment of 0.9, a run may lose at most 300 x (1 - 0.9) = 30 requests: the 31st miss stops it.
  const std::vector<std::string> args = {"--topology", "dgx-h100",   "--model", "llama-3.1-70b", "--rate",
                                         "30",         "--requests", "300",     "--slo",         "ttft=1000,tpot=30"};
  const Json early = PlanJson(args);
  std::vector<std::string> full_args = args;
  full_args.push_back("--full-runs");
  const Json full = PlanJson(full_args);
  REQUIRE(early["counts"]["stopped_early"].get<int>() > 0);
  CHECK(full["counts"]["stopped_early"] == 0);
  CHECK(early["counts"]["simulated"] == full["counts"]["simulated"]);
  int stopped = 0;
  for (const Json& r : early["rows"]) {
    if (r["fate"] != "simulated") continue;
    const auto [rank, whole] = Find(full, r["plan"].get<std::string>());
    if (r["stopped"].get<bool>()) {
      ++stopped;
      CHECK(r["missed"].get<int>() >= 31);
      CHECK(r["attainment"].get<double>() == Approx((300.0 - r["missed"].get<double>()) / 300.0));
      CHECK_FALSE(r["meets_slo"].get<bool>());
      // Run to its end, the same plan misses the SLO too, having lost at least the requests counted by the stop.
      CHECK_FALSE(whole["meets_slo"].get<bool>());
      CHECK(whole["attainment"].get<double>() <= r["attainment"].get<double>());
    } else {
      // A run that was not stopped is the whole run, figure for figure.
      CHECK(whole["tpot_p50_ms"] == r["tpot_p50_ms"]);
      CHECK(whole["ttft_p99_ms"] == r["ttft_p99_ms"]);
      CHECK(whole["attainment"] == r["attainment"]);
    }
  }
  CHECK(stopped == early["counts"]["stopped_early"].get<int>());
  // The rows that meet the SLO rank the same.
  for (size_t i = 0; i < early["rows"].size() && early["rows"][i]["meets_slo"].get<bool>(); ++i) {
    CHECK(full["rows"][i]["plan"] == early["rows"][i]["plan"]);
  }
  // plans.csv keeps one field per header column on every row, stopped ones included (fields quoted as RFC 4180).
  testing::ScratchDir dir("wiresim-plan-stop");
  std::vector<std::string> out_args = args;
  out_args.insert(out_args.end(), {"--out", dir / "out"});
  REQUIRE(Plan(out_args).code == kExitOk);
  std::ifstream csv(std::filesystem::path(dir / "out") / "plans.csv");
  auto fields = [](const std::string& line) {
    size_t n = 1;
    bool quoted = false;
    for (char c : line) {
      if (c == '"') quoted = !quoted;
      if (c == ',' && !quoted) ++n;
    }
    return n;
  };
  std::string header, line;
  std::getline(csv, header);
  int stopped_lines = 0;
  while (std::getline(csv, line)) {
    CHECK(fields(line) == fields(header));
    // A stopped row ends with its stop time and its misses.
    if (line.find("simulated") != std::string::npos && line.back() != ',') ++stopped_lines;
  }
  CHECK(stopped_lines == early["counts"]["stopped_early"].get<int>());
}

TEST_CASE("plan simulates the placements whose communication estimate is within 10% of the plan's lowest") {
  // The scrambled-island box (islands {0,3,5,6} and {1,2,4,7}): packed and strided split every tp=4 group over the
  // PCIe between the islands, auto keeps it on one island's NVLink, so their estimates differ by far more than 10%.
  const std::vector<std::string> args = {"--topology", "a100-2x4-islands-scrambled",
                                         "--model",    "llama-3.1-8b",
                                         "--tp",       "4",
                                         "--pp",       "1",
                                         "--rate",     "2",
                                         "--requests", "20"};
  const Json j = PlanJson(args);
  std::map<std::string, double> lowest;
  for (const Json& r : j["rows"]) {
    if (r["placement_cost_ms"].get<double>() <= 0) continue;
    const std::string plan = r["plan"].get<std::string>();
    const double cost = r["placement_cost_ms"].get<double>();
    lowest[plan] = lowest.count(plan) ? std::min(lowest[plan], cost) : cost;
  }
  int pruned = 0;
  for (const Json& r : j["rows"]) {
    const double cost = r["placement_cost_ms"].get<double>();
    const double best = lowest[r["plan"].get<std::string>()];
    if (r["fate"] == "pruned: placement score") {
      ++pruned;
      CHECK(cost > 1.1 * best);
    } else if (r["fate"] == "simulated") {
      CHECK(cost <= 1.1 * best);
    }
  }
  CHECK(pruned == j["counts"]["pruned_placement_score"].get<int>());
  CHECK(pruned == 2);  // tp=4,dp=2 packed and strided
  const auto [rank, best] = Find(j, "tp=4,dp=2");
  CHECK(best["placement"] == "auto");
  // Placements the user names are all simulated.
  std::vector<std::string> named = args;
  named.insert(named.end(), {"--placement", "auto,packed,strided"});
  CHECK(PlanJson(named)["counts"]["pruned_placement_score"] == 0);
}

TEST_CASE("A plan row survives the trip through the text the ranks exchange") {
  PlanRow r;
  r.c.plan.tp = 4;
  r.c.plan.dp = 2;
  r.c.placement = "auto";
  r.c.gpus = 8;
  r.fate = CandidateFate::kSimulated;
  r.tpot_p50_ms = 1.0 / 3.0;  // not exact in decimal: the text must carry every bit
  r.goodput = 2.0 / 7.0;
  r.placement_notes = {"TP groups: one NVLink island each"};
  const Result<PlanRow> back = PlanRow::FromJson(r.ToJson());
  REQUIRE(back.ok());
  CHECK(back->tpot_p50_ms == r.tpot_p50_ms);
  CHECK(back->goodput == r.goodput);
  CHECK(back->ToJson() == r.ToJson());
  CHECK(!PlanRow::FromJson("{\"plan\": 3}").ok());
}

}  // namespace
}  // namespace wiresim::app
