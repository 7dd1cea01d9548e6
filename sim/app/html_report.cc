#include "sim/app/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "sim/core/text.h"

namespace wiresim::app {
namespace {

// Chart geometry (SVG user units) and how many points a curve keeps at most.
constexpr double kWidth = 640, kHeight = 260;
constexpr double kLeft = 64, kRight = 16, kTop = 16, kBottom = 40;
constexpr int kCdfPoints = 400;    // a CDF is drawn through this many quantiles at most
constexpr int kTimeBuckets = 300;  // series over time: the largest sample in each of this many equal buckets
constexpr int kThroughputBuckets = 60;

// Colours: a fixed palette (readable on white, distinct in grey scale order).
constexpr const char* kPartColours[] = {"#4c78a8", "#f58518", "#e45756", "#72b7b2",
                                        "#54a24b", "#eeca3b", "#b279a2", "#bab0ac"};

std::string Escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string F(double v, int decimals = 2) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// A tick step of 1, 2 or 5 times a power of ten giving about `count` ticks over [0, span].
double NiceStep(double span, int count) {
  if (!(span > 0)) return 1;
  const double raw = span / count;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * p >= raw) return m * p;
  }
  return 10 * p;
}

// A tick's value with at most 6 significant digits and no trailing zeros: "0", "0.5", "2.25", "1200".
std::string TickLabel(double v) {
  if (std::fabs(v) < 1e-12) return "0";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// A chart frame over [x_min, x_max] x [0, y_max]: axes, ticks and labels; maps data to SVG coordinates.
struct Frame {
  double x_min = 0, x_max = 1, y_max = 1;
  double X(double x) const {
    return kLeft + (kWidth - kLeft - kRight) * (x_max > x_min ? (x - x_min) / (x_max - x_min) : 0);
  }
  double Y(double y) const { return kHeight - kBottom - (kHeight - kTop - kBottom) * (y_max > 0 ? y / y_max : 0); }
  std::string Axes(const std::string& x_label, const std::string& y_label) const {
    std::string s = "<g class=\"axes\">";
    s += "<line x1=\"" + F(kLeft) + "\" y1=\"" + F(Y(0)) + "\" x2=\"" + F(kWidth - kRight) + "\" y2=\"" + F(Y(0)) +
         "\"/>";
    s += "<line x1=\"" + F(kLeft) + "\" y1=\"" + F(kTop) + "\" x2=\"" + F(kLeft) + "\" y2=\"" + F(Y(0)) + "\"/>";
    const double xs = NiceStep(x_max - x_min, 5), ys = NiceStep(y_max, 4);
    for (double x = std::ceil(x_min / xs - 1e-9) * xs; x <= x_max + xs * 1e-9; x += xs) {
      s += "<text class=\"tick\" x=\"" + F(X(x)) + "\" y=\"" + F(Y(0) + 14) + "\" text-anchor=\"middle\">" +
           TickLabel(x) + "</text>";
    }
    for (double y = 0; y <= y_max * (1 + 1e-9); y += ys) {
      s += "<text class=\"tick\" x=\"" + F(kLeft - 6) + "\" y=\"" + F(Y(y) + 4) + "\" text-anchor=\"end\">" +
           TickLabel(y) + "</text>";
      if (y > 0) {
        s += "<line class=\"grid\" x1=\"" + F(kLeft) + "\" y1=\"" + F(Y(y)) + "\" x2=\"" + F(kWidth - kRight) +
             "\" y2=\"" + F(Y(y)) + "\"/>";
      }
    }
    s += "<text class=\"label\" x=\"" + F((kLeft + kWidth - kRight) / 2) + "\" y=\"" + F(kHeight - 6) +
         "\" text-anchor=\"middle\">" + Escape(x_label) + "</text>";
    s += "<text class=\"label\" transform=\"translate(14," + F((kTop + kHeight - kBottom) / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + Escape(y_label) + "</text>";
    s += "</g>";
    return s;
  }
};

std::string SvgOpen(const std::string& id, const std::string& title) {
  return "<svg id=\"" + id + "\" class=\"chart\" viewBox=\"0 0 " + F(kWidth, 0) + " " + F(kHeight, 0) + "\" width=\"" +
         F(kWidth, 0) + "\" height=\"" + F(kHeight, 0) + "\" role=\"img\"><title>" + Escape(title) + "</title>";
}

std::string Path(const std::string& series, const std::string& colour, const std::string& d) {
  return "<path class=\"series\" data-series=\"" + series + "\" fill=\"none\" stroke=\"" + colour +
         "\" stroke-width=\"2\" d=\"" + d + "\"/>";
}

std::string Legend(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string s = "<div class=\"legend\">";
  for (const auto& [name, colour] : entries) {
    s += "<span><i style=\"background:" + colour + "\"></i>" + Escape(name) + "</span>";
  }
  return s + "</div>";
}

// A CDF of `values` (milliseconds): the empirical distribution as steps through at most kCdfPoints quantiles.
std::string CdfChart(const std::string& key, const std::string& title, std::vector<double> values,
                     const std::string& colour) {
  std::string s = "<figure><figcaption>" + Escape(title) + "</figcaption>";
  s += SvgOpen("cdf-" + key, title + " CDF");
  std::sort(values.begin(), values.end());
  Frame f;
  f.x_max = values.empty() ? 1 : values.back() > 0 ? values.back() : 1;
  f.y_max = 1;
  // The axis starts at 0 unless every value lies in the top fifth of the range (a narrow spread far from 0): then
  // at a round value below the smallest.
  if (!values.empty() && values.front() > 0.8 * f.x_max && values.front() < f.x_max) {
    const double step = NiceStep(f.x_max - values.front(), 5);
    f.x_min = std::floor(values.front() / step) * step;
  }
  s += f.Axes(title + " (ms)", "fraction of requests");
  if (values.empty()) {
    s += "<text class=\"no-data\" x=\"" + F(kWidth / 2) + "\" y=\"" + F(kHeight / 2) +
         "\" text-anchor=\"middle\">no requests with this metric</text>";
  } else {
    const size_t n = values.size();
    const size_t points = std::min<size_t>(n, kCdfPoints);
    std::string d = "M" + F(f.X(values.front())) + "," + F(f.Y(0));
    for (size_t i = 1; i <= points; ++i) {
      // The i-th of `points` quantiles: the value below which i/points of the requests lie.
      const size_t k = (i * n + points - 1) / points;  // ceil(i n / points), in [1, n]
      const double x = values[k - 1];
      const double y = static_cast<double>(k) / static_cast<double>(n);
      d += " L" + F(f.X(x)) + "," + F(f.Y(y));
    }
    s += Path(key, colour, d);
  }
  return s + "</svg></figure>";
}

// Each GPU's time as a horizontal stacked bar, in per cent of the run.
std::string GpuTimeChart(const HtmlReportData& data) {
  static constexpr ParallelDim kDims[] = {ParallelDim::kTp, ParallelDim::kPp, ParallelDim::kEp, ParallelDim::kCp,
                                          ParallelDim::kDp};
  std::vector<std::string> parts = {"compute"};
  for (ParallelDim d : kDims) parts.push_back("exposed " + std::string(ToString(d)));
  parts.push_back("bubble");
  parts.push_back("idle");
  const double run = data.run_end.ToSeconds();
  const double row = 22, label_w = 220, top = 8, bar_w = kWidth - label_w - kRight;
  const double height = top + row * static_cast<double>(data.gpus.size()) + 30;
  std::string s = "<figure><figcaption>Where each GPU's time went (% of the run)</figcaption>";
  s += "<svg id=\"gpu-time\" class=\"chart\" viewBox=\"0 0 " + F(kWidth, 0) + " " + F(height, 0) + "\" width=\"" +
       F(kWidth, 0) + "\" height=\"" + F(height, 0) + "\" role=\"img\"><title>GPU time breakdown</title>";
  for (size_t i = 0; i < data.gpus.size(); ++i) {
    const GpuBreakdown& g = data.gpus[i];
    std::vector<double> seconds = {g.compute.ToSeconds()};
    for (ParallelDim d : kDims) seconds.push_back(g.Exposed(d).ToSeconds());
    seconds.push_back(g.bubble.ToSeconds());
    seconds.push_back(g.idle.ToSeconds());
    const double y = top + row * static_cast<double>(i);
    s += "<g class=\"bar\" data-gpu=\"" + std::to_string(g.gpu) + "\">";
    s += "<text class=\"tick\" x=\"" + F(label_w - 6) + "\" y=\"" + F(y + row * 0.65) + "\" text-anchor=\"end\">" +
         Escape(i < data.gpu_labels.size() ? data.gpu_labels[i] : "GPU " + std::to_string(g.gpu)) + "</text>";
    double x = label_w;
    for (size_t p = 0; p < parts.size(); ++p) {
      const double frac = run > 0 ? seconds[p] / run : 0;
      const double w = bar_w * frac;
      s += "<rect class=\"segment\" data-part=\"" + parts[p] + "\" data-percent=\"" + F(100 * frac, 3) + "\" x=\"" +
           F(x) + "\" y=\"" + F(y + 2) + "\" width=\"" + F(w) + "\" height=\"" + F(row - 4) + "\" fill=\"" +
           kPartColours[p] + "\"><title>" + Escape(parts[p]) + ": " + F(100 * frac, 2) + "%</title></rect>";
      x += w;
    }
    s += "</g>";
  }
  const double axis_y = top + row * static_cast<double>(data.gpus.size()) + 14;
  for (int pct = 0; pct <= 100; pct += 25) {
    s += "<text class=\"tick\" x=\"" + F(label_w + bar_w * pct / 100.0) + "\" y=\"" + F(axis_y) +
         "\" text-anchor=\"middle\">" + std::to_string(pct) + "%</text>";
  }
  s += "</svg>";
  std::vector<std::pair<std::string, std::string>> legend;
  for (size_t p = 0; p < parts.size(); ++p) legend.emplace_back(parts[p], kPartColours[p]);
  return s + Legend(legend) + "</figure>";
}

// The largest value of a piecewise-constant series in each of kTimeBuckets buckets over [0, end]; points are
// (seconds, value) in time order, each value holding until the next point.
std::vector<std::pair<double, double>> BucketMax(const std::vector<std::pair<double, double>>& points, double end) {
  std::vector<std::pair<double, double>> out;
  if (points.empty() || !(end > 0)) return points;
  const double width = end / kTimeBuckets;
  size_t i = 0;
  double current = 0;
  for (int b = 0; b < kTimeBuckets; ++b) {
    const double lo = width * b, hi = width * (b + 1);
    double best = current;  // the value holding at the bucket's start
    while (i < points.size() && points[i].first < hi) {
      current = points[i].second;
      best = std::max(best, current);
      ++i;
    }
    out.emplace_back(lo, best);
    if (b == kTimeBuckets - 1) out.emplace_back(hi, best);
  }
  return out;
}

std::string StepPath(const Frame& f, const std::vector<std::pair<double, double>>& points) {
  std::string d;
  for (size_t i = 0; i < points.size(); ++i) {
    const auto [x, y] = points[i];
    if (i == 0) {
      d = "M" + F(f.X(x)) + "," + F(f.Y(y));
    } else {
      d += " H" + F(f.X(x)) + " V" + F(f.Y(y));
    }
  }
  return d;
}

std::string OverTime(const HtmlReportData& data) {
  const double end = data.run_end.ToSeconds();
  std::string s;
  // Output throughput: tokens that reached clients per bucket, over the bucket's width.
  {
    std::vector<double> tokens(kThroughputBuckets, 0.0);
    const double width = end > 0 ? end / kThroughputBuckets : 1;
    if (data.series != nullptr) {
      for (const auto& [at, n] : data.series->output_tokens) {
        const int b = std::min(kThroughputBuckets - 1, static_cast<int>(at.ToSeconds() / width));
        tokens[static_cast<size_t>(b)] += static_cast<double>(n);
      }
    }
    std::vector<std::pair<double, double>> points;
    double y_max = 0;
    for (int b = 0; b < kThroughputBuckets; ++b) {
      points.emplace_back(width * b, tokens[static_cast<size_t>(b)] / width);
      y_max = std::max(y_max, tokens[static_cast<size_t>(b)] / width);
    }
    points.emplace_back(width * kThroughputBuckets, points.back().second);
    Frame f;
    f.x_max = end > 0 ? end : 1;
    f.y_max = y_max > 0 ? y_max * 1.05 : 1;
    s += "<figure><figcaption>Output throughput (tokens/s, " + std::to_string(kThroughputBuckets) +
         " equal time buckets)</figcaption>" + SvgOpen("throughput", "Output throughput") +
         f.Axes("simulated time (s)", "output tokens/s") +
         Path("output-tokens-per-s", kPartColours[0], StepPath(f, points)) + "</svg></figure>";
  }
  // Queue depth and KV use, summed over every replica and DP rank (each one's latest sample holds until its next).
  std::vector<std::pair<double, double>> running, waiting, kv;
  if (data.series != nullptr) {
    std::map<std::pair<int, int>, ReplicaSample> latest;
    for (size_t i = 0; i < data.series->samples.size(); ++i) {
      const ReplicaSample& x = data.series->samples[i];
      latest[{x.replica, x.dp_rank}] = x;
      // Several samples at one time: only the last counts.
      if (i + 1 < data.series->samples.size() && data.series->samples[i + 1].at == x.at) continue;
      double r = 0, w = 0, used = 0, total = 0;
      for (const auto& [key, v] : latest) {
        r += static_cast<double>(v.running);
        w += static_cast<double>(v.waiting);
        used += static_cast<double>(v.kv_used_blocks);
        total += static_cast<double>(v.kv_blocks);
      }
      const double t = x.at.ToSeconds();
      running.emplace_back(t, r);
      waiting.emplace_back(t, w);
      kv.emplace_back(t, total > 0 ? used / total : 0);
    }
  }
  running = BucketMax(running, end);
  waiting = BucketMax(waiting, end);
  kv = BucketMax(kv, end);
  {
    double y_max = 0;
    for (const auto& p : running) y_max = std::max(y_max, p.second);
    for (const auto& p : waiting) y_max = std::max(y_max, p.second);
    Frame f;
    f.x_max = end > 0 ? end : 1;
    f.y_max = y_max > 0 ? y_max * 1.05 : 1;
    s += "<figure><figcaption>Requests running and waiting, all replicas (largest in each of " +
         std::to_string(kTimeBuckets) + " time buckets)</figcaption>" + SvgOpen("queue-depth", "Queue depth") +
         f.Axes("simulated time (s)", "requests");
    if (!running.empty()) s += Path("running", kPartColours[0], StepPath(f, running));
    if (!waiting.empty()) s += Path("waiting", kPartColours[1], StepPath(f, waiting));
    s += "</svg>" + Legend({{"running", kPartColours[0]}, {"waiting", kPartColours[1]}}) + "</figure>";
  }
  {
    Frame f;
    f.x_max = end > 0 ? end : 1;
    f.y_max = 1;
    s += "<figure><figcaption>KV-cache blocks in use, fraction of all replicas' blocks (largest in each bucket)"
         "</figcaption>" +
         SvgOpen("kv-usage", "KV-cache use") + f.Axes("simulated time (s)", "fraction in use");
    if (!kv.empty()) s += Path("kv-usage", kPartColours[4], StepPath(f, kv));
    s += "</svg></figure>";
  }
  return s;
}

// Link utilisation as a matrix: rows are the links' sources, columns their destinations.
std::string LinkHeatmap(const HtmlReportData& data) {
  std::string s = "<figure><figcaption>Link utilisation (busy fraction of the run)</figcaption>";
  if (data.links.empty()) {
    return s +
           "<p id=\"link-heatmap\" class=\"no-data\">no link data: this run kept no per-link byte ledgers</p>"
           "</figure>";
  }
  std::set<std::string> from_set, to_set;
  for (const LinkLoad& l : data.links) {
    from_set.insert(l.from);
    to_set.insert(l.to);
  }
  const std::vector<std::string> from(from_set.begin(), from_set.end()), to(to_set.begin(), to_set.end());
  const double cell = std::max(6.0, std::min(24.0, 560.0 / static_cast<double>(std::max(from.size(), to.size()))));
  const double label_w = 150, label_h = 110;
  const double w = label_w + cell * static_cast<double>(to.size()) + 10;
  const double h = label_h + cell * static_cast<double>(from.size()) + 10;
  s += "<svg id=\"link-heatmap\" class=\"chart\" viewBox=\"0 0 " + F(w, 0) + " " + F(h, 0) + "\" width=\"" + F(w, 0) +
       "\" height=\"" + F(h, 0) + "\" role=\"img\"><title>Link utilisation</title>";
  auto index = [](const std::vector<std::string>& v, const std::string& x) {
    return static_cast<double>(std::lower_bound(v.begin(), v.end(), x) - v.begin());
  };
  for (size_t i = 0; i < to.size(); ++i) {
    const double x = label_w + cell * (static_cast<double>(i) + 0.5);
    s += "<text class=\"tick\" transform=\"translate(" + F(x) + "," + F(label_h - 4) + ") rotate(-60)\">" +
         Escape(to[i]) + "</text>";
  }
  for (size_t i = 0; i < from.size(); ++i) {
    s += "<text class=\"tick\" x=\"" + F(label_w - 4) + "\" y=\"" + F(label_h + cell * (static_cast<double>(i) + 0.7)) +
         "\" text-anchor=\"end\">" + Escape(from[i]) + "</text>";
  }
  for (const LinkLoad& l : data.links) {
    const double u = std::clamp(l.utilisation, 0.0, 1.0);
    // White (idle) to dark red (always busy).
    const int g = static_cast<int>(std::lround(255 * (1 - u)));
    char colour[16];
    std::snprintf(colour, sizeof colour, "#%02x%02x%02x", 255 - static_cast<int>(std::lround(80 * u)), g, g);
    s += "<rect class=\"cell\" data-from=\"" + Escape(l.from) + "\" data-to=\"" + Escape(l.to) +
         "\" data-utilisation=\"" + F(u, 4) + "\" x=\"" + F(label_w + cell * index(to, l.to)) + "\" y=\"" +
         F(label_h + cell * index(from, l.from)) + "\" width=\"" + F(cell - 1) + "\" height=\"" + F(cell - 1) +
         "\" fill=\"" + colour + "\"><title>" + Escape(l.from + " -> " + l.to) + ": " + F(100 * u, 1) + "% busy, " +
         F(l.bytes / 1e9, 3) + " GB</title></rect>";
  }
  return s + "</svg></figure>";
}

// The printed report as a table: the lines before the block as a paragraph, each "label  value" line of the block
// as a row, each dashed or '=' header as a section row.
std::string SummaryTable(const std::string& text) {
  std::string intro, rows;
  bool in_block = false;
  for (std::string_view line : Split(text, '\n')) {
    if (line.empty()) continue;
    if (!in_block && line.front() == '=') in_block = true;
    if (!in_block) {
      intro += Escape(line) + "\n";
      continue;
    }
    const size_t first = line.find_first_not_of("=-");
    if (first == std::string_view::npos) continue;  // the closing rule
    if (line.front() == '=' || line.front() == '-') {
      std::string_view title = line.substr(first);
      title = title.substr(0, title.find_last_not_of("=- ") + 1);
      rows += "<tr class=\"section\"><th colspan=\"2\">" + Escape(title) + "</th></tr>\n";
      continue;
    }
    // "{:<40} {:<10.2f}": the label is the first 40 characters.
    std::string_view label = line.substr(0, std::min<size_t>(40, line.size()));
    std::string_view value = line.size() > 41 ? line.substr(41) : std::string_view();
    while (!label.empty() && label.back() == ' ') label.remove_suffix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    rows += "<tr><td>" + Escape(label) + "</td><td class=\"value\">" + Escape(value) + "</td></tr>\n";
  }
  return "<pre class=\"intro\">" + intro + "</pre>\n<table id=\"summary\">\n" + rows + "</table>\n";
}

constexpr const char* kStyle = R"(body{font-family:sans-serif;margin:24px;color:#222;max-width:1360px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
pre.intro{font-size:12px;background:#f6f6f6;padding:8px;white-space:pre-wrap}
table#summary{border-collapse:collapse;font-size:13px}
table#summary td,table#summary th{padding:2px 10px;border-bottom:1px solid #eee;text-align:left}
table#summary td.value{text-align:right;font-variant-numeric:tabular-nums}
table#summary tr.section th{background:#eef;padding-top:6px}
.charts{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:0}figcaption{font-size:13px;margin-bottom:4px}
svg.chart{background:#fff;border:1px solid #ddd}
svg .axes line{stroke:#444;stroke-width:1}svg line.grid{stroke:#e4e4e4;stroke-width:1}
svg text{font-size:11px;fill:#333}svg text.label{font-size:12px}
.legend{font-size:12px;margin-top:4px}.legend span{margin-right:12px;white-space:nowrap}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
.no-data{color:#777;font-style:italic}
)";

}  // namespace

std::string RenderHtmlReport(const HtmlReportData& data) {
  std::vector<double> ttft, tpot, e2el;
  if (data.records != nullptr) {
    for (const RequestRecord& r : *data.records) {
      if (!r.was_sent() || !r.succeeded()) continue;
      // As vllm bench serve defines them (sim/metrics/request_metrics.h).
      ttft.push_back((r.first_token - r.sent).ToSeconds() * 1000);
      e2el.push_back((r.finished - r.sent).ToSeconds() * 1000);
      if (r.tokens_received > 1) {
        tpot.push_back((r.finished - r.first_token).ToSeconds() * 1000 / static_cast<double>(r.tokens_received - 1));
      }
    }
  }
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" << Escape(data.title)
       << "</title>\n<style>\n"
       << kStyle << "</style>\n</head>\n<body>\n<h1>" << Escape(data.title) << "</h1>\n";
  html << "<h2>Summary</h2>\n" << SummaryTable(data.run_text);
  html << "<h2>Latency distributions</h2>\n<div class=\"charts\">\n"
       << CdfChart("ttft", "Time to first token", ttft, kPartColours[0]) << "\n"
       << CdfChart("tpot", "Time per output token", tpot, kPartColours[1]) << "\n"
       << CdfChart("e2el", "End-to-end latency", e2el, kPartColours[2]) << "\n</div>\n";
  html << "<h2>GPU time</h2>\n" << GpuTimeChart(data) << "\n";
  html << "<h2>Over time</h2>\n<div class=\"charts\">\n" << OverTime(data) << "\n</div>\n";
  html << "<h2>Links</h2>\n" << LinkHeatmap(data) << "\n";
  html << "</body>\n</html>\n";
  return html.str();
}

}  // namespace wiresim::app
