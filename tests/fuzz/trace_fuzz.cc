// Fuzz target: request traces (sim/serving/trace.cc: Mooncake JSONL and Azure CSV, told apart by the first line),
// streamed as `wiresim run --trace` replays them and read whole as `--input-len trace:FILE` does. The requests that
// come out must keep the contract of RequestSource (sim/serving/request.h): arrivals in order, lengths >= 1.
#include <memory>
#include <sstream>

#include "sim/serving/workload.h"
#include "tests/fuzz/fuzz_support.h"

namespace wiresim::fuzz {
namespace {

void ReadTrace(const SourceFile& file) {
  Result<std::unique_ptr<RequestSource>> source =
      OpenTrace(std::make_unique<std::istringstream>(file.text), file.name, TraceOptions{});
  if (!source.ok()) return CheckStatus(source.status(), file);
  Time last;
  for (int64_t i = 0;; ++i) {
    Result<std::optional<Request>> next = (*source)->Next();
    if (!next.ok()) {
      CheckStatus(next.status(), file);
      break;
    }
    if (!next->has_value()) break;
    const Request& r = **next;
    if (r.id != i) Fail("request " + std::to_string(i) + " has id " + std::to_string(r.id));
    if (r.arrival < last) Fail("request " + std::to_string(i) + " arrives before the one before it");
    if (r.input_tokens < 1 || r.output_tokens < 1) Fail("request " + std::to_string(i) + " has a length below 1");
    last = r.arrival;
  }
  std::istringstream in(file.text);
  Result<std::vector<std::pair<int64_t, int64_t>>> lengths = ReadTraceLengths(in, file.name, TraceOptions{});
  if (!lengths.ok()) return CheckStatus(lengths.status(), file);
  for (const auto& [prompt, generated] : *lengths) {
    if (prompt < 1 || generated < 1) Fail("a trace length below 1");
  }
}

}  // namespace
}  // namespace wiresim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return wiresim::fuzz::Run(data, size, "trace.jsonl", wiresim::fuzz::ReadTrace);
}
