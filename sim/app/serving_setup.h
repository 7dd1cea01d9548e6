// Turning a Scenario into a runnable deployment, and running it: the topology and the GPUs the plan uses, the
// model and its memory plan (KV blocks per replica), the kernel and collective models (with a calibration when
// given), the engine's choices, the replicas and the request source. Every resolution error names the scenario
// field it came from, and nothing is written before the run has succeeded.
//
//   WIRESIM_ASSIGN_OR_RETURN(std::unique_ptr<ServingSetup> d, BuildServing(ctx, scenario));
//   WIRESIM_ASSIGN_OR_RETURN(ServingOutcome o, RunServing(ctx, *d, /*progress=*/false));
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/app/app_context.h"
#include "sim/app/calibration_input.h"
#include "sim/app/disaggregation_setup.h"
#include "sim/app/scenario.h"
#include "sim/calibration/fitted_calibration.h"
#include "sim/collective/collective_timing.h"
#include "sim/compute/gpu_spec.h"
#include "sim/compute/kernel_time_model.h"
#include "sim/metrics/gpu_time.h"
#include "sim/metrics/request_metrics.h"
#include "sim/metrics/timeline.h"
#include "sim/model/model_spec.h"
#include "sim/parallel/memory.h"
#include "sim/parallel/placement_search.h"
#include "sim/parallel/plan.h"
#include "sim/serving/engine.h"
#include "sim/serving/iteration_model.h"
#include "sim/serving/link_use.h"
#include "sim/serving/replica.h"
#include "sim/serving/serving_run.h"
#include "sim/serving/workload.h"
#include "sim/topology/topology.h"

namespace wiresim::app {

struct ServingSetup {
  Scenario scenario;
  std::unique_ptr<Topology> topo;
  ModelSpec model;
  ParallelPlan plan;
  Placement placement;  // rank -> global GPU
  // Set when the placement is auto: the search's estimate of one iteration's communication, and why.
  std::optional<PlacementScore> placement_score;
  std::vector<GpuSpec> specs;  // by global GPU
  MemoryPlan memory;
  int64_t kv_blocks = 0;  // per DP rank
  std::optional<LoadedCalibration> calibration;
  NcclVersionChoice nccl;   // the NCCL release the collectives model, and where it came from
  std::string kernel_note;  // what times kernels
  std::map<std::string, std::unique_ptr<KernelTimeModel>> kernel_models;  // by GPU spec name
  std::vector<const KernelTimeModel*> kernel_of_gpu;
  std::unique_ptr<CollectiveModel> collectives;
  std::unique_ptr<FittedCollectiveCalibration> collective_calibration;
  std::unique_ptr<ClosedFormCollectives> closed;
  std::unique_ptr<EngineAllReduce> engine_collectives;
  std::string engine;
  EngineProfile profile;
  // How the EP group exchanges tokens: deployment.ep_exchange, "auto" being the engine's
  // (EngineProfile::ep_all_gather).
  StepGraphOptions::EpExchange ep_exchange = StepGraphOptions::EpExchange::kAllToAll;
  Time host_overhead;
  ReplicaOptions replica_options;
  SpeculativeConfig speculative;  // off unless [speculative] num_speculative_tokens > 0
  RouterPolicy router = RouterPolicy::kRoundRobin;
  // The workload: a trace, or synthetic.
  bool from_trace = false;
  TraceOptions trace_options;
  SyntheticWorkload synthetic;
  // Set (after_misses >= 0): the run stops once more requests have missed `slo` than that (wiresim plan: the
  // deployment can no longer meet its attainment); ServingOutcome::run says so.
  struct {
    ServingSlo slo;
    int64_t after_misses = -1;
  } early_stop;
  // Set when prefill and decode run on separate replicas; plan, placement, memory and kv_blocks above are then the
  // prefill role's.
  std::optional<DisaggregationSetup> disaggregation;
};

struct ServingOutcome {
  std::unique_ptr<RequestMetrics> metrics;
  std::vector<GpuBreakdown> gpus;  // every GPU of the topology
  std::vector<ReplicaStats> replicas;
  std::vector<int64_t> preemptions;  // per replica
  ServingRunStats run;
  size_t compiled_shapes = 0;
  bool compiled = false;
  bool collapsed =
      false;           // not compiled, but each rank's kernels between two collectives were one op (docs/serving.md)
  bool flows = false;  // collectives that meet other traffic ran as transfers on the flow network
  std::vector<std::vector<int>> shared_groups;  // collective groups that can meet other traffic on a link
  double wall_seconds = 0;
  std::vector<KvTransferRecord> kv_transfers;  // disaggregated: one per request whose KV moved, as they landed
  ServingSeries series;                        // collected when RunWatchers::series asks
  // Per-link loads and utilisation over time, where the network keeps per-link byte ledgers (empty otherwise).
  std::vector<LinkLoad> link_loads;
  // Every link that carried bytes: collectives (closed-form ones as NCCL's choice loads them), flows, KV moves.
  std::vector<LinkUse> links;
  bool link_busy_complete = true;  // false: compiled iterations' collectives added bytes without busy time
  std::vector<CounterSeries> link_series;
};

// What watches a run besides its own accounting (all optional; none of them steers it).
struct RunWatchers {
  Timeline* timeline = nullptr;  // sees every kernel and collective (or compiled body)
  bool series = false;           // sample each replica's scheduler into ServingOutcome::series
};

// The collective timers of a run: flows for the groups that can meet other traffic (when `net` is a FlowNetwork
// and `flows` is set), closed forms for the rest, behind a LinkUseTimer that counts every collective's link bytes
// into `link_use` (the network's ledger counts the flows).
struct RunTimers {
  std::unique_ptr<CollectiveTimer> inner;
  std::unique_ptr<CollectiveTimer> timer;  // what the replicas use
};
RunTimers MakeRunTimers(Simulator& sim, Network* flow_net, ClosedFormCollectives& closed, LinkUseAccounting& link_use,
                        const std::vector<std::vector<int>>& shared_groups, std::set<std::vector<int>> private_groups);

// The progress line a run prints on ctx.err as requests finish (`total`: 0 when unknown, as for a trace).
std::function<void(int64_t, int64_t, Time)> ProgressLine(AppContext& ctx, int64_t total);

// The collective groups (GPUs in call order) the replicas' iterations use, each once, in order of first use.
Result<std::vector<std::vector<int>>> CollectiveGroupsOf(const std::vector<std::unique_ptr<IterationModel>>& models);

// The scenario's MoE options and drafter for every step graph of the deployment (ValidateScenario has checked the
// words): routing, imbalance, two-batch overlap, the EP exchange and its rows, and the GPUs' NVLink domains.
StepGraphOptions MoeOptions(const ServingSetup& d, const Scenario& s, const DraftModel& draft);

// The report's and the timeline's view of o->links: each loaded link's utilisation, bytes / (capacity x run), and
// the five hottest links' utilisation over time (from what `use` counted: flows have no series).
void FillLinkLoads(const Topology& topo, Time end, const LinkUseAccounting& use, ServingOutcome* o);

Result<std::unique_ptr<ServingSetup>> BuildServing(AppContext& ctx, const Scenario& scenario);
// The scenario's model (a shipped name, a TOML or a config.json) with its weight and KV dtypes applied.
Status ResolveModel(AppContext& ctx, const Scenario& s, ModelSpec* model);
// The requests: the trace, or the synthetic workload drawn from sim's named streams.
Result<std::unique_ptr<RequestSource>> OpenRequests(AppContext& ctx, const ServingSetup& setup, Simulator& sim);
// Runs the deployment. `progress`: a line on ctx.err as requests finish.
Result<ServingOutcome> RunServing(AppContext& ctx, ServingSetup& setup, bool progress, const RunWatchers& watch = {});

}  // namespace wiresim::app
