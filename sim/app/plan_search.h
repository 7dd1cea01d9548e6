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
#include "sim/app/plan_ranking.h"
#include "sim/app/plan_row.h"
#include "sim/app/scenario.h"
#include "sim/core/status.h"
#include "sim/parallel/placement_search.h"
#include "sim/parallel/plan.h"

namespace wiresim::app {

struct ServingSetup;  // serving_setup.h

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

// Runs `count` tasks, each returning text, and gives every caller the texts in task order.
class TaskRunner {
 public:
  virtual ~TaskRunner() = default;
  virtual std::vector<std::string> Run(size_t count, const std::function<std::string(size_t)>& task) = 0;
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
  // bounds, GPUs, layout and placement cost (its score in *score, when given and aggregated); nullptr (and the
  // reason in out->why) when it cannot be built.
  std::unique_ptr<ServingSetup> Build(AppContext& local, const Scenario& s, PlanRow* out,
                                      PlacementScore* score = nullptr) const;
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
