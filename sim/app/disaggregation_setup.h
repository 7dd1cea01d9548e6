// A disaggregated deployment ([disaggregation] in a scenario, or --prefill-plan and the other role flags) resolved
// and run: the prefill and decode roles, each a plan, its replicas' GPUs and its KV blocks, and the run that joins
// them with KV transfers on the network (sim/serving/disaggregated.h). GPUs go to the prefill replicas first, then
// to the decode replicas, in the order deployment.gpus lists them (or the topology's order).
//
//   if (scenario.disaggregated) WIRESIM_RETURN_IF_ERROR(ResolveDisaggregation(scenario, mem, setup));
//   WIRESIM_ASSIGN_OR_RETURN(ServingOutcome o, RunDisaggregated(ctx, setup, /*progress=*/false));
#pragma once

#include <string>
#include <vector>

#include "sim/app/app_context.h"
#include "sim/core/status.h"
#include "sim/parallel/memory.h"
#include "sim/parallel/placement.h"
#include "sim/parallel/plan.h"
#include "sim/serving/disaggregated.h"

namespace wiresim::app {

struct Scenario;
struct ServingSetup;
struct ServingOutcome;

struct ServingRole {
  std::string name;  // "prefill" or "decode"
  ParallelPlan plan;
  std::vector<Placement> replicas;  // per replica: its ranks' global GPUs
  MemoryPlan memory;                // of its first replica (all hold the same)
  int64_t kv_blocks = 0;            // per replica
};

struct DisaggregationSetup {
  ServingRole prefill, decode;
  KvTransferMode mode = KvTransferMode::kAfterPrefill;
};

// The scenario fields a disaggregated run cannot take (deployment.plan, a placement other than packed); run before
// anything is resolved.
Status CheckDisaggregationFields(const Scenario& s);
// Resolves the roles against setup->topo, setup->model and setup->specs, into setup->disaggregation; setup->plan,
// placement, memory and kv_blocks become the prefill role's (its first replica's). Errors name the field.
Status ResolveDisaggregation(const Scenario& s, const MemoryOptions& mem, ServingSetup* setup);
// Runs a deployment that ResolveDisaggregation resolved.
Result<ServingOutcome> RunDisaggregated(AppContext& ctx, ServingSetup& setup, bool progress);

}  // namespace wiresim::app
