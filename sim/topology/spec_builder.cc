#include "sim/topology/spec_builder.h"

namespace wiresim::internal {

NodeId AppendNode(TopologySpec* spec, const std::string& name, NodeKind kind, const std::string& host,
                  const std::string& model, const SourceLocation& origin) {
  NodeSpec node;
  node.name = name;
  node.kind = kind;
  node.host = host;
  node.model = model;
  node.origin = origin;
  spec->nodes.push_back(std::move(node));
  return static_cast<NodeId>(spec->nodes.size() - 1);
}

void AppendLink(TopologySpec* spec, NodeId a, NodeId b, LinkKind kind, double bandwidth_GBps, int count, Time latency,
                const SourceLocation& origin) {
  LinkSpec link;
  link.a = a;
  link.b = b;
  link.kind = kind;
  link.bandwidth_GBps = bandwidth_GBps;
  link.count = count;
  link.latency = latency;
  link.origin = origin;
  spec->links.push_back(link);
}

}  // namespace wiresim::internal
