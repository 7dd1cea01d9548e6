// Internal to the parallel part: the step graph builder's last stage, which joins the collective ops the ranks'
// programs post into instances (a pipeline send and its receive are one).
#pragma once

#include "sim/core/status.h"
#include "sim/parallel/step_graph.h"

namespace wiresim::internal {

// Joins the collective ops of all programs into instances. Fails when an instance is not reached by exactly the
// GPUs its call names (a builder bug, reported rather than left for an executor to hang on).
Status JoinInstances(StepGraph& graph);

}  // namespace wiresim::internal
