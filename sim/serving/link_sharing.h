// Which collective groups of a deployment can meet other traffic on a link. Two groups that share a GPU never
// run at the same time (a GPU runs one program at a time and its collectives block), so only groups with no GPU in
// common can contend; they do when some link carries routes of both. A group that meets no other is private: the
// closed form times it exactly (no other traffic on its links), under --network flow too; the others run as
// transfers on the flow network, and an analytical run says it assumed them uncontended.
//
//   std::vector<bool> shared = GroupsMeetingOthers(topo, router, groups);
#pragma once

#include <vector>

#include "sim/topology/routing.h"
#include "sim/topology/topology.h"

namespace wiresim {

// `groups[i]` lists global GPU indices. A group's links are those of the routes between every ordered pair of its
// GPUs (a superset of what any algorithm uses, so a group is never called private wrongly).
std::vector<bool> GroupsMeetingOthers(const Topology& topo, Router& router, const std::vector<std::vector<int>>& groups);

}  // namespace wiresim
