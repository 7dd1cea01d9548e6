#include "sim/serving/iteration_model.h"

#include <algorithm>
#include <utility>

namespace wiresim {
namespace {

bool IsAttention(const StepOp& op) {
  return op.kind == StepOp::Kind::kKernel &&
         (op.kernel.kind == KernelKind::kAttentionPrefill || op.kernel.kind == KernelKind::kAttentionDecode);
}

// The pipeline receive that opens a stage's program and the send that closes it (-1 when absent).
std::pair<int, int> PipelineEnds(const GpuProgram& program) {
  int recv = -1, send = -1;
  for (size_t i = 0; i < program.ops.size(); ++i) {
    const StepOp& op = program.ops[i];
    if (op.kind != StepOp::Kind::kCollective || op.dim != ParallelDim::kPp) continue;
    (op.name == "pp_recv" ? recv : send) = static_cast<int>(i);
  }
  return {recv, send};
}

}  // namespace

IterationModel::IterationModel(const ModelSpec& model, const ParallelPlan& plan, const Placement& placement,
                               int replica, double expert_imbalance,
                               std::vector<const KernelTimeModel*> kernel_models, ClosedFormCollectives& closed)
    : model_(model),
      plan_(plan),
      placement_(placement),
      replica_(replica),
      kernel_models_(std::move(kernel_models)),
      closed_(closed),
      attention_(model, plan) {
  graph_options_.expert_imbalance = expert_imbalance;
  graph_options_.replica = replica;
  const bool coupled = plan.ep > 1 && plan.dp > 1;
  // Exact only when every GPU of the replica times kernels with the same model and DP ranks are independent.
  const KernelTimeModel* first = nullptr;
  for (int r = 0; r < plan.WorldSize(); ++r) {
    if (!coupled && CoordOf(plan, r).dp != replica) continue;
    const KernelTimeModel* m = kernel_models_[static_cast<size_t>(placement.GpuOf(r))];
    if (first == nullptr) first = m;
    if (m != first) can_compile_ = false;
  }
  if (coupled) can_compile_ = false;
  key_needs_positions_ = plan.cp > 1 || model.attention == AttentionKind::kMultiLatent;
}

IterationModel::Key IterationModel::KeyOf(const BatchShape& batch) const {
  int64_t positions = 0;
  if (key_needs_positions_) {
    for (const PrefillChunk& c : batch.prefills) positions += c.tokens + c.context;
  }
  return {batch.Tokens(), batch.SamplingSequences(), static_cast<int64_t>(batch.prefills.size()),
          static_cast<int64_t>(batch.decode_contexts.size()), positions};
}

Result<std::shared_ptr<const StepGraph>> IterationModel::Full(const BatchShape& batch,
                                                              const std::vector<BatchShape>& dp_batches) {
  StepGraphOptions o = graph_options_;
  o.dp_batches = dp_batches;
  WIRESIM_ASSIGN_OR_RETURN(StepGraph g, BuildStepGraph(model_, plan_, placement_, batch, o));
  return std::shared_ptr<const StepGraph>(std::make_shared<StepGraph>(std::move(g)));
}

KernelDuration IterationModel::KernelTimes(std::shared_ptr<const StepGraph> graph) const {
  return [graph = std::move(graph), models = &kernel_models_](size_t p, const StepOp& op) {
    return (*models)[static_cast<size_t>(graph->programs[p].gpu)]->KernelTime(op.kernel);
  };
}

Status IterationModel::CheckCollectives(const StepGraph& graph) {
  for (const CollectiveInstance& inst : graph.collectives) {
    Result<Time> t = closed_.Duration(inst.call);
    if (!t.ok()) {
      return t.status().WithContext(std::string(inst.name) + " (" + std::string(ToString(inst.dim)) + ", layer " +
                                    std::to_string(inst.layer) + ")");
    }
  }
  return Status::Ok();
}

Result<const CompiledIteration*> IterationModel::Compile(const BatchShape& batch) {
  const Key key = KeyOf(batch);
  auto it = compiled_.find(key);
  if (it == compiled_.end()) {
    WIRESIM_ASSIGN_OR_RETURN(std::unique_ptr<CompiledIteration> c, CompileNow(batch));
    it = compiled_.emplace(key, std::move(c)).first;
  }
  return it->second.get();
}

Result<std::unique_ptr<CompiledIteration>> IterationModel::CompileNow(const BatchShape& batch) {
  WIRESIM_ASSIGN_OR_RETURN(std::shared_ptr<const StepGraph> full, Full(batch));
  const StepGraph& g = *full;
  std::vector<Time> collective_time(g.collectives.size());
  for (size_t c = 0; c < g.collectives.size(); ++c) {
    if (g.collectives[c].dim == ParallelDim::kPp) continue;  // the stage boundaries stay in the compiled graph
    Result<Time> t = closed_.Duration(g.collectives[c].call);
    if (!t.ok()) {
      return t.status().WithContext(std::string(g.collectives[c].name) + " (" +
                                    std::string(ToString(g.collectives[c].dim)) + ")");
    }
    collective_time[c] = *t;
  }
  const StepGraphTiming timing = EvaluateStepGraph(
      g,
      [&](size_t p, const StepOp& op) {
        return IsAttention(op) ? Time::Zero()
                               : kernel_models_[static_cast<size_t>(g.programs[p].gpu)]->KernelTime(op.kernel);
      },
      [&](size_t c) { return collective_time[c]; }, {}, /*keep_op_times=*/true);
  if (!timing.complete) return Internal("iteration: the step graph deadlocks: " + timing.stuck);

  auto out = std::make_unique<CompiledIteration>();
  auto graph = std::make_shared<StepGraph>();
  graph->batch = g.batch;
  graph->phase = g.phase;
  // Each body replayed through the same accounting the executor feeds, so the breakdown matches op by op.
  std::vector<int> own(g.programs.size(), 0);
  GpuTimeAccounting acc(static_cast<int>(g.programs.size()), own);
  std::vector<int> remap(g.collectives.size(), -1);
  for (size_t p = 0; p < g.programs.size(); ++p) {
    const GpuProgram& program = g.programs[p];
    const auto [recv, send] = PipelineEnds(program);
    const Time body_start = recv >= 0 ? timing.op_done[p][static_cast<size_t>(recv)] : Time::Zero();
    const Time body_end = send >= 0 ? timing.op_start[p][static_cast<size_t>(send)] : timing.program_done[p];
    CompiledBody body;
    body.gpu = program.gpu;
    body.static_time = body_end - body_start;
    for (size_t i = 0; i < program.ops.size(); ++i) {
      if (static_cast<int>(i) == recv || static_cast<int>(i) == send) continue;
      const StepOp& op = program.ops[i];
      if (op.kind == StepOp::Kind::kKernel) {
        if (op.kernel.kind == KernelKind::kAttentionPrefill) ++body.prefill_attention;
        if (op.kernel.kind == KernelKind::kAttentionDecode) ++body.decode_attention;
        acc.OnKernel(static_cast<int>(p), timing.op_start[p][i], timing.op_done[p][i]);
      } else {
        acc.OnCollective(static_cast<int>(p), timing.op_start[p][i], timing.op_done[p][i], op.dim, op.phase);
      }
    }
    GpuProgram collapsed;
    collapsed.rank = program.rank;
    collapsed.gpu = program.gpu;
    collapsed.coord = program.coord;
    auto keep = [&](int index) {
      StepOp op = program.ops[static_cast<size_t>(index)];
      op.deps.clear();
      if (!collapsed.ops.empty()) op.deps = {static_cast<int32_t>(collapsed.ops.size() - 1)};
      const size_t c = static_cast<size_t>(op.instance);
      if (remap[c] < 0) {
        remap[c] = static_cast<int>(graph->collectives.size());
        graph->collectives.push_back(g.collectives[c]);
      }
      op.instance = remap[c];
      collapsed.ops.push_back(std::move(op));
    };
    if (recv >= 0) keep(recv);
    StepOp block;
    block.kind = StepOp::Kind::kKernel;
    block.stream = Stream::kCompute;
    block.name = "iteration_body";
    block.phase = g.phase;
    if (!collapsed.ops.empty()) block.deps = {static_cast<int32_t>(collapsed.ops.size() - 1)};
    out->body_op.push_back(collapsed.ops.size());
    collapsed.ops.push_back(std::move(block));
    if (send >= 0) keep(send);
    graph->programs.push_back(std::move(collapsed));
    out->bodies.push_back(body);
  }
  const std::vector<GpuBreakdown> breakdown = acc.Finish(Time::Zero());
  for (size_t p = 0; p < out->bodies.size(); ++p) {
    out->bodies[p].static_compute = breakdown[p].compute;
    out->bodies[p].exposed = breakdown[p].exposed;
    out->bodies[p].communication = breakdown[p].communication;
  }
  out->graph = std::move(graph);
  return out;
}

void IterationModel::BodyTimes(const CompiledIteration& c, const BatchShape& batch, std::vector<Time>* body,
                               std::vector<Time>* compute) const {
  body->resize(c.bodies.size());
  compute->resize(c.bodies.size());
  // Attention times per kernel model (one per GPU type; every GPU of a compilable replica shares one).
  const KernelTimeModel* model = nullptr;
  Time prefill, decode;
  for (size_t p = 0; p < c.bodies.size(); ++p) {
    const CompiledBody& b = c.bodies[p];
    const KernelTimeModel* m = kernel_models_[static_cast<size_t>(b.gpu)];
    if (m != model) {
      model = m;
      prefill = batch.prefills.empty() ? Time::Zero() : m->KernelTime(attention_.Prefill(batch));
      decode = batch.decode_contexts.empty() ? Time::Zero() : m->KernelTime(attention_.Decode(batch));
    }
    const Time attention = prefill * b.prefill_attention + decode * b.decode_attention;
    (*body)[p] = b.static_time + attention;
    (*compute)[p] = b.static_compute + attention;
  }
}

}  // namespace wiresim
