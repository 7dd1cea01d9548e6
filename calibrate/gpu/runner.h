// `wiresim-calibrate run`: plan, resume, measure, and keep the profile on disk as it grows.
#pragma once

#include "calibrate/gpu/communicator.h"
#include "calibrate/plan.h"

namespace wiresim::calibrate {

// Returns the exit code: 0 done, 2 failed, 130 interrupted (what was measured is kept).
int RunCalibration(const Options& options, MpiSession* mpi);
// `wiresim-calibrate devices`.
int ListDevices();

// Points NCCL's debug log and topology dump at files of this process, unless the user set them. Call before any
// NCCL call. Returns the log path.
std::string ConfigureNcclLogging(std::string* topo_dump_path);

}  // namespace wiresim::calibrate
