#include "sim/collective/schedule.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/core/check.h"

namespace wiresim {

namespace {

uint32_t AddTo(CollectiveSchedule* s, const ScheduledTransfer& t, const uint32_t* deps_on, size_t count) {
  ScheduledTransfer copy = t;
  copy.dep_begin = static_cast<uint32_t>(s->deps.size());
  copy.dep_count = static_cast<uint32_t>(count);
  const uint32_t index = static_cast<uint32_t>(s->transfers.size());
  for (size_t i = 0; i < count; ++i) {
    WIRESIM_CHECK_LT(deps_on[i] >> 1, index) << "a transfer depends on a later one";
    s->deps.push_back(deps_on[i]);
  }
  s->transfers.push_back(copy);
  return index;
}

}  // namespace

uint32_t CollectiveSchedule::Add(const ScheduledTransfer& t, std::initializer_list<uint32_t> deps_on) {
  return AddTo(this, t, deps_on.begin(), deps_on.size());
}

uint32_t CollectiveSchedule::Add(const ScheduledTransfer& t, const std::vector<uint32_t>& deps_on) {
  return AddTo(this, t, deps_on.data(), deps_on.size());
}

uint16_t CollectiveSchedule::AddEfficiency(const LinkEfficiency& e) {
  for (size_t i = 0; i < efficiencies.size(); ++i)
    if (efficiencies[i].by_kind == e.by_kind) return static_cast<uint16_t>(i);
  WIRESIM_CHECK_LT(efficiencies.size(), 65535u);
  efficiencies.push_back(e);
  return static_cast<uint16_t>(efficiencies.size() - 1);
}

CollectiveSchedule CollectiveSchedule::Materialized() const {
  CollectiveSchedule out = *this;
  out.ring.reset();
  if (!ring) return out;
  const RingSchedule& r = *ring;
  const uint32_t first = static_cast<uint32_t>(out.transfers.size());
  const auto index = [&](int g, int s, int i) {
    return first + static_cast<uint32_t>((static_cast<size_t>(g) * r.steps + s) * r.ranks + i);
  };
  out.transfers.reserve(out.transfers.size() + r.transfer_count());
  for (int g = 0; g < r.groups; ++g) {
    for (int s = 0; s < r.steps; ++s) {
      for (int i = 0; i < r.ranks; ++i) {
        const ScheduledTransfer& t = r.edges[static_cast<size_t>(g * r.ranks + i)];
        if (s == 0) {
          out.Add(t, {});
        } else {
          out.Add(t, {Delivered(index(g, s - 1, (i + r.ranks - 1) % r.ranks)), Drained(index(g, s - 1, i))});
        }
      }
    }
  }
  if (r.steps == 0) return out;
  for (int g = 0; g < r.groups && !r.copies.empty(); ++g) {
    for (int i = 0; i < r.ranks; ++i) {
      out.Add(r.copies[static_cast<size_t>(g * r.ranks + i)],
              {Delivered(index(g, r.steps - 1, (i + r.ranks - 1) % r.ranks)), Drained(index(g, r.steps - 1, i))});
    }
  }
  return out;
}

ScheduleRun::ScheduleRun(Simulator& sim, Network& net, const CollectiveSchedule& schedule,
                         std::function<void()> on_done)
    : sim_(sim), net_(net), schedule_(schedule), on_done_(std::move(on_done)) {
  const size_t n = schedule.transfers.size();
  waiting_.resize(n);
  dependent_begin_.assign(2 * n + 1, 0);
  for (size_t t = 0; t < n; ++t) {
    const ScheduledTransfer& x = schedule.transfers[t];
    waiting_[t] = x.dep_count;
    for (uint32_t i = 0; i < x.dep_count; ++i) ++dependent_begin_[schedule.deps[x.dep_begin + i] + 1];
  }
  for (size_t k = 1; k < dependent_begin_.size(); ++k) dependent_begin_[k] += dependent_begin_[k - 1];
  dependents_.resize(schedule.deps.size());
  std::vector<uint32_t> fill(dependent_begin_.begin(), dependent_begin_.end() - 1);
  for (size_t t = 0; t < n; ++t) {
    const ScheduledTransfer& x = schedule.transfers[t];
    for (uint32_t i = 0; i < x.dep_count; ++i)
      dependents_[fill[schedule.deps[x.dep_begin + i]]++] = static_cast<uint32_t>(t);
  }
  if (schedule.ring) {
    const size_t positions = static_cast<size_t>(schedule.ring->groups) * static_cast<size_t>(schedule.ring->ranks);
    ring_launched_.assign(positions, 0);
    ring_drained_.assign(positions, 0);
    ring_delivered_.assign(positions, 0);
  }
}

void ScheduleRun::Start() {
  // Alone on the network, a ring whose caps fit together needs no transfers: its end is known now.
  if (exclusive_ && schedule_.transfers.empty() && schedule_.ring) {
    if (const std::optional<Time> ring = RingAloneAtCaps(*schedule_.ring, schedule_.efficiencies)) {
      sim_.ScheduleAfter(schedule_.start_delay + *ring, [this] {
        delivered_ = schedule_.transfer_count();
        if (on_done_) on_done_();
      });
      return;
    }
  }
  sim_.ScheduleAfter(schedule_.start_delay, [this] {
    if (schedule_.transfer_count() == 0) {
      if (on_done_) on_done_();
      return;
    }
    for (uint32_t t = 0; t < schedule_.transfers.size(); ++t)
      if (waiting_[t] == 0) Launch(t);
    if (schedule_.ring && schedule_.ring->steps > 0) {
      for (int g = 0; g < schedule_.ring->groups; ++g)
        for (int i = 0; i < schedule_.ring->ranks; ++i) RingTryLaunch(g, i);
    }
  });
}

TransferRequest ScheduleRun::RequestOf(const ScheduledTransfer& x) const {
  TransferRequest req;
  req.route = x.route;
  req.bytes = x.bytes;
  req.max_rate_GBps = x.max_rate_GBps > 0 ? x.max_rate_GBps : std::numeric_limits<double>::infinity();
  req.extra_latency = x.extra_latency;
  req.efficiency = schedule_.efficiencies[x.efficiency];
  return req;
}

void ScheduleRun::Launch(uint32_t t) {
  const ScheduledTransfer& x = schedule_.transfers[t];
  const TransferRequest req = RequestOf(x);
  net_.Transfer(req, {.on_drained = [this, t] { Satisfy(CollectiveSchedule::Drained(t)); },
                      .on_delivered =
                          [this, t] {
                            Satisfy(CollectiveSchedule::Delivered(t));
                            Delivered();
                          }});
}

void ScheduleRun::Delivered() {
  if (++delivered_ == schedule_.transfer_count() && on_done_) on_done_();
}

// Position i's step s (s == steps: its copy) needs position i - 1's step s - 1 delivered and its own drained.
void ScheduleRun::RingTryLaunch(int g, int i) {
  const RingSchedule& r = *schedule_.ring;
  const size_t at = static_cast<size_t>(g * r.ranks + i);
  const uint32_t s = ring_launched_[at];
  const uint32_t last = static_cast<uint32_t>(r.steps) + (r.copies.empty() || r.steps == 0 ? 0u : 1u);
  if (s >= last) return;
  if (s > 0) {
    const size_t before = static_cast<size_t>(g * r.ranks + (i + r.ranks - 1) % r.ranks);
    if (ring_drained_[at] < s || ring_delivered_[before] < s) return;
  }
  ++ring_launched_[at];
  RingLaunch(g, i, static_cast<int>(s));
}

void ScheduleRun::RingLaunch(int g, int i, int s) {
  const RingSchedule& r = *schedule_.ring;
  const size_t at = static_cast<size_t>(g * r.ranks + i);
  const bool copy = s == r.steps;
  const ScheduledTransfer& x = copy ? r.copies[at] : r.edges[at];
  const TransferRequest req = RequestOf(x);
  if (copy) {  // nothing waits for a copy but the end
    net_.Transfer(req, {.on_drained = nullptr, .on_delivered = [this] { Delivered(); }});
    return;
  }
  // The stored form's order: the drain frees this position's next step, the delivery the next position's.
  net_.Transfer(req, {.on_drained =
                          [this, g, i] {
                            ++ring_drained_[static_cast<size_t>(g * schedule_.ring->ranks + i)];
                            RingTryLaunch(g, i);
                          },
                      .on_delivered =
                          [this, g, i] {
                            const int n = schedule_.ring->ranks;
                            ++ring_delivered_[static_cast<size_t>(g * n + i)];
                            RingTryLaunch(g, (i + 1) % n);
                            Delivered();
                          }});
}

std::optional<Time> RingAloneAtCaps(const RingSchedule& ring, const std::vector<LinkEfficiency>& efficiencies) {
  if (ring.topology == nullptr) return std::nullopt;
  if (ring.steps == 0) return Time::Zero();
  const Topology& topo = *ring.topology;
  // The caps fit: every position's transfer at its cap at once (a superset of what is ever in flight together).
  std::vector<double> load(static_cast<size_t>(topo.link_count()), 0.0);
  const auto fits = [&](const ScheduledTransfer& t) {
    if (t.bytes <= 0) return true;
    if (!(t.max_rate_GBps > 0) || !std::isfinite(t.max_rate_GBps)) return false;
    if (t.route == nullptr) return true;
    for (const RouteHop& h : t.route->hops) {
      const Link& link = topo.link(h.link);
      const double eff = efficiencies[t.efficiency].of(link.kind);
      if (!(eff > 0)) return false;
      load[static_cast<size_t>(h.link)] += t.max_rate_GBps * h.share / eff;
    }
    return true;
  };
  for (const ScheduledTransfer& t : ring.edges)
    if (!fits(t)) return std::nullopt;
  for (const ScheduledTransfer& t : ring.copies)
    if (!fits(t)) return std::nullopt;
  for (size_t l = 0; l < load.size(); ++l) {
    if (load[l] > topo.link(static_cast<LinkId>(l)).capacity_GBps * (1 + 1e-9)) return std::nullopt;
  }
  // What each position's transfer takes to drain, and to be delivered after that.
  const auto drain = [](const ScheduledTransfer& t) {
    return t.bytes > 0 ? Time::FromSecondsCeil(t.bytes / (t.max_rate_GBps * 1e9)) : Time::Zero();
  };
  const auto latency = [](const ScheduledTransfer& t) {
    return (t.route != nullptr ? t.route->latency : Time::Zero()) + t.extra_latency;
  };
  Time end;
  const size_t n = static_cast<size_t>(ring.ranks);
  std::vector<Time> drained(n), delivered(n), launch(n);
  for (size_t g = 0; g < static_cast<size_t>(ring.groups); ++g) {
    const ScheduledTransfer* edges = &ring.edges[g * n];
    std::vector<Time> take(n), lag(n);
    for (size_t i = 0; i < n; ++i) {
      take[i] = drain(edges[i]);
      lag[i] = latency(edges[i]);
      drained[i] = take[i];
      delivered[i] = take[i] + lag[i];
    }
    for (int s = 1; s < ring.steps; ++s) {
      for (size_t i = 0; i < n; ++i) launch[i] = std::max(delivered[(i + n - 1) % n], drained[i]);
      for (size_t i = 0; i < n; ++i) {
        drained[i] = launch[i] + take[i];
        delivered[i] = drained[i] + lag[i];
      }
    }
    for (size_t i = 0; i < n; ++i) {
      end = std::max(end, delivered[i]);
      if (!ring.copies.empty()) {
        const ScheduledTransfer& c = ring.copies[g * n + i];
        end = std::max(end, std::max(delivered[(i + n - 1) % n], drained[i]) + drain(c) + latency(c));
      }
    }
  }
  return end;
}

void ScheduleRun::Satisfy(uint32_t dep) {
  for (uint32_t i = dependent_begin_[dep]; i < dependent_begin_[dep + 1]; ++i) {
    const uint32_t t = dependents_[i];
    if (--waiting_[t] == 0) Launch(t);
  }
}

}  // namespace wiresim
