// `wiresim run --report FILE.html`: one self-contained page (inline CSS and SVG drawn here; no scripts, fonts or
// network access) with the run's summary table (the printed report's own lines), latency CDFs (TTFT, TPOT, E2EL),
// each GPU's time as a stacked bar (compute, exposed communication by dimension, bubble, idle), output throughput,
// queue depth and KV-cache use over time, and a heat map of link utilisation ("no link data" when the run has
// none). docs/guide/run.md shows what each chart is; the elements carry stable ids and classes:
//   <svg id="cdf-ttft"> ... <path class="series" data-series="ttft" d="...">   (also cdf-tpot, cdf-e2el)
//   <svg id="gpu-time"> ... <g class="bar" data-gpu="3"> <rect class="segment" data-part="compute" ...>
//   <svg id="throughput"> <path class="series" data-series="output-tokens-per-s">
//   <svg id="queue-depth"> <path class="series" data-series="running"> and data-series="waiting"
//   <svg id="kv-usage"> <path class="series" data-series="kv-usage">
//   <svg id="link-heatmap"> <rect class="cell" ...>, or <p id="link-heatmap" class="no-data">
//
//   std::string html = RenderHtmlReport(data);
#pragma once

#include <string>
#include <vector>

#include "sim/metrics/gpu_time.h"
#include "sim/metrics/request_metrics.h"
#include "sim/metrics/timeline.h"

namespace wiresim::app {

struct HtmlReportData {
  std::string title;     // the page's heading
  std::string run_text;  // the report `wiresim run` prints (RunReport::text): its lines become the summary table
  const std::vector<RequestRecord>* records = nullptr;  // every request (by id)
  std::vector<GpuBreakdown> gpus;                       // the GPUs serving a replica, in the order drawn
  std::vector<std::string> gpu_labels;                  // one per entry of gpus: "replica 0 / node0/gpu3"
  Time run_end;                                         // the run's last event
  const ServingSeries* series = nullptr;
  std::vector<LinkLoad> links;  // empty: "no link data"
};

std::string RenderHtmlReport(const HtmlReportData& data);

}  // namespace wiresim::app
