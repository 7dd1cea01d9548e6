// What `wiresim run` reports: the block `vllm bench serve` prints (same labels), then where the GPUs' time went
// (compute, exposed collectives by parallel dimension and phase, pipeline bubbles, idle), and the files: summary.json
// (vllm bench serve's --save-result keys, plus wiresim's own under "wiresim") and requests.csv.
#pragma once

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/app/scenario.h"
#include "sim/app/serving_setup.h"

namespace wiresim::app {

struct RunReport {
  std::string text;
  nlohmann::ordered_json summary;  // summary.json's object: what-ifs and --compare add to it before it is written
  std::string requests_csv;
  std::map<std::string, double> predicted;  // the vllm-bench-serve keys, for --compare
};

RunReport MakeReport(const Scenario& s, const ServingSetup& d, const ServingOutcome& o);

// summary.json's text: the object, indented by 2, and a newline.
std::string SummaryJson(const RunReport& report);

// Where the measured run (a --save-result file) served another workload than the prediction: completed requests,
// prompt or output tokens more than 1% apart. One message each, naming the figures.
std::vector<std::string> WorkloadMismatches(const RunReport& report, const std::map<std::string, double>& measured);

// Adds the comparison to summary.json, under "wiresim": "compare": {"file", "metrics": {KEY: {"measured",
// "predicted", "error"}}, "warnings": `warnings` (WorkloadMismatches)}; error is predicted / measured - 1 (null where
// measured is 0).
void AddComparisonToJson(RunReport& report, const std::map<std::string, double>& measured, const std::string& name,
                         const std::vector<std::string>& warnings);

// Measured (a --save-result file) beside predicted for every metric both have, with the error.
void PrintComparison(std::ostream& out, const RunReport& report, const std::map<std::string, double>& measured,
                     const std::string& name);

}  // namespace wiresim::app
