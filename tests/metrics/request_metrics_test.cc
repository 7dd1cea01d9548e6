// Request metrics against values derived by hand from vllm/benchmarks/serve.py (calculate_metrics, benchmark) and
// numpy's percentile ("linear": virtual index (n - 1) * p / 100, interpolated between its floor and the next value).
#include "sim/metrics/request_metrics.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

#include <catch2/catch.hpp>

namespace wiresim {
namespace {

Time Ms(int64_t ms) { return Time::Milliseconds(ms); }

// One request sent at `sent`, its tokens at `tokens`, finished with the last token.
void Stream(RequestMetrics& m, int64_t id, Time sent, int64_t input, const std::vector<Time>& tokens) {
  m.OnSent(id, sent, input, static_cast<int64_t>(tokens.size()), 0);
  for (Time t : tokens) m.OnToken(id, t);
  m.OnFinished(id, tokens.back());
}

// Three requests, benchmark start at 0:
//   r0 sent   0 ms, input 10, tokens at 100 120 150 190: TTFT 100, E2EL 190, TPOT (190-100)/3 = 30, ITLs 20 30 40
//   r1 sent  50 ms, input 20, tokens at 250 270:         TTFT 200, E2EL 220, TPOT 20/1 = 20,          ITL  20
//   r2 sent 100 ms, input 30, token at 400:              TTFT 300, E2EL 300, no TPOT (0 for goodput), no ITL
RequestMetrics ThreeRequests() {
  RequestMetrics m;
  Stream(m, 0, Ms(0), 10, {Ms(100), Ms(120), Ms(150), Ms(190)});
  Stream(m, 1, Ms(50), 20, {Ms(250), Ms(270)});
  Stream(m, 2, Ms(100), 30, {Ms(400)});
  return m;
}

double P(const LatencyStats& s, size_t i) { return s.percentiles.at(i).second; }

TEST_CASE("numpy's linear percentile over a sorted list") {
  // [1 2 3 4], p = 25: index 3 * 0.25 = 0.75, 1 + 0.75 * (2 - 1) = 1.75 (numpy gives 1.75).
  CHECK(Percentile({1, 2, 3, 4}, 25) == 1.75);
  CHECK(Percentile({1, 2, 3, 4}, 0) == 1);
  CHECK(Percentile({1, 2, 3, 4}, 100) == 4);
  // p = 50: index 1.5, between 2 and 3.
  CHECK(Percentile({1, 2, 3, 4}, 50) == 2.5);
  CHECK(Percentile({7}, 99) == 7);
  CHECK(Percentile({}, 99) == 0);  // vllm's `values or 0`
}

TEST_CASE("TTFT, TPOT, pooled ITL and E2EL of three requests, as vllm's calculate_metrics") {
  ServingSummary s = ThreeRequests().Summarize({}, {50, 90, 99});
  CHECK(s.completed == 3);
  CHECK(s.failed == 0);
  // TTFT [100 200 300]: mean 200, median 200, std sqrt((100^2 + 0 + 100^2) / 3) = 81.6497 (ddof 0);
  // p90: index 2 * 0.9 = 1.8, 200 + 0.8 * 100 = 280; p99: index 1.98, 300 - 0.02 * 100 = 298.
  CHECK(s.ttft_ms.mean == Approx(200).epsilon(1e-12));
  CHECK(s.ttft_ms.median == Approx(200).epsilon(1e-12));
  CHECK(s.ttft_ms.std == Approx(std::sqrt(20000.0 / 3)).epsilon(1e-12));
  CHECK(P(s.ttft_ms, 0) == Approx(200).epsilon(1e-12));
  CHECK(P(s.ttft_ms, 1) == Approx(280).epsilon(1e-12));
  CHECK(P(s.ttft_ms, 2) == Approx(298).epsilon(1e-12));
  REQUIRE(s.ttft_ms.percentiles.size() == 3);
  CHECK(s.ttft_ms.percentiles[2].first == 99);
  // TPOT only for r0 and r1: [20 30]: mean 25, median 25, std 5; p99: index 0.99, 30 - 0.01 * 10 = 29.9.
  CHECK(s.tpot_ms.mean == Approx(25).epsilon(1e-12));
  CHECK(s.tpot_ms.median == Approx(25).epsilon(1e-12));
  CHECK(s.tpot_ms.std == Approx(5).epsilon(1e-12));
  CHECK(P(s.tpot_ms, 2) == Approx(29.9).epsilon(1e-12));
  // ITL pooled [20 20 30 40]: mean 27.5, median (20 + 30) / 2 = 25,
  // std sqrt((7.5^2 + 7.5^2 + 2.5^2 + 12.5^2) / 4) = sqrt(68.75); p99: index 2.97, 40 - 0.03 * 10 = 39.7.
  CHECK(s.itl_ms.mean == Approx(27.5).epsilon(1e-12));
  CHECK(s.itl_ms.median == Approx(25).epsilon(1e-12));
  CHECK(s.itl_ms.std == Approx(std::sqrt(68.75)).epsilon(1e-12));
  CHECK(P(s.itl_ms, 0) == Approx(25).epsilon(1e-12));
  CHECK(P(s.itl_ms, 2) == Approx(39.7).epsilon(1e-12));
  // E2EL [190 220 300]: mean 710 / 3, median 220; p99: index 1.98, 300 - 0.02 * 80 = 298.4.
  CHECK(s.e2el_ms.mean == Approx(710.0 / 3).epsilon(1e-12));
  CHECK(s.e2el_ms.median == Approx(220).epsilon(1e-12));
  CHECK(P(s.e2el_ms, 2) == Approx(298.4).epsilon(1e-12));
}

TEST_CASE("Throughputs run over the benchmark duration, from its start to the last completion") {
  ServingSummary s = ThreeRequests().Summarize({}, {99});
  // Duration 0 -> 400 ms. 3 requests / 0.4 s = 7.5; output 4 + 2 + 1 = 7 tokens / 0.4 = 17.5;
  // total (10 + 20 + 30 + 7) / 0.4 = 167.5.
  CHECK(s.duration_s == Approx(0.4).epsilon(1e-12));
  CHECK(s.total_input == 60);
  CHECK(s.total_output == 7);
  CHECK(s.request_throughput == Approx(7.5).epsilon(1e-12));
  CHECK(s.output_throughput == Approx(17.5).epsilon(1e-12));
  CHECK(s.total_token_throughput == Approx(167.5).epsilon(1e-12));
  CHECK(s.request_goodput == 0);  // no SLO
  // Everything falls in the first second after the first send: 7 tokens, 3 requests in flight in it.
  CHECK(s.max_output_tokens_per_s == 7);
  CHECK(s.max_concurrent_requests == 3);

  // A later benchmark start shortens the duration: 100 -> 400 ms.
  RequestMetrics late = ThreeRequests();
  late.SetBenchmarkStart(Ms(100));
  CHECK(late.Summarize({}, {}).request_throughput == Approx(3 / 0.3).epsilon(1e-12));
}

TEST_CASE("Goodput counts the requests meeting every SLO set, a one-token request has TPOT 0") {
  RequestMetrics m = ThreeRequests();
  // TTFT <= 250 ms: r0 (100) and r1 (200) -> 2 / 0.4 s = 5.
  CHECK(m.Summarize({.ttft_ms = 250}, {}).request_goodput == Approx(5).epsilon(1e-12));
  // TPOT <= 25 ms: r1 (20) and r2 (one token: 0) -> 5; r0 (30) misses.
  CHECK(m.Summarize({.tpot_ms = 25}, {}).request_goodput == Approx(5).epsilon(1e-12));
  // Both: only r1 -> 2.5.
  CHECK(m.Summarize({.ttft_ms = 250, .tpot_ms = 25}, {}).request_goodput == Approx(2.5).epsilon(1e-12));
  // E2EL <= 220 ms, met exactly by r1 (vllm compares slo >= value): r0 and r1 -> 5.
  CHECK(m.Summarize({.e2el_ms = 220}, {}).request_goodput == Approx(5).epsilon(1e-12));
}

TEST_CASE("When every output is one token there is no TPOT, and its statistics are 0 as vllm's `tpots or 0`") {
  RequestMetrics m;
  Stream(m, 0, Ms(0), 5, {Ms(10)});
  Stream(m, 1, Ms(0), 5, {Ms(30)});
  ServingSummary s = m.Summarize({.tpot_ms = 1}, {99});
  CHECK(s.tpot_ms.mean == 0);
  CHECK(s.tpot_ms.median == 0);
  CHECK(s.tpot_ms.std == 0);
  CHECK(P(s.tpot_ms, 0) == 0);
  CHECK(s.itl_ms.mean == 0);
  CHECK(P(s.itl_ms, 0) == 0);
  // Both meet tpot <= 1 ms with TPOT 0: 2 requests / 0.03 s.
  CHECK(s.request_goodput == Approx(2 / 0.03).epsilon(1e-12));
  CHECK(s.ttft_ms.mean == Approx(20).epsilon(1e-12));
}

TEST_CASE("Peak tokens and concurrency count per 1-second bucket, failed requests count nowhere") {
  RequestMetrics m;
  // Origin: the first send, 0.5 s. Buckets are floor((t - 0.5 s) / 1 s).
  // r0: sent 0.5 s, tokens 0.55 0.60 (bucket 0), done 0.60 -> in flight in bucket 0.
  Stream(m, 0, Ms(500), 1, {Ms(550), Ms(600)});
  // r1: sent 1.0 s (bucket 0), tokens 1.2 (0), 1.9 (1), 3.4 (2), done 3.4 -> in flight in buckets 0..2.
  m.OnSent(1, Ms(1000), 1, 3, 0);
  // r2: sent 1.2 s, tokens 1.5 1.6, never finishes: failed; its tokens and its ITL of 100 ms are not counted.
  m.OnSent(2, Ms(1200), 1, 8, 0);
  m.OnToken(1, Ms(1200));
  m.OnToken(2, Ms(1500));
  m.OnToken(2, Ms(1600));
  m.OnToken(1, Ms(1900));
  m.OnToken(1, Ms(3400));
  m.OnFinished(1, Ms(3400));
  ServingSummary s = m.Summarize({}, {50});
  CHECK(s.completed == 2);
  CHECK(s.failed == 1);
  // Tokens per bucket: 0 -> 3 (0.55, 0.60, 1.2), 1 -> 1, 2 -> 1.
  CHECK(s.max_output_tokens_per_s == 3);
  // r0 and r1 never overlap in time, but both are in bucket 0: vllm reports 2.
  CHECK(s.max_concurrent_requests == 2);
  // ITLs of the successful requests only: [50 700 1500] -> median 700 (with r2's 100 it would be 400).
  CHECK(s.itl_ms.median == Approx(700).epsilon(1e-12));
  CHECK(s.itl_ms.mean == Approx(750).epsilon(1e-12));
  // Duration 0 -> 3.4 s; output 2 + 3 tokens of successful requests.
  CHECK(s.total_output == 5);
  CHECK(s.output_throughput == Approx(5 / 3.4).epsilon(1e-12));
}

TEST_CASE("A request that finishes without a token failed, as a stream without a chunk does in vllm") {
  RequestMetrics m;
  m.OnSent(0, Ms(0), 4, 4, 0);
  m.OnFinished(0, Ms(5));
  ServingSummary s = m.Summarize({}, {99});
  CHECK(s.completed == 0);
  CHECK(s.failed == 1);
  CHECK(s.duration_s == 0);
  CHECK(s.request_throughput == 0);
  CHECK(s.max_concurrent_requests == 0);
}

TEST_CASE("The ITL histogram gives numpy's statistics over the full list of gaps") {
  std::mt19937_64 rng(7);
  RequestMetrics m;
  std::vector<double> gaps_s;  // every ITL, as the explicit list vllm would hold
  for (int64_t id = 0; id < 40; ++id) {
    Time t = Time::Milliseconds(id);
    m.OnSent(id, t, 1, 1, 0);
    int64_t tokens = 1 + static_cast<int64_t>(rng() % 30);
    for (int64_t k = 0; k < tokens; ++k) {
      // Gaps of 1..50 us: many repeats, so the histogram has far fewer keys than values.
      Time gap = Time::Microseconds(1 + static_cast<int64_t>(rng() % 50));
      t += gap;
      if (k > 0) gaps_s.push_back(static_cast<double>(gap.picoseconds()) / 1e12);
      m.OnToken(id, t);
    }
    m.OnFinished(id, t);
  }
  std::vector<double> ps = {0, 1, 10, 25, 33.3, 50, 75, 90, 99, 99.9, 100};
  ServingSummary s = m.Summarize({}, ps);
  std::sort(gaps_s.begin(), gaps_s.end());
  size_t n = gaps_s.size();
  REQUIRE(n > 100);
  for (size_t i = 0; i < ps.size(); ++i) {
    INFO("p" << ps[i]);
    CHECK(P(s.itl_ms, i) == Percentile(gaps_s, ps[i]) * 1000);
  }
  double median = n % 2 ? gaps_s[n / 2] : (gaps_s[n / 2 - 1] + gaps_s[n / 2]) / 2;
  CHECK(s.itl_ms.median == median * 1000);
  double sum = 0;
  for (double g : gaps_s) sum += g;
  double mean = sum / static_cast<double>(n);
  double squares = 0;
  for (double g : gaps_s) squares += (g - mean) * (g - mean);
  CHECK(s.itl_ms.mean == Approx(mean * 1000).epsilon(1e-12));
  CHECK(s.itl_ms.std == Approx(std::sqrt(squares / static_cast<double>(n)) * 1000).epsilon(1e-10));
  // The same events give the same summary, bit for bit.
  CHECK(SummaryJsonFields(m.Summarize({}, ps)) == SummaryJsonFields(s));
}

// The block of the real run in shared/samples/serving-bench/vllm_bench_serve_output.txt (vllm bench serve
// --request-rate 0.3 --percentile-metrics ttft,tpot,itl,e2el --metric-percentiles 50,90,95,99), lines verbatim
// with their trailing spaces.
constexpr const char* kRealBlock =
    "============ Serving Benchmark Result ============\n"
    "Successful requests:                     250       \n"
    "Failed requests:                         0         \n"
    "Request rate configured (RPS):           0.30      \n"
    "Benchmark duration (s):                  835.07    \n"
    "Total input tokens:                      69764     \n"
    "Total generated tokens:                  44889     \n"
    "Request throughput (req/s):              0.30      \n"
    "Output token throughput (tok/s):         53.75     \n"
    "Peak output token throughput (tok/s):    149.00    \n"
    "Peak concurrent requests:                8.00      \n"
    "Total token throughput (tok/s):          137.30    \n"
    "---------------Time to First Token----------------\n"
    "Mean TTFT (ms):                          122.88    \n"
    "Median TTFT (ms):                        118.16    \n"
    "P50 TTFT (ms):                           118.16    \n"
    "P90 TTFT (ms):                           171.34    \n"
    "P95 TTFT (ms):                           183.73    \n"
    "P99 TTFT (ms):                           206.12    \n"
    "-----Time per Output Token (excl. 1st token)------\n"
    "Mean TPOT (ms):                          28.38     \n"
    "Median TPOT (ms):                        29.08     \n"
    "P50 TPOT (ms):                           29.08     \n"
    "P90 TPOT (ms):                           35.57     \n"
    "P95 TPOT (ms):                           36.73     \n"
    "P99 TPOT (ms):                           39.08     \n"
    "---------------Inter-token Latency----------------\n"
    "Mean ITL (ms):                           32.13     \n"
    "Median ITL (ms):                         24.78     \n"
    "P50 ITL (ms):                            24.78     \n"
    "P90 ITL (ms):                            35.58     \n"
    "P95 ITL (ms):                            37.62     \n"
    "P99 ITL (ms):                            68.03     \n"
    "----------------End-to-end Latency----------------\n"
    "Mean E2EL (ms):                          5270.27   \n"
    "Median E2EL (ms):                        3189.07   \n"
    "P50 E2EL (ms):                           3189.07   \n"
    "P90 E2EL (ms):                           13425.00  \n"
    "P95 E2EL (ms):                           15480.67  \n"
    "P99 E2EL (ms):                           21985.09  \n"
    "==================================================\n";

LatencyStats Stats(double mean, double median, std::vector<double> p50_90_95_99) {
  LatencyStats s;
  s.mean = mean;
  s.median = median;
  const double ps[] = {50, 90, 95, 99};
  for (size_t i = 0; i < 4; ++i) s.percentiles.emplace_back(ps[i], p50_90_95_99[i]);
  return s;
}

ServingSummary RealRunNumbers() {
  ServingSummary s;
  s.completed = 250;
  s.request_rate = 0.3;
  s.duration_s = 835.07;
  s.total_input = 69764;
  s.total_output = 44889;
  s.request_throughput = 0.2994;
  s.output_throughput = 53.754;
  s.max_output_tokens_per_s = 149;
  s.max_concurrent_requests = 8;
  s.total_token_throughput = 137.2986;
  s.ttft_ms = Stats(122.88, 118.16, {118.16, 171.34, 183.73, 206.12});
  s.tpot_ms = Stats(28.38, 29.08, {29.08, 35.57, 36.73, 39.08});
  s.itl_ms = Stats(32.13, 24.78, {24.78, 35.58, 37.62, 68.03});
  s.e2el_ms = Stats(5270.27, 3189.07, {3189.07, 13425, 15480.67, 21985.09});
  return s;
}

TEST_CASE("The printed block has vllm bench serve's labels and layout, line for line") {
  std::ostringstream out;
  PrintServingSummary(out, RealRunNumbers(), "");
  CHECK(out.str() == kRealBlock);
}

TEST_CASE("The printed block adds the concurrency and goodput lines only when set, and takes a title") {
  ServingSummary s = RealRunNumbers();
  s.max_concurrency = 16;
  s.slo.ttft_ms = 200;
  s.request_goodput = 0.25;
  std::ostringstream out;
  PrintServingSummary(out, s, "wiresim");
  std::string text = out.str();
  // " wiresim " is 9 characters: 41 '=' around it, 20 left and 21 right as Python's '^' centring.
  CHECK(text.rfind(std::string(20, '=') + " wiresim " + std::string(21, '=') + "\n", 0) == 0);
  CHECK(text.find("Maximum request concurrency:             16        \n") != std::string::npos);
  CHECK(text.find("Request goodput (req/s):                 0.25      \n") != std::string::npos);
  // vllm prints goodput right after the request throughput.
  CHECK(text.find("Request goodput") > text.find("Request throughput"));
  CHECK(text.find("Request goodput") < text.find("Output token throughput"));
}

TEST_CASE("The JSON fields carry vllm's --save-result keys in its order") {
  ServingSummary s = ThreeRequests().Summarize({}, {50, 99.9});
  std::string json = SummaryJsonFields(s);
  const char* keys[] = {"\"duration\"",
                        "\"completed\"",
                        "\"failed\"",
                        "\"total_input_tokens\"",
                        "\"total_output_tokens\"",
                        "\"request_throughput\"",
                        "\"request_goodput\"",
                        "\"output_throughput\"",
                        "\"total_token_throughput\"",
                        "\"max_output_tokens_per_s\"",
                        "\"max_concurrent_requests\"",
                        "\"mean_ttft_ms\"",
                        "\"median_ttft_ms\"",
                        "\"std_ttft_ms\"",
                        "\"p50_ttft_ms\"",
                        "\"p99.9_ttft_ms\"",
                        "\"mean_tpot_ms\"",
                        "\"p99.9_itl_ms\"",
                        "\"mean_e2el_ms\"",
                        "\"p99.9_e2el_ms\""};
  size_t at = 0;
  for (const char* key : keys) {
    INFO(key);
    size_t found = json.find(key);
    REQUIRE(found != std::string::npos);
    CHECK(found >= at);
    at = found;
  }
  CHECK(json.find("\"request_goodput\": null") != std::string::npos);  // no SLO: vllm writes None
  CHECK(json.find("\"completed\": 3,") != std::string::npos);
  CHECK(json.find("\"max_concurrent_requests\": 3,") != std::string::npos);

  // Read back as a --save-result file.
  Result<std::map<std::string, double>> back = ReadVllmResult(json, "run.json");
  REQUIRE(back.ok());
  CHECK(back->at("duration") == s.duration_s);
  CHECK(back->at("p99.9_itl_ms") == P(s.itl_ms, 1));
  CHECK(back->at("mean_ttft_ms") == s.ttft_ms.mean);
  CHECK(back->count("request_goodput") == 0);
}

TEST_CASE("requests.csv: a header and one row per sent request, times in ms with 6 decimals") {
  RequestMetrics m;
  // r0: sent 1.5 ms, scheduled 2 ms, tokens 4.25 ms and 7.25 ms, done: queue 0.5, TTFT 2.75, TPOT 3, E2EL 5.75.
  m.OnSent(0, Time::Microseconds(1500), 12, 2, 1);
  m.OnScheduled(0, Ms(2));
  m.OnScheduled(0, Ms(3));  // only the first admission counts
  m.OnPreempted(0);
  m.OnPrefixHit(0, 8);
  m.OnToken(0, Time::Microseconds(4250));
  m.OnToken(0, Time::Microseconds(7250));
  m.OnFinished(0, Time::Microseconds(7250));
  // r1: sent at 1/3 us (333.333 ps rounds to 333 ps = 0.000000333 ms -> 0.000000 at 6 decimals), never scheduled.
  m.OnSent(1, Time::Picoseconds(333), 4, 9, 0);
  std::ostringstream out;
  WriteRequestsCsv(out, m.records());
  CHECK(out.str() ==
        "id,replica,input_tokens,output_tokens,sent_ms,queue_ms,ttft_ms,tpot_ms,e2el_ms,preemptions,"
        "prefix_hit_tokens\n"
        "0,1,12,2,1.500000,0.500000,2.750000,3.000000,5.750000,1,8\n"
        "1,0,4,9,0.000000,,,,,0,0\n");
}

TEST_CASE("ReadVllmResult reads the numbers of a --save-result file and names what is wrong") {
  Result<std::map<std::string, double>> good = ReadVllmResult(
      R"({"date": "20250101-120000", "completed": 250, "mean_ttft_ms": 122.88, "request_goodput": null,
          "ttfts": [0.1, 0.2], "itls": [[0.01], []], "p99_ttft_ms": 206.12})",
      "vllm.json");
  REQUIRE(good.ok());
  CHECK(good->size() == 3);
  CHECK(good->at("completed") == 250);
  CHECK(good->at("mean_ttft_ms") == 122.88);
  CHECK(good->at("p99_ttft_ms") == 206.12);

  auto error = [](const std::string& text) {
    Result<std::map<std::string, double>> r = ReadVllmResult(text, "vllm.json");
    REQUIRE_FALSE(r.ok());
    return r.status().message();
  };
  CHECK(error(R"({"mean_ttft_ms": "122.88"})") == "vllm.json: field 'mean_ttft_ms': expected a number, got string");
  CHECK(error(R"({"p99.9_itl_ms": true})") == "vllm.json: field 'p99.9_itl_ms': expected a number, got boolean");
  CHECK(error(R"({"completed": null})") == "vllm.json: field 'completed': expected a number, got null");
  CHECK(error("[1, 2]") == "vllm.json: expected a JSON object, got array");
  // A JSON object without one of its metrics (here a calibration profile's head) is not a result to compare.
  CHECK(error(R"({"format": "wiresim-calibration", "version": 1})") ==
        "vllm.json: none of the metrics `vllm bench serve --save-result` writes (mean_ttft_ms, output_throughput, "
        "...): is this its result file?");
  // 1e400 is above a double's 1.8e308: refused with its line (the second).
  CHECK(error("{\n\"duration\": 1e400}") == "vllm.json:2: the number 1e400 is out of range (no double holds it)");
  CHECK(error(R"({"duration": NaN})").rfind("vllm.json: not valid JSON: ", 0) == 0);  // Python writes NaN
  CHECK(error(R"({"duration": )").rfind("vllm.json: not valid JSON: ", 0) == 0);
  CHECK(error("").rfind("vllm.json: not valid JSON: ", 0) == 0);
  // Deep nesting is refused before the recursive parser sees it; brackets inside strings do not count.
  CHECK(error(std::string(100000, '[') + std::string(100000, ']')) == "vllm.json: nested deeper than 32 levels");
  CHECK(ReadVllmResult(R"({"note": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "completed": 1})", "v").ok());
}

}  // namespace
}  // namespace wiresim

namespace wiresim {
namespace {

TEST_CASE("Several tokens in one streamed chunk (speculative decoding): one ITL per chunk, TPOT per token") {
  // A request sent at 0: its first token at 100 ms, then chunks of 3, 1 and 4 tokens at 130, 150 and 190 ms.
  // vllm bench serve appends an ITL per chunk: [30 20 40]; TPOT = (190 - 100) / (9 - 1) = 11.25 ms.
  RequestMetrics m;
  m.OnSent(0, Time::Zero(), 10, 9, 0);
  m.OnToken(0, Time::Milliseconds(100));
  m.OnToken(0, Time::Milliseconds(130), 3);
  m.OnToken(0, Time::Milliseconds(150), 1);
  m.OnToken(0, Time::Milliseconds(190), 4);
  m.OnFinished(0, Time::Milliseconds(190));
  const ServingSummary s = m.Summarize({}, {50});
  CHECK(s.total_output == 9);
  CHECK(s.tpot_ms.mean == Approx(11.25).epsilon(1e-12));
  CHECK(s.itl_ms.mean == Approx(30).epsilon(1e-12));
  CHECK(s.itl_ms.median == Approx(30).epsilon(1e-12));
}

}  // namespace
}  // namespace wiresim
