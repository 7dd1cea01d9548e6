#include "sim/serving/iteration_model.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "sim/core/check.h"

namespace wiresim {
namespace {

bool IsAttention(const StepOp& op) {
  return op.kind == StepOp::Kind::kKernel &&
         (op.kernel.kind == KernelKind::kAttentionPrefill || op.kernel.kind == KernelKind::kAttentionDecode);
}

// The decode attention of a drafter pass after the first (its shape is not the batch's: DraftPassBatch).
bool IsLaterDraftAttention(const StepOp& op) { return IsAttention(op) && op.name == "draft_attention_decode"; }

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

namespace {

StepGraphOptions WithImbalance(double expert_imbalance) {
  StepGraphOptions o;
  o.expert_imbalance = expert_imbalance;
  return o;
}

}  // namespace

IterationModel::IterationModel(const ModelSpec& model, const ParallelPlan& plan, const Placement& placement,
                               int replica, double expert_imbalance, std::vector<const KernelTimeModel*> kernel_models,
                               ClosedFormCollectives& closed)
    : IterationModel(model, plan, placement, replica, WithImbalance(expert_imbalance), std::move(kernel_models),
                     closed) {}

IterationModel::IterationModel(const ModelSpec& model, const ParallelPlan& plan, const Placement& placement,
                               int replica, const StepGraphOptions& moe,
                               std::vector<const KernelTimeModel*> kernel_models, ClosedFormCollectives& closed)
    : model_(model),
      plan_(plan),
      placement_(placement),
      kernel_models_(std::move(kernel_models)),
      closed_(closed),
      attention_(model, plan) {
  for (const StageLayers& stage : SplitLayers(model.num_layers, plan.pp)) {
    std::array<int64_t, 2>& kinds = layer_kinds_.emplace_back(std::array<int64_t, 2>{0, 0});
    for (int64_t l = stage.first; l < stage.end; ++l) ++kinds[model.IsMoeLayer(l) ? 1 : 0];
  }
  graph_options_.expert_imbalance = moe.expert_imbalance;
  graph_options_.routing = moe.routing;
  graph_options_.gpu_domain = moe.gpu_domain;
  graph_options_.two_batch_overlap = moe.two_batch_overlap && plan.ep > 1;
  graph_options_.ep_exchange = moe.ep_exchange;
  graph_options_.ep_gather = moe.ep_gather;
  graph_options_.draft = moe.draft;
  graph_options_.replica = replica;
  graph_options_.groups = std::make_shared<const ParallelGroups>(BuildGroups(plan, placement));
  const bool coupled = plan.ep > 1 && plan.dp > 1;
  // Exact only when every GPU of the replica times kernels with the same model and DP ranks are independent.
  const KernelTimeModel* first = nullptr;
  for (int r = 0; r < plan.WorldSize(); ++r) {
    if (!coupled && CoordOf(plan, r).dp != replica) continue;
    const KernelTimeModel* m = kernel_models_[static_cast<size_t>(placement.GpuOf(r))];
    if (first == nullptr) first = m;
    if (m != first) can_compile_ = false;
  }
  if (coupled || graph_options_.two_batch_overlap) can_compile_ = false;
  can_collapse_ = coupled && !graph_options_.two_batch_overlap;
  key_needs_positions_ = plan.cp > 1 || model.attention == AttentionKind::kMultiLatent;
}

IterationModel::Key IterationModel::KeyOf(const BatchShape& batch) const {
  int64_t positions = 0;
  if (key_needs_positions_) {
    for (const PrefillChunk& c : batch.prefills) positions += c.tokens + c.context;
  }
  return {batch.Tokens(),
          batch.LogitRows(),
          static_cast<int64_t>(batch.prefills.size()),
          static_cast<int64_t>(batch.decode_contexts.size()),
          batch.DecodeRows(),
          positions};
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

namespace {

// The ops of one layer (or of the part before the first layer or after the last) in a program of a graph built
// with one layer per kind: [first, end).
struct LayerRun {
  int64_t layer = 0;
  size_t first = 0, end = 0;
};

// Whether every op of `program` waits for exactly the op before it (the first for nothing).
bool IsChain(const GpuProgram& program) {
  for (size_t i = 0; i < program.ops.size(); ++i) {
    const std::vector<int32_t>& deps = program.ops[i].deps;
    if (i == 0 ? !deps.empty() : deps.size() != 1 || deps[0] != static_cast<int32_t>(i - 1)) return false;
  }
  return true;
}

// Each layer's ops as one run; nullopt when some layer's ops are not contiguous.
std::optional<std::vector<LayerRun>> LayerRunsOf(const GpuProgram& program) {
  std::vector<LayerRun> runs;
  for (size_t i = 0; i < program.ops.size(); ++i) {
    const int64_t layer = program.ops[i].layer;
    if (runs.empty() || runs.back().layer != layer) {
      for (const LayerRun& r : runs) {
        if (r.layer == layer) return std::nullopt;
      }
      runs.push_back({layer, i, i});
    }
    runs.back().end = i + 1;
  }
  return runs;
}

// Whether two graphs built with one layer per kind collapse into the same ops and collectives: the same ops in
// every program (kernel shapes aside) and the same collective instances.
bool SameCollapsedShape(const StepGraph& a, const StepGraph& b) {
  if (a.programs.size() != b.programs.size() || a.collectives.size() != b.collectives.size() || a.phase != b.phase) {
    return false;
  }
  for (size_t c = 0; c < a.collectives.size(); ++c) {
    const CollectiveInstance& x = a.collectives[c];
    const CollectiveInstance& y = b.collectives[c];
    if (x.name != y.name || x.dim != y.dim || x.phase != y.phase || x.layer != y.layer || x.programs != y.programs ||
        x.call.op != y.call.op || x.call.gpus != y.call.gpus || x.call.bytes != y.call.bytes ||
        x.call.dtype != y.call.dtype || x.call.root != y.call.root || x.call.matrix_bytes != y.call.matrix_bytes ||
        x.call.own_nic != y.call.own_nic) {
      return false;
    }
  }
  for (size_t p = 0; p < a.programs.size(); ++p) {
    const GpuProgram& x = a.programs[p];
    const GpuProgram& y = b.programs[p];
    if (x.rank != y.rank || x.gpu != y.gpu || x.ops.size() != y.ops.size()) return false;
    for (size_t i = 0; i < x.ops.size(); ++i) {
      const StepOp& u = x.ops[i];
      const StepOp& v = y.ops[i];
      if (u.kind != v.kind || u.layer != v.layer) return false;
      if (u.kind == StepOp::Kind::kCollective &&
          (u.instance != v.instance || u.name != v.name || u.phase != v.phase || u.dim != v.dim)) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

Time IterationModel::KernelTimeOf(int gpu, const KernelShape& k) {
  const KernelTimeModel* model = kernel_models_[static_cast<size_t>(gpu)];
  const KernelKey key{model, k.kind, k.m, k.n, k.k, k.batch, k.dtype, k.weight_dtype, k.flops, k.bytes};
  auto it = kernel_times_.find(key);
  if (it != kernel_times_.end()) return it->second;
  // Bounded: shapes with many distinct contexts (attention) would otherwise accumulate over a long run.
  if (kernel_times_.size() >= kKernelTimesKept) kernel_times_.clear();
  const Time t = model->KernelTime(k);
  kernel_times_.emplace(key, t);
  return t;
}

Result<std::shared_ptr<const CollapsedIteration>> IterationModel::Collapsed(const std::vector<BatchShape>& dp_batches) {
  StepGraphOptions o = graph_options_;
  o.dp_batches = dp_batches;
  o.one_layer_per_kind = true;
  WIRESIM_ASSIGN_OR_RETURN(StepGraph reduced, BuildStepGraph(model_, plan_, placement_, BatchShape{}, o));
  const int64_t layers = model_.num_layers;
  const std::vector<StageLayers> stages = SplitLayers(layers, plan_.pp);
  auto out = std::make_shared<CollapsedIteration>();
  // Consecutive steps often differ only in their kernels (decode contexts grow): the last collapsed graph is reused,
  // and only its durations are new.
  const bool build = last_graph_ == nullptr || !SameCollapsedShape(reduced, last_reduced_);
  auto graph = std::make_shared<StepGraph>();
  graph->batch = reduced.batch;
  graph->phase = reduced.phase;
  // The instance of the collapsed graph for (an instance of the reduced graph, the layer it runs in + 1).
  const size_t slots = static_cast<size_t>(layers + 2);
  std::vector<int> instance_of(reduced.collectives.size() * slots, -1);
  graph->programs.resize(reduced.programs.size());
  out->op_time.resize(reduced.programs.size());
  std::vector<Time> kernel_time;
  for (size_t p = 0; p < reduced.programs.size(); ++p) {
    const GpuProgram& from = reduced.programs[p];
    if (!IsChain(from)) return std::shared_ptr<const CollapsedIteration>();
    const std::optional<std::vector<LayerRun>> runs = LayerRunsOf(from);
    if (!runs) return std::shared_ptr<const CollapsedIteration>();
    kernel_time.assign(from.ops.size(), Time::Zero());
    for (size_t i = 0; i < from.ops.size(); ++i) {
      if (from.ops[i].kind == StepOp::Kind::kKernel) kernel_time[i] = KernelTimeOf(from.gpu, from.ops[i].kernel);
    }
    // The runs in program order: before the first layer, every layer of the stage (its kind's template), after the
    // last.
    const LayerRun* before = nullptr;
    const LayerRun* after = nullptr;
    std::array<const LayerRun*, 2> kind{nullptr, nullptr};  // [dense, moe]
    for (const LayerRun& r : *runs) {
      if (r.layer < 0) {
        before = &r;
      } else if (r.layer >= layers) {
        after = &r;
      } else {
        kind[model_.IsMoeLayer(r.layer) ? 1 : 0] = &r;
      }
    }
    const StageLayers& stage = stages[static_cast<size_t>(from.coord.pp)];
    // At most one segment before each collective and one after the last.
    auto collectives_in = [&](const LayerRun* run) {
      int64_t n = 0;
      for (size_t i = run != nullptr ? run->first : 0; run != nullptr && i < run->end; ++i) {
        n += from.ops[i].kind == StepOp::Kind::kCollective ? 1 : 0;
      }
      return n;
    };
    int64_t collectives = collectives_in(before) + collectives_in(after);
    const std::array<int64_t, 2> per_layer{collectives_in(kind[0]), collectives_in(kind[1])};
    for (int64_t l = stage.first; l < stage.end; ++l) collectives += per_layer[model_.IsMoeLayer(l) ? 1 : 0];
    GpuProgram& to = graph->programs[p];
    if (build) to.ops.reserve(static_cast<size_t>(2 * collectives + 1));
    out->op_time[p].reserve(static_cast<size_t>(2 * collectives + 1));
    to.rank = from.rank;
    to.gpu = from.gpu;
    to.coord = from.coord;
    std::vector<Time>& times = out->op_time[p];
    Time segment;
    int segment_layer = 0;
    bool open = false;
    auto push = [&](StepOp op) {
      if (!to.ops.empty()) op.deps = {static_cast<int32_t>(to.ops.size() - 1)};
      to.ops.push_back(std::move(op));
    };
    auto close_segment = [&] {
      if (!open) return;
      times.push_back(segment);
      segment = Time::Zero();
      open = false;
      if (!build) return;
      StepOp k;
      k.kind = StepOp::Kind::kKernel;
      k.stream = Stream::kCompute;
      k.name = "compute_segment";
      k.layer = segment_layer;
      k.phase = reduced.phase;
      push(std::move(k));
    };
    auto emit = [&](const LayerRun& run, int64_t layer) {
      for (size_t i = run.first; i < run.end; ++i) {
        const StepOp& op = from.ops[i];
        if (op.kind == StepOp::Kind::kKernel) {
          if (!open) segment_layer = static_cast<int>(layer);
          open = true;
          segment += kernel_time[i];
          continue;
        }
        close_segment();
        times.push_back(Time::Zero());
        if (!build) continue;
        // A layer's template runs once per layer of its kind, each run its own instances. The ops before the first
        // layer and after the last run once, and a pipeline send (after the last layer of its stage) and its
        // receive (before the first of the next) are one instance: those keep the reduced graph's layer.
        const bool templated = layer >= 0 && layer < layers;
        const int64_t at = templated ? layer : reduced.collectives[static_cast<size_t>(op.instance)].layer;
        const size_t key = static_cast<size_t>(op.instance) * slots + static_cast<size_t>(at + 1);
        if (instance_of[key] < 0) {
          instance_of[key] = static_cast<int>(graph->collectives.size());
          graph->collectives.push_back(reduced.collectives[static_cast<size_t>(op.instance)]);
          graph->collectives.back().layer = static_cast<int>(at);
        }
        StepOp c;
        c.kind = StepOp::Kind::kCollective;
        c.stream = Stream::kCommunication;
        c.name = op.name;
        c.layer = static_cast<int>(layer);
        c.phase = op.phase;
        c.dim = op.dim;
        c.instance = instance_of[key];
        push(std::move(c));
      }
    };
    if (before != nullptr) emit(*before, before->layer);
    for (int64_t l = stage.first; l < stage.end; ++l) {
      const LayerRun* run = kind[model_.IsMoeLayer(l) ? 1 : 0];
      if (run == nullptr) return Internal("collapsed iteration: no template for layer " + std::to_string(l));
      emit(*run, l);
    }
    if (after != nullptr) emit(*after, after->layer);
    close_segment();
    WIRESIM_CHECK(build || times.size() == last_graph_->programs[p].ops.size()) << "collapsed iteration: program " << p;
  }
  if (build) {
    last_graph_ = std::move(graph);
    last_reduced_ = std::move(reduced);
  }
  out->graph = last_graph_;
  return std::shared_ptr<const CollapsedIteration>(std::move(out));
}

KernelDuration IterationModel::SegmentTimes(std::shared_ptr<const CollapsedIteration> c) {
  return [c = std::move(c)](size_t p, const StepOp& op) {
    // `op` is an element of the program's ops: its index is its offset.
    const std::vector<StepOp>& ops = c->graph->programs[p].ops;
    return c->op_time[p][static_cast<size_t>(&op - ops.data())];
  };
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

namespace {

// A stretch of one program's body between synchronisation points: the ops before the first decoder layer, each
// decoder layer, or the ops after the last; `times` is how often it stands for (a layer's kind's count on the stage
// when the graph holds one layer per kind).
struct Segment {
  int layer = 0;  // the ops' layer (-1 before the first, num_layers after the last)
  size_t first = 0, end = 0;
  int64_t times = 1;
};

std::vector<Segment> SegmentsOf(const GpuProgram& program, int recv, int send) {
  std::vector<Segment> out;
  for (size_t i = 0; i < program.ops.size(); ++i) {
    if (static_cast<int>(i) == recv || static_cast<int>(i) == send) continue;
    const int layer = program.ops[i].layer;
    if (out.empty() || out.back().layer != layer || out.back().end != i) out.push_back({layer, i, i, 1});
    out.back().end = i + 1;
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<CompiledIteration>> IterationModel::CompileNow(const BatchShape& batch) {
  // First with one layer of each kind per stage; if every stage's ranks are in step at every layer boundary, each
  // layer of a kind takes the same time and does the same work, and the body is the sum. Else the whole graph.
  std::unique_ptr<CompiledIteration> compiled;
  StepGraph graph;
  bool reduced = true;
  for (const bool r : {true, false}) {
    StepGraphOptions o = graph_options_;
    o.one_layer_per_kind = r;
    WIRESIM_ASSIGN_OR_RETURN(graph, BuildStepGraph(model_, plan_, placement_, batch, o));
    Result<std::unique_ptr<CompiledIteration>> c = CompileGraph(graph, r);
    if (!c.ok()) return c.status();
    if (*c != nullptr) {
      compiled = std::move(*c);
      reduced = r;
      break;
    }
  }
  if (compiled == nullptr) return Internal("iteration: no compiled form");
  // The links the body's collectives load, from every layer's calls. In the reduced graph a decoder layer stands
  // for every layer of its kind on its stage, which repeat its calls one for one: its calls count that many times.
  const std::vector<StageLayers> stages = SplitLayers(model_.num_layers, plan_.pp);
  std::map<LinkId, double> bytes;
  for (const CollectiveInstance& inst : graph.collectives) {
    if (inst.dim == ParallelDim::kPp || inst.call.gpus.size() < 2 || inst.call.bytes <= 0) continue;
    // A call whose expansion is too large to enumerate loads no link here (the run's timing does not depend on it).
    Result<const CollectiveLinkLoad*> load = closed_.LinkLoad(inst.call);
    if (!load.ok()) continue;
    double times = 1;
    if (reduced && !inst.programs.empty()) {
      const int stage = graph.programs[static_cast<size_t>(inst.programs.front())].coord.pp;
      const StageLayers& st = stages[static_cast<size_t>(stage)];
      if (inst.layer >= st.first && inst.layer < st.end) times = static_cast<double>(LayersOfKind(stage, inst.layer));
    }
    for (const LinkBytes& lb : **load) bytes[lb.link] += lb.bytes * times;
  }
  for (const auto& [link, b] : bytes) compiled->link_bytes.push_back({link, b});
  return compiled;
}

Result<std::unique_ptr<CompiledIteration>> IterationModel::CompileGraph(const StepGraph& g, bool reduced) {
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

  // Segments and their end times; in the reduced graph, every rank of a stage must end each one together.
  std::vector<std::vector<Segment>> segments(g.programs.size());
  std::vector<std::pair<int, int>> ends(g.programs.size());
  std::map<std::pair<int, size_t>, Time> stage_boundary;  // (stage, segment) -> end time
  for (size_t p = 0; p < g.programs.size(); ++p) {
    const GpuProgram& program = g.programs[p];
    ends[p] = PipelineEnds(program);
    segments[p] = SegmentsOf(program, ends[p].first, ends[p].second);
    for (size_t k = 0; k < segments[p].size(); ++k) {
      Segment& seg = segments[p][k];
      if (reduced && seg.layer >= 0 && seg.layer < model_.num_layers) {
        seg.times = LayersOfKind(program.coord.pp, seg.layer);
      }
      if (!reduced) continue;
      const Time end = timing.op_done[p][seg.end - 1];
      auto [it, fresh] = stage_boundary.emplace(std::make_pair(program.coord.pp, k), end);
      if (!fresh && it->second != end) return std::unique_ptr<CompiledIteration>();  // not in step: no shortcut
    }
  }

  auto out = std::make_unique<CompiledIteration>();
  auto graph = std::make_shared<StepGraph>();
  graph->batch = g.batch;
  graph->phase = g.phase;
  std::vector<int> remap(g.collectives.size(), -1);
  for (size_t p = 0; p < g.programs.size(); ++p) {
    const GpuProgram& program = g.programs[p];
    const auto [recv, send] = ends[p];
    CompiledBody body;
    body.gpu = program.gpu;
    Time previous = recv >= 0 ? timing.op_done[p][static_cast<size_t>(recv)] : Time::Zero();
    for (const Segment& seg : segments[p]) {
      // Each segment replayed through the accounting the executor feeds, so the breakdown matches op by op.
      GpuTimeAccounting acc(1, {0});
      int prefill = 0, decode = 0, draft = 0;
      for (size_t i = seg.first; i < seg.end; ++i) {
        const StepOp& op = program.ops[i];
        if (op.kind == StepOp::Kind::kKernel) {
          if (op.kernel.kind == KernelKind::kAttentionPrefill) ++prefill;
          if (op.kernel.kind == KernelKind::kAttentionDecode) ++(IsLaterDraftAttention(op) ? draft : decode);
          acc.OnKernel(0, timing.op_start[p][i], timing.op_done[p][i]);
        } else {
          acc.OnCollective(0, timing.collective_start[static_cast<size_t>(op.instance)], timing.op_done[p][i], op.dim,
                           op.phase);
        }
      }
      const Time end = timing.op_done[p][seg.end - 1];
      const GpuBreakdown b = acc.Finish(Time::Zero())[0];
      body.static_time += (end - previous) * seg.times;
      body.static_compute += b.compute * seg.times;
      body.communication += b.communication * seg.times;
      for (size_t d = 0; d < b.exposed.size(); ++d) {
        for (size_t ph = 0; ph < b.exposed[d].size(); ++ph) body.exposed[d][ph] += b.exposed[d][ph] * seg.times;
      }
      body.prefill_attention += prefill * static_cast<int>(seg.times);
      body.decode_attention += decode * static_cast<int>(seg.times);
      body.later_draft_attention += draft * static_cast<int>(seg.times);
      previous = end;
    }
    if (send >= 0 && !segments[p].empty()) {
      // The send is posted when the body is done (it depends on the last body op).
      body.static_time += timing.op_start[p][static_cast<size_t>(send)] - previous;
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
    collapsed.ops.push_back(std::move(block));
    if (send >= 0) keep(send);
    graph->programs.push_back(std::move(collapsed));
    out->bodies.push_back(body);
  }
  out->graph = std::move(graph);
  out->reduced = reduced;
  return out;
}

void IterationModel::BodyTimes(const CompiledIteration& c, const BatchShape& batch, std::vector<Time>* body,
                               std::vector<Time>* compute) const {
  body->resize(c.bodies.size());
  compute->resize(c.bodies.size());
  // Attention times per kernel model (one per GPU type; every GPU of a compilable replica shares one).
  const KernelTimeModel* model = nullptr;
  Time prefill, decode, draft;
  for (size_t p = 0; p < c.bodies.size(); ++p) {
    const CompiledBody& b = c.bodies[p];
    const KernelTimeModel* m = kernel_models_[static_cast<size_t>(b.gpu)];
    if (m != model) {
      model = m;
      prefill = batch.prefills.empty() ? Time::Zero() : m->KernelTime(attention_.Prefill(batch));
      decode = batch.decode_contexts.empty() ? Time::Zero() : m->KernelTime(attention_.Decode(batch));
      // The drafter's passes after the first: one decode attention each, over the batch's sequences one position
      // further every pass.
      draft = Time::Zero();
      for (int pass = 1; pass < graph_options_.draft.passes; ++pass) {
        draft += m->KernelTime(attention_.Decode(DraftPassBatch(batch, pass)));
      }
    }
    WIRESIM_CHECK(b.later_draft_attention == 0 || b.later_draft_attention == graph_options_.draft.passes - 1)
        << "a compiled body's drafter passes";
    const Time attention = prefill * b.prefill_attention + decode * b.decode_attention +
                           (b.later_draft_attention > 0 ? draft : Time::Zero());
    (*body)[p] = b.static_time + attention;
    (*compute)[p] = b.static_compute + attention;
  }
}

}  // namespace wiresim
