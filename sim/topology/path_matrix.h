// PathMatrix: for a list of devices (GPUs, NICs), the nvidia-smi class, route bandwidth and latency of every
// ordered pair. `wiresim topo show` prints it; tests compare it with what a machine reports.
//
//   PathMatrix m = ComputePathMatrix(topo, DefaultDevices(topo));
//   m.at(0, 1).info.ToString();   // "NV18"
//   m.at(0, 1).bandwidth_GBps;    // 450
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/core/time.h"
#include "sim/topology/routing.h"
#include "sim/topology/topology.h"

namespace wiresim {

struct PairPath {
  PathInfo info;
  double bandwidth_GBps = 0;  // 0 on the diagonal and for unreachable pairs
  Time latency;
  int hops = 0;
  bool reachable = false;
};

struct PathMatrix {
  std::vector<NodeId> devices;
  std::vector<PairPath> cells;  // row-major, devices.size()^2

  size_t size() const { return devices.size(); }
  const PairPath& at(size_t row, size_t col) const { return cells[row * devices.size() + col]; }
};

// Every GPU in index order, then every NIC in declaration order: the rows and columns of `nvidia-smi topo -m`.
std::vector<NodeId> DefaultDevices(const Topology& topo);

// One shortest-path search per row.
PathMatrix ComputePathMatrix(const Topology& topo, const std::vector<NodeId>& devices);

// The routes of one nvidia-smi class ("NV18", "NET", ...) among the pairs summarised: how many ordered pairs, and
// the range of their bandwidths and latencies.
struct PathClassStats {
  size_t pairs = 0;
  double bandwidth_min_GBps = 0;
  double bandwidth_max_GBps = 0;
  Time latency_min;
  Time latency_max;
};

// The routes from each of `sources` to each of `targets` (a device to itself excluded), grouped by class and ordered
// by its name. One shortest-path search per source, as a matrix's row, but nothing kept per pair: a summary of n
// sources takes n searches and no n^2 memory. Unreachable pairs are left out.
std::map<std::string, PathClassStats> SummarizePathClasses(const Topology& topo, const std::vector<NodeId>& sources,
                                                           const std::vector<NodeId>& targets);

}  // namespace wiresim
