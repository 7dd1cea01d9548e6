// `wiresim model show`: a model's shapes, parameters, KV bytes and FLOPs per token; with --plan, memory per GPU,
// the KV tokens that fit, and the step graph of one iteration with each kernel's predicted time; with --topology
// too, each collective's closed-form time and the iteration's time with communication.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <iomanip>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string_view>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "sim/app/calibration_input.h"
#include "sim/app/cli.h"
#include "sim/app/number_format.h"
#include "sim/app/options.h"
#include "sim/app/topology_input.h"
#include "sim/app/verbs.h"
#include "sim/collective/collective_timing.h"
#include "sim/compute/roofline.h"
#include "sim/core/numeric_field.h"
#include "sim/core/text.h"
#include "sim/model/model_file.h"
#include "sim/model/parameters.h"
#include "sim/parallel/memory.h"
#include "sim/parallel/step_graph.h"
#include "sim/serving/engine.h"
#include "sim/topology/topology_file.h"

namespace wiresim::app {
namespace po = boost::program_options;
using Json = nlohmann::ordered_json;

namespace {

// 1234567 -> "1,234,567".
std::string Grouped(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (v < 0 ? "-" : "") + out;
}

std::string Billions(int64_t n) { return Fixed(static_cast<double>(n) / 1e9, 2) + " B"; }
std::string Gb(double bytes) { return Fixed(bytes / 1e9, 1); }
std::string Gib(double bytes) { return Fixed(bytes / (1024.0 * 1024 * 1024), 2); }

std::string Pad(const std::string& s, size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

std::string Describe(const ModelSpec& m) {
  std::ostringstream s;
  s << "hidden " << m.hidden_size << ", " << m.num_layers << " layers";
  if (m.IsMoe()) s << " (" << m.MoeLayerCount() << " MoE, " << m.num_layers - m.MoeLayerCount() << " dense)";
  if (m.attention == AttentionKind::kMultiLatent) {
    s << ", MLA with " << m.num_attention_heads << " heads (q/k " << m.QkHeadDim() << ", v " << m.VHeadDim()
      << ", latent " << m.mla.kv_lora_rank << " + rope " << m.mla.qk_rope_head_dim << ")";
  } else {
    s << ", " << m.num_attention_heads << " heads / " << m.num_kv_heads << " KV heads x " << m.head_dim;
  }
  if (m.intermediate_size > 0 && m.MoeLayerCount() < m.num_layers) s << ", MLP " << m.intermediate_size;
  if (m.IsMoe()) {
    s << ", " << m.moe.num_experts << " experts (top-" << m.moe.experts_per_token << ") of "
      << m.moe.expert_intermediate_size;
    if (m.moe.num_shared_experts > 0) s << " + " << m.moe.num_shared_experts << " shared";
  }
  s << ", vocab " << m.vocab_size;
  if (m.tie_word_embeddings) s << " (tied LM head)";
  return s.str();
}

// Everything `model show` prints without a plan.
Json ModelJson(const ModelSpec& m) {
  const ParameterCounts p = CountParameters(m);
  const FlopsPerToken f = CountFlopsPerToken(m);
  Json j;
  j["name"] = m.name;
  j["model_type"] = m.model_type;
  j["source"] = m.source;
  j["shape"] = Describe(m);
  j["dtypes"] = {{"weights", ToString(m.weight_dtype)},
                 {"activations", ToString(m.activation_dtype)},
                 {"kv_cache", ToString(m.kv_cache_dtype)}};
  j["parameters"] = {
      {"total", p.total},         {"active_per_token", p.active},       {"attention", p.attention},
      {"dense_mlp", p.dense_mlp}, {"routed_experts", p.routed_experts}, {"shared_experts", p.shared_experts},
      {"router", p.router},       {"embedding", p.embedding},           {"lm_head", p.lm_head},
      {"norms", p.norms}};
  j["weight_bytes"] = ModelWeightBytes(m);
  j["kv_bytes_per_token"] = m.KvBytesPerToken();
  j["kv_bytes_per_token_per_layer"] = m.KvBytesPerToken() / static_cast<double>(m.num_layers);
  j["flops_per_token"] = {{"linear", f.linear}, {"attention_per_context_token", f.attention_per_context_token}};
  return j;
}

void PrintModel(std::ostream& out, const ModelSpec& m) {
  const ParameterCounts p = CountParameters(m);
  const FlopsPerToken f = CountFlopsPerToken(m);
  out << m.name << (m.model_type.empty() ? "" : " (" + m.model_type + ")") << "  " << m.source << "\n";
  out << "  " << Describe(m) << "\n";
  out << "  types: weights " << ToString(m.weight_dtype) << ", activations " << ToString(m.activation_dtype)
      << ", KV cache " << ToString(m.kv_cache_dtype) << "\n\n";
  out << "Parameters      " << Billions(p.total) << " total, " << Billions(p.active) << " active per token\n";
  out << "  attention " << Billions(p.attention);
  if (p.dense_mlp > 0) out << ", dense MLP " << Billions(p.dense_mlp);
  if (p.routed_experts > 0) out << ", routed experts " << Billions(p.routed_experts);
  if (p.shared_experts > 0) out << ", shared experts " << Billions(p.shared_experts);
  if (p.router > 0) out << ", routers " << Billions(p.router);
  out << ", embedding " << Billions(p.embedding);
  if (p.lm_head > 0) out << ", LM head " << Billions(p.lm_head);
  out << "\n";
  out << "Weights         " << Gb(ModelWeightBytes(m)) << " GB\n";
  out << "KV cache        " << Grouped(static_cast<int64_t>(m.KvBytesPerToken())) << " bytes per token ("
      << Grouped(static_cast<int64_t>(m.KvBytesPerToken() / static_cast<double>(m.num_layers))) << " per layer)\n";
  out << "FLOPs per token " << Fixed(f.linear / 1e9, 1) << " GFLOP in linear layers + "
      << Fixed(f.attention_per_context_token / 1e6, 2) << " MFLOP of attention per token of context\n";
}

struct Hardware {
  std::vector<GpuSpec> specs;      // by global GPU index
  int available = 0;               // 0: as many as the plan needs
  std::string label;               // "8x h100-sxm (dgx-h100)"
  std::unique_ptr<Topology> topo;  // with --topology only: what collectives are timed on
};

Result<Hardware> ResolveHardware(AppContext& ctx, const std::string& topology, const std::string& gpu, int world) {
  Hardware hw;
  if (!topology.empty()) {
    WIRESIM_ASSIGN_OR_RETURN(SourceFile file, ReadInput(ctx, topology, InputKind::kTopology));
    WIRESIM_ASSIGN_OR_RETURN(Topology topo, LoadTopologyForVerb(file, ctx.reader));
    std::map<std::string, int> models;
    for (int i = 0; i < topo.gpu_count(); ++i) {
      const std::string& name = topo.node(topo.gpu(i)).spec.model;
      const GpuSpec* spec = FindGpuSpec(name);
      if (spec == nullptr) {
        return NotFound(file.name + ": GPU " + std::to_string(i) + " has model \"" + name +
                        "\", which wiresim has no spec for (known: " + std::string(KnownGpuNames()) + ")");
      }
      hw.specs.push_back(*spec);
      ++models[std::string(spec->name)];
    }
    hw.available = topo.gpu_count();
    for (const auto& [name, n] : models) hw.label += (hw.label.empty() ? "" : ", ") + std::to_string(n) + "x " + name;
    hw.label += " (" + topo.name() + ")";
    hw.topo = std::make_unique<Topology>(std::move(topo));
    return hw;
  }
  const GpuSpec* spec = FindGpuSpec(gpu);
  if (spec == nullptr) {
    return NotFound("--gpu " + gpu + ": no such GPU (known: " + std::string(KnownGpuNames()) + ")");
  }
  hw.specs.assign(static_cast<size_t>(world), *spec);
  hw.label = std::to_string(world) + "x " + std::string(spec->name);
  return hw;
}

std::string ShapeOf(const StepOp& op) {
  const KernelShape& k = op.kernel;
  if (op.kind == StepOp::Kind::kCollective) {
    return std::string(ToString(op.collective.op)) + " " + std::string(ToString(op.dim)) + " over " +
           std::to_string(op.collective.gpus.size()) + " GPUs";
  }
  switch (k.kind) {
    case KernelKind::kGemm:
      return std::to_string(k.m) + "x" + std::to_string(k.n) + "x" + std::to_string(k.k) +
             (k.batch > 1 ? " (x" + std::to_string(k.batch) + ")" : "");
    case KernelKind::kGroupedGemm:
      return std::to_string(k.batch) + " experts x " + std::to_string(k.m) + "x" + std::to_string(k.n) + "x" +
             std::to_string(k.k);
    case KernelKind::kAttentionPrefill:
      return std::to_string(k.m) + " tokens, " + std::to_string(k.batch) + " chunks";
    case KernelKind::kAttentionDecode:
      return std::to_string(k.m) + " sequences";
    case KernelKind::kMemoryBound:
      return "";
  }
  return "";
}

// The layers worth printing: before the first, the first of each kind (dense, MoE) on the stage, after the last.
std::vector<int> RepresentativeLayers(const ModelSpec& m, const GpuProgram& program) {
  std::vector<int> layers;
  bool dense_seen = false, moe_seen = false;
  for (const StepOp& op : program.ops) {
    if (!layers.empty() && layers.back() == op.layer) continue;
    if (std::find(layers.begin(), layers.end(), op.layer) != layers.end()) continue;
    if (op.layer >= 0 && op.layer < m.num_layers) {
      bool& seen = m.IsMoeLayer(op.layer) ? moe_seen : dense_seen;
      if (seen) continue;
      seen = true;
    }
    layers.push_back(op.layer);
  }
  return layers;
}

std::string LayerLabel(const ModelSpec& m, int layer) {
  if (layer < 0) return "in";
  if (layer >= m.num_layers) return "out";
  return std::to_string(layer) + (m.IsMoeLayer(layer) ? " moe" : "");
}

// Every collective instance of the graph timed by the collective model's closed form, with NCCL's choice for it.
struct CollectiveTimes {
  std::vector<Time> duration;  // by instance
  std::vector<CollectiveChoice> choice;
};

Result<CollectiveTimes> TimeCollectives(const StepGraph& graph, ClosedFormCollectives& closed) {
  CollectiveTimes t;
  for (const CollectiveInstance& c : graph.collectives) {
    WIRESIM_ASSIGN_OR_RETURN(Time d, closed.Duration(c.call));
    WIRESIM_ASSIGN_OR_RETURN(CollectiveChoice choice, closed.Choice(c.call));
    t.duration.push_back(d);
    t.choice.push_back(choice);
  }
  return t;
}

// `times` is null when collectives are not timed.
Json StepRows(const ModelSpec& m, const GpuProgram& program, const KernelTimeModel& timer,
              const CollectiveTimes* times) {
  Json rows = Json::array();
  const std::vector<int> layers = RepresentativeLayers(m, program);
  for (const StepOp& op : program.ops) {
    if (std::find(layers.begin(), layers.end(), op.layer) == layers.end()) continue;
    Json r;
    r["layer"] = op.layer;
    r["op"] = op.name;
    r["phase"] = ToString(op.phase);
    if (op.kind == StepOp::Kind::kKernel) {
      r["kind"] = ToString(op.kernel.kind);
      r["shape"] = ShapeOf(op);
      r["flops"] = op.kernel.flops;
      r["bytes"] = op.kernel.bytes;
      r["time_us"] = timer.KernelTime(op.kernel).ToMicroseconds();
    } else {
      r["kind"] = "collective";
      r["shape"] = ShapeOf(op);
      r["collective"] = ToString(op.collective.op);
      r["dimension"] = ToString(op.dim);
      r["gpus"] = op.collective.gpus;
      r["bytes"] = op.collective.bytes;
      if (times != nullptr) {
        const size_t c = static_cast<size_t>(op.instance);
        r["time_us"] = times->duration[c].ToMicroseconds();
        r["algorithm"] = ToString(times->choice[c].algorithm);
        r["protocol"] = ToString(times->choice[c].protocol);
      }
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

struct Options {
  std::string model, plan, gpu = "h100", topology, placement = "packed", batch = "prefill=1x2048,decode=64x2048";
  std::string weight_dtype, kv_dtype;
  std::string engine = "vllm";  // whose KV budget and scheduler defaults size the memory
  MemoryOptions memory;
  bool memory_fraction_given = false;  // --gpu-memory-utilization given (else SGLang's is its own default)
  std::optional<double> reserve_gib;  // unset: DefaultRuntimeReserve(plan)
  // Unset: vLLM's defaults for the GPU of rank 0 (VllmSchedulerDefaults).
  std::optional<int64_t> max_num_seqs, max_num_batched_tokens;
  double imbalance = 1.0;
  int rank = 0;
  bool json = false;
  std::string calibration;  // a calibration profile: measured GEMMs and HBM bandwidth
};

Status ApplyDtypes(const Options& o, ModelSpec& m) {
  if (!o.weight_dtype.empty()) {
    std::optional<DataType> t = ParseDataType(o.weight_dtype);
    if (!t) return InvalidArgument("--weight-dtype " + o.weight_dtype + ": expected bf16, fp16, fp8, int8 or int4");
    m.weight_dtype = *t;
  }
  if (!o.kv_dtype.empty() && o.kv_dtype != "auto") {
    std::optional<DataType> t = ParseDataType(o.kv_dtype);
    if (!t) return InvalidArgument("--kv-cache-dtype " + o.kv_dtype + ": expected auto, bf16, fp16 or fp8");
    m.kv_cache_dtype = *t;
  }
  return Status::Ok();
}

// No sequence of the batch may be longer than the model's context (max_position_embeddings, when it has one). The
// error names the item as written in `text` (which ParseBatch has accepted).
Status CheckBatchFitsContext(const std::string& text, const ModelSpec& m) {
  const int64_t limit = m.max_position_embeddings;
  if (limit <= 0) return Status::Ok();
  for (std::string_view item : Split(text, ',')) {
    WIRESIM_ASSIGN_OR_RETURN(BatchShape one, ParseBatch(item));
    int64_t longest = 0;
    for (const PrefillChunk& p : one.prefills) longest = std::max(longest, p.context + p.tokens);
    for (int64_t c : one.decode_contexts) longest = std::max(longest, c);
    if (longest > limit) {
      return InvalidArgument("--batch " + std::string(item) + ": a sequence of " + Grouped(longest) +
                             " tokens is longer than " + m.name + "'s context of " + Grouped(limit) +
                             " tokens (max_position_embeddings)");
    }
  }
  return Status::Ok();
}

// Every GPU's kernels of one iteration, summed, in half the time a simulation represents (the other half leaves room
// for its collectives): a model file's sizes are bounded one by one, so a batch of a large enough made-up model could
// otherwise pass Time's range. Checked in seconds, before any Time is formed.
Status CheckKernelTimesFit(const StepGraph& graph, const std::function<const KernelTimeModel&(int)>& timer_of,
                           const std::string& batch) {
  for (const GpuProgram& program : graph.programs) {
    const KernelTimeModel& timer = timer_of(program.gpu);
    double seconds = 0;
    for (const StepOp& op : program.ops) {
      if (op.kind == StepOp::Kind::kKernel) seconds += timer.KernelSeconds(op.kernel);
    }
    if (!Time::FitsSeconds(2 * seconds)) {
      std::ostringstream text;
      text << "--batch " << batch << ": GPU " << program.gpu << "'s kernels would take " << std::setprecision(3)
           << seconds << " s in one iteration, past the longest time a simulation represents (9.2e6 s, about 106 "
           << "days, half of it for kernels)";
      return InvalidArgument(text.str());
    }
  }
  return Status::Ok();
}

// `model show --json` for a plan that does not fit: the reason, and per GPU what it needs against what it may use.
// The weights, activations and reserve do not depend on the memory budget, so they are PlanMemory's own figures
// under vLLM's budget lifted (a fraction of capacity far above 1); what the engine's budget needs of them, and
// lets them use, are then worked out for each GPU.
Json DoesNotFitJson(const ModelSpec& m, const ParallelPlan& plan, const Placement& placement, const Hardware& hw,
                    const MemoryOptions& options, const Status& why) {
  Json j{{"plan", plan.ToString()}, {"hardware", hw.label}, {"fits", false}, {"reason", why.message()}};
  MemoryOptions lifted = options;
  lifted.budget = KvBudget::kVllm;
  lifted.gpu_memory_utilization = 1e6;
  Result<MemoryPlan> needs = PlanMemory(m, plan, placement, hw.specs, lifted);
  if (!needs.ok()) return j;
  Json gpus = Json::array();
  double worst_needed = 0, worst_usable = 0, worst_short = -1e300;
  for (const GpuMemory& g : needs->gpus) {
    const double usable = UsableBytes(options.budget, g.capacity, g.reserve, options.gpu_memory_utilization);
    const double needed = NeededBytes(options.budget, g.weights.total(), g.activations, g.reserve);
    if (needed - usable > worst_short) {
      worst_short = needed - usable;
      worst_needed = needed;
      worst_usable = usable;
    }
    gpus.push_back({{"rank", g.rank},
                    {"gpu", g.gpu},
                    {"stage", g.stage},
                    {"gpu_model", g.gpu_model},
                    {"capacity_bytes", g.capacity},
                    {"usable_bytes", usable},
                    {"needed_bytes", needed},
                    {"weight_bytes", g.weights.total()},
                    {"activation_bytes", g.activations},
                    {"reserve_bytes", g.reserve}});
  }
  j["needed_bytes"] = worst_needed;  // of the GPU furthest short
  j["usable_bytes"] = worst_usable;
  j["gpus"] = std::move(gpus);
  return j;
}

// The plan part of `model show`: memory, KV capacity and the step graph. Prints (or fills `j`).
Status ShowPlan(AppContext& ctx, const Options& o, const ModelSpec& m, Json* j) {
  WIRESIM_ASSIGN_OR_RETURN(ParallelPlan plan, ParsePlan(o.plan));
  WIRESIM_ASSIGN_OR_RETURN(Hardware hw, ResolveHardware(ctx, o.topology, o.gpu, plan.WorldSize()));
  WIRESIM_RETURN_IF_ERROR(ValidatePlan(plan, m, hw.available));
  WIRESIM_ASSIGN_OR_RETURN(Placement placement, ParsePlacement(o.placement, plan, static_cast<int>(hw.specs.size())));
  MemoryOptions mem_options = o.memory;
  if (o.reserve_gib) mem_options.runtime_reserve_bytes = *o.reserve_gib * 1024 * 1024 * 1024;
  Result<Engine> parsed_engine = ParseEngine(o.engine);
  if (!parsed_engine.ok()) return InvalidArgument("--engine " + o.engine + ": expected vllm, sglang or trtllm");
  const Engine engine = *parsed_engine;
  const GpuSpec& rank0_gpu = hw.specs[static_cast<size_t>(placement.GpuOf(0))];
  const EngineProfile profile = ProfileOf(engine, &rank0_gpu, SglangTpSize(plan));
  mem_options.budget = profile.kv_budget;
  // SGLang has no fixed sequence limit; 256 stands in, as in wiresim run (it sizes only the sampler's activations,
  // which SGLang's budget does not take off).
  mem_options.max_num_seqs = o.max_num_seqs.value_or(profile.max_num_seqs > 0 ? profile.max_num_seqs : 256);
  mem_options.max_num_batched_tokens = o.max_num_batched_tokens.value_or(profile.max_num_batched_tokens);
  if (engine == Engine::kSglang && !o.memory_fraction_given) {
    mem_options.gpu_memory_utilization = SglangDefaultFraction(plan, rank0_gpu, mem_options.max_num_batched_tokens);
  }
  Result<MemoryPlan> planned = PlanMemory(m, plan, placement, hw.specs, mem_options);
  if (!planned.ok()) {
    if (j != nullptr) (*j)["plan"] = DoesNotFitJson(m, plan, placement, hw, mem_options, planned.status());
    return planned.status();
  }
  const MemoryPlan& mem = *planned;
  WIRESIM_ASSIGN_OR_RETURN(BatchShape batch, ParseBatch(o.batch));
  StepGraphOptions graph_options;
  graph_options.expert_imbalance = o.imbalance;
  WIRESIM_ASSIGN_OR_RETURN(StepGraph graph, BuildStepGraph(m, plan, placement, batch, graph_options));
  const auto chosen =
      std::find_if(graph.programs.begin(), graph.programs.end(), [&](const GpuProgram& g) { return g.rank == o.rank; });
  if (chosen == graph.programs.end()) {
    return InvalidArgument("--rank " + std::to_string(o.rank) + ": not a rank of the replica (0-" +
                           std::to_string(plan.WorldSize() - 1) + ")");
  }
  const GpuProgram& program = *chosen;
  std::optional<LoadedCalibration> calibration;
  if (!o.calibration.empty()) {
    WIRESIM_ASSIGN_OR_RETURN(LoadedCalibration loaded, LoadCalibration(ctx, o.calibration, hw.topo.get()));
    calibration = std::move(loaded);
  }
  const LoadedCalibration* cal = calibration ? &*calibration : nullptr;
  std::string timed_by;
  const std::unique_ptr<KernelTimeModel> timer_model =
      KernelModelFor(hw.specs[static_cast<size_t>(program.gpu)], {}, cal, &timed_by);
  const KernelTimeModel& timer = *timer_model;
  // One model per GPU type in the cluster: a calibrated GEMM table is built once, not once per GPU.
  std::map<std::string_view, std::unique_ptr<KernelTimeModel>> timers;
  auto timer_of = [&](int gpu) -> const KernelTimeModel& {
    const GpuSpec& spec = hw.specs[static_cast<size_t>(gpu)];
    std::unique_ptr<KernelTimeModel>& slot = timers[spec.name];
    if (slot == nullptr) slot = KernelModelFor(spec, {}, cal, nullptr);
    return *slot;
  };

  WIRESIM_RETURN_IF_ERROR(CheckKernelTimesFit(graph, timer_of, o.batch));

  // Collectives, with a topology: the closed form on it (the fitted corrections of a calibration where they apply),
  // and the iteration as the longest path through kernels and collectives.
  std::unique_ptr<CollectiveModel> collective_model;
  std::unique_ptr<FittedCollectiveCalibration> collective_calibration;
  std::optional<ClosedFormCollectives> closed;
  std::optional<CollectiveTimes> collective_times;
  StepGraphTiming timing;
  if (hw.topo != nullptr) {
    collective_model =
        std::make_unique<CollectiveModel>(*hw.topo, CollectiveParams::InServingStep(NcclVersion::Newest()));
    if (cal != nullptr && cal->fitted) {
      collective_calibration =
          std::make_unique<FittedCollectiveCalibration>(cal->fitted->collective, AlgorithmFilter{});
    }
    closed.emplace(*collective_model, AlgorithmFilter{}, collective_calibration.get());
    WIRESIM_ASSIGN_OR_RETURN(CollectiveTimes times, TimeCollectives(graph, *closed));
    collective_times = std::move(times);
    timing = EvaluateStepGraph(
        graph, [&](size_t p, const StepOp& op) { return timer_of(graph.programs[p].gpu).KernelTime(op.kernel); },
        [&](size_t c) { return collective_times->duration[c]; }, {});
    if (!timing.complete) return Internal("the step graph does not run to its end: " + timing.stuck);
  }
  const CollectiveTimes* times = collective_times ? &*collective_times : nullptr;
  const size_t chosen_index = static_cast<size_t>(chosen - graph.programs.begin());

  // Per stage: one row (every GPU of a stage holds the same).
  Json stages = Json::array();
  for (int s = 0; s < plan.pp; ++s) {
    std::vector<int> gpus;
    const GpuMemory* first = nullptr;
    for (const GpuMemory& g : mem.gpus) {
      if (g.stage != s) continue;
      gpus.push_back(g.gpu);
      if (first == nullptr) first = &g;
    }
    Time slowest, done;
    for (size_t i = 0; i < graph.programs.size(); ++i) {
      const GpuProgram& p = graph.programs[i];
      if (p.coord.pp != s) continue;
      slowest = std::max(slowest, ComputeTime(p, timer_of(p.gpu)));
      if (times != nullptr) done = std::max(done, timing.program_done[i]);
    }
    stages.push_back({{"stage", s},
                      {"gpus", IndexRanges(gpus)},
                      {"gpu_model", first->gpu_model},
                      {"capacity_bytes", first->capacity},
                      {"usable_bytes", first->usable},
                      {"weight_bytes", first->weights.total()},
                      {"activation_bytes", first->activations},
                      {"reserve_bytes", first->reserve},
                      {"kv_cache_bytes", first->kv_cache},
                      {"kv_bytes_per_token", first->kv_bytes_per_token},
                      {"kv_tokens", first->kv_tokens},
                      {"compute_time_us", slowest.ToMicroseconds()}});
    if (times != nullptr) stages.back()["done_us"] = done.ToMicroseconds();
  }
  std::map<std::string, std::pair<int, double>> by_dim;
  for (const StepOp& op : program.ops) {
    if (op.kind != StepOp::Kind::kCollective) continue;
    auto& d = by_dim[std::string(ToString(op.dim))];
    d.first += 1;
    d.second += op.collective.bytes;
  }
  const Time compute = ComputeTime(program, timer);
  Time iteration, exposed;
  if (times != nullptr) {
    iteration = *std::max_element(timing.program_done.begin(), timing.program_done.end());
    exposed = timing.program_done[chosen_index] - compute;
  }
  // The batch's KV context in whole blocks, against what one replica's cache holds: a batch past it is timed as if
  // it fit, and said so (no scheduler would run it at once).
  const int64_t block = std::max<int64_t>(1, mem_options.kv_block_size);
  const int64_t batch_kv_tokens = batch.KvCacheTokens(block);
  const bool batch_fits_kv = batch_kv_tokens <= mem.max_kv_tokens;
  if (j != nullptr) {
    Json& pj = (*j)["plan"];
    pj["plan"] = plan.ToString();
    pj["hardware"] = hw.label;
    pj["fits"] = true;
    pj["placement"] = placement.gpu_of_rank;
    pj["memory_options"] = {
        {"engine", o.engine},
        {"gpu_memory_utilization", mem_options.gpu_memory_utilization},
        {"runtime_reserve_bytes",
         mem_options.runtime_reserve_bytes ? *mem_options.runtime_reserve_bytes : DefaultRuntimeReserve(plan)},
        {"max_num_batched_tokens", mem_options.max_num_batched_tokens},
        {"max_num_seqs", mem_options.max_num_seqs},
        {"kv_block_size", mem_options.kv_block_size}};
    pj["stages"] = stages;
    pj["max_kv_tokens"] = mem.max_kv_tokens;
    Json& sg = (*j)["step_graph"];
    sg["batch"] = batch.ToString();
    sg["batch_kv_tokens"] = batch_kv_tokens;
    sg["batch_fits_kv_cache"] = batch_fits_kv;
    sg["rank"] = program.rank;
    sg["gpu"] = program.gpu;
    sg["kernel_model"] = timer.name();
    sg["timed_by"] = timed_by;
    sg["compute_time_us"] = compute.ToMicroseconds();
    sg["ops"] = program.ops.size();
    Json collectives = Json::object();
    for (const auto& [dim, d] : by_dim) collectives[dim] = {{"calls", d.first}, {"bytes", d.second}};
    sg["collectives"] = collectives;
    if (times != nullptr) {
      sg["collectives_timed_by"] = "closed form on " + hw.topo->name() + (collective_calibration ? ", calibrated" : "");
      sg["iteration_time_us"] = iteration.ToMicroseconds();
      sg["exposed_communication_us"] = exposed.ToMicroseconds();
    } else {
      sg["collectives_timed_by"] = nullptr;  // not timed without --topology
    }
    sg["rows"] = StepRows(m, program, timer, times);
    return Status::Ok();
  }
  std::ostream& out = ctx.out;
  out << "\nPlan " << plan.ToString() << " on " << hw.label << ", placement " << o.placement << "\n";
  out << "Memory per GPU (GiB; " << (engine == Engine::kVllm ? "" : o.engine + "'s budget, ")
      << FractionName(mem_options.budget) << " " << Fixed(mem_options.gpu_memory_utilization, 2) << ", activations for "
      << mem_options.max_num_batched_tokens << " tokens and "
      << std::min(mem_options.max_num_seqs, mem_options.max_num_batched_tokens) << " sequences):\n";
  out << "  " << Pad("stage", 7) << Pad("GPUs", 10) << Pad("capacity", 10) << Pad("usable", 8) << Pad("weights", 9)
      << Pad("activations", 13) << Pad("reserve", 9) << Pad("KV cache", 10) << Pad("KV B/token", 12) << "KV tokens\n";
  for (const Json& s : stages) {
    out << "  " << Pad(std::to_string(s["stage"].get<int>()), 7) << Pad(s["gpus"].get<std::string>(), 10)
        << Pad(Gib(s["capacity_bytes"].get<double>()), 10) << Pad(Gib(s["usable_bytes"].get<double>()), 8)
        << Pad(Gib(s["weight_bytes"].get<double>()), 9) << Pad(Gib(s["activation_bytes"].get<double>()), 13)
        << Pad(Gib(s["reserve_bytes"].get<double>()), 9) << Pad(Gib(s["kv_cache_bytes"].get<double>()), 10)
        << Pad(Grouped(static_cast<int64_t>(s["kv_bytes_per_token"].get<double>())), 12)
        << Grouped(s["kv_tokens"].get<int64_t>()) << "\n";
  }
  out << "Max KV tokens per replica" << (plan.dp > 1 ? " (one DP rank)" : "") << ": " << Grouped(mem.max_kv_tokens);
  if (m.max_position_embeddings > 0) {
    out << " (" << Fixed(static_cast<double>(mem.max_kv_tokens) / static_cast<double>(m.max_position_embeddings), 2)
        << " sequences of the full " << Grouped(m.max_position_embeddings) << "-token context)";
  }
  if (!batch_fits_kv) {
    out << "\nThe batch " << batch.ToString() << " holds " << Grouped(batch_kv_tokens)
        << " tokens of KV context (in blocks of " << block << "), more than the " << Grouped(mem.max_kv_tokens)
        << " the KV cache holds: no scheduler runs it at once; its kernels are timed as if it fit";
  }
  out << "\n\nStep graph of one iteration, batch " << batch.ToString() << " (" << Grouped(batch.Tokens())
      << " tokens), rank " << program.rank << " on GPU " << program.gpu << "; kernel times from the " << timed_by
      << "; "
      << (times == nullptr
              ? "collectives are not timed without --topology (give one to time them on its links)"
              : "collectives by the closed form on " + hw.topo->name() +
                    (collective_calibration ? " (calibrated)" : "") + ", NCCL's algorithm/protocol after the time")
      << ":\n";
  out << "  " << Pad("layer", 7) << Pad("op", 26) << Pad("kind", 19) << Pad("shape", 30) << Pad("GFLOP", 10)
      << Pad("MB", 10) << "time us\n";
  const Json rows = StepRows(m, program, timer, times);
  int last_layer = -2;
  for (const Json& r : rows) {
    const int layer = r["layer"].get<int>();
    const std::string label = layer == last_layer ? "" : LayerLabel(m, layer);
    last_layer = layer;
    const bool kernel = r["kind"] != "collective";
    std::string time = "-";
    if (kernel) time = Fixed(r["time_us"].get<double>(), 1);
    if (!kernel && r.contains("time_us")) {
      time = Fixed(r["time_us"].get<double>(), 1) + " " + r["algorithm"].get<std::string>() + "/" +
             r["protocol"].get<std::string>();
    }
    out << "  " << Pad(label, 7) << Pad(r["op"].get<std::string>(), 26) << Pad(r["kind"].get<std::string>(), 19)
        << Pad(r["shape"].get<std::string>(), 30) << Pad(kernel ? Fixed(r["flops"].get<double>() / 1e9, 2) : "", 10)
        << Pad(Fixed(r["bytes"].get<double>() / 1e6, 2), 10) << time << "\n";
  }
  out << "  (every other layer of the stage repeats the row of its kind)\n";
  out << "Compute time of this GPU for the iteration: " << Fixed(compute.ToMicroseconds() / 1000, 3) << " ms over "
      << program.ops.size() << " ops; collectives:";
  if (by_dim.empty()) out << " none";
  for (const auto& [dim, d] : by_dim)
    out << " " << dim << " " << d.first << " calls, " << Fixed(d.second / 1e6, 1) << " MB;";
  out << "\n";
  if (plan.pp > 1) {
    out << "Compute time per stage (slowest GPU):";
    for (const Json& s : stages)
      out << " stage " << s["stage"].get<int>() << " " << Fixed(s["compute_time_us"].get<double>() / 1000, 3) << " ms;";
    out << "\n";
  }
  if (times != nullptr) {
    out << "Iteration time with communication: " << Fixed(iteration.ToMicroseconds() / 1000, 3) << " ms (compute "
        << Fixed(compute.ToMicroseconds() / 1000, 3) << " ms, exposed communication "
        << Fixed(exposed.ToMicroseconds() / 1000, 3) << " ms on this GPU)\n";
    if (plan.pp > 1) {
      out << "Each stage done at (slowest GPU, with communication):";
      for (const Json& s : stages)
        out << " stage " << s["stage"].get<int>() << " " << Fixed(s["done_us"].get<double>() / 1000, 3) << " ms;";
      out << "\n";
    }
  }
  return Status::Ok();
}

}  // namespace

int ModelShow(const Args& args, AppContext& ctx) {
  Options o;
  po::options_description options("options");
  options.add_options()("model", po::value(&o.model)->required(),
                        "MODEL, the first argument (--model is optional): a TOML spec or HF config.json, or a "
                        "shipped name (workloads/models/NAME.toml)")(
      "plan", po::value(&o.plan), "parallel plan: tp=8,pp=2,cp=1,dp=1,ep=1,sp=on (adds memory and the step graph)")(
      "gpu", po::value(&o.gpu)->default_value("h100"), "GPU model for every rank (without --topology)")(
      "topology", po::value(&o.topology),
      "topology file or shipped name: GPUs, their models, and the links collectives are timed on")(
      "placement", po::value(&o.placement)->default_value("packed"), "packed, strided, or GPU indices in rank order")(
      "batch", po::value(&o.batch)->default_value(o.batch),
      "the iteration: prefill=NxTOKENS[@CACHED],decode=NxCONTEXT")("weight-dtype", po::value(&o.weight_dtype),
                                                                   "override the weight type: bf16, fp8, int8, int4")(
      "kv-cache-dtype", po::value(&o.kv_dtype), "override the KV-cache type: auto, bf16, fp8")(
      "gpu-memory-utilization",
      po::value(&o.memory.gpu_memory_utilization)
          ->default_value(o.memory.gpu_memory_utilization, Short(o.memory.gpu_memory_utilization)),
      "fraction of each GPU's memory to use, in (0, 1] (vLLM's and TensorRT-LLM's default 0.9; SGLang's by the GPU "
      "and the plan, docs/engines.md)")(
      "runtime-reserve-GiB", po::value<double>(),
      "memory outside torch per GPU: NCCL and custom all-reduce buffers (default 0.25 GiB, 2.1 with collectives)")(
      "max-num-batched-tokens", po::value<int64_t>(),
      "tokens per step the activation memory is sized for (default: vLLM's for the GPU, 8192 on an H100, 2048 on "
      "an A100 or smaller)")("max-num-seqs", po::value<int64_t>(),
                             "sequences per step the sampler is sized for (default: vLLM's for the GPU, 1024 or 256)")(
      "expert-imbalance", po::value(&o.imbalance)->default_value(o.imbalance, Short(o.imbalance)),
      "the busiest EP rank's routed tokens over the average (>= 1)")("rank", po::value(&o.rank)->default_value(0),
                                                                     "which rank's step graph to print")(
      "calibration", po::value(&o.calibration), "a calibration profile: kernel times from its measured GEMMs")(
      "engine", po::value(&o.engine)->default_value("vllm"),
      "vllm, sglang or trtllm: how the KV cache is budgeted (--gpu-memory-utilization is that engine's fraction) "
      "and the scheduler defaults")("json", "print JSON");
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (auto code = ParseOptions(args, ctx, "model show", "MODEL [--plan tp=8,pp=2 --gpu h100 | --topology T] [--json]",
                               "wiresim model show llama-3.1-70b --plan tp=8 --gpu h100 --batch decode=64x4096",
                               options, positional, vm)) {
    return *code;
  }
  o.json = vm.count("json") > 0;
  o.memory_fraction_given = !vm["gpu-memory-utilization"].defaulted();
  if (vm.count("runtime-reserve-GiB")) {
    const double gib = vm["runtime-reserve-GiB"].as<double>();
    if (!(gib >= 0 && gib <= 1e6)) {
      std::ostringstream given;
      given << gib;
      return ReportError(ctx, "model show",
                         InvalidArgument("--runtime-reserve-GiB " + given.str() + ": expected 0 to 10^6 GiB"));
    }
    o.reserve_gib = gib;
  }
  for (const char* name : {"max-num-seqs", "max-num-batched-tokens"}) {
    if (!vm.count(name)) continue;
    const int64_t v = vm[name].as<int64_t>();
    if (v < 1 || v > (int64_t{1} << 24)) {
      return ReportError(ctx, "model show",
                         InvalidArgument("--" + std::string(name) + " " + std::to_string(v) + ": expected 1 to 2^24"));
    }
    (std::string(name) == "max-num-seqs" ? o.max_num_seqs : o.max_num_batched_tokens) = v;
  }
  if (!o.topology.empty() && !vm["gpu"].defaulted()) {
    return ReportError(ctx, "model show",
                       InvalidArgument("--gpu " + o.gpu + " with --topology " + o.topology +
                                       ": the topology names its GPUs' models; give one or the other"));
  }
  if (o.topology.empty() && FindGpuSpec(o.gpu) == nullptr) {  // checked here too: without --plan it is not used
    return ReportError(
        ctx, "model show",
        InvalidArgument("--gpu " + o.gpu + ": no such GPU (known: " + std::string(KnownGpuNames()) + ")"));
  }
  const double utilization = o.memory.gpu_memory_utilization;
  if (!(utilization > 0 && utilization <= 1)) {
    std::ostringstream given;
    given << utilization;
    return ReportError(ctx, "model show",
                       InvalidArgument("--gpu-memory-utilization " + given.str() +
                                       ": expected a fraction of the GPU's memory, greater than 0 and at most 1"));
  }
  if (Status s = CheckNumber({}, "--expert-imbalance", o.imbalance, kExpertImbalance); !s.ok()) {
    return ReportError(ctx, "model show", s);
  }
  auto file = ReadInput(ctx, o.model, InputKind::kModel);
  if (!file.ok()) return ReportError(ctx, "model show", file.status());
  auto model = LoadModel(*file);
  if (!model.ok()) return ReportError(ctx, "model show", model.status());
  if (Status s = ApplyDtypes(o, *model); !s.ok()) return ReportError(ctx, "model show", s);
  if (!vm["batch"].defaulted()) {
    Status s = ParseBatch(o.batch).status();
    if (s.ok()) s = CheckBatchFitsContext(o.batch, *model);
    if (!s.ok()) return ReportError(ctx, "model show", s);
  }
  Json j = ModelJson(*model);
  if (!o.json) PrintModel(ctx.out, *model);
  if (!o.plan.empty()) {
    if (Status s = ShowPlan(ctx, o, *model, o.json ? &j : nullptr); !s.ok()) {
      if (o.json && j.contains("plan")) ctx.out << j.dump(1) << "\n";  // the "does not fit" answer, with its numbers
      return ReportError(ctx, "model show", s);
    }
  }
  if (o.json) ctx.out << j.dump(1) << "\n";
  return kExitOk;
}

}  // namespace wiresim::app
