#include "sim/network/flow_network.h"

#include <algorithm>
#include <cmath>
#include <cstring>
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

FlowNetwork::FlowNetwork(Simulator& sim, const Topology& topo)
    : sim_(sim), topo_(topo), bundles_(topo), ledger_(topo.link_count()) {}

FlowNetwork::~FlowNetwork() = default;

double FlowNetwork::LinkPayloadRate(LinkId link) const {
  const int64_t b = bundles_.bundle_of(link);
  if (b < 0 || static_cast<size_t>(b) >= bundle_flows_.size()) return 0;
  // A flow's share of a member link is its share of the bundle in proportion to the link's capacity.
  const double capacity = topo_.link(link).capacity_GBps * 1e9;
  double sum = 0;
  for (const FlowRef& ref : bundle_flows_[static_cast<size_t>(b)]) {
    const Flow& f = flows_[ref.flow];
    sum += f.rate * f.count * f.hops[ref.hop].payload * capacity;
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
  ledger_.Started(request.bytes);
  const Time latency = (request.route != nullptr ? request.route->latency : Time::Zero()) + request.extra_latency;
  const bool has_hops = request.route != nullptr && !request.route->hops.empty();
  if (has_hops && request.bytes > 0) {
    for (const RouteHop& hop : request.route->hops) ledger_.AddBytes(hop.link, request.bytes * hop.share);
  }

  if (request.bytes == 0 || !has_hops) {
    // Nothing to share: drains at its cap (or at once) without joining any link.
    Time drain;
    if (request.bytes > 0) {
      WIRESIM_CHECK(std::isfinite(request.max_rate_GBps)) << "a transfer over no link needs a rate cap";
      drain = Time::FromSecondsCeil(request.bytes / (request.max_rate_GBps * 1e9));
    }
    sim_.ScheduleAfter(drain, [this, latency, bytes = request.bytes, cb = std::move(callbacks)]() mutable {
      if (cb.on_drained) cb.on_drained();
      sim_.ScheduleAfter(latency, [this, bytes, done = std::move(cb.on_delivered)] {
        --in_flight_;
        ledger_.Delivered(bytes);
        if (done) done();
      });
    });
    return;
  }

  uint64_t key = 0;
  if (aggregate_) {
    key = TwinKey(request);
    const int64_t twin = FindTwin(key, request);
    if (twin >= 0) {
      Flow& f = flows_[static_cast<size_t>(twin)];
      ++f.count;
      f.more.push_back(std::move(callbacks));
      ++stats_.aggregated;
      return;
    }
  }

  parts_.clear();
  splits_.clear();
  bundles_.Map(*request.route, &parts_, &splits_);
  if (bundle_flows_.size() < bundles_.count()) {
    bundle_flows_.resize(bundles_.count());
    state_.resize(bundles_.count());
    busy_since_.resize(bundles_.count());
  }
  if (!splits_.empty()) ApplySplits();

  const uint32_t id = NewFlow();
  Flow& f = flows_[id];
  f.hops.clear();
  for (const LinkBundles::Part& part : parts_) {
    const double eff = request.efficiency.of(bundles_.kind(part.bundle));
    WIRESIM_CHECK(eff > 0 && part.share > 0) << "link efficiency " << eff << ", share " << part.share;
    f.hops.push_back(Hop{part.bundle, 0, part.share / eff, part.share / bundles_.capacity(part.bundle)});
    AddToBundle(part.bundle, id, static_cast<uint32_t>(f.hops.size() - 1));
    MarkDirty(part.bundle);
  }
  f.bytes = request.bytes;
  f.count = 1;
  f.more.clear();
  f.first = std::move(callbacks);
  if (aggregate_) {
    const uint32_t begin = static_cast<uint32_t>(fresh_hops_.size());
    fresh_hops_.insert(fresh_hops_.end(), request.route->hops.begin(), request.route->hops.end());
    fresh_.emplace(key, Fresh{id, begin, static_cast<uint32_t>(fresh_hops_.size()), request.max_rate_GBps,
                              request.extra_latency, request.efficiency});
  }
  f.remaining = request.bytes;
  f.rate = 0;
  f.cap = request.max_rate_GBps * 1e9;
  f.last_update = sim_.Now();
  f.latency = latency;
  f.in_heap = false;
  ++active_flows_;
  RequestSettle();
}

// Everything two transfers must share to be one flow: the route (links, shares, latency), bytes, cap, latency and
// efficiency. Equal requests hash equal; FindTwin compares in full.
uint64_t FlowNetwork::TwinKey(const TransferRequest& request) {
  uint64_t h = 1469598103934665603ull;
  const auto mix = [&](uint64_t v) { h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); };
  const auto bits = [](double d) {
    uint64_t v;
    std::memcpy(&v, &d, sizeof v);
    return v;
  };
  for (const RouteHop& hop : request.route->hops) {
    mix(static_cast<uint64_t>(hop.link));
    mix(bits(hop.share));
  }
  mix(static_cast<uint64_t>(request.route->latency.picoseconds()));
  mix(static_cast<uint64_t>(request.extra_latency.picoseconds()));
  mix(bits(request.bytes));
  mix(bits(request.max_rate_GBps));
  for (double e : request.efficiency.by_kind) mix(bits(e));
  return h;
}

int64_t FlowNetwork::FindTwin(uint64_t key, const TransferRequest& request) const {
  const auto it = fresh_.find(key);
  if (it == fresh_.end()) return -1;
  const Fresh& fresh = it->second;
  const Flow& f = flows_[fresh.flow];
  const std::vector<RouteHop>& hops = request.route->hops;
  if (f.bytes != request.bytes || fresh.cap_GBps != request.max_rate_GBps ||
      fresh.extra_latency != request.extra_latency || f.latency != request.route->latency + request.extra_latency ||
      fresh.efficiency.by_kind != request.efficiency.by_kind || fresh.hop_end - fresh.hop_begin != hops.size()) {
    return -1;
  }
  for (size_t i = 0; i < hops.size(); ++i) {
    const RouteHop& a = fresh_hops_[fresh.hop_begin + i];
    if (a.link != hops[i].link || a.share != hops[i].share) return -1;
  }
  return fresh.flow;
}

void FlowNetwork::AddToBundle(uint32_t bundle, uint32_t flow, uint32_t hop) {
  auto& on_bundle = bundle_flows_[bundle];
  if (on_bundle.empty()) busy_since_[bundle] = sim_.Now();
  flows_[flow].hops[hop].pos = static_cast<uint32_t>(on_bundle.size());
  on_bundle.push_back(FlowRef{flow, hop});
}

void FlowNetwork::RemoveFromBundle(uint32_t bundle, uint32_t pos) {
  auto& on_bundle = bundle_flows_[bundle];
  const FlowRef moved = on_bundle.back();
  on_bundle[pos] = moved;
  flows_[moved.flow].hops[moved.hop].pos = pos;
  on_bundle.pop_back();
  if (on_bundle.empty()) {
    const Time busy = sim_.Now() - busy_since_[bundle];
    for (LinkId link : bundles_.links(bundle)) ledger_.AddBusy(link, busy);
  }
}

// A bundle that lost links to new ones: every flow on it crossed all of its links in proportion to capacity, so it
// crosses each part with its weight scaled by the part's share of the capacity. Rates do not change.
void FlowNetwork::ApplySplits() {
  for (size_t i = 0; i < splits_.size();) {
    const uint32_t from = splits_[i].from;
    WIRESIM_CHECK(splits_[i].to == from) << "a split lists its own bundle first";
    const double keep = splits_[i].fraction;
    size_t end = i + 1;
    while (end < splits_.size() && splits_[end].from == from) ++end;
    if (busy_since_.size() < bundles_.count()) busy_since_.resize(bundles_.count());
    // The links that left for a new bundle were busy with the same flows since the same time.
    if (!bundle_flows_[from].empty()) {
      for (size_t k = i + 1; k < end; ++k) busy_since_[splits_[k].to] = busy_since_[from];
    }
    for (const FlowRef& ref : bundle_flows_[from]) {
      Flow& f = flows_[ref.flow];
      const double weight = f.hops[ref.hop].weight;
      const double payload = f.hops[ref.hop].payload;
      f.hops[ref.hop].weight = weight * keep;
      for (size_t k = i + 1; k < end; ++k) {
        auto& on_bundle = bundle_flows_[splits_[k].to];
        f.hops.push_back(
            Hop{splits_[k].to, static_cast<uint32_t>(on_bundle.size()), weight * splits_[k].fraction, payload});
        on_bundle.push_back(FlowRef{ref.flow, static_cast<uint32_t>(f.hops.size() - 1)});
      }
    }
    i = end;
  }
}

void FlowNetwork::RequestSettle() {
  if (settle_pending_) return;
  settle_pending_ = true;
  sim_.Schedule(
      sim_.Now(), [this] { Settle(); }, kSettlePriority);
}

void FlowNetwork::Settle() {
  settle_pending_ = false;
  ++stats_.settles;
  fresh_.clear();
  fresh_hops_.clear();
  CollectComponent();
  dirty_.clear();
  if (comp_flows_.empty()) return;
  ProgressiveFilling();
  ApplyRates();
}

// Every flow that shares a bundle, directly or through other flows, with a dirty one: the only rates that can change.
void FlowNetwork::CollectComponent() {
  ++stamp_;
  comp_bundles_.clear();
  comp_flows_.clear();
  caps_.clear();
  // Marking a bundle also readies it for progressive filling (full capacity, no weight yet), and visiting a flow
  // adds its weight: one pass over the hops instead of two.
  const auto mark = [&](uint32_t b) -> BundleState& {
    BundleState& s = state_[b];
    if (s.mark != stamp_) {
      s.mark = stamp_;
      comp_bundles_.push_back(b);
      s.residual = bundles_.capacity(b);
      s.weight_sum = 0;
      s.unfrozen = 0;
    }
    return s;
  };
  for (uint32_t b : dirty_) mark(b);
  for (size_t next = 0; next < comp_bundles_.size(); ++next) {
    for (const FlowRef& ref : bundle_flows_[comp_bundles_[next]]) {
      if (flow_mark_[ref.flow] == stamp_) continue;
      flow_mark_[ref.flow] = stamp_;
      comp_flows_.push_back(ref.flow);
      frozen_[ref.flow] = 0;
      const Flow& f = flows_[ref.flow];
      if (std::isfinite(f.cap)) caps_.emplace_back(f.cap, ref.flow);
      for (const Hop& hop : f.hops) {
        BundleState& s = mark(hop.bundle);
        s.weight_sum += hop.weight * f.count;
        ++s.unfrozen;
      }
    }
  }
}

// Weighted max-min by progressive filling: raise every unfrozen flow's rate together; when a bundle fills, freeze
// the flows crossing it at the current level; when the level reaches a flow's cap, freeze that flow. The level only
// rises, so the next bundle to fill is always the one with the least residual capacity per unit of unfrozen weight.
// CollectComponent has set every bundle's capacity and weight.
void FlowNetwork::ProgressiveFilling() {
  // Freezing flows at the current level never lowers another bundle's level (residual / unfrozen weight), so an
  // entry in the heap can only understate its bundle's level: when one surfaces, its level is recomputed and it
  // goes back in if it has risen. Bundles are pushed once up front and again only when they surface stale.
  const auto lower = [](const Level& a, const Level& b) {
    if (a.level != b.level) return a.level > b.level;
    return a.bundle > b.bundle;  // ties in bundle order: deterministic
  };
  std::sort(caps_.begin(), caps_.end());
  heap_.clear();
  for (uint32_t b : comp_bundles_) {
    const BundleState& s = state_[b];
    if (s.unfrozen > 0) heap_.push_back(Level{s.residual / s.weight_sum, b});
  }
  std::make_heap(heap_.begin(), heap_.end(), lower);

  const auto freeze = [&](uint32_t f, double rate) {
    frozen_[f] = 1;
    new_rate_[f] = rate;
    const double count = flows_[f].count;
    for (const Hop& hop : flows_[f].hops) {
      BundleState& s = state_[hop.bundle];
      s.residual = std::max(0.0, s.residual - rate * hop.weight * count);
      s.weight_sum -= hop.weight * count;
      --s.unfrozen;
    }
  };

  size_t left = comp_flows_.size();
  size_t next_cap = 0;
  while (left > 0) {
    while (next_cap < caps_.size() && frozen_[caps_[next_cap].second]) ++next_cap;
    const double cap_level = next_cap < caps_.size() ? caps_[next_cap].first : kInf;
    // The lowest bundle whose entry is current.
    double bundle_level = kInf;
    int64_t bottleneck = -1;
    while (!heap_.empty()) {
      const Level top = heap_.front();
      const BundleState& s = state_[top.bundle];
      std::pop_heap(heap_.begin(), heap_.end(), lower);
      heap_.pop_back();
      if (s.unfrozen <= 0) continue;
      const double level = s.residual / std::max(s.weight_sum, 1e-300);
      if (level > top.level * (1 + 1e-12) + 1e-300) {
        heap_.push_back(Level{level, top.bundle});
        std::push_heap(heap_.begin(), heap_.end(), lower);
        continue;
      }
      bundle_level = level;
      bottleneck = top.bundle;
      break;
    }
    WIRESIM_CHECK(std::isfinite(bundle_level) || std::isfinite(cap_level)) << "unbounded flow rate";
    if (cap_level <= bundle_level) {
      if (bottleneck >= 0) {  // not its turn yet: back in the heap
        heap_.push_back(Level{bundle_level, static_cast<uint32_t>(bottleneck)});
        std::push_heap(heap_.begin(), heap_.end(), lower);
      }
      freeze(caps_[next_cap].second, cap_level);
      --left;
      continue;
    }
    for (const FlowRef& ref : bundle_flows_[static_cast<size_t>(bottleneck)]) {
      if (frozen_[ref.flow]) continue;
      freeze(ref.flow, bundle_level);
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
    // Unchanged rates (up to rounding noise) keep their drain times.
    if (f.in_heap && std::abs(rate - f.rate) <= 1e-12 * f.rate) continue;
    f.remaining = std::max(0.0, f.remaining - f.rate * (now - f.last_update).ToSeconds());
    f.last_update = now;
    f.rate = rate;
    f.drain_at = now + Time::FromSecondsCeil(f.remaining / f.rate);
    f.drain_seq = next_drain_seq_++;
    if (f.in_heap) {
      ++stats_.reschedules;
      HeapUp(f.heap_pos);
      HeapDown(flows_[id].heap_pos);
    } else {
      HeapPush(id);
    }
  }
  ArmTimer();
}

bool FlowNetwork::DrainsBefore(uint32_t a, uint32_t b) const {
  const Flow& x = flows_[a];
  const Flow& y = flows_[b];
  if (x.drain_at != y.drain_at) return x.drain_at < y.drain_at;
  return x.drain_seq < y.drain_seq;
}

void FlowNetwork::HeapSet(size_t pos, uint32_t f) {
  drains_[pos] = f;
  flows_[f].heap_pos = static_cast<uint32_t>(pos);
}

void FlowNetwork::HeapUp(size_t pos) {
  const uint32_t f = drains_[pos];
  while (pos > 0) {
    const size_t parent = (pos - 1) / 2;
    if (!DrainsBefore(f, drains_[parent])) break;
    HeapSet(pos, drains_[parent]);
    pos = parent;
  }
  HeapSet(pos, f);
}

void FlowNetwork::HeapDown(size_t pos) {
  const uint32_t f = drains_[pos];
  const size_t n = drains_.size();
  while (true) {
    size_t child = 2 * pos + 1;
    if (child >= n) break;
    if (child + 1 < n && DrainsBefore(drains_[child + 1], drains_[child])) ++child;
    if (!DrainsBefore(drains_[child], f)) break;
    HeapSet(pos, drains_[child]);
    pos = child;
  }
  HeapSet(pos, f);
}

void FlowNetwork::HeapPush(uint32_t f) {
  flows_[f].in_heap = true;
  drains_.push_back(f);
  HeapUp(drains_.size() - 1);
}

void FlowNetwork::HeapRemove(uint32_t f) {
  const size_t pos = flows_[f].heap_pos;
  flows_[f].in_heap = false;
  const uint32_t last = drains_.back();
  drains_.pop_back();
  if (pos == drains_.size()) return;
  HeapSet(pos, last);
  HeapUp(pos);
  HeapDown(flows_[last].heap_pos);
}

// One simulator event waits for the earliest drain; it moves only when the earliest drain does.
void FlowNetwork::ArmTimer() {
  if (drains_.empty()) {
    if (timer_.valid()) sim_.Cancel(timer_);
    timer_ = EventId();
    return;
  }
  const Time at = flows_[drains_.front()].drain_at;
  if (timer_.valid() && timer_at_ == at) return;
  if (timer_.valid()) sim_.Cancel(timer_);
  timer_ = sim_.Schedule(at, [this] { OnTimer(); });
  timer_at_ = at;
}

void FlowNetwork::OnTimer() {
  timer_ = EventId();
  const Time now = sim_.Now();
  while (!drains_.empty() && flows_[drains_.front()].drain_at <= now) {
    const uint32_t f = drains_.front();
    HeapRemove(f);
    Drained(f);
  }
  ArmTimer();
}

void FlowNetwork::Drained(uint32_t id) {
  Flow& f = flows_[id];
  f.remaining = 0;
  f.rate = 0;
  --active_flows_;
  for (const Hop& hop : f.hops) {
    RemoveFromBundle(hop.bundle, hop.pos);
    MarkDirty(hop.bundle);
  }
  RequestSettle();
  const Time latency = f.latency;
  const double bytes = f.bytes;
  TransferCallbacks first = std::move(f.first);
  std::vector<TransferCallbacks> more = std::move(f.more);
  f.first = {};
  f.more.clear();
  free_flows_.push_back(id);
  // Each member as its own flow would have: delivery scheduled, then the drain callback (which may start transfers
  // that reuse this flow's slot, so last).
  const auto member = [&](TransferCallbacks& cb) {
    uint32_t slot;
    if (!free_deliveries_.empty()) {
      slot = free_deliveries_.back();
      free_deliveries_.pop_back();
    } else {
      slot = static_cast<uint32_t>(deliveries_.size());
      deliveries_.emplace_back();
    }
    deliveries_[slot] = Delivery{std::move(cb.on_delivered), bytes};
    sim_.ScheduleAfter(latency, [this, slot] { Deliver(slot); });
    if (cb.on_drained) cb.on_drained();
  };
  member(first);
  for (TransferCallbacks& cb : more) member(cb);
}

void FlowNetwork::Deliver(uint32_t slot) {
  std::function<void()> done = std::move(deliveries_[slot].done);
  ledger_.Delivered(deliveries_[slot].bytes);
  deliveries_[slot].done = nullptr;
  free_deliveries_.push_back(slot);
  --in_flight_;
  if (done) done();
}

}  // namespace wiresim
