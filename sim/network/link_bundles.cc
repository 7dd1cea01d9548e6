#include "sim/network/link_bundles.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "sim/core/check.h"

namespace wiresim {
namespace {

constexpr size_t kLinkKinds = static_cast<size_t>(LinkKind::kCpuInterconnect) + 1;

// Shares and capacities come out of the router's arithmetic: equal proportions agree to rounding.
bool SameRatio(double a, double b) { return std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b)); }

}  // namespace

LinkBundles::LinkBundles(const Topology& topo)
    : topo_(topo),
      bundle_of_(static_cast<size_t>(topo.link_count()), -1),
      link_capacity_(static_cast<size_t>(topo.link_count())) {
  for (size_t i = 0; i < link_capacity_.size(); ++i)
    link_capacity_[i] = topo.link(static_cast<LinkId>(i)).capacity_GBps * 1e9;
}

uint32_t LinkBundles::NewBundle(LinkKind kind) {
  bundles_.emplace_back();
  bundles_.back().kind = kind;
  stamp_.push_back(0);
  on_route_.push_back(0);
  share_.push_back(0);
  ratio_.push_back(0);
  uneven_.push_back(0);
  return static_cast<uint32_t>(bundles_.size() - 1);
}

void LinkBundles::Move(LinkId link, uint32_t to) {
  const size_t l = static_cast<size_t>(link);
  if (bundle_of_[l] >= 0) {
    Bundle& from = bundles_[static_cast<size_t>(bundle_of_[l])];
    from.links.erase(std::find(from.links.begin(), from.links.end(), link));
    from.capacity -= link_capacity_[l];
  }
  bundle_of_[l] = to;
  bundles_[to].links.push_back(link);
  bundles_[to].capacity += link_capacity_[l];
}

void LinkBundles::Refine(uint32_t b, const Route& route, std::vector<Split>* splits) {
  // The route's links in b, by share per capacity; links of b it does not cross keep b.
  std::vector<std::pair<double, LinkId>> crossed;
  for (const RouteHop& h : route.hops) {
    if (bundle_of_[static_cast<size_t>(h.link)] == static_cast<int64_t>(b)) {
      crossed.emplace_back(h.share / link_capacity_[static_cast<size_t>(h.link)], h.link);
    }
  }
  std::sort(crossed.begin(), crossed.end());
  const double before = bundles_[b].capacity;
  const bool keeps_rest = crossed.size() < bundles_[b].links.size();
  std::vector<uint32_t> made;
  for (size_t i = 0; i < crossed.size();) {
    size_t j = i;
    while (j < crossed.size() && SameRatio(crossed[j].first, crossed[i].first)) ++j;
    // The first group stays in b when the route crosses all of b; every other group gets a bundle of its own.
    if (keeps_rest || i > 0) {
      const uint32_t nb = NewBundle(bundles_[b].kind);
      for (size_t k = i; k < j; ++k) Move(crossed[k].second, nb);
      made.push_back(nb);
    }
    i = j;
  }
  if (made.empty()) return;
  splits->push_back({b, b, bundles_[b].capacity / before});
  for (uint32_t nb : made) splits->push_back({b, nb, bundles_[nb].capacity / before});
}

void LinkBundles::Map(const Route& route, std::vector<Part>* parts, std::vector<Split>* splits) {
  // Links no route has crossed yet join one new bundle per kind; Refine below splits it by proportion.
  uint32_t fresh[kLinkKinds] = {};
  bool has_fresh[kLinkKinds] = {};
  for (const RouteHop& h : route.hops) {
    const size_t l = static_cast<size_t>(h.link);
    if (bundle_of_[l] >= 0) continue;
    const size_t kind = static_cast<size_t>(topo_.link(h.link).kind);
    if (!has_fresh[kind]) {
      fresh[kind] = NewBundle(topo_.link(h.link).kind);
      has_fresh[kind] = true;
    }
    Move(h.link, fresh[kind]);
  }
  // Which bundles the route crosses whole, in proportion to capacity.
  const auto survey = [&] {
    ++current_;
    touched_.clear();
    for (const RouteHop& h : route.hops) {
      const size_t l = static_cast<size_t>(h.link);
      const uint32_t b = static_cast<uint32_t>(bundle_of_[l]);
      const double ratio = h.share / link_capacity_[l];
      if (stamp_[b] != current_) {
        stamp_[b] = current_;
        on_route_[b] = 0;
        share_[b] = 0;
        ratio_[b] = ratio;
        uneven_[b] = 0;
        touched_.push_back(b);
      }
      ++on_route_[b];
      share_[b] += h.share;
      if (!SameRatio(ratio, ratio_[b])) uneven_[b] = 1;
    }
  };
  survey();
  bool refined = false;
  const std::vector<uint32_t> first = touched_;
  for (uint32_t b : first) {
    if (uneven_[b] || on_route_[b] != bundles_[b].links.size()) {
      Refine(b, route, splits);
      refined = true;
    }
  }
  if (refined) survey();
  for (uint32_t b : touched_) {
    WIRESIM_CHECK(!uneven_[b] && on_route_[b] == bundles_[b].links.size()) << "bundle " << b << " left uneven";
    parts->push_back({b, share_[b]});
  }
}

}  // namespace wiresim
