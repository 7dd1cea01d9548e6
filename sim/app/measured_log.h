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

// What the command line already set, which the log does not override.
struct GivenOptions {
  bool release = false;  // --nccl-version, or a calibration profile's release
  bool launch = false;   // --launch-us
  bool layout = false;   // --ranks-per-process
};

// Sets `params` as the log was run: its NCCL release, no launch overhead for CUDA-graph launches (-G) and 1/M of it
// for M calls per launch (-m), and its ranks per process (nThread x nGpus), each unless `given`. Returns what it
// took, for the `# measured:` line ("; NCCL 2.19.3, the log's; ..."), including a blocking run (-z) and one thread
// driving several GPUs (-g N), whose host time is stated, not modelled.
std::string ModelAsMeasured(const NcclTestsLog& log, const GivenOptions& given, CollectiveParams* params);

}  // namespace wiresim::app
