// How the command line names GPUs and byte sizes.
//
// GPUs: global indices and ranges ("0-7", "0,2,4-5"), or per host with the host's local indices
// ("node0:0-7,node1:0-7"; an item without "host:" continues the last host named, so "node0:0-3,6" is GPUs 0-3 and
// 6 of node0). `--nodes N` is every GPU of the first N hosts.
//
//   WIRESIM_ASSIGN_OR_RETURN(std::vector<int> gpus, ParseGpuSelection("node0:0-7,node1:0-7", topo));
//   WIRESIM_ASSIGN_OR_RETURN(double bytes, ParseByteSize("8G"));   // 8589934592 (K, M, G, T are powers of 1024)
#pragma once

#include <string>
#include <vector>

#include "sim/core/status.h"
#include "sim/topology/topology.h"

namespace wiresim::app {

Result<std::vector<int>> ParseGpuSelection(const std::string& text, const Topology& topo);
// Every GPU of the first `nodes` hosts, in host then local order.
Result<std::vector<int>> FirstNodes(int nodes, const Topology& topo);
// "8", "1024", "64K", "1M", "8G", "1.5G" (nccl-tests' suffixes: powers of 1024).
Result<double> ParseByteSize(const std::string& text);
// "1,4,8" -> {1, 4, 8}.
Result<std::vector<int>> ParseIntList(const std::string& text, const std::string& what);

}  // namespace wiresim::app
