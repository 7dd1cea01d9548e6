// `wiresim run` end to end: a single request's TTFT, TPOT and E2EL against the kernel times of its iterations
// summed by hand; the concurrency limit; pipeline bubbles; the compiled and op-by-op levels agreeing byte for byte;
// reruns byte-identical; bad inputs refused with exit 2 and nothing written; --compare.
#include <filesystem>
#include <set>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "sim/app/calibration_input.h"
#include "sim/app/cli.h"
#include "sim/compute/gpu_spec.h"
#include "sim/model/model_file.h"
#include "sim/parallel/step_graph.h"
#include "tests/testing/cli.h"
#include "tests/testing/memory_reader.h"

namespace wiresim::app {
namespace {

using Catch::Matchers::Contains;

using Run = testing::CliRun;

Run Wiresim(const std::vector<std::string>& args) { return testing::RunWiresim(args); }

nlohmann::json RunJson(std::vector<std::string> args) {
  args.insert(args.begin(), "run");
  args.push_back("--json");
  const Run r = Wiresim(args);
  INFO(r.err);
  REQUIRE(r.code == kExitOk);
  return nlohmann::json::parse(r.out);
}

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::filesystem::path TempDir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("wiresim-run-test-" + name);
  std::filesystem::remove_all(dir);
  return dir;
}

// The time of one iteration of a one-GPU replica: its kernels back to back (no collectives at tp=1), as the kernel
// model times them. Independent of the scheduler, the executor and the iteration cache.
double IterationMs(const ModelSpec& m, const char* batch, const StepGraphOptions& options = {}) {
  const ParallelPlan plan;  // tp=1
  const Placement where{{0}};
  Result<BatchShape> b = ParseBatch(batch);
  REQUIRE(b.ok());
  Result<StepGraph> g = BuildStepGraph(m, plan, where, *b, options);
  REQUIRE(g.ok());
  const std::unique_ptr<KernelTimeModel> timer = KernelModelFor(*FindGpuSpec("h100-sxm"), {}, nullptr, nullptr);
  return ComputeTime(g->programs[0], *timer).ToMilliseconds();
}

// The host's whole 0.5 ms between steps: async scheduling off (the engines hide it behind the step before).
const std::vector<std::string> kOneGpu = {"--topology", "dgx-h100",     "--model",       "llama-3.2-1b",
                                          "--plan",     "tp=1",         "--gpus",        "0",
                                          "--engine",   "trtllm",       "--host-overhead-ms", "0.5",
                                          "--no-async-scheduling"};

std::vector<std::string> With(std::vector<std::string> base, const std::vector<std::string>& more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

TEST_CASE("One request: TTFT is the host overhead plus the prefill, each decode adds the host overhead and a step") {
  // TRT-LLM's profile pads nothing (docs/engines.md), so each step computes exactly the scheduler's batch.
  const ModelSpec m = [] {
    Result<ModelSpec> r = LoadModel(testing::ReadSourceFile("workloads/models/llama-3.2-1b.toml"));
    REQUIRE(r.ok());
    return std::move(r).value();
  }();
  const nlohmann::json j = RunJson(With(kOneGpu, {"--requests", "1", "--input-len", "100", "--output-len", "5"}));
  // Step 1: the 100-token prompt; it samples token 1. Steps 2-5: one decode each over 101, 102, 103, 104 tokens
  // (the new token included), each sampling one more token.
  const double host = 0.5;
  const double ttft = host + IterationMs(m, "prefill=1x100");
  double decodes = 0;
  for (const char* b : {"decode=1x101", "decode=1x102", "decode=1x103", "decode=1x104"}) decodes += host + IterationMs(m, b);
  CHECK(j["mean_ttft_ms"].get<double>() == Approx(ttft).epsilon(1e-9));
  CHECK(j["mean_e2el_ms"].get<double>() == Approx(ttft + decodes).epsilon(1e-9));
  CHECK(j["mean_tpot_ms"].get<double>() == Approx(decodes / 4).epsilon(1e-9));
  CHECK(j["completed"] == 1);
  CHECK(j["total_output_tokens"] == 5);
  CHECK(j["wiresim"]["steps"] == 5);
}

TEST_CASE("Speculative decoding, one request: each step verifies 3 drafts and emits the tokens accepted") {
  const ModelSpec m = [] {
    Result<ModelSpec> r = LoadModel(testing::ReadSourceFile("workloads/models/llama-3.2-1b.toml"));
    REQUIRE(r.ok());
    return std::move(r).value();
  }();
  const double host = 0.5;
  const double ttft = host + IterationMs(m, "prefill=1x100");
  SECTION("every draft accepted, n-gram drafts (no drafter on the GPU)") {
    const nlohmann::json j =
        RunJson(With(kOneGpu, {"--requests", "1", "--input-len", "100", "--output-len", "13", "--speculative-method",
                               "ngram", "--num-speculative-tokens", "3", "--acceptance", "1"}));
    // The prefill samples token 1 and the proposer drafts 3. Each decode step computes the new token and its 3
    // drafts (4 rows; context 100 + 4, then + 4 per step as all are accepted) and emits 4 tokens: tokens 2-5, 6-9,
    // 10-13. Three decode steps, one streamed chunk each.
    double decodes = 0;
    for (const char* b : {"decode=1x104+3", "decode=1x108+3", "decode=1x112+3"}) decodes += host + IterationMs(m, b);
    CHECK(j["wiresim"]["steps"] == 4);
    CHECK(j["total_output_tokens"] == 13);
    CHECK(j["mean_ttft_ms"].get<double>() == Approx(ttft).epsilon(1e-9));
    CHECK(j["mean_e2el_ms"].get<double>() == Approx(ttft + decodes).epsilon(1e-9));
    CHECK(j["mean_tpot_ms"].get<double>() == Approx(decodes / 12).epsilon(1e-9));
    // vllm bench serve's ITL is the gap between chunks: 3 of them, each a decode step.
    CHECK(j["mean_itl_ms"].get<double>() == Approx(decodes / 3).epsilon(1e-9));
    CHECK(j["wiresim"]["speculative"]["mean_acceptance_length"] == 4.0);
    CHECK(j["wiresim"]["speculative"]["per_position_acceptance_rate"] == nlohmann::json::array({1.0, 1.0, 1.0}));
  }
  SECTION("no draft accepted: one token a step, each step still verifying 3") {
    const nlohmann::json j =
        RunJson(With(kOneGpu, {"--requests", "1", "--input-len", "100", "--output-len", "13", "--speculative-method",
                               "ngram", "--num-speculative-tokens", "3", "--acceptance", "0"}));
    // Each step rolls its 3 drafts back: 12 decode steps over contexts 104, 105, ..., 115.
    double decodes = 0;
    for (int c = 104; c < 116; ++c) decodes += host + IterationMs(m, ("decode=1x" + std::to_string(c) + "+3").c_str());
    CHECK(j["wiresim"]["steps"] == 13);
    CHECK(j["mean_tpot_ms"].get<double>() == Approx(decodes / 12).epsilon(1e-9));
    CHECK(j["wiresim"]["speculative"]["draft_acceptance_rate"] == 0.0);
  }
  SECTION("an EAGLE head: the drafter's three passes run after the target in every step") {
    const nlohmann::json j =
        RunJson(With(kOneGpu, {"--requests", "1", "--input-len", "100", "--output-len", "13", "--speculative-method",
                               "eagle", "--num-speculative-tokens", "3", "--acceptance", "1"}));
    StepGraphOptions drafter;
    drafter.draft.passes = 3;
    const double first = host + IterationMs(m, "prefill=1x100", drafter);
    double decodes = 0;
    for (const char* b : {"decode=1x104+3", "decode=1x108+3", "decode=1x112+3"}) {
      decodes += host + IterationMs(m, b, drafter);
    }
    CHECK(j["mean_ttft_ms"].get<double>() == Approx(first).epsilon(1e-9));
    CHECK(j["mean_tpot_ms"].get<double>() == Approx(decodes / 12).epsilon(1e-9));
    CHECK(j["mean_tpot_ms"].get<double>() >
          RunJson(With(kOneGpu, {"--requests", "1", "--input-len", "100", "--output-len", "13", "--speculative-method",
                                 "ngram", "--num-speculative-tokens", "3", "--acceptance", "1"}))["mean_tpot_ms"]
              .get<double>());
  }
}

TEST_CASE("Speculative decoding settings a run cannot use are refused with exit 2, naming the field") {
  const auto dir = TempDir("bad-spec");
  const std::string scenario = (std::filesystem::temp_directory_path() / "wiresim-bad-spec.toml").string();
  std::ofstream(scenario) << "[deployment]\ntopology = \"dgx-h100\"\nmodel = \"llama-3.1-8b\"\n"
                             "[speculative]\nmethod = \"eagle\"\nnum_speculative_tokens = 2\nacceptance = [0.5, 0.7]\n";
  Run r = Wiresim({"run", scenario, "--out", dir.string()});
  CHECK(r.code == kExitBadInput);
  CHECK_THAT(r.err,
             Contains("wiresim-bad-spec.toml:7") && Contains("speculative.acceptance") && Contains("cannot rise"));
  const std::vector<std::string> one = {
      "run", "--topology",   "dgx-h100", "--model", "llama-3.1-8b", "--out", dir.string(), "--num-speculative-tokens",
      "2",   "--acceptance", "0.7"};
  r = Wiresim(With(one, {"--plan", "tp=2,pp=2", "--speculative-method", "ngram"}));
  CHECK(r.code == kExitBadInput);
  CHECK_THAT(r.err, Contains("--num-speculative-tokens") && Contains("pipeline or context parallelism"));
  r = Wiresim(one);  // the default method is MTP, which Llama has no module for
  CHECK(r.code == kExitBadInput);
  CHECK_THAT(r.err, Contains("speculative.method") && Contains("num_nextn_predict_layers"));
  r = Wiresim(With(one, {"--speculative-method", "eagle", "--decode-plan", "tp=1"}));
  CHECK(r.code == kExitBadInput);
  CHECK_THAT(r.err, Contains("disaggregated"));
  r = Wiresim(With(one, {"--speculative-method", "eagle", "--draft-weight-dtype", "fp4"}));
  CHECK(r.code == kExitBadInput);
  CHECK_THAT(r.err, Contains("--draft-weight-dtype") && Contains("'fp4' is not a weight type"));
  r = Wiresim(With(one, {"--acceptance", "0.7,x"}));
  CHECK(r.code == kExitBadInput);
  CHECK_THAT(r.err, Contains("--acceptance"));
  CHECK_FALSE(std::filesystem::exists(dir / "summary.json"));
  std::filesystem::remove(scenario);
  std::filesystem::remove_all(dir);
}

TEST_CASE("Async scheduling: the host forms each step while the one before runs, so only the rest shows") {
  // TRT-LLM's profile pads nothing (docs/engines.md); its overlap scheduler is on by default, as vLLM's async
  // scheduling is.
  const ModelSpec m = [] {
    Result<ModelSpec> r = LoadModel(testing::ReadSourceFile("workloads/models/llama-3.2-1b.toml"));
    REQUIRE(r.ok());
    return std::move(r).value();
  }();
  const std::vector<std::string> one = {"--topology",   "dgx-h100", "--model",     "llama-3.2-1b", "--plan",
                                        "tp=1",         "--gpus",   "0",           "--engine",     "trtllm",
                                        "--requests",   "1",        "--input-len", "100",          "--output-len",
                                        "5"};
  const double prefill = IterationMs(m, "prefill=1x100");
  std::vector<double> steps;
  for (const char* b : {"decode=1x101", "decode=1x102", "decode=1x103", "decode=1x104"}) {
    steps.push_back(IterationMs(m, b));
  }
  // Host 0.3 ms, shorter than every decode step: the first step (formed on an idle replica) pays the host's whole
  // time, every later one none: TTFT = 0.3 + prefill, TPOT = the mean decode step.
  double sum = 0;
  for (double t : steps) {
    REQUIRE(t > 0.3);
    sum += t;
  }
  const auto hidden = RunJson(With(one, {"--host-overhead-ms", "0.3"}));
  CHECK(hidden["wiresim"]["async_scheduling"] == true);
  CHECK(hidden["mean_ttft_ms"].get<double>() == Approx(0.3 + prefill).epsilon(1e-9));
  CHECK(hidden["mean_tpot_ms"].get<double>() == Approx(sum / 4).epsilon(1e-9));
  // Host 5 ms, longer than every step: each step is launched 5 ms after the one before was (the step before
  // covers all but 5 ms minus its own time). The prefill launches at 5 and its token comes at 5 + prefill; decode k
  // launches at 5 (k + 1) and its token comes at 5 (k + 1) + its step: TPOT = (25 + step 4 - 5 - prefill) / 4.
  const auto host_bound = RunJson(With(one, {"--host-overhead-ms", "5"}));
  CHECK(host_bound["mean_tpot_ms"].get<double>() == Approx(5 + (steps[3] - prefill) / 4).epsilon(1e-9));
  // Off (vLLM before v0.14, or --no-async-scheduling): every step pays the host's whole time.
  const auto off = RunJson(With(one, {"--host-overhead-ms", "0.3", "--no-async-scheduling"}));
  CHECK(off["wiresim"]["async_scheduling"] == false);
  CHECK(off["mean_tpot_ms"].get<double>() == Approx(0.3 + sum / 4).epsilon(1e-9));
  // Both flags at once: refused.
  const Run both = Wiresim(With(With({"run"}, one), {"--async-scheduling", "--no-async-scheduling"}));
  CHECK(both.code == kExitBadInput);
}

TEST_CASE("Closed loop with one client: each request is sent when the one before it finishes") {
  const auto dir = TempDir("closed-loop");
  const Run r = Wiresim(With(With({"run"}, kOneGpu),
                             {"--requests", "6", "--rate", "inf", "--max-concurrency", "1", "--input-len",
                              "uniform:50-200", "--output-len", "uniform:2-20", "--out", dir.string(), "--quiet"}));
  INFO(r.err);
  REQUIRE(r.code == kExitOk);
  std::istringstream csv(Slurp(dir / "requests.csv"));
  std::string line;
  std::getline(csv, line);  // header: id,replica,input_tokens,output_tokens,sent_ms,queue_ms,ttft_ms,tpot_ms,e2el_ms,...
  double previous_end = 0;
  int rows = 0;
  while (std::getline(csv, line)) {
    std::vector<std::string> f;
    std::stringstream s(line);
    for (std::string x; std::getline(s, x, ',');) f.push_back(x);
    const double sent = std::stod(f[4]), e2el = std::stod(f[8]);
    // All arrive at t = 0 (rate inf); one slot: request i waits for request i-1's last token.
    CHECK(sent == Approx(previous_end).margin(1e-6));
    previous_end = sent + e2el;
    ++rows;
  }
  CHECK(rows == 6);
  std::filesystem::remove_all(dir);
}

TEST_CASE("Lengths drawn from a trace are the trace's own") {
  // The Azure excerpt's ContextTokens column, read here independently of the trace reader.
  std::set<int64_t> context;
  {
    std::ifstream in(std::string(WIRESIM_SOURCE_DIR) + "/workloads/traces/azure_conv_2023_head.csv");
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::vector<std::string> f;
      std::stringstream s(line);
      for (std::string x; std::getline(s, x, ',');) f.push_back(x);
      if (f.size() >= 2) context.insert(std::stoll(f[1]));
    }
  }
  REQUIRE(context.size() >= 5);
  const auto dir = TempDir("trace-lengths");
  const Run r = Wiresim(With(With({"run"}, kOneGpu),
                             {"--requests", "40", "--output-len", "3", "--input-len",
                              std::string("trace:") + WIRESIM_SOURCE_DIR + "/workloads/traces/azure_conv_2023_head.csv",
                              "--out", dir.string(), "--quiet"}));
  INFO(r.err);
  REQUIRE(r.code == kExitOk);
  std::istringstream csv(Slurp(dir / "requests.csv"));
  std::string line;
  std::getline(csv, line);
  int rows = 0;
  while (std::getline(csv, line)) {
    std::vector<std::string> f;
    std::stringstream s(line);
    for (std::string x; std::getline(s, x, ',');) f.push_back(x);
    CHECK(context.count(std::stoll(f[2])) == 1);  // input_tokens
    ++rows;
  }
  CHECK(rows == 40);
  std::filesystem::remove_all(dir);
}

TEST_CASE("Pipeline bubbles: with one micro-batch in flight, each stage idles while the other computes") {
  // tp=1, pp=2, one request: the replica has one step in flight at a time. While the step is in flight a stage is
  // computing, sending or receiving its activations, or waiting: its bubble is the other stage's compute.
  const nlohmann::json j =
      RunJson({"--topology", "dgx-h100", "--model", "llama-3.2-1b", "--plan", "tp=1,pp=2", "--gpus", "0,1",
               "--engine", "trtllm", "--requests", "1", "--input-len", "300", "--output-len", "8"});
  const auto& g = j["wiresim"]["per_gpu"];
  REQUIRE(g.size() == 2);
  CHECK(g[0]["bubble_s"].get<double>() == Approx(g[1]["compute_s"].get<double>()).epsilon(1e-9));
  CHECK(g[1]["bubble_s"].get<double>() == Approx(g[0]["compute_s"].get<double>()).epsilon(1e-9));
  CHECK(g[0]["exposed_s"]["PP"].get<double>() > 0);
}

// Runs a scenario at both levels of iteration fidelity and returns the two outputs.
std::pair<std::string, std::string> BothLevels(const std::vector<std::string>& flags, const std::string& name) {
  std::vector<std::string> outputs;
  for (const char* level : {"compiled", "op-by-op"}) {
    const auto dir = TempDir(name + "-" + level);
    const Run r = Wiresim(With(With({"run"}, flags), {"--iterations", level, "--out", dir.string(), "--quiet"}));
    INFO(r.err);
    REQUIRE(r.code == kExitOk);
    outputs.push_back(Slurp(dir / "requests.csv"));
    std::filesystem::remove_all(dir);
  }
  return {outputs[0], outputs[1]};
}

TEST_CASE("Compiled iterations and op-by-op execution give byte-identical requests") {
  // The compiled level times an iteration shape once (on one layer per kind) and adds each batch's attention; the
  // op-by-op level plays every kernel and collective of every iteration. Results must not change by caching.
  SECTION("tp=4 x pp=2 on one DGX H100") {
    const auto [a, b] = BothLevels({"--topology", "dgx-h100", "--model", "llama-3.1-70b", "--plan", "tp=4,pp=2",
                                    "--requests", "8", "--rate", "20", "--input-len", "uniform:100-3000",
                                    "--output-len", "uniform:2-24"},
                                   "pp");
    CHECK(a == b);
  }
  SECTION("tp=2 x cp=2 with sequence parallelism") {
    const auto [a, b] = BothLevels({"--topology", "dgx-h100", "--model", "llama-3.1-8b", "--plan",
                                    "tp=2,cp=2,sp=on", "--requests", "6", "--input-len", "uniform:1000-6000",
                                    "--output-len", "uniform:2-24"},
                                   "cp");
    CHECK(a == b);
  }
  SECTION("DP ranks coupled by EP, in a pipeline (collapsed iterations)") {
    // Every request is served (a TTFT in each row of requests.csv: id and six more columns before it).
    const auto [a, b] = BothLevels({"--topology", "dgx-h100", "--model", "mixtral-8x7b", "--plan",
                                    "tp=1,dp=2,ep=2,pp=2", "--requests", "6", "--rate", "20", "--output-len",
                                    "uniform:2-12"},
                                   "ep-pp");
    CHECK(a == b);
    std::istringstream rows(a);
    std::string line;
    std::getline(rows, line);
    REQUIRE_THAT(line, Contains("queue_ms,ttft_ms"));
    int served = 0;
    while (std::getline(rows, line)) {
      INFO(line);
      std::vector<std::string> cells;
      std::stringstream cut(line);
      for (std::string cell; std::getline(cut, cell, ',');) cells.push_back(cell);
      REQUIRE(cells.size() > 6);
      CHECK_FALSE(cells[6].empty());  // ttft_ms
      ++served;
    }
    CHECK(served == 6);
  }
  SECTION("speculative decoding: an EAGLE head on tp=2, an MTP-like drafter on DP ranks coupled by EP") {
    const auto [a, b] = BothLevels({"--topology", "dgx-h100", "--model", "llama-3.1-8b", "--plan", "tp=2", "--requests",
                                    "6", "--rate", "20", "--output-len", "uniform:2-40", "--speculative-method",
                                    "eagle", "--num-speculative-tokens", "3", "--acceptance", "0.7,0.5,0.3"},
                                   "eagle");
    CHECK(a == b);
    const auto [c, d] =
        BothLevels({"--topology", "dgx-h100", "--model", "mixtral-8x7b", "--plan", "tp=1,dp=2,ep=2", "--requests", "6",
                    "--rate", "20", "--output-len", "uniform:2-20", "--speculative-method", "eagle",
                    "--num-speculative-tokens", "2", "--acceptance", "0.6"},
                   "eagle-ep");
    CHECK(c == d);
  }
  SECTION("tp=16 across two nodes") {
    const auto [a, b] = BothLevels({"--topology", "dgx-h100-2node", "--model", "llama-3.1-8b", "--plan", "tp=16",
                                    "--requests", "5", "--rate", "10", "--output-len", "uniform:2-24"},
                                   "tp16");
    CHECK(a == b);
  }
}

TEST_CASE("The same scenario and seed give byte-identical outputs, another seed does not") {
  auto run = [](const std::string& seed, const std::string& name) {
    const auto dir = TempDir(name);
    const Run r = Wiresim({"run", "--requests", "30", "--seed", seed, "--out", dir.string(), "--quiet"});
    REQUIRE(r.code == kExitOk);
    const std::string out = Slurp(dir / "summary.json") + Slurp(dir / "requests.csv");
    std::filesystem::remove_all(dir);
    return out;
  };
  const std::string a = run("7", "seed-a"), b = run("7", "seed-b"), c = run("8", "seed-c");
  CHECK(a == b);
  CHECK(a != c);
}

TEST_CASE("Bad inputs: exit 2 naming the place, and no output written") {
  const auto dir = TempDir("bad");
  const std::string scenario = (std::filesystem::temp_directory_path() / "wiresim-bad-scenario.toml").string();
  SECTION("an unknown scenario field names its file and line") {
    std::ofstream(scenario) << "[deployment]\ntopology = \"dgx-h100\"\nmodel = \"llama-3.1-8b\"\n"
                               "[workload]\nrequest = 10\n";
    const Run r = Wiresim({"run", scenario, "--out", dir.string()});
    CHECK(r.code == kExitBadInput);
    CHECK_THAT(r.err, Contains("wiresim-bad-scenario.toml:5") && Contains("request"));
  }
  SECTION("a plan that does not fit") {
    const Run r = Wiresim({"run", "--topology", "dgx-h100", "--model", "llama-3.1-405b", "--plan", "tp=8", "--out",
                           dir.string()});
    CHECK(r.code == kExitBadInput);
    CHECK_THAT(r.err, Contains("--plan") && Contains("does not fit"));
  }
  SECTION("a trace with a broken line names the file and line") {
    const std::string trace = (std::filesystem::temp_directory_path() / "wiresim-broken.jsonl").string();
    std::ofstream(trace) << "{\"timestamp\": 0, \"input_length\": 10, \"output_length\": 5, \"hash_ids\": [1]}\n"
                            "{\"timestamp\": 5, \"input_length\": \"ten\", \"output_length\": 5, \"hash_ids\": []}\n";
    const Run r = Wiresim({"run", "--topology", "dgx-h100", "--model", "llama-3.1-8b", "--trace", trace, "--out",
                           dir.string()});
    CHECK(r.code == kExitBadInput);
    CHECK_THAT(r.err, Contains("wiresim-broken.jsonl:2") && Contains("input_length"));
    std::filesystem::remove(trace);
  }
  SECTION("a GPU the topology lacks") {
    const Run r = Wiresim({"run", "--topology", "dgx-h100", "--model", "llama-3.1-8b", "--gpus", "8", "--out",
                           dir.string()});
    CHECK(r.code == kExitBadInput);
    CHECK_THAT(r.err, Contains("--gpus"));
  }
  SECTION("numbers out of range from flags name the flag") {
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"--requests", "-5"},         {"--max-concurrency", "-1"},        {"--max-num-seqs", "0"},
        {"--max-num-batched-tokens", "0"}, {"--gpu-memory-utilization", "1.5"}, {"--host-overhead-ms", "-1"},
        {"--time-scale", "0"},        {"--expert-imbalance", "0.5"},      {"--duration", "-1"},
        {"--rate", "nan"},            {"--rate", "-2"},                   {"--seed", "-1"}};
    for (const auto& [flag, value] : bad) {
      INFO(flag << " " << value);
      const Run r = Wiresim({"run", flag, value, "--out", dir.string()});
      CHECK(r.code == kExitBadInput);
      CHECK_THAT(r.err, Contains(flag));
    }
  }
  CHECK_FALSE(std::filesystem::exists(dir / "summary.json"));
  CHECK_FALSE(std::filesystem::exists(dir / "requests.csv"));
  std::filesystem::remove(scenario);
  std::filesystem::remove_all(dir);
}

TEST_CASE("Requests the server refuses count as failed, and the run says why on stderr") {
  // 900 + 200 = 1,100 tokens each, over --max-model-len 1000: vLLM answers every one with an error, so all 4 fail,
  // and the warning names the first (request 0) and the limit.
  const Run r = Wiresim(With({"run"}, With(kOneGpu, {"--requests", "4", "--rate", "inf", "--input-len", "900",
                                                      "--output-len", "200", "--max-model-len", "1000", "--quiet"})));
  INFO(r.err);
  REQUIRE(r.code == kExitOk);
  CHECK_THAT(r.out, Contains("Failed requests:                         4"));
  CHECK_THAT(r.err, Contains("warning: 4 of 4 requests were refused by the server and count as failed; the first: "
                             "request 0: prompt 900 + output 200 = 1100 tokens exceeds max_model_len 1000"));
  // Requests that fit raise no warning.
  const Run fine = Wiresim(With({"run"}, With(kOneGpu, {"--requests", "4", "--rate", "inf", "--input-len", "900",
                                                         "--output-len", "50", "--max-model-len", "1000", "--quiet"})));
  REQUIRE(fine.code == kExitOk);
  CHECK(fine.err.find("warning") == std::string::npos);
}

TEST_CASE("A run given --duration without --requests sends for that long, with no request count") {
  // Poisson arrivals at 50/s for 30 s: 1500 expected, standard deviation sqrt(1500) = 39. The count used to stay
  // at the default 1000 requests, which arrive in 20 s.
  const nlohmann::json timed =
      RunJson(With(kOneGpu, {"--duration", "30", "--rate", "50", "--input-len", "64", "--output-len", "4"}));
  const int64_t sent = timed["completed"].get<int64_t>() + timed["failed"].get<int64_t>();
  CHECK(sent > 1500 - 5 * 39);
  CHECK(sent < 1500 + 5 * 39);
  // Both given: whichever ends first.
  const nlohmann::json both = RunJson(With(
      kOneGpu, {"--duration", "30", "--rate", "50", "--requests", "100", "--input-len", "64", "--output-len", "4"}));
  CHECK(both["completed"] == 100);
}

TEST_CASE("Compare: a vllm bench serve result printed beside the prediction, with the error") {
  // A measured file with the run's own TTFT doubled: the error printed is -50%.
  const nlohmann::json predicted = RunJson(With(kOneGpu, {"--requests", "3"}));
  const std::string measured = (std::filesystem::temp_directory_path() / "wiresim-measured.json").string();
  nlohmann::json m;
  m["mean_ttft_ms"] = 2 * predicted["mean_ttft_ms"].get<double>();
  m["completed"] = 3;
  std::ofstream(measured) << m.dump();
  const Run r = Wiresim(With(With({"run"}, kOneGpu), {"--requests", "3", "--compare", measured}));
  REQUIRE(r.code == kExitOk);
  CHECK_THAT(r.out, Contains("mean_ttft_ms") && Contains("-50.0%"));
  CHECK(r.err.find("warning") == std::string::npos);  // the same 3 requests: nothing to warn of
  // With --json the comparison is in summary.json: error = predicted / measured - 1 = 1/2 - 1.
  const Run j = Wiresim(With(With({"run"}, kOneGpu), {"--requests", "3", "--compare", measured, "--json"}));
  REQUIRE(j.code == kExitOk);
  const nlohmann::json c = nlohmann::json::parse(j.out)["wiresim"]["compare"];
  CHECK(c["metrics"]["mean_ttft_ms"]["error"].get<double>() == Approx(-0.5));
  CHECK(c["metrics"]["completed"]["error"].get<double>() == 0);
  CHECK(c["warnings"].empty());
  // A measured run of 5 requests set beside a prediction of 3: the workloads differ, and the run says so.
  m["completed"] = 5;
  std::ofstream(measured) << m.dump();
  const Run other = Wiresim(With(With({"run"}, kOneGpu), {"--requests", "3", "--compare", measured, "--json"}));
  REQUIRE(other.code == kExitOk);
  CHECK_THAT(other.err, Contains("warning: completed is 5 in the measured run and 3 here"));
  CHECK(nlohmann::json::parse(other.out)["wiresim"]["compare"]["warnings"].size() == 1);
  std::filesystem::remove(measured);
}

TEST_CASE("The NCCL release of a run: --nccl-version or deployment.nccl_version, else the profile's, else the newest") {
  const std::vector<std::string> tp8 = {"--topology", "dgx-h100", "--model", "llama-3.2-1b", "--plan",
                                        "tp=8",       "--engine", "trtllm",  "--requests",   "4"};
  const auto newest = RunJson(tp8);
  CHECK(newest["wiresim"]["nccl_version"] == "2.30.7");
  const auto old = RunJson(With(tp8, {"--nccl-version", "2.18"}));
  CHECK(old["wiresim"]["nccl_version"] == "2.18");
  // NCCL 2.18 caps ring LL at 87.7 GB/s on one Hopper node where 2.21 and later allow 141 (llMaxBws, tuning.cc;
  // ../shared/refdata/nccl_tuning_model_constants.md section 7), and nothing in 2.18 is faster: the small tp=8
  // all-reduces of decode steps take longer, so every token does.
  CHECK(old["mean_tpot_ms"].get<double>() > newest["mean_tpot_ms"].get<double>());

  // A calibration profile measured with NCCL 2.21.5: the run models that release unless told otherwise, and says so.
  const auto dir = TempDir("nccl-version");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "p.json") << R"({"format": "wiresim-calibration-profile", "version": 1,
    "provenance": {"nccl_version": "2.21.5", "gpus": [{"name": "NVIDIA H100 80GB HBM3"}]},
    "gemm": [{"m": 16, "n": 8192, "k": 8192, "dtype": "bfloat16", "time_us": 70.0}]})";
  const std::string profile = (dir / "p.json").string();
  const auto from_profile = RunJson(With(tp8, {"--calibration", profile}));
  CHECK(from_profile["wiresim"]["nccl_version"] == "2.21.5");
  Run text = Wiresim(With(With({"run"}, tp8), {"--calibration", profile}));
  REQUIRE(text.code == kExitOk);
  CHECK_THAT(text.out, Contains("collectives: NCCL 2.21.5 (the calibration profile's)"));
  Run flag = Wiresim(With(With({"run"}, tp8), {"--calibration", profile, "--nccl-version", "2.27"}));
  REQUIRE(flag.code == kExitOk);
  CHECK_THAT(
      flag.out,
      Contains("collectives: NCCL 2.27 (--nccl-version); the calibration profile was measured with NCCL 2.21.5"));

  // The scenario key, and a release wiresim does not model: exit 2, naming where it was given.
  std::ofstream(dir / "s.toml") << "[deployment]\ntopology = \"dgx-h100\"\nmodel = \"llama-3.2-1b\"\nplan = \"tp=8\"\n"
                                   "nccl_version = \"2.23.4\"\n[workload]\nrequests = 2\n";
  const auto key = RunJson({"--scenario", (dir / "s.toml").string()});
  CHECK(key["wiresim"]["nccl_version"] == "2.23.4");
  Run bad = Wiresim(With(With({"run"}, tp8), {"--nccl-version", "2.17"}));
  CHECK(bad.code == kExitBadInput);
  CHECK_THAT(bad.err, Contains("--nccl-version") && Contains("from 2.18 to 2.30"));
  std::ofstream(dir / "bad.toml") << "[deployment]\ntopology = \"dgx-h100\"\nmodel = \"llama-3.2-1b\"\n"
                                     "nccl_version = \"latest\"\n";
  Run bad_key = Wiresim({"run", "--scenario", (dir / "bad.toml").string()});
  CHECK(bad_key.code == kExitBadInput);
  CHECK_THAT(bad_key.err, Contains("bad.toml:4") && Contains("deployment.nccl_version"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("The engine's all-reduce kernel off: NCCL runs every all-reduce, and the run says so") {
  const std::vector<std::string> tp8 = {"--topology", "dgx-h100", "--model", "llama-3.2-1b", "--plan",
                                        "tp=8",       "--engine", "vllm",    "--requests",   "4"};
  const auto with_kernel = RunJson(tp8);
  CHECK(with_kernel["wiresim"]["custom_all_reduce"] == true);
  const auto nccl_only = RunJson(With(tp8, {"--disable-custom-all-reduce"}));
  CHECK(nccl_only["wiresim"]["custom_all_reduce"] == false);
  // A decode step of Llama-3.2-1B moves a few KiB per all-reduce (hidden 2048 x 2 bytes x the batch). vLLM's kernel
  // takes it one-shot: 5.5 us + bytes x 7 / 337.5 GB/s, about 6 us (docs/engines.md). NCCL's ring over 8 GPUs
  // crosses 14 steps of about 0.6 us each behind its base latency, and NVLS pays its own fixed cost: more than the
  // kernel's, so without it every token takes longer.
  CHECK(nccl_only["mean_tpot_ms"].get<double>() > with_kernel["mean_tpot_ms"].get<double>());

  // The scenario key says the same; a value that is not a boolean is refused, naming the line.
  const auto dir = TempDir("custom-all-reduce");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "s.toml") << "[deployment]\ntopology = \"dgx-h100\"\nmodel = \"llama-3.2-1b\"\nplan = \"tp=8\"\n"
                                   "custom_all_reduce = false\n[workload]\nrequests = 4\n";
  const auto key = RunJson({"--scenario", (dir / "s.toml").string()});
  CHECK(key["wiresim"]["custom_all_reduce"] == false);
  CHECK(key["mean_tpot_ms"].get<double>() == nccl_only["mean_tpot_ms"].get<double>());
  std::ofstream(dir / "bad.toml") << "[deployment]\ntopology = \"dgx-h100\"\nmodel = \"llama-3.2-1b\"\n"
                                     "custom_all_reduce = \"no\"\n";
  Run bad = Wiresim({"run", "--scenario", (dir / "bad.toml").string()});
  CHECK(bad.code == kExitBadInput);
  CHECK_THAT(bad.err, Contains("bad.toml:4") && Contains("custom_all_reduce"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("vLLM's symmetric-memory all-reduce and NCCL's NVLS: defaults per engine, flags, scenario keys") {
  // Prompts of 2048 tokens of Llama-3.2-1B (hidden 2048) all-reduce 2048 x 2048 x 2 = 8 MiB per layer half at TP 8:
  // vLLM on Hopper runs that with PyTorch's multimem kernel, 8.5 + 4 x 8 MiB / 2.8475 TB/s + 8 MiB x 9/8 /
  // 346.5 GB/s = 8.5 + 11.8 + 27.2 = 47.5 us; without it NCCL's NVLS takes about twice that (docs/engines.md), so
  // every prompt's first token comes later.
  const std::vector<std::string> tp8 = {
      "--topology", "dgx-h100",   "--model", "llama-3.2-1b", "--plan", "tp=8",         "--engine",
      "vllm",       "--requests", "4",       "--input-len",  "2048",   "--output-len", "4"};
  const auto symm = RunJson(tp8);
  CHECK(symm["wiresim"]["symm_mem_all_reduce"] == true);
  CHECK(symm["wiresim"]["nccl_nvls"] == true);
  const auto nccl = RunJson(With(tp8, {"--disable-symm-mem-all-reduce"}));
  CHECK(nccl["wiresim"]["symm_mem_all_reduce"] == false);
  CHECK(nccl["mean_ttft_ms"].get<double>() > symm["mean_ttft_ms"].get<double>());

  // SGLang sets NCCL_NVLS_ENABLE=0 unless --enable-nccl-nvls (docs/engines.md); the flags set it for any engine.
  const std::vector<std::string> sglang = {"--topology", "dgx-h100", "--model", "llama-3.2-1b", "--plan",
                                           "tp=8",       "--engine", "sglang",  "--requests",   "4"};
  CHECK(RunJson(sglang)["wiresim"]["nccl_nvls"] == false);
  CHECK(RunJson(sglang)["wiresim"]["symm_mem_all_reduce"] == false);
  CHECK(RunJson(With(sglang, {"--enable-nccl-nvls"}))["wiresim"]["nccl_nvls"] == true);
  CHECK(RunJson(With(tp8, {"--disable-nccl-nvls"}))["wiresim"]["nccl_nvls"] == false);
  std::vector<std::string> both_flags = {"run"};
  for (const std::string& a : With(tp8, {"--enable-nccl-nvls", "--disable-nccl-nvls"})) both_flags.push_back(a);
  Run both = Wiresim(both_flags);
  CHECK(both.code == kExitBadInput);
  CHECK_THAT(both.err, Contains("--enable-nccl-nvls and --disable-nccl-nvls"));

  const auto dir = TempDir("symm-mem");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "s.toml") << "[deployment]\ntopology = \"dgx-h100\"\nmodel = \"llama-3.2-1b\"\nplan = \"tp=8\"\n"
                                   "symm_mem_all_reduce = false\nnccl_nvls = false\n[workload]\nrequests = 4\n"
                                   "input_len = \"2048\"\noutput_len = \"4\"\n";
  const auto key = RunJson({"--scenario", (dir / "s.toml").string()});
  CHECK(key["wiresim"]["symm_mem_all_reduce"] == false);
  CHECK(key["wiresim"]["nccl_nvls"] == false);
  std::ofstream(dir / "bad.toml") << "[deployment]\ntopology = \"dgx-h100\"\nmodel = \"llama-3.2-1b\"\n"
                                     "nccl_nvls = 1\n";
  Run bad = Wiresim({"run", "--scenario", (dir / "bad.toml").string()});
  CHECK(bad.code == kExitBadInput);
  CHECK_THAT(bad.err, Contains("bad.toml:4") && Contains("nccl_nvls"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("DeepEP's low-latency puts cross a 2:1 spine whatever NCCL's PXN, which --disable-nccl-pxn still sets") {
  // DeepSeek-V3 at dp=32,ep=32 on 4 DGX H100s whose rail leaves have 2 uplinks for 4 node ports (example (f)). A
  // decode step's all-to-all (DeepEP's low-latency kernels) puts each copy from the sender's own NIC to the
  // receiving GPU's: of a GPU's S bytes 21/32 go to other rails, up its leaf, whose uplinks then carry 4 x 21/32 S
  // / 2 = 1.3125 S each against a NIC's 24/32 S = 0.75 S: up to 1.75 times the non-blocking fabric's time (less, as
  // each all-to-all's fixed latency does not grow). NCCL's PXN relay does not apply to those puts, so turning it off
  // changes nothing here; the run reports the setting.
  auto args = [](const char* topology) {
    return std::vector<std::string>{"--topology",
                                    topology,
                                    "--model",
                                    "deepseek-v3",
                                    "--plan",
                                    "dp=32,ep=32",
                                    "--engine",
                                    "sglang",
                                    "--ep-exchange",
                                    "alltoall",
                                    "--requests",
                                    "4096",
                                    "--rate",
                                    "inf",
                                    "--input-len",
                                    "128",
                                    "--output-len",
                                    "32",
                                    "--max-num-seqs",
                                    "256",
                                    "--weight-dtype",
                                    "fp8",
                                    "--gpu-memory-utilization",
                                    "0.9"};
  };
  const auto blocking = RunJson(args("dgx-h100-4node"));
  const auto oversub = RunJson(args("dgx-h100-4node-oversub"));
  const auto no_pxn = RunJson(With(args("dgx-h100-4node-oversub"), {"--disable-nccl-pxn"}));
  CHECK(oversub["wiresim"]["nccl_pxn"] == true);
  CHECK(no_pxn["wiresim"]["nccl_pxn"] == false);
  const auto decode = [](const nlohmann::json& j) {
    return j["wiresim"]["exposed_collective_s_per_gpu_by_phase"]["decode"].get<double>();
  };
  const double ratio = decode(oversub) / decode(blocking);
  CHECK(ratio > 1.5);
  CHECK(ratio <= 1.75);
  CHECK(decode(no_pxn) == Approx(decode(oversub)).epsilon(1e-9));
  // The scenario key does the same.
  const auto dir = TempDir("pxn");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "s.toml") << "[deployment]\ntopology = \"dgx-h100-4node-oversub\"\nmodel = \"deepseek-v3\"\n"
                                   "plan = \"dp=32,ep=32\"\nengine = \"sglang\"\nep_exchange = \"alltoall\"\n"
                                   "weight_dtype = \"fp8\"\nnccl_pxn = false\n[scheduler]\nmax_num_seqs = 256\n"
                                   "gpu_memory_utilization = 0.9\n[workload]\nrequests = 4096\n"
                                   "rate = \"inf\"\ninput_len = \"128\"\noutput_len = \"32\"\n";
  const auto key = RunJson({"--scenario", (dir / "s.toml").string()});
  CHECK(key["wiresim"]["nccl_pxn"] == false);
  CHECK(decode(key) == Approx(decode(no_pxn)).epsilon(1e-9));
  std::filesystem::remove_all(dir);
}

TEST_CASE("The EP exchange: the engines gather, TensorRT-LLM all-to-alls over multi-node NVLink, the flag overrides") {
  // Mixtral-8x7B (top-2 of 8 experts) at dp=8,ep=8. At their defaults vLLM (VLLM_ALL2ALL_BACKEND
  // allgather_reducescatter), SGLang (--moe-a2a-backend none) and TensorRT-LLM on an HGX node (no MNNVL) all-gather
  // and reduce-scatter; TensorRT-LLM on a GB200 NVL72 (its GPUs share NVLink with other trays) all-to-alls when the
  // EP group is wider than top-k (8 > 2), and gathers at ep=2 = top-k. The header and summary.json say which ran.
  const std::vector<std::string> base = {"--model",     "mixtral-8x7b", "--requests",   "8",
                                         "--input-len", "128",          "--output-len", "4"};
  const auto on = [&](const char* topology, const char* engine, const char* plan) {
    return RunJson(With(base, {"--topology", topology, "--engine", engine, "--plan", plan}))["wiresim"]["ep_exchange"];
  };
  CHECK(on("dgx-h100", "vllm", "dp=8,ep=8") == "allgather");
  CHECK(on("dgx-h100", "sglang", "dp=8,ep=8") == "allgather");
  CHECK(on("dgx-h100", "trtllm", "dp=8,ep=8") == "allgather");
  CHECK(on("gb200-nvl72", "trtllm", "dp=8,ep=8") == "alltoall");
  CHECK(on("gb200-nvl72", "trtllm", "dp=2,ep=2") == "allgather");
  CHECK(on("gb200-nvl72", "vllm", "dp=8,ep=8") == "allgather");
  CHECK(RunJson(With(base, {"--topology", "dgx-h100", "--plan", "dp=8,ep=8", "--engine", "vllm", "--ep-exchange",
                            "alltoall"}))["wiresim"]["ep_exchange"] == "alltoall");
  std::vector<std::string> text = {"run"};
  for (const std::string& a :
       With(base, {"--topology", "dgx-h100", "--plan", "dp=8,ep=8", "--engine", "sglang", "--quiet"})) {
    text.push_back(a);
  }
  const Run r = Wiresim(text);
  REQUIRE(r.code == kExitOk);
  CHECK_THAT(r.out, Contains("EP exchange: all-gather + reduce-scatter (all-reduces in prefill and uneven steps)"));
  // A dense plan has no EP exchange to name.
  CHECK_FALSE(
      RunJson({"--topology", "dgx-h100", "--model", "llama-3.2-1b", "--plan", "tp=1", "--requests", "2"})["wiresim"]
          .contains("ep_exchange"));
}

TEST_CASE("A GPU nothing was fitted on: vLLM 0.19 serving Llama-3.1-8B on one RTX PRO 6000, within 10%") {
  // ../shared/refdata/serving_measurements.md section 5 (LLMServingSim's run, its 300 requests replayed as
  // docs/validation/serving/ keeps them): mean TPOT 32.5 ms, output 2,969.3 tok/s over the makespan. The GPU's spec
  // is its datasheet's (sim/compute/gpu_spec.cc); docs/validation/serving.md section 5b has the whole comparison.
  const std::string here = std::string(WIRESIM_SOURCE_DIR) + "/docs/validation/serving/";
  const auto run = RunJson({"--topology", here + "rtxpro6000-2gpu.toml", "--gpus", "0", "--model", "llama-3.1-8b",
                            "--plan", "tp=1", "--engine", "vllm", "--trace",
                            here + "rtxpro6000-llama-3.1-8b-sharegpt300.jsonl", "--max-num-seqs", "128",
                            "--max-num-batched-tokens", "2048", "--gpu-memory-utilization", "0.9",
                            "--prefix-caching"});
  CHECK(run["completed"] == 300);
  CHECK(run["mean_tpot_ms"].get<double>() == Approx(32.5).epsilon(0.10));
  const double output_rate = run["total_output_tokens"].get<double>() / run["duration"].get<double>();
  CHECK(output_rate == Approx(2969.3).epsilon(0.10));
}

}  // namespace
}  // namespace wiresim::app
