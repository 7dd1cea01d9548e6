// Fuzz target: a scenario file (sim/app/scenario.h), read and checked as `wiresim run FILE` does before it resolves
// the scenario against a topology and a model; its plan and length distributions parsed as the run parses them.
#include "sim/app/scenario.h"
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
    if (lengths.rfind("trace:", 0) != 0) (void)ParseLengthDistribution(lengths);
  }
}

}  // namespace
}  // namespace wiresim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return wiresim::fuzz::Run(data, size, "scenario.toml", wiresim::fuzz::ReadScenario);
}
