// IterationRun, the executor, against EvaluateStepGraph's longest path, and GpuQueues' one-program-at-a-time rule.
#include "sim/serving/iteration_run.h"

#include <catch2/catch.hpp>

#include "tests/model/model_test_util.h"

namespace wiresim {
namespace {

// A timer that gives every collective a duration from a table and records the order they started in.
class TableTimer : public CollectiveTimer {
 public:
  explicit TableTimer(Simulator& sim) : sim_(sim) {}
  Status Start(const CollectiveCall& call, std::function<void(size_t)> on_done) override {
    const Time t = Time::Nanoseconds(1000 + static_cast<int64_t>(call.bytes) % 7919);
    const size_t n = call.gpus.size();
    sim_.ScheduleAfter(t, [on_done, n] {
      for (size_t i = 0; i < n; ++i) on_done(i);
    });
    return Status::Ok();
  }
  static Time Of(const CollectiveCall& call) { return Time::Nanoseconds(1000 + static_cast<int64_t>(call.bytes) % 7919); }

 private:
  Simulator& sim_;
};

std::shared_ptr<const StepGraph> Graph(const char* model, const char* plan_text, const char* batch) {
  const ModelSpec m = testing::ShippedModel(model);
  Result<ParallelPlan> plan = ParsePlan(plan_text);
  REQUIRE(plan.ok());
  Result<Placement> where = ParsePlacement("packed", *plan, plan->WorldSize());
  REQUIRE(where.ok());
  Result<BatchShape> b = ParseBatch(batch);
  REQUIRE(b.ok());
  Result<StepGraph> g = BuildStepGraph(m, *plan, *where, *b, {});
  REQUIRE(g.ok());
  return std::make_shared<StepGraph>(std::move(g).value());
}

// Kernel durations that differ by rank and op, so a wrong join or order would show.
Time KernelTime(size_t p, const StepOp& op) {
  return Time::Nanoseconds(200 + 37 * static_cast<int64_t>(p) + static_cast<int64_t>(op.kernel.flops) % 1013);
}

TEST_CASE("The executor ends every program when the longest-path evaluation says it does") {
  for (const char* plan : {"tp=4,pp=2", "tp=2,cp=2", "tp=2,pp=2,sp=on"}) {
    INFO(plan);
    const auto graph = Graph("llama-3.1-8b", plan, "prefill=1x700@100,decode=5x300");
    const StepGraphTiming expected = EvaluateStepGraph(
        *graph, KernelTime, [&](size_t c) { return TableTimer::Of(graph->collectives[c].call); }, {});
    REQUIRE(expected.complete);
    Simulator sim;
    GpuQueues gpus(16);
    TableTimer timer(sim);
    std::vector<Time> done(graph->programs.size());
    bool all = false;
    IterationRun run(sim, gpus, timer, KernelTime, nullptr, graph, [&] { all = true; },
                     [&](size_t p) { done[p] = sim.Now(); });
    run.Start();
    sim.Run();
    REQUIRE(all);
    for (size_t p = 0; p < done.size(); ++p) CHECK(done[p] == expected.program_done[p]);
  }
}

TEST_CASE("A GPU runs one program at a time: the next micro-batch's stage starts when the last one's ends") {
  // Two iterations of a tp=1, pp=2 graph started together: stage 0 takes the second only after finishing the first
  // (its send included), so pipelining overlaps stage 0 of iteration 2 with stage 1 of iteration 1.
  const auto graph = Graph("llama-3.2-1b", "pp=2", "decode=4x100");
  Simulator sim;
  GpuQueues gpus(2);
  TableTimer timer(sim);
  std::vector<Time> first(2), second(2);
  IterationRun a(sim, gpus, timer, KernelTime, nullptr, graph, [] {}, [&](size_t p) { first[p] = sim.Now(); });
  IterationRun b(sim, gpus, timer, KernelTime, nullptr, graph, [] {}, [&](size_t p) { second[p] = sim.Now(); });
  a.Start();
  b.Start();
  sim.Run();
  const StepGraphTiming one = EvaluateStepGraph(
      *graph, KernelTime, [&](size_t c) { return TableTimer::Of(graph->collectives[c].call); }, {}, true);
  CHECK(first[0] == one.program_done[0]);
  CHECK(first[1] == one.program_done[1]);
  // Iteration 2 starts on stage 0 when iteration 1 left it (first[0]) and reaches its send one stage-0 body later.
  // The send then waits for stage 1 to post the receive, i.e. to be done with iteration 1 (first[1]), and takes
  // one transfer: second[0] = max(first[0] + body0, first[1]) + transfer.
  const size_t send = graph->programs[0].ops.size() - 1;
  REQUIRE(graph->programs[0].ops[send].name == "pp_send");
  const Time body0 = one.op_start[0][send];
  const Time transfer = TableTimer::Of(graph->collectives[static_cast<size_t>(graph->programs[0].ops[send].instance)].call);
  CHECK(second[0] == std::max(first[0] + body0, first[1]) + transfer);
  // Stage 1 then runs iteration 2's body after the transfer: it ends one stage-1 body (its program minus the
  // receive) later.
  const Time body1 = one.program_done[1] - one.op_done[1][0];
  CHECK(second[1] == second[0] + body1);
}

}  // namespace
}  // namespace wiresim
