#include "sim/app/serving_setup.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "sim/app/gpu_selection.h"
#include "sim/app/number_format.h"
#include "sim/app/topology_input.h"
#include "sim/app/what_if_run.h"
#include "sim/model/model_file.h"
#include "sim/network/flow_network.h"
#include "sim/parallel/spread_placement.h"
#include "sim/serving/iteration_model.h"
#include "sim/serving/link_sharing.h"
#include "sim/topology/topology_file.h"

namespace wiresim::app {
namespace {

// The error of resolving a field, placed where the field was given.
Status At(const Scenario& s, const std::string& field, const Status& st) {
  return Status(st.code(), s.At(field) + ": " + st.message());
}

}  // namespace

Status ResolveModel(AppContext& ctx, const Scenario& s, ModelSpec* model) {
  WIRESIM_ASSIGN_OR_RETURN(SourceFile file, ReadInput(ctx, s.model, InputKind::kModel));
  Result<ModelSpec> m = LoadModel(file);
  if (!m.ok()) return m.status();
  *model = std::move(*m);
  if (!s.weight_dtype.empty()) {
    std::optional<DataType> t = ParseDataType(s.weight_dtype);
    if (!t) {
      return InvalidArgument(s.At("deployment.weight_dtype") + ": '" + s.weight_dtype +
                             "' is not a weight type (expected bf16, fp16, fp8, int8 or int4)");
    }
    model->weight_dtype = *t;
  }
  if (!s.kv_cache_dtype.empty() && s.kv_cache_dtype != "auto") {
    std::optional<DataType> t = ParseDataType(s.kv_cache_dtype);
    if (!t) {
      return InvalidArgument(s.At("deployment.kv_cache_dtype") + ": '" + s.kv_cache_dtype +
                             "' is not a KV-cache type (expected auto, bf16, fp16 or fp8)");
    }
    model->kv_cache_dtype = *t;
  }
  return Status::Ok();
}

namespace {

// A length distribution as written ("lognormal:512,256", "sharegpt-input", ...), or "trace:FILE": the prompt (or
// output) lengths of a trace's requests, drawn uniformly (independently of each other).
Result<LengthDistribution> LengthsFrom(AppContext& ctx, const Scenario& s, const std::string& field,
                                       const std::string& text, bool output) {
  if (text.rfind("trace:", 0) != 0) {
    Result<LengthDistribution> d = ParseLengthDistribution(text);
    if (!d.ok()) return At(s, field, d.status());
    return d;
  }
  const std::string path = text.substr(6);
  Result<SourceFile> file = ReadInput(ctx, path, InputKind::kOther);
  if (!file.ok()) return At(s, field, file.status());
  std::istringstream in(file->text);
  Result<std::vector<std::pair<int64_t, int64_t>>> lengths = ReadTraceLengths(in, file->name, TraceOptions{});
  if (!lengths.ok()) return lengths.status();
  if (lengths->empty()) return InvalidArgument(s.At(field) + ": " + file->name + " has no requests");
  LengthDistribution d;
  d.kind = LengthDistribution::Kind::kEmpirical;
  for (const auto& [prompt, generated] : *lengths) d.samples.push_back(output ? generated : prompt);
  return d;
}

}  // namespace

Result<std::unique_ptr<ServingSetup>> BuildServing(AppContext& ctx, const Scenario& scenario) {
  auto d = std::make_unique<ServingSetup>();
  d->scenario = scenario;
  Result<Engine> engine = ParseEngine(scenario.engine);
  if (!engine.ok()) return At(scenario, "deployment.engine", engine.status());
  const Scenario& s = d->scenario;
  WIRESIM_RETURN_IF_ERROR(CheckDisaggregationFields(s));
  // Topology.
  {
    Result<SourceFile> file = ReadInput(ctx, s.topology, InputKind::kTopology);
    if (!file.ok()) return At(s, "deployment.topology", file.status());
    Result<Topology> topo = LoadTopologyForVerb(*file, ctx.reader);
    if (!topo.ok()) return topo.status();
    d->topo = std::make_unique<Topology>(std::move(*topo));
    WIRESIM_RETURN_IF_ERROR(ApplyLinkWhatIfs(s, &d->topo));
  }
  const Topology& topo = *d->topo;
  // Model.
  if (Status st = ResolveModel(ctx, s, &d->model); !st.ok()) {
    return st.code() == StatusCode::kNotFound ? At(s, "deployment.model", st) : st;
  }
  // Plan, GPUs, placement.
  {
    Result<ParallelPlan> plan = ParsePlan(s.plan);
    if (!plan.ok()) return At(s, "deployment.plan", plan.status());
    d->plan = *plan;
  }
  std::vector<int> gpus;
  if (s.gpus.empty()) {
    if (d->plan.WorldSize() > topo.gpu_count()) {
      return InvalidArgument(s.At("deployment.plan") + ": " + d->plan.ToString() + " needs " +
                             std::to_string(d->plan.WorldSize()) + " GPUs but " + topo.name() + " has " +
                             std::to_string(topo.gpu_count()));
    }
    for (int i = 0; i < d->plan.WorldSize(); ++i) gpus.push_back(i);
  } else {
    Result<std::vector<int>> sel = ParseGpuSelection(s.gpus, topo);
    if (!sel.ok()) return At(s, "deployment.gpus", sel.status());
    gpus = *sel;
  }
  if (Status st = ValidatePlan(d->plan, d->model, static_cast<int>(gpus.size())); !st.ok()) {
    return At(s, "deployment.plan", st);
  }
  // How the EP group exchanges tokens: the engine's rule (EngineGathersExperts: the GPUs' NVLink reach, not the
  // placement) or the scenario's word; the placement search scores that exchange.
  {
    const bool gathers = EngineGathersExperts(ProfileOf(*engine), topo.NvlinkSpansHosts(topo.gpu(gpus.front())),
                                              d->plan.ep, static_cast<int>(d->model.moe.experts_per_token));
    WIRESIM_ASSIGN_OR_RETURN(d->ep_exchange, StepGraphOptions::ParseEpExchange(scenario.ep_exchange, gathers));
  }
  if (s.disaggregated) {
    // Each role's replicas are placed by ResolveDisaggregation (below).
  } else if (s.placement == "auto" || s.placement == "spread") {
    // The search chooses among the GPUs given, or all of the topology's (after the what-ifs: it sees degraded and
    // failed links).
    std::vector<int> candidates = gpus;
    if (s.gpus.empty()) {
      candidates.clear();
      for (int i = 0; i < topo.gpu_count(); ++i) candidates.push_back(i);
    }
    PlacementScore why;
    Result<Placement> where = s.placement == "auto"
                                  ? AutoPlacement(topo, d->model, d->plan, candidates, &why, d->ep_exchange)
                                  : SpreadPlacement(topo, d->model, d->plan, candidates, &why, d->ep_exchange);
    if (!where.ok()) return At(s, "deployment.placement", where.status());
    d->placement = *where;
    d->placement_score = std::move(why);
  } else {
    // A list of GPUs indexes `gpus`; without them, the topology's GPUs, as auto chooses among (packed and strided
    // take the first ones either way).
    std::vector<int> among = gpus;
    if (IsPlacementList(s.placement) && s.gpus.empty()) {
      among.clear();
      for (int i = 0; i < topo.gpu_count(); ++i) among.push_back(i);
    }
    Result<Placement> where = ParsePlacement(s.placement, d->plan, static_cast<int>(among.size()));
    if (!where.ok()) return At(s, "deployment.placement", where.status());
    d->placement = *where;
    for (int& g : d->placement.gpu_of_rank) g = among[static_cast<size_t>(g)];
  }
  WIRESIM_RETURN_IF_ERROR(CheckWhatIfReach(s, *d));
  // GPU specs.
  for (int i = 0; i < topo.gpu_count(); ++i) {
    const std::string& name = topo.node(topo.gpu(i)).spec.model;
    const GpuSpec* spec = FindGpuSpec(name);
    if (spec == nullptr) {
      return NotFound(s.At("deployment.topology") + ": GPU " + std::to_string(i) + " has model \"" + name +
                      "\", which wiresim has no spec for (known: " + std::string(KnownGpuNames()) + ")");
    }
    d->specs.push_back(*spec);
  }
  // The engine: its scheduler defaults, which vLLM picks by the GPU (the first of the deployment's GPUs), apply where
  // the scenario sets none (docs/engines.md).
  {
    // Rank 0's GPU where the placement is known (auto or a list may leave the first GPUs unused).
    const int first_gpu = d->placement.gpu_of_rank.empty() ? gpus.front() : d->placement.gpu_of_rank.front();
    const GpuSpec& first = d->specs[static_cast<size_t>(first_gpu)];
    d->profile = ProfileOf(*engine, &first, SglangTpSize(d->plan));
    Scenario& w = d->scenario;
    std::string by_engine = "the " + scenario.engine + " engine's default";
    if (*engine != Engine::kTrtllm) by_engine += " on " + std::string(first.name);
    if (!w.where.count("scheduler.max_num_seqs") && d->profile.max_num_seqs > 0) {
      w.max_num_seqs = d->profile.max_num_seqs;
      w.where["scheduler.max_num_seqs"] = by_engine;
    }
    if (!w.where.count("scheduler.max_num_batched_tokens") && d->profile.max_num_batched_tokens > 0) {
      w.max_num_batched_tokens = d->profile.max_num_batched_tokens;
      w.where["scheduler.max_num_batched_tokens"] = by_engine;
    }
    // SGLang's mem_fraction_static depends on the GPU, the plan and the chunked prefill; vLLM's and TensorRT-LLM's
    // fractions are fixed (0.9). A disaggregated run works each role's out from its own plan.
    if (*engine == Engine::kSglang && !w.where.count("scheduler.gpu_memory_utilization") && !s.disaggregated) {
      w.gpu_memory_utilization =
          SglangDefaultFraction(d->plan, first, w.enable_chunked_prefill ? w.max_num_batched_tokens : 0);
      w.where["scheduler.gpu_memory_utilization"] = "SGLang's default mem_fraction_static on " +
                                                   std::string(first.name) + " for " + d->plan.ToString();
    }
  }
  // Speculative decoding (ValidateScenario has checked its fields).
  if (s.num_speculative_tokens > 0) {
    WIRESIM_ASSIGN_OR_RETURN(d->speculative,
                             MakeSpeculativeConfig(s.speculative_method, s.num_speculative_tokens, s.acceptance));
    if (!s.draft_weight_dtype.empty()) {
      d->speculative.draft_weight_dtype = ParseDataType(s.draft_weight_dtype);
      if (!d->speculative.draft_weight_dtype) {
        return InvalidArgument(s.At("speculative.draft_weight_dtype") + ": '" + s.draft_weight_dtype +
                               "' is not a weight type (expected bf16, fp16, fp8, int8 or int4)");
      }
    }
    if (s.disaggregated) {
      return InvalidArgument(s.At("speculative.num_speculative_tokens") +
                             ": speculative decoding in a disaggregated deployment is not modelled");
    }
    if (d->speculative.method == DraftMethod::kMtp && d->model.num_nextn_predict_layers == 0) {
      return InvalidArgument(s.At("speculative.method") + ": " + d->model.name +
                             " has no multi-token prediction module (num_nextn_predict_layers is 0): use eagle or "
                             "ngram");
    }
    if (d->plan.pp > 1 || d->plan.cp > 1) {
      return InvalidArgument(s.At("speculative.num_speculative_tokens") +
                             ": speculative decoding with pipeline or context parallelism is not modelled (plan " +
                             d->plan.ToString() + ")");
    }
  }
  // Memory: what is left for the KV cache after the weights, activations and the runtime reserve.
  MemoryOptions mem;
  mem.draft = d->speculative.Drafter(d->model);
  mem.budget = d->profile.kv_budget;
  mem.gpu_memory_utilization = s.gpu_memory_utilization;
  if (s.runtime_reserve_gib) mem.runtime_reserve_bytes = *s.runtime_reserve_gib * 1024 * 1024 * 1024;
  mem.max_num_batched_tokens = s.max_num_batched_tokens;
  mem.max_num_seqs = s.max_num_seqs;
  mem.kv_block_size = s.block_size;
  mem.ep_mlp_split = EpMlpSplitOf(d->plan, d->ep_exchange, d->profile.ep_gather);
  if (s.disaggregated) {
    WIRESIM_RETURN_IF_ERROR(ResolveDisaggregation(s, mem, d.get()));
  } else {
    Result<MemoryPlan> m = PlanMemory(d->model, d->plan, d->placement, d->specs, mem);
    if (!m.ok()) return At(s, "deployment.plan", m.status());
    d->memory = std::move(*m);
  }
  d->kv_blocks = d->memory.max_kv_tokens / s.block_size;
  if (d->kv_blocks < 1) {
    return FailedPrecondition(s.At("deployment.plan") + ": no KV block fits (" +
                              std::to_string(d->memory.max_kv_tokens) + " tokens of KV space)");
  }
  // vLLM refuses to start when one sequence of max_model_len tokens does not fit its KV cache
  // (vllm/v1/core/kv_cache_utils.py, check_enough_kv_cache_memory: "To serve at least one request with the models's
  // max seq len ... Based on the available memory, the estimated maximum model length is ...").
  if (d->profile.engine == Engine::kVllm) {
    const int64_t len = s.max_model_len > 0 ? s.max_model_len : d->model.max_position_embeddings;
    const int64_t blocks = (len + s.block_size - 1) / s.block_size;
    if (blocks > d->kv_blocks) {
      const std::string where =
          s.max_model_len > 0 ? s.At("scheduler.max_model_len")
                              : "scheduler.max_model_len (unset: " + d->model.name + "'s max_position_embeddings)";
      return FailedPrecondition(
          where + ": vLLM would refuse to start: one " + std::to_string(len) + "-token sequence needs " +
          std::to_string(blocks) + " KV blocks of " + std::to_string(s.block_size) +
          " tokens, but the KV cache holds " + std::to_string(d->kv_blocks) + " (" +
          std::to_string(d->kv_blocks * s.block_size) +
          " tokens; docs/models.md section 5); set scheduler.max_model_len (--max-model-len) to at most " +
          std::to_string(d->kv_blocks * s.block_size) + ", or leave the KV cache more memory");
    }
  }
  // Calibration, kernel and collective models.
  // The NCCL release: deployment.nccl_version (--nccl-version), else the profile's, else the newest.
  const auto by = s.where.find("deployment.nccl_version");
  const NcclVersionRequest nccl{s.nccl_version, by != s.where.end() && by->second == "--nccl-version"
                                                    ? "--nccl-version"
                                                    : "deployment.nccl_version"};
  if (!s.calibration.empty()) {
    Result<LoadedCalibration> c = LoadCalibration(ctx, s.calibration, &topo, {}, {}, &nccl);
    if (!c.ok()) return At(s, "deployment.calibration", c.status());
    d->calibration = std::move(*c);
    d->nccl = *d->calibration->nccl;
  } else {
    WIRESIM_ASSIGN_OR_RETURN(d->nccl, ChooseNcclVersion(nccl.given, nccl.given_by, nullptr));
  }
  const LoadedCalibration* cal = d->calibration ? &*d->calibration : nullptr;
  d->kernel_of_gpu.assign(static_cast<size_t>(topo.gpu_count()), nullptr);
  for (int g = 0; g < topo.gpu_count(); ++g) {
    std::unique_ptr<KernelTimeModel>& m = d->kernel_models[std::string(d->specs[static_cast<size_t>(g)].name)];
    if (m == nullptr) m = KernelModelFor(d->specs[static_cast<size_t>(g)], {}, cal, &d->kernel_note);
    d->kernel_of_gpu[static_cast<size_t>(g)] = m.get();
  }
  WIRESIM_RETURN_IF_ERROR(ApplyStragglers(s, *d));
  CollectiveParams collective_params = CollectiveParams::InServingStep(d->nccl.version);
  collective_params.p2p_pxn = s.nccl_pxn;
  d->collectives = std::make_unique<CollectiveModel>(topo, collective_params);
  // NCCL's algorithms as the engine leaves them: SGLang turns NVLS off unless asked (docs/engines.md).
  d->profile.nccl_nvls = s.nccl_nvls.value_or(d->profile.nccl_nvls);
  const AlgorithmFilter nccl_filter = NcclFilter(d->profile);
  if (cal != nullptr && cal->fitted) {
    d->collective_calibration = std::make_unique<FittedCollectiveCalibration>(cal->fitted->collective, nccl_filter);
  }
  d->closed = std::make_unique<ClosedFormCollectives>(*d->collectives, nccl_filter, d->collective_calibration.get());
  // Engine: its own all-reduce kernels, CUDA-graph padding and host overhead (docs/engines.md).
  {
    if (d->profile.engine == Engine::kVllm) {
      d->profile.cuda_graphs.capture_sizes =
          VllmCaptureSizes(s.max_num_seqs, s.max_num_batched_tokens, 1 + s.num_speculative_tokens);
    }
  }
  d->engine = s.engine;
  if (!s.custom_all_reduce) d->profile.custom_all_reduce.available = false;
  if (!s.symm_mem_all_reduce) d->profile.symm_mem.available = false;
  d->engine_collectives = std::make_unique<EngineAllReduce>(d->profile, topo, d->specs);
  d->closed->SetOverride(d->engine_collectives.get());
  d->host_overhead =
      s.host_overhead_ms ? Time::FromMicroseconds(*s.host_overhead_ms * 1000.0) : d->profile.host_overhead_per_step;
  d->replica_options.engine = d->profile;
  if (s.network != "analytical" && s.network != "flow") {
    return InvalidArgument(s.At("deployment.network") + ": expected analytical or flow, got '" + s.network + "'");
  }
  if (s.iterations != "compiled" && s.iterations != "op-by-op") {
    return InvalidArgument(s.At("deployment.iterations") + ": expected compiled or op-by-op, got '" + s.iterations +
                           "'");
  }
  {
    std::optional<RouterPolicy> r = ParseRouterPolicy(s.router);
    if (!r) {
      return InvalidArgument(s.At("scheduler.router") + ": expected round-robin, least-outstanding or least-kv, got '" +
                             s.router + "'");
    }
    d->router = *r;
  }
  SchedulerOptions& so = d->replica_options.scheduler;
  so.max_num_seqs = s.max_num_seqs;
  so.max_num_batched_tokens = s.max_num_batched_tokens;
  so.enable_chunked_prefill = s.enable_chunked_prefill;
  so.block_size = s.block_size;
  so.num_blocks = d->kv_blocks;
  so.enable_prefix_caching = s.enable_prefix_caching;
  so.hash_block_tokens = s.hash_block_tokens;
  so.max_model_len = s.max_model_len > 0 ? s.max_model_len : d->model.max_position_embeddings;
  so.num_speculative_tokens = d->speculative.num_tokens;
  so.num_lookahead_tokens = d->speculative.LookaheadTokens();
  d->replica_options.speculative = d->speculative;
  d->replica_options.host_overhead = d->host_overhead;
  d->replica_options.overlap_host = s.async_scheduling.value_or(d->profile.overlaps_host);
  d->replica_options.compiled = s.iterations == "compiled";
  // Workload.
  if (!s.trace.empty()) {
    d->from_trace = true;
    d->trace_options.time_scale = s.time_scale;
    d->trace_options.max_requests = s.where.count("workload.requests") ? s.requests : 0;
    d->trace_options.hash_block_tokens = s.hash_block_tokens;
    if (s.trace_format == "mooncake") {
      d->trace_options.format = TraceFormat::kMooncake;
    } else if (s.trace_format == "azure") {
      d->trace_options.format = TraceFormat::kAzure;
    } else if (s.trace_format != "auto") {
      return InvalidArgument(s.At("workload.trace_format") + ": expected auto, mooncake or azure");
    }
  } else {
    SyntheticWorkload& w = d->synthetic;
    w.arrivals.kind = s.rate_inf            ? ArrivalKind::kAllAtOnce
                      : s.burstiness == 1.0 ? ArrivalKind::kPoisson
                                            : ArrivalKind::kGamma;
    w.arrivals.rate_per_s = s.rate;
    w.arrivals.burstiness = s.burstiness;
    Result<LengthDistribution> in = LengthsFrom(ctx, s, "workload.input_len", s.input_len, /*output=*/false);
    if (!in.ok()) return in.status();
    Result<LengthDistribution> out = LengthsFrom(ctx, s, "workload.output_len", s.output_len, /*output=*/true);
    if (!out.ok()) return out.status();
    w.input = *in;
    w.output = *out;
    w.requests = s.requests;
    w.duration = Time::FromSecondsCeil(s.duration_s);
    if (Status st = ValidateWorkload(w); !st.ok()) return Status(st.code(), s.name + ": workload: " + st.message());
  }
  return d;
}

Result<std::unique_ptr<RequestSource>> OpenRequests(AppContext& ctx, const ServingSetup& d, Simulator& sim) {
  const Scenario& s = d.scenario;
  if (!d.from_trace) return MakeSyntheticSource(d.synthetic, sim.Random("arrivals"), sim.Random("lengths"));
  std::unique_ptr<std::istream> in;
  std::string name = s.trace;
  // Any file on disk streams, a pipe or a FIFO too (--trace <(zcat trace.jsonl.gz)): a trace has no bound on its
  // length, only on its lines. Shipped traces come from the reader.
  std::error_code ec;
  const auto kind = std::filesystem::status(s.trace, ec).type();
  if (!ec && kind != std::filesystem::file_type::not_found && kind != std::filesystem::file_type::directory) {
    auto f = std::make_unique<std::ifstream>(s.trace, std::ios::binary);
    if (!*f) return InvalidArgument(s.At("workload.trace") + ": cannot open " + s.trace);
    in = std::move(f);
  } else {
    Result<SourceFile> file = ReadInput(ctx, s.trace, InputKind::kOther);
    if (!file.ok()) return At(s, "workload.trace", file.status());
    name = file->name;
    in = std::make_unique<std::istringstream>(std::move(file->text));
  }
  return OpenTrace(std::move(in), name, d.trace_options);
}

StepGraphOptions MoeOptions(const ServingSetup& d, const Scenario& s, const DraftModel& draft) {
  StepGraphOptions o;
  o.draft = draft;
  o.expert_imbalance = s.expert_imbalance;
  o.routing.kind = s.expert_routing == "skewed" ? RoutingKind::kSkewed : RoutingKind::kUniform;
  o.routing.skew = s.routing_skew;
  o.routing.seed = static_cast<uint64_t>(s.seed);
  o.two_batch_overlap = s.ep_overlap == "two-batch";
  o.ep_exchange = d.ep_exchange;
  o.ep_gather = d.profile.ep_gather;
  o.gpu_domain = d.topo->GpuNvlinkDomains();
  return o;
}

RunTimers MakeRunTimers(Simulator& sim, Network* flow_net, ClosedFormCollectives& closed, LinkUseAccounting& link_use,
                        const std::vector<std::vector<int>>& shared_groups, std::set<std::vector<int>> private_groups) {
  RunTimers t;
  std::set<std::vector<int>> transfer_groups;  // counted by the network's own ledger
  if (flow_net != nullptr) {
    auto flow = std::make_unique<FlowTimer>(sim, *flow_net, closed);
    flow->SetPrivateGroups(std::move(private_groups));
    t.inner = std::move(flow);
    transfer_groups.insert(shared_groups.begin(), shared_groups.end());
  } else {
    t.inner = std::make_unique<ClosedFormTimer>(sim, closed);
  }
  t.timer = std::make_unique<LinkUseTimer>(sim, *t.inner, closed, link_use, std::move(transfer_groups));
  return t;
}

std::function<void(int64_t, int64_t, Time)> ProgressLine(AppContext& ctx, int64_t total) {
  return [&ctx, total](int64_t finished, int64_t sent, Time now) {
    ctx.err << "\r  simulated " << Fixed(now.ToSeconds(), 1) << " s: " << finished << " requests finished, " << sent
            << " sent";
    if (total > 0) ctx.err << " of " << total;
    ctx.err << "   " << std::flush;
  };
}

Result<std::vector<std::vector<int>>> CollectiveGroupsOf(const std::vector<std::unique_ptr<IterationModel>>& models) {
  std::vector<std::vector<int>> groups;
  std::set<std::vector<int>> seen;
  BatchShape probe;  // a prefill and a decode: every kind of collective an iteration can have
  probe.prefills = {{64, 0, true}};
  probe.decode_contexts = {64};
  for (const auto& m : models) {
    WIRESIM_ASSIGN_OR_RETURN(std::shared_ptr<const StepGraph> g, m->Full(probe));
    for (const CollectiveInstance& inst : g->collectives) {
      if (seen.insert(inst.call.gpus).second) groups.push_back(inst.call.gpus);
    }
  }
  return groups;
}

void FillLinkLoads(const Topology& topo, Time end, const LinkUseAccounting& use, ServingOutcome* o) {
  const double run_s = end.ToSeconds();
  std::vector<std::pair<double, size_t>> hottest;
  for (size_t i = 0; i < o->links.size(); ++i) {
    const LinkUse& u = o->links[i];
    const Link& l = topo.link(u.link);
    LinkLoad load;
    load.from = topo.node(l.from).spec.name;
    load.to = topo.node(l.to).spec.name;
    load.bytes = u.bytes;
    load.utilisation = run_s > 0 ? u.bytes / (l.capacity_GBps * 1e9 * run_s) : 0;
    hottest.emplace_back(-load.utilisation, i);
    o->link_loads.push_back(std::move(load));
  }
  // Utilisation over time of the five hottest, for the timeline's counters.
  std::sort(hottest.begin(), hottest.end());
  for (size_t h = 0; h < hottest.size() && h < 5; ++h) {
    const LinkUse& u = o->links[hottest[h].second];
    CounterSeries c;
    c.name = o->link_loads[hottest[h].second].from + " -> " + o->link_loads[hottest[h].second].to;
    c.key = "utilisation";
    c.points = use.Series(u.link, topo.link(u.link).capacity_GBps * 1e9, end);
    o->link_series.push_back(std::move(c));
  }
}

Result<ServingOutcome> RunServing(AppContext& ctx, ServingSetup& d, bool progress, const RunWatchers& watch) {
  if (d.disaggregation) return RunDisaggregated(ctx, d, progress);
  const auto wall_start = std::chrono::steady_clock::now();
  const Scenario& s = d.scenario;
  const Topology& topo = *d.topo;
  Simulator sim(static_cast<uint64_t>(s.seed));
  WIRESIM_ASSIGN_OR_RETURN(std::unique_ptr<RequestSource> source, OpenRequests(ctx, d, sim));
  // Replicas: one per DP rank, or one for all when the DP ranks step together through expert parallelism.
  const ParallelPlan& plan = d.plan;
  const bool coupled = plan.ep > 1 && plan.dp > 1;
  const int replicas = coupled ? 1 : plan.dp;
  std::vector<int> replica_of_gpu(static_cast<size_t>(topo.gpu_count()), -1);
  for (int r = 0; r < plan.WorldSize(); ++r) {
    replica_of_gpu[static_cast<size_t>(d.placement.GpuOf(r))] = coupled ? 0 : CoordOf(plan, r).dp;
  }
  ServingOutcome o;
  std::unique_ptr<Network> net;
  GpuQueues queues(topo.gpu_count());
  GpuTimeAccounting accounting(topo.gpu_count(), replica_of_gpu);
  std::vector<std::unique_ptr<IterationModel>> models;
  std::vector<std::unique_ptr<Replica>> owned;
  std::vector<Replica*> replica_ptrs;
  auto metrics = std::make_unique<RequestMetrics>();
  ServingRunOptions run_options;
  run_options.router = d.router;
  run_options.max_concurrency = s.max_concurrency;
  if (progress) run_options.progress = ProgressLine(ctx, d.from_trace ? 0 : d.synthetic.requests);
  run_options.stop_slo = d.early_stop.slo;
  run_options.stop_after_misses = d.early_stop.after_misses;
  // The run listens to the replicas, which it is built with: the listener forwards to it once it exists.
  std::unique_ptr<ServingRun> run;
  // When asked, it also samples each replica's scheduler as steps are formed and completed.
  class Forward : public ReplicaListener {
   public:
    ServingRun* run = nullptr;
    Simulator* sim = nullptr;
    ServingSeries* series = nullptr;  // null: no sampling
    const std::vector<std::unique_ptr<Replica>>* replicas = nullptr;
    std::map<std::pair<int, int>, int64_t> batch;  // (replica, DP rank) -> sequences of its latest step
    void OnStepScheduled(int r, int dp, const SchedulerStep& step) override {
      run->OnStepScheduled(r, dp, step);
      if (series == nullptr) return;
      batch[{r, dp}] = static_cast<int64_t>(step.sequences.size());
      Sample(r, dp);
    }
    void OnStepDone(int r, int dp, const std::vector<SequenceOutcome>& o) override {
      run->OnStepDone(r, dp, o);
      if (series == nullptr) return;
      int64_t tokens = 0;
      for (const SequenceOutcome& x : o) tokens += x.new_tokens;
      if (tokens > 0) series->output_tokens.emplace_back(sim->Now(), tokens);
      if ((*replicas)[static_cast<size_t>(r)]->scheduler(dp).in_flight() == 0) batch[{r, dp}] = 0;
      Sample(r, dp);
    }
    void Sample(int r, int dp) {
      const Scheduler& s = (*replicas)[static_cast<size_t>(r)]->scheduler(dp);
      series->samples.push_back(
          {sim->Now(), r, dp, batch[{r, dp}], s.running(), s.waiting(), s.used_blocks(), s.num_blocks()});
    }
  } forward;
  forward.sim = &sim;
  forward.replicas = &owned;
  if (watch.series) forward.series = &o.series;
  for (int r = 0; r < replicas; ++r) {
    models.push_back(std::make_unique<IterationModel>(
        d.model, plan, d.placement, r, MoeOptions(d, s, d.speculative.Drafter(d.model)), d.kernel_of_gpu, *d.closed));
  }
  // Which collective groups can meet other traffic on a link: under --network flow they run as transfers, the others
  // by their closed form (exact where a group's links are its own); an analytical run reports them.
  WIRESIM_ASSIGN_OR_RETURN(std::vector<std::vector<int>> groups, CollectiveGroupsOf(models));
  const std::vector<bool> shared = GroupsMeetingOthers(topo, d.collectives->router(), groups);
  std::set<std::vector<int>> private_groups;
  for (size_t i = 0; i < groups.size(); ++i) {
    if (shared[i]) {
      o.shared_groups.push_back(groups[i]);
    } else {
      private_groups.insert(groups[i]);
    }
  }
  o.flows = s.network == "flow" && !o.shared_groups.empty();
  if (o.flows) net = std::make_unique<FlowNetwork>(sim, topo);
  // Every collective also loads links: counted for the report's link utilisation (never steers the run).
  LinkUseAccounting link_use(topo);
  RunTimers timers = MakeRunTimers(sim, o.flows ? net.get() : nullptr, *d.closed, link_use, o.shared_groups,
                                   std::move(private_groups));
  // Collectives that may share links run op by op; everything else may be compiled.
  ReplicaOptions replica_options = d.replica_options;
  replica_options.compiled = replica_options.compiled && !o.flows;
  replica_options.trace = watch.timeline;
  replica_options.link_use = &link_use;
  for (int r = 0; r < replicas; ++r) {
    owned.push_back(std::make_unique<Replica>(r, sim, queues, *timers.timer, *models[static_cast<size_t>(r)],
                                              &accounting, forward, replica_options));
    replica_ptrs.push_back(owned.back().get());
  }
  run = std::make_unique<ServingRun>(sim, *source, replica_ptrs, run_options, *metrics);
  forward.run = run.get();
  WIRESIM_RETURN_IF_ERROR(run->Run());
  if (progress) ctx.err << "\n";
  o.run = run->stats();
  o.gpus = accounting.Finish(o.run.end);
  for (const auto& r : owned) {
    o.replicas.push_back(r->stats());
    int64_t p = 0;
    for (int dp = 0; dp < r->dp_ranks(); ++dp) p += r->scheduler(dp).preemptions();
    o.preemptions.push_back(p);
  }
  for (const auto& m : models) o.compiled_shapes += m->compiled_shapes();
  o.compiled = d.replica_options.compiled && models.front()->CanCompile() && !o.flows;
  // Coupled DP x EP ranks cannot be compiled; unwatched, each rank's kernels between two collectives ran as one op.
  o.collapsed = !o.compiled && replica_options.compiled && models.front()->CanCollapse() && watch.timeline == nullptr;
  // Bytes sent are bytes received: every transfer started on the network was delivered (unless the run stopped early).
  if (net != nullptr && !o.run.stopped) WIRESIM_RETURN_IF_ERROR(net->CheckConservation());
  o.links = link_use.Collect(net.get());
  o.link_busy_complete = !link_use.busy_incomplete();
  FillLinkLoads(topo, o.run.end, link_use, &o);
  o.metrics = std::move(metrics);
  o.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return o;
}

}  // namespace wiresim::app
