// The files and the printed block of request metrics: vllm bench serve's summary block and --save-result keys,
// requests.csv, and reading a --save-result file back for comparison.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <regex>

#include <nlohmann/json.hpp>

#include "sim/core/numeric_field.h"
#include "sim/core/text.h"
#include "sim/metrics/request_metrics.h"

namespace wiresim {
namespace {

struct LatencySection {
  const char* key;     // in the JSON keys: mean_<key>_ms
  const char* name;    // in the printed labels: Mean <name> (ms):
  const char* header;  // the section's centred header
  const LatencyStats ServingSummary::*stats;
};

// vllm's process_one_metric calls, in its order.
constexpr LatencySection kSections[] = {
    {"ttft", "TTFT", "Time to First Token", &ServingSummary::ttft_ms},
    {"tpot", "TPOT", "Time per Output Token (excl. 1st token)", &ServingSummary::tpot_ms},
    {"itl", "ITL", "Inter-token Latency", &ServingSummary::itl_ms},
    {"e2el", "E2EL", "End-to-end Latency", &ServingSummary::e2el_ms},
};

// Python's "{s:{c}^{n}}": `text` centred in `width` with `fill`, the odd fill character on the right.
std::string Centred(const std::string& text, char fill, size_t width) {
  if (text.size() >= width) return text;
  size_t pad = width - text.size();
  return std::string(pad / 2, fill) + text + std::string(pad - pad / 2, fill);
}

std::string Padded(std::string text, size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

std::string Fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

// "{:<40} {:<10}" and "{:<40} {:<10.2f}".
void Line(std::ostream& out, const std::string& label, const std::string& value) {
  out << Padded(label, 40) << ' ' << Padded(value, 10) << '\n';
}
void Line(std::ostream& out, const std::string& label, double value) { Line(out, label, Fixed(value, 2)); }

// vllm's p_word: "99" for 99.0, "99.9" for 99.9 (Python's str of a float: the shortest text that reads back).
std::string PercentileWord(double p) {
  if (p == std::floor(p) && std::abs(p) < 1e15) return std::to_string(static_cast<int64_t>(p));
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, p);
  return std::string(buffer, end);
}

// `ps` picoseconds as milliseconds with 6 decimals, rounded half away from zero, from integers only.
std::string Milliseconds6(int64_t ps) {
  bool negative = ps < 0;
  uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(ps) : static_cast<uint64_t>(ps);
  uint64_t ns = (magnitude + 500) / 1000;  // 1 ns = 1e-6 ms
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%s%llu.%06llu", negative ? "-" : "",
                static_cast<unsigned long long>(ns / 1000000), static_cast<unsigned long long>(ns % 1000000));
  return buffer;
}

constexpr int kMaxJsonDepth = 32;

bool IsSharedMetricKey(const std::string& key) {
  static const std::regex kLatencyKey(R"((mean|median|std|p[0-9.e+-]+)_(ttft|tpot|itl|e2el)_ms)");
  static const char* const kScalarKeys[] = {"duration",
                                            "completed",
                                            "failed",
                                            "total_input_tokens",
                                            "total_output_tokens",
                                            "request_throughput",
                                            "request_goodput",
                                            "output_throughput",
                                            "total_token_throughput",
                                            "max_output_tokens_per_s",
                                            "max_concurrent_requests"};
  for (const char* k : kScalarKeys) {
    if (key == k) return true;
  }
  return std::regex_match(key, kLatencyKey);
}

}  // namespace

void PrintSummaryLine(std::ostream& out, const std::string& label, double value) { Line(out, label, value); }

void PrintSummaryHeader(std::ostream& out, const std::string& title) { out << Centred(title, '-', 50) << '\n'; }

void PrintServingSummary(std::ostream& out, const ServingSummary& s, const std::string& title) {
  out << Centred(" " + (title.empty() ? std::string("Serving Benchmark Result") : title) + " ", '=', 50) << '\n';
  Line(out, "Successful requests:", std::to_string(s.completed));
  Line(out, "Failed requests:", std::to_string(s.failed));
  if (s.max_concurrency > 0) Line(out, "Maximum request concurrency:", std::to_string(s.max_concurrency));
  if (s.request_rate > 0) Line(out, "Request rate configured (RPS):", s.request_rate);
  Line(out, "Benchmark duration (s):", s.duration_s);
  Line(out, "Total input tokens:", std::to_string(s.total_input));
  Line(out, "Total generated tokens:", std::to_string(s.total_output));
  Line(out, "Request throughput (req/s):", s.request_throughput);
  if (s.slo.any()) Line(out, "Request goodput (req/s):", s.request_goodput);
  Line(out, "Output token throughput (tok/s):", s.output_throughput);
  Line(out, "Peak output token throughput (tok/s):", s.max_output_tokens_per_s);
  Line(out, "Peak concurrent requests:", static_cast<double>(s.max_concurrent_requests));
  Line(out, "Total token throughput (tok/s):", s.total_token_throughput);
  for (const LatencySection& section : kSections) {
    const LatencyStats& stats = s.*section.stats;
    std::string name = section.name;
    out << Centred(section.header, '-', 50) << '\n';
    Line(out, "Mean " + name + " (ms):", stats.mean);
    Line(out, "Median " + name + " (ms):", stats.median);
    for (const auto& [p, value] : stats.percentiles) Line(out, "P" + PercentileWord(p) + " " + name + " (ms):", value);
  }
  out << std::string(50, '=') << '\n';
}

std::string SummaryJsonFields(const ServingSummary& s) {
  nlohmann::ordered_json j;
  j["duration"] = s.duration_s;
  j["completed"] = s.completed;
  j["failed"] = s.failed;
  j["total_input_tokens"] = s.total_input;
  j["total_output_tokens"] = s.total_output;
  j["request_throughput"] = s.request_throughput;
  j["request_goodput"] = s.slo.any() ? nlohmann::ordered_json(s.request_goodput) : nlohmann::ordered_json(nullptr);
  j["output_throughput"] = s.output_throughput;
  j["total_token_throughput"] = s.total_token_throughput;
  j["max_output_tokens_per_s"] = s.max_output_tokens_per_s;
  j["max_concurrent_requests"] = s.max_concurrent_requests;
  for (const LatencySection& section : kSections) {
    const LatencyStats& stats = s.*section.stats;
    std::string suffix = std::string("_") + section.key + "_ms";
    j["mean" + suffix] = stats.mean;
    j["median" + suffix] = stats.median;
    j["std" + suffix] = stats.std;
    for (const auto& [p, value] : stats.percentiles) j["p" + PercentileWord(p) + suffix] = value;
  }
  return j.dump(2);
}

void WriteRequestsCsv(std::ostream& out, const std::vector<RequestRecord>& records) {
  out << "id,replica,input_tokens,output_tokens,sent_ms,queue_ms,ttft_ms,tpot_ms,e2el_ms,preemptions,"
         "prefix_hit_tokens\n";
  for (const RequestRecord& r : records) {
    if (!r.was_sent()) continue;
    auto since_sent = [&r](Time t) { return t.IsMax() ? std::string() : Milliseconds6((t - r.sent).picoseconds()); };
    std::string tpot;
    if (r.done() && r.tokens_received > 1) {
      double ps =
          static_cast<double>((r.finished - r.first_token).picoseconds()) / static_cast<double>(r.tokens_received - 1);
      tpot = Fixed(ps / 1e9, 6);
    }
    out << r.id << ',' << r.replica << ',' << r.input_tokens << ',' << r.output_tokens << ','
        << Milliseconds6(r.sent.picoseconds()) << ',' << since_sent(r.scheduled) << ',' << since_sent(r.first_token)
        << ',' << tpot << ',' << since_sent(r.finished) << ',' << r.preemptions << ',' << r.prefix_hit_tokens << '\n';
  }
}

Result<std::map<std::string, double>> ReadVllmResult(const std::string& text, const std::string& name) {
  if (JsonNestingDepth(text, kMaxJsonDepth) > kMaxJsonDepth) {
    return InvalidArgument(name + ": nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return InvalidArgument(name + ": not valid JSON: " + e.what());
  } catch (const nlohmann::json::exception& e) {
    // out_of_range: a number such as 1e400 that no double holds.
    return JsonNumberOutOfRange(name, text, e.what());
  }
  if (!j.is_object()) return InvalidArgument(name + ": expected a JSON object, got " + j.type_name());
  std::map<std::string, double> metrics;
  for (const auto& [key, value] : j.items()) {
    if (value.is_number()) {
      metrics[key] = value.get<double>();
    } else if (IsSharedMetricKey(key) && !(key == "request_goodput" && value.is_null())) {
      return InvalidArgument(name + ": field '" + key + "': expected a number, got " + value.type_name());
    }
  }
  // Another JSON file (a calibration profile, a summary of something else) has none of the metrics to compare.
  if (std::none_of(metrics.begin(), metrics.end(), [](const auto& m) { return IsSharedMetricKey(m.first); })) {
    return InvalidArgument(name +
                           ": none of the metrics `vllm bench serve --save-result` writes (mean_ttft_ms, "
                           "output_throughput, ...): is this its result file?");
  }
  return metrics;
}

}  // namespace wiresim
