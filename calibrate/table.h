// Tables printed while measuring: collectives in nccl-tests' layout (so a run's output can be read, diffed, and
// imported like any nccl-tests log) and GEMMs in the same spirit.
#pragma once

#include <string>

#include "calibrate/profile.h"

namespace wiresim::calibrate {

// "# all_reduce bfloat16 over GPUs 0-7 (8 ranks, 1 node)" and the nccl-tests column header.
std::string CollectiveHeader(const std::string& op, const std::string& dtype, const std::vector<int>& gpus, int ranks,
                             int nodes);
// One row: size count type redop root time algbw busbw, then algorithm and protocol.
std::string CollectiveRow(const CollectiveEntry& e);
std::string GemmHeader();
std::string GemmRow(const GemmEntry& e);

}  // namespace wiresim::calibrate
