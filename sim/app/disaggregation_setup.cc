#include "sim/app/disaggregation_setup.h"

#include <chrono>
#include <set>

#include "sim/app/gpu_selection.h"
#include "sim/app/number_format.h"
#include "sim/app/scenario.h"
#include "sim/app/serving_setup.h"
#include "sim/network/analytical_network.h"
#include "sim/network/flow_network.h"
#include "sim/parallel/placement_search.h"
#include "sim/serving/iteration_model.h"
#include "sim/serving/link_sharing.h"

namespace wiresim::app {
namespace {

Status At(const Scenario& s, const std::string& field, const Status& st) {
  return Status(st.code(), s.At(field) + ": " + st.message());
}

Status ResolveRole(const Scenario& s, const std::string& name, const std::string& plan_text, int64_t replicas,
                   const ModelSpec& model, ServingRole* role) {
  role->name = name;
  const std::string field = "disaggregation." + name + ".plan";
  Result<ParallelPlan> plan = ParsePlan(plan_text);
  if (!plan.ok()) return At(s, field, plan.status());
  if (plan->dp != 1 || plan->cp != 1) {
    return InvalidArgument(s.At(field) + ": '" + plan_text + "': a " + name +
                           " replica's plan takes tp, pp (and ep = tp) only; give more replicas instead of dp, and "
                           "cp is not supported with disaggregation");
  }
  if (Status st = ValidatePlan(*plan, model, 0); !st.ok()) return At(s, field, st);
  role->plan = *plan;
  role->replicas.resize(static_cast<size_t>(replicas));
  return Status::Ok();
}

}  // namespace

Status CheckDisaggregationFields(const Scenario& s) {
  if (!s.disaggregated) return Status::Ok();
  if (s.where.count("deployment.plan")) {
    return InvalidArgument(s.At("deployment.plan") +
                           ": a disaggregated deployment has a plan per role (disaggregation.prefill.plan and "
                           "disaggregation.decode.plan, or --prefill-plan and --decode-plan), not deployment.plan");
  }
  if (s.placement != "packed" && s.placement != "auto") {
    return InvalidArgument(s.At("deployment.placement") +
                           ": a disaggregated deployment places its replicas in the order of deployment.gpus "
                           "(packed, prefill replicas first) or each by the topology search (auto); got '" +
                           s.placement + "'");
  }
  if (!ParseKvTransferMode(s.kv_transfer)) {
    return InvalidArgument(s.At("disaggregation.kv_transfer") + ": expected after_prefill or layerwise, got '" +
                           s.kv_transfer + "'");
  }
  return Status::Ok();
}

Status ResolveDisaggregation(const Scenario& s, const MemoryOptions& mem, ServingSetup* d) {
  WIRESIM_RETURN_IF_ERROR(CheckDisaggregationFields(s));
  DisaggregationSetup pd;
  pd.mode = *ParseKvTransferMode(s.kv_transfer);
  WIRESIM_RETURN_IF_ERROR(ResolveRole(s, "prefill", s.prefill_plan, s.prefill_replicas, d->model, &pd.prefill));
  WIRESIM_RETURN_IF_ERROR(ResolveRole(s, "decode", s.decode_plan, s.decode_replicas, d->model, &pd.decode));
  const Topology& topo = *d->topo;
  const int needed = pd.prefill.plan.WorldSize() * static_cast<int>(s.prefill_replicas) +
                     pd.decode.plan.WorldSize() * static_cast<int>(s.decode_replicas);
  const std::string demand = std::to_string(s.prefill_replicas) + " prefill replica(s) of " +
                             pd.prefill.plan.ToString() + " and " + std::to_string(s.decode_replicas) +
                             " decode replica(s) of " + pd.decode.plan.ToString() + " need " + std::to_string(needed) +
                             " GPUs";
  std::vector<int> gpus;
  const bool search = s.placement == "auto";
  if (s.gpus.empty()) {
    if (needed > topo.gpu_count()) {
      return InvalidArgument(s.At("deployment.topology") + ": " + demand + " but " + topo.name() + " has " +
                             std::to_string(topo.gpu_count()));
    }
    // Packed takes the first GPUs; the search may choose among all of them.
    for (int i = 0; i < (search ? topo.gpu_count() : needed); ++i) gpus.push_back(i);
  } else {
    Result<std::vector<int>> sel = ParseGpuSelection(s.gpus, topo);
    if (!sel.ok()) return At(s, "deployment.gpus", sel.status());
    if (static_cast<int>(sel->size()) < needed) {
      return InvalidArgument(s.At("deployment.gpus") + ": " + demand + " but '" + s.gpus + "' names " +
                             std::to_string(sel->size()));
    }
    gpus = *sel;
  }
  if (search) {
    // Replica after replica, the largest first (prefill before decode at equal size), each placed by the search among
    // the GPUs still free: a wide replica finds a whole NVLink domain before narrower ones split it.
    std::vector<std::pair<ServingRole*, size_t>> order;
    for (ServingRole* role : {&pd.prefill, &pd.decode}) {
      for (size_t i = 0; i < role->replicas.size(); ++i) order.emplace_back(role, i);
    }
    std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
      return a.first->plan.WorldSize() > b.first->plan.WorldSize();
    });
    std::vector<int> unused = gpus;
    for (const auto& [role, i] : order) {
      Result<Placement> where = AutoPlacement(topo, d->model, role->plan, unused, nullptr, d->ep_exchange);
      if (!where.ok()) return At(s, "deployment.placement", where.status());
      role->replicas[i] = *where;
      for (int g : where->gpu_of_rank) std::erase(unused, g);
    }
  } else {
    // Packed: the replicas in turn, prefill first, each on the next GPUs given, rank r on the r-th.
    auto next = gpus.begin();
    for (ServingRole* role : {&pd.prefill, &pd.decode}) {
      for (Placement& p : role->replicas) {
        p.gpu_of_rank.assign(next, next + role->plan.WorldSize());
        next += role->plan.WorldSize();
      }
    }
  }
  for (ServingRole* role : {&pd.prefill, &pd.decode}) {
    MemoryOptions role_mem = mem;
    if (d->profile.engine == Engine::kSglang && !s.where.count("scheduler.gpu_memory_utilization")) {
      // SGLang's default mem_fraction_static, from the role's own plan (docs/engines.md).
      const int first = role->replicas.front().GpuOf(0);
      role_mem.gpu_memory_utilization = SglangDefaultFraction(role->plan, d->specs[static_cast<size_t>(first)],
                                                               s.enable_chunked_prefill ? s.max_num_batched_tokens : 0);
    }
    Result<MemoryPlan> m = PlanMemory(d->model, role->plan, role->replicas.front(), d->specs, role_mem);
    if (!m.ok()) return At(s, "disaggregation." + role->name + ".plan", m.status());
    role->memory = std::move(*m);
    role->kv_blocks = role->memory.max_kv_tokens / s.block_size;
    if (role->kv_blocks < 1) {
      return FailedPrecondition(s.At("disaggregation." + role->name + ".plan") + ": no KV block fits (" +
                                std::to_string(role->memory.max_kv_tokens) + " tokens of KV space)");
    }
  }
  d->plan = pd.prefill.plan;
  d->placement = pd.prefill.replicas.front();
  d->memory = pd.prefill.memory;
  d->disaggregation = std::move(pd);
  return Status::Ok();
}

Result<ServingOutcome> RunDisaggregated(AppContext& ctx, ServingSetup& d, bool progress) {
  const auto wall_start = std::chrono::steady_clock::now();
  const Scenario& s = d.scenario;
  const Topology& topo = *d.topo;
  const DisaggregationSetup& pd = *d.disaggregation;
  Simulator sim(static_cast<uint64_t>(s.seed));
  WIRESIM_ASSIGN_OR_RETURN(std::unique_ptr<RequestSource> source, OpenRequests(ctx, d, sim));
  // Replicas: the prefill ones (0 .. P-1), then the decode ones (P .. P+D-1).
  struct Built {
    const ServingRole* role;
    const Placement* placement;
  };
  std::vector<Built> built;
  for (const ServingRole* role : {&pd.prefill, &pd.decode}) {
    for (const Placement& p : role->replicas) built.push_back({role, &p});
  }
  const int prefills = static_cast<int>(pd.prefill.replicas.size());
  std::vector<int> replica_of_gpu(static_cast<size_t>(topo.gpu_count()), -1);
  for (size_t r = 0; r < built.size(); ++r) {
    for (int g : built[r].placement->gpu_of_rank) replica_of_gpu[static_cast<size_t>(g)] = static_cast<int>(r);
  }
  ServingOutcome o;
  GpuQueues queues(topo.gpu_count());
  GpuTimeAccounting accounting(topo.gpu_count(), replica_of_gpu);
  std::vector<std::unique_ptr<IterationModel>> models;
  for (const Built& b : built) {
    models.push_back(std::make_unique<IterationModel>(d.model, b.role->plan, *b.placement, 0,
                                                      MoeOptions(d, s, DraftModel{}), d.kernel_of_gpu, *d.closed));
  }
  // The KV transfers' layouts, and the GPU pairs they join.
  std::vector<std::vector<KvTransferLayout>> layouts(static_cast<size_t>(prefills));
  std::vector<std::vector<int>> kv_pairs;
  {
    std::set<std::vector<int>> seen;
    for (int p = 0; p < prefills; ++p) {
      for (const Placement& dec : pd.decode.replicas) {
        layouts[static_cast<size_t>(p)].push_back(
            LayoutKvTransfer(d.model, pd.prefill.plan, pd.prefill.replicas[static_cast<size_t>(p)].gpu_of_rank,
                             pd.decode.plan, dec.gpu_of_rank));
        for (const KvPairShare& share : PairShares(layouts[static_cast<size_t>(p)].back())) {
          if (seen.insert({share.src_gpu, share.dst_gpu}).second) kv_pairs.push_back({share.src_gpu, share.dst_gpu});
        }
      }
    }
  }
  // Collective groups that can meet other traffic: as in an aggregated run, and every group one of whose links a
  // KV transfer crosses (a transfer runs beside the collectives of the GPUs it leaves and reaches).
  WIRESIM_ASSIGN_OR_RETURN(std::vector<std::vector<int>> groups, CollectiveGroupsOf(models));
  Router& router = d.collectives->router();
  std::vector<bool> shared = GroupsMeetingOthers(topo, router, groups);
  {
    std::set<LinkId> kv_links;
    for (const std::vector<int>& pair : kv_pairs) {
      if (const Route* r = router.Find(topo.gpu(pair[0]), topo.gpu(pair[1]))) {
        for (const RouteHop& h : r->hops) kv_links.insert(h.link);
      }
    }
    for (size_t i = 0; i < groups.size(); ++i) {
      for (int a : groups[i]) {
        for (int b : groups[i]) {
          if (a == b || shared[i]) continue;
          const Route* r = router.Find(topo.gpu(a), topo.gpu(b));
          if (r == nullptr) continue;
          for (const RouteHop& h : r->hops) shared[i] = shared[i] || kv_links.count(h.link) > 0;
        }
      }
    }
  }
  std::set<std::vector<int>> private_groups;
  for (size_t i = 0; i < groups.size(); ++i) {
    if (shared[i]) {
      o.shared_groups.push_back(groups[i]);
    } else {
      private_groups.insert(groups[i]);
    }
  }
  // Under --network flow the KV transfers are flows, and so are the collectives that can meet them.
  o.flows = s.network == "flow";
  std::unique_ptr<Network> net;
  if (o.flows) {
    net = std::make_unique<FlowNetwork>(sim, topo);
  } else {
    net = std::make_unique<AnalyticalNetwork>(sim, topo);
  }
  LinkUseAccounting link_use(topo);
  RunTimers timers = MakeRunTimers(sim, o.flows ? net.get() : nullptr, *d.closed, link_use, o.shared_groups,
                                   std::move(private_groups));
  auto metrics = std::make_unique<RequestMetrics>();
  std::unique_ptr<ServingRun> run;
  class Forward : public ReplicaListener {
   public:
    ServingRun* run = nullptr;
    void OnStepScheduled(int r, int dp, const SchedulerStep& step) override { run->OnStepScheduled(r, dp, step); }
    void OnStepDone(int r, int dp, const std::vector<SequenceOutcome>& o) override { run->OnStepDone(r, dp, o); }
  } forward;
  std::vector<std::unique_ptr<Replica>> owned;
  std::vector<Replica*> prefill_ptrs, decode_ptrs;
  for (size_t r = 0; r < built.size(); ++r) {
    ReplicaOptions ro = d.replica_options;
    const bool prefill = static_cast<int>(r) < prefills;
    ro.compiled = ro.compiled && !o.flows;
    ro.scheduler.num_blocks = built[r].role->kv_blocks;
    ro.scheduler.hold_finished_kv = prefill;
    ro.link_use = &link_use;
    owned.push_back(std::make_unique<Replica>(static_cast<int>(r), sim, queues, *timers.timer, *models[r], &accounting,
                                              forward, ro));
    (prefill ? prefill_ptrs : decode_ptrs).push_back(owned.back().get());
  }
  DisaggregationOptions po;
  po.mode = pd.mode;
  po.decode_router = d.router;
  po.prefill_host_overhead = d.replica_options.host_overhead;
  Disaggregation handoff(sim, *net, router, topo, prefill_ptrs, decode_ptrs, std::move(layouts), po);
  ServingRunOptions run_options;
  run_options.router = d.router;
  run_options.max_concurrency = s.max_concurrency;
  run_options.handoff = &handoff;
  if (progress) run_options.progress = ProgressLine(ctx, d.from_trace ? 0 : d.synthetic.requests);
  run_options.stop_slo = d.early_stop.slo;
  run_options.stop_after_misses = d.early_stop.after_misses;
  run = std::make_unique<ServingRun>(sim, *source, prefill_ptrs, run_options, *metrics);
  forward.run = run.get();
  WIRESIM_RETURN_IF_ERROR(run->Run());
  WIRESIM_RETURN_IF_ERROR(handoff.error());
  for (const auto& r : owned) WIRESIM_RETURN_IF_ERROR(r->error());
  if (!run->stats().stopped) {
    for (const auto& r : owned) WIRESIM_RETURN_IF_ERROR(r->CheckSettled());
  }
  if (progress) ctx.err << "\n";
  o.run = run->stats();
  o.gpus = accounting.Finish(o.run.end);
  for (const auto& r : owned) {
    o.replicas.push_back(r->stats());
    o.preemptions.push_back(r->scheduler(0).preemptions());
  }
  for (const auto& m : models) o.compiled_shapes += m->compiled_shapes();
  o.compiled = d.replica_options.compiled && models.front()->CanCompile() && !o.flows;
  o.kv_transfers = handoff.transfers();
  // Bytes sent are bytes received: every transfer started on the network was delivered (unless the run stopped early).
  if (!o.run.stopped) WIRESIM_RETURN_IF_ERROR(net->CheckConservation());
  o.links = link_use.Collect(net.get());
  o.link_busy_complete = !link_use.busy_incomplete();
  FillLinkLoads(topo, o.run.end, link_use, &o);
  o.metrics = std::move(metrics);
  o.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return o;
}

}  // namespace wiresim::app
