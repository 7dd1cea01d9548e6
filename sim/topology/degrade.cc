#include "sim/topology/degrade.h"

#include <algorithm>

#include "sim/core/check.h"

namespace wiresim {

std::vector<int> LinksBetween(const Topology& topo, NodeId a, NodeId b) {
  std::vector<int> specs;
  for (LinkId l : topo.out_links(a)) {
    if (topo.link(l).to == b) specs.push_back(topo.link(l).spec_index);
  }
  std::sort(specs.begin(), specs.end());
  specs.erase(std::unique(specs.begin(), specs.end()), specs.end());
  return specs;
}

Result<Topology> ApplyTopologyChanges(const Topology& topo, const TopologyChanges& changes) {
  TopologySpec spec = topo.ToSpec();
  const size_t n = spec.nodes.size();
  std::vector<bool> failed(n, false);
  for (NodeId f : changes.fail) failed[static_cast<size_t>(f)] = true;
  for (const LinkDegrade& d : changes.degrade) {
    WIRESIM_CHECK(d.factor > 0 && d.factor <= 1);
    for (LinkSpec& l : spec.links) {
      const bool touches =
          d.b == kNoNode ? (l.a == d.a || l.b == d.a) : ((l.a == d.a && l.b == d.b) || (l.a == d.b && l.b == d.a));
      if (touches) l.bandwidth_GBps *= d.factor;
    }
  }
  // Removed nodes: failed ones that are not GPUs. The others keep their order, so GPU and NIC numbering holds.
  std::vector<NodeId> renumber(n, kNoNode);
  std::vector<NodeSpec> nodes;
  for (size_t i = 0; i < n; ++i) {
    if (failed[i] && spec.nodes[i].kind != NodeKind::kGpu) continue;
    renumber[i] = static_cast<NodeId>(nodes.size());
    nodes.push_back(std::move(spec.nodes[i]));
  }
  std::vector<LinkSpec> links;
  for (LinkSpec& l : spec.links) {
    if (failed[static_cast<size_t>(l.a)] || failed[static_cast<size_t>(l.b)]) continue;
    l.a = renumber[static_cast<size_t>(l.a)];
    l.b = renumber[static_cast<size_t>(l.b)];
    links.push_back(std::move(l));
  }
  spec.nodes = std::move(nodes);
  spec.links = std::move(links);
  return Topology::Build(std::move(spec), GpuReach::kUnchecked);
}

}  // namespace wiresim
