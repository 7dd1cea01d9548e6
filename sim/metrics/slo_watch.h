// SloWatch: counts, as a run goes, the requests that have missed a serving SLO, as early as the miss is certain,
// so that a run which can no longer reach an SLO attainment can stop (wiresim plan does; docs/plan.md).
//
// A request has missed once
//   - its stream ended without meeting every SLO set (MeetsSlo), or it failed;
//   - the clock passed sent + TTFT SLO before its first token (its TTFT can only be later);
//   - the clock passed sent + E2EL SLO before it finished.
// TPOT is judged when the request finishes: the tokens it will end with are not known before.
//
//   SloWatch watch(slo, metrics);
//   watch.OnSent(id);  ...  watch.OnFinished(id);  watch.Advance(now);
//   if (watch.missed() > allowed) sim.Stop();
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "sim/core/time.h"
#include "sim/metrics/request_metrics.h"

namespace wiresim {

class SloWatch {
 public:
  // `metrics` is the run's collector; the watch reads its records (sent, first token, finished) and never writes.
  SloWatch(const ServingSlo& slo, const RequestMetrics& metrics);

  // After metrics.OnSent(id, ...).
  void OnSent(int64_t id);
  // After metrics.OnFinished(id, ...), or when the request failed (rejected): judged whole.
  void OnFinished(int64_t id);
  // The clock is at `now`: counts the requests whose TTFT or E2EL deadline has passed unmet.
  void Advance(Time now);

  int64_t missed() const { return missed_; }
  int64_t met() const { return met_; }  // requests finished meeting every SLO

 private:
  void Miss(int64_t id);
  // Pops the front of `queue` while its request is settled by `now` for one SLO (`limit_ms`; `settled_at` gives
  // the time the SLO's event happened, Max while it has not).
  template <typename SettledAt>
  void Drain(std::deque<int64_t>& queue, double limit_ms, Time now, SettledAt settled_at);

  ServingSlo slo_;
  const RequestMetrics& metrics_;
  std::deque<int64_t> awaiting_first_;   // sent, in send order (sent times never decrease), TTFT not yet judged
  std::deque<int64_t> awaiting_finish_;  // the same for E2EL
  std::vector<bool> counted_;            // by id: already counted as missed
  int64_t missed_ = 0;
  int64_t met_ = 0;
};

}  // namespace wiresim
