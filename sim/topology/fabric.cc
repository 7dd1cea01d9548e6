#include "sim/topology/fabric.h"

#include <cmath>
#include <map>

#include "sim/topology/spec_builder.h"

namespace wiresim {
namespace {

NodeId AddSwitch(TopologySpec* spec, const std::string& name, const FabricSpec& f) {
  return internal::AppendNode(spec, name, NodeKind::kSwitch, "", f.switch_model, f.origin);
}

void AddLink(TopologySpec* spec, NodeId a, NodeId b, int count, const FabricSpec& f) {
  internal::AppendLink(spec, a, b, f.link_kind, f.bandwidth_GBps, count, f.latency, f.origin);
}

// Joins leaves (each with the number of NIC ports it serves) through a spine layer.
void AddSpines(TopologySpec* spec, const std::vector<std::pair<NodeId, int>>& leaves, const FabricSpec& f) {
  if (leaves.size() < 2) return;
  std::vector<int> uplinks;
  int total = 0;
  for (const auto& [leaf, down] : leaves) {
    const int up = std::max(1, static_cast<int>(std::ceil(down / f.oversubscription - 1e-9)));
    uplinks.push_back(up);
    total += up;
  }
  const int spines = std::max(1, (total + f.radix - 1) / f.radix);
  std::vector<NodeId> spine_ids;
  for (int s = 0; s < spines; ++s) spine_ids.push_back(AddSwitch(spec, f.name + "/spine" + std::to_string(s), f));
  for (size_t i = 0; i < leaves.size(); ++i) {
    for (int s = 0; s < spines; ++s) {
      const int count = uplinks[i] / spines + (s < uplinks[i] % spines ? 1 : 0);
      if (count > 0) AddLink(spec, leaves[i].first, spine_ids[static_cast<size_t>(s)], count, f);
    }
  }
}

}  // namespace

Status AddFabric(const FabricSpec& f, TopologySpec* spec) {
  if (f.nics.empty()) return InvalidInput(f.origin, "fabric.nics", "selects no NIC");
  if (f.radix < 2) return InvalidInput(f.origin, "fabric.radix", "must be at least 2");
  if (!(f.oversubscription >= 1.0)) {
    return InvalidInput(f.origin, "fabric.oversubscription", "must be >= 1 (1 = non-blocking, 2 = 2:1)");
  }
  const int down_ports = f.leaf_down_ports > 0 ? f.leaf_down_ports : std::max(1, f.radix / 2);

  switch (f.kind) {
    case FabricKind::kSingleSwitch: {
      const NodeId sw = AddSwitch(spec, f.name + "/switch", f);
      for (NodeId nic : f.nics) AddLink(spec, nic, sw, 1, f);
      return Status::Ok();
    }
    case FabricKind::kFatTree: {
      std::vector<std::pair<NodeId, int>> leaves;
      for (size_t i = 0; i < f.nics.size(); ++i) {
        if (i % static_cast<size_t>(down_ports) == 0) {
          leaves.emplace_back(AddSwitch(spec, f.name + "/leaf" + std::to_string(leaves.size()), f), 0);
        }
        AddLink(spec, f.nics[i], leaves.back().first, 1, f);
        ++leaves.back().second;
      }
      AddSpines(spec, leaves, f);
      return Status::Ok();
    }
    case FabricKind::kRailOptimized: {
      // Group the NICs by host, keeping host order; rail = position of the NIC within its host.
      std::vector<std::string> host_order;
      std::map<std::string, std::vector<NodeId>> by_host;
      for (NodeId nic : f.nics) {
        const NodeSpec& node = spec->nodes[static_cast<size_t>(nic)];
        if (node.host.empty()) {
          return InvalidInput(
              f.origin, "fabric.nics",
              "a rail-optimised fabric needs NICs that belong to hosts; '" + node.name + "' belongs to none");
        }
        auto [it, added] = by_host.emplace(node.host, std::vector<NodeId>());
        if (added) host_order.push_back(node.host);
        it->second.push_back(nic);
      }
      const size_t rails = by_host[host_order.front()].size();
      for (const std::string& host : host_order) {
        if (by_host[host].size() != rails) {
          return InvalidInput(f.origin, "fabric.nics",
                              "a rail-optimised fabric needs the same number of NICs in every host: '" +
                                  host_order.front() + "' has " + std::to_string(rails) + ", '" + host + "' has " +
                                  std::to_string(by_host[host].size()));
        }
      }
      std::vector<std::pair<NodeId, int>> leaves;
      for (size_t r = 0; r < rails; ++r) {
        for (size_t h = 0; h < host_order.size(); ++h) {
          if (h % static_cast<size_t>(down_ports) == 0) {
            const std::string name =
                f.name + "/rail" + std::to_string(r) + "-leaf" + std::to_string(h / static_cast<size_t>(down_ports));
            leaves.emplace_back(AddSwitch(spec, name, f), 0);
          }
          const NodeId nic = by_host[host_order[h]][r];
          spec->nodes[static_cast<size_t>(nic)].rail = static_cast<int>(r);
          AddLink(spec, nic, leaves.back().first, 1, f);
          ++leaves.back().second;
        }
      }
      AddSpines(spec, leaves, f);
      return Status::Ok();
    }
  }
  return Status::Ok();
}

}  // namespace wiresim
