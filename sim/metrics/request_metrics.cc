#include "sim/metrics/request_metrics.h"

#include <algorithm>
#include <cmath>

#include "sim/core/check.h"

namespace wiresim {
namespace {

constexpr int64_t kPicosecondsPerSecond = Time::Seconds(1).picoseconds();

// Seconds as vllm holds every latency (perf_counter differences); the statistics are taken in seconds and
// multiplied by 1000 afterwards, in the order calculate_metrics does it.
double Seconds(int64_t ps) { return static_cast<double>(ps) / static_cast<double>(kPicosecondsPerSecond); }

// numpy's _lerp: interpolates from the nearer end so that t = 1 gives b exactly.
double Lerp(double a, double b, double t) {
  double diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

// numpy.percentile's "linear" method over n sorted values read through at(k): virtual index (n - 1) * p / 100,
// interpolated between its floor and the next value.
template <typename At>
double LinearPercentile(int64_t n, double p, const At& at) {
  if (n == 0) return 0;
  double index = static_cast<double>(n - 1) * (p / 100.0);
  double below = std::floor(index);
  int64_t k = static_cast<int64_t>(below);
  return Lerp(at(k), at(std::min(k + 1, n - 1)), index - below);
}

// Distinct values in ascending order with how often each occurs: the exact form of a list for its statistics.
using Counted = std::vector<std::pair<double, int64_t>>;

Counted CountSorted(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  Counted out;
  for (double v : values) {
    if (!out.empty() && out.back().first == v) {
      ++out.back().second;
    } else {
      out.emplace_back(v, 1);
    }
  }
  return out;
}

// The k-th smallest value (from 0) of a counted list, by walking its cumulative counts.
double OrderStatistic(const Counted& values, int64_t k) {
  int64_t seen = 0;
  for (const auto& [value, count] : values) {
    seen += count;
    if (k < seen) return value;
  }
  WIRESIM_CHECK(false) << "order statistic " << k << " of " << seen << " values";
  return 0;
}

// mean, median, std (ddof = 0) and percentiles as numpy computes them over the full list, in ms; all zero for an
// empty list (vllm passes `values or 0`). Sums run in ascending value order so the result is the same every run.
LatencyStats StatsMs(const Counted& values, const std::vector<double>& percentiles) {
  LatencyStats out;
  int64_t n = 0;
  double sum = 0;
  for (const auto& [value, count] : values) {
    n += count;
    sum += value * static_cast<double>(count);
  }
  auto at = [&values](int64_t k) { return OrderStatistic(values, k); };
  if (n > 0) {
    double mean = sum / static_cast<double>(n);
    double squares = 0;
    for (const auto& [value, count] : values) squares += (value - mean) * (value - mean) * static_cast<double>(count);
    out.mean = mean * 1000;
    out.std = std::sqrt(squares / static_cast<double>(n)) * 1000;
    // np.median: the middle value, or the mean of the middle two.
    out.median = (n % 2 == 1 ? at(n / 2) : (at(n / 2 - 1) + at(n / 2)) / 2) * 1000;
  }
  for (double p : percentiles) out.percentiles.emplace_back(p, LinearPercentile(n, p, at) * 1000);
  return out;
}

}  // namespace

double Percentile(const std::vector<double>& sorted, double p) {
  return LinearPercentile(static_cast<int64_t>(sorted.size()), p,
                          [&sorted](int64_t k) { return sorted[static_cast<size_t>(k)]; });
}

// ---- collecting ----

RequestRecord& RequestMetrics::Record(int64_t id) {
  WIRESIM_CHECK(id >= 0 && id < static_cast<int64_t>(records_.size()) && records_[id].was_sent())
      << "request " << id << " was never sent";
  return records_[static_cast<size_t>(id)];
}

void RequestMetrics::OnSent(int64_t id, Time t, int64_t input_tokens, int64_t output_tokens, int replica) {
  WIRESIM_CHECK(id >= 0) << "request id " << id;
  if (id >= static_cast<int64_t>(records_.size())) records_.resize(static_cast<size_t>(id) + 1);
  RequestRecord& r = records_[static_cast<size_t>(id)];
  WIRESIM_CHECK(!r.was_sent()) << "request " << id << " sent twice";
  r.id = id;
  r.replica = replica;
  r.input_tokens = input_tokens;
  r.output_tokens = output_tokens;
  r.sent = t;
  bucket_origin_ = std::min(bucket_origin_, t);
}

void RequestMetrics::OnScheduled(int64_t id, Time t) {
  RequestRecord& r = Record(id);
  if (r.scheduled.IsMax()) r.scheduled = t;
}

void RequestMetrics::OnPreempted(int64_t id) { ++Record(id).preemptions; }

void RequestMetrics::OnPrefixHit(int64_t id, int64_t tokens) { Record(id).prefix_hit_tokens += tokens; }

void RequestMetrics::OnToken(int64_t id, Time t, int64_t tokens) {
  RequestRecord& r = Record(id);
  WIRESIM_CHECK(!r.done()) << "token for finished request " << id;
  WIRESIM_CHECK_GT(tokens, 0);
  if (r.first_token.IsMax()) r.first_token = t;
  r.last_token = t;
  r.tokens_received += tokens;
  in_flight_tokens_[id].push_back(t);
}

void RequestMetrics::OnFinished(int64_t id, Time t) {
  RequestRecord& r = Record(id);
  WIRESIM_CHECK(!r.done()) << "request " << id << " finished twice";
  r.finished = t;
  auto it = in_flight_tokens_.find(id);
  if (it == in_flight_tokens_.end()) return;  // no token: a failed request, counted nowhere else
  CountFinishedTokens(r, it->second);
  in_flight_tokens_.erase(it);
}

// What vllm derives from a successful request's chunk timestamps in calculate_metrics: its ITLs (pooled), its
// "tokens" per 1-second bucket (vllm counts a chunk as one there: it rebuilds token times from ttft and the ITLs),
// and the buckets it was in flight for (from int(start) to int(end), both included).
void RequestMetrics::CountFinishedTokens(const RequestRecord& r, const std::vector<Time>& token_times) {
  for (size_t i = 1; i < token_times.size(); ++i) ++itl_ps_[(token_times[i] - token_times[i - 1]).picoseconds()];
  auto bucket = [this](Time t) {
    return static_cast<size_t>((t - bucket_origin_).picoseconds() / kPicosecondsPerSecond);
  };
  size_t last = bucket(r.finished);
  if (tokens_per_second_.size() <= last) tokens_per_second_.resize(last + 1, 0);
  if (concurrency_change_.size() <= last + 1) concurrency_change_.resize(last + 2, 0);
  for (Time t : token_times) ++tokens_per_second_[bucket(t)];
  ++concurrency_change_[bucket(r.sent)];
  --concurrency_change_[last + 1];
}

// ---- summarizing ----

bool ExceedsSlo(double limit_ms, Time from, Time to) {
  return !(limit_ms / 1000 >= Seconds((to - from).picoseconds()));
}

bool MeetsSlo(const RequestRecord& r, const ServingSlo& slo) {
  // vllm compares `slo_ms / 1000 >= value_s` for every SLO given.
  if (slo.ttft_ms > 0 && ExceedsSlo(slo.ttft_ms, r.sent, r.first_token)) return false;
  if (slo.e2el_ms > 0 && ExceedsSlo(slo.e2el_ms, r.sent, r.finished)) return false;
  if (slo.tpot_ms > 0 && r.tokens_received > 1) {
    const double tpot =
        Seconds((r.finished - r.first_token).picoseconds()) / static_cast<double>(r.tokens_received - 1);
    if (!(slo.tpot_ms / 1000 >= tpot)) return false;
  }
  return true;
}

ServingSummary RequestMetrics::Summarize(const ServingSlo& slo, const std::vector<double>& percentiles) const {
  ServingSummary s;
  s.slo = slo;
  std::vector<double> ttfts, tpots, e2els;
  Time end = benchmark_start_;
  int64_t good = 0;
  for (const RequestRecord& r : records_) {
    if (!r.was_sent()) continue;
    if (!r.succeeded()) {
      ++s.failed;
      continue;
    }
    ++s.completed;
    s.total_input += r.input_tokens;
    s.total_output += r.tokens_received;
    end = std::max(end, r.finished);
    double ttft = Seconds((r.first_token - r.sent).picoseconds());
    double e2el = Seconds((r.finished - r.sent).picoseconds());
    double tpot = 0;  // vllm: a request of one token has TPOT 0 for goodput, and no TPOT in the statistics
    if (r.tokens_received > 1) {
      tpot = Seconds((r.finished - r.first_token).picoseconds()) / static_cast<double>(r.tokens_received - 1);
      tpots.push_back(tpot);
    }
    ttfts.push_back(ttft);
    e2els.push_back(e2el);
    if (slo.any() && MeetsSlo(r, slo)) ++good;
  }
  s.duration_s = Seconds((end - benchmark_start_).picoseconds());
  if (s.duration_s > 0) {
    s.request_throughput = static_cast<double>(s.completed) / s.duration_s;
    s.request_goodput = static_cast<double>(good) / s.duration_s;
    s.output_throughput = static_cast<double>(s.total_output) / s.duration_s;
    s.total_token_throughput = static_cast<double>(s.total_input + s.total_output) / s.duration_s;
  }
  for (int64_t tokens : tokens_per_second_) {
    s.max_output_tokens_per_s = std::max(s.max_output_tokens_per_s, static_cast<double>(tokens));
  }
  int64_t in_flight = 0;
  for (int64_t change : concurrency_change_) {
    in_flight += change;
    s.max_concurrent_requests = std::max(s.max_concurrent_requests, in_flight);
  }
  // The histogram is hashed for speed; its values in ascending order are what the statistics walk.
  std::vector<std::pair<int64_t, int64_t>> sorted_itl(itl_ps_.begin(), itl_ps_.end());
  std::sort(sorted_itl.begin(), sorted_itl.end());
  Counted itls;
  itls.reserve(sorted_itl.size());
  for (const auto& [ps, count] : sorted_itl) itls.emplace_back(Seconds(ps), count);
  s.ttft_ms = StatsMs(CountSorted(std::move(ttfts)), percentiles);
  s.tpot_ms = StatsMs(CountSorted(std::move(tpots)), percentiles);
  s.itl_ms = StatsMs(itls, percentiles);
  s.e2el_ms = StatsMs(CountSorted(std::move(e2els)), percentiles);
  return s;
}

}  // namespace wiresim
