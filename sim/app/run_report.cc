#include "sim/app/run_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/app/disaggregation_report.h"
#include "sim/app/number_format.h"
#include "sim/core/text.h"

namespace wiresim::app {
namespace {

using Json = nlohmann::ordered_json;

constexpr ParallelDim kDims[] = {ParallelDim::kTp, ParallelDim::kPp, ParallelDim::kEp, ParallelDim::kCp,
                                 ParallelDim::kDp};
constexpr Phase kAllPhases[] = {Phase::kPrefill, Phase::kDecode, Phase::kMixed};

}  // namespace

namespace {

struct HotLink {
  std::string from, to, name, kind;
  double capacity_GBps = 0, bytes = 0, utilisation = 0, busy_fraction = 0;
};

// The `n` links with the highest utilisation (bytes / (capacity x run)), highest first, ties by link id; then the
// hottest link of each other kind (the busiest NIC of a run whose NVLinks carry more, say).
std::vector<HotLink> HottestLinks(const Topology& topo, const ServingOutcome& o, double run_s, size_t n) {
  std::vector<std::pair<double, LinkId>> order;
  std::map<LinkId, const LinkUse*> by_id;
  for (const LinkUse& u : o.links) {
    const double u_frac = run_s > 0 ? u.bytes / (topo.link(u.link).capacity_GBps * 1e9 * run_s) : 0;
    order.emplace_back(-u_frac, u.link);
    by_id[u.link] = &u;
  }
  std::sort(order.begin(), order.end());
  std::vector<size_t> picked;
  std::set<LinkKind> kinds;
  for (size_t i = 0; i < order.size() && i < n; ++i) {
    picked.push_back(i);
    kinds.insert(topo.link(order[i].second).kind);
  }
  for (size_t i = n; i < order.size(); ++i) {
    if (kinds.insert(topo.link(order[i].second).kind).second) picked.push_back(i);
  }
  std::vector<HotLink> out;
  for (const size_t i : picked) {
    const Link& l = topo.link(order[i].second);
    HotLink h;
    h.from = topo.node(l.from).spec.name;
    h.to = topo.node(l.to).spec.name;
    h.name = h.from + " -> " + h.to;
    h.kind = std::string(ToString(l.kind));
    h.capacity_GBps = l.capacity_GBps;
    h.bytes = by_id[order[i].second]->bytes;
    h.utilisation = -order[i].first;
    h.busy_fraction = run_s > 0 ? by_id[order[i].second]->busy.ToSeconds() / run_s : 0;
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace

RunReport MakeReport(const Scenario& s, const ServingSetup& d, const ServingOutcome& o) {
  RunReport report;
  const ServingSlo slo{s.slo_ttft_ms, s.slo_tpot_ms, s.slo_e2el_ms};
  ServingSummary summary = o.metrics->Summarize(slo, s.percentiles);
  summary.max_concurrency = s.max_concurrency;
  summary.request_rate = s.trace.empty() && !s.rate_inf ? s.rate : 0;
  // The deployment's GPUs: those serving a replica.
  std::vector<const GpuBreakdown*> used;
  std::vector<int> used_ids;
  for (const GpuBreakdown& g : o.gpus) {
    if (g.replica < 0) continue;
    used.push_back(&g);
    used_ids.push_back(g.gpu);
  }
  const double n = static_cast<double>(used.size());
  const double run_s = o.run.end.ToSeconds();
  auto mean_s = [&](auto pick) {
    double total = 0;
    for (const GpuBreakdown* g : used) total += pick(*g).ToSeconds();
    return n > 0 ? total / n : 0.0;
  };
  auto pct = [&](double seconds) { return run_s > 0 ? 100.0 * seconds / run_s : 0.0; };
  const double compute = mean_s([](const GpuBreakdown& g) { return g.compute; });
  const double bubble = mean_s([](const GpuBreakdown& g) { return g.bubble; });
  const double idle = mean_s([](const GpuBreakdown& g) { return g.idle; });
  double exposed_by_dim[kParallelDims] = {};
  double exposed_by_phase[kPhases] = {};
  for (const GpuBreakdown* g : used) {
    for (int dim = 0; dim < kParallelDims; ++dim) {
      for (int ph = 0; ph < kPhases; ++ph) {
        const double t = g->exposed[static_cast<size_t>(dim)][static_cast<size_t>(ph)].ToSeconds();
        exposed_by_dim[dim] += t / n;
        exposed_by_phase[ph] += t / n;
      }
    }
  }
  double exposed_total = 0;
  for (double t : exposed_by_dim) exposed_total += t;
  int64_t steps = 0, preemptions = 0;
  for (const ReplicaStats& r : o.replicas) steps += r.steps;
  for (int64_t p : o.preemptions) preemptions += p;
  SpeculativeStats spec;
  for (const ReplicaStats& r : o.replicas) spec.Add(r.speculative);

  // Text.
  std::ostringstream t;
  const ModelSpec& m = d.model;
  const std::string plan = d.disaggregation ? "disaggregated " + std::to_string(s.prefill_replicas) + " prefill x " +
                                                  s.prefill_plan + " + " + std::to_string(s.decode_replicas) +
                                                  " decode x " + s.decode_plan
                                            : d.plan.ToString();
  t << "wiresim run: " << m.name << " (weights " << ToString(m.weight_dtype) << ", KV " << ToString(m.kv_cache_dtype)
    << ") on " << d.topo->name() << ", " << plan << " on GPUs " << IndexRanges(used_ids) << ", " << d.engine
    << " engine, " << s.network << " network\n";
  t << "  workload: ";
  if (!s.trace.empty()) {
    t << "trace " << s.trace;
  } else {
    if (s.requests > 0) t << s.requests << " requests, ";
    if (s.duration_s > 0) t << (s.requests > 0 ? "for at most " : "for ") << Short(s.duration_s) << " s, ";
    if (s.rate_inf) {
      t << "all at t=0";
    } else {
      t << (s.burstiness == 1.0 ? "Poisson " : "Gamma (burstiness " + Fixed(s.burstiness, 2) + ") ") << Fixed(s.rate, 2)
        << "/s";
    }
    t << ", input " << s.input_len << ", output " << s.output_len;
  }
  if (s.max_concurrency > 0) t << ", at most " << s.max_concurrency << " in flight";
  t << ", seed " << s.seed << "\n";
  if (d.disaggregation) {
    t << "  KV cache: " << d.disaggregation->prefill.kv_blocks << " blocks per prefill replica, "
      << d.disaggregation->decode.kv_blocks << " per decode replica, of " << s.block_size << " tokens";
  } else {
    t << "  KV cache: " << d.kv_blocks << " blocks of " << s.block_size << " tokens per DP rank ("
      << d.memory.max_kv_tokens << " tokens)";
  }
  t << "; host overhead " << Fixed(d.host_overhead.ToMicroseconds() / 1000.0, 2) << " ms per step"
    << (d.host_overhead > Time::Zero() && HostOverlapped(d.replica_options, d.plan) ? " (async)" : "")
    << "; iterations "
    << (o.compiled    ? "compiled"
        : o.collapsed ? "collapsed between collectives"
                      : "op by op")
    << "\n";
  t << "  collectives: " << d.nccl.note << (d.profile.nccl_nvls ? "" : ", without NVLS")
    << (s.nccl_pxn ? "" : ", without PXN");
  if (!d.disaggregation && d.plan.tp > 1 && d.engine_collectives) {
    // The first TP group's all-reduces, by size (every TP group of a packed deployment is alike).
    std::vector<int> tp_group;
    for (int i = 0; i < d.plan.tp; ++i) tp_group.push_back(d.placement.GpuOf(RankOf(d.plan, RankCoord{i, 0, 0, 0})));
    t << "; TP all-reduce: " << d.engine_collectives->Describe(tp_group);
  }
  if (d.plan.ep > 1 && d.model.IsMoe()) {
    // vLLM's layout with one DP rank has no DP group to gather over.
    t << "; EP exchange: "
      << (d.ep_exchange == StepGraphOptions::EpExchange::kAllToAll ? "all-to-all of the routed copies"
          : GathersOverDpGroup(d.plan, d.ep_exchange) && d.plan.dp == 1
              ? "none (every TP rank holds every token; the TP all-reduce sums the experts)"
          : d.profile.ep_gather.sum_len ? "all-gather + reduce-scatter (all-reduces in prefill and uneven steps)"
                                        : "all-gather + reduce-scatter");
  }
  t << "\n";
  if (o.shared_groups.empty()) {
    t << "  links: every collective group's links are its own (closed forms exact";
    t << (s.network == "flow" ? ", so no transfer needed the flow network)\n" : ")\n");
  } else {
    t << "  links: " << o.shared_groups.size() << " collective group" << (o.shared_groups.size() == 1 ? "" : "s")
      << " can meet other traffic on a link (e.g. GPUs " << IndexRanges(o.shared_groups.front()) << ")"
      << (o.flows ? ": they ran as transfers on the flow network\n"
                  : ": the analytical network assumed them uncontended (--network flow simulates it)\n");
  }
  if (d.disaggregation && s.placement == "auto") {
    t << "  placement: auto, replica by replica (the largest first) among the free GPUs:";
    for (const ServingRole* role : {&d.disaggregation->prefill, &d.disaggregation->decode}) {
      t << " " << role->name << " ";
      for (size_t i = 0; i < role->replicas.size(); ++i)
        t << (i ? " | " : "") << IndexRanges(role->replicas[i].gpu_of_rank);
      t << (role == &d.disaggregation->prefill ? ";" : "\n");
    }
  }
  if (d.placement_score) {
    t << "  placement: " << s.placement << ", GPU of each rank ";
    for (size_t r = 0; r < d.placement.gpu_of_rank.size(); ++r) t << (r ? "," : "") << d.placement.gpu_of_rank[r];
    t << "; estimated communication " << Fixed(1000.0 * d.placement_score->cost_seconds, 3)
      << " ms per 8192-token step (docs/placement.md)\n";
    for (const std::string& line : d.placement_score->lines) t << "    " << line << "\n";
  }
  PrintServingSummary(t, summary, "");
  if (d.disaggregation) PrintDisaggregation(t, d, o);
  PrintSummaryHeader(t, "GPU time, mean per GPU (wiresim)");
  PrintSummaryLine(t, "Compute (%):", pct(compute));
  PrintSummaryLine(t, "Exposed collectives (%):", pct(exposed_total));
  for (ParallelDim dim : kDims) {
    const double v = exposed_by_dim[static_cast<int>(dim)];
    if (v > 0) PrintSummaryLine(t, "  " + std::string(ToString(dim)) + " (%):", pct(v));
  }
  PrintSummaryLine(t, "Pipeline bubble (%):", pct(bubble));
  PrintSummaryLine(t, "Idle (%):", pct(idle));
  PrintSummaryHeader(t, "Exposed collectives by phase (ms/GPU)");
  for (Phase ph : kAllPhases)
    PrintSummaryLine(t, std::string(ToString(ph)) + ":", 1000.0 * exposed_by_phase[static_cast<int>(ph)]);
  if (d.plan.pp > 1 && !d.disaggregation) {
    PrintSummaryHeader(t, "Pipeline bubble per stage (%)");
    for (int st = 0; st < d.plan.pp; ++st) {
      double b = 0, count = 0;
      for (int r = 0; r < d.plan.WorldSize(); ++r) {
        if (CoordOf(d.plan, r).pp != st) continue;
        b += o.gpus[static_cast<size_t>(d.placement.GpuOf(r))].bubble.ToSeconds();
        count += 1;
      }
      PrintSummaryLine(t, "Stage " + std::to_string(st) + ":", pct(count > 0 ? b / count : 0));
    }
  }
  const std::vector<HotLink> hottest = HottestLinks(*d.topo, o, run_s, 5);
  if (!hottest.empty()) {
    PrintSummaryHeader(t, "Hottest links, utilisation (%)");  // then each other kind's hottest
    for (const HotLink& h : hottest) PrintSummaryLine(t, h.name + ":", 100.0 * h.utilisation);
  }
  PrintSummaryHeader(t, "Engine");
  PrintSummaryLine(t, "Steps:", static_cast<double>(steps));
  PrintSummaryLine(t, "Mean step time (ms):",
                   steps > 0 ? 1000.0 *
                                   [&] {
                                     double busy = 0;
                                     for (const ReplicaStats& r : o.replicas) busy += r.gpu_busy.ToSeconds();
                                     return busy / static_cast<double>(steps);
                                   }()
                             : 0.0);
  PrintSummaryLine(t, "Preemptions:", static_cast<double>(preemptions));
  PrintSummaryLine(t, "Failed (rejected) requests:", static_cast<double>(o.run.rejected));
  if (d.speculative.enabled()) {
    // As vLLM's SpecDecodingLogging prints them (docs/metrics.md).
    PrintSummaryHeader(t, "Speculative decoding");
    PrintSummaryLine(t, "Drafts:", static_cast<double>(spec.drafts));
    PrintSummaryLine(t, "Draft tokens:", static_cast<double>(spec.draft_tokens));
    PrintSummaryLine(t, "Accepted tokens:", static_cast<double>(spec.accepted_tokens));
    PrintSummaryLine(t, "Mean acceptance length:", spec.MeanAcceptanceLength());
    PrintSummaryLine(t, "Draft acceptance rate (%):", 100.0 * spec.AcceptanceRate());
  }
  t << std::string(50, '=') << "\n";
  report.text = t.str();

  // summary.json: vllm's keys first, then wiresim's.
  Json j = Json::parse(SummaryJsonFields(summary));
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.value().is_number()) report.predicted[it.key()] = it.value().get<double>();
  }
  Json w;
  w["scenario"] = s.name;
  w["model"] = m.name;
  w["topology"] = d.topo->name();
  w["plan"] = plan;
  w["gpus"] = used_ids;
  if (d.placement_score) {
    w["placement"] = {{"policy", s.placement},
                      {"gpu_of_rank", d.placement.gpu_of_rank},
                      {"estimated_communication_s", d.placement_score->cost_seconds},
                      {"explanation", d.placement_score->lines}};
  }
  w["engine"] = d.engine;
  w["custom_all_reduce"] = d.profile.custom_all_reduce.available;
  w["symm_mem_all_reduce"] = d.profile.symm_mem.available;
  w["nccl_nvls"] = d.profile.nccl_nvls;
  w["nccl_pxn"] = s.nccl_pxn;
  w["network"] = s.network;
  w["nccl_version"] = d.nccl.version.ToString();
  w["iterations"] = o.compiled ? "compiled" : o.collapsed ? "collapsed" : "op-by-op";
  w["shared_link_groups"] = o.shared_groups;
  w["flows"] = o.flows;
  w["seed"] = s.seed;
  w["kv_blocks_per_dp_rank"] = d.kv_blocks;
  w["block_size"] = s.block_size;
  w["host_overhead_ms"] = d.host_overhead.ToMicroseconds() / 1000.0;
  w["async_scheduling"] = HostOverlapped(d.replica_options, d.plan);
  if (d.plan.ep > 1 && d.model.IsMoe()) {
    w["ep_exchange"] = d.ep_exchange == StepGraphOptions::EpExchange::kAllGather ? "allgather" : "alltoall";
  }
  w["steps"] = steps;
  w["preemptions"] = preemptions;
  w["rejected_requests"] = o.run.rejected;
  if (d.speculative.enabled()) {
    Json per_position = Json::array();
    for (int64_t a : spec.accepted_per_position) {
      per_position.push_back(spec.drafts > 0 ? static_cast<double>(a) / static_cast<double>(spec.drafts) : 0.0);
    }
    w["speculative"] = {{"method", std::string(ToString(d.speculative.method))},
                        {"num_speculative_tokens", d.speculative.num_tokens},
                        {"acceptance_given", d.speculative.acceptance},
                        {"drafts", spec.drafts},
                        {"draft_tokens", spec.draft_tokens},
                        {"accepted_tokens", spec.accepted_tokens},
                        {"mean_acceptance_length", spec.MeanAcceptanceLength()},
                        {"draft_acceptance_rate", spec.AcceptanceRate()},
                        {"per_position_acceptance_rate", per_position}};
  }
  w["simulated_seconds"] = run_s;
  w["gpu_time_fraction"] = {{"compute", run_s > 0 ? compute / run_s : 0},
                            {"exposed_collectives", run_s > 0 ? exposed_total / run_s : 0},
                            {"bubble", run_s > 0 ? bubble / run_s : 0},
                            {"idle", run_s > 0 ? idle / run_s : 0}};
  Json dims = Json::object();
  for (ParallelDim dim : kDims) dims[std::string(ToString(dim))] = exposed_by_dim[static_cast<int>(dim)];
  w["exposed_collective_s_per_gpu"] = dims;
  Json phases = Json::object();
  for (Phase ph : kAllPhases) phases[std::string(ToString(ph))] = exposed_by_phase[static_cast<int>(ph)];
  w["exposed_collective_s_per_gpu_by_phase"] = phases;
  Json per_gpu = Json::array();
  for (const GpuBreakdown* g : used) {
    Json e;
    e["gpu"] = g->gpu;
    e["replica"] = g->replica;
    e["compute_s"] = g->compute.ToSeconds();
    Json ex = Json::object();
    for (ParallelDim dim : kDims) ex[std::string(ToString(dim))] = g->Exposed(dim).ToSeconds();
    e["exposed_s"] = ex;
    e["communication_s"] = g->communication.ToSeconds();
    e["bubble_s"] = g->bubble.ToSeconds();
    e["idle_s"] = g->idle.ToSeconds();
    per_gpu.push_back(std::move(e));
  }
  w["per_gpu"] = std::move(per_gpu);
  Json links = Json::array();
  for (const HotLink& h : HottestLinks(*d.topo, o, run_s, 10)) {
    Json e;
    e["from"] = h.from;
    e["to"] = h.to;
    e["kind"] = h.kind;
    e["capacity_GBps"] = h.capacity_GBps;
    e["bytes"] = h.bytes;
    e["utilisation"] = h.utilisation;
    if (o.link_busy_complete) e["busy_fraction"] = h.busy_fraction;
    links.push_back(std::move(e));
  }
  w["hottest_links"] = std::move(links);
  if (d.disaggregation) w["disaggregation"] = DisaggregationJson(d, o);
  j["wiresim"] = std::move(w);
  report.summary = std::move(j);
  std::ostringstream csv;
  WriteRequestsCsv(csv, o.metrics->records());
  report.requests_csv = csv.str();
  return report;
}

std::vector<std::string> WorkloadMismatches(const RunReport& report, const std::map<std::string, double>& measured) {
  // What the two runs served: a difference past 1% (vllm bench serve rounds none of these) means the errors
  // compare different workloads.
  std::vector<std::string> out;
  for (const char* key : {"completed", "total_input_tokens", "total_output_tokens"}) {
    auto m = measured.find(key);
    auto p = report.predicted.find(key);
    if (m == measured.end() || p == report.predicted.end()) continue;
    if (std::fabs(p->second - m->second) > 0.01 * std::max(std::fabs(m->second), 1.0)) {
      out.push_back(std::string(key) + " is " + Fixed(m->second, 0) + " in the measured run and " +
                    Fixed(p->second, 0) +
                    " here: the comparison is of different workloads (replay its trace, or match --requests, "
                    "--input-len and --output-len)");
    }
  }
  return out;
}

std::string SummaryJson(const RunReport& report) { return report.summary.dump(2) + "\n"; }

void AddComparisonToJson(RunReport& report, const std::map<std::string, double>& measured, const std::string& name,
                         const std::vector<std::string>& warnings) {
  Json metrics = Json::object();
  for (const auto& [key, predicted] : report.predicted) {
    auto it = measured.find(key);
    if (it == measured.end()) continue;
    const double m = it->second;
    metrics[key] = {
        {"measured", m}, {"predicted", predicted}, {"error", m != 0 ? Json((predicted - m) / m) : Json(nullptr)}};
  }
  Json& c = report.summary["wiresim"]["compare"];
  c["file"] = name;
  c["metrics"] = std::move(metrics);
  c["warnings"] = warnings;
}

void PrintComparison(std::ostream& out, const RunReport& report, const std::map<std::string, double>& measured,
                     const std::string& name) {
  out << "Measured (" << name << ") beside predicted:\n";
  char buf[160];
  std::snprintf(buf, sizeof buf, "  %-28s %14s %14s %9s\n", "metric", "measured", "predicted", "error");
  out << buf;
  for (const auto& [key, predicted] : report.predicted) {
    auto it = measured.find(key);
    if (it == measured.end()) continue;
    const double m = it->second;
    const std::string err = m != 0 ? Fixed(100.0 * (predicted - m) / m, 1) + "%" : "-";
    std::snprintf(buf, sizeof buf, "  %-28s %14.3f %14.3f %9s\n", key.c_str(), m, predicted, err.c_str());
    out << buf;
  }
}

}  // namespace wiresim::app
