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
#include <tuple>

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
#include "sim/app/scenario_flags.h"
#include "sim/app/serving_setup.h"
#include "sim/app/verbs.h"
#include "sim/app/what_if_run.h"
#include "sim/core/output_file.h"
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
  // Outputs that could not be written are refused before the simulation, not after it.
  for (const auto& [flag, path, directory] : {std::tuple<const char*, const std::string&, bool>{"--out", f.out, true},
                                              {"--timeline", f.timeline, false},
                                              {"--report", f.report, false}}) {
    if (path.empty()) continue;
    if (Status st = CheckOutputPath(path, directory); !st.ok()) {
      return ReportError(ctx, "run", InvalidArgument(std::string(flag) + " " + st.message()));
    }
  }
  // The measured run to compare with, read before the simulation so that a wrong file costs no run.
  std::map<std::string, double> measured;
  if (!f.compare.empty()) {
    Result<SourceFile> file = ReadInput(ctx, f.compare, InputKind::kOther);
    if (!file.ok()) return ReportError(ctx, "run", file.status());
    Result<std::map<std::string, double>> m = ReadVllmResult(file->text, file->name);
    if (!m.ok()) return ReportError(ctx, "run", m.status());
    measured = std::move(*m);
  }
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
  if (!measured.empty()) {
    const std::vector<std::string> warnings = WorkloadMismatches(report, measured);
    for (const std::string& w : warnings) ctx.err << "wiresim run: warning: " << w << "\n";
    AddComparisonToJson(report, measured, f.compare, warnings);
  }
  const std::string summary_json = SummaryJson(report);
  if (!f.out.empty()) {
    if (Status w = WriteOutputs(f.out, summary_json, report.requests_csv); !w.ok()) {
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
  if (outcome->run.rejected > 0) {
    // Rejected requests count as failed, as vllm bench serve counts a 400: say why, so it is not taken for a result.
    ctx.err << "wiresim run: warning: " << outcome->run.rejected << " of " << outcome->run.sent
            << " requests were refused by the server and count as failed; the first: " << outcome->run.first_rejection
            << "\n";
  }
  if (f.json) {
    ctx.out << summary_json;
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
  options.add_options()("scenario", po::value(&f.scenario), "scenario TOML (default: the shipped default.toml)");
  AddScenarioOptions(options, /*skip=*/{});
  options.add_options()("slo", po::value(&f.slo), "ttft=MS,tpot=MS,e2el=MS for goodput")(
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
  Result<Scenario> s = ScenarioFromCommandLine(ctx, vm, f.scenario, f.slo, /*skip=*/{});
  if (!s.ok()) return ReportError(ctx, "run", s.status());
  return RunScenario(ctx, *s, f);
}

}  // namespace wiresim::app
