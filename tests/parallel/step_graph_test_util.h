// Building a step graph from the short texts the tests use ("tp=4,pp=2", "prefill=1x2048,decode=64x1024"), on a
// packed placement; every step REQUIREd to succeed.
#pragma once

#include <catch2/catch.hpp>

#include "sim/parallel/step_graph.h"

namespace wiresim::testing {

struct BuiltGraph {
  ParallelPlan plan;
  StepGraph graph;
};

inline BuiltGraph BuildGraph(const ModelSpec& m, const char* plan_text, const char* batch_text,
                             const StepGraphOptions& options = {}) {
  Result<ParallelPlan> plan = ParsePlan(plan_text);
  REQUIRE(plan.ok());
  REQUIRE(ValidatePlan(*plan, m, 0).ok());
  Result<Placement> where = ParsePlacement("packed", *plan, plan->WorldSize());
  REQUIRE(where.ok());
  Result<BatchShape> batch = ParseBatch(batch_text);
  REQUIRE(batch.ok());
  Result<StepGraph> g = BuildStepGraph(m, *plan, *where, *batch, options);
  REQUIRE(g.ok());
  return {*plan, std::move(g).value()};
}

}  // namespace wiresim::testing
