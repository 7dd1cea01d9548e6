// Fuzz target: a scenario file (sim/app/scenario.h), read and checked as `wiresim run FILE` does before it resolves
// the scenario against a topology and a model; its plan and length distributions parsed as the run parses them, and
// a few lengths drawn from each distribution.
#include "sim/app/scenario.h"
#include "sim/core/random.h"
#include "sim/parallel/plan.h"
#include "sim/serving/workload.h"
#include "tests/fuzz/fuzz_support.h"

namespace wiresim::fuzz {
namespace {

void ReadScenario(const SourceFile& file) {
  Result<app::Scenario> scenario = app::LoadScenario(file);
  if (!scenario.ok()) return CheckStatus(scenario.status(), file);
  if (Status valid = app::ValidateScenario(*scenario); !valid.ok()) return CheckStatus(valid, file);
  (void)ParsePlan(scenario->plan);
  for (const std::string& lengths : {scenario->input_len, scenario->output_len}) {
    if (lengths.rfind("trace:", 0) == 0) continue;
    Result<LengthDistribution> d = ParseLengthDistribution(lengths);
    if (!d.ok()) continue;
    // Lengths drawn from an accepted distribution stay within its bounds (UBSan reports a NaN cast to an integer).
    RandomStream rng(1);
    for (int i = 0; i < 8; ++i) {
      const int64_t n = d->Draw(rng);
      if (n < d->min || n > d->max) Fail("a drawn length outside [min, max]: " + std::to_string(n));
    }
  }
}

}  // namespace
}  // namespace wiresim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return wiresim::fuzz::Run(data, size, "scenario.toml", wiresim::fuzz::ReadScenario);
}
