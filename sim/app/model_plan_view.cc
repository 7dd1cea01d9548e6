// The plan part of `wiresim model show`: memory per GPU, the KV tokens that fit, and the step graph of one iteration
// with each kernel's predicted time; with --topology, each collective's closed-form time and the iteration's time with
// communication.
#include "sim/app/model_plan_view.h"

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

#include "sim/app/calibration_input.h"
#include "sim/app/number_format.h"
#include "sim/app/topology_input.h"
#include "sim/collective/collective_timing.h"
#include "sim/compute/roofline.h"
#include "sim/core/numeric_field.h"
#include "sim/core/text.h"
#include "sim/model/parameters.h"
#include "sim/parallel/memory.h"
#include "sim/parallel/step_graph.h"
#include "sim/serving/engine.h"
#include "sim/topology/topology_file.h"

namespace wiresim::app {
using Json = nlohmann::ordered_json;

namespace {

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

}  // namespace

// The plan part of `model show`: memory, KV capacity and the step graph. Prints (or fills `j`).
Status ShowPlan(AppContext& ctx, const ModelShowOptions& o, const ModelSpec& m, Json* j) {
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
  Result<StepGraphOptions::EpExchange> parsed_exchange = StepGraphOptions::ParseEpExchange(
      o.ep_exchange,
      EngineGathersExperts(profile, hw.topo != nullptr && hw.topo->NvlinkSpansHosts(hw.topo->gpu(placement.GpuOf(0))),
                           plan.ep, static_cast<int>(m.moe.experts_per_token)));
  if (!parsed_exchange.ok()) return InvalidArgument("--ep-exchange: " + parsed_exchange.status().message());
  const StepGraphOptions::EpExchange exchange = *parsed_exchange;
  mem_options.ep_mlp_split = EpMlpSplitOf(plan, exchange, profile.ep_gather);
  Result<MemoryPlan> planned = PlanMemory(m, plan, placement, hw.specs, mem_options);
  if (!planned.ok()) {
    if (j != nullptr) (*j)["plan"] = DoesNotFitJson(m, plan, placement, hw, mem_options, planned.status());
    return planned.status();
  }
  const MemoryPlan& mem = *planned;
  WIRESIM_ASSIGN_OR_RETURN(BatchShape batch, ParseBatch(o.batch));
  StepGraphOptions graph_options;
  graph_options.expert_imbalance = o.imbalance;
  graph_options.ep_exchange = exchange;
  graph_options.ep_gather = profile.ep_gather;
  if (hw.topo != nullptr) graph_options.gpu_domain = hw.topo->GpuNvlinkDomains();
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

}  // namespace wiresim::app
