#include "sim/topology/path_matrix.h"

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

}  // namespace wiresim
