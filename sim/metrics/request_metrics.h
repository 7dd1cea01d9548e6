// Request metrics: what `vllm bench serve` reports, computed the way it computes them (vllm/benchmarks/serve.py,
// calculate_metrics): TTFT, TPOT = (E2EL - TTFT) / (output tokens - 1) for requests with more than one output
// token, ITL = every gap between consecutive streamed chunks of a request (one token each, or several when
// speculative decoding accepts drafts), E2EL; mean, median, std and percentiles
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
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/core/status.h"
#include "sim/core/time.h"

namespace wiresim {

struct RequestRecord {
  int64_t id = 0;
  int replica = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;       // requested
  Time sent = Time::Max();         // the client sent it (after any concurrency limit let it through); Max: never
  Time scheduled = Time::Max();    // first admitted into a batch (Time::Max() if never)
  Time first_token = Time::Max();  // Time::Max() if none yet
  Time last_token = Time::Max();   // Time::Max() if none yet
  Time finished = Time::Max();     // Time::Max() if unfinished
  int64_t tokens_received = 0;     // what TPOT divides by, as vLLM uses the server's completion_tokens
  int64_t preemptions = 0;
  int64_t prefix_hit_tokens = 0;
  bool was_sent() const { return !sent.IsMax(); }
  bool done() const { return !finished.IsMax(); }
  // vllm bench serve counts a request as successful when its stream ended after at least one token.
  bool succeeded() const { return done() && tokens_received > 0; }
};

// SLOs in milliseconds; 0 = not set. A request counts towards goodput when it meets every SLO that is set.
struct ServingSlo {
  double ttft_ms = 0;
  double tpot_ms = 0;
  double e2el_ms = 0;
  bool any() const { return ttft_ms > 0 || tpot_ms > 0 || e2el_ms > 0; }
};

// Whether the latency from `from` to `to` exceeds `limit_ms`, compared as vllm compares (`slo_ms / 1000 >= value_s`
// meets it).
bool ExceedsSlo(double limit_ms, Time from, Time to);
// Whether a finished request meets every SLO set, as vllm's goodput judges it (a request of one token has TPOT 0).
bool MeetsSlo(const RequestRecord& r, const ServingSlo& slo);

struct LatencyStats {
  double mean = 0, median = 0, std = 0;
  std::vector<std::pair<double, double>> percentiles;  // (p, value), p in the order asked
};

struct ServingSummary {
  int64_t completed = 0;
  int64_t failed = 0;             // sent but unfinished at the end of the run, or finished without a token
  double duration_s = 0;          // benchmark start (SetBenchmarkStart, default 0) to the last completion
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
  // Echoed from the workload by the caller, for the printed block (vllm prints each line only when it is set).
  int64_t max_concurrency = 0;  // 0: no limit, "Maximum request concurrency:" omitted
  double request_rate = 0;      // requests/s; 0: all at once (vllm's inf), "Request rate configured (RPS):" omitted
};

class RequestMetrics {
 public:
  // The ITL histogram starts with room for many distinct values: rehashing it as it grows costs more than the room.
  RequestMetrics() { itl_ps_.reserve(1 << 16); }

  // Where the benchmark's clock starts (vllm's benchmark_start_time, taken before the first arrival delay);
  // Time::Zero() unless set. The duration runs from here to the last completion.
  void SetBenchmarkStart(Time t) { benchmark_start_ = t; }

  // Events, in simulated-time order. OnSent comes first for an id, once; the others REQUIRE it.
  void OnSent(int64_t id, Time t, int64_t input_tokens, int64_t output_tokens, int replica);
  void OnScheduled(int64_t id, Time t);  // the first call for a request counts
  void OnPreempted(int64_t id);
  void OnPrefixHit(int64_t id, int64_t tokens);
  // Output tokens arrived at the client in one streamed chunk (vLLM streams a step's tokens for a request together).
  void OnToken(int64_t id, Time t, int64_t tokens = 1);
  void OnFinished(int64_t id, Time t);

  // By id (ids are dense from 0; an id never sent has was_sent() false and counts nowhere).
  const std::vector<RequestRecord>& records() const { return records_; }
  // The summary over successful requests (finished with at least one token), as vllm's calculate_metrics.
  // `percentiles` in [0, 100], reported in the order given.
  ServingSummary Summarize(const ServingSlo& slo, const std::vector<double>& percentiles) const;

 private:
  RequestRecord& Record(int64_t id);
  void CountFinishedTokens(const RequestRecord& r, const std::vector<Time>& token_times);

  Time benchmark_start_ = Time::Zero();
  // The origin of the 1-second buckets: the earliest send (vllm: the earliest send of a successful request; the
  // two agree unless the earliest-sent request fails).
  Time bucket_origin_ = Time::Max();
  std::vector<RequestRecord> records_;
  // Chunk arrival times of requests still streaming; moved into the counters below when a request succeeds, so
  // memory grows with the requests in flight, not with the run.
  std::unordered_map<int64_t, std::vector<Time>> in_flight_tokens_;
  std::unordered_map<int64_t, int64_t> itl_ps_;  // exact ITL histogram of successful requests: picoseconds -> count
  std::vector<int64_t> tokens_per_second_;       // successful requests' tokens, by whole seconds since the origin
  std::vector<int64_t> concurrency_change_;      // +1 at a request's first second, -1 after its last second
};

// numpy.percentile(values, p) with linear interpolation, over a sorted vector; 0 for none (vllm's `values or 0`).
double Percentile(const std::vector<double>& sorted, double p);

// The block `vllm bench serve` prints ("============ Serving Benchmark Result ============" ...), same labels and
// layout, with all four latency sections (as with --percentile-metrics ttft,tpot,itl,e2el). A non-empty `title`
// replaces "Serving Benchmark Result" in the first line.
void PrintServingSummary(std::ostream& out, const ServingSummary& s, const std::string& title);
// The block's layout, for reports that continue it: a "{:<40} {:<10.2f}" line, and a section header centred in 50
// dashes.
void PrintSummaryLine(std::ostream& out, const std::string& label, double value);
void PrintSummaryHeader(std::ostream& out, const std::string& title);
// The keys `vllm bench serve --save-result` writes for the metrics wiresim shares (completed, duration,
// request_throughput, output_throughput, total_token_throughput, mean_ttft_ms, median_ttft_ms, std_ttft_ms,
// p99_ttft_ms, ... for ttft, tpot, itl, e2el), as a JSON object text; wiresim's own keys are added by the caller.
// request_goodput is null when no SLO is set, as vllm writes it.
std::string SummaryJsonFields(const ServingSummary& s);  // nlohmann::ordered_json dump of the object
// requests.csv: a header, then one row per sent request:
//   id,replica,input_tokens,output_tokens,sent_ms,queue_ms,ttft_ms,tpot_ms,e2el_ms,preemptions,prefix_hit_tokens
// output_tokens is the requested count; times in ms with 6 decimals (byte-identical across runs); a time whose
// event has not happened (never scheduled, no token yet, unfinished; TPOT of fewer than 2 tokens) is empty.
void WriteRequestsCsv(std::ostream& out, const std::vector<RequestRecord>& records);

// A `vllm bench serve --save-result` JSON file: the metrics it holds, by key (e.g. "mean_ttft_ms" -> 122.88).
// Every top-level number is returned; other values are skipped, except that a metric key wiresim writes (see
// SummaryJsonFields) holding anything but a number (or null for request_goodput) is an error. Errors name the file
// and the field: "NAME: field 'mean_ttft_ms': expected a number, got string".
Result<std::map<std::string, double>> ReadVllmResult(const std::string& text, const std::string& name);

}  // namespace wiresim
