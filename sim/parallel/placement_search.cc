#include "sim/parallel/placement_search.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <unordered_map>

#include "sim/core/check.h"
#include "sim/core/dtype.h"
#include "sim/parallel/expert_routing.h"
#include "sim/parallel/shard.h"
#include "sim/topology/routing.h"

namespace wiresim {
namespace {

// Groups larger than this are costed over a ring of their members (consecutive GPU indices), not every pair.
constexpr size_t kAllPairsUpTo = 32;
// The local search's bounds: passes over all swaps, and swap evaluations in all. A route across hosts is a search of
// the whole cluster, so a swap between two hosts is tried only when the routes it needs are known already, and with
// more GPUs than kSwapAcrossHostsUpTo, so is a swap inside one host.
constexpr int kMaxPasses = 3;
constexpr int64_t kMaxSwapEvaluations = 20000;
constexpr size_t kSwapAcrossHostsUpTo = 128;

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Route bandwidth and latency of GPU pairs, computed on first use (the route from the lower GPU index). A route
// across hosts costs a search of the two hosts and the fabric (Router::Find skips the other servers); with few
// candidate GPUs a miss computes the lower GPU's routes to every candidate of the same kind (inside its host, or
// outside it) from one search of the whole cluster; with many, only the pair.
class PairCosts {
 public:
  struct Cost {
    double bandwidth_GBps = 0;  // 0: unreachable
    double latency_s = 0;
    bool direct_nvlink = false;  // one NVLink connection between the two GPUs, nothing in between
  };
  PairCosts(const Topology& topo, const std::vector<int>& candidates) : topo_(topo), router_(topo) {
    if (candidates.size() <= kWholeRowsUpTo) {
      for (int g : candidates) row_targets_.push_back(topo.gpu(g));
    }
  }

  const Cost& Of(int a, int b) {
    if (a > b) std::swap(a, b);
    auto it = cache_.find(Key(a, b));
    if (it != cache_.end()) return it->second;
    // A row is the routes to the candidates in a's host (one search of the host), or to all the others (one search
    // of the cluster), whichever the missing pair is in.
    const bool inside = topo_.SameHost(topo_.gpu(a), topo_.gpu(b));
    if (!row_targets_.empty() && (inside ? host_rows_ : network_rows_).insert(a).second) {
      std::vector<NodeId> targets;
      for (NodeId t : row_targets_) {
        if (topo_.SameHost(topo_.gpu(a), t) == inside) targets.push_back(t);
      }
      if (inside) {
        // Router::Find searches a's host once for all of them (ForEachRouteFrom would also search the cluster).
        for (NodeId t : targets) {
          const int d = topo_.node(t).gpu_index;
          if (d > a) cache_.emplace(Key(a, d), CostOf(router_.Find(topo_.gpu(a), t)));
        }
      } else {
        router_.ForEachRouteFrom(topo_.gpu(a), targets, [&](NodeId dst, const Route* r) {
          const int d = topo_.node(dst).gpu_index;
          if (d > a) cache_.emplace(Key(a, d), CostOf(r));
        });
      }
      it = cache_.find(Key(a, b));
      if (it != cache_.end()) return it->second;
    }
    return cache_.emplace(Key(a, b), CostOf(router_.Find(topo_.gpu(a), topo_.gpu(b)))).first->second;
  }

  // Whether Of(a, b) is free: known already, or a route inside one host (a search of that host only).
  bool Cheap(int a, int b) const {
    if (a > b) std::swap(a, b);
    return topo_.SameHost(topo_.gpu(a), topo_.gpu(b)) || cache_.count(Key(a, b)) > 0;
  }

  // "NV18", "PIX", "NET", ... for the route between two GPUs.
  std::string ClassOf(int a, int b) {
    if (a > b) std::swap(a, b);
    const Route* r = router_.Find(topo_.gpu(a), topo_.gpu(b));
    return r == nullptr ? "unreachable" : router_.Classify(*r).ToString();
  }

 private:
  static constexpr size_t kWholeRowsUpTo = 128;
  static uint64_t Key(int a, int b) { return (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b); }
  Cost CostOf(const Route* r) const {
    Cost c;
    if (r != nullptr) {
      c.bandwidth_GBps = r->bandwidth_GBps;
      c.latency_s = r->latency.ToSeconds();
      c.direct_nvlink =
          r->hop_count == 1 && r->hops.size() == 1 && topo_.link(r->hops[0].link).kind == LinkKind::kNvLink;
    }
    return c;
  }

  const Topology& topo_;
  Router router_;
  std::vector<NodeId> row_targets_;
  std::set<int> host_rows_, network_rows_;
  std::unordered_map<uint64_t, Cost> cache_;  // looked up only, never iterated
};

// The route figures that bound a group: its slowest pair (lowest bandwidth, then highest latency) and its highest
// latency; and the rate at which each GPU of the group sends: the slowest pair's, or, where every pair of a group of
// three or more has its own NVLink connection (an NVLink mesh, no switch), n - 1 times it, since NCCL's rings then
// take orders that put every link to use (docs/collectives.md, section 2) and an all-to-all sends to every peer at
// once.
struct GroupRoute {
  double bandwidth_GBps = std::numeric_limits<double>::infinity();
  double latency_s = 0;
  int slow_a = -1, slow_b = -1;  // the slowest pair
  bool reachable = true;
  bool mesh = true;  // every pair visited is a direct NVLink connection
  double rate_GBps = 0;
};

void Visit(PairCosts& costs, int a, int b, GroupRoute* g) {
  const PairCosts::Cost& c = costs.Of(a, b);
  if (c.bandwidth_GBps <= 0) g->reachable = false;
  g->mesh = g->mesh && c.direct_nvlink;
  g->latency_s = std::max(g->latency_s, c.latency_s);
  if (g->slow_a < 0 || c.bandwidth_GBps < g->bandwidth_GBps) {
    g->bandwidth_GBps = c.bandwidth_GBps;
    g->slow_a = std::min(a, b);
    g->slow_b = std::max(a, b);
  }
}

// The pairs a group is costed over: every pair, or for a large group the ring of its members in GPU-index order.
// Sorted, so that consecutive pairs share their lower GPU (one search serves them).
template <typename Fn>
void ForEachPair(std::vector<int> gpus, Fn&& fn) {
  std::sort(gpus.begin(), gpus.end());
  if (gpus.size() <= kAllPairsUpTo) {
    for (size_t i = 0; i < gpus.size(); ++i) {
      for (size_t j = i + 1; j < gpus.size(); ++j) fn(gpus[i], gpus[j]);
    }
    return;
  }
  for (size_t i = 0; i + 1 < gpus.size(); ++i) fn(gpus[i], gpus[i + 1]);
  fn(gpus.front(), gpus.back());
}

GroupRoute RouteOf(PairCosts& costs, const std::vector<int>& gpus) {
  GroupRoute g;
  ForEachPair(gpus, [&](int a, int b) { Visit(costs, a, b, &g); });
  g.mesh = g.mesh && gpus.size() >= 3 && gpus.size() <= kAllPairsUpTo;
  g.rate_GBps = g.bandwidth_GBps * (g.mesh ? static_cast<double>(gpus.size() - 1) : 1.0);
  return g;
}

enum class Kind { kTp, kCp, kEp, kPp };
constexpr int kKinds = 4;

// One thing that communicates: a TP, CP or EP group, or the pair of ranks of one PP send.
struct Item {
  Kind kind = Kind::kTp;
  int stage = 0;           // PP: the boundary stage -> stage + 1
  std::vector<int> ranks;  // in rank order
};

// The items of a plan (they depend on the ranks only) and the cost of each under a placement.
class Scorer {
 public:
  Scorer(const Topology& topo, const ModelSpec& model, const ParallelPlan& plan, int64_t tokens,
         const std::vector<int>& candidates, StepGraphOptions::EpExchange ep_exchange)
      : topo_(topo), plan_(plan), demand_(DemandOf(model, plan, tokens, ep_exchange)), costs_(topo, candidates) {
    const std::vector<StageLayers> stages = SplitLayers(model.num_layers, plan.pp);
    for (const StageLayers& s : stages) {
      int64_t moe = 0;
      for (int64_t l = s.first; l < s.end; ++l) moe += model.IsMoeLayer(l) ? 1 : 0;
      layers_ = std::max(layers_, s.count());
      moe_layers_ = std::max(moe_layers_, moe);
    }
    if (plan.ep == 1 || !model.IsMoe()) moe_layers_ = 0;
    Placement identity;
    for (int r = 0; r < plan.WorldSize(); ++r) identity.gpu_of_rank.push_back(r);
    const ParallelGroups groups = BuildGroups(plan, identity);
    const auto add = [&](ParallelDim dim, Kind kind) {
      for (const std::vector<int>& ranks : groups.groups[static_cast<size_t>(dim)]) {
        if (ranks.size() < 2) continue;
        items_.push_back({kind, CoordOf(plan, ranks.front()).pp, ranks});
      }
    };
    add(ParallelDim::kTp, Kind::kTp);
    add(ParallelDim::kCp, Kind::kCp);
    // vLLM's gather with TP inside each DP rank exchanges over the DP groups (every TP rank holds its DP rank's
    // tokens).
    if (plan.ep > 1) add(GathersOverDpGroup(plan, ep_exchange) ? ParallelDim::kDp : ParallelDim::kEp, Kind::kEp);
    for (const std::vector<int>& pp : groups.groups[static_cast<size_t>(ParallelDim::kPp)]) {
      for (size_t s = 0; s + 1 < pp.size(); ++s) items_.push_back({Kind::kPp, static_cast<int>(s), {pp[s], pp[s + 1]}});
    }
    items_of_rank_.resize(static_cast<size_t>(plan.WorldSize()));
    for (size_t i = 0; i < items_.size(); ++i) {
      for (int r : items_[i].ranks) items_of_rank_[static_cast<size_t>(r)].push_back(static_cast<int>(i));
    }
  }

  // The lexicographic score compared by the search: unreachable items, then the iteration's estimate, then the sum of
  // every item's time (so improving a group that is not the slowest still counts).
  struct Total {
    int unreachable = 0;
    double cost_s = 0;
    double sum_s = 0;
    bool Better(const Total& o) const {
      if (unreachable != o.unreachable) return unreachable < o.unreachable;
      constexpr double kRel = 1e-9;
      if (cost_s < o.cost_s * (1 - kRel)) return true;
      if (cost_s > o.cost_s * (1 + kRel)) return false;
      return sum_s < o.sum_s * (1 - kRel);
    }
  };

  // Costs every item under `gpu_of_rank`. With `bound`, stops (returning false) as soon as the items costed so far
  // already make the placement worse than `bound`: the estimate only grows as items are added.
  bool Reset(const std::vector<int>& gpu_of_rank, const Total* bound = nullptr) {
    gpu_of_rank_ = gpu_of_rank;
    time_.assign(items_.size(), 0);
    reachable_.assign(items_.size(), 1);
    std::vector<double> slowest(static_cast<size_t>(plan_.pp * kKinds), 0.0);
    Total partial;
    for (size_t i = 0; i < items_.size(); ++i) {
      Recost(i);
      if (bound == nullptr) continue;
      if (!reachable_[i]) {
        ++partial.unreachable;
      } else {
        double& s = slowest[static_cast<size_t>(items_[i].stage * kKinds + static_cast<int>(items_[i].kind))];
        if (time_[i] > s) {
          partial.cost_s += time_[i] - s;
          s = time_[i];
        }
      }
      if (partial.unreachable > bound->unreachable ||
          (partial.unreachable == bound->unreachable && partial.cost_s > bound->cost_s * (1 + 1e-9))) {
        return false;
      }
    }
    return true;
  }

  // Whether moving rank r to `gpu` (and `other` to r's GPU) needs no route search across hosts.
  bool CheapMove(int r, int gpu, int other) {
    std::vector<int> next = gpu_of_rank_;
    next[static_cast<size_t>(r)] = gpu;
    if (other >= 0) next[static_cast<size_t>(other)] = gpu_of_rank_[static_cast<size_t>(r)];
    for (int moved : {r, other}) {
      if (moved < 0) continue;
      for (int i : items_of_rank_[static_cast<size_t>(moved)]) {
        std::vector<int> gpus;
        for (int k : items_[static_cast<size_t>(i)].ranks) gpus.push_back(next[static_cast<size_t>(k)]);
        bool cheap = true;
        ForEachPair(gpus, [&](int a, int b) { cheap = cheap && costs_.Cheap(a, b); });
        if (!cheap) return false;
      }
    }
    return true;
  }
  const std::vector<int>& gpu_of_rank() const { return gpu_of_rank_; }

  // Moves rank `r` to GPU `gpu` (rank `other` to r's GPU as well when other >= 0) and recosts the items they are in.
  void Move(int r, int gpu, int other) {
    const int old = gpu_of_rank_[static_cast<size_t>(r)];
    gpu_of_rank_[static_cast<size_t>(r)] = gpu;
    if (other >= 0) gpu_of_rank_[static_cast<size_t>(other)] = old;
    for (int i : items_of_rank_[static_cast<size_t>(r)]) Recost(static_cast<size_t>(i));
    if (other >= 0) {
      for (int i : items_of_rank_[static_cast<size_t>(other)]) Recost(static_cast<size_t>(i));
    }
  }

  Total Sum() const {
    Total t;
    // Per stage and kind, the slowest item; stages add up (a batch passes through each).
    std::vector<double> slowest(static_cast<size_t>(plan_.pp * kKinds), 0.0);
    for (size_t i = 0; i < items_.size(); ++i) {
      if (!reachable_[i]) {
        ++t.unreachable;
        continue;
      }
      double& s = slowest[static_cast<size_t>(items_[i].stage * kKinds + static_cast<int>(items_[i].kind))];
      s = std::max(s, time_[i]);
      t.sum_s += time_[i];
    }
    for (double s : slowest) t.cost_s += s;
    return t;
  }

  std::vector<std::string> Explain();
  PairCosts& costs() { return costs_; }

 private:
  std::vector<int> GpusOf(const Item& item) const {
    std::vector<int> gpus;
    for (int r : item.ranks) gpus.push_back(gpu_of_rank_[static_cast<size_t>(r)]);
    return gpus;
  }

  // The time of one item over its slowest route (docs/placement.md): a ring all-reduce for TP (2(n-1)/n of the
  // bytes, 2(n-1) latencies per collective), a gather of the others' KV for CP ((n-1)/n, n-1 latencies per layer), an
  // all-to-all for EP ((n-1)/n, one latency per collective), one send per PP boundary.
  void Recost(size_t i) {
    const Item& item = items_[i];
    const GroupRoute g = RouteOf(costs_, GpusOf(item));
    reachable_[i] = g.reachable ? 1 : 0;
    if (!g.reachable) {
      time_[i] = 0;
      return;
    }
    const double n = static_cast<double>(item.ranks.size());
    const double bytes_per_s = g.rate_GBps * 1e9;
    const double layers = static_cast<double>(layers_);
    double t = 0;
    switch (item.kind) {
      case Kind::kTp:
        t = 2 * (n - 1) / n * demand_.tp / bytes_per_s + 2 * layers * 2 * (n - 1) * g.latency_s;
        break;
      case Kind::kCp:
        t = (n - 1) / n * demand_.cp / bytes_per_s + layers * (n - 1) * g.latency_s;
        break;
      case Kind::kEp:
        t = (n - 1) / n * demand_.ep / bytes_per_s + 2 * static_cast<double>(moe_layers_) * g.latency_s;
        break;
      case Kind::kPp:
        t = demand_.pp / bytes_per_s + g.latency_s;
        break;
    }
    time_[i] = t;
  }

  const Topology& topo_;
  const ParallelPlan plan_;
  const CommDemand demand_;
  int64_t layers_ = 0;
  int64_t moe_layers_ = 0;
  PairCosts costs_;
  std::vector<Item> items_;
  std::vector<std::vector<int>> items_of_rank_;
  std::vector<int> gpu_of_rank_;
  std::vector<double> time_;
  std::vector<char> reachable_;
};

std::string Significant(double v, int digits = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::string Bytes(double b) {
  if (b >= 1e9) return Significant(b / 1e9) + " GB";
  if (b >= 1e6) return Significant(b / 1e6) + " MB";
  if (b >= 1e3) return Significant(b / 1e3) + " kB";
  return Significant(b) + " B";
}

std::string Bandwidth(double gbps) { return Significant(gbps, 4) + " GB/s"; }

std::string Seconds(double s) {
  if (s >= 1) return Significant(s) + " s";
  if (s >= 1e-3) return Significant(s * 1e3) + " ms";
  return Significant(s * 1e6) + " us";
}

std::string HostOf(const Topology& topo, int gpu) {
  const NodeSpec& n = topo.node(topo.gpu(gpu)).spec;
  return n.host.empty() ? n.name : n.host;
}

std::vector<std::string> Scorer::Explain() {
  std::vector<std::string> lines;
  const char* names[kKinds] = {"TP", "CP", "EP", "PP"};
  const double bytes[kKinds] = {demand_.tp, demand_.cp, demand_.ep, demand_.pp};
  for (Kind kind : {Kind::kTp, Kind::kCp, Kind::kEp}) {
    int count = 0, in_domain = 0, in_host = 0, unreachable = 0;
    size_t size = 0;
    std::set<std::string> hosts_crossed;
    GroupRoute slowest;
    double slowest_time = 0;
    for (size_t i = 0; i < items_.size(); ++i) {
      if (items_[i].kind != kind) continue;
      ++count;
      const std::vector<int> gpus = GpusOf(items_[i]);
      size = gpus.size();
      bool domain = true, host = true;
      for (int g : gpus) {
        domain = domain && topo_.SameNvlinkDomain(topo_.gpu(gpus.front()), topo_.gpu(g));
        host = host && topo_.SameHost(topo_.gpu(gpus.front()), topo_.gpu(g));
      }
      in_domain += domain ? 1 : 0;
      in_host += !domain && host ? 1 : 0;
      const GroupRoute g = RouteOf(costs_, gpus);
      if (!g.reachable) ++unreachable;
      if (slowest.slow_a < 0 || g.rate_GBps < slowest.rate_GBps) slowest = g;
      slowest_time = std::max(slowest_time, time_[i]);
    }
    if (count == 0) continue;
    const int across = count - in_domain - in_host;
    std::string where;
    const auto part = [&](int n, const std::string& what) {
      if (n == 0) return;
      if (!where.empty()) where += ", ";
      where += (n == count ? std::string("all") : std::to_string(n)) + " " + what;
    };
    part(in_domain, "inside one NVLink domain");
    part(in_host, "inside one host over PCIe or the CPU");
    part(across, "across hosts");
    std::string line = std::string(names[static_cast<int>(kind)]) + " groups (" + std::to_string(count) + " of " +
                       std::to_string(size) + " GPUs): " + where + "; slowest pair GPU " +
                       std::to_string(slowest.slow_a) + "-" + std::to_string(slowest.slow_b) + " " +
                       costs_.ClassOf(slowest.slow_a, slowest.slow_b);
    if (unreachable > 0) {
      line += ", " + std::to_string(unreachable) + " group(s) with GPUs that cannot reach each other";
    } else {
      line += " (" + Bandwidth(slowest.bandwidth_GBps) +
              (slowest.mesh ? "; an NVLink mesh, " + Bandwidth(slowest.rate_GBps) + " per GPU" : "") + ")";
    }
    line += "; " + Bytes(bytes[static_cast<int>(kind)]) + " per step each, slowest group " + Seconds(slowest_time);
    lines.push_back(line);
  }
  for (int s = 0; s + 1 < plan_.pp; ++s) {
    int sends = 0;
    std::set<std::pair<std::string, std::string>> host_pairs;
    GroupRoute slowest;
    for (size_t i = 0; i < items_.size(); ++i) {
      if (items_[i].kind != Kind::kPp || items_[i].stage != s) continue;
      ++sends;
      const std::vector<int> gpus = GpusOf(items_[i]);
      host_pairs.insert({HostOf(topo_, gpus[0]), HostOf(topo_, gpus[1])});
      const GroupRoute g = RouteOf(costs_, gpus);
      if (slowest.slow_a < 0 || !g.reachable || g.bandwidth_GBps < slowest.bandwidth_GBps) slowest = g;
    }
    std::string hosts = host_pairs.size() == 1 ? host_pairs.begin()->first + " -> " + host_pairs.begin()->second
                                               : std::to_string(host_pairs.size()) + " host pairs";
    lines.push_back("PP boundary " + std::to_string(s) + "->" + std::to_string(s + 1) + " (" + std::to_string(sends) +
                    " sends): " + hosts + ", slowest GPU " + std::to_string(slowest.slow_a) + "-" +
                    std::to_string(slowest.slow_b) + " " + costs_.ClassOf(slowest.slow_a, slowest.slow_b) +
                    (slowest.reachable ? " (" + Bandwidth(slowest.bandwidth_GBps) + ")" : "") + "; " +
                    Bytes(bytes[static_cast<int>(Kind::kPp)]) + " per step each");
  }
  return lines;
}

// The candidate GPUs ordered NVLink domain by domain (domains with more candidates first, then by lowest GPU index),
// by GPU index inside each.
std::vector<int> DomainOrder(const Topology& topo, std::span<const int> gpus) {
  std::map<int, std::vector<int>> by_domain;
  for (int g : gpus) by_domain[topo.node(topo.gpu(g)).nvlink_domain].push_back(g);
  std::vector<std::vector<int>> domains;
  for (auto& [id, members] : by_domain) {
    std::sort(members.begin(), members.end());
    domains.push_back(std::move(members));
  }
  std::stable_sort(domains.begin(), domains.end(), [](const std::vector<int>& a, const std::vector<int>& b) {
    return a.size() != b.size() ? a.size() > b.size() : a.front() < b.front();
  });
  std::vector<int> order;
  for (const std::vector<int>& d : domains) order.insert(order.end(), d.begin(), d.end());
  return order;
}

// Grows each TP x CP block (in rank order: stage by stage, DP rank by DP rank) from the first free GPU in domain
// order, adding the free GPU with the widest slowest route to the members so far (then the lowest latency, then the
// earliest in domain order). Candidates are the free GPUs of the seed's NVLink domain and host; when those run out,
// the next 64 free GPUs in domain order.
std::vector<int> GrowBlocks(const Topology& topo, const ParallelPlan& plan, const std::vector<int>& order,
                            PairCosts& costs) {
  const int block = plan.tp * plan.cp;
  std::vector<char> used(order.size(), 0);
  std::vector<int> gpu_of_rank;
  size_t first_free = 0;
  for (int b = 0; b < plan.dp * plan.pp; ++b) {
    while (used[first_free]) ++first_free;
    used[first_free] = 1;
    std::vector<int> members = {order[first_free]};
    const NodeId seed = topo.gpu(order[first_free]);
    while (static_cast<int>(members.size()) < block) {
      std::vector<size_t> near;
      for (size_t i = first_free; i < order.size(); ++i) {
        if (used[i]) continue;
        const NodeId n = topo.gpu(order[i]);
        if (topo.SameNvlinkDomain(seed, n) || topo.SameHost(seed, n)) near.push_back(i);
      }
      if (near.empty()) {
        for (size_t i = first_free; i < order.size() && near.size() < 64; ++i) {
          if (!used[i]) near.push_back(i);
        }
      }
      size_t best = SIZE_MAX;
      double best_bw = -1, best_latency = 0;
      for (size_t i : near) {
        double bw = std::numeric_limits<double>::infinity(), latency = 0;
        for (int m : members) {
          const PairCosts::Cost& c = costs.Of(m, order[i]);
          bw = std::min(bw, c.bandwidth_GBps);
          latency = std::max(latency, c.latency_s);
        }
        if (best == SIZE_MAX || bw > best_bw || (bw == best_bw && latency < best_latency)) {
          best = i;
          best_bw = bw;
          best_latency = latency;
        }
      }
      used[best] = 1;
      members.push_back(order[best]);
    }
    gpu_of_rank.insert(gpu_of_rank.end(), members.begin(), members.end());
  }
  return gpu_of_rank;
}

// First-improvement pairwise swaps: of two ranks' GPUs, or of a rank's GPU with an unused one.
void LocalSearch(const Topology& topo, Scorer& scorer, std::vector<int> unused) {
  const int world = static_cast<int>(scorer.gpu_of_rank().size());
  const size_t slots = static_cast<size_t>(world) + unused.size();
  Scorer::Total best = scorer.Sum();
  int64_t evaluations = 0;
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    bool improved = false;
    for (int r = 0; r < world && evaluations < kMaxSwapEvaluations; ++r) {
      for (size_t j = static_cast<size_t>(r) + 1; j < slots && evaluations < kMaxSwapEvaluations; ++j) {
        const int mine = scorer.gpu_of_rank()[static_cast<size_t>(r)];
        const bool is_rank = j < static_cast<size_t>(world);
        const int theirs = is_rank ? scorer.gpu_of_rank()[j] : unused[j - static_cast<size_t>(world)];
        const int other = is_rank ? static_cast<int>(j) : -1;
        const bool same_host = topo.SameHost(topo.gpu(mine), topo.gpu(theirs));
        if (slots > kSwapAcrossHostsUpTo ? !same_host || !scorer.CheapMove(r, theirs, other)
                                         : !same_host && !scorer.CheapMove(r, theirs, other)) {
          continue;
        }
        ++evaluations;
        scorer.Move(r, theirs, other);
        const Scorer::Total t = scorer.Sum();
        if (t.Better(best)) {
          best = t;
          improved = true;
          if (!is_rank) unused[j - static_cast<size_t>(world)] = mine;
        } else {
          scorer.Move(r, mine, other);
        }
      }
    }
    if (!improved) break;
  }
}

}  // namespace

Status CheckPlacementGpus(const Topology& topo, const ParallelPlan& plan, std::span<const int> gpus) {
  std::set<int> seen;
  for (int g : gpus) {
    if (g < 0 || g >= topo.gpu_count()) {
      return InvalidArgument("placement auto: GPU " + std::to_string(g) + " does not exist (" + topo.name() +
                             " has GPUs 0-" + std::to_string(topo.gpu_count() - 1) + ")");
    }
    if (!seen.insert(g).second) return InvalidArgument("placement auto: GPU " + std::to_string(g) + " given twice");
  }
  if (static_cast<int>(gpus.size()) < plan.WorldSize()) {
    return InvalidArgument("placement auto: plan " + plan.ToString() + " needs " + std::to_string(plan.WorldSize()) +
                           " GPUs, " + std::to_string(gpus.size()) + " given");
  }
  return Status::Ok();
}

CommDemand DemandOf(const ModelSpec& model, const ParallelPlan& plan, int64_t tokens,
                    StepGraphOptions::EpExchange ep_exchange) {
  CommDemand d;
  const double a = BytesPerElement(model.activation_dtype);
  const double h = static_cast<double>(model.hidden_size);
  const int64_t per_rank = CeilDiv(tokens, plan.cp);
  const double t = static_cast<double>(per_rank);
  int64_t layers = 0, moe = 0;
  for (const StageLayers& s : SplitLayers(model.num_layers, plan.pp)) {
    int64_t m = 0;
    for (int64_t l = s.first; l < s.end; ++l) m += model.IsMoeLayer(l) ? 1 : 0;
    layers = std::max(layers, s.count());
    moe = std::max(moe, m);
  }
  const double L = static_cast<double>(layers);
  if (plan.tp > 1) d.tp = 2 * L * t * h * a;
  if (plan.cp > 1) d.cp = L * static_cast<double>(tokens) * LocalShapesOf(model, plan).kv_bytes_per_token_layer;
  if (plan.ep > 1 && model.IsMoe() && ep_exchange == StepGraphOptions::EpExchange::kAllGather) {
    // n ranks' D tokens each, gathered and reduce-scattered back.
    const bool over_dp = GathersOverDpGroup(plan, ep_exchange);
    const double n = over_dp ? plan.dp : plan.ep;
    const double rows = static_cast<double>(over_dp ? per_rank : CeilDiv(per_rank, plan.tp));
    d.ep = 2 * static_cast<double>(moe) * n * rows * h * a;
  } else if (plan.ep > 1 && model.IsMoe()) {
    // The scored step prefills: a token goes once to each rank holding one of its experts (the step graph's
    // all-to-all then, EpTraffic::MatrixOf), the sum over ranks of the chance a rank is hit under uniform
    // (and, for DeepSeek, group-limited) routing; a copy per expert where ep does not split the experts evenly (a
    // plan ValidatePlan refuses, scored all the same).
    const int experts = static_cast<int>(model.moe.num_experts), k = static_cast<int>(model.moe.experts_per_token);
    double rows_per_token = static_cast<double>(k);
    if (experts % plan.ep == 0 && k <= experts) {
      const std::vector<double> hits = DestinationHits({}, experts, k, plan.ep, 1.0, ExpertGroupsOf(model));
      rows_per_token = std::accumulate(hits.begin(), hits.end(), 0.0);
    }
    d.ep = 2 * static_cast<double>(moe) * static_cast<double>(CeilDiv(per_rank, plan.tp)) * rows_per_token * h * a;
  }
  if (plan.pp > 1) {
    const double residual = plan.sequence_parallel ? static_cast<double>(CeilDiv(per_rank, plan.tp)) : t;
    d.pp = 2 * residual * h * a;
  }
  return d;
}

PlacementScore ScorePlacement(const Topology& topo, const ModelSpec& model, const ParallelPlan& plan,
                              const Placement& placement, int64_t tokens, StepGraphOptions::EpExchange ep_exchange) {
  WIRESIM_CHECK_EQ(static_cast<int>(placement.gpu_of_rank.size()), plan.WorldSize());
  Scorer scorer(topo, model, plan, tokens, placement.gpu_of_rank, ep_exchange);
  scorer.Reset(placement.gpu_of_rank);
  const Scorer::Total t = scorer.Sum();
  PlacementScore out;
  out.cost_seconds = t.unreachable > 0 ? std::numeric_limits<double>::infinity() : t.cost_s;
  out.lines = scorer.Explain();
  return out;
}

Result<Placement> AutoPlacement(const Topology& topo, const ModelSpec& model, const ParallelPlan& plan,
                                std::span<const int> gpus, PlacementScore* score,
                                StepGraphOptions::EpExchange ep_exchange) {
  WIRESIM_RETURN_IF_ERROR(CheckPlacementGpus(topo, plan, gpus));
  const size_t world = static_cast<size_t>(plan.WorldSize());
  // A GPU with no links (failed, degrade.h) is left out while enough others remain.
  std::vector<int> linked;
  for (int g : gpus) {
    if (!topo.out_links(topo.gpu(g)).empty()) linked.push_back(g);
  }
  if (linked.size() >= world && linked.size() < gpus.size()) gpus = linked;
  // Starting points: the grown blocks, packed and strided over the caller's order; the best one is searched from.
  Scorer scorer(topo, model, plan, kPlacementScoreTokens, std::vector<int>(gpus.begin(), gpus.end()), ep_exchange);
  std::vector<std::vector<int>> starts;
  starts.push_back(GrowBlocks(topo, plan, DomainOrder(topo, gpus), scorer.costs()));
  WIRESIM_ASSIGN_OR_RETURN(Placement packed, PackedPlacement().Place(plan, gpus));
  WIRESIM_ASSIGN_OR_RETURN(Placement strided, StridedPlacement().Place(plan, gpus));
  starts.push_back(packed.gpu_of_rank);
  starts.push_back(strided.gpu_of_rank);
  size_t best = 0;
  Scorer::Total best_total;
  for (size_t i = 0; i < starts.size(); ++i) {
    if (!scorer.Reset(starts[i], i == 0 ? nullptr : &best_total)) continue;
    const Scorer::Total t = scorer.Sum();
    if (i == 0 || t.Better(best_total)) {
      best = i;
      best_total = t;
    }
  }
  scorer.Reset(starts[best]);
  std::vector<int> unused;
  {
    const std::set<int> taken(starts[best].begin(), starts[best].end());
    for (int g : gpus) {
      if (!taken.count(g)) unused.push_back(g);
    }
  }
  if (world > 1) LocalSearch(topo, scorer, std::move(unused));
  Placement out;
  out.gpu_of_rank = scorer.gpu_of_rank();
  if (score != nullptr) {
    const Scorer::Total t = scorer.Sum();
    score->cost_seconds = t.unreachable > 0 ? std::numeric_limits<double>::infinity() : t.cost_s;
    score->lines = scorer.Explain();
  }
  return out;
}

}  // namespace wiresim
