// Request metrics: what `vllm bench serve` reports, computed the way it computes them (vllm/benchmarks/serve.py,
// calculate_metrics): TTFT, TPOT = (E2EL - TTFT) / (output tokens - 1) for requests with more than one output
// token, ITL = every gap between consecutive output tokens of a request, E2EL; mean, median, std and percentiles
// with numpy's linear interpolation; request, output and total token throughput over the benchmark's duration;
// goodput under SLOs on TTFT, TPOT and E2EL. docs/metrics.md defines each number.
//
// The collector watches a run (it never steers it) and keeps what it needs in bounded memory: per request a fixed
// record, and the ITLs as an exact histogram of distinct values, so a million requests fit.
//
//   RequestMetrics m;
//   m.OnSent(id, t, input, output);  m.OnToken(id, t1);  ...  m.OnFinished(id, tn);
//   ServingSummary s = m.Summarize(slo, {50, 90, 99});
//   PrintServingSummary(std::cout, s);
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "sim/core/status.h"
#include "sim/core/time.h"

namespace wiresim {

struct RequestRecord {
  int64_t id = 0;
  int replica = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;  // requested
  Time sent;                  // the client sent it (after any concurrency limit let it through)
  Time scheduled;             // first admitted into a batch (Time::Max() if never)
  Time first_token;           // Time::Max() if none yet
  Time last_token;
  Time finished;              // Time::Max() if unfinished
  int64_t tokens_received = 0;
  int64_t preemptions = 0;
  int64_t prefix_hit_tokens = 0;
  bool done() const { return !finished.IsMax(); }
};

// SLOs in milliseconds; 0 = not set. A request counts towards goodput when it meets every SLO that is set.
struct ServingSlo {
  double ttft_ms = 0;
  double tpot_ms = 0;
  double e2el_ms = 0;
  bool any() const { return ttft_ms > 0 || tpot_ms > 0 || e2el_ms > 0; }
};

struct LatencyStats {
  double mean = 0, median = 0, std = 0;
  std::vector<std::pair<double, double>> percentiles;  // (p, value), p in the order asked
};

struct ServingSummary {
  int64_t completed = 0;
  int64_t failed = 0;             // sent but unfinished at the end of the run
  double duration_s = 0;          // first send to last completion
  int64_t total_input = 0;        // of completed requests
  int64_t total_output = 0;       // tokens received by completed requests
  double request_throughput = 0;  // completed / duration
  double request_goodput = 0;     // completed within SLO / duration (0 when no SLO)
  double output_throughput = 0;
  double total_token_throughput = 0;
  double max_output_tokens_per_s = 0;  // peak over 1-second windows, as vllm bench serve
  int64_t max_concurrent_requests = 0;
  LatencyStats ttft_ms, tpot_ms, itl_ms, e2el_ms;
  ServingSlo slo;
};

class RequestMetrics {
 public:
  // Events, in simulated-time order.
  void OnSent(int64_t id, Time t, int64_t input_tokens, int64_t output_tokens, int replica);
  void OnScheduled(int64_t id, Time t);  // the first call for a request counts
  void OnPreempted(int64_t id);
  void OnPrefixHit(int64_t id, int64_t tokens);
  void OnToken(int64_t id, Time t);  // one output token arrived at the client
  void OnFinished(int64_t id, Time t);

  const std::vector<RequestRecord>& records() const { return records_; }  // by id (ids are dense from 0)
  ServingSummary Summarize(const ServingSlo& slo, const std::vector<double>& percentiles) const;

 private:
  std::vector<RequestRecord> records_;
  std::map<int64_t, int64_t> itl_ps_;  // exact ITL histogram: picoseconds -> count
  // ... what else the implementation needs (e.g. per-second token counts for the peak)
};

// numpy.percentile(values, p) with linear interpolation, over a sorted vector.
double Percentile(const std::vector<double>& sorted, double p);

// The block `vllm bench serve` prints ("============ Serving Benchmark Result ============" ...), same labels and
// layout.
void PrintServingSummary(std::ostream& out, const ServingSummary& s, const std::string& title);
// The keys `vllm bench serve --save-result` writes for the metrics wiresim shares (completed, duration,
// request_throughput, output_throughput, total_token_throughput, mean_ttft_ms, median_ttft_ms, std_ttft_ms,
// p99_ttft_ms, ... for ttft, tpot, itl, e2el), as a JSON object text; wiresim's own keys are added by the caller.
std::string SummaryJsonFields(const ServingSummary& s);  // nlohmann::ordered_json dump of the object
// requests.csv: one row per request with a header; times in ms with fixed decimals (byte-identical across runs).
void WriteRequestsCsv(std::ostream& out, const std::vector<RequestRecord>& records);

// A `vllm bench serve --save-result` JSON file: the metrics it holds, by key (e.g. "mean_ttft_ms" -> 122.88).
// Errors name the file and the field (not an object, a metric that is not a number).
Result<std::map<std::string, double>> ReadVllmResult(const std::string& text, const std::string& name);

}  // namespace wiresim
