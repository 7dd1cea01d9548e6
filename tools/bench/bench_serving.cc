// Serving-simulation benchmarks: whole `wiresim run` invocations, in process. Targets (issue: the serving
// simulation):
//   - Vidur's default run (a 70B model on A100, tp=2, pp=2, 10,000 requests, Poisson 0.5/s, 2,048 in / 512 out) in
//     under 1 s;
//   - 10,000 ShareGPT-like requests of Llama-3.1-70B on 16 H100 (tp=8, dp=2) at saturation: analytical under 1 s,
//     with --network flow under 10 s;
//   - 1 million requests with peak memory under 1 GiB (peak_rss_MiB: the process's peak, so run it alone with
//     --benchmark_filter=Million for a clean figure).
#include <sys/resource.h>

#include <ostream>
#include <sstream>

#include <benchmark/benchmark.h>

#include "sim/app/app_context.h"
#include "sim/app/cli.h"

namespace wiresim {
namespace {

void RunServing(benchmark::State& state, std::vector<std::string> args) {
  args.insert(args.begin(), "run");
  args.push_back("--quiet");
  int code = 0;
  for (auto _ : state) {
    std::ostringstream out, err;
    app::FileSystemReader reader;
    app::AppContext ctx{out, err, reader};
    code = app::Main(args, ctx);
    benchmark::DoNotOptimize(out.str().size());
  }
  if (code != 0) state.SkipWithError("wiresim run failed");
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  state.counters["peak_rss_MiB"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
}

void VidurDefault(benchmark::State& state) {
  RunServing(state, {"--topology", "dgx-a100", "--model", "llama-3.1-70b", "--plan", "tp=2,pp=2", "--requests",
                     "10000", "--rate", "0.5", "--input-len", "2048", "--output-len", "512"});
}
BENCHMARK(VidurDefault)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

void ShareGpt10kAnalytical(benchmark::State& state) {
  RunServing(state, {"--topology", "dgx-h100-2node", "--model", "llama-3.1-70b", "--plan", "tp=8,dp=2",
                     "--requests", "10000", "--rate", "inf"});
}
BENCHMARK(ShareGpt10kAnalytical)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

void ShareGpt10kFlow(benchmark::State& state) {
  RunServing(state, {"--topology", "dgx-h100-2node", "--model", "llama-3.1-70b", "--plan", "tp=8,dp=2",
                     "--requests", "10000", "--rate", "inf", "--network", "flow"});
}
BENCHMARK(ShareGpt10kFlow)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

// Flows that do contend: two tp=4 replicas whose all-reduces share the PCIe uplinks of the two-island box, every
// collective as transfers on the flow network, op by op.
void SharedLinksFlow(benchmark::State& state) {
  RunServing(state, {"--topology", "a100-2x4-nvlink-islands", "--model", "llama-3.1-8b", "--plan", "tp=4,dp=2",
                     "--placement", "0,1,4,5,2,3,6,7", "--requests", "500", "--rate", "20", "--network", "flow"});
}
BENCHMARK(SharedLinksFlow)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

// Wide expert parallelism (issue: the shared fabric): DeepSeek-V3 fp8, attention-DP + EP over 4 DGX H100 nodes
// (32 GPUs), 10,000 ShareGPT-like requests, flows on. Target: under 30 s and 2 GiB. Attention-DP + EP iterations
// run collapsed (IterationModel::Collapsed: each rank's kernels between two all-to-alls one op timed in advance,
// the all-to-alls ops of the executor). Measured with `wiresim run` and this command line (Release, `/usr/bin/time
// -v`, CPU user seconds; on a shared 2-core machine, so wall clock was several times that):
//   1,000 requests:  op by op (--iterations op-by-op) 73.9 s, 95 MiB;  collapsed 10.5 s, 60 MiB (identical outputs)
//   10,000 requests: op by op about 129 s, 200 MB (before collapsing);  collapsed 21.2 s, 166 MiB
void DeepSeekEp4Node10k(benchmark::State& state) {
  RunServing(state, {"--topology", "dgx-h100-4node", "--model", "deepseek-v3", "--weight-dtype", "fp8", "--plan",
                     "dp=32,ep=32", "--engine", "sglang", "--requests", "10000", "--rate", "inf",
                     "--max-concurrency", "2048", "--network", "flow"});
  state.counters["requests_per_s"] = benchmark::Counter(10000, benchmark::Counter::kIsRate);
}
BENCHMARK(DeepSeekEp4Node10k)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

// Many replicas: Llama-3.1-70B at tp=4, dp=256 over all 1,024 GPUs of dgx-h100-128node, 2,000 requests at 200/s.
// Each replica holds its own KV pool, compiled iterations and parallel groups. Measured with `wiresim run` and this
// command line (Release, `/usr/bin/time`, shared 2-core machine): 2.4 s, 287 MB before the groups were built once
// per replica, the KV pools grew with use and the collective costs stopped clearing a per-link array per call;
// 1.4-1.9 s, 129 MB after, with byte-identical output.
void ManyReplicas1024Gpus(benchmark::State& state) {
  RunServing(state, {"--topology", "dgx-h100-128node", "--model", "llama-3.1-70b", "--plan", "tp=4,dp=256",
                     "--requests", "2000", "--rate", "200"});
}
BENCHMARK(ManyReplicas1024Gpus)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

void MillionRequests(benchmark::State& state) {
  RunServing(state, {"--topology", "dgx-h100", "--model", "llama-3.1-8b", "--plan", "tp=1,dp=8", "--requests",
                     "1000000", "--rate", "150"});
}
BENCHMARK(MillionRequests)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

}  // namespace
}  // namespace wiresim
