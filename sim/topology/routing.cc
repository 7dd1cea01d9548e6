#include "sim/topology/routing.h"

#include <algorithm>
#include <limits>

#include "sim/core/check.h"

namespace wiresim {
namespace {

constexpr int64_t kUnreached = std::numeric_limits<int64_t>::max();

// Where a path stands with respect to the network: before it, in it, or past it.
enum Phase : uint8_t { kBeforeNetwork = 0, kInNetwork = 1, kPastNetwork = 2, kForbidden = 3 };

Phase NextPhase(uint8_t phase, LinkKind kind) {
  const bool network = IsNetworkLink(kind);
  switch (phase) {
    case kBeforeNetwork:
      return network ? kInNetwork : kBeforeNetwork;
    case kInNetwork:
      return network ? kInNetwork : kPastNetwork;
    default:
      return network ? kForbidden : kPastNetwork;
  }
}

struct HeapItem {
  int64_t latency_ps;
  int32_t hops;
  NodeId node;
  bool operator>(const HeapItem& o) const {
    if (latency_ps != o.latency_ps) return latency_ps > o.latency_ps;
    if (hops != o.hops) return hops > o.hops;
    return node > o.node;
  }
};

}  // namespace

// The state of the last shortest-path search, and scratch space for extracting routes from it.
struct Router::Search {
  NodeId src = kNoNode;
  bool allow_network = true;
  int toward = -1;
  std::vector<NodeId> touched;  // nodes the search reached: the ones to reset for the next
  std::vector<int64_t> latency_ps;
  std::vector<int32_t> hops;
  std::vector<uint8_t> phase;
  std::vector<uint8_t> settled;
  // Equal-cost predecessor links of each node, as linked lists in one pool.
  std::vector<int32_t> pred_head;
  struct Pred {
    LinkId link;
    int32_t next;
  };
  std::vector<Pred> preds;
  std::vector<HeapItem> heap;

  // Route extraction scratch.
  std::vector<uint32_t> mark;
  uint32_t stamp = 0;
  std::vector<double> inflow;
  std::vector<double> paths;
  std::vector<double> outcap;  // capacity of each node's outgoing links within the route being built
  std::vector<size_t> level_start;
  std::vector<NodeId> stack;
  std::vector<LinkId> edges;
};

std::string PathInfo::ToString() const {
  switch (cls) {
    case PathClass::kSelf:
      return "X";
    case PathClass::kNvLink:
      return "NV" + std::to_string(nvlinks);
    case PathClass::kPix:
      return "PIX";
    case PathClass::kPxb:
      return "PXB";
    case PathClass::kPhb:
      return "PHB";
    case PathClass::kNode:
      return "NODE";
    case PathClass::kSys:
      return "SYS";
    case PathClass::kNet:
      return "NET";
  }
  return "?";
}

Router::Router(const Topology& topology) : topology_(topology), search_(std::make_unique<Search>()) {
  const size_t n = static_cast<size_t>(topology.node_count());
  search_->latency_ps.assign(n, kUnreached);
  search_->hops.assign(n, 0);
  search_->phase.assign(n, kBeforeNetwork);
  search_->settled.assign(n, 0);
  search_->pred_head.assign(n, -1);
  search_->mark.assign(n, 0);
  search_->inflow.assign(n, 0.0);
  search_->paths.assign(n, 0.0);
  search_->outcap.assign(n, 0.0);

  // Components over links other than network links (union-find), then which are dead ends.
  std::vector<int> parent(n);
  for (size_t i = 0; i < n; ++i) parent[i] = static_cast<int>(i);
  const auto root = [&](int x) {
    while (parent[static_cast<size_t>(x)] != x) {
      parent[static_cast<size_t>(x)] = parent[static_cast<size_t>(parent[static_cast<size_t>(x)])];
      x = parent[static_cast<size_t>(x)];
    }
    return x;
  };
  for (LinkId id = 0; id < topology.link_count(); ++id) {
    const Link& link = topology.link(id);
    if (IsNetworkLink(link.kind)) continue;
    const int a = root(link.from), b = root(link.to);
    if (a != b) parent[static_cast<size_t>(std::max(a, b))] = std::min(a, b);
  }
  component_.resize(n);
  for (size_t i = 0; i < n; ++i) component_[i] = root(static_cast<int>(i));
  dead_end_.assign(n, 1);
  wanted_.assign(n, 0);
  std::vector<NodeId> neighbour(n, kNoNode);  // each node's network neighbour so far
  for (LinkId id = 0; id < topology.link_count(); ++id) {
    const Link& link = topology.link(id);
    if (!IsNetworkLink(link.kind)) continue;
    const auto from = static_cast<size_t>(link.from), to = static_cast<size_t>(link.to);
    if (component_[from] == component_[to]) {
      dead_end_[static_cast<size_t>(component_[from])] = 0;
      continue;
    }
    for (const auto& [u, v] : {std::pair{from, link.to}, std::pair{to, link.from}}) {
      if (neighbour[u] != kNoNode && neighbour[u] != v) dead_end_[static_cast<size_t>(component_[u])] = 0;
      neighbour[u] = v;
    }
  }
}

Router::~Router() = default;

void Router::RunSearch(NodeId src, bool allow_network, int toward) {
  Search& s = *search_;
  if (s.src == src && s.allow_network == allow_network && s.toward == toward && toward != kTowardWanted) return;
  s.src = src;
  s.allow_network = allow_network;
  s.toward = toward;
  for (NodeId v : s.touched) {
    s.latency_ps[v] = kUnreached;
    s.settled[v] = 0;
    s.pred_head[v] = -1;
  }
  s.touched.assign(1, src);
  s.preds.clear();
  s.heap.clear();
  const int home = component_[src];

  s.latency_ps[src] = 0;
  s.hops[src] = 0;
  s.phase[src] = kBeforeNetwork;
  s.heap.push_back({0, 0, src});
  const auto later = std::greater<HeapItem>();
  while (!s.heap.empty()) {
    std::pop_heap(s.heap.begin(), s.heap.end(), later);
    const HeapItem item = s.heap.back();
    s.heap.pop_back();
    const NodeId u = item.node;
    if (s.settled[u] || item.latency_ps != s.latency_ps[u] || item.hops != s.hops[u]) continue;
    s.settled[u] = 1;
    if (u != src && topology_.node(u).spec.kind == NodeKind::kGpu) continue;  // GPUs do not forward
    for (LinkId id : topology_.out_links(u)) {
      const Link& link = topology_.link(id);
      const NodeId v = link.to;
      if (s.settled[v]) continue;  // settled nodes are strictly closer: no equal-cost path through u
      if (toward != kWholeTopology) {
        const int c = component_[v];
        const bool wanted = toward == kTowardWanted ? wanted_[static_cast<size_t>(c)] != 0 : c == toward;
        if (!wanted && c != home && dead_end_[static_cast<size_t>(c)]) continue;
      }
      const Phase next = NextPhase(s.phase[u], link.kind);
      if (next == kForbidden || (!allow_network && next != kBeforeNetwork)) continue;
      const int64_t lat = item.latency_ps + link.latency.picoseconds();
      const int32_t hops = item.hops + 1;
      const bool better = lat < s.latency_ps[v] || (lat == s.latency_ps[v] && hops < s.hops[v]);
      if (better) {
        if (s.latency_ps[v] == kUnreached) s.touched.push_back(v);
        s.latency_ps[v] = lat;
        s.hops[v] = hops;
        s.phase[v] = next;
        s.preds.push_back({id, -1});
        s.pred_head[v] = static_cast<int32_t>(s.preds.size() - 1);
        s.heap.push_back({lat, hops, v});
        std::push_heap(s.heap.begin(), s.heap.end(), later);
      } else if (lat == s.latency_ps[v] && hops == s.hops[v] && next == s.phase[v]) {
        // Another path of equal cost: append, keeping the lists in discovery order.
        s.preds.push_back({id, -1});
        const int32_t added = static_cast<int32_t>(s.preds.size() - 1);
        int32_t* tail = &s.pred_head[v];
        while (*tail != -1) tail = &s.preds[static_cast<size_t>(*tail)].next;
        *tail = added;
      }
    }
  }
}

bool Router::BuildRoute(NodeId dst, Route* out) {
  Search& s = *search_;
  if (s.latency_ps[dst] == kUnreached) return false;
  out->src = s.src;
  out->dst = dst;
  out->latency = Time::Picoseconds(s.latency_ps[dst]);
  out->hop_count = s.hops[dst];
  out->hops.clear();
  if (++s.stamp == 0) {
    std::fill(s.mark.begin(), s.mark.end(), 0);
    s.stamp = 1;
  }

  // Walk the predecessors back from dst one hop level at a time. Every equal-cost predecessor link goes from
  // level k to level k+1, so the links come out grouped by level (deepest first), and each node's outgoing
  // capacity within the route is known before the forward pass needs it.
  s.edges.clear();
  s.stack.assign(1, dst);
  s.mark[dst] = s.stamp;
  s.inflow[dst] = 0;
  s.paths[dst] = 0;
  s.outcap[dst] = 0;
  std::vector<size_t>& level_start = s.level_start;
  level_start.clear();
  size_t frontier_begin = 0;
  while (frontier_begin < s.stack.size()) {
    const size_t frontier_end = s.stack.size();
    level_start.push_back(s.edges.size());
    for (size_t i = frontier_begin; i < frontier_end; ++i) {
      const NodeId v = s.stack[i];
      for (int32_t p = s.pred_head[v]; p != -1; p = s.preds[static_cast<size_t>(p)].next) {
        const LinkId id = s.preds[static_cast<size_t>(p)].link;
        const Link& link = topology_.link(id);
        s.edges.push_back(id);
        const NodeId u = link.from;
        if (s.mark[u] != s.stamp) {
          s.mark[u] = s.stamp;
          s.inflow[u] = 0;
          s.paths[u] = 0;
          s.outcap[u] = 0;
          s.stack.push_back(u);
        }
        s.outcap[u] += link.capacity_GBps;
      }
    }
    frontier_begin = frontier_end;
  }
  level_start.push_back(s.edges.size());

  // Forward: levels from src outwards. A node's bytes split over its outgoing links in proportion to capacity.
  s.inflow[s.src] = 1.0;
  s.paths[s.src] = 1.0;
  double bandwidth = std::numeric_limits<double>::infinity();
  out->hops.reserve(s.edges.size());
  for (size_t level = level_start.size() - 1; level-- > 0;) {
    for (size_t k = level_start[level]; k < level_start[level + 1]; ++k) {
      const Link& link = topology_.link(s.edges[k]);
      const double share = s.inflow[link.from] * link.capacity_GBps / s.outcap[link.from];
      s.inflow[link.to] += share;
      s.paths[link.to] += s.paths[link.from];
      out->hops.push_back({s.edges[k], share});
      bandwidth = std::min(bandwidth, link.capacity_GBps / share);
    }
  }
  out->bandwidth_GBps = bandwidth;
  out->path_count = s.paths[dst];
  return true;
}

const Route* Router::Find(NodeId src, NodeId dst) {
  WIRESIM_CHECK_NE(src, dst) << "route from a node to itself";
  const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(src)) << 32) | static_cast<uint32_t>(dst);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second.get();
  auto route = std::make_unique<Route>();
  bool found = false;
  if (topology_.SameHost(src, dst)) {
    RunSearch(src, /*allow_network=*/false);
    found = BuildRoute(dst, route.get());
  }
  if (!found) {
    RunSearch(src, /*allow_network=*/true, component_[dst]);
    found = BuildRoute(dst, route.get());
  }
  if (!found) route.reset();
  return cache_.emplace(key, std::move(route)).first->second.get();
}

void Router::ForEachRouteFrom(NodeId src, const std::vector<NodeId>& dsts,
                              const std::function<void(NodeId, const Route*)>& visit) {
  Route route;
  // Destinations in src's host first, over host links only; then the rest (and any same-host destination that
  // needs the network) with the full search. Each destination is visited exactly once, in `dsts` order within
  // each of the two passes.
  std::vector<NodeId> retry;
  bool any_same_host = false;
  for (NodeId dst : dsts) any_same_host = any_same_host || (dst != src && topology_.SameHost(src, dst));
  if (any_same_host) {
    RunSearch(src, /*allow_network=*/false);
    for (NodeId dst : dsts) {
      if (dst == src || !topology_.SameHost(src, dst)) continue;
      if (BuildRoute(dst, &route)) {
        visit(dst, &route);
      } else {
        retry.push_back(dst);
      }
    }
  }
  // Toward the destinations' components only (a dead end no destination is in cannot be on a route to one).
  wanted_.assign(component_.size(), 0);
  for (NodeId dst : dsts) wanted_[static_cast<size_t>(component_[dst])] = 1;
  RunSearch(src, /*allow_network=*/true, kTowardWanted);
  for (NodeId dst : dsts) {
    if (dst == src || (topology_.SameHost(src, dst) && std::find(retry.begin(), retry.end(), dst) == retry.end())) {
      continue;
    }
    visit(dst, BuildRoute(dst, &route) ? &route : nullptr);
  }
}

PathInfo Router::Classify(const Route& route) const {
  PathInfo info;
  if (route.src == route.dst || route.hops.empty()) return info;
  bool all_nvlink = true;
  bool cpu_interconnect = false;
  for (const RouteHop& hop : route.hops) {
    const Link& link = topology_.link(hop.link);
    if (IsNetworkLink(link.kind)) {
      info.cls = PathClass::kNet;
      return info;
    }
    if (link.kind != LinkKind::kNvLink) all_nvlink = false;
    if (link.kind == LinkKind::kCpuInterconnect) cpu_interconnect = true;
    if (link.kind == LinkKind::kNvLink && link.from == route.src) info.nvlinks += link.count;
  }
  if (all_nvlink) {
    info.cls = PathClass::kNvLink;
    return info;
  }
  info.nvlinks = 0;
  if (cpu_interconnect) {
    info.cls = PathClass::kSys;
    return info;
  }
  // Walk one of the paths (hops are in level order) and look at the nodes it passes through.
  int pcie_switches = 0;
  bool cpu = false;
  bool host_bridge = false;
  NodeId at = route.src;
  for (const RouteHop& hop : route.hops) {
    const Link& link = topology_.link(hop.link);
    if (link.from != at) continue;
    at = link.to;
    if (at == route.dst) break;
    switch (topology_.node(at).spec.kind) {
      case NodeKind::kCpu:
        cpu = true;
        break;
      case NodeKind::kHostBridge:
        host_bridge = true;
        break;
      case NodeKind::kPcieSwitch:
        ++pcie_switches;
        break;
      default:
        break;
    }
  }
  if (cpu) {
    info.cls = PathClass::kNode;
  } else if (host_bridge) {
    info.cls = PathClass::kPhb;
  } else if (pcie_switches >= 2) {
    info.cls = PathClass::kPxb;
  } else {
    info.cls = PathClass::kPix;
  }
  return info;
}

}  // namespace wiresim
