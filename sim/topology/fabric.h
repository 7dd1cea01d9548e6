// Fabric generators: the network that joins machines, built from a few numbers instead of listing every switch.
//
//   single_switch    every NIC on one switch.
//   rail_optimized   NIC i of every host goes to a leaf of rail i (hosts split over several leaves per rail when
//                    they do not fit one); leaves of all rails join through a spine layer. GPU i of two hosts
//                    then talk through one leaf; other pairs cross a spine.
//   fat_tree         NICs fill leaves in host order, ignoring rails; leaves join through spines.
//
// Leaves have `leaf_down_ports` NIC-facing ports (default radix/2) and ceil(down ports used / oversubscription)
// uplinks; there are ceil(total uplinks / radix) spines, and each leaf spreads its uplinks evenly over them.
//
//   FabricSpec f;  f.kind = FabricKind::kRailOptimized;  f.nics = {...};  f.bandwidth_GBps = 50;
//   WIRESIM_RETURN_IF_ERROR(AddFabric(f, &spec));
#pragma once

#include <string>
#include <vector>

#include "sim/core/status.h"
#include "sim/topology/topology.h"

namespace wiresim {

enum class FabricKind { kSingleSwitch, kRailOptimized, kFatTree };

struct FabricSpec {
  FabricKind kind = FabricKind::kRailOptimized;
  std::string name = "fabric";  // prefix of the generated switches: "ib/rail0-leaf1", "ib/spine3"
  std::vector<NodeId> nics;     // NICs to attach, in host order
  LinkKind link_kind = LinkKind::kInfiniBand;
  double bandwidth_GBps = 0;      // per direction, per port (NIC-leaf and leaf-spine alike)
  Time latency;                   // per link
  int radix = 64;                 // ports per switch
  int leaf_down_ports = 0;        // NIC-facing ports per leaf; 0 means radix / 2
  double oversubscription = 1.0;  // leaf down ports used : uplinks
  std::string switch_model;
  SourceLocation origin;
};

// Appends the fabric's switches and links to `spec` and sets each NIC's rail (rail-optimised fabrics).
// Errors: no NICs, a NIC outside any host (rail-optimised), hosts with different NIC counts (rail-optimised),
// radix below 2, oversubscription below 1.
Status AddFabric(const FabricSpec& fabric, TopologySpec* spec);

}  // namespace wiresim
