// `wiresim plan`: the best ways to serve a model on a cluster for a traffic and an SLO. Takes the scenario flags of
// `wiresim run` (topology, model, workload, engine, network) and lists of what to search over, runs the plan search
// (plan_search.h) on every core, and across MPI ranks under mpirun, and prints the ranked table, why the best
// ranks first, the fewest GPUs that meet the SLO, and the Pareto front; --out writes plans.csv, plans.json and
// pareto.svg. docs/plan.md describes the search and defines every column.
#include <chrono>
#include <cmath>
#include <sstream>

#include <boost/program_options.hpp>

#include "sim/app/cli.h"
#include "sim/app/gpu_selection.h"
#include "sim/app/number_format.h"
#include "sim/app/options.h"
#include "sim/app/plan_report.h"
#include "sim/app/plan_runner.h"
#include "sim/app/plan_search.h"
#include "sim/app/scenario_flags.h"
#include "sim/app/serving_setup.h"
#include "sim/app/topology_input.h"
#include "sim/app/verbs.h"
#include "sim/core/output_file.h"
#include "sim/core/text.h"

namespace wiresim::app {
namespace po = boost::program_options;

namespace {

// The scenario flags `plan` searches over instead of taking one value.
const std::set<std::string> kSearched = {
    "plan",         "placement",   "weight-dtype",     "kv-dtype",        "max-num-seqs", "max-num-batched-tokens",
    "prefill-plan", "decode-plan", "prefill-replicas", "decode-replicas", "gpus"};

struct Flags {
  std::string scenario, slo, out, objective = "goodput", gpus;
  std::string tp, pp, cp, ep, sp, placement, weight_dtype, kv_dtype, max_num_seqs, max_num_batched_tokens;
  double attainment = 0.9;
  int jobs = 0, top = 10;
  bool json = false, quiet = false, disaggregated = false, full_runs = false;
};

Result<std::vector<int>> IntList(const std::string& text, const std::string& flag) {
  std::vector<int> out;
  for (std::string_view item : Split(text, ',')) {
    double v = 0;
    if (!ParseFiniteNumber(item, &v) || v < 1 || v > 1 << 20 || v != std::floor(v)) {
      return InvalidArgument("--" + flag + " " + text + ": expected positive whole numbers separated by commas");
    }
    out.push_back(static_cast<int>(v));
  }
  return out;
}

Result<std::vector<int64_t>> Int64List(const std::string& text, const std::string& flag) {
  WIRESIM_ASSIGN_OR_RETURN(std::vector<int> v, IntList(text, flag));
  return std::vector<int64_t>(v.begin(), v.end());
}

Result<std::vector<int>> OnOffList(const std::string& text, const std::string& flag) {
  std::vector<int> out;
  for (std::string_view item : Split(text, ',')) {
    if (item == "on") {
      out.push_back(1);
    } else if (item == "off") {
      out.push_back(0);
    } else {
      return InvalidArgument("--" + flag + " " + text + ": expected on, off or on,off");
    }
  }
  return out;
}

std::vector<std::string> TextList(const std::string& text) {
  std::vector<std::string> out;
  for (std::string_view item : Split(text, ',')) out.emplace_back(item);
  return out;
}

// --gpus: a count (the first N GPUs of the topology), or a selection as `wiresim run` takes it.
Result<std::vector<int>> GpuPool(AppContext& ctx, const Scenario& s, const std::string& text, int* topo_gpus) {
  WIRESIM_ASSIGN_OR_RETURN(SourceFile file, ReadInput(ctx, s.topology, InputKind::kTopology));
  WIRESIM_ASSIGN_OR_RETURN(Topology topo, LoadTopologyForVerb(file, ctx.reader));
  *topo_gpus = topo.gpu_count();
  std::vector<int> pool;
  double n = 0;
  if (text.empty() || (ParseFiniteNumber(text, &n) && text.find_first_not_of("0123456789") == std::string::npos)) {
    const int count = text.empty() ? topo.gpu_count() : static_cast<int>(n);
    if (count < 1 || count > topo.gpu_count()) {
      return InvalidArgument("--gpus " + text + ": expected a count from 1 to " + std::to_string(topo.gpu_count()) +
                             " (the GPUs of " + topo.name() + "), or a selection such as 0-7 or node0:0-7");
    }
    for (int i = 0; i < count; ++i) pool.push_back(i);
    return pool;
  }
  return ParseGpuSelection(text, topo);
}

Status FillSpace(const Flags& f, PlanSpace* space) {
  if (!f.tp.empty()) {
    WIRESIM_ASSIGN_OR_RETURN(space->tp, IntList(f.tp, "tp"));
  }
  if (!f.pp.empty()) {
    WIRESIM_ASSIGN_OR_RETURN(space->pp, IntList(f.pp, "pp"));
  }
  if (!f.cp.empty()) {
    WIRESIM_ASSIGN_OR_RETURN(space->cp, IntList(f.cp, "cp"));
  }
  if (!f.ep.empty()) {
    WIRESIM_ASSIGN_OR_RETURN(space->ep, OnOffList(f.ep, "ep"));
  }
  if (!f.sp.empty()) {
    WIRESIM_ASSIGN_OR_RETURN(space->sp, OnOffList(f.sp, "sp"));
  }
  if (!f.max_num_seqs.empty()) {
    WIRESIM_ASSIGN_OR_RETURN(space->max_num_seqs, Int64List(f.max_num_seqs, "max-num-seqs"));
  }
  if (!f.max_num_batched_tokens.empty()) {
    WIRESIM_ASSIGN_OR_RETURN(space->max_num_batched_tokens,
                             Int64List(f.max_num_batched_tokens, "max-num-batched-tokens"));
  }
  if (!f.weight_dtype.empty()) space->weight_dtypes = TextList(f.weight_dtype);
  if (!f.kv_dtype.empty()) space->kv_dtypes = TextList(f.kv_dtype);
  if (!f.placement.empty()) {
    space->placements = TextList(f.placement);
    for (const std::string& p : space->placements) {
      if (p != "auto" && p != "spread" && p != "packed" && p != "strided") {
        return InvalidArgument("--placement " + f.placement +
                               ": expected auto, spread, packed or strided (a list of them)");
      }
    }
  }
  space->disaggregated = f.disaggregated;
  return Status::Ok();
}

}  // namespace

int Plan(const Args& args, AppContext& ctx) {
  Flags f;
  po::options_description options("options");
  options.add_options()("scenario", po::value(&f.scenario), "scenario TOML for everything not searched");
  AddScenarioOptions(options, kSearched);
  options.add_options()("gpus", po::value(&f.gpus),
                        "GPUs the search may use: a count (the first N) or a selection (0-15, node0:0-7)")(
      "tp", po::value(&f.tp), "tensor-parallel degrees to try (default: powers of two up to the GPUs)")(
      "pp", po::value(&f.pp), "pipeline-parallel degrees to try (default: powers of two)")(
      "cp", po::value(&f.cp), "context-parallel degrees to try (default: 1)")(
      "ep", po::value(&f.ep), "MoE: expert parallelism off, on, or off,on (default for MoE models: both)")(
      "sp", po::value(&f.sp), "sequence parallelism: off, on, or off,on (default: off)")(
      "placement", po::value(&f.placement),
      "placements to try: auto, spread, packed, strided (default: auto, packed and strided, simulating those "
      "whose communication estimate is within 10% of the lowest)")(
      "weight-dtype", po::value(&f.weight_dtype), "weight dtypes to try, e.g. bf16,fp8 (default: the model's)")(
      "kv-dtype", po::value(&f.kv_dtype), "KV-cache dtypes to try, e.g. auto,fp8 (default: auto)")(
      "max-num-seqs", po::value(&f.max_num_seqs), "scheduler sequence limits to try, e.g. 64,256 (default: 256)")(
      "max-num-batched-tokens", po::value(&f.max_num_batched_tokens), "scheduler token budgets to try (default: 8192)")(
      "disaggregated", "also try prefill and decode on separate replicas, with splits of the GPUs")(
      "full-runs", "simulate every plan to the end, also those that can no longer meet the SLO")(
      "slo", po::value(&f.slo), "ttft=MS,tpot=MS,e2el=MS: what a request must meet")(
      "attainment", po::value(&f.attainment)->default_value(0.9, "0.9"), "fraction of requests that must meet the SLO")(
      "objective", po::value(&f.objective), "goodput, throughput-per-gpu, min-gpus or latency (default: goodput)")(
      "jobs,j", po::value(&f.jobs), "threads (default: every core)")("top", po::value(&f.top)->default_value(10),
                                                                     "rows of the table to print")(
      "out", po::value(&f.out), "write DIR/plans.csv, DIR/plans.json and DIR/pareto.svg")(
      "json", "print plans.json instead of the text report")("quiet", "no progress line");
  po::positional_options_description positional;
  positional.add("scenario", 1);
  po::variables_map vm;
  if (auto code = ParseOptions(args, ctx, "plan", "[SCENARIO.toml] --topology T --model M [--rate R ...] [--slo ...]",
                               "wiresim plan --topology a100-2x4-nvlink-islands --model llama-3.1-70b --rate 2 "
                               "--requests 300 --slo ttft=2000,tpot=100",
                               options, positional, vm)) {
    return *code;
  }
  f.json = vm.count("json") > 0;
  f.quiet = vm.count("quiet") > 0;
  f.disaggregated = vm.count("disaggregated") > 0;
  f.full_runs = vm.count("full-runs") > 0;
  Result<Scenario> loaded = ScenarioFromCommandLine(ctx, vm, f.scenario, f.slo, kSearched);
  if (!loaded.ok()) return ReportError(ctx, "plan", loaded.status());
  const Scenario& s = *loaded;
  PlanSearchOptions opt;
  if (Status st = FillSpace(f, &opt.space); !st.ok()) return ReportError(ctx, "plan", st);
  {
    Result<PlanObjective> o = ParseObjective(f.objective);
    if (!o.ok()) return ReportError(ctx, "plan", o.status());
    opt.objective = *o;
  }
  const bool has_slo = s.slo_ttft_ms > 0 || s.slo_tpot_ms > 0 || s.slo_e2el_ms > 0;
  if (opt.objective == PlanObjective::kMinGpus && !has_slo) {
    return ReportError(ctx, "plan", InvalidArgument("--objective min-gpus: give the SLO to meet (--slo ttft=MS,...)"));
  }
  if (!(f.attainment > 0 && f.attainment <= 1)) {
    return ReportError(ctx, "plan",
                       InvalidArgument("--attainment " + Short(f.attainment) +
                                       ": expected a fraction of requests, above 0 and at most 1"));
  }
  opt.attainment = f.attainment;
  opt.full_runs = f.full_runs;
  if (f.top < 1) return ReportError(ctx, "plan", InvalidArgument("--top: expected a positive number of rows"));
  if (vm.count("jobs") && f.jobs < 1) {
    return ReportError(ctx, "plan", InvalidArgument("--jobs: expected a positive number of threads"));
  }
  // A directory of outputs that could not be written is refused before the search, not after it.
  if (!f.out.empty()) {
    if (Status st = CheckOutputPath(f.out, /*directory=*/true); !st.ok()) {
      return ReportError(ctx, "plan", InvalidArgument("--out " + st.message()));
    }
  }
  int topo_gpus = 0;
  {
    Result<std::vector<int>> pool = GpuPool(ctx, s, f.gpus, &topo_gpus);
    if (!pool.ok()) return ReportError(ctx, "plan", pool.status());
    opt.gpu_pool = std::move(*pool);
  }
  Result<std::unique_ptr<PlanRunner>> runner = MakePlanRunner(f.jobs);
  if (!runner.ok()) return ReportError(ctx, "plan", runner.status());
  PlanRunner& r = **runner;
  PlanSearch search(ctx, s, opt);
  if (Status st = search.Enumerate(); !st.ok()) return ReportError(ctx, "plan", st);
  const bool lead = r.rank() == 0;
  const bool progress = lead && ctx.interactive && !f.quiet && !f.json;
  const auto started = std::chrono::steady_clock::now();
  if (progress || (lead && r.size() > 1)) {
    ctx.err << "wiresim plan: " << search.candidates().size() << " candidates on " << r.Describe() << "\n";
  }
  Result<PlanSearchOutcome> o = search.Run(r, [&](size_t done, size_t total, const std::string& phase) {
    if (!progress) return;
    const double s_elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ctx.err << "\r  " << phase << ": " << done << " of " << total << " (" << Fixed(s_elapsed, 1) << " s)   "
            << std::flush;
  });
  if (progress) ctx.err << "\n";
  if (!o.ok()) return lead ? ReportError(ctx, "plan", o.status()) : kExitBadInput;
  if (!lead) return kExitOk;
  if (!f.out.empty()) {
    if (Status st = WriteOutputs(f.out, *o, s, opt); !st.ok()) return ReportError(ctx, "plan", st);
  }
  if (f.json) {
    ctx.out << PlansJson(*o, s, opt);
  } else {
    PrintReport(ctx.out, *o, s, opt, topo_gpus, static_cast<size_t>(f.top));
    if (!f.out.empty()) {
      ctx.out << "\nwrote " << f.out << "/plans.csv, " << f.out << "/plans.json and " << f.out << "/pareto.svg\n";
    }
  }
  return kExitOk;
}

}  // namespace wiresim::app
