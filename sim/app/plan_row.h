// A candidate of the plan search (one deployment to try), what became of it, and what its simulation measured: the
// rows `wiresim plan` ranks and writes (plans.csv, plans.json; docs/plan.md defines each figure). A row travels
// between threads and MPI ranks as JSON text, every double bit for bit.
//
//   PlanRow r = ...;
//   WIRESIM_ASSIGN_OR_RETURN(PlanRow back, PlanRow::FromJson(r.ToJson()));   // back.ToJson() == r.ToJson()
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/status.h"
#include "sim/parallel/plan.h"

namespace wiresim::app {

// The same plan with `dp` replicas (and EP spanning them, if it did).
ParallelPlan WithDp(ParallelPlan p, int dp);

// One deployment to try.
struct PlanCandidate {
  ParallelPlan plan;  // aggregated: the replica's plan with dp; disaggregated: the prefill role's (see below)
  std::string placement = "auto";
  std::string weight_dtype, kv_dtype;
  int64_t max_num_seqs = 0, max_num_batched_tokens = 0;
  bool disaggregated = false;
  ParallelPlan prefill, decode;  // disaggregated: each role's replica plan
  int64_t prefill_replicas = 0, decode_replicas = 0;
  int gpus = 0;  // GPUs the deployment uses

  // "tp=8,dp=2" or "P 2x tp=4 + D 1x tp=8".
  std::string PlanLabel() const;
  // The plan without its replica counts: what the fewest-GPU search varies dp (or each role's replicas) of.
  std::string BaseKey() const;
  // The deployment without its placement: plan (with replica counts), dtypes and scheduler limits.
  std::string DeploymentKey() const;
};

// (Serialised as its number between ranks: new fates go at the end.)
enum class CandidateFate {
  kSimulated,
  kInvalid,
  kPrunedMemory,
  kPrunedBound,
  kPrunedObjective,
  kFailed,
  kDuplicate,
  kPrunedPlacement,  // its placement's communication estimate is well above another placement's for the same plan
};
std::string_view ToString(CandidateFate f);

struct PlanRow {
  PlanCandidate c;
  CandidateFate fate = CandidateFate::kInvalid;
  std::string why;  // invalid / pruned / failed: the reason

  // Bounds, from the model and the GPUs alone (docs/plan.md): a decode step of one token reads at least the active
  // weights once; a prefill does at least the linear FLOPs at the GPUs' peak.
  double tpot_bound_ms = 0;
  double prefill_ms_per_token = 0;
  // The placement's estimated communication per 8192-token step (ScorePlacement, docs/placement.md); -1 when some
  // group cannot reach its members; 0 for disaggregated candidates (not scored).
  double placement_cost_ms = 0;

  // Simulated (fate kSimulated).
  double ttft_p50_ms = 0, ttft_p99_ms = 0, tpot_p50_ms = 0, tpot_p99_ms = 0, e2el_p99_ms = 0;
  double output_throughput = 0;  // tok/s
  double request_throughput = 0;
  double goodput = 0;         // requests meeting every SLO per second (vllm bench serve's request_goodput)
  double ranked_goodput = 0;  // what the ranking uses: attainment x offered rate under an open-loop rate, else goodput
  double attainment = 0;      // requests meeting every SLO / requests sent
  double bubble = 0, exposed = 0;  // fractions of GPU time (run's gpu_time_fraction)
  int64_t completed = 0, failed = 0;
  std::string placement_used;  // the GPUs, in rank order
  std::string layout;          // the replicas' GPU sets per stage, order-free: equal layouts run alike
  std::vector<std::string> placement_notes;

  bool meets_slo = false;
  // Stopped early: at `stopped_at_s` of simulated time `missed` requests had missed the SLO, more than the
  // attainment allows, and `met` had finished meeting it; the latency and throughput figures above were not
  // measured (0) and `attainment` is the most it could have reached.
  bool stopped = false;
  double stopped_at_s = 0;
  int64_t missed = 0, met = 0;
  // Stopped rows rank among themselves by the share of the requests judged by the stop that met the SLO.
  double JudgedAttainment() const {
    return met + missed > 0 ? static_cast<double>(met) / static_cast<double>(met + missed) : 0.0;
  }
  double PerGpu() const { return c.gpus > 0 ? output_throughput / c.gpus : 0; }
  double TokensPerUser() const { return tpot_p50_ms > 0 ? 1000.0 / tpot_p50_ms : 0; }

  std::string ToJson() const;
  static Result<PlanRow> FromJson(const std::string& text);
};

}  // namespace wiresim::app
