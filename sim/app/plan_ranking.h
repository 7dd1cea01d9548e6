// How `wiresim plan` judges its rows (docs/plan.md, sections 2 and 4): the objective, the workload's shape that the
// bounds read, the share of requests the bounds alone show must miss the SLO, the ranking order and the Pareto front.
//
//   RankOrder order{PlanObjective::kGoodput, /*has_slo=*/true};
//   order.SetBests(rows);
//   std::stable_sort(rows.begin(), rows.end(), order);
//   std::vector<size_t> front = ParetoFront(rows);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/app/plan_row.h"
#include "sim/app/scenario.h"
#include "sim/core/status.h"

namespace wiresim::app {

// What the ranking maximises (or minimises). docs/plan.md.
enum class PlanObjective { kGoodput, kThroughputPerGpu, kMinGpus, kLatency };
Result<PlanObjective> ParseObjective(const std::string& text);
std::string ToString(PlanObjective o);

// What the workload asks, read once from its requests: what the bounds and the objective's ceilings use.
struct WorkloadShape {
  std::vector<int64_t> input;   // prompt lengths
  std::vector<int64_t> output;  // output lengths
  double span_s = 0;            // first to last arrival; 0: all at once (or closed loop)
  bool open_loop = true;        // arrivals at a rate (not all at once, not bounded by a concurrency)
};

// How a simulated row ranks (true: a before b). Rows that meet the SLO come first. Among them, goodput and
// throughput per GPU count in steps of 1% of the best row's value: at a rate every plan keeps up with, they serve
// the same requests and differ by noise, and the tie goes to the SLO attainment, then the per-user token rate
// (median TPOT), then fewer GPUs. Rows that miss the SLO follow, by attainment, and the runs stopped early last (by
// the share of the requests judged by the stop that met the SLO).
//
// Under an open-loop rate, the goodput ranked is the SLO attainment times the offered rate (requests over the
// arrival span): vllm's request_goodput divides by a duration that includes draining the last requests, which
// differs between plans that served every request in time. Closed-loop and all-at-once workloads rank vllm's.
struct RankOrder {
  PlanObjective objective;
  bool has_slo;
  double offered_rate = 0;                    // requests per second over the arrival span; 0: not an open-loop workload
  double best_goodput = 0, best_per_gpu = 0;  // over rows that meet the SLO

  // The goodput ranked (above); without an SLO, the requests served.
  double Goodput(const PlanRow& r) const;
  // The objective's key, bigger is better, goodput and throughput per GPU in 1% steps of the best.
  double Key(const PlanRow& r) const;
  bool operator()(const PlanRow& a, const PlanRow& b) const;
  // The bests the 1% steps count from, over the simulated rows that meet the SLO.
  void SetBests(const std::vector<PlanRow>& rows);
};

// Share of requests the bounds alone show cannot meet the SLO: a prefill of L tokens takes at least L x the
// prefill bound (and a weight pass), every later token the TPOT bound.
double SurelyMissed(const PlanRow& r, const WorkloadShape& w, const Scenario& s);

// The simulated rows run to their end that no other such row beats on both output tokens/s per GPU and tokens/s per
// user (one at least as good on both and better on one), as indices into `rows`, by tokens/s per user.
std::vector<size_t> ParetoFront(const std::vector<PlanRow>& rows);

}  // namespace wiresim::app
