// Compute and step-graph benchmarks: the serving simulator times kernels millions of times and builds a step graph
// once per iteration shape, so both must stay cheap. Speed is measured here, never asserted in unit tests.
#include <benchmark/benchmark.h>

#include "sim/app/app_context.h"
#include "sim/compute/roofline.h"
#include "sim/model/model_file.h"
#include "sim/parallel/step_graph.h"

namespace wiresim {
namespace {

ModelSpec Load(const char* name) {
  app::FileSystemReader reader;
  auto file = reader.Read(std::string(WIRESIM_SOURCE_DIR) + "/workloads/models/" + name + ".toml", "");
  return std::move(LoadModel(*file)).value();
}

// One GEMM timed by the roofline: the per-kernel cost of the simulator's inner loop.
void BM_RooflineGemmTime(benchmark::State& state) {
  const RooflineModel model(*FindGpuSpec("h100"));
  int64_t m = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(model.KernelTime(GemmKernel(m, 8192, 8192, DataType::kBFloat16, DataType::kBFloat16)));
    m = m % 4096 + 1;
  }
}
BENCHMARK(BM_RooflineGemmTime);

void BuildGraph(benchmark::State& state, const char* model_name, const char* plan_text, const char* batch_text) {
  const ModelSpec m = Load(model_name);
  const ParallelPlan plan = *ParsePlan(plan_text);
  const Placement where = *ParsePlacement("packed", plan, plan.WorldSize());
  const BatchShape batch = *ParseBatch(batch_text);
  size_t ops = 0;
  for (auto _ : state) {
    StepGraph g = std::move(BuildStepGraph(m, plan, where, batch, {})).value();
    ops = 0;
    for (const GpuProgram& p : g.programs) ops += p.ops.size();
    benchmark::DoNotOptimize(g.programs.data());
  }
  state.counters["ops"] = static_cast<double>(ops);
}

// Llama-3.1-405B, tp=8, a decode batch of 256: 8 GPUs x 126 layers.
void BM_StepGraphLlama405Tp8(benchmark::State& state) {
  BuildGraph(state, "llama-3.1-405b", "tp=8", "decode=256x4096");
}
BENCHMARK(BM_StepGraphLlama405Tp8)->Unit(benchmark::kMillisecond);

// DeepSeek-V3 with attention-DP 8 and EP 8: 8 coupled GPUs, all-to-all per MoE layer.
void BM_StepGraphDeepSeekDp8Ep8(benchmark::State& state) {
  BuildGraph(state, "deepseek-v3", "dp=8,ep=8", "prefill=1x2048,decode=128x4096");
}
BENCHMARK(BM_StepGraphDeepSeekDp8Ep8)->Unit(benchmark::kMillisecond);

// Timing every kernel of one GPU's program (1.7k ops for 405B).
void BM_ComputeTimeLlama405Rank0(benchmark::State& state) {
  const ModelSpec m = Load("llama-3.1-405b");
  const ParallelPlan plan = *ParsePlan("tp=8");
  const Placement where = *ParsePlacement("packed", plan, 8);
  const StepGraph g = std::move(BuildStepGraph(m, plan, where, *ParseBatch("decode=256x4096"), {})).value();
  const RooflineModel model(*FindGpuSpec("h100"));
  for (auto _ : state) benchmark::DoNotOptimize(ComputeTime(g.programs[0], model));
  state.counters["ops"] = static_cast<double>(g.programs[0].ops.size());
}
BENCHMARK(BM_ComputeTimeLlama405Rank0)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace wiresim
