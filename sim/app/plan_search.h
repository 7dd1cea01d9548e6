// The plan search behind `wiresim plan`: enumerates the ways to serve a model on a cluster (parallel plan, placement,
// weight and KV dtypes, scheduler limits, aggregated or disaggregated), prunes those that cannot fit in memory or
// cannot meet the SLO by a bound that needs no simulation, simulates the rest with the same code as `wiresim run`,
// and ranks them by an objective. docs/plan.md defines every figure, bound and rule.
//
// The work is a list of independent tasks handed to a TaskRunner (threads on this machine, and MPI ranks when the
// process was started by mpirun); results come back in task order as text, so the ranking is the same whatever
// ran them.
//
//   PlanSearch search(ctx, base_scenario, options);
//   WIRESIM_RETURN_IF_ERROR(search.Enumerate());
//   WIRESIM_ASSIGN_OR_RETURN(PlanSearchOutcome out, search.Run(runner, progress));
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/app/app_context.h"
#include "sim/app/scenario.h"
#include "sim/core/status.h"
#include "sim/parallel/plan.h"

namespace wiresim::app {

struct ServingSetup;  // serving_setup.h

// What the ranking maximises (or minimises). docs/plan.md.
enum class PlanObjective { kGoodput, kThroughputPerGpu, kMinGpus, kLatency };
Result<PlanObjective> ParseObjective(const std::string& text);
std::string ToString(PlanObjective o);

// The dimensions searched. Empty lists take the defaults docs/plan.md gives (powers of two that fit, the
// scenario's own dtypes and limits).
struct PlanSpace {
  std::vector<int> tp, pp, cp;
  std::vector<int> ep;  // 0: experts sharded over TP (no EP), 1: expert parallel over the stage; MoE only
  std::vector<int> sp;  // 0 / 1
  std::vector<std::string> weight_dtypes, kv_dtypes, placements;
  std::vector<int64_t> max_num_seqs, max_num_batched_tokens;
  bool disaggregated = false;  // also try prefill/decode on separate replicas
};

struct PlanSearchOptions {
  PlanSpace space;
  std::vector<int> gpu_pool;  // global GPU indices the search may use, in preference order
  PlanObjective objective = PlanObjective::kGoodput;
  double attainment = 0.9;  // fraction of requests that must meet every SLO for a deployment to "meet the SLO"
  int fewest_gpus_for = 3;  // after ranking: the fewest GPUs meeting the SLO, for this many best base plans
  // false: a candidate's simulation stops once more requests have missed the SLO than the attainment allows
  // (docs/plan.md); true: every simulation runs to its end.
  bool full_runs = false;
};

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
  // The plan without its replica count: what the fewest-GPU search varies dp of.
  std::string BaseKey() const;
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

// Runs `count` tasks, each returning text, and gives every caller the texts in task order.
class TaskRunner {
 public:
  virtual ~TaskRunner() = default;
  virtual std::vector<std::string> Run(size_t count, const std::function<std::string(size_t)>& task) = 0;
};

// What the workload asks, read once from its requests: what the bounds and the objective's ceilings use.
struct WorkloadShape {
  std::vector<int64_t> input;   // prompt lengths
  std::vector<int64_t> output;  // output lengths
  double span_s = 0;            // first to last arrival; 0: all at once (or closed loop)
  bool open_loop = true;        // arrivals at a rate (not all at once, not bounded by a concurrency)
};

struct PlanSearchOutcome {
  std::vector<PlanRow> rows;    // every candidate, ranked: simulated ones first, in objective order
  std::vector<PlanRow> fewest;  // the fewest-GPU search's answers, best first (empty without an SLO)
  std::vector<size_t> pareto;   // indices into rows: the throughput-per-GPU vs tokens/s/user front
  int64_t considered = 0, invalid = 0, pruned_memory = 0, pruned_bound = 0, pruned_objective = 0, simulated = 0,
          failed = 0, duplicate = 0, simulations = 0;
  int64_t stopped = 0;           // simulated rows whose run stopped early (they cannot meet the SLO)
  int64_t pruned_placement = 0;  // placements that were not finalists (section 2 of docs/plan.md)
  bool has_slo = false;
  WorkloadShape workload;
};

class PlanSearch {
 public:
  PlanSearch(AppContext& ctx, Scenario base, PlanSearchOptions options);

  // The candidates, in a fixed order. Errors: a search dimension that leaves nothing to try.
  Status Enumerate();
  const std::vector<PlanCandidate>& candidates() const { return candidates_; }

  // `progress(done, total, phase)` after each task's result has come back (may be empty).
  Result<PlanSearchOutcome> Run(TaskRunner& runner,
                                const std::function<void(size_t, size_t, const std::string&)>& progress);

  // The scenario one candidate runs (exposed for tests and for `wiresim run` commands the report prints).
  Scenario ScenarioOf(const PlanCandidate& c) const;

 private:
  // Builds the deployment of out->c as `wiresim run` would, and fills out's fate (kSimulated when it can run),
  // bounds, GPUs and layout; nullptr (and the reason in out->why) when it cannot be built.
  std::unique_ptr<ServingSetup> Build(AppContext& local, const Scenario& s, PlanRow* out) const;
  PlanRow Screen(const PlanCandidate& c) const;
  PlanRow Simulate(const PlanCandidate& c) const;
  Result<WorkloadShape> ReadWorkload() const;

  AppContext& ctx_;
  Scenario base_;
  PlanSearchOptions options_;
  std::vector<PlanCandidate> candidates_;
  int64_t requests_ = 0;  // the workload's requests (Run reads them before simulating)
};

}  // namespace wiresim::app
