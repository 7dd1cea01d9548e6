// The command-line flags that set a serving scenario's fields (`wiresim run` and `wiresim plan` share them): their
// descriptions for Boost.Program_options, and applying what was given to a Scenario, each field remembering the
// flag it came from. A verb that searches over some fields (plan: --plan, --weight-dtype lists) leaves those out.
//
//   po::options_description options("options");
//   AddScenarioOptions(options, /*skip=*/{});
//   ...parse...
//   WIRESIM_RETURN_IF_ERROR(ApplyScenarioFlags(vm, scenario, /*skip=*/{}));
#pragma once

#include <set>
#include <string>

#include <boost/program_options.hpp>

#include "sim/app/app_context.h"
#include "sim/app/scenario.h"
#include "sim/core/status.h"

namespace wiresim::app {

// Adds every scenario flag (--topology, --model, --plan, ... --degrade) but those named in `skip`.
void AddScenarioOptions(boost::program_options::options_description& options, const std::set<std::string>& skip);

// Sets the fields of `s` whose flags were given (and are not in `skip`), recording each flag in s.where. Errors:
// values no field can take (a --rate that is not a number or inf, a what-if without its factor, ...).
Status ApplyScenarioFlags(const boost::program_options::variables_map& vm, Scenario& s,
                          const std::set<std::string>& skip);

// --slo "ttft=200,tpot=50,e2el=10000" (milliseconds) into the scenario's [slo] fields.
Status ApplySloFlag(const std::string& text, Scenario& s);

// The scenario a verb runs: the file `scenario_file` names (the shipped default.toml when it is empty and --topology
// and --model are not both given; none, "command line", when they are), then the flags (those in `skip` left out)
// and `slo` (--slo's text, may be empty) over it, validated.
Result<Scenario> ScenarioFromCommandLine(AppContext& ctx, const boost::program_options::variables_map& vm,
                                         const std::string& scenario_file, const std::string& slo,
                                         const std::set<std::string>& skip);

}  // namespace wiresim::app
