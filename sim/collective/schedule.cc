#include "sim/collective/schedule.h"

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
}

void ScheduleRun::Start() {
  sim_.ScheduleAfter(schedule_.start_delay, [this] {
    if (schedule_.transfers.empty()) {
      if (on_done_) on_done_();
      return;
    }
    for (uint32_t t = 0; t < schedule_.transfers.size(); ++t)
      if (waiting_[t] == 0) Launch(t);
  });
}

void ScheduleRun::Launch(uint32_t t) {
  const ScheduledTransfer& x = schedule_.transfers[t];
  TransferRequest req;
  req.route = x.route;
  req.bytes = x.bytes;
  req.max_rate_GBps = x.max_rate_GBps > 0 ? x.max_rate_GBps : std::numeric_limits<double>::infinity();
  req.extra_latency = x.extra_latency;
  req.efficiency = schedule_.efficiencies[x.efficiency];
  net_.Transfer(req, {.on_drained = [this, t] { Satisfy(CollectiveSchedule::Drained(t)); },
                      .on_delivered =
                          [this, t] {
                            Satisfy(CollectiveSchedule::Delivered(t));
                            if (++delivered_ == schedule_.transfers.size() && on_done_) on_done_();
                          }});
}

void ScheduleRun::Satisfy(uint32_t dep) {
  for (uint32_t i = dependent_begin_[dep]; i < dependent_begin_[dep + 1]; ++i) {
    const uint32_t t = dependents_[i];
    if (--waiting_[t] == 0) Launch(t);
  }
}

}  // namespace wiresim
