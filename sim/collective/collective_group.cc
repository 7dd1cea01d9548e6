#include "sim/collective/collective_group.h"

#include <algorithm>
#include <limits>
#include <set>
#include <string>

namespace wiresim {
namespace {

bool HasSwitchLinks(const Topology& topo, NodeId gpu) {
  for (LinkId l : topo.out_links(gpu))
    if (topo.node(topo.link(l).to).spec.kind == NodeKind::kNvSwitch) return true;
  return false;
}

}  // namespace

Route ComposeRoutes(const std::vector<const Route*>& parts, const Topology& topo) {
  Route out;
  out.bandwidth_GBps = std::numeric_limits<double>::infinity();
  out.path_count = 1;
  std::map<LinkId, size_t> index;
  for (const Route* r : parts) {
    if (r == nullptr) continue;
    if (out.src == kNoNode) out.src = r->src;
    out.dst = r->dst;
    out.latency += r->latency;
    out.hop_count += r->hop_count;
    out.path_count *= std::max(1.0, r->path_count);
    for (const RouteHop& h : r->hops) {
      auto [it, added] = index.emplace(h.link, out.hops.size());
      if (added) {
        out.hops.push_back(h);
      } else {
        out.hops[it->second].share += h.share;
      }
    }
  }
  for (const RouteHop& h : out.hops) {
    out.bandwidth_GBps = std::min(out.bandwidth_GBps, topo.link(h.link).capacity_GBps / h.share);
  }
  if (out.hops.empty()) out.bandwidth_GBps = 0;
  return out;
}

Result<std::unique_ptr<CollectiveGroup>> CollectiveGroup::Create(const Topology& topo, Router& router,
                                                                 std::vector<int> gpus, const GroupOptions& options) {
  std::unique_ptr<CollectiveGroup> group(new CollectiveGroup(topo, router));
  WIRESIM_RETURN_IF_ERROR(group->Analyze(std::move(gpus), options));
  WIRESIM_RETURN_IF_ERROR(group->BuildRings());
  return group;
}

int CollectiveGroup::min_ranks_per_node() const {
  size_t m = node_ranks_[0].size();
  for (const auto& n : node_ranks_) m = std::min(m, n.size());
  return static_cast<int>(m);
}

int CollectiveGroup::max_ranks_per_node() const {
  size_t m = 0;
  for (const auto& n : node_ranks_) m = std::max(m, n.size());
  return static_cast<int>(m);
}

Status CollectiveGroup::Analyze(std::vector<int> gpus, const GroupOptions& options) {
  if (gpus.empty()) return InvalidArgument("a collective needs at least one GPU");
  std::set<int> seen;
  for (int g : gpus) {
    if (g < 0 || g >= topo_.gpu_count()) {
      return InvalidArgument("GPU " + std::to_string(g) + " does not exist (the topology has " +
                             std::to_string(topo_.gpu_count()) + " GPUs)");
    }
    if (!seen.insert(g).second) return InvalidArgument("GPU " + std::to_string(g) + " is listed twice");
  }
  gpus_ = std::move(gpus);
  for (int g : gpus_) nodes_of_rank_.push_back(topo_.gpu(g));

  // NCCL's GPU generation is the lowest of the group's.
  arch_ = GpuArchFromModel(topo_.node(nodes_of_rank_[0]).spec.model);
  for (NodeId n : nodes_of_rank_) {
    const GpuArch a = GpuArchFromModel(topo_.node(n).spec.model);
    if (a.sm < arch_.sm) arch_ = a;
  }

  // An NVLink domain that spans hosts is one node (NCCL's multi-node NVLink); otherwise a node is a host.
  std::map<int, std::set<int>> domain_hosts;
  for (NodeId g : topo_.gpus()) domain_hosts[topo_.node(g).nvlink_domain].insert(topo_.node(g).host_index);
  std::map<std::pair<int, int>, int> node_index;
  node_of_rank_.assign(gpus_.size(), -1);
  for (size_t r = 0; r < gpus_.size(); ++r) {
    const Node& n = topo_.node(nodes_of_rank_[r]);
    std::pair<int, int> key{0, n.host_index};
    if (n.nvlink_domain >= 0 && domain_hosts[n.nvlink_domain].size() > 1) key = {1, n.nvlink_domain};
    auto [it, added] = node_index.emplace(key, static_cast<int>(node_ranks_.size()));
    if (added) {
      node_ranks_.emplace_back();
      host_of_node_.push_back(n.host_index);
    }
    node_of_rank_[r] = it->second;
    node_ranks_[static_cast<size_t>(it->second)].push_back(static_cast<int>(r));
  }
  for (auto& ranks : node_ranks_) {
    std::stable_sort(ranks.begin(), ranks.end(), [&](int a, int b) {
      const Node& x = topo_.node(gpu_node(a));
      const Node& y = topo_.node(gpu_node(b));
      return std::tie(x.nvlink_domain, x.host_index, x.local_index, x.gpu_index) <
             std::tie(y.nvlink_domain, y.host_index, y.local_index, y.gpu_index);
    });
  }

  // NVLS: Hopper or later, and each node's GPUs in one NVLink domain behind NVSwitches.
  nvls_capable_ = arch_.sm >= 90;
  for (const auto& ranks : node_ranks_) {
    const int domain = topo_.node(gpu_node(ranks[0])).nvlink_domain;
    for (int r : ranks) {
      const NodeId g = gpu_node(r);
      if (topo_.node(g).nvlink_domain != domain || domain < 0 || !HasSwitchLinks(topo_, g)) nvls_capable_ = false;
    }
  }

  // Rails: the NICs inter-node traffic leaves through, per node.
  own_nic_.assign(gpus_.size(), kNoNode);
  if (nodes() > 1) {
    rails_.resize(node_ranks_.size());
    for (size_t k = 0; k < node_ranks_.size(); ++k) {
      const int host = host_of_node_[k];
      if (host < 0) continue;
      const Host& h = topo_.hosts()[static_cast<size_t>(host)];
      if (!options.nics.empty()) {
        for (int i : options.nics) {
          if (i < 0 || i >= static_cast<int>(h.nics.size())) {
            return InvalidArgument("NIC " + std::to_string(i) + " does not exist on host '" + h.name + "' (it has " +
                                   std::to_string(h.nics.size()) + ")");
          }
          rails_[k].push_back(h.nics[static_cast<size_t>(i)]);
        }
        continue;
      }
      // Each GPU's own NIC: the first of its nearest NICs no other GPU of the node has taken (on a DGX A100 two
      // GPUs share a PCIe switch with two NICs, one each).
      std::set<size_t> local;
      for (int r : node_ranks_[k]) {
        const auto nearest = topo_.nearest_nics(gpu_node(r));
        NodeId own = kNoNode;
        for (NodeId nic : nearest) {
          const size_t i = static_cast<size_t>(std::find(h.nics.begin(), h.nics.end(), nic) - h.nics.begin());
          if (i < h.nics.size() && !local.count(i)) {
            own = nic;
            break;
          }
        }
        if (own == kNoNode && !nearest.empty()) own = nearest[0];
        if (own == kNoNode) continue;
        own_nic_[static_cast<size_t>(r)] = own;
        const auto pos = std::find(h.nics.begin(), h.nics.end(), own);
        if (pos != h.nics.end()) local.insert(static_cast<size_t>(pos - h.nics.begin()));
      }
      for (size_t i : local) rails_[k].push_back(h.nics[i]);
    }
  }
  return Status::Ok();
}

NodeId CollectiveGroup::RailNic(int node, int rail) const {
  const auto& rails = rails_[static_cast<size_t>(node)];
  if (rails.empty()) return kNoNode;
  return rails[static_cast<size_t>(rail) % rails.size()];
}

int CollectiveGroup::RankNearNic(int node, NodeId nic) const {
  if (nic == kNoNode) return -1;
  for (int r : node_ranks_[static_cast<size_t>(node)])
    if (own_nic_[static_cast<size_t>(r)] == nic) return r;
  for (int r : node_ranks_[static_cast<size_t>(node)]) {
    const auto nearest = topo_.nearest_nics(gpu_node(r));
    if (std::find(nearest.begin(), nearest.end(), nic) != nearest.end()) return r;
  }
  return -1;
}

int CollectiveGroup::head(int node, int g) const {
  return heads_[static_cast<size_t>(node)][static_cast<size_t>(g) % heads_[static_cast<size_t>(node)].size()];
}

const Route* CollectiveGroup::Store(Route r) {
  routes_.push_back(std::move(r));
  return &routes_.back();
}

NodeId CollectiveGroup::PxnProxy(int rank, NodeId nic) const {
  const NodeId g = gpu_node(rank);
  const auto nearest = topo_.nearest_nics(g);
  if (std::find(nearest.begin(), nearest.end(), nic) != nearest.end()) return kNoNode;
  const int host = topo_.node(g).host_index;
  if (host < 0) return kNoNode;
  for (NodeId p : topo_.hosts()[static_cast<size_t>(host)].gpus) {
    if (p == g || !topo_.SameNvlinkDomain(p, g)) continue;
    const auto pn = topo_.nearest_nics(p);
    if (std::find(pn.begin(), pn.end(), nic) != pn.end()) return p;
  }
  return kNoNode;
}

Route CollectiveGroup::ToNic(int rank, NodeId nic) {
  const NodeId g = gpu_node(rank);
  // PXN: over NVLink to a GPU of the same host next to the NIC, then down its PCIe switch.
  const NodeId proxy = PxnProxy(rank, nic);
  if (proxy != kNoNode) return ComposeRoutes({router_.Find(g, proxy), router_.Find(proxy, nic)}, topo_);
  return ComposeRoutes({router_.Find(g, nic)}, topo_);
}

Route CollectiveGroup::FromNic(NodeId nic, int rank) {
  const NodeId g = gpu_node(rank);
  const NodeId proxy = PxnProxy(rank, nic);
  if (proxy != kNoNode) return ComposeRoutes({router_.Find(nic, proxy), router_.Find(proxy, g)}, topo_);
  return ComposeRoutes({router_.Find(nic, g)}, topo_);
}

void CollectiveGroup::PrefetchEdges(const std::vector<std::tuple<int, int, int>>& edges) {
  std::vector<std::pair<NodeId, NodeId>> pairs;
  for (const auto& [a, b, g] : edges) {
    if (a == b) continue;
    const NodeId ga = gpu_node(a), gb = gpu_node(b);
    const bool same = node_of_rank(a) == node_of_rank(b);
    const NodeId nic_a = same ? kNoNode : RailNic(node_of_rank(a), g);
    const NodeId nic_b = nic_a == kNoNode ? kNoNode : RailNic(node_of_rank(b), g);
    if (nic_a == kNoNode || nic_b == kNoNode) {
      pairs.emplace_back(ga, gb);
      continue;
    }
    const NodeId proxy = PxnProxy(a, nic_a);
    if (proxy != kNoNode) {
      pairs.emplace_back(ga, proxy);
      pairs.emplace_back(proxy, nic_a);
    } else {
      pairs.emplace_back(ga, nic_a);
    }
    pairs.emplace_back(nic_a, nic_b);
    const NodeId proxy_b = PxnProxy(b, nic_b);
    if (proxy_b != kNoNode) {
      pairs.emplace_back(nic_b, proxy_b);
      pairs.emplace_back(proxy_b, gb);
    } else {
      pairs.emplace_back(nic_b, gb);
    }
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  for (const auto& [src, dst] : pairs) router_.Find(src, dst);
}

const Route* CollectiveGroup::EdgeRoute(int a, int b, int g) {
  const auto key = std::make_tuple(a, b, node_of_rank(a) == node_of_rank(b) ? 0 : g);
  auto it = edge_cache_.find(key);
  if (it != edge_cache_.end()) return it->second;
  const Route* route = nullptr;
  const NodeId ga = gpu_node(a), gb = gpu_node(b);
  const NodeId nic_a = node_of_rank(a) == node_of_rank(b) ? kNoNode : RailNic(node_of_rank(a), g);
  const NodeId nic_b = nic_a == kNoNode ? kNoNode : RailNic(node_of_rank(b), g);
  if (nic_a == kNoNode || nic_b == kNoNode) {
    route = router_.Find(ga, gb);
  } else {
    const Route out = ToNic(a, nic_a);
    const Route* across = router_.Find(nic_a, nic_b);
    const Route in = FromNic(nic_b, b);
    if (out.hops.empty() || across == nullptr || in.hops.empty()) {
      route = router_.Find(ga, gb);  // no way through those NICs: whatever path the topology has
    } else {
      route = Store(ComposeRoutes({&out, across, &in}, topo_));
    }
  }
  edge_cache_[key] = route;
  return route;
}

const Route* CollectiveGroup::P2pRoute(int a, int b, bool pxn) {
  const NodeId ga = gpu_node(a), gb = gpu_node(b);
  if (node_of_rank(a) == node_of_rank(b)) return router_.Find(ga, gb);
  const auto key = std::make_tuple(a, b, pxn);
  auto it = p2p_cache_.find(key);
  if (it != p2p_cache_.end()) return it->second;
  NodeId out_nic = own_nic_[static_cast<size_t>(a)];
  const NodeId in_nic = own_nic_[static_cast<size_t>(b)];
  if (pxn) {
    // The NIC of the GPU on a's node with b's local index (ncclTopoGetLocalNet of that rank), reached over NVLink
    // through that GPU (PXN needs it NVLink-reachable and next to its NIC: PxnProxy), or a's own.
    const int index = topo_.node(gb).local_index;
    for (int r : node_ranks_[static_cast<size_t>(node_of_rank(a))]) {
      if (topo_.node(gpu_node(r)).local_index != index) continue;
      const NodeId nic = own_nic_[static_cast<size_t>(r)];
      const auto nearest = topo_.nearest_nics(ga);
      const bool own = std::find(nearest.begin(), nearest.end(), nic) != nearest.end();
      if (nic != kNoNode && (own || PxnProxy(a, nic) != kNoNode)) out_nic = nic;
      break;
    }
  }
  const Route* route = nullptr;
  if (out_nic != kNoNode && in_nic != kNoNode) {
    const Route out = ToNic(a, out_nic);
    const Route* across = router_.Find(out_nic, in_nic);
    const Route in = FromNic(in_nic, b);
    if (!out.hops.empty() && across != nullptr && !in.hops.empty()) {
      route = Store(ComposeRoutes({&out, across, &in}, topo_));
    }
  }
  if (route == nullptr) route = router_.Find(ga, gb);  // no NICs to choose between: whatever path the topology has
  p2p_cache_[key] = route;
  return route;
}

const Route* CollectiveGroup::SwitchRoute(int rank, bool up) {
  const auto key = std::make_pair(rank, up);
  auto it = switch_cache_.find(key);
  if (it != switch_cache_.end()) return it->second;
  const NodeId g = gpu_node(rank);
  Route r;
  r.src = up ? g : kNoNode;
  r.dst = up ? kNoNode : g;
  double total = 0;
  for (LinkId l : topo_.out_links(g)) {
    const Link& link = topo_.link(l);
    if (topo_.node(link.to).spec.kind != NodeKind::kNvSwitch) continue;
    total += link.capacity_GBps;
    r.hops.push_back(RouteHop{up ? l : link.reverse, link.capacity_GBps});
    r.latency = std::max(r.latency, link.latency);
  }
  const Route* out = nullptr;
  if (total > 0) {
    for (RouteHop& h : r.hops) h.share /= total;
    r.hop_count = 1;
    r.path_count = static_cast<double>(r.hops.size());
    r.bandwidth_GBps = total;
    out = Store(std::move(r));
  }
  switch_cache_[key] = out;
  return out;
}

// NCCL's ring search on a node whose GPUs are joined directly by NVLink (an HGX A100 4-GPU board: NV4 between every
// pair; a DGX-1's hybrid cube mesh) finds several rings in different orders, each channel's ring using other links,
// so that a GPU sends over all its NVLinks at once (src/graph/search.cc: every channel's ring is searched against the
// links' remaining bandwidth). wiresim takes the directed Hamiltonian cycles of the direct-NVLink graph (up to 8
// GPUs) and keeps, one at a time, the cycle that least raises the most-used link's count of rings, until every link
// carries as many rings as any other or 12 rings are chosen (NCCL's 4-GPU board: the 6 directed cycles of K4, each
// link in 2). Each ring then carries 1 / rings of the bytes. A group whose GPUs reach each other through NVSwitches,
// or need PCIe between some pair, has no such cycle set and keeps one ring.
std::vector<std::vector<int>> CollectiveGroup::MeshRingOrders(const std::vector<int>& local) {
  const size_t n = local.size();
  if (n < 3 || n > 8) return {};
  // direct[i][j]: GPU of local[i] has its own NVLink to local[j]'s.
  std::vector<std::vector<bool>> direct(n, std::vector<bool>(n, false));
  for (size_t i = 0; i < n; ++i) {
    int peers = 0;
    for (size_t j = 0; j < n; ++j) {
      if (i == j) continue;
      const Route* r = router_.Find(gpu_node(local[i]), gpu_node(local[j]));
      if (r == nullptr || r->hop_count != 1 || r->hops.size() != 1) continue;
      if (topo_.link(r->hops[0].link).kind != LinkKind::kNvLink) continue;
      direct[i][j] = true;
      ++peers;
    }
    if (peers < 2) return {};
  }
  // Every directed Hamiltonian cycle from position 0 (as positions into `local`).
  std::vector<std::vector<size_t>> cycles;
  std::vector<size_t> path = {0};
  std::vector<bool> used(n, false);
  used[0] = true;
  const auto extend = [&](const auto& self) -> void {
    if (cycles.size() >= 5040) return;  // 7!: every directed cycle of 8 fully meshed GPUs
    const size_t last = path.back();
    if (path.size() == n) {
      if (direct[last][0]) cycles.push_back(path);
      return;
    }
    for (size_t j = 1; j < n; ++j) {
      if (used[j] || !direct[last][j]) continue;
      used[j] = true;
      path.push_back(j);
      self(self);
      path.pop_back();
      used[j] = false;
    }
  };
  extend(extend);
  if (cycles.size() < 2) return {};
  // Greedy: the cycle whose most-used link would be used least, then the lowest sum of squared counts, then the
  // first found (the natural order comes first).
  std::vector<std::vector<int>> count(n, std::vector<int>(n, 0));
  std::vector<bool> taken(cycles.size(), false);
  std::vector<std::vector<int>> orders;
  constexpr size_t kMaxRings = 12;
  while (orders.size() < kMaxRings) {
    size_t best = cycles.size();
    int best_max = std::numeric_limits<int>::max();
    long best_sq = std::numeric_limits<long>::max();
    for (size_t c = 0; c < cycles.size(); ++c) {
      if (taken[c]) continue;
      int mx = 0;
      long sq = 0;
      for (size_t i = 0; i < n; ++i) {
        const size_t a = cycles[c][i], b = cycles[c][(i + 1) % n];
        const int k = count[a][b] + 1;
        mx = std::max(mx, k);
        sq += 2L * k - 1;  // the increase of k^2
      }
      if (mx < best_max || (mx == best_max && sq < best_sq)) {
        best = c;
        best_max = mx;
        best_sq = sq;
      }
    }
    if (best == cycles.size()) break;
    taken[best] = true;
    std::vector<int> order;
    for (size_t i = 0; i < n; ++i) {
      const size_t a = cycles[best][i], b = cycles[best][(i + 1) % n];
      ++count[a][b];
      order.push_back(local[a]);
    }
    orders.push_back(std::move(order));
    // Balanced: every direct link carries the same number of rings.
    int lo = std::numeric_limits<int>::max(), hi = 0;
    for (size_t a = 0; a < n; ++a)
      for (size_t b = 0; b < n; ++b)
        if (direct[a][b]) {
          lo = std::min(lo, count[a][b]);
          hi = std::max(hi, count[a][b]);
        }
    if (lo == hi) break;
  }
  return orders;
}

Status CollectiveGroup::BuildRings() {
  const int n_nodes = nodes();
  const int rails = n_nodes == 1 ? 0 : [&] {
    size_t m = rails_[0].size();
    for (const auto& r : rails_) m = std::min(m, r.size());
    return static_cast<int>(m);
  }();
  const std::vector<std::vector<int>> mesh =
      n_nodes == 1 ? MeshRingOrders(node_ranks_[0]) : std::vector<std::vector<int>>{};
  const int groups = std::max({1, rails, static_cast<int>(mesh.size())});

  // Heads: the GPU of each node on each channel group's rail (the first GPU when none sits on it).
  heads_.assign(static_cast<size_t>(n_nodes), std::vector<int>(static_cast<size_t>(groups)));
  for (int k = 0; k < n_nodes; ++k) {
    const auto& local = node_ranks_[static_cast<size_t>(k)];
    for (int g = 0; g < groups; ++g) {
      int h = rails > 0 ? RankNearNic(k, RailNic(k, g)) : -1;
      if (h < 0) h = local[static_cast<size_t>(g) % local.size()];
      heads_[static_cast<size_t>(k)][static_cast<size_t>(g)] = h;
    }
  }

  std::vector<RingOrder> rings(static_cast<size_t>(groups));
  std::vector<std::vector<int>> exit_rails(static_cast<size_t>(groups), std::vector<int>(static_cast<size_t>(n_nodes)));
  std::vector<std::tuple<int, int, int>> wanted;
  for (int g = 0; g < groups; ++g) {
    RingOrder& ring = rings[static_cast<size_t>(g)];
    std::vector<int>& exit_rail = exit_rails[static_cast<size_t>(g)];
    for (int k = 0; k < n_nodes; ++k) {
      const auto& local = node_ranks_[static_cast<size_t>(k)];
      if (n_nodes == 1) {
        ring.order = mesh.empty() ? local : mesh[static_cast<size_t>(g)];
        break;
      }
      // Node k leaves on rail (g + k) and is entered on the rail the node before it (cyclically) left on, so every
      // inter-node edge stays on one rail and every rail carries one channel group out of and into each node.
      const int out_rail = (g + k) % groups;
      const int in_rail = (g + (k + n_nodes - 1) % n_nodes) % groups;
      exit_rail[static_cast<size_t>(k)] = out_rail;
      const int entry = heads_[static_cast<size_t>(k)][static_cast<size_t>(in_rail)];
      int exit = heads_[static_cast<size_t>(k)][static_cast<size_t>(out_rail)];
      const size_t at = static_cast<size_t>(std::find(local.begin(), local.end(), entry) - local.begin());
      if (exit == entry && local.size() > 1) exit = local[(at + local.size() - 1) % local.size()];
      ring.order.push_back(entry);
      for (size_t i = 1; i < local.size(); ++i) {
        const int r = local[(at + i) % local.size()];
        if (r != exit) ring.order.push_back(r);
      }
      if (exit != entry) ring.order.push_back(exit);
    }
    const size_t n = ring.order.size();
    for (size_t i = 0; i < n; ++i) {
      const int a = ring.order[i], b = ring.order[(i + 1) % n];
      const bool inter = node_of_rank(a) != node_of_rank(b);
      wanted.emplace_back(a, b, inter ? exit_rail[static_cast<size_t>(node_of_rank(a))] : 0);
    }
  }
  PrefetchEdges(wanted);
  for (int g = 0; g < groups; ++g) {
    RingOrder& ring = rings[static_cast<size_t>(g)];
    const std::vector<int>& exit_rail = exit_rails[static_cast<size_t>(g)];
    const size_t n = ring.order.size();
    for (size_t i = 0; i < n; ++i) {
      const int a = ring.order[i];
      const int b = ring.order[(i + 1) % n];
      const bool inter = node_of_rank(a) != node_of_rank(b);
      const Route* route = nullptr;
      const int rail = inter ? exit_rail[static_cast<size_t>(node_of_rank(a))] : 0;
      if (a != b) {
        route = EdgeRoute(a, b, rail);
        if (route == nullptr) {
          return InvalidArgument("GPU " + std::to_string(gpus_[static_cast<size_t>(a)]) + " cannot reach GPU " +
                                 std::to_string(gpus_[static_cast<size_t>(b)]));
        }
        if (!inter && router_.Classify(*route).cls != PathClass::kNvLink) nvlink_intra_ = false;
        if (inter) {
          const NodeId nic = RailNic(node_of_rank(a), rail);
          if (nic != kNoNode) {
            const Route* to_nic = router_.Find(gpu_node(a), nic);
            const PathClass c = to_nic ? router_.Classify(*to_nic).cls : PathClass::kSys;
            if (c != PathClass::kPix && c != PathClass::kPxb) {
              nic_close_ = false;
              if (PxnProxy(a, nic) == kNoNode) nic_within_pxn_ = false;
            }
          }
        }
      }
      ring.edges.push_back(route);
      ring.inter_node.push_back(inter);
      ring.rails.push_back(rail);
    }
  }
  rings_ = std::move(rings);
  return Status::Ok();
}

}  // namespace wiresim
