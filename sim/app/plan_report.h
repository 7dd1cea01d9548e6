// What `wiresim plan` prints and writes from a finished search: the text report (the counts, the ranked table, why
// the best ranks first, the fewest-GPU answers, the Pareto front, the candidates not simulated) and, under --out,
// plans.csv, plans.json and pareto.svg. docs/plan.md defines every column.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>

#include "sim/app/plan_search.h"
#include "sim/app/scenario.h"
#include "sim/core/status.h"

namespace wiresim::app {

// The text report; `topo_gpus`: the topology's GPUs, `top`: the rows of each list to print.
void PrintReport(std::ostream& out, const PlanSearchOutcome& o, const Scenario& s, const PlanSearchOptions& opt,
                 int topo_gpus, size_t top);

// DIR/plans.csv, DIR/plans.json and DIR/pareto.svg, each written whole or not at all.
Status WriteOutputs(const std::string& dir, const PlanSearchOutcome& o, const Scenario& s,
                    const PlanSearchOptions& opt);

// plans.json: the search's setup, counts, every row, the fewest-GPU rows and the front (--json prints it).
std::string PlansJson(const PlanSearchOutcome& o, const Scenario& s, const PlanSearchOptions& opt);

}  // namespace wiresim::app
