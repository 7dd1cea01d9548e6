#include "sim/parallel/spread_placement.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <vector>

namespace wiresim {

namespace {

// A GPU's failure domain: its host, or (outside every host) the GPU itself, numbered below -1.
int DomainOf(const Topology& topo, int gpu) {
  const int h = topo.node(topo.gpu(gpu)).host_index;
  return h >= 0 ? h : -2 - gpu;
}

// A replica's plan: the same degrees with one DP rank (REQUIRES: no expert parallelism across the DP ranks).
ParallelPlan OneReplica(ParallelPlan p) {
  p.dp = 1;
  return p;
}

}  // namespace

std::string ReplicaHostsLine(const Topology& topo, const ParallelPlan& plan, const Placement& placement) {
  if (plan.dp <= 1) return "";
  std::vector<std::set<int>> hosts(static_cast<size_t>(plan.dp));
  for (int r = 0; r < plan.WorldSize(); ++r) {
    hosts[static_cast<size_t>(CoordOf(plan, r).dp)].insert(DomainOf(topo, placement.GpuOf(r)));
  }
  std::map<int, int> replicas_on;  // host -> replicas touching it
  std::ostringstream s;
  s << "DP replicas (" << plan.dp << " of " << plan.WorldSize() / plan.dp << " GPUs): hosts ";
  for (size_t d = 0; d < hosts.size(); ++d) {
    s << (d ? " | " : "");
    bool first = true;
    for (int h : hosts[d]) {
      s << (first ? "" : "+") << (h >= 0 ? topo.hosts()[static_cast<size_t>(h)].name : "GPU " + std::to_string(-2 - h));
      first = false;
      ++replicas_on[h];
    }
  }
  int worst = 0;
  for (const auto& [h, n] : replicas_on) worst = std::max(worst, n);
  s << "; losing one host loses at most " << worst << " of " << plan.dp << " replicas";
  return s.str();
}

Result<Placement> SpreadPlacement(const Topology& topo, const ModelSpec& model, const ParallelPlan& plan,
                                  std::span<const int> gpus, PlacementScore* score,
                                  StepGraphOptions::EpExchange ep_exchange) {
  WIRESIM_RETURN_IF_ERROR(CheckPlacementGpus(topo, plan, gpus));
  const bool coupled = plan.ep > 1 && plan.dp > 1;  // EP spans the DP ranks: they step together (serving_setup.cc)
  if (plan.dp <= 1 || coupled) {
    WIRESIM_ASSIGN_OR_RETURN(Placement p, AutoPlacement(topo, model, plan, gpus, score, ep_exchange));
    if (score != nullptr && coupled) {
      score->lines.push_back(ReplicaHostsLine(topo, plan, p) +
                             " (the DP ranks exchange tokens through expert parallelism: they fail together)");
    }
    return p;
  }
  const ParallelPlan one = OneReplica(plan);
  const size_t size = static_cast<size_t>(one.WorldSize());
  // Free GPUs per failure domain (room), in the caller's order.
  std::map<int, std::vector<int>> room;
  std::map<int, int> held;  // host -> replicas on it
  for (int g : gpus) {
    room[DomainOf(topo, g)].push_back(g);
  }
  for (const auto& [h, list] : room) held[h] = 0;
  // Hosts in the order a replica prefers them: fewest replicas, most free GPUs, lowest index.
  auto order = [&] {
    std::vector<int> hosts;
    for (const auto& [h, list] : room) hosts.push_back(h);
    std::stable_sort(hosts.begin(), hosts.end(), [&](int a, int b) {
      if (held[a] != held[b]) return held[a] < held[b];
      return room[a].size() > room[b].size();
    });
    return hosts;
  };
  std::vector<Placement> replicas;
  for (int d = 0; d < plan.dp; ++d) {
    std::vector<int> pool;
    for (int h : order()) {
      if (room[h].size() >= size) {
        pool = room[h];
        break;
      }
    }
    if (pool.empty()) {
      for (int h : order()) {
        pool.insert(pool.end(), room[h].begin(), room[h].end());
        if (pool.size() >= size) break;
      }
    }
    WIRESIM_ASSIGN_OR_RETURN(Placement p, AutoPlacement(topo, model, one, pool));
    std::set<int> touched;
    for (int g : p.gpu_of_rank) {
      const int h = DomainOf(topo, g);
      touched.insert(h);
      std::erase(room[h], g);
    }
    for (int h : touched) ++held[h];
    replicas.push_back(std::move(p));
  }
  Placement out;
  out.gpu_of_rank.resize(static_cast<size_t>(plan.WorldSize()));
  for (int r = 0; r < plan.WorldSize(); ++r) {
    RankCoord c = CoordOf(plan, r);
    const int d = c.dp;
    c.dp = 0;
    out.gpu_of_rank[static_cast<size_t>(r)] = replicas[static_cast<size_t>(d)].GpuOf(RankOf(one, c));
  }
  if (score != nullptr) {
    *score = ScorePlacement(topo, model, plan, out, kPlacementScoreTokens, ep_exchange);
    score->lines.push_back(ReplicaHostsLine(topo, plan, out));
  }
  return out;
}

}  // namespace wiresim
