// The step graph as an executable contract: every collective instance is reached by exactly its participants,
// sends are paired with receives, dependencies point backwards, and a run of the graph reaches its end for every
// plan the tests build. EvaluateStepGraph's timing against closed forms derived by hand.
#include <catch2/catch.hpp>

#include "sim/parallel/step_graph.h"
#include "tests/model/model_test_util.h"
#include "tests/parallel/step_graph_test_util.h"

namespace wiresim {
namespace {

using testing::ShippedModel;

StepGraph Build(const ModelSpec& m, const char* plan_text, const char* batch_text, StepGraphOptions options = {}) {
  return testing::BuildGraph(m, plan_text, batch_text, options).graph;
}

TEST_CASE("Every plan's step graph is well formed and runs to its end") {
  struct Case {
    const char* model;
    const char* plan;
    const char* batch;
  };
  const Case cases[] = {
      {"llama-3.1-70b", "tp=8", "prefill=1x2048,decode=64x1024"},
      {"llama-3.1-70b", "tp=4,pp=2", "prefill=2x512@256,decode=8x4000"},
      {"llama-3.1-70b", "tp=2,pp=4,sp=on", "decode=32x100"},
      {"llama-3.1-70b", "tp=2,cp=4", "prefill=1x8192,decode=4x9000"},
      {"llama-3.1-70b", "tp=2,cp=2,cp_attention=allgather", "prefill=1x4096"},
      {"llama-3.1-405b", "tp=8,pp=2", "prefill=1x1024,decode=16x2048"},
      {"mixtral-8x7b", "tp=2,dp=4,ep=8", "prefill=1x1024,decode=16x512"},
      {"deepseek-v3", "tp=1,dp=8,ep=8", "decode=64x2048"},
      {"deepseek-v3", "tp=2,dp=4,ep=8,pp=2", "prefill=1x512,decode=8x1000"},
  };
  for (const Case& c : cases) {
    INFO(c.model << " " << c.plan << " " << c.batch);
    const StepGraph g = Build(ShippedModel(c.model), c.plan, c.batch);
    REQUIRE(CheckStepGraph(g).ok());
    // Each instance's participants are the GPUs of its call, in order.
    for (const CollectiveInstance& inst : g.collectives) {
      REQUIRE(inst.programs.size() == inst.call.gpus.size());
      for (size_t i = 0; i < inst.programs.size(); ++i) {
        REQUIRE(g.programs[static_cast<size_t>(inst.programs[i])].gpu == inst.call.gpus[i]);
      }
    }
  }
}

TEST_CASE("A pipeline send and its receive are one instance, a CP ring hop pairs each send with a receive") {
  const ModelSpec m = ShippedModel("llama-3.1-70b");
  SECTION("pp=2, tp=2: two send/recv instances, stage 0 rank i to stage 1 rank i") {
    const StepGraph g = Build(m, "tp=2,pp=2", "decode=4x100");
    int pp = 0;
    for (const CollectiveInstance& inst : g.collectives) {
      if (inst.dim != ParallelDim::kPp) continue;
      ++pp;
      REQUIRE(inst.call.op == CollectiveOp::kSendRecv);
      REQUIRE(inst.name == "pp_send");
      // Ranks are tp innermost, pp outermost: GPU i of stage 0 sends to GPU i + 2 of stage 1.
      REQUIRE(inst.call.gpus[1] == inst.call.gpus[0] + 2);
    }
    REQUIRE(pp == 2);
  }
  SECTION("cp=4: per layer, 3 hops x 4 ranks = 12 send/recv instances, each posted by its sender and receiver") {
    const StepGraph g = Build(m, "tp=1,cp=4", "prefill=1x4096");
    int ring = 0;
    for (const CollectiveInstance& inst : g.collectives) {
      if (inst.dim != ParallelDim::kCp || inst.layer != 0 || inst.call.op != CollectiveOp::kSendRecv) continue;
      ++ring;
      REQUIRE(inst.programs.size() == 2);
    }
    REQUIRE(ring == 12);
    // A hop's receive does not wait for its send (posted together): both depend on the same op.
    const GpuProgram& p0 = g.programs[0];
    for (size_t i = 0; i + 1 < p0.ops.size(); ++i) {
      if (p0.ops[i].name == "cp_ring_kv_pass" && p0.ops[i + 1].name == "cp_ring_kv_recv") {
        REQUIRE(p0.ops[i].deps == p0.ops[i + 1].deps);
        REQUIRE(p0.ops[i + 2].deps.size() == 2);
        break;
      }
    }
  }
}

TEST_CASE("A graph with a participant missing is refused") {
  StepGraph g = Build(ShippedModel("llama-3.1-8b"), "tp=2", "decode=4x100");
  // Drop GPU 1's first collective op: the instance now has two participants but one post.
  auto& ops = g.programs[1].ops;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].kind == StepOp::Kind::kCollective) {
      ops[i].kind = StepOp::Kind::kKernel;
      ops[i].instance = -1;
      break;
    }
  }
  const Status s = CheckStepGraph(g);
  REQUIRE_FALSE(s.ok());
  REQUIRE_THAT(s.message(), Catch::Contains("participants but 1 ops post it"));
}

TEST_CASE("EvaluateStepGraph: blocking TP is the sum of the kernels and collectives, skew waits at the collective") {
  const StepGraph g = Build(ShippedModel("llama-3.1-8b"), "tp=2", "decode=4x100");
  size_t kernels = 0, collectives = 0;
  for (const StepOp& op : g.programs[0].ops) (op.kind == StepOp::Kind::kKernel ? kernels : collectives)++;
  // Every kernel 1 us and every collective 10 us: one program is a chain, so it ends at kernels + 10 x collectives.
  const StepGraphTiming t = EvaluateStepGraph(
      g, [](size_t, const StepOp&) { return Time::Microseconds(1); }, [](size_t) { return Time::Microseconds(10); },
      {});
  REQUIRE(t.complete);
  const Time chain = Time::Microseconds(static_cast<int64_t>(kernels + 10 * collectives));
  REQUIRE(t.program_done[0] == chain);
  REQUIRE(t.program_done[1] == chain);
  // GPU 1 starting 5 us late delays both: the first all-reduce waits for it, and nothing else differs.
  const Time starts[] = {Time::Zero(), Time::Microseconds(5)};
  const StepGraphTiming late = EvaluateStepGraph(
      g, [](size_t, const StepOp&) { return Time::Microseconds(1); }, [](size_t) { return Time::Microseconds(10); },
      starts);
  REQUIRE(late.program_done[0] == chain + Time::Microseconds(5));
  REQUIRE(late.program_done[1] == chain + Time::Microseconds(5));
}

TEST_CASE("Attention-DP with uneven batches: an idle DP rank still joins the MoE all-to-all") {
  const ModelSpec m = ShippedModel("deepseek-v3");
  StepGraphOptions o;
  BatchShape busy, idle;
  busy.decode_contexts = {100, 200, 300};
  o.dp_batches = {busy, idle, busy, busy};
  const StepGraph g = Build(m, "tp=2,dp=4,ep=8", "decode=1x1", o);
  REQUIRE(g.programs.size() == 8);
  REQUIRE(CheckStepGraph(g).ok());
}

}  // namespace
}  // namespace wiresim
