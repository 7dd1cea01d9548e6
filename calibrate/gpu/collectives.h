// One collective sweep: an operation over a Communicator's ranks at each size of a job, timed as nccl-tests times
// it (warm-up, then `iters` back-to-back operations between events on every rank's stream; the per-rank mean
// averaged over ranks), out of place. Hung ranks are aborted after the timeout.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "calibrate/gpu/communicator.h"
#include "calibrate/plan.h"
#include "calibrate/profile.h"
#include "calibrate/tuning_log.h"

namespace wiresim::calibrate {

// Thrown when a sweep had to abort its communicator (timeout, NCCL error): the communicator is gone, later groups
// get new ones.
class SweepAborted : public CalibrateError {
 public:
  using CalibrateError::CalibrateError;
};

// Runs `job` on `comm`, calling `record` with each size's entry (on every rank; only the root records). Sizes that
// do not fit in memory are skipped with a note. `gpus` are the global GPU indices of the ranks, for the profile.
void RunCollectiveSweep(Communicator& comm, const CollectiveJob& job, const std::vector<int>& gpus,
                        const Options& options, LogTail* tuning,
                        const std::function<void(const CollectiveEntry&)>& record, std::vector<std::string>* notes,
                        const std::function<bool()>& interrupted);

}  // namespace wiresim::calibrate
