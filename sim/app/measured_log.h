// How `wiresim collective --compare` models a measured nccl-tests log where the command line does not say: the GPUs
// it ran on, and the NCCL release and launch overhead it was measured with (docs/formats/nccl-tests.md, "What
// --compare takes from a log").
#pragma once

#include <string>
#include <vector>

#include "sim/calibration/nccl_tests_log.h"
#include "sim/collective/collective_params.h"
#include "sim/core/status.h"
#include "sim/topology/topology.h"

namespace wiresim::app {

// As many hosts as the log lists, with as many GPUs each, from the start of the topology; without a host list, its
// ranks' count of GPUs from the first. Errors say why and to give --gpus.
Result<std::vector<int>> GpusForLog(const NcclTestsLog& log, const Topology& topo);

// Sets `params` as the log was run: its NCCL release unless `release_given` (--nccl-version, or a calibration
// profile's), and unless `launch_given` (--launch-us) no launch overhead for CUDA-graph launches (-G) and 1/M of it
// for M calls per launch (-m). Returns what it took, for the `# measured:` line ("; NCCL 2.19.3, the log's; ..."),
// including a blocking run (-z) and one thread driving several GPUs (-g N), which are stated, not modelled.
std::string ModelAsMeasured(const NcclTestsLog& log, bool release_given, bool launch_given, CollectiveParams* params);

}  // namespace wiresim::app
