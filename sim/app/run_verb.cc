// `wiresim run`: a serving deployment simulated end to end. Reads a scenario (a file, the shipped default, or
// flags alone), resolves it against the topology and the model, builds the replicas and their scheduler, runs the
// requests through them, and reports as `vllm bench serve` does, then where the GPUs' time went. Writes
// summary.json and requests.csv with --out, a Perfetto timeline with --timeline and an HTML page with --report.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "sim/app/calibration_input.h"
#include "sim/app/cli.h"
#include "sim/app/gpu_selection.h"
#include "sim/app/html_report.h"
#include "sim/app/number_format.h"
#include "sim/app/options.h"
#include "sim/app/run_report.h"
#include "sim/app/scenario.h"
#include "sim/app/serving_setup.h"
#include "sim/app/verbs.h"
#include "sim/app/what_if_run.h"
#include "sim/core/text.h"
#include "sim/metrics/timeline.h"

namespace wiresim::app {
namespace po = boost::program_options;

namespace {

struct Flags {
  std::string scenario, out, compare, slo;
  bool json = false, quiet = false;
  std::string timeline, timeline_window, report;
  int64_t timeline_max_events = 1000000;
  bool timeline_max_given = false;
};

// --timeline-window START:END (seconds of simulated time) and --timeline-max-events into the timeline's options.
Status TimelineOptionsOf(const Flags& f, TimelineOptions* options) {
  if (f.timeline.empty() && (!f.timeline_window.empty() || f.timeline_max_given)) {
    return InvalidArgument("--timeline-window and --timeline-max-events shape a timeline: give --timeline FILE too");
  }
  if (f.timeline_max_events < 1) {
    return InvalidArgument("--timeline-max-events " + std::to_string(f.timeline_max_events) +
                           ": expected a positive number of slices");
  }
  options->max_slices = f.timeline_max_events;
  if (f.timeline_window.empty()) return Status::Ok();
  const std::vector<std::string_view> ends = Split(f.timeline_window, ':');
  double begin = 0, end = 0;
  if (ends.size() != 2 || !ParseFiniteNumber(ends[0], &begin) || !ParseFiniteNumber(ends[1], &end) || begin < 0 ||
      !(end > begin) || end > 9e6) {
    return InvalidArgument("--timeline-window " + f.timeline_window +
                           ": expected START:END in seconds of simulated time, 0 <= START < END (e.g. 10:12.5)");
  }
  options->window_begin = Time::FromSecondsCeil(begin);
  options->window_end = Time::FromSecondsCeil(end);
  return Status::Ok();
}

// A GPU's name in the timeline and the report: "replica 0 / node0/gpu3".
std::vector<std::pair<int, int>> ReplicaOfGpus(const ServingSetup& d) {
  const bool coupled = d.plan.ep > 1 && d.plan.dp > 1;
  std::vector<std::pair<int, int>> out;  // (gpu, replica), by rank
  for (int r = 0; r < d.plan.WorldSize(); ++r) {
    out.emplace_back(d.placement.GpuOf(r), coupled ? 0 : CoordOf(d.plan, r).dp);
  }
  return out;
}

std::string GpuLabel(const ServingSetup& d, int gpu, int replica) {
  return "replica " + std::to_string(replica) + " / " + d.topo->node(d.topo->gpu(gpu)).spec.name;
}

// Every flag that overrides a scenario field: its name, the field, and how to apply it.
Status ApplyFlags(const po::variables_map& vm, Scenario& s) {
  auto str = [&](const char* flag, const char* field, std::string* target) {
    if (!vm.count(flag)) return;
    *target = vm[flag].as<std::string>();
    s.where[field] = std::string("--") + flag;
  };
  auto num = [&](const char* flag, const char* field, double* target) {
    if (!vm.count(flag)) return;
    *target = vm[flag].as<double>();
    s.where[field] = std::string("--") + flag;
  };
  auto whole = [&](const char* flag, const char* field, int64_t* target) {
    if (!vm.count(flag)) return;
    *target = vm[flag].as<int64_t>();
    s.where[field] = std::string("--") + flag;
  };
  str("topology", "deployment.topology", &s.topology);
  str("model", "deployment.model", &s.model);
  str("plan", "deployment.plan", &s.plan);
  str("placement", "deployment.placement", &s.placement);
  str("gpus", "deployment.gpus", &s.gpus);
  str("weight-dtype", "deployment.weight_dtype", &s.weight_dtype);
  str("kv-dtype", "deployment.kv_cache_dtype", &s.kv_cache_dtype);
  str("engine", "deployment.engine", &s.engine);
  str("network", "deployment.network", &s.network);
  str("calibration", "deployment.calibration", &s.calibration);
  str("iterations", "deployment.iterations", &s.iterations);
  str("nccl-version", "deployment.nccl_version", &s.nccl_version);
  num("expert-imbalance", "deployment.expert_imbalance", &s.expert_imbalance);
  str("expert-routing", "deployment.expert_routing", &s.expert_routing);
  num("routing-skew", "deployment.routing_skew", &s.routing_skew);
  str("ep-overlap", "deployment.ep_overlap", &s.ep_overlap);
  whole("max-num-seqs", "scheduler.max_num_seqs", &s.max_num_seqs);
  whole("max-num-batched-tokens", "scheduler.max_num_batched_tokens", &s.max_num_batched_tokens);
  whole("block-size", "scheduler.block_size", &s.block_size);
  whole("max-model-len", "scheduler.max_model_len", &s.max_model_len);
  num("gpu-memory-utilization", "scheduler.gpu_memory_utilization", &s.gpu_memory_utilization);
  if (vm.count("gpu-memory-utilization") && !(s.gpu_memory_utilization > 0 && s.gpu_memory_utilization <= 1)) {
    std::ostringstream given;
    given << s.gpu_memory_utilization;
    return InvalidArgument("--gpu-memory-utilization " + given.str() +
                           ": expected a fraction of the GPU's memory, greater than 0 and at most 1");
  }
  str("router", "scheduler.router", &s.router);
  if (vm.count("host-overhead-ms")) {
    s.host_overhead_ms = vm["host-overhead-ms"].as<double>();
    s.where["scheduler.host_overhead_ms"] = "--host-overhead-ms";
  }
  if (vm.count("prefix-caching")) {
    s.enable_prefix_caching = true;
    s.where["scheduler.enable_prefix_caching"] = "--prefix-caching";
  }
  if (vm.count("no-chunked-prefill")) {
    s.enable_chunked_prefill = false;
    s.where["scheduler.enable_chunked_prefill"] = "--no-chunked-prefill";
  }
  str("prefill-plan", "disaggregation.prefill.plan", &s.prefill_plan);
  str("decode-plan", "disaggregation.decode.plan", &s.decode_plan);
  whole("prefill-replicas", "disaggregation.prefill.replicas", &s.prefill_replicas);
  whole("decode-replicas", "disaggregation.decode.replicas", &s.decode_replicas);
  str("kv-transfer", "disaggregation.kv_transfer", &s.kv_transfer);
  for (const char* flag : {"prefill-plan", "decode-plan", "prefill-replicas", "decode-replicas", "kv-transfer"}) {
    if (vm.count(flag)) s.disaggregated = true;
  }
  whole("requests", "workload.requests", &s.requests);
  num("duration", "workload.duration_s", &s.duration_s);
  if (vm.count("rate")) {
    const std::string r = vm["rate"].as<std::string>();
    s.where["workload.rate"] = "--rate";
    if (r == "inf") {
      s.rate_inf = true;
    } else {
      double v = 0;
      if (!ParseFiniteNumber(r, &v) || !(v > 0)) {
        return InvalidArgument("--rate " + r + ": expected requests per second (a positive number) or inf");
      }
      s.rate = v;
      s.rate_inf = false;
    }
  }
  num("burstiness", "workload.burstiness", &s.burstiness);
  whole("max-concurrency", "workload.max_concurrency", &s.max_concurrency);
  str("input-len", "workload.input_len", &s.input_len);
  str("output-len", "workload.output_len", &s.output_len);
  if (vm.count("trace")) {
    s.trace = vm["trace"].as<std::string>();
    s.where["workload.trace"] = "--trace";
  }
  num("time-scale", "workload.time_scale", &s.time_scale);
  whole("seed", "workload.seed", &s.seed);
  // What-ifs: the flags add to the scenario's [what_if] table.
  auto each = [&](const char* flag, Status (*add)(const std::string&, const std::string&, WhatIfs*)) -> Status {
    if (!vm.count(flag)) return Status::Ok();
    for (const std::string& v : vm[flag].as<std::vector<std::string>>()) {
      WIRESIM_RETURN_IF_ERROR(add(v, std::string("--") + flag, &s.what_if));
    }
    return Status::Ok();
  };
  WIRESIM_RETURN_IF_ERROR(each("degrade", AddDegrade));
  WIRESIM_RETURN_IF_ERROR(each("fail", AddFailure));
  WIRESIM_RETURN_IF_ERROR(each("straggler", AddStraggler));
  return Status::Ok();
}

// "ttft=200,tpot=50,e2el=10000" (milliseconds).
Status ApplySlo(const std::string& text, Scenario& s) {
  for (std::string_view view : Split(text, ',')) {
    const std::string item(view);
    const size_t eq = item.find('=');
    const std::string key = item.substr(0, eq);
    double v = 0;
    const std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (eq == std::string::npos || !ParseFiniteNumber(value, &v) || !(v > 0)) {
      return InvalidArgument("--slo " + text + ": expected ttft=MS,tpot=MS,e2el=MS (positive milliseconds)");
    }
    if (key == "ttft") {
      s.slo_ttft_ms = v;
      s.where["slo.ttft_ms"] = "--slo";
    } else if (key == "tpot") {
      s.slo_tpot_ms = v;
      s.where["slo.tpot_ms"] = "--slo";
    } else if (key == "e2el") {
      s.slo_e2el_ms = v;
      s.where["slo.e2el_ms"] = "--slo";
    } else {
      return InvalidArgument("--slo " + text + ": unknown SLO '" + key + "' (expected ttft, tpot or e2el)");
    }
  }
  return Status::Ok();
}

Status WriteOutputs(const std::string& dir, const std::string& summary_json, const std::string& requests_csv) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return InvalidArgument("--out " + dir + ": cannot create the directory: " + ec.message());
  WIRESIM_RETURN_IF_ERROR(WriteFileAtomically((std::filesystem::path(dir) / "summary.json").string(), summary_json));
  WIRESIM_RETURN_IF_ERROR(WriteFileAtomically((std::filesystem::path(dir) / "requests.csv").string(), requests_csv));
  return Status::Ok();
}

int RunScenario(AppContext& ctx, Scenario& s, const Flags& f) {
  TimelineOptions timeline_options;
  if (Status st = TimelineOptionsOf(f, &timeline_options); !st.ok()) return ReportError(ctx, "run", st);
  Result<std::unique_ptr<ServingSetup>> setup = BuildServing(ctx, s);
  if (!setup.ok()) return ReportError(ctx, "run", setup.status());
  ServingSetup& d = **setup;
  const bool progress = ctx.interactive && !f.quiet && !f.json;
  std::unique_ptr<Timeline> timeline;
  RunWatchers watch;
  if (!f.timeline.empty()) {
    timeline = std::make_unique<Timeline>(timeline_options);
    for (const auto& [gpu, replica] : ReplicaOfGpus(d)) timeline->AddGpu(gpu, replica, GpuLabel(d, gpu, replica));
    watch.timeline = timeline.get();
  }
  watch.series = !f.timeline.empty() || !f.report.empty();
  Result<ServingOutcome> outcome = RunServing(ctx, d, progress, watch);
  if (!outcome.ok()) return ReportError(ctx, "run", outcome.status());
  RunReport report = MakeReport(s, d, *outcome);
  if (!s.what_if.empty()) {  // the same scenario healthy, to compare with
    Result<RunReport> healthy = RunHealthy(ctx, s, progress);
    if (!healthy.ok()) return ReportError(ctx, "run", healthy.status());
    AddWhatIfComparison(d.scenario, d, *healthy, &report);
  }
  std::map<std::string, double> measured;
  if (!f.compare.empty()) {
    Result<SourceFile> file = ReadInput(ctx, f.compare, InputKind::kOther);
    if (!file.ok()) return ReportError(ctx, "run", file.status());
    Result<std::map<std::string, double>> m = ReadVllmResult(file->text, file->name);
    if (!m.ok()) return ReportError(ctx, "run", m.status());
    measured = std::move(*m);
  }
  if (!f.out.empty()) {
    if (Status w = WriteOutputs(f.out, report.summary_json, report.requests_csv); !w.ok()) {
      return ReportError(ctx, "run", w);
    }
  }
  std::vector<std::string> wrote;
  if (timeline != nullptr) {
    timeline->AddServingSeries(outcome->series);
    timeline->AddRequests(outcome->metrics->records(), outcome->run.end);
    if (!outcome->link_series.empty()) timeline->AddCounterSeries("links", outcome->link_series);
    if (Status w = WriteFileAtomically(f.timeline, timeline->ToJson()); !w.ok()) {
      return ReportError(ctx, "run", InvalidArgument("--timeline " + f.timeline + ": " + w.message()));
    }
    std::string note = f.timeline + " (" + std::to_string(timeline->slices()) + " kernel and collective slices";
    if (timeline->dropped_slices() > 0) {
      note += "; " + std::to_string(timeline->dropped_slices()) +
              " more left out by --timeline-max-events: narrow it with --timeline-window";
    }
    wrote.push_back(note + ")");
  }
  if (!f.report.empty()) {
    HtmlReportData h;
    h.title = "wiresim run: " + d.model.name + " on " + d.topo->name() + ", " + d.plan.ToString();
    h.run_text = report.text;
    h.records = &outcome->metrics->records();
    for (const GpuBreakdown& g : outcome->gpus) {
      if (g.replica < 0) continue;
      h.gpus.push_back(g);
      h.gpu_labels.push_back(GpuLabel(d, g.gpu, g.replica));
    }
    h.run_end = outcome->run.end;
    h.series = &outcome->series;
    h.links = outcome->link_loads;
    if (Status w = WriteFileAtomically(f.report, RenderHtmlReport(h)); !w.ok()) {
      return ReportError(ctx, "run", InvalidArgument("--report " + f.report + ": " + w.message()));
    }
    wrote.push_back(f.report);
  }
  if (f.json) {
    ctx.out << report.summary_json;
    for (const std::string& w : wrote) ctx.err << "wrote " << w << "\n";
  } else {
    ctx.out << report.text;
    if (!measured.empty()) PrintComparison(ctx.out, report, measured, f.compare);
    if (!f.out.empty()) ctx.out << "wrote " << f.out << "/summary.json and " << f.out << "/requests.csv\n";
    for (const std::string& w : wrote) ctx.out << "wrote " << w << "\n";
  }
  return kExitOk;
}

}  // namespace

int Run(const Args& args, AppContext& ctx) {
  Flags f;
  po::options_description options("options");
  options.add_options()("scenario", po::value(&f.scenario), "scenario TOML (default: the shipped default.toml)")(
      "topology", po::value<std::string>(), "topology file or shipped name")(
      "model", po::value<std::string>(), "model spec, HF config.json, or shipped name")(
      "plan", po::value<std::string>(), "tp=8,pp=2,dp=1,ep=1,cp=1,sp=on")(
      "placement", po::value<std::string>(), "packed, strided, or GPU indices in rank order")(
      "gpus", po::value<std::string>(), "which GPUs of the topology (default: the first ones)")(
      "weight-dtype", po::value<std::string>(), "bf16, fp8, int8, int4")(
      "kv-dtype", po::value<std::string>(), "auto, bf16, fp8")("engine", po::value<std::string>(),
                                                               "vllm, sglang or trtllm")(
      "network", po::value<std::string>(), "analytical (closed forms) or flow (transfers share links)")(
      "calibration", po::value<std::string>(), "a calibration profile")(
      "iterations", po::value<std::string>(), "compiled (fast, exact where it applies) or op-by-op")(
      "nccl-version", po::value<std::string>(), "NCCL release modelled, 2.18 to 2.30 (default: the profile's, newest)")(
      "expert-imbalance", po::value<double>(), "busiest EP rank's tokens over the average (>= 1)")(
      "expert-routing", po::value<std::string>(), "uniform or skewed (Zipf over the experts)")(
      "routing-skew", po::value<double>(), "Zipf exponent of skewed routing (default 1)")(
      "ep-overlap", po::value<std::string>(), "none or two-batch (micro-batches overlap the EP all-to-all)")(
      "max-num-seqs", po::value<int64_t>(), "scheduler: sequences per step")(
      "max-num-batched-tokens", po::value<int64_t>(), "scheduler: tokens per step")(
      "block-size", po::value<int64_t>(), "KV block size in tokens")(
      "max-model-len", po::value<int64_t>(), "prompt + output limit (default: the model's context)")(
      "gpu-memory-utilization", po::value<double>(), "fraction of GPU memory vLLM may use")(
      "host-overhead-ms", po::value<double>(), "host time per step (default: the engine's)")(
      "prefix-caching", "enable prefix caching (Mooncake hash_ids)")("no-chunked-prefill", "disable chunked prefill")(
      "router", po::value<std::string>(), "round-robin, least-outstanding or least-kv")(
      "prefill-plan", po::value<std::string>(), "disaggregated: each prefill replica's plan (tp=8,pp=1)")(
      "decode-plan", po::value<std::string>(), "disaggregated: each decode replica's plan")(
      "prefill-replicas", po::value<int64_t>(), "disaggregated: prefill replicas (default 1)")(
      "decode-replicas", po::value<int64_t>(), "disaggregated: decode replicas (default 1)")(
      "kv-transfer", po::value<std::string>(), "disaggregated: after-prefill or layerwise")(
      "requests", po::value<int64_t>(), "number of requests")("duration", po::value<double>(),
                                                               "stop sending after this many seconds")(
      "rate", po::value<std::string>(), "requests per second, or inf")(
      "burstiness", po::value<double>(), "Gamma arrivals' shape (1: Poisson)")(
      "max-concurrency", po::value<int64_t>(), "closed loop: at most this many requests in flight")(
      "input-len", po::value<std::string>(), "prompt lengths: 512, uniform:128-1024, lognormal:M,S, sharegpt-input")(
      "output-len", po::value<std::string>(), "output lengths, same forms")(
      "trace", po::value<std::string>(), "replay a Mooncake JSONL or Azure CSV trace")(
      "time-scale", po::value<double>(), "multiply trace times by this")("seed", po::value<int64_t>(), "random seed")(
      "degrade", po::value<std::vector<std::string>>(), "what-if: ELEMENT=F or ELEMENT-ELEMENT=F, links at F of their "
                                                        "rate (repeatable)")(
      "fail", po::value<std::vector<std::string>>(), "what-if: ELEMENT, its links gone (repeatable)")(
      "straggler", po::value<std::vector<std::string>>(), "what-if: GPU=F, its kernels F times as long (repeatable)")(
      "slo", po::value(&f.slo), "ttft=MS,tpot=MS,e2el=MS for goodput")(
      "out", po::value(&f.out), "write DIR/summary.json and DIR/requests.csv")(
      "compare", po::value(&f.compare), "a `vllm bench serve --save-result` JSON: measured beside predicted")(
      "timeline", po::value(&f.timeline), "write a Chrome trace (Perfetto) of the run to FILE")(
      "timeline-window", po::value(&f.timeline_window),
      "START:END seconds of simulated time: the timeline keeps what overlaps it")(
      "timeline-max-events", po::value(&f.timeline_max_events),
      "at most this many kernel and collective slices in the timeline (default 1000000)")(
      "report", po::value(&f.report), "write a self-contained HTML page of the run to FILE.html")(
      "json", "print summary.json instead of the text report")("quiet", "no progress line");
  po::positional_options_description positional;
  positional.add("scenario", 1);
  po::variables_map vm;
  if (auto code = ParseOptions(args, ctx, "run", "[SCENARIO.toml] [--topology T --model M --plan P ...]",
                               "wiresim run --topology dgx-h100 --model llama-3.1-70b --plan tp=8 --rate 4 "
                               "--requests 500",
                               options, positional, vm)) {
    return *code;
  }
  f.json = vm.count("json") > 0;
  f.quiet = vm.count("quiet") > 0;
  f.timeline_max_given = vm.count("timeline-max-events") > 0;
  Scenario s;
  const bool quick = vm.count("topology") && vm.count("model");
  if (!f.scenario.empty() || !quick) {
    const std::string name = f.scenario.empty() ? "default" : f.scenario;
    Result<SourceFile> file = ReadInput(ctx, name, InputKind::kScenario);
    if (!file.ok()) return ReportError(ctx, "run", file.status());
    Result<Scenario> loaded = LoadScenario(*file);
    if (!loaded.ok()) return ReportError(ctx, "run", loaded.status());
    s = std::move(*loaded);
  } else {
    s.name = "command line";
  }
  if (Status st = ApplyFlags(vm, s); !st.ok()) return ReportError(ctx, "run", st);
  if (!f.slo.empty()) {
    if (Status st = ApplySlo(f.slo, s); !st.ok()) return ReportError(ctx, "run", st);
  }
  if (Status st = ValidateScenario(s); !st.ok()) return ReportError(ctx, "run", st);
  return RunScenario(ctx, s, f);
}

}  // namespace wiresim::app
