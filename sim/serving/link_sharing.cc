#include "sim/serving/link_sharing.h"

#include <algorithm>
#include <map>
#include <set>

namespace wiresim {

std::vector<bool> GroupsMeetingOthers(const Topology& topo, Router& router, const std::vector<std::vector<int>>& groups) {
  std::map<LinkId, std::vector<size_t>> users;
  for (size_t g = 0; g < groups.size(); ++g) {
    std::set<LinkId> links;
    for (int a : groups[g]) {
      for (int b : groups[g]) {
        if (a == b) continue;
        const Route* r = router.Find(topo.gpu(a), topo.gpu(b));
        if (r == nullptr) continue;
        for (const RouteHop& h : r->hops) links.insert(h.link);
      }
    }
    for (LinkId l : links) users[l].push_back(g);
  }
  std::vector<std::vector<int>> sorted(groups);
  for (std::vector<int>& s : sorted) std::sort(s.begin(), s.end());
  auto share_gpu = [&](size_t a, size_t b) {
    const std::vector<int>&x = sorted[a], &y = sorted[b];
    size_t i = 0, j = 0;
    while (i < x.size() && j < y.size()) {
      if (x[i] == y[j]) return true;
      (x[i] < y[j] ? i : j)++;
    }
    return false;
  };
  std::vector<bool> shared(groups.size(), false);
  for (const auto& [link, on] : users) {
    for (size_t i = 0; i < on.size(); ++i) {
      for (size_t j = i + 1; j < on.size(); ++j) {
        if (share_gpu(on[i], on[j])) continue;
        shared[on[i]] = true;
        shared[on[j]] = true;
      }
    }
  }
  return shared;
}

}  // namespace wiresim
