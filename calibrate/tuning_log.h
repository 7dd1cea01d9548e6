// NCCL's record of what it chose per call: with NCCL_DEBUG=INFO and NCCL_DEBUG_SUBSYS=TUNING, each collective logs
// "AllReduce: 1048576 Bytes -> Algo RING proto LL128 channel{Lo..Hi}={0..31}" (older releases print numbers:
// "Algo 1 proto 2"). wiresim-calibrate sends NCCL's log to a file and reads these lines back to record the
// algorithm and protocol of every measured size.
//
//   for (const TuningChoice& c : ParseTuningLines(new_log_text)) ...
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wiresim::calibrate {

struct TuningChoice {
  std::string function;  // "AllReduce", "AllGather", "ReduceScatter", "Broadcast", "Reduce"
  int64_t bytes = 0;
  std::string algorithm;  // NCCL's names: Tree, Ring, CollNetDirect, CollNetChain, NVLS, NVLSTree, PAT
  std::string protocol;   // LL, LL128, Simple
};

std::vector<TuningChoice> ParseTuningLines(const std::string& text);

// NCCL's function name for a calibrate op ("all_reduce" -> "AllReduce"); empty for ops NCCL does not tune
// (sendrecv, alltoall).
std::string NcclFunctionName(const std::string& op);

// The choice made most often for `function` among `choices` (ties: the later one), or an empty choice.
TuningChoice MostFrequent(const std::vector<TuningChoice>& choices, const std::string& function);

}  // namespace wiresim::calibrate

namespace wiresim::calibrate {

// The text appended to a file since the last call: how NCCL's debug log is read while a run goes on.
class LogTail {
 public:
  explicit LogTail(std::string path) : path_(std::move(path)) {}
  std::string ReadNew();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  long offset_ = 0;
};

}  // namespace wiresim::calibrate
