// Internal to the parallel part: which step graph inputs BuildStepGraph accepts.
#pragma once

#include "sim/core/status.h"
#include "sim/parallel/batch.h"
#include "sim/parallel/plan.h"
#include "sim/parallel/step_graph.h"

namespace wiresim::internal {

// InvalidArgument for an empty batch, expert imbalance below 1, drafter passes out of range or beside pp or cp,
// a replica that is not a DP rank, per-DP-rank batches without coupled DP ranks, or routing out of range.
Status CheckStepGraphInputs(const ParallelPlan& plan, const BatchShape& batch, const StepGraphOptions& options);

}  // namespace wiresim::internal
