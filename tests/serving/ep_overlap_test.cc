// Wide expert parallelism played by the executor: two-batch overlap hides the EP all-to-all behind the other
// micro-batch's compute (the per-GPU breakdown shows it), and one EP replica alone on its links gets the same
// iteration from its all-to-alls as transfers on the flow network as from their closed forms; a coupled
// iteration with its kernels collapsed between collectives serves every request as the op-by-op one does, with or
// without a pipeline.
#include <algorithm>
#include <map>
#include <utility>

#include <catch2/catch.hpp>

#include "sim/collective/collective_timing.h"
#include "sim/compute/roofline.h"
#include "sim/network/flow_network.h"
#include "sim/serving/iteration_run.h"
#include "sim/serving/link_sharing.h"
#include "sim/serving/replica.h"
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

TEST_CASE("One EP replica alone on its links: all-to-alls as flows against their closed forms") {
  // DeepSeek-V3's dispatch and combine of 32 decodes per rank (116 all-to-alls per iteration), played by the
  // executor with every collective as transfers on a FlowNetwork (no group private) and with the closed form.
  const KernelDuration each = [](size_t, const StepOp&) { return Time::Microseconds(3); };
  struct Played2 {
    Played analytical, flow;
  };
  auto both = [&](const char* topology, const char* plan) {
    const Topology topo = testing::ShippedTopology(topology);
    CollectiveModel model(topo);
    ClosedFormCollectives closed(model, AlgorithmFilter{}, nullptr);
    const auto graph = Graph(plan, "decode=32x1024", false);
    Played2 out;
    {
      Simulator sim;
      ClosedFormTimer timer(sim, closed);
      out.analytical = Play(graph, timer, sim, each);
    }
    {
      Simulator sim;
      FlowNetwork net(sim, topo);
      FlowTimer timer(sim, net, closed);
      out.flow = Play(graph, timer, sim, each);
    }
    return out;
  };
  // Inside one DGX H100 every pair has its own NVSwitch paths at the same rate: the transfers drain the busiest
  // link exactly as the closed form says, to the picosecond here.
  const Played2 one = both("dgx-h100", "dp=8,ep=8");
  CHECK(one.flow.gpu0.communication == one.analytical.gpu0.communication);
  CHECK(one.flow.end == one.analytical.end);
  // Across two nodes the closed form (the busiest link, a NIC, busy for the whole all-to-all) is a lower bound the
  // transfers reach only if every NIC is busy from the start. NCCL's direct schedule, which the transfers follow,
  // sends to a few peers at a time in the order i+1, i+2, ..., so a rank whose first peers are on its own node
  // starts its NIC late: the flows take longer (6.3% here; docs/serving.md, wide EP).
  const Played2 two = both("dgx-h100-2node", "dp=16,ep=16");
  CHECK(two.flow.gpu0.communication >= two.analytical.gpu0.communication);
}

TEST_CASE("A prefill's EP dispatch across four nodes: one network row per token and node, the NICs pace it") {
  // DeepSeek-V3 at EP 32 on four DGX H100s, every rank prefilling D tokens. DeepEP's normal kernels send a token once
  // to each other node holding one of its experts, to the GPU of the sender's index there (its own rail), which
  // forwards it over NVLink. A node holds 2 of the 8 groups: t of them are among a token's 4 with probability 15, 40,
  // 15 in 70 (t = 0, 1, 2), and then it is missed when the token's 8 experts avoid its 32 t of the 128, so it is hit
  // with h = 1 - 15/70 - 40/70 C(96, 8) / C(128, 8) - 15/70 C(64, 8) / C(128, 8) = 0.73205: each GPU's NIC carries
  // 3 h D rows of 7,392 bytes each way, to 3 peers. Its NVLinks carry its own rows to 7 node peers and the rows it
  // forwards for 3 senders, 4 x 7 x 0.2061 D (a rank, 8 experts, is hit with (1/2)(1 - C(120, 8) / C(128, 8))):
  // 5.8 D rows over 370 GB/s against the NIC's 2.2 D over 47, which binds. So D more tokens take D x 3 h x 7392 /
  // 47 GB/s more; sent rank by rank (no node forwarding) the NIC of the rail carries every copy of its node's 8 GPUs
  // bound for its 3 rail peers, 24 x 0.2061 D rows, 2.25 times as many.
  const Topology topo = testing::ShippedTopology("dgx-h100-4node");
  CollectiveModel model(topo);
  ClosedFormCollectives closed(model, AlgorithmFilter{}, nullptr);
  auto none = [](int items, int h) {
    double p = 1;
    for (int i = 0; i < 8; ++i) p *= static_cast<double>(items - h - i) / (items - i);
    return p;
  };
  const double node_hit = 1 - 15.0 / 70 - 40.0 / 70 * none(128, 32) - 15.0 / 70 * none(128, 64);
  const double rank_hit = 0.5 * (1 - none(128, 8));
  CHECK(node_hit == Approx(0.73205).epsilon(1e-4));
  auto dispatch_us = [&](const char* batch, bool forward) {
    const ModelSpec m = testing::ShippedModel("deepseek-v3");
    Result<ParallelPlan> plan = ParsePlan("dp=32,ep=32");
    REQUIRE(plan.ok());
    Result<Placement> where = ParsePlacement("packed", *plan, 32);
    REQUIRE(where.ok());
    Result<BatchShape> b = ParseBatch(batch);
    REQUIRE(b.ok());
    StepGraphOptions o;
    if (forward) o.gpu_domain = topo.GpuNvlinkDomains();
    Result<StepGraph> g = BuildStepGraph(m, *plan, *where, *b, o);
    REQUIRE(g.ok());
    for (const CollectiveInstance& c : g->collectives) {
      if (c.name != "ep_dispatch") continue;
      Result<Time> t = closed.Duration(c.call);
      REQUIRE(t.ok());
      return t->ToMicroseconds();
    }
    FAIL("no ep_dispatch");
    return 0.0;
  };
  const double d = 2048, copy = 7392;
  const double forwarded = dispatch_us("prefill=1x4096", true) - dispatch_us("prefill=1x2048", true);
  CHECK(forwarded == Approx(d * 3 * node_hit * copy / 47e9 * 1e6).epsilon(1e-3));
  const double by_rank = dispatch_us("prefill=1x4096", false) - dispatch_us("prefill=1x2048", false);
  CHECK(by_rank == Approx(d * 24 * rank_hit * copy / 47e9 * 1e6).epsilon(1e-3));
}

TEST_CASE("EP groups that share no GPU but cross the same links run as flows, one alone stays private") {
  // Two DGX H100 nodes; a pair on different rails of different nodes routes up its leaf, through the spine and
  // down the other rail's leaf. Groups {0-3, 12-15} and {4-11} share no GPU, but GPU 0 -> GPU 12 (rail 0 to rail 4)
  // and GPU 8 -> GPU 4 (rail 0 to rail 4 too) both climb rail 0's leaf to the spine: they can meet there. An EP
  // group of node 0's 8 GPUs and one of node 1's use only their own NVSwitches: private.
  const Topology topo = testing::ShippedTopology("dgx-h100-2node");
  Router router(topo);
  const std::vector<bool> crossing =
      GroupsMeetingOthers(topo, router, {{0, 1, 2, 3, 12, 13, 14, 15}, {4, 5, 6, 7, 8, 9, 10, 11}});
  CHECK(crossing == std::vector<bool>{true, true});
  const std::vector<bool> apart =
      GroupsMeetingOthers(topo, router, {{0, 1, 2, 3, 4, 5, 6, 7}, {8, 9, 10, 11, 12, 13, 14, 15}});
  CHECK(apart == std::vector<bool>{false, false});
}

// DeepSeek-V3 (fp8) on two DGX H100 nodes, packed, kernels at H100 roofline: the iteration model of replica 0.
struct CoupledDeepSeek {
  explicit CoupledDeepSeek(const char* plan_text)
      : m(Fp8(testing::ShippedModel("deepseek-v3"))),
        topo(testing::ShippedTopology("dgx-h100-2node")),
        plan(*ParsePlan(plan_text)),
        where(*ParsePlacement("packed", plan, topo.gpu_count())),
        h100(*FindGpuSpec("h100")),
        kernels(static_cast<size_t>(topo.gpu_count()), &h100),
        model(topo),
        closed(model, AlgorithmFilter{}, nullptr),
        iterations(m, plan, where, 0, StepGraphOptions{}, kernels, closed) {}
  static ModelSpec Fp8(ModelSpec spec) {
    spec.weight_dtype = DataType::kFloat8E4M3;
    return spec;
  }
  ModelSpec m;
  Topology topo;
  ParallelPlan plan;
  Placement where;
  RooflineModel h100;
  std::vector<const KernelTimeModel*> kernels;
  CollectiveModel model;
  ClosedFormCollectives closed;
  IterationModel iterations;
};

// A DP x EP replica of DeepSeek-V3 (fp8) on two DGX H100 nodes serving `requests`, collapsed or op by op: each
// request's token times.
struct Served {
  std::map<int64_t, std::vector<Time>> tokens;  // by request id
  int64_t steps = 0;
  GpuBreakdown gpu0;
};

class TokenTimes : public ReplicaListener {
 public:
  TokenTimes(Simulator& sim, Served& out) : sim_(sim), out_(out) {}
  void OnStepScheduled(int, int, const SchedulerStep&) override {}
  void OnStepDone(int, int, const std::vector<SequenceOutcome>& outcomes) override {
    for (const SequenceOutcome& o : outcomes) {
      if (o.emitted) out_.tokens[o.request_id].push_back(sim_.Now());
    }
  }

 private:
  Simulator& sim_;
  Served& out_;
};

Served Serve(bool collapsed, const std::vector<Request>& requests, const char* plan_text) {
  CoupledDeepSeek d(plan_text);
  Simulator sim;
  ClosedFormTimer timer(sim, d.closed);
  GpuQueues gpus(d.topo.gpu_count());
  GpuTimeAccounting acc(d.topo.gpu_count(), std::vector<int>(static_cast<size_t>(d.topo.gpu_count()), 0));
  REQUIRE(d.iterations.CanCollapse());
  Served out;
  TokenTimes listener(sim, out);
  ReplicaOptions o;
  o.scheduler.num_blocks = 1 << 16;
  o.engine = ProfileOf(Engine::kSglang);
  o.compiled = collapsed;
  Replica replica(0, sim, gpus, timer, d.iterations, &acc, listener, o);
  for (const Request& r : requests) {
    sim.Schedule(r.arrival, [&, r] { REQUIRE(replica.Add(r, static_cast<int>(r.id) % d.plan.dp).ok()); });
  }
  sim.Run();
  REQUIRE(replica.error().ok());
  out.steps = replica.stats().steps;
  out.gpu0 = acc.Finish(sim.Now())[0];
  return out;
}

// `n` requests `gap_ms` apart, prompts of 100-1,000 tokens, 5 to 4 + `outputs` output tokens.
std::vector<Request> Requests(int64_t n, int64_t gap_ms, int64_t outputs) {
  std::vector<Request> requests;
  for (int64_t i = 0; i < n; ++i) {
    Request r;
    r.id = i;
    r.arrival = Time::Milliseconds(gap_ms * i);
    r.input_tokens = 100 + (i * 379) % 900;
    r.output_tokens = 5 + (i * 17) % outputs;
    requests.push_back(r);
  }
  return requests;
}

// Serves `requests` collapsed and op by op; every token of every request must come out at the same picosecond.
std::pair<Served, Served> ServedBothWays(const std::vector<Request>& requests, const char* plan_text) {
  Served fast = Serve(true, requests, plan_text);
  Served slow = Serve(false, requests, plan_text);
  REQUIRE(fast.tokens.size() == requests.size());
  CHECK(fast.steps == slow.steps);
  for (const Request& r : requests) {
    INFO("request " << r.id);
    REQUIRE(fast.tokens.count(r.id) == 1);
    REQUIRE(fast.tokens.at(r.id).size() == static_cast<size_t>(r.output_tokens));
    CHECK(fast.tokens.at(r.id) == slow.tokens.at(r.id));
  }
  return {std::move(fast), std::move(slow)};
}

TEST_CASE("Coupled DP x EP ranks: a collapsed iteration is the op-by-op one, op for op and request for request") {
  // DeepSeek-V3 at dp=16, ep=16 (tp = 1) on two nodes, 64 decodes per DP rank. Its 61 layers are 3 dense and 58
  // MoE, and with tp = 1 the only collectives are each MoE layer's dispatch and combine: 116 per program. Between
  // them the kernels collapse into 117 segments (before the first dispatch, 58 dispatch-to-combine, 57
  // combine-to-dispatch, after the last combine), so a program has 233 ops, and its segments add up to its
  // kernels' times op by op (ComputeTime of the full graph).
  CoupledDeepSeek d("dp=16,ep=16");
  IterationModel& iterations = d.iterations;
  const RooflineModel& h100 = d.h100;
  std::vector<BatchShape> batches(16, *ParseBatch("decode=64x1500"));
  batches[3] = *ParseBatch("prefill=1x900,decode=10x300");  // ranks run different batches
  batches[7] = BatchShape{};                                // an idle rank joins with a dummy batch
  Result<std::shared_ptr<const CollapsedIteration>> c = iterations.Collapsed(batches);
  REQUIRE(c.ok());
  REQUIRE(*c != nullptr);
  Result<std::shared_ptr<const StepGraph>> full = iterations.Full(BatchShape{}, batches);
  REQUIRE(full.ok());
  const StepGraph& g = *(*c)->graph;
  REQUIRE(g.programs.size() == 16);
  CHECK(g.collectives.size() == 116);
  for (size_t p = 0; p < g.programs.size(); ++p) {
    INFO("program " << p);
    CHECK(g.programs[p].ops.size() == 233);
    Time sum;
    for (const Time t : (*c)->op_time[p]) sum += t;
    CHECK(sum == ComputeTime((*full)->programs[p], h100));
  }
  CHECK(CheckStepGraph(g).ok());

  // 50 requests over the 16 DP ranks, arriving 3 ms apart with prompts of 100-1,000 tokens and 5-60 outputs: every
  // token of every request comes out at the same picosecond either way (so TTFT and TPOT are equal).
  const auto [fast, slow] = ServedBothWays(Requests(50, 3, 56), "dp=16,ep=16");
  CHECK(fast.gpu0.compute == slow.gpu0.compute);
  CHECK(fast.gpu0.Exposed(ParallelDim::kEp) == slow.gpu0.Exposed(ParallelDim::kEp));
}

TEST_CASE("Coupled DP x EP ranks in a pipeline: the collapsed iteration keeps each send and its receive one transfer") {
  // dp=8, ep=8, pp=2 on two nodes: stage 0 (layers 0-30) ends with a pipeline send at "layer 61" and stage 1 starts
  // with its receive at "layer -1", one instance of the reduced graph. Each program's collectives are its MoE
  // layers' dispatch and combine, plus the one transfer: stage 0 holds 3 dense and 28 MoE layers (2 x 28 + 1 = 57
  // collectives), stage 1 30 MoE layers (2 x 30 + 1 = 61). The transfers are 8 instances (one per DP rank's
  // pipeline), each reached by both of its programs, and the iteration serves every request as op by op does.
  CoupledDeepSeek d("dp=8,ep=8,pp=2");
  IterationModel& iterations = d.iterations;
  REQUIRE(iterations.CanCollapse());
  std::vector<BatchShape> batches(8, *ParseBatch("decode=16x700"));
  batches[5] = BatchShape{};
  Result<std::shared_ptr<const CollapsedIteration>> c = iterations.Collapsed(batches);
  REQUIRE(c.ok());
  REQUIRE(*c != nullptr);
  const StepGraph& g = *(*c)->graph;
  REQUIRE(g.programs.size() == 16);
  CHECK(CheckStepGraph(g).ok());
  int transfers = 0;
  for (const CollectiveInstance& inst : g.collectives) {
    if (inst.dim != ParallelDim::kPp) continue;
    ++transfers;
    INFO("transfer " << transfers);
    CHECK(inst.programs.size() == 2);
    CHECK(std::count(inst.programs.begin(), inst.programs.end(), -1) == 0);
  }
  CHECK(transfers == 8);
  for (const GpuProgram& p : g.programs) {
    const auto n = std::count_if(p.ops.begin(), p.ops.end(),
                                 [](const StepOp& op) { return op.kind == StepOp::Kind::kCollective; });
    CHECK(n == (p.coord.pp == 0 ? 57 : 61));
  }

  ServedBothWays(Requests(24, 4, 30), "dp=8,ep=8,pp=2");
}

}  // namespace
}  // namespace wiresim
