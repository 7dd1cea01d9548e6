#include "sim/topology/path_matrix.h"

#include <algorithm>

namespace wiresim {

std::vector<NodeId> DefaultDevices(const Topology& topo) {
  std::vector<NodeId> devices(topo.gpus().begin(), topo.gpus().end());
  devices.insert(devices.end(), topo.nics().begin(), topo.nics().end());
  return devices;
}

PathMatrix ComputePathMatrix(const Topology& topo, const std::vector<NodeId>& devices) {
  PathMatrix m;
  m.devices = devices;
  const size_t n = devices.size();
  m.cells.assign(n * n, PairPath{});
  Router router(topo);
  std::vector<size_t> column_of(static_cast<size_t>(topo.node_count()), SIZE_MAX);
  for (size_t j = 0; j < n; ++j) column_of[static_cast<size_t>(devices[j])] = j;
  for (size_t i = 0; i < n; ++i) {
    m.cells[i * n + i].reachable = true;
    router.ForEachRouteFrom(devices[i], devices, [&](NodeId dst, const Route* route) {
      if (route == nullptr) return;
      PairPath& cell = m.cells[i * n + column_of[static_cast<size_t>(dst)]];
      cell.reachable = true;
      cell.info = router.Classify(*route);
      cell.bandwidth_GBps = route->bandwidth_GBps;
      cell.latency = route->latency;
      cell.hops = route->hop_count;
    });
  }
  return m;
}

std::map<std::string, PathClassStats> SummarizePathClasses(const Topology& topo, const std::vector<NodeId>& sources,
                                                           const std::vector<NodeId>& targets) {
  std::map<std::string, PathClassStats> by_class;
  Router router(topo);
  for (NodeId src : sources) {
    router.ForEachRouteFrom(src, targets, [&](NodeId dst, const Route* route) {
      if (route == nullptr || dst == src) return;
      PathClassStats& s = by_class[router.Classify(*route).ToString()];
      if (s.pairs == 0) {
        s.bandwidth_min_GBps = s.bandwidth_max_GBps = route->bandwidth_GBps;
        s.latency_min = s.latency_max = route->latency;
      } else {
        s.bandwidth_min_GBps = std::min(s.bandwidth_min_GBps, route->bandwidth_GBps);
        s.bandwidth_max_GBps = std::max(s.bandwidth_max_GBps, route->bandwidth_GBps);
        s.latency_min = std::min(s.latency_min, route->latency);
        s.latency_max = std::max(s.latency_max, route->latency);
      }
      ++s.pairs;
    });
  }
  return by_class;
}

}  // namespace wiresim
