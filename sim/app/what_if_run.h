// What-ifs applied to a deployment (what_if.h gives them): the topology with degraded and failed links, the check
// that every GPU the plan makes talk still reaches its peers, the kernel models of straggling GPUs; and the healthy
// twin of a what-if run with the comparison `wiresim run` prints and writes.
//
//   // in BuildServing, after the topology is read:
//   WIRESIM_RETURN_IF_ERROR(ApplyLinkWhatIfs(s, &d->topo));
//   // in `wiresim run`, after the what-if run:
//   WIRESIM_ASSIGN_OR_RETURN(RunReport healthy, RunHealthy(ctx, s, /*progress=*/false));
//   AddWhatIfComparison(s, d, healthy, &report);
#pragma once

#include <memory>

#include "sim/app/app_context.h"
#include "sim/app/run_report.h"
#include "sim/app/scenario.h"
#include "sim/app/serving_setup.h"
#include "sim/topology/topology.h"

namespace wiresim::app {

// Replaces *topo by its variant with the scenario's degraded and failed links (no-op without them). Errors, naming
// the flag or file line: an element the topology does not have, two elements with no link between them.
Status ApplyLinkWhatIfs(const Scenario& s, std::unique_ptr<Topology>* topo);

// With failed elements: every pair of GPUs that meet in one of the plan's collectives or pipeline sends must still
// reach each other on d.topo. Else an error naming the GPU, the peer it lost and the failures.
// REQUIRES: d's topology, model, plan and placement set.
Status CheckWhatIfReach(const Scenario& s, const ServingSetup& d);

// Times each straggler GPU's kernels with its healthy model slowed by its factor (d.kernel_of_gpu repointed, the
// model kept in d.kernel_models). A replica with a straggler then times its GPUs unlike each other, so its
// iterations run op by op (IterationModel::CanCompile). Errors: a GPU name or index the topology does not have.
Status ApplyStragglers(const Scenario& s, ServingSetup& d);

// The scenario without its what-ifs, run and reported.
Result<RunReport> RunHealthy(AppContext& ctx, const Scenario& s, bool progress);

// Appends to the what-if run's report the block comparing it with the healthy run (median and p99 TTFT, TPOT, ITL,
// E2EL, output throughput; the change in percent) and notes on how each what-if was applied, and adds to its
// summary.json the healthy run's figures ("healthy") and the what-ifs ("what_if").
void AddWhatIfComparison(const Scenario& s, const ServingSetup& d, const RunReport& healthy, RunReport* report);

}  // namespace wiresim::app
