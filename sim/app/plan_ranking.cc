#include "sim/app/plan_ranking.h"

#include <algorithm>
#include <cmath>

namespace wiresim::app {
namespace {

// v counted in whole per cents of best (as is when there is no best).
double Step(double v, double best) { return best > 0 ? std::floor(100.0 * v / best + 1e-9) : v; }

}  // namespace

Result<PlanObjective> ParseObjective(const std::string& text) {
  if (text == "goodput") return PlanObjective::kGoodput;
  if (text == "throughput-per-gpu") return PlanObjective::kThroughputPerGpu;
  if (text == "min-gpus") return PlanObjective::kMinGpus;
  if (text == "latency") return PlanObjective::kLatency;
  return InvalidArgument("--objective " + text + ": expected goodput, throughput-per-gpu, min-gpus or latency");
}

std::string ToString(PlanObjective o) {
  switch (o) {
    case PlanObjective::kGoodput:
      return "goodput";
    case PlanObjective::kThroughputPerGpu:
      return "throughput-per-gpu";
    case PlanObjective::kMinGpus:
      return "min-gpus";
    case PlanObjective::kLatency:
      return "latency";
  }
  return "?";
}

// Share of requests the bounds alone show cannot meet the SLO: a prefill of L tokens takes at least L x the
// prefill bound (and a weight pass), every later token the TPOT bound.
double SurelyMissed(const PlanRow& r, const WorkloadShape& w, const Scenario& s) {
  if (w.input.empty()) return 0;
  int64_t missed = 0;
  for (size_t i = 0; i < w.input.size(); ++i) {
    const double ttft = std::max(r.tpot_bound_ms, r.prefill_ms_per_token * static_cast<double>(w.input[i]));
    const double tpot = w.output[i] > 1 ? r.tpot_bound_ms : 0.0;
    const double e2el = ttft + static_cast<double>(w.output[i] - 1) * r.tpot_bound_ms;
    if ((s.slo_ttft_ms > 0 && ttft > s.slo_ttft_ms) || (s.slo_tpot_ms > 0 && tpot > s.slo_tpot_ms) ||
        (s.slo_e2el_ms > 0 && e2el > s.slo_e2el_ms)) {
      ++missed;
    }
  }
  return static_cast<double>(missed) / static_cast<double>(w.input.size());
}

double RankOrder::Goodput(const PlanRow& r) const {
  if (offered_rate > 0) {
    const double served =
        has_slo ? r.attainment
                : static_cast<double>(r.completed) / static_cast<double>(std::max<int64_t>(1, r.completed + r.failed));
    return served * offered_rate;
  }
  return has_slo ? r.goodput : r.request_throughput;
}

double RankOrder::Key(const PlanRow& r) const {
  switch (objective) {
    case PlanObjective::kGoodput:
      return Step(Goodput(r), best_goodput);
    case PlanObjective::kThroughputPerGpu:
      return Step(r.PerGpu(), best_per_gpu);
    case PlanObjective::kMinGpus:
      return -r.c.gpus;
    case PlanObjective::kLatency:
      return -r.e2el_p99_ms;
  }
  return 0;
}

bool RankOrder::operator()(const PlanRow& a, const PlanRow& b) const {
  if (a.meets_slo != b.meets_slo) return a.meets_slo;
  if (a.meets_slo && Key(a) != Key(b)) return Key(a) > Key(b);
  // A run stopped early was not measured: it follows the rows that ran to the end, by the share of the requests
  // judged before its stop that met the SLO.
  if (a.stopped != b.stopped) return !a.stopped;
  if (a.stopped && a.JudgedAttainment() != b.JudgedAttainment()) return a.JudgedAttainment() > b.JudgedAttainment();
  if (a.attainment != b.attainment) return a.attainment > b.attainment;
  if (a.tpot_p50_ms != b.tpot_p50_ms) return a.tpot_p50_ms < b.tpot_p50_ms;
  if (a.c.gpus != b.c.gpus) return a.c.gpus < b.c.gpus;
  if (a.ttft_p99_ms != b.ttft_p99_ms) return a.ttft_p99_ms < b.ttft_p99_ms;
  return a.c.PlanLabel() + a.c.placement < b.c.PlanLabel() + b.c.placement;
}

void RankOrder::SetBests(const std::vector<PlanRow>& rows) {
  for (const PlanRow& r : rows) {
    if (r.fate != CandidateFate::kSimulated || !r.meets_slo) continue;
    best_goodput = std::max(best_goodput, Goodput(r));
    best_per_gpu = std::max(best_per_gpu, r.PerGpu());
  }
}

std::vector<size_t> ParetoFront(const std::vector<PlanRow>& rows) {
  std::vector<size_t> front;
  for (size_t i = 0; i < rows.size(); ++i) {
    const PlanRow& a = rows[i];
    if (a.fate != CandidateFate::kSimulated || a.stopped) continue;
    bool dominated = false;
    for (size_t k = 0; k < rows.size() && !dominated; ++k) {
      const PlanRow& b = rows[k];
      if (k == i || b.fate != CandidateFate::kSimulated || b.stopped) continue;
      dominated = b.PerGpu() >= a.PerGpu() && b.TokensPerUser() >= a.TokensPerUser() &&
                  (b.PerGpu() > a.PerGpu() || b.TokensPerUser() > a.TokensPerUser());
    }
    if (!dominated) front.push_back(i);
  }
  std::stable_sort(front.begin(), front.end(),
                   [&](size_t a, size_t b) { return rows[a].TokensPerUser() < rows[b].TokensPerUser(); });
  return front;
}

}  // namespace wiresim::app
