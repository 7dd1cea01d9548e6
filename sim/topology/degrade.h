// What-if variants of a topology: links that run slower than built (a NIC negotiated down, a flaky cable, an
// NVLink lane lost) and elements whose links are gone (a failed NIC, switch or GPU). The variant is a new
// Topology, so routes, nearest NICs and NVLink domains are all recomputed from what is left.
//
//   TopologyChanges c;
//   c.degrade.push_back({*topo.FindNode("node1/nic3"), kNoNode, 0.5});   // every link of the NIC at half rate
//   c.fail.push_back(*topo.FindNode("node0/nic2"));
//   WIRESIM_ASSIGN_OR_RETURN(Topology what_if, ApplyTopologyChanges(topo, c));
#pragma once

#include <vector>

#include "sim/core/status.h"
#include "sim/topology/topology.h"

namespace wiresim {

struct LinkDegrade {
  NodeId a = kNoNode;  // every link touching a ...
  NodeId b = kNoNode;  // ... or, when set, only the links between a and b
  double factor = 1;   // in (0, 1]: the links' bandwidth per direction is multiplied by it
};

struct TopologyChanges {
  std::vector<LinkDegrade> degrade;  // factors on one link multiply
  // Elements whose every link is removed. A failed GPU stays in the topology (GPU indices keep their meaning) with
  // no links; any other failed node is removed, so it is in no host's NIC list and no route.
  std::vector<NodeId> fail;
};

// The links `a` has to `b` (spec indices, both directions counted once); empty when they are not joined.
std::vector<int> LinksBetween(const Topology& topo, NodeId a, NodeId b);

// Builds the variant. It is built with GpuReach::kUnchecked: a failure may leave GPUs that cannot reach each other,
// and the caller decides which pairs matter. Node ids of the result differ from `topo`'s when a non-GPU node is
// failed; names and GPU indices do not. REQUIRES: node ids of `topo`; factors in (0, 1].
Result<Topology> ApplyTopologyChanges(const Topology& topo, const TopologyChanges& changes);

}  // namespace wiresim
