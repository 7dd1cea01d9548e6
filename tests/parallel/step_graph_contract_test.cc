// The step graph as an executable contract: every collective instance is reached by exactly its participants,
// sends are paired with receives, dependencies point backwards, and a run of the graph reaches its end for every
// plan the tests build. EvaluateStepGraph's timing against closed forms derived by hand.
#include <algorithm>

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
  SECTION("pp=2, tp=2: two one-way sends, stage 0 rank i to stage 1 rank i") {
    const StepGraph g = Build(m, "tp=2,pp=2", "decode=4x100");
    int pp = 0;
    for (const CollectiveInstance& inst : g.collectives) {
      if (inst.dim != ParallelDim::kPp) continue;
      ++pp;
      // One way: the stage hands its activations on in a group of its own (ncclSend; ncclRecv on the peer).
      REQUIRE(inst.call.op == CollectiveOp::kSend);
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

TEST_CASE("Two-batch overlap: the interleaved micro-batches form a graph that runs to its end") {
  struct Case {
    const char* model;
    const char* plan;
    const char* batch;
  };
  const Case cases[] = {
      {"deepseek-v3", "dp=8,ep=8", "decode=64x2048"},
      {"deepseek-v3", "dp=8,ep=8", "prefill=1x4096"},
      {"deepseek-v3", "tp=2,dp=4,ep=8,pp=2", "prefill=1x512,decode=8x1000"},
      {"deepseek-v3", "tp=2,dp=4,ep=8,sp=on", "prefill=1x700,decode=3x100"},
      {"mixtral-8x7b", "tp=2,dp=4,ep=8", "decode=1x10"},  // micro-batch B is empty: collectives only
  };
  StepGraphOptions o;
  o.two_batch_overlap = true;
  for (const Case& c : cases) {
    INFO(c.model << " " << c.plan << " " << c.batch);
    const StepGraph g = Build(ShippedModel(c.model), c.plan, c.batch, o);
    REQUIRE(CheckStepGraph(g).ok());
  }
  // Uneven and idle DP ranks too.
  BatchShape busy, idle;
  busy.decode_contexts = {100, 200, 300};
  o.dp_batches = {busy, idle, busy, busy};
  REQUIRE(CheckStepGraph(Build(ShippedModel("deepseek-v3"), "tp=2,dp=4,ep=8", "decode=1x1", o)).ok());
}

TEST_CASE("Two-batch overlap states its streams: A's all-to-all runs beside B's compute") {
  // One MoE layer's program order, and what each collective waits for: dispatch(A) after A's router; B's first
  // kernel after the layer's start, not after dispatch(A); dispatch(B) after B's router and after dispatch(A) (one
  // communication stream).
  StepGraphOptions o;
  o.two_batch_overlap = true;
  const StepGraph g = Build(ShippedModel("deepseek-v3"), "dp=8,ep=8", "decode=64x2048", o);
  const std::vector<StepOp>& ops = g.programs[0].ops;
  std::vector<int> dispatch, combine;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].layer != 3) continue;
    if (ops[i].name == "ep_dispatch") dispatch.push_back(static_cast<int>(i));
    if (ops[i].name == "ep_combine") combine.push_back(static_cast<int>(i));
  }
  REQUIRE(dispatch.size() == 2);
  REQUIRE(combine.size() == 2);
  REQUIRE(dispatch[0] < dispatch[1]);
  REQUIRE(dispatch[1] < combine[0]);
  REQUIRE(combine[0] < combine[1]);
  const StepOp& b_first = ops[static_cast<size_t>(dispatch[0] + 1)];
  CHECK(b_first.name == "input_layernorm");
  CHECK(std::find(b_first.deps.begin(), b_first.deps.end(), dispatch[0]) == b_first.deps.end());
  const std::vector<int32_t>& d = ops[static_cast<size_t>(dispatch[1])].deps;
  CHECK(std::find(d.begin(), d.end(), dispatch[0]) != d.end());
  CHECK(ops[static_cast<size_t>(dispatch[1] - 1)].name == "topk_softmax");
  // Each micro-batch carries half of the 64 decodes; every rank's the same, so uniform routing makes a plain
  // all-to-all whose size is a rank's copies, its own slot included: 32 tokens x 8 copies x (7168 + 56 x 4) bytes
  // (fp8 dispatch with one fp32 scale per 128 elements); the combine returns bf16.
  CHECK(ops[static_cast<size_t>(dispatch[0])].collective.bytes == 32.0 * 8 * (7168 + 56 * 4));
  CHECK(ops[static_cast<size_t>(combine[1])].collective.bytes == 32.0 * 8 * 7168 * 2);
}

TEST_CASE("Splitting a batch in two: half the rows each, a prefill chunk cut where the halves meet") {
  Result<BatchShape> b = ParseBatch("prefill=1x1000@24,decode=3x50,pad=1");
  REQUIRE(b.ok());
  // 1000 + 3 + 1 = 1004 rows: A takes 502, the 3 decodes and 499 prefill tokens; B the other 501 prefill tokens
  // (their context now holds A's 499 after the 24 cached) and the padding row.
  const std::array<BatchShape, 2> h = SplitInTwo(*b);
  CHECK(h[0].Tokens() == 502);
  CHECK(h[1].Tokens() == 502);
  CHECK(h[0].decode_contexts.size() == 3);
  REQUIRE(h[0].prefills.size() == 1);
  CHECK((h[0].prefills[0].tokens == 499 && h[0].prefills[0].context == 24 && !h[0].prefills[0].last));
  REQUIRE(h[1].prefills.size() == 1);
  CHECK((h[1].prefills[0].tokens == 501 && h[1].prefills[0].context == 523 && h[1].prefills[0].last));
  CHECK(h[1].padding == 1);
}

}  // namespace
}  // namespace wiresim
