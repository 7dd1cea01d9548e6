// What a profile records about where it was measured: GPUs, driver, CUDA, cuBLAS and NCCL versions, clocks, host,
// date, `nvidia-smi topo -m`, and NCCL's topology dump.
#pragma once

#include <string>
#include <vector>

#include "calibrate/profile.h"

namespace wiresim::calibrate {

// Facts about this node's `devices` and libraries. `hosts` are the run's hosts (MPI), empty for one node.
Provenance CollectProvenance(const std::vector<int>& devices, const std::vector<std::string>& hosts,
                             const std::string& command);

// The output of a shell command, or "" when it fails (used for nvidia-smi).
std::string CommandOutput(const std::string& command);

// Reads a whole file, or "" when it does not exist.
std::string FileText(const std::string& path);

}  // namespace wiresim::calibrate
