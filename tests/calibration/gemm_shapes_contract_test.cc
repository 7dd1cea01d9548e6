// wiresim-calibrate works out which GEMMs to measure from a model's config.json on its own (calibrate/ links
// nothing from sim/); the simulator looks those GEMMs up by (n, k) when it times a step. Each GEMM the step graph
// runs must therefore be one calibrate/ measures, or a calibrated table never applies to it.
#include <set>
#include <utility>

#include <catch2/catch.hpp>

#include "calibrate/model_shapes.h"
#include "sim/model/model_file.h"
#include "sim/parallel/step_graph.h"
#include "tests/testing/memory_reader.h"

namespace wiresim {
namespace {

using Shapes = std::set<std::pair<int64_t, int64_t>>;  // (n, k) per GPU

Shapes SimulatorGemms(const std::string& fixture, int tp) {
  Result<ModelSpec> m = LoadModel(testing::ReadSourceFile(fixture));
  INFO(m.status().message());
  REQUIRE(m.ok());
  Result<ParallelPlan> plan = ParsePlan("tp=" + std::to_string(tp));
  REQUIRE(plan.ok());
  Result<Placement> where = ParsePlacement("packed", *plan, tp);
  REQUIRE(where.ok());
  Result<BatchShape> batch = ParseBatch("prefill=1x512,decode=8x1024");
  REQUIRE(batch.ok());
  Result<StepGraph> g = BuildStepGraph(*m, *plan, *where, *batch, {});
  INFO(g.status().message());
  REQUIRE(g.ok());
  Shapes out;
  for (const StepOp& op : g->programs[0].ops) {
    const KernelShape& s = op.kernel;
    if (op.kind == StepOp::Kind::kKernel && (s.kind == KernelKind::kGemm || s.kind == KernelKind::kGroupedGemm)) {
      out.emplace(s.n, s.k);
    }
  }
  return out;
}

Shapes CalibratedGemms(const std::string& fixture, int tp) {
  Shapes out;
  const calibrate::ModelShape model = calibrate::ReadModelShape(WIRESIM_SOURCE_DIR "/" + fixture);
  for (const calibrate::LinearShape& s : calibrate::LinearLayers(model, tp)) out.emplace(s.n, s.k);
  return out;
}

TEST_CASE("Every GEMM the step graph runs is one wiresim-calibrate measures") {
  const std::string fixture =
      GENERATE(as<std::string>{}, "tests/data/hf/llama-style.config.json", "tests/data/hf/qwen3-moe-style.config.json",
               "tests/data/hf/deepseek-style.config.json");
  const int tp = GENERATE(1, 4);
  CAPTURE(fixture, tp);
  const Shapes measured = CalibratedGemms(fixture, tp);
  for (const auto& [n, k] : SimulatorGemms(fixture, tp)) {
    CAPTURE(n, k);
    CHECK(measured.count({n, k}) == 1);
  }
}

}  // namespace
}  // namespace wiresim
