#include "sim/network/flow_network.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "sim/core/check.h"

namespace wiresim {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Settling runs after every other event of its instant, so that all the starts and ends of an instant (and the
// transfers their callbacks start) are settled together.
constexpr int kSettlePriority = std::numeric_limits<int>::max();

}  // namespace

FlowNetwork::FlowNetwork(Simulator& sim, const Topology& topo) : sim_(sim), topo_(topo) {
  const size_t links = static_cast<size_t>(topo.link_count());
  capacity_.resize(links);
  kinds_.resize(links);
  for (size_t i = 0; i < links; ++i) {
    capacity_[i] = topo.link(static_cast<LinkId>(i)).capacity_GBps * 1e9;
    kinds_[i] = topo.link(static_cast<LinkId>(i)).kind;
  }
  link_flows_.resize(links);
  links_.resize(links);
}

FlowNetwork::~FlowNetwork() = default;

double FlowNetwork::LinkPayloadRate(LinkId link) const {
  double sum = 0;
  for (const FlowRef& ref : link_flows_[static_cast<size_t>(link)]) {
    const Flow& f = flows_[ref.flow];
    sum += f.rate * f.shares[ref.hop];
  }
  return sum;
}

uint32_t FlowNetwork::NewFlow() {
  if (!free_flows_.empty()) {
    const uint32_t f = free_flows_.back();
    free_flows_.pop_back();
    return f;
  }
  flows_.emplace_back();
  flow_mark_.push_back(0);
  new_rate_.push_back(0);
  frozen_.push_back(0);
  return static_cast<uint32_t>(flows_.size() - 1);
}

void FlowNetwork::Transfer(const TransferRequest& request, TransferCallbacks callbacks) {
  WIRESIM_CHECK(request.bytes >= 0 && std::isfinite(request.bytes)) << "transfer of " << request.bytes << " bytes";
  WIRESIM_CHECK(request.max_rate_GBps > 0) << "transfer rate cap " << request.max_rate_GBps;
  ++stats_.flows;
  ++in_flight_;
  const Time latency = (request.route != nullptr ? request.route->latency : Time::Zero()) + request.extra_latency;
  const bool has_hops = request.route != nullptr && !request.route->hops.empty();

  if (request.bytes == 0 || !has_hops) {
    // Nothing to share: drains at its cap (or at once) without joining any link.
    Time drain;
    if (request.bytes > 0) {
      WIRESIM_CHECK(std::isfinite(request.max_rate_GBps)) << "a transfer over no link needs a rate cap";
      drain = Time::FromSecondsCeil(request.bytes / (request.max_rate_GBps * 1e9));
    }
    sim_.ScheduleAfter(drain, [this, latency, cb = std::move(callbacks)]() mutable {
      if (cb.on_drained) cb.on_drained();
      sim_.ScheduleAfter(latency, [this, done = std::move(cb.on_delivered)] {
        --in_flight_;
        if (done) done();
      });
    });
    return;
  }

  const uint32_t id = NewFlow();
  Flow& f = flows_[id];
  f.hops.clear();
  f.shares.clear();
  for (const RouteHop& hop : request.route->hops) {
    const double eff = request.efficiency.of(kinds_[static_cast<size_t>(hop.link)]);
    WIRESIM_CHECK(eff > 0 && hop.share > 0) << "link efficiency " << eff << ", share " << hop.share;
    auto& on_link = link_flows_[static_cast<size_t>(hop.link)];
    f.hops.push_back(Hop{hop.link, static_cast<uint32_t>(on_link.size()), hop.share / eff});
    f.shares.push_back(hop.share);
    on_link.push_back(FlowRef{id, static_cast<uint32_t>(f.hops.size() - 1)});
    MarkDirty(hop.link);
  }
  f.remaining = request.bytes;
  f.rate = 0;
  f.cap = request.max_rate_GBps * 1e9;
  f.last_update = sim_.Now();
  f.latency = latency;
  f.drain_event = EventId();
  f.on_drained = std::move(callbacks.on_drained);
  f.on_delivered = std::move(callbacks.on_delivered);
  f.active = true;
  ++active_flows_;
  RequestSettle();
}

void FlowNetwork::MarkDirty(LinkId link) { dirty_links_.push_back(link); }

void FlowNetwork::RequestSettle() {
  if (settle_pending_) return;
  settle_pending_ = true;
  sim_.Schedule(
      sim_.Now(), [this] { Settle(); }, kSettlePriority);
}

void FlowNetwork::Settle() {
  settle_pending_ = false;
  ++stats_.settles;
  CollectComponent();
  dirty_links_.clear();
  if (comp_flows_.empty()) return;
  ProgressiveFilling();
  ApplyRates();
}

// Every flow that shares a link, directly or through other flows, with a dirty link: the only rates that can change.
void FlowNetwork::CollectComponent() {
  ++stamp_;
  comp_links_.clear();
  comp_flows_.clear();
  caps_.clear();
  // Marking a link also readies it for progressive filling (full capacity, no weight yet), and visiting a flow adds
  // its weight: one pass over the hops instead of two.
  const auto mark = [&](LinkId l) -> LinkState& {
    LinkState& s = links_[static_cast<size_t>(l)];
    if (s.mark != stamp_) {
      s.mark = stamp_;
      comp_links_.push_back(l);
      s.residual = capacity_[static_cast<size_t>(l)];
      s.weight_sum = 0;
      s.unfrozen = 0;
    }
    return s;
  };
  for (LinkId l : dirty_links_) mark(l);
  for (size_t next = 0; next < comp_links_.size(); ++next) {
    for (const FlowRef& ref : link_flows_[static_cast<size_t>(comp_links_[next])]) {
      if (flow_mark_[ref.flow] == stamp_) continue;
      flow_mark_[ref.flow] = stamp_;
      comp_flows_.push_back(ref.flow);
      frozen_[ref.flow] = 0;
      const Flow& f = flows_[ref.flow];
      if (std::isfinite(f.cap)) caps_.emplace_back(f.cap, ref.flow);
      for (const Hop& hop : f.hops) {
        LinkState& s = mark(hop.link);
        s.weight_sum += hop.weight;
        ++s.unfrozen;
      }
    }
  }
}

// Weighted max-min by progressive filling: raise every unfrozen flow's rate together; when a link fills, freeze the
// flows crossing it at the current level; when the level reaches a flow's cap, freeze that flow. The level only
// rises, so the next link to fill is always the one with the least residual capacity per unit of unfrozen weight.
// CollectComponent has set every link's capacity and weight.
void FlowNetwork::ProgressiveFilling() {
  // Freezing flows at the current level never lowers another link's level (residual / unfrozen weight), so an
  // entry in the heap can only understate its link's level: when one surfaces, its level is recomputed and it goes
  // back in if it has risen. Links are pushed once up front and again only when they surface stale.
  const auto lower = [](const Level& a, const Level& b) {
    if (a.level != b.level) return a.level > b.level;
    return a.link > b.link;  // ties in link order: deterministic
  };
  std::sort(caps_.begin(), caps_.end());
  heap_.clear();
  for (LinkId l : comp_links_) {
    const LinkState& s = links_[static_cast<size_t>(l)];
    if (s.unfrozen > 0) heap_.push_back(Level{s.residual / s.weight_sum, l, 0});
  }
  std::make_heap(heap_.begin(), heap_.end(), lower);

  const auto freeze = [&](uint32_t f, double rate) {
    frozen_[f] = 1;
    new_rate_[f] = rate;
    for (const Hop& hop : flows_[f].hops) {
      LinkState& s = links_[static_cast<size_t>(hop.link)];
      s.residual = std::max(0.0, s.residual - rate * hop.weight);
      s.weight_sum -= hop.weight;
      --s.unfrozen;
    }
  };

  size_t left = comp_flows_.size();
  size_t next_cap = 0;
  while (left > 0) {
    while (next_cap < caps_.size() && frozen_[caps_[next_cap].second]) ++next_cap;
    const double cap_level = next_cap < caps_.size() ? caps_[next_cap].first : kInf;
    // The lowest link whose entry is current.
    double link_level = kInf;
    LinkId bottleneck = -1;
    while (!heap_.empty()) {
      const Level top = heap_.front();
      const LinkState& s = links_[static_cast<size_t>(top.link)];
      std::pop_heap(heap_.begin(), heap_.end(), lower);
      heap_.pop_back();
      if (s.unfrozen <= 0) continue;
      const double level = s.residual / std::max(s.weight_sum, 1e-300);
      if (level > top.level * (1 + 1e-12) + 1e-300) {
        heap_.push_back(Level{level, top.link, 0});
        std::push_heap(heap_.begin(), heap_.end(), lower);
        continue;
      }
      link_level = level;
      bottleneck = top.link;
      break;
    }
    WIRESIM_CHECK(std::isfinite(link_level) || std::isfinite(cap_level)) << "unbounded flow rate";
    if (cap_level <= link_level) {
      if (bottleneck >= 0) {  // not its turn yet: back in the heap
        heap_.push_back(Level{link_level, bottleneck, 0});
        std::push_heap(heap_.begin(), heap_.end(), lower);
      }
      freeze(caps_[next_cap].second, cap_level);
      --left;
      continue;
    }
    for (const FlowRef& ref : link_flows_[static_cast<size_t>(bottleneck)]) {
      if (frozen_[ref.flow]) continue;
      freeze(ref.flow, link_level);
      --left;
    }
  }
}

void FlowNetwork::ApplyRates() {
  const Time now = sim_.Now();
  stats_.rate_updates += static_cast<int64_t>(comp_flows_.size());
  for (uint32_t id : comp_flows_) {
    Flow& f = flows_[id];
    const double rate = new_rate_[id];
    WIRESIM_CHECK(rate > 0) << "a flow got no bandwidth";
    // Unchanged rates (up to rounding noise) keep their drain events.
    if (f.drain_event.valid() && std::abs(rate - f.rate) <= 1e-12 * f.rate) continue;
    f.remaining = std::max(0.0, f.remaining - f.rate * (now - f.last_update).ToSeconds());
    f.last_update = now;
    f.rate = rate;
    if (f.drain_event.valid()) {
      sim_.Cancel(f.drain_event);
      ++stats_.reschedules;
    }
    ScheduleDrain(id);
  }
}

void FlowNetwork::ScheduleDrain(uint32_t id) {
  Flow& f = flows_[id];
  f.drain_event = sim_.ScheduleAfter(Time::FromSecondsCeil(f.remaining / f.rate), [this, id] { Drained(id); });
}

void FlowNetwork::Drained(uint32_t id) {
  Flow& f = flows_[id];
  f.active = false;
  f.remaining = 0;
  f.rate = 0;
  f.drain_event = EventId();
  --active_flows_;
  for (const Hop& hop : f.hops) {
    auto& on_link = link_flows_[static_cast<size_t>(hop.link)];
    const FlowRef moved = on_link.back();
    on_link[hop.pos] = moved;
    flows_[moved.flow].hops[moved.hop].pos = hop.pos;
    on_link.pop_back();
    MarkDirty(hop.link);
  }
  RequestSettle();
  std::function<void()> on_drained = std::move(f.on_drained);
  sim_.ScheduleAfter(f.latency, [this, done = std::move(f.on_delivered)] {
    --in_flight_;
    if (done) done();
  });
  f.on_drained = nullptr;
  f.on_delivered = nullptr;
  free_flows_.push_back(id);
  if (on_drained) on_drained();  // last: it may start transfers that reuse this flow's slot
}

}  // namespace wiresim
