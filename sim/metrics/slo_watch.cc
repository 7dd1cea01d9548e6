#include "sim/metrics/slo_watch.h"

namespace wiresim {

SloWatch::SloWatch(const ServingSlo& slo, const RequestMetrics& metrics) : slo_(slo), metrics_(metrics) {}

void SloWatch::OnSent(int64_t id) {
  if (slo_.ttft_ms > 0) awaiting_first_.push_back(id);
  if (slo_.e2el_ms > 0) awaiting_finish_.push_back(id);
}

void SloWatch::Miss(int64_t id) {
  const size_t i = static_cast<size_t>(id);
  if (counted_.size() <= i) counted_.resize(i + 1, false);
  if (counted_[i]) return;
  counted_[i] = true;
  ++missed_;
}

void SloWatch::OnFinished(int64_t id) {
  const RequestRecord& r = metrics_.records()[static_cast<size_t>(id)];
  if (!r.succeeded() || !MeetsSlo(r, slo_)) {
    Miss(id);
  } else {
    ++met_;
  }
}

template <typename SettledAt>
void SloWatch::Drain(std::deque<int64_t>& queue, double limit_ms, Time now, SettledAt settled_at) {
  while (!queue.empty()) {
    const int64_t id = queue.front();
    const RequestRecord& r = metrics_.records()[static_cast<size_t>(id)];
    const Time at = settled_at(r);
    // The event happened (judged with the rest at finish), or it has not and can no longer be in time: its latency
    // is at least now - sent, which already exceeds the SLO (the comparison MeetsSlo makes).
    if (at.IsMax() && !ExceedsSlo(limit_ms, r.sent, now)) return;
    if (at.IsMax()) Miss(id);
    queue.pop_front();
  }
}

void SloWatch::Advance(Time now) {
  if (slo_.ttft_ms > 0) {
    Drain(awaiting_first_, slo_.ttft_ms, now, [](const RequestRecord& r) { return r.first_token; });
  }
  if (slo_.e2el_ms > 0) {
    Drain(awaiting_finish_, slo_.e2el_ms, now, [](const RequestRecord& r) { return r.finished; });
  }
}

}  // namespace wiresim
