// nccl-tests logs into a calibration profile: `wiresim calibrate import LOG... -o profile.json`. Every row becomes
// a measured collective with the log's operation, type, rank and node counts; what the log does not say (which GPUs
// of a topology) is settled when the profile is fitted to a topology.
//
//   WIRESIM_ASSIGN_OR_RETURN(CalibrationProfile p, ImportNcclTestsLogs(logs, {}));
#pragma once

#include <string>
#include <vector>

#include "sim/calibration/calibration_profile.h"
#include "sim/calibration/nccl_tests_log.h"

namespace wiresim {

struct NcclTestsImportOptions {
  std::string op;  // for logs that do not name their test (older versions): all_reduce, all_gather, ...
  int ranks = 0;   // for logs that do not list their devices
  int nodes = 0;   // machines; 0: the distinct hosts the log lists (1 when it lists none)
};

// Errors name the log and what is missing (its operation, its rank count).
Result<CalibrationProfile> ImportNcclTestsLogs(const std::vector<NcclTestsLog>& logs,
                                               const NcclTestsImportOptions& options);

}  // namespace wiresim
