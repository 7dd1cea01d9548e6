// The part of `wiresim run`'s report a disaggregated deployment adds: its roles (plan, replicas, GPUs, KV blocks),
// the KV transfer time per request (docs/metrics.md), and each role's GPU time. Printed after the vllm-bench-style
// block; the same figures go to summary.json under "wiresim"."disaggregation".
//
//   if (d.disaggregation) PrintDisaggregation(text, d, outcome);
//   w["disaggregation"] = DisaggregationJson(d, outcome);
#pragma once

#include <ostream>

#include <nlohmann/json.hpp>

#include "sim/app/serving_setup.h"

namespace wiresim::app {

// REQUIRES: d.disaggregation is set.
void PrintDisaggregation(std::ostream& out, const ServingSetup& d, const ServingOutcome& o);
nlohmann::ordered_json DisaggregationJson(const ServingSetup& d, const ServingOutcome& o);

}  // namespace wiresim::app
