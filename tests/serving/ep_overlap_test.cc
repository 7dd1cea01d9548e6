// Wide expert parallelism played by the executor: two-batch overlap hides the EP all-to-all behind the other
// micro-batch's compute (the per-GPU breakdown shows it), and one EP replica alone on its links gets the same
// iteration from its all-to-alls as transfers on the flow network as from their closed forms.
#include <catch2/catch.hpp>

#include "sim/collective/collective_timing.h"
#include "sim/network/flow_network.h"
#include "sim/serving/iteration_run.h"
#include "tests/model/model_test_util.h"
#include "tests/testing/topology.h"

namespace wiresim {
namespace {

std::shared_ptr<const StepGraph> Graph(const char* plan_text, const char* batch, bool overlap) {
  const ModelSpec m = testing::ShippedModel("deepseek-v3");
  Result<ParallelPlan> plan = ParsePlan(plan_text);
  REQUIRE(plan.ok());
  Result<Placement> where = ParsePlacement("packed", *plan, plan->WorldSize());
  REQUIRE(where.ok());
  Result<BatchShape> b = ParseBatch(batch);
  REQUIRE(b.ok());
  StepGraphOptions o;
  o.two_batch_overlap = overlap;
  Result<StepGraph> g = BuildStepGraph(m, *plan, *where, *b, o);
  REQUIRE(g.ok());
  REQUIRE(CheckStepGraph(*g).ok());
  return std::make_shared<StepGraph>(std::move(g).value());
}

// Every collective takes the same time.
class FixedTimer : public CollectiveTimer {
 public:
  FixedTimer(Simulator& sim, Time t) : sim_(sim), t_(t) {}
  Status Start(const CollectiveCall& call, std::function<void(size_t)> on_done) override {
    const size_t n = call.gpus.size();
    sim_.ScheduleAfter(t_, [on_done, n] {
      for (size_t i = 0; i < n; ++i) on_done(i);
    });
    return Status::Ok();
  }

 private:
  Simulator& sim_;
  Time t_;
};

struct Played {
  Time end;
  GpuBreakdown gpu0;
};

Played Play(const std::shared_ptr<const StepGraph>& graph, CollectiveTimer& timer, Simulator& sim,
            const KernelDuration& kernel) {
  GpuQueues gpus(64);
  GpuTimeAccounting acc(64, std::vector<int>(64, 0));
  bool done = false;
  Played out;
  IterationRun run(sim, gpus, timer, kernel, &acc, graph, [&] {
    done = true;
    out.end = sim.Now();
  });
  run.Start();
  sim.Run();
  REQUIRE(done);
  out.gpu0 = acc.Finish(out.end)[0];
  return out;
}

TEST_CASE("Two-batch overlap: with each all-to-all shorter than the compute beside it, only the last combine shows") {
  // DeepSeek-V3 at dp=8, ep=8 (tp = 1: no other collective), 64 decodes per DP rank. Every kernel takes 1 us and
  // every collective 0.5 us, so per micro-batch and MoE layer the compute before the dispatch (norms, MLA, router:
  // P >= 1 us) and the experts (X >= 1 us) are each longer than a dispatch or combine (D = C = 0.5 us).
  //
  // Without overlap every collective blocks its GPU: 58 MoE layers x (dispatch + combine) = 58 us exposed.
  //
  // With overlap, one MoE layer from t0 runs (compute stream) pre(A) [t0, t0+P], pre(B) [t0+P, t0+2P], experts(A)
  // [t0+2P, t0+2P+X], experts(B) [.., t0+2P+2X]; (comm stream) dispatch(A) [t0+P, t0+P+D] under pre(B),
  // dispatch(B) from t0+2P under experts(A) (D <= X), combine(A) from t0+2P+X under experts(B) (C <= X), and
  // combine(B) from t0+2P+2X under the next layer's pre(A), which needs only combine(A) (C <= P). Each layer takes
  // 2P + 2X and hides all four; the first dispatch(A) of the first MoE layer hides under pre(B) like any other.
  // Only the last layer's combine(B) is exposed: the head (final norm, LM head) waits for both micro-batches.
  // Exposed EP time = C = 0.5 us.
  const Time kernel = Time::Microseconds(1), collective = Time::Nanoseconds(500);
  const KernelDuration each = [&](size_t, const StepOp&) { return kernel; };
  Played plain, overlapped;
  {
    Simulator sim;
    FixedTimer timer(sim, collective);
    plain = Play(Graph("dp=8,ep=8", "decode=64x2048", false), timer, sim, each);
  }
  {
    Simulator sim;
    FixedTimer timer(sim, collective);
    overlapped = Play(Graph("dp=8,ep=8", "decode=64x2048", true), timer, sim, each);
  }
  CHECK(plain.gpu0.Exposed(ParallelDim::kEp) == collective * (58 * 2));
  CHECK(overlapped.gpu0.Exposed(ParallelDim::kEp) == collective);
  // The communication itself is the same amount twice over (each micro-batch has its own all-to-alls).
  CHECK(overlapped.gpu0.communication == collective * (58 * 4));
}

TEST_CASE("One EP replica alone on its links: all-to-alls as flows take what their closed forms say") {
  // DeepSeek-V3 at dp=16, ep=16 over two DGX H100 nodes: the dispatch and combine cross the NICs. Nothing else runs,
  // so the transfers of each all-to-all on the flow network (NCCL's direct algorithm: each rank's peers a few at
  // a time) reach the closed form's busiest-link time; the iteration ends within rounding plus, per all-to-all,
  // the latency the closed form charges once and the transfers overlap.
  const Topology topo = testing::ShippedTopology("dgx-h100-2node");
  CollectiveModel model(topo);
  ClosedFormCollectives closed(model, AlgorithmFilter{}, nullptr);
  const auto graph = Graph("dp=16,ep=16", "decode=32x1024", false);
  const KernelDuration each = [](size_t, const StepOp&) { return Time::Microseconds(3); };
  Played analytical, flow;
  {
    Simulator sim;
    ClosedFormTimer timer(sim, closed);
    analytical = Play(graph, timer, sim, each);
  }
  {
    Simulator sim;
    FlowNetwork net(sim, topo);
    FlowTimer timer(sim, net, closed);
    flow = Play(graph, timer, sim, each);
  }
  INFO("analytical " << analytical.gpu0.communication.picoseconds() << " ps, flow "
                     << flow.gpu0.communication.picoseconds() << " ps");
  CHECK(flow.gpu0.communication.ToSeconds() == Approx(analytical.gpu0.communication.ToSeconds()).epsilon(1e-3));
}

}  // namespace
}  // namespace wiresim
