// Appending nodes and links to a TopologySpec: what the fabric generators and the importers share.
//
//   NodeId sw = internal::AppendNode(&spec, "ib/spine0", NodeKind::kSwitch, /*host=*/"", "", origin);
//   internal::AppendLink(&spec, leaf, sw, LinkKind::kInfiniBand, 50, /*count=*/2, Time::Nanoseconds(350), origin);
#pragma once

#include <string>

#include "sim/topology/topology.h"

namespace wiresim::internal {

// Adds a node named `name` (a full name: "node0/gpu3") and returns its id.
NodeId AppendNode(TopologySpec* spec, const std::string& name, NodeKind kind, const std::string& host,
                  const std::string& model, const SourceLocation& origin);

void AppendLink(TopologySpec* spec, NodeId a, NodeId b, LinkKind kind, double bandwidth_GBps, int count, Time latency,
                const SourceLocation& origin);

}  // namespace wiresim::internal
