// What `wiresim run` reports: the block `vllm bench serve` prints (same labels), then where the GPUs' time went
// (compute, exposed collectives by parallel dimension and phase, pipeline bubbles, idle), and the files: summary.json
// (vllm bench serve's --save-result keys, plus wiresim's own under "wiresim") and requests.csv.
#pragma once

#include <iosfwd>
#include <map>
#include <string>

#include "sim/app/scenario.h"
#include "sim/app/serving_setup.h"

namespace wiresim::app {

struct RunReport {
  std::string text;
  std::string summary_json;
  std::string requests_csv;
  std::map<std::string, double> predicted;  // the vllm-bench-serve keys, for --compare
};

RunReport MakeReport(const Scenario& s, const ServingSetup& d, const ServingOutcome& o);

// Measured (a --save-result file) beside predicted for every metric both have, with the error.
void PrintComparison(std::ostream& out, const RunReport& report, const std::map<std::string, double>& measured,
                     const std::string& name);

}  // namespace wiresim::app
