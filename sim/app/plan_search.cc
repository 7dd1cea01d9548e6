#include "sim/app/plan_search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/app/run_report.h"
#include "sim/app/serving_setup.h"
#include "sim/core/dtype.h"
#include "sim/core/simulator.h"
#include "sim/model/parameters.h"
#include "sim/parallel/placement.h"
#include "sim/parallel/placement_search.h"

namespace wiresim::app {
namespace {

using Json = nlohmann::json;
constexpr double kInf = std::numeric_limits<double>::infinity();

// A fixed wave size keeps the pruning between waves (and so the ranking) the same for any number of threads or
// ranks.
constexpr size_t kWave = 8;

// Placements whose communication estimates are within this share of each other are all simulated: the score ranks
// the groups' slowest routes, not the overlap of their collectives with compute (docs/plan.md, section 2).
constexpr double kFinalistMargin = 0.10;

std::vector<int> PowersOfTwoUpTo(int n) {
  std::vector<int> out;
  for (int v = 1; v <= n; v *= 2) out.push_back(v);
  return out;
}

std::string Join(const std::vector<int>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

// The divisor of the active weights and FLOPs a bound may assume: the GPUs that split one token's work.
int SplitOf(const ModelSpec& m, const ParallelPlan& p) {
  return m.IsMoe() && p.ep > 1 ? p.GpusPerStage() : p.tp * p.cp;
}

// The most requests of `requests` that may miss the SLO while the attainment (good / requests, as the row computes
// it) can still reach `attainment`; -1 when there are no requests.
int64_t AllowedMisses(int64_t requests, double attainment) {
  if (requests <= 0) return -1;
  const auto reaches = [&](int64_t missed) {
    return static_cast<double>(requests - missed) / static_cast<double>(requests) >= attainment;
  };
  int64_t m = std::clamp<int64_t>(static_cast<int64_t>(std::floor((1.0 - attainment) * static_cast<double>(requests))),
                                  0, requests);
  while (m > 0 && !reaches(m)) --m;
  while (m < requests && reaches(m + 1)) ++m;
  return reaches(m) ? m : -1;
}

}  // namespace

PlanSearch::PlanSearch(AppContext& ctx, Scenario base, PlanSearchOptions options)
    : ctx_(ctx), base_(std::move(base)), options_(std::move(options)) {}

Scenario PlanSearch::ScenarioOf(const PlanCandidate& c) const {
  Scenario s = base_;
  const std::string by = "the plan search";
  auto set = [&](const char* field, std::string* target, const std::string& value) {
    *target = value;
    s.where[field] = by;
  };
  std::string gpus;
  for (int i = 0; i < c.gpus; ++i) gpus += (i ? "," : "") + std::to_string(options_.gpu_pool[static_cast<size_t>(i)]);
  set("deployment.gpus", &s.gpus, gpus);
  set("deployment.weight_dtype", &s.weight_dtype, c.weight_dtype);
  set("deployment.kv_cache_dtype", &s.kv_cache_dtype, c.kv_dtype);
  s.max_num_seqs = c.max_num_seqs;
  s.where["scheduler.max_num_seqs"] = by;
  s.max_num_batched_tokens = c.max_num_batched_tokens;
  s.where["scheduler.max_num_batched_tokens"] = by;
  s.percentiles = {50, 99};
  s.disaggregated = c.disaggregated;
  if (c.disaggregated) {
    set("disaggregation.prefill.plan", &s.prefill_plan, c.prefill.ToString());
    set("disaggregation.decode.plan", &s.decode_plan, c.decode.ToString());
    s.prefill_replicas = c.prefill_replicas;
    s.decode_replicas = c.decode_replicas;
    set("deployment.placement", &s.placement, "packed");
  } else {
    set("deployment.plan", &s.plan, c.plan.ToString());
    set("deployment.placement", &s.placement, c.placement);
  }
  return s;
}

Status PlanSearch::Enumerate() {
  candidates_.clear();
  // The model and the topology decide the defaults.
  ModelSpec model;
  if (Status st = ResolveModel(ctx_, base_, &model); !st.ok()) return st;
  const int pool = static_cast<int>(options_.gpu_pool.size());
  if (pool < 1) return InvalidArgument("no GPUs to place the model on");
  const PlanSpace& sp = options_.space;
  const std::vector<int> tps = sp.tp.empty() ? PowersOfTwoUpTo(pool) : sp.tp;
  const std::vector<int> pps = sp.pp.empty() ? PowersOfTwoUpTo(std::min<int64_t>(pool, model.num_layers)) : sp.pp;
  const std::vector<int> cps = sp.cp.empty() ? std::vector<int>{1} : sp.cp;
  const std::vector<int> eps = !sp.ep.empty() ? sp.ep : model.IsMoe() ? std::vector<int>{0, 1} : std::vector<int>{0};
  const std::vector<int> sps = sp.sp.empty() ? std::vector<int>{0} : sp.sp;
  const std::vector<std::string> wdt =
      sp.weight_dtypes.empty() ? std::vector<std::string>{base_.weight_dtype} : sp.weight_dtypes;
  const std::vector<std::string> kdt =
      sp.kv_dtypes.empty() ? std::vector<std::string>{base_.kv_cache_dtype} : sp.kv_dtypes;
  // By default the search's placement and the two fixed ones; those the score rules out are not simulated (Run).
  const std::vector<std::string> places =
      sp.placements.empty() ? std::vector<std::string>{"auto", "packed", "strided"} : sp.placements;
  const std::vector<int64_t> seqs =
      sp.max_num_seqs.empty() ? std::vector<int64_t>{base_.max_num_seqs} : sp.max_num_seqs;
  const std::vector<int64_t> toks = sp.max_num_batched_tokens.empty()
                                        ? std::vector<int64_t>{base_.max_num_batched_tokens}
                                        : sp.max_num_batched_tokens;
  // `c` once with every setting (dtypes, scheduler limits).
  auto add = [&](const PlanCandidate& c) {
    for (const std::string& w : wdt)
      for (const std::string& k : kdt)
        for (int64_t s : seqs)
          for (int64_t t : toks) {
            PlanCandidate with = c;
            with.weight_dtype = w;
            with.kv_dtype = k;
            with.max_num_seqs = s;
            with.max_num_batched_tokens = t;
            candidates_.push_back(std::move(with));
          }
  };
  for (int pp : pps) {
    for (int tp : tps) {
      for (int cp : cps) {
        const int base = tp * pp * cp;
        if (base > pool) continue;
        for (int ep : eps) {
          for (int seq_par : sps) {
            if (seq_par && tp == 1) continue;  // sequence parallelism splits over TP ranks
            ParallelPlan p;
            p.tp = tp;
            p.pp = pp;
            p.cp = cp;
            p.dp = pool / base;
            p.ep = ep ? tp * cp * p.dp : 1;
            if (ep && p.ep == 1) continue;
            p.sequence_parallel = seq_par != 0;
            for (const std::string& place : places) {
              PlanCandidate c;
              c.plan = p;
              c.placement = place;
              c.gpus = p.WorldSize();
              add(c);
            }
          }
        }
      }
    }
  }
  if (sp.disaggregated) {
    // Role plans: one replica each, tp only (and pp where asked); splits give the prefill role about 1/4, 1/3,
    // 1/2, 2/3 or 3/4 of the GPUs, the decode role the rest.
    std::vector<ParallelPlan> roles;
    for (int pp : pps) {
      for (int tp : tps) {
        if (tp * pp >= pool) continue;
        ParallelPlan r;
        r.tp = tp;
        r.pp = pp;
        roles.push_back(r);
      }
    }
    std::set<std::tuple<std::string, std::string, int64_t, int64_t>> seen;
    // A disaggregated deployment is placed packed or by the search (auto), replica by replica; spread and strided
    // stand for auto and packed there.
    std::vector<std::string> disaggregated_places;
    for (const std::string& p : places) {
      const std::string as = p == "spread" ? "auto" : p == "strided" ? "packed" : p;
      if (std::find(disaggregated_places.begin(), disaggregated_places.end(), as) == disaggregated_places.end()) {
        disaggregated_places.push_back(as);
      }
    }
    for (const ParallelPlan& pre : roles) {
      for (const ParallelPlan& dec : roles) {
        for (double share : {0.25, 1.0 / 3, 0.5, 2.0 / 3, 0.75}) {
          const int64_t np = std::max<int64_t>(1, std::llround(share * pool / pre.WorldSize()));
          const int64_t left = pool - np * pre.WorldSize();
          const int64_t nd = left / dec.WorldSize();
          if (nd < 1) continue;
          if (!seen.insert({pre.ToString(), dec.ToString(), np, nd}).second) continue;
          for (const std::string& where : disaggregated_places) {
            PlanCandidate c;
            c.disaggregated = true;
            c.plan = pre;
            c.prefill = pre;
            c.decode = dec;
            c.prefill_replicas = np;
            c.decode_replicas = nd;
            c.placement = where;
            c.gpus = static_cast<int>(np * pre.WorldSize() + nd * dec.WorldSize());
            add(c);
          }
        }
      }
    }
  }
  if (candidates_.empty()) {
    return InvalidArgument("no plan to try with " + std::to_string(pool) + " GPUs (tp " + Join(tps) + ", pp " +
                           Join(pps) + ", cp " + Join(cps) + ")");
  }
  return Status::Ok();
}

std::unique_ptr<ServingSetup> PlanSearch::Build(AppContext& local, const Scenario& s, PlanRow* out,
                                                PlacementScore* score) const {
  PlanRow& row = *out;
  Result<std::unique_ptr<ServingSetup>> setup = BuildServing(local, s);
  if (!setup.ok()) {
    const Status& st = setup.status();
    row.fate = st.code() == StatusCode::kFailedPrecondition ? CandidateFate::kPrunedMemory
               : st.code() == StatusCode::kInvalidArgument  ? CandidateFate::kInvalid
                                                            : CandidateFate::kFailed;
    // The deployment's fields were all set by the search: drop "the plan search (FIELD): " before the reason.
    row.why = st.message();
    if (const size_t at = row.why.find("): "); row.why.rfind("the plan search (", 0) == 0 && at != std::string::npos) {
      row.why = row.why.substr(at + 3);
    }
    return nullptr;
  }
  const ServingSetup& d = **setup;
  const PlanCandidate& c = row.c;
  // The slowest GPU the deployment uses sets the bounds.
  double bandwidth = kInf, flops = kInf;
  // fp8 weights run fp8 GEMMs (vLLM's w8a8 path on GPUs that have them); else 16-bit.
  const DataType compute = d.model.weight_dtype == DataType::kFloat8E4M3 ? DataType::kFloat8E4M3 : DataType::kBFloat16;
  for (int r = 0; r < d.plan.WorldSize(); ++r) {
    const GpuSpec& spec = d.specs[static_cast<size_t>(d.placement.GpuOf(r))];
    bandwidth = std::min(bandwidth, spec.memory_bandwidth);
    flops = std::min(flops, PeakFlops(spec, compute));
  }
  const ParameterCounts counts = CountParameters(d.model);
  const double bytes_per_param = ModelWeightBytes(d.model) / static_cast<double>(std::max<int64_t>(1, counts.total));
  const double active_bytes = static_cast<double>(counts.active) * bytes_per_param;
  const FlopsPerToken fpt = CountFlopsPerToken(d.model);
  const ParallelPlan& decode = c.disaggregated ? c.decode : d.plan;
  const ParallelPlan& prefill = c.disaggregated ? c.prefill : d.plan;
  row.tpot_bound_ms = 1000.0 * active_bytes / (SplitOf(d.model, decode) * bandwidth);
  row.prefill_ms_per_token = 1000.0 * fpt.linear / (SplitOf(d.model, prefill) * flops);
  // The replicas (of each role, when disaggregated) and their GPUs in rank order.
  std::vector<std::pair<std::string, std::vector<std::pair<ParallelPlan, Placement>>>> roles;
  if (d.disaggregation) {
    for (const ServingRole* role : {&d.disaggregation->prefill, &d.disaggregation->decode}) {
      std::vector<std::pair<ParallelPlan, Placement>> replicas;
      for (const Placement& p : role->replicas) replicas.emplace_back(role->plan, p);
      roles.emplace_back(role->name == "prefill" ? "P" : "D", std::move(replicas));
    }
  } else {
    roles.emplace_back("", std::vector<std::pair<ParallelPlan, Placement>>{{d.plan, d.placement}});
  }
  // The layout: per replica, per stage, the set of its GPUs (a TP x CP block); replicas in any order. Two
  // placements with the same layout put the same groups on the same links.
  for (const auto& [name, replicas] : roles) {
    if (!row.placement_used.empty()) row.placement_used += " ";
    if (!name.empty()) row.placement_used += name + ":";
    std::vector<std::vector<std::set<int>>> blocks;
    for (size_t k = 0; k < replicas.size(); ++k) {
      const auto& [plan, where] = replicas[k];
      if (k > 0) row.placement_used += "|";
      for (int r = 0; r < plan.WorldSize(); ++r) {
        row.placement_used += (r ? "," : "") + std::to_string(where.GpuOf(r));
      }
      std::vector<std::vector<std::set<int>>> mine(static_cast<size_t>(plan.dp),
                                                   std::vector<std::set<int>>(static_cast<size_t>(plan.pp)));
      for (int r = 0; r < plan.WorldSize(); ++r) {
        const RankCoord at = CoordOf(plan, r);
        mine[static_cast<size_t>(at.dp)][static_cast<size_t>(at.pp)].insert(where.GpuOf(r));
      }
      blocks.insert(blocks.end(), mine.begin(), mine.end());
    }
    std::sort(blocks.begin(), blocks.end());
    row.layout += name;
    for (const auto& stages : blocks) {
      row.layout += "[";
      for (const auto& block : stages) {
        row.layout += "{";
        for (int g : block) row.layout += std::to_string(g) + " ";
        row.layout += "}";
      }
      row.layout += "]";
    }
  }
  if (!d.disaggregation) {
    // The search's own score when it placed the ranks, else the placement scored here.
    PlacementScore scored =
        d.placement_score ? *d.placement_score
                          : ScorePlacement(*d.topo, d.model, d.plan, d.placement, kPlacementScoreTokens, d.ep_exchange);
    row.placement_cost_ms = std::isfinite(scored.cost_seconds) ? 1000.0 * scored.cost_seconds : -1.0;
    if (score != nullptr) *score = std::move(scored);
  }
  row.fate = CandidateFate::kSimulated;  // eligible; Run decides
  return std::move(*setup);
}

PlanRow PlanSearch::Screen(const PlanCandidate& c) const {
  PlanRow row;
  row.c = c;
  std::ostringstream out, err;
  AppContext local{out, err, ctx_.reader, false};
  Build(local, ScenarioOf(c), &row);
  return row;
}

PlanRow PlanSearch::Simulate(const PlanCandidate& c) const {
  PlanRow row;
  row.c = c;
  std::ostringstream out, err;
  AppContext local{out, err, ctx_.reader, false};
  const Scenario s = ScenarioOf(c);
  PlacementScore placement;
  const std::unique_ptr<ServingSetup> setup = Build(local, s, &row, &placement);
  if (setup == nullptr) return row;
  const ServingSlo slo{s.slo_ttft_ms, s.slo_tpot_ms, s.slo_e2el_ms};
  const int64_t allowed = AllowedMisses(requests_, options_.attainment);
  if (!options_.full_runs && slo.any() && allowed >= 0) {
    setup->early_stop.slo = slo;
    setup->early_stop.after_misses = allowed;
  }
  Result<ServingOutcome> o = RunServing(local, *setup, /*progress=*/false);
  if (!o.ok()) {
    row.fate = CandidateFate::kFailed;
    row.why = o.status().message();
    return row;
  }
  const ServingSetup& d = *setup;
  row.placement_notes = std::move(placement.lines);
  if (o->run.stopped) {
    // It cannot meet the SLO: the rest of its run is not simulated, and its figures would describe only the requests
    // that finished before the stop.
    row.stopped = true;
    row.stopped_at_s = o->run.end.ToSeconds();
    row.missed = o->run.missed;
    row.met = o->run.met;
    row.attainment = static_cast<double>(requests_ - row.missed) / static_cast<double>(requests_);
    row.meets_slo = false;
    row.failed = row.missed;
    return row;
  }
  const RunReport report = MakeReport(s, d, *o);
  const auto& j = report.summary;
  auto get = [&](const char* key) { return j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0; };
  row.ttft_p50_ms = get("median_ttft_ms");
  row.ttft_p99_ms = get("p99_ttft_ms");
  row.tpot_p50_ms = get("median_tpot_ms");
  row.tpot_p99_ms = get("p99_tpot_ms");
  row.e2el_p99_ms = get("p99_e2el_ms");
  row.output_throughput = get("output_throughput");
  row.request_throughput = get("request_throughput");
  row.goodput = get("request_goodput");
  row.completed = static_cast<int64_t>(get("completed"));
  const Json& frac = j["wiresim"]["gpu_time_fraction"];
  row.bubble = frac["bubble"].get<double>();
  row.exposed = frac["exposed_collectives"].get<double>();
  // Attainment: requests that met every SLO set, over the requests sent (vllm's goodput counts the same requests).
  int64_t sent = 0, good = 0;
  for (const RequestRecord& r : o->metrics->records()) {
    if (!r.was_sent()) continue;
    ++sent;
    if (r.succeeded() && MeetsSlo(r, slo)) ++good;
  }
  row.failed = sent - row.completed;
  row.attainment = sent > 0 ? static_cast<double>(good) / static_cast<double>(sent) : 0.0;
  row.meets_slo = slo.any() ? row.attainment >= options_.attainment : row.failed == 0;
  return row;
}

Result<WorkloadShape> PlanSearch::ReadWorkload() const {
  // Any candidate's set-up reads the same requests (the workload does not depend on the plan); the first that
  // builds is used.
  std::ostringstream out, err;
  AppContext local{out, err, ctx_.reader, false};
  for (const PlanCandidate& c : candidates_) {
    const Scenario s = ScenarioOf(c);
    Result<std::unique_ptr<ServingSetup>> setup = BuildServing(local, s);
    if (!setup.ok()) continue;
    Simulator sim(static_cast<uint64_t>(s.seed));
    WIRESIM_ASSIGN_OR_RETURN(std::unique_ptr<RequestSource> src, OpenRequests(local, **setup, sim));
    WorkloadShape w;
    w.open_loop = !(s.trace.empty() && (s.rate_inf || s.max_concurrency > 0)) && s.max_concurrency == 0;
    Time first = Time::Max(), last = Time::Zero();
    while (true) {
      WIRESIM_ASSIGN_OR_RETURN(std::optional<Request> r, src->Next());
      if (!r) break;
      w.input.push_back(r->input_tokens);
      w.output.push_back(r->output_tokens);
      first = std::min(first, r->arrival);
      last = std::max(last, r->arrival);
    }
    w.span_s = w.input.empty() ? 0 : (last - first).ToSeconds();
    if (w.span_s <= 0) w.open_loop = false;
    return w;
  }
  return WorkloadShape{};
}

Result<PlanSearchOutcome> PlanSearch::Run(TaskRunner& runner,
                                          const std::function<void(size_t, size_t, const std::string&)>& progress) {
  PlanSearchOutcome out;
  out.has_slo = base_.slo_ttft_ms > 0 || base_.slo_tpot_ms > 0 || base_.slo_e2el_ms > 0;
  auto run = [&](const std::vector<PlanCandidate>& cands, bool simulate,
                 const std::string& phase) -> Result<std::vector<PlanRow>> {
    size_t done = 0;
    std::vector<std::string> texts =
        runner.Run(cands.size(), [&](size_t i) { return (simulate ? Simulate(cands[i]) : Screen(cands[i])).ToJson(); });
    std::vector<PlanRow> rows;
    for (const std::string& t : texts) {
      WIRESIM_ASSIGN_OR_RETURN(PlanRow r, PlanRow::FromJson(t));
      rows.push_back(std::move(r));
      if (progress) progress(++done, cands.size(), phase);
    }
    if (simulate) out.simulations += static_cast<int64_t>(cands.size());
    return rows;
  };

  // 1. Screen every candidate: plan validity, memory, the bounds.
  WIRESIM_ASSIGN_OR_RETURN(std::vector<PlanRow> rows, run(candidates_, /*simulate=*/false, "screening"));
  out.considered = static_cast<int64_t>(rows.size());
  WIRESIM_ASSIGN_OR_RETURN(out.workload, ReadWorkload());
  const WorkloadShape& w = out.workload;
  requests_ = static_cast<int64_t>(w.input.size());
  std::vector<size_t> eligible;
  std::map<std::string, size_t> resolved;  // the same deployment reached by two placement names runs once
  // The finalists among the default placements: for the same plan, dtypes and limits, those whose communication
  // estimate is within kFinalistMargin of the lowest (the score cannot rank placements closer than that; the
  // simulation does). Placements the user lists are all simulated.
  std::map<std::string, std::pair<double, std::string>> lowest;  // plan key -> (lowest cost, its placement)
  const bool finalists = options_.space.placements.empty();
  for (const PlanRow& r : rows) {
    if (r.fate != CandidateFate::kSimulated || r.c.disaggregated || r.placement_cost_ms < 0) continue;
    auto [it, fresh] = lowest.emplace(r.c.DeploymentKey(), std::make_pair(r.placement_cost_ms, r.c.placement));
    if (!fresh && r.placement_cost_ms < it->second.first) it->second = {r.placement_cost_ms, r.c.placement};
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    PlanRow& r = rows[i];
    if (r.fate != CandidateFate::kSimulated) continue;
    const std::string key = r.c.DeploymentKey() + "|" + r.layout;
    if (auto [it, fresh] = resolved.emplace(key, i); !fresh) {
      r.fate = CandidateFate::kDuplicate;
      r.why = "placement " + r.c.placement + " makes the same groups on the same GPUs as placement " +
              rows[it->second].c.placement;
      continue;
    }
    if (finalists && !r.c.disaggregated) {
      const auto it = lowest.find(r.c.DeploymentKey());
      const bool unreachable = r.placement_cost_ms < 0;
      if (it != lowest.end() && (unreachable || r.placement_cost_ms > it->second.first * (1 + kFinalistMargin))) {
        r.fate = CandidateFate::kPrunedPlacement;
        std::ostringstream why;
        why.setf(std::ios::fixed);
        why.precision(1);
        why << "placement " << r.c.placement << "'s estimated communication";
        if (unreachable) {
          why << " is unbounded (a group cannot reach its members)";
        } else {
          why << ", " << r.placement_cost_ms << " ms per 8192-token step, is more than " << 100 * kFinalistMargin
              << "% above placement " << it->second.second << "'s (" << it->second.first << " ms)";
        }
        why << ": not a finalist";
        r.why = why.str();
        continue;
      }
    }
    if (out.has_slo) {
      const double missed = SurelyMissed(r, w, base_);
      if (missed > 1.0 - options_.attainment) {
        r.fate = CandidateFate::kPrunedBound;
        std::ostringstream why;
        why.precision(3);
        why << "the bounds alone (TPOT >= " << r.tpot_bound_ms << " ms, prefill >= " << r.prefill_ms_per_token * 1000
            << " us per token) miss the SLO for " << 100.0 * missed << "% of the requests";
        r.why = why.str();
        continue;
      }
    }
    eligible.push_back(i);
  }

  // 2. Simulate, in waves, best ceiling first; after each wave drop the candidates whose ceiling cannot beat the
  // best deployment that meets the SLO.
  const double out_tokens = [&] {
    double t = 0;
    for (int64_t o : w.output) t += static_cast<double>(o);
    return t;
  }();
  auto ceiling = [&](const PlanRow& r) {  // objective's best possible value, bigger is better
    switch (options_.objective) {
      case PlanObjective::kThroughputPerGpu: {
        const double offered = w.open_loop ? out_tokens / w.span_s : kInf;
        const int replicas = r.c.disaggregated ? static_cast<int>(r.c.decode_replicas) : r.c.plan.dp;
        const double compute =
            r.tpot_bound_ms > 0 ? 1000.0 * replicas * static_cast<double>(r.c.max_num_seqs) / r.tpot_bound_ms : kInf;
        return std::min(offered, compute) / r.c.gpus;
      }
      case PlanObjective::kLatency: {
        std::vector<double> e;
        for (size_t i = 0; i < w.input.size(); ++i) {
          e.push_back(std::max(r.tpot_bound_ms, r.prefill_ms_per_token * static_cast<double>(w.input[i])) +
                      static_cast<double>(w.output[i] - 1) * r.tpot_bound_ms);
        }
        if (e.empty()) return 0.0;
        std::sort(e.begin(), e.end());
        return -e[static_cast<size_t>(0.99 * static_cast<double>(e.size() - 1))];
      }
      default:
        return kInf;
    }
  };
  auto achieved = [&](const PlanRow& r) {
    return options_.objective == PlanObjective::kThroughputPerGpu ? r.PerGpu() : -r.e2el_p99_ms;
  };
  std::stable_sort(eligible.begin(), eligible.end(),
                   [&](size_t a, size_t b) { return ceiling(rows[a]) > ceiling(rows[b]); });
  double best = -kInf;
  size_t next = 0;
  const size_t total = eligible.size();
  while (next < eligible.size()) {
    std::vector<size_t> wave;
    while (next < eligible.size() && wave.size() < kWave) {
      const size_t i = eligible[next++];
      if (ceiling(rows[i]) < best) {
        rows[i].fate = CandidateFate::kPrunedObjective;
        rows[i].why =
            "its ceiling on " + ToString(options_.objective) + " is below a simulated plan that meets the SLO";
        continue;
      }
      wave.push_back(i);
    }
    std::vector<PlanCandidate> cands;
    for (size_t i : wave) cands.push_back(rows[i].c);
    WIRESIM_ASSIGN_OR_RETURN(
        std::vector<PlanRow> done,
        run(cands, /*simulate=*/true, "simulating (" + std::to_string(next) + " of " + std::to_string(total) + ")"));
    for (size_t k = 0; k < wave.size(); ++k) {
      rows[wave[k]] = std::move(done[k]);
      const PlanRow& r = rows[wave[k]];
      if (r.fate == CandidateFate::kSimulated && r.meets_slo) best = std::max(best, achieved(r));
    }
  }

  // 3. The fewest GPUs that meet the SLO at this traffic: for the best base plans (every one, for min-gpus), the
  // least replicas that still meet it, by bisection on dp (assuming more replicas never hurt); a disaggregated plan
  // bisects its decode replicas, then its prefill replicas.
  RankOrder order{options_.objective, out.has_slo};
  if (w.open_loop) order.offered_rate = static_cast<double>(w.input.size()) / w.span_s;
  order.SetBests(rows);
  std::vector<size_t> ranked;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].fate == CandidateFate::kSimulated) ranked.push_back(i);
  }
  std::stable_sort(ranked.begin(), ranked.end(), [&](size_t a, size_t b) { return order(rows[a], rows[b]); });
  if (out.has_slo) {
    std::vector<size_t> bases;
    std::set<std::string> keys;
    const size_t want =
        options_.objective == PlanObjective::kMinGpus ? rows.size() : static_cast<size_t>(options_.fewest_gpus_for);
    for (size_t i : ranked) {
      const PlanRow& r = rows[i];
      if (!r.meets_slo || bases.size() >= want) continue;
      if (keys.insert(r.c.BaseKey()).second) bases.push_back(i);
    }
    std::vector<std::string> texts = runner.Run(bases.size(), [&](size_t k) {
      PlanRow found = rows[bases[k]];
      int simulations = 0;
      // The fewest of one replica count (`count` of found's candidate, set by `with`) that still meets the SLO.
      auto bisect = [&](const std::function<int64_t(const PlanCandidate&)>& count,
                        const std::function<PlanCandidate(PlanCandidate, int64_t)>& with) {
        int64_t lo = 1, hi = count(found.c);
        while (lo < hi) {
          const int64_t mid = (lo + hi) / 2;
          PlanRow r = Simulate(with(found.c, mid));
          ++simulations;
          if (r.fate == CandidateFate::kSimulated && r.meets_slo) {
            hi = mid;
            found = std::move(r);
          } else {
            lo = mid + 1;
          }
        }
      };
      if (!found.c.disaggregated) {
        bisect([](const PlanCandidate& c) { return c.plan.dp; },
               [](PlanCandidate c, int64_t n) {
                 c.plan = WithDp(c.plan, static_cast<int>(n));
                 c.gpus = c.plan.WorldSize();
                 return c;
               });
      } else {
        auto gpus = [](PlanCandidate& c) {
          c.gpus =
              static_cast<int>(c.prefill_replicas * c.prefill.WorldSize() + c.decode_replicas * c.decode.WorldSize());
        };
        bisect([](const PlanCandidate& c) { return c.decode_replicas; },
               [&](PlanCandidate c, int64_t n) {
                 c.decode_replicas = n;
                 gpus(c);
                 return c;
               });
        bisect([](const PlanCandidate& c) { return c.prefill_replicas; },
               [&](PlanCandidate c, int64_t n) {
                 c.prefill_replicas = n;
                 gpus(c);
                 return c;
               });
      }
      // The bisections' simulation count, then the answer.
      return std::to_string(simulations) + "\n" + found.ToJson();
    });
    for (const std::string& t : texts) {
      const size_t newline = t.find('\n');
      out.simulations += std::stoll(t.substr(0, newline));
      WIRESIM_ASSIGN_OR_RETURN(PlanRow r, PlanRow::FromJson(t.substr(newline + 1)));
      out.fewest.push_back(std::move(r));
    }
    RankOrder fewest_order = order;
    fewest_order.objective = PlanObjective::kMinGpus;
    std::stable_sort(out.fewest.begin(), out.fewest.end(), fewest_order);
    // Two placements of a plan that shrink to the same replica counts are one answer (the better placed).
    std::set<std::string> answered;
    std::erase_if(out.fewest, [&](const PlanRow& r) { return !answered.insert(r.c.DeploymentKey()).second; });
  }

  // The ranking: simulated rows in objective order, then the rest in the order they were enumerated.
  for (PlanRow& r : rows) r.ranked_goodput = order.Goodput(r);
  for (PlanRow& r : out.fewest) r.ranked_goodput = order.Goodput(r);
  if (options_.objective == PlanObjective::kMinGpus) {
    // The ranking is the fewest-GPU answers (each base plan at its fewest replicas), then every other simulated
    // row in objective order.
    std::set<std::string> answered;
    for (const PlanRow& r : out.fewest) {
      out.rows.push_back(r);
      answered.insert(r.c.BaseKey());
    }
    for (size_t i : ranked) {
      if (!answered.count(rows[i].c.BaseKey())) out.rows.push_back(rows[i]);
    }
  } else {
    for (size_t i : ranked) out.rows.push_back(rows[i]);
  }
  for (const PlanRow& r : rows) {
    switch (r.fate) {
      case CandidateFate::kSimulated:
        ++out.simulated;
        if (r.stopped) ++out.stopped;
        continue;
      case CandidateFate::kInvalid:
        ++out.invalid;
        break;
      case CandidateFate::kPrunedMemory:
        ++out.pruned_memory;
        break;
      case CandidateFate::kPrunedBound:
        ++out.pruned_bound;
        break;
      case CandidateFate::kPrunedObjective:
        ++out.pruned_objective;
        break;
      case CandidateFate::kFailed:
        ++out.failed;
        break;
      case CandidateFate::kDuplicate:
        ++out.duplicate;
        break;
      case CandidateFate::kPrunedPlacement:
        ++out.pruned_placement;
        break;
    }
    out.rows.push_back(r);
  }
  out.pareto = ParetoFront(out.rows);
  return out;
}

}  // namespace wiresim::app
