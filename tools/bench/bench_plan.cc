// Plan-search benchmark (issue: plan search): a full `wiresim plan` for Llama-3.1-70B on 64 H100 (8 DGX nodes of
// dgx-h100-16node) against a 10,000-request trace. Target: under 60 s on 2 cores. The counters give the plans
// considered, pruned and simulated, read back from plans.json.
//
// The trace is Mooncake JSONL written here from a fixed seed: Poisson arrivals at 40 requests/s (about 250 s),
// prompts lognormal around 1,000 tokens, outputs lognormal around 250 (clamped to 16..8,000 and 4..2,000).
#include <sys/resource.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "sim/app/app_context.h"
#include "sim/app/cli.h"

namespace wiresim {
namespace {

std::string WriteTrace(int requests) {
  const std::string path = (std::filesystem::temp_directory_path() / "wiresim_bench_plan_trace.jsonl").string();
  std::ofstream out(path);
  std::mt19937_64 rng(20261205);
  std::exponential_distribution<double> gap(40.0);
  std::lognormal_distribution<double> in(std::log(1000.0), 0.8), outlen(std::log(250.0), 0.9);
  double t = 0;
  for (int i = 0; i < requests; ++i) {
    t += gap(rng);
    const int64_t a = std::clamp<int64_t>(std::llround(in(rng)), 16, 8000);
    const int64_t b = std::clamp<int64_t>(std::llround(outlen(rng)), 4, 2000);
    out << "{\"timestamp\": " << std::llround(t * 1000) << ", \"input_length\": " << a << ", \"output_length\": " << b
        << ", \"hash_ids\": []}\n";
  }
  return path;
}

void Llama70b64Gpus10kTrace(benchmark::State& state) {
  const std::string trace = WriteTrace(10000);
  const std::string dir = (std::filesystem::temp_directory_path() / "wiresim_bench_plan").string();
  int code = 0;
  for (auto _ : state) {
    std::ostringstream out, err;
    app::FileSystemReader reader;
    app::AppContext ctx{out, err, reader};
    code = app::Main({"plan", "--topology", "dgx-h100-16node", "--gpus", "64", "--model", "llama-3.1-70b", "--trace",
                      trace, "--slo", "ttft=2000,tpot=100", "--quiet", "--out", dir},
                     ctx);
  }
  if (code != 0) {
    state.SkipWithError("wiresim plan failed");
    return;
  }
  std::ifstream in(dir + "/plans.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  for (const char* key : {"considered", "invalid", "pruned_memory", "pruned_slo_bound", "pruned_objective",
                          "pruned_placement_score", "duplicate", "simulated", "stopped_early", "simulations"}) {
    state.counters[key] = j["counts"][key].get<double>();
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  state.counters["peak_rss_MiB"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
}
BENCHMARK(Llama70b64Gpus10kTrace)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

}  // namespace
}  // namespace wiresim
