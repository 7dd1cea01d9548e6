// Fuzz target: NCCL's debug log as wiresim-calibrate reads it for the algorithm and protocol of each call
// (calibrate/tuning_log.h, ParseTuningLines). Any text is a log: the reader returns the tuning lines it finds, never
// an error, and what it finds must be one of NCCL's functions with a size that fits.
#include <set>
#include <string>

#include "calibrate/tuning_log.h"
#include "tests/fuzz/calibrate_error.h"

namespace wiresim::fuzz {
namespace {

void ReadTuningLog(const SourceFile& file) {
  static const std::set<std::string> kFunctions = {"AllReduce", "AllGather", "ReduceScatter", "Broadcast", "Reduce"};
  const std::vector<calibrate::TuningChoice> choices = calibrate::ParseTuningLines(file.text);
  for (const calibrate::TuningChoice& c : choices) {
    if (kFunctions.count(c.function) == 0) Fail("a tuning line for an unknown function: " + c.function);
    if (c.bytes < 0) Fail("a tuning line with a negative size");
    if (c.algorithm.empty() || c.protocol.empty()) Fail("a tuning line without an algorithm or a protocol");
  }
  for (const char* op : {"all_reduce", "all_gather", "reduce_scatter", "broadcast", "reduce"}) {
    const calibrate::TuningChoice best = calibrate::MostFrequent(choices, calibrate::NcclFunctionName(op));
    if (!best.function.empty() && best.function != calibrate::NcclFunctionName(op)) {
      Fail("MostFrequent chose another function's line");
    }
  }
}

}  // namespace
}  // namespace wiresim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return wiresim::fuzz::Run(data, size, "nccl.log", wiresim::fuzz::ReadTuningLog);
}
