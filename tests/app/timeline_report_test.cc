// `wiresim run --timeline` and `--report` end to end: the trace's structure (every slice on a named track, times
// non-negative, one compute stream per GPU whose slices never overlap), its compute and communication per GPU
// against the run's own GPU-time accounting (an independent route to the same numbers), one request span per request;
// the window, the compiled bodies, byte-identical reruns, bad flags; the HTML page's charts and bars.
#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "sim/app/cli.h"
#include "tests/testing/cli.h"

namespace wiresim::app {
namespace {

using Catch::Matchers::Contains;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// tp=2, pp=2 on four H100s: TP all-reduces and PP sends on every GPU; few enough requests for every kernel.
std::vector<std::string> SmallRun(const std::string& iterations) {
  return {"run",
          "--topology",
          "dgx-h100",
          "--model",
          "llama-3.2-1b",
          "--plan",
          "tp=2,pp=2",
          "--requests",
          "6",
          "--rate",
          "50",
          "--input-len",
          "200",
          "--output-len",
          "6",
          "--iterations",
          iterations,
          "--quiet",
          "--seed",
          "7"};
}

testing::CliRun Run(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  testing::CliRun r = testing::RunWiresim(args);
  INFO(r.err);
  REQUIRE(r.code == kExitOk);
  return r;
}

struct Trace {
  nlohmann::json j;
  std::map<int, std::string> process;                 // pid -> name
  std::map<std::pair<int, int>, std::string> thread;  // (pid, tid) -> name
};

Trace Parse(const std::string& path) {
  Trace t;
  t.j = nlohmann::json::parse(Slurp(path));
  for (const auto& e : t.j["traceEvents"]) {
    if (e["ph"] != "M") continue;
    if (e["name"] == "process_name") t.process[e["pid"].get<int>()] = e["args"]["name"];
    if (e["name"] == "thread_name") t.thread[{e["pid"].get<int>(), e["tid"].get<int>()}] = e["args"]["name"];
  }
  return t;
}

// The process of a GPU, by its label: "replica R / <host>/gpuG" (the topology's node name).
int PidOf(const Trace& t, int replica, int gpu) {
  const std::string prefix = "replica " + std::to_string(replica) + " / ", suffix = "/gpu" + std::to_string(gpu);
  for (const auto& [p, name] : t.process) {
    if (name.rfind(prefix, 0) == 0 && name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return p;
    }
  }
  return -1;
}

TEST_CASE("An op-by-op run's timeline: named tracks, compute, communication and requests as the run counts them") {
  testing::ScratchDir dir("wiresim-timeline-test");
  Run(SmallRun("op-by-op"), {"--timeline", dir / "t.json", "--out", dir / "out"});
  const Trace t = Parse(dir / "t.json");
  const nlohmann::json summary = nlohmann::json::parse(Slurp(dir / "out/summary.json"));

  std::map<int, std::vector<std::pair<double, double>>> compute;  // pid -> (ts, dur) of compute-track slices
  std::map<int, std::set<int>> compute_tids;
  std::map<int, double> collective_us;  // pid -> sum of collective slice durations
  int async_begins = 0, async_ends = 0, counters = 0;
  std::set<std::string> collective_tracks;
  for (const auto& e : t.j["traceEvents"]) {
    const std::string ph = e["ph"];
    if (ph == "X") {
      const int pid = e["pid"], tid = e["tid"];
      CHECK(e["ts"].get<double>() >= 0);
      CHECK(e["dur"].get<double>() >= 0);
      REQUIRE(t.process.count(pid));
      REQUIRE(t.thread.count({pid, tid}));
      const std::string& track = t.thread.at({pid, tid});
      if (e["cat"] == "kernel") {
        CHECK(track == "compute");
        compute[pid].emplace_back(e["ts"].get<double>(), e["dur"].get<double>());
        compute_tids[pid].insert(tid);
      } else {
        CHECK(e["cat"] == "collective");
        collective_tracks.insert(track);
        collective_us[pid] += e["dur"].get<double>();
      }
    } else if (ph == "b") {
      ++async_begins;
      CHECK(t.process.at(e["pid"].get<int>()) == "requests");
    } else if (ph == "e") {
      ++async_ends;
    } else if (ph == "C") {
      ++counters;
      REQUIRE(t.process.count(e["pid"].get<int>()));
    }
  }
  CHECK(async_begins == 6);  // --requests 6
  CHECK(async_ends == 6);
  CHECK(counters > 0);
  CHECK(collective_tracks == std::set<std::string>{"TP collectives", "PP send/recv"});

  // Per GPU: one compute track, slices that never overlap, and their durations summing to the compute time the
  // run's GPU accounting reports for that GPU (summary.json, per_gpu[].compute_s).
  const auto& per_gpu = summary["wiresim"]["per_gpu"];
  REQUIRE(per_gpu.size() == 4);
  REQUIRE(compute.size() == 4);
  for (const auto& g : per_gpu) {
    const int gpu = g["gpu"];
    const int replica = g["replica"];
    const int pid = PidOf(t, replica, gpu);
    INFO("GPU " << gpu);
    REQUIRE(pid >= 0);
    CHECK(compute_tids[pid].size() == 1);
    auto& spans = compute[pid];
    std::sort(spans.begin(), spans.end());
    double sum_us = 0;
    for (size_t i = 0; i < spans.size(); ++i) {
      sum_us += spans[i].second;
      if (i > 0) CHECK(spans[i - 1].first + spans[i - 1].second <= spans[i].first + 1e-6);  // 1 ps of rounding
    }
    CHECK(sum_us / 1e6 == Approx(g["compute_s"].get<double>()).epsilon(1e-9));
    // Collective slices span their in-flight time: together, the GPU's communication (hidden or not).
    CHECK(collective_us[pid] / 1e6 == Approx(g["communication_s"].get<double>()).epsilon(1e-9));
  }
}

TEST_CASE("A compiled run's timeline shows each iteration body as one span per GPU, labelled as compiled") {
  testing::ScratchDir dir("wiresim-timeline-compiled-test");
  Run(SmallRun("compiled"), {"--timeline", dir / "t.json", "--out", dir / "out"});
  const Trace t = Parse(dir / "t.json");
  const nlohmann::json summary = nlohmann::json::parse(Slurp(dir / "out/summary.json"));
  std::map<int, double> body_us;  // pid -> sum of body durations
  int kernels = 0;
  for (const auto& e : t.j["traceEvents"]) {
    if (e["ph"] != "X") continue;
    if (e["cat"] == "kernel") ++kernels;
    if (e["cat"] == "compiled") {
      CHECK(e["name"] == "iteration body (compiled)");
      body_us[e["pid"].get<int>()] += e["dur"].get<double>();
    }
  }
  CHECK(kernels == 0);
  REQUIRE(body_us.size() == 4);
  // A body holds the GPU's kernels and the collectives among them: never less than its compute.
  for (const auto& g : summary["wiresim"]["per_gpu"]) {
    const int pid = PidOf(t, g["replica"], g["gpu"]);
    REQUIRE(body_us.count(pid));
    CHECK(body_us[pid] / 1e6 >= g["compute_s"].get<double>() * (1 - 1e-9));
  }
}

TEST_CASE("A timeline window (--timeline-window) keeps only what overlaps it, and reruns write the same bytes") {
  testing::ScratchDir dir("wiresim-timeline-window-test");
  const nlohmann::json full = Parse([&] {
                                Run(SmallRun("op-by-op"), {"--timeline", dir / "full.json"});
                                return dir / "full.json";
                              }())
                                  .j;
  // The window: the middle third of the span the full timeline covers.
  double last = 0;
  for (const auto& e : full["traceEvents"]) {
    if (e["ph"] == "X") last = std::max(last, e["ts"].get<double>() + e["dur"].get<double>());
  }
  const double a = last / 3 / 1e6, b = 2 * last / 3 / 1e6;  // seconds
  const std::string window = std::to_string(a) + ":" + std::to_string(b);
  Run(SmallRun("op-by-op"), {"--timeline", dir / "w1.json", "--timeline-window", window});
  Run(SmallRun("op-by-op"), {"--timeline", dir / "w2.json", "--timeline-window", window});
  CHECK(Slurp(dir / "w1.json") == Slurp(dir / "w2.json"));
  const nlohmann::json w = nlohmann::json::parse(Slurp(dir / "w1.json"));
  int kept = 0, total = 0;
  for (const auto& e : full["traceEvents"]) total += e["ph"] == "X";
  for (const auto& e : w["traceEvents"]) {
    if (e["ph"] != "X") continue;
    ++kept;
    const double ts = e["ts"].get<double>() / 1e6, end = ts + e["dur"].get<double>() / 1e6;
    CHECK(end >= a - 1e-9);
    CHECK(ts <= b + 1e-9);
  }
  CHECK(kept > 0);
  CHECK(kept < total);
}

TEST_CASE("Bad timeline flags are refused with exit 2, naming the flag, and nothing is written") {
  testing::ScratchDir dir("wiresim-timeline-bad-test");
  for (const std::vector<std::string>& more :
       {std::vector<std::string>{"--timeline", dir / "t.json", "--timeline-window", "5"},
        std::vector<std::string>{"--timeline", dir / "t.json", "--timeline-window", "3:1"},
        std::vector<std::string>{"--timeline", dir / "t.json", "--timeline-window", "a:b"},
        std::vector<std::string>{"--timeline", dir / "t.json", "--timeline-max-events", "0"},
        std::vector<std::string>{"--timeline-window", "0:1"}}) {
    std::vector<std::string> args = SmallRun("compiled");
    args.insert(args.end(), more.begin(), more.end());
    const testing::CliRun r = testing::RunWiresim(args);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("--timeline"));
    CHECK(!std::ifstream(dir / "t.json").good());
  }
}

TEST_CASE("A report or timeline that cannot be written is an error naming the flag") {
  // A path under a plain file: no directory can be made there, whoever runs the test.
  testing::ScratchDir dir("wiresim-report-unwritable-test");
  std::ofstream(dir / "plain") << "x";
  for (const char* flag : {"--report", "--timeline"}) {
    std::vector<std::string> args = SmallRun("compiled");
    args.insert(args.end(), {flag, dir / "plain/file"});
    const testing::CliRun r = testing::RunWiresim(args);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains(flag));
  }
}

TEST_CASE("The HTML report: every chart, one bar per GPU with its parts, the links' heat map, nothing fetched") {
  testing::ScratchDir dir("wiresim-report-test");
  const testing::CliRun r = Run(SmallRun("compiled"), {"--report", dir / "r.html"});
  CHECK_THAT(r.out, Contains("wrote " + (dir / "r.html")));
  const std::string html = Slurp(dir / "r.html");
  for (const char* id : {"cdf-ttft", "cdf-tpot", "cdf-e2el", "gpu-time", "throughput", "queue-depth", "kv-usage"}) {
    CHECK_THAT(html, Contains("<svg id=\"" + std::string(id) + "\""));
  }
  for (const char* series : {"ttft", "tpot", "e2el", "output-tokens-per-s", "running", "waiting", "kv-usage"}) {
    CHECK_THAT(html, Contains("<path class=\"series\" data-series=\"" + std::string(series) + "\""));
  }
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t at = html.find(needle); at != std::string::npos; at = html.find(needle, at + 1)) ++n;
    return n;
  };
  CHECK(count("<g class=\"bar\"") == 4);  // tp=2 x pp=2
  // Per bar: compute, five exposed dimensions, bubble, idle.
  CHECK(count("<rect class=\"segment\"") == 4 * 8);
  // The tensor-parallel all-reduces load every GPU's NVLinks, both ways: a heat-map cell per loaded link.
  CHECK_THAT(html, Contains("<svg id=\"link-heatmap\""));
  CHECK(count("<rect class=\"cell\"") >= 2 * 4);
  // The summary table carries the printed block's figures.
  CHECK_THAT(html, Contains("<td>Successful requests:</td><td class=\"value\">6</td>"));
  // Self-contained: no scripts, no links to elsewhere.
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("http://") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);
}

}  // namespace
}  // namespace wiresim::app
