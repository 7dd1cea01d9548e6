// Fuzz target: a `vllm bench serve --save-result` JSON file (sim/metrics/request_metrics.h), read as
// `wiresim run --compare` reads it.
#include "sim/metrics/request_metrics.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return wiresim::fuzz::Run(data, size, "result.json", [](const wiresim::SourceFile& file) {
    auto metrics = wiresim::ReadVllmResult(file.text, file.name);
    if (!metrics.ok()) wiresim::fuzz::CheckStatus(metrics.status(), file);
  });
}
