// Workloads: length distributions, synthetic arrivals and trace replay. Statistical checks draw 200,000 samples and
// allow 5 standard errors (derived in each case), so a correct implementation fails about once in 1.7 million runs
// per check, and the seeds are fixed anyway.
#include "sim/serving/workload.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "sim/core/random.h"

namespace wiresim {
namespace {

constexpr int kSamples = 200000;

struct Moments {
  double mean = 0;
  double variance = 0;  // sample variance
};

template <typename Draw>
Moments Measure(int n, Draw draw) {
  // Welford's running mean and variance.
  Moments m;
  double m2 = 0;
  for (int i = 1; i <= n; ++i) {
    const double x = draw();
    const double delta = x - m.mean;
    m.mean += delta / i;
    m2 += delta * (x - m.mean);
  }
  m.variance = m2 / (n - 1);
  return m;
}

LengthDistribution Parsed(const std::string& text) {
  Result<LengthDistribution> d = ParseLengthDistribution(text);
  INFO(text << ": " << d.status().ToString());
  REQUIRE(d.ok());
  return *d;
}

std::vector<Request> Drain(RequestSource& source) {
  std::vector<Request> out;
  while (true) {
    Result<std::optional<Request>> r = source.Next();
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    if (!r->has_value()) break;
    out.push_back(**r);
  }
  return out;
}

// The gaps between consecutive arrivals, the first measured from t = 0.
std::vector<double> GapsSeconds(const std::vector<Request>& requests) {
  std::vector<double> gaps;
  Time previous;
  for (const Request& r : requests) {
    gaps.push_back((r.arrival - previous).ToSeconds());
    previous = r.arrival;
  }
  return gaps;
}

std::vector<Request> Synthetic(ArrivalProcess arrivals, int64_t requests, uint64_t seed = 7) {
  RandomStreams streams(seed);
  SyntheticWorkload w;
  w.arrivals = arrivals;
  w.input = Parsed("128");
  w.output = Parsed("16");
  w.requests = requests;
  REQUIRE(ValidateWorkload(w).ok());
  auto source = MakeSyntheticSource(w, streams.Get("arrivals"), streams.Get("lengths"));
  return Drain(*source);
}

Moments OfGaps(const std::vector<Request>& requests) {
  const std::vector<double> gaps = GapsSeconds(requests);
  size_t i = 0;
  return Measure(static_cast<int>(gaps.size()), [&] { return gaps[i++]; });
}

TEST_CASE("Poisson gaps have mean and variance 1/rate and 1/rate^2") {
  // Exponential(rate 4): mean 0.25 s, stddev 0.25 s. Mean's standard error 0.25/sqrt(200000) = 5.6e-4 s.
  // The squared deviation has variance mu4 - sigma^4 = 9 sigma^4 - sigma^4 = 8 sigma^4, so the sample variance's
  // standard error is sigma^2 sqrt(8/N) = 0.0625 * 6.3e-3 = 4.0e-4. Rounding each gap up to a picosecond is 1e-12.
  const std::vector<Request> r = Synthetic({ArrivalKind::kPoisson, 4.0, 1.0}, kSamples);
  REQUIRE(r.size() == static_cast<size_t>(kSamples));
  const Moments m = OfGaps(r);
  CHECK(m.mean == Approx(0.25).margin(5 * 5.6e-4));
  CHECK(m.variance == Approx(0.0625).margin(5 * 4.0e-4));
}

TEST_CASE("Gamma gaps: mean 1/rate, variance 1/(rate^2 burstiness)") {
  // Gamma(shape k, scale 1/(rate k)): mean 1/rate, variance k/(rate k)^2 = 1/(rate^2 k). Its excess kurtosis is
  // 6/k, so the squared deviation has variance (2 + 6/k) sigma^4 and the sample variance's standard error is
  // sigma^2 sqrt((2 + 6/k)/N).
  for (const double k : {0.5, 4.0}) {
    const double rate = 2.0;
    const double var = 1.0 / (rate * rate * k);
    const Moments m = OfGaps(Synthetic({ArrivalKind::kGamma, rate, k}, kSamples));
    INFO("burstiness " << k);
    CHECK(m.mean == Approx(1.0 / rate).margin(5 * std::sqrt(var / kSamples)));
    CHECK(m.variance == Approx(var).margin(5 * var * std::sqrt((2 + 6 / k) / kSamples)));
  }
}

TEST_CASE("the first request waits one gap, as vllm bench serve sends it") {
  // Request 0 arrives at the first gap drawn from the "arrivals" stream, rounded up to a picosecond.
  RandomStreams twin(7);
  const double first_gap = twin.Get("arrivals").Exponential(3.0);
  const std::vector<Request> r = Synthetic({ArrivalKind::kPoisson, 3.0, 1.0}, 2);
  CHECK(r[0].arrival == Time::FromSecondsCeil(first_gap));
  CHECK(r[0].arrival > Time::Zero());
  CHECK(r[0].id == 0);
  CHECK(r[1].id == 1);
  CHECK(r[1].arrival > r[0].arrival);
}

TEST_CASE("all-at-once arrivals are all at t = 0") {
  const std::vector<Request> r = Synthetic({ArrivalKind::kAllAtOnce, 0.0, 1.0}, 50);
  REQUIRE(r.size() == 50);
  for (const Request& q : r) CHECK(q.arrival == Time::Zero());
}

TEST_CASE("a duration limit stops at the first arrival past it") {
  // Poisson at 10/s for 100 s: the count is Poisson with mean 1000 and stddev sqrt(1000) = 31.6.
  RandomStreams streams(11);
  SyntheticWorkload w;
  w.arrivals = {ArrivalKind::kPoisson, 10.0, 1.0};
  w.input = Parsed("8");
  w.output = Parsed("8");
  w.duration = Time::Seconds(100);
  REQUIRE(ValidateWorkload(w).ok());
  const std::vector<Request> r = Drain(*MakeSyntheticSource(w, streams.Get("arrivals"), streams.Get("lengths")));
  CHECK(std::abs(static_cast<double>(r.size()) - 1000.0) < 5 * 31.6);
  CHECK(r.back().arrival <= w.duration);
}

TEST_CASE("the same seed gives the same requests, another seed does not") {
  auto run = [](uint64_t seed) {
    RandomStreams streams(seed);
    SyntheticWorkload w;
    w.arrivals = {ArrivalKind::kGamma, 5.0, 0.7};
    w.input = ShareGptInputLengths();
    w.output = ShareGptOutputLengths();
    w.requests = 300;
    return Drain(*MakeSyntheticSource(w, streams.Get("arrivals"), streams.Get("lengths")));
  };
  const std::vector<Request> a = run(42), b = run(42), c = run(43);
  int differ = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].arrival == b[i].arrival);
    CHECK(a[i].input_tokens == b[i].input_tokens);
    CHECK(a[i].output_tokens == b[i].output_tokens);
    differ += a[i].arrival != c[i].arrival;
  }
  CHECK(differ > 250);
}

TEST_CASE("a log-normal length has the mean and stddev it was given") {
  // lognormal:512,256: sigma^2 = ln(1.25) = 0.2231, so the length's excess kurtosis is
  // e^{4s2} + 2e^{3s2} + 3e^{2s2} - 6 = 5.03; the mean's standard error is 256/sqrt(N) = 0.57 and the sample
  // variance's relative standard error sqrt((2 + 5.03)/N) = 0.59%, so the stddev's is about 0.3%. Rounding to
  // whole tokens adds variance 1/12; clamping at 1 cuts a tail of probability ~1e-40.
  const LengthDistribution d = Parsed("lognormal:512,256");
  RandomStream rng(5);
  const Moments m = Measure(kSamples, [&] { return static_cast<double>(d.Draw(rng)); });
  CHECK(m.mean == Approx(512).margin(5 * 0.57));
  CHECK(std::sqrt(m.variance) == Approx(256).epsilon(5 * 0.003));
  CHECK(d.Mean() == 512);
}

TEST_CASE("normal, uniform, fixed and empirical lengths") {
  RandomStream rng(9);
  SECTION("normal:1000,100 has mean 1000 within 5 x 100/sqrt(N)") {
    const LengthDistribution d = Parsed("normal:1000,100");
    const Moments m = Measure(kSamples, [&] { return static_cast<double>(d.Draw(rng)); });
    CHECK(m.mean == Approx(1000).margin(5 * 100 / std::sqrt(kSamples)));
    CHECK(std::sqrt(m.variance) == Approx(100).epsilon(0.01));
  }
  SECTION("uniform:10-20 covers both ends; mean 15, stddev sqrt((11^2 - 1)/12) = 3.162") {
    const LengthDistribution d = Parsed("uniform:10-20");
    std::vector<int> seen(21, 0);
    const Moments m = Measure(kSamples, [&] {
      const int64_t x = d.Draw(rng);
      REQUIRE(x >= 10);
      REQUIRE(x <= 20);
      ++seen[static_cast<size_t>(x)];
      return static_cast<double>(x);
    });
    CHECK(seen[10] > 0);
    CHECK(seen[20] > 0);
    CHECK(m.mean == Approx(15).margin(5 * 3.162 / std::sqrt(kSamples)));
    CHECK(d.Mean() == 15);
  }
  SECTION("draws are clamped to [min, max]") {
    const LengthDistribution d = Parsed("normal:10,100,min=5,max=20");
    int at_min = 0, at_max = 0;
    for (int i = 0; i < 10000; ++i) {
      const int64_t x = d.Draw(rng);
      REQUIRE(x >= 5);
      REQUIRE(x <= 20);
      at_min += x == 5;
      at_max += x == 20;
    }
    // P(X < 5.5) = Phi(-0.045) ~ 0.48 and P(X >= 19.5) = 1 - Phi(0.095) ~ 0.46.
    CHECK(at_min > 4000);
    CHECK(at_max > 4000);
  }
  SECTION("fixed and empirical") {
    CHECK(Parsed("512").Draw(rng) == 512);
    CHECK(Parsed("fixed:7,min=9").Draw(rng) == 9);
    const LengthDistribution e = Parsed("empirical:3,5,7");
    CHECK(e.Mean() == 5);
    for (int i = 0; i < 100; ++i) {
      const int64_t x = e.Draw(rng);
      CHECK((x == 3 || x == 5 || x == 7));
    }
  }
}

TEST_CASE("ToString reads back through Parse") {
  for (const char* text : {"512", "uniform:128-1024", "normal:512,128", "lognormal:215.2,99.5,min=4,max=1024",
                           "empirical:1,2,30", "sharegpt-input", "sharegpt-output", "normal:3,0.25,max=7"}) {
    const LengthDistribution d = Parsed(text);
    const LengthDistribution again = Parsed(d.ToString());
    INFO(text << " -> " << d.ToString());
    CHECK(again.kind == d.kind);
    CHECK(again.value == d.value);
    CHECK(again.high == d.high);
    CHECK(again.stddev == d.stddev);
    CHECK(again.samples == d.samples);
    CHECK(again.min == d.min);
    CHECK(again.max == d.max);
  }
  CHECK(Parsed("uniform:128-1024").ToString() == "uniform:128-1024");
}

TEST_CASE("ShareGPT-like defaults are log-normal within vllm's ShareGPT filter") {
  const LengthDistribution in = ShareGptInputLengths(), out = ShareGptOutputLengths();
  CHECK(in.kind == LengthDistribution::Kind::kLogNormal);
  CHECK(in.min == 4);
  CHECK(in.max == 1024);
  CHECK(out.min == 4);
  CHECK(out.max == 2044);
  RandomStream rng(3);
  for (int i = 0; i < 10000; ++i) {
    const int64_t x = in.Draw(rng);
    REQUIRE(x >= 4);
    REQUIRE(x <= 1024);
  }
}

TEST_CASE("length distribution errors say what was expected") {
  auto error = [](const std::string& text) {
    Result<LengthDistribution> d = ParseLengthDistribution(text);
    REQUIRE_FALSE(d.ok());
    return d.status().message();
  };
  CHECK_THAT(error("normal:5"), Catch::Contains("'normal:5': expected normal:MEAN,STDDEV"));
  // Numbers out of range get the shared bounds (docs/formats/numbers.md): lengths from 1 to 2^31 tokens.
  CHECK(error("lognormal:-5,1") ==
        "'lognormal:-5,1': MEAN: expected a length in tokens from 1 to 2147483648 (2^31), "
        "got -5");
  CHECK(error("normal:5,3e9") ==
        "'normal:5,3e9': STDDEV: expected a standard deviation in tokens from 0 to 2147483648 (2^31), got 3000000000");
  CHECK(error("uniform:1-2147483649") ==
        "'uniform:1-2147483649': HIGH: expected a token count from 1 to 2147483648 (2^31), got 2147483649");
  CHECK(error("empirical:5,0") == "'empirical:5,0': length: expected a token count from 1 to 2147483648 (2^31), got 0");
  CHECK_THAT(error("uniform:20-10"), Catch::Contains("expected uniform:LOW-HIGH"));
  CHECK(error("fixed:0") == "'fixed:0': length: expected a token count from 1 to 2147483648 (2^31), got 0");
  CHECK_THAT(error("abc"), Catch::Contains("expected a whole number"));
  CHECK_THAT(error("poisson:3"), Catch::Contains("unknown distribution 'poisson'"));
  CHECK_THAT(error("normal:5,1,mn=3"), Catch::Contains("unknown option 'mn'"));
  CHECK(error("normal:5,1,min=0") ==
        "'normal:5,1,min=0': min: expected a token count from 1 to 2147483648 (2^31), got 0");
  CHECK_THAT(error("normal:5,1,min=x"), Catch::Contains("min expects a whole number"));
  CHECK_THAT(error("normal:5,1,min=9,max=3"), Catch::Contains("max (3) must be at least min (9)"));
  CHECK_THAT(error("normal:nan,1"), Catch::Contains("expected normal:MEAN,STDDEV"));
}

TEST_CASE("ValidateWorkload names the field") {
  SyntheticWorkload w;
  w.input = Parsed("10");
  w.output = Parsed("10");
  w.requests = 10;
  auto message = [&] { return ValidateWorkload(w).message(); };
  CHECK(ValidateWorkload(w).ok());
  w.arrivals.rate_per_s = -1;
  CHECK(message() == "rate: must be a positive finite number of requests per second, got -1");
  w.arrivals.rate_per_s = INFINITY;
  CHECK_THAT(message(), Catch::StartsWith("rate:"));
  w.arrivals = {ArrivalKind::kGamma, 1.0, 0.0};
  CHECK_THAT(message(), Catch::StartsWith("burstiness:"));
  w.arrivals = {ArrivalKind::kAllAtOnce, 0.0, 1.0};
  CHECK(ValidateWorkload(w).ok());
  w.requests = 0;
  w.duration = Time::Seconds(5);
  CHECK_THAT(message(), Catch::Contains("all-at-once arrivals need a request count"));
  w.arrivals = {ArrivalKind::kPoisson, 1.0, 1.0};
  CHECK(ValidateWorkload(w).ok());
  w.duration = Time::Zero();
  CHECK_THAT(message(), Catch::Contains("never ends"));
  w.requests = 3;
  w.input.stddev = -2;
  w.input.kind = LengthDistribution::Kind::kNormal;
  CHECK_THAT(message(), Catch::StartsWith("input.stddev:"));
  w.input = Parsed("10");
  w.output.min = 0;
  CHECK_THAT(message(), Catch::StartsWith("output.min:"));
}

// ---- traces ----

Result<std::vector<Request>> ReadTrace(const std::string& text, TraceOptions options = {}) {
  WIRESIM_ASSIGN_OR_RETURN(auto source, OpenTrace(std::make_unique<std::istringstream>(text), "t.jsonl", options));
  std::vector<Request> out;
  while (true) {
    WIRESIM_ASSIGN_OR_RETURN(std::optional<Request> r, source->Next());
    if (!r) break;
    out.push_back(*r);
  }
  return out;
}

std::string TraceError(const std::string& text, TraceOptions options = {}) {
  Result<std::vector<Request>> r = ReadTrace(text, options);
  REQUIRE_FALSE(r.ok());
  return r.status().message();
}

TEST_CASE("Mooncake lines become requests relative to the first timestamp") {
  const std::string trace =
      "{\"timestamp\": 1000, \"input_length\": 700, \"output_length\": 5, \"hash_ids\": [0, 1]}\n"
      "\n"
      "{\"timestamp\": 1000, \"input_length\": 20, \"output_length\": 1}\r\n"
      "{\"timestamp\": 2500, \"input_length\": 513, \"output_length\": 9, \"hash_ids\": [0, 7], \"extra\": 1}\n";
  Result<std::vector<Request>> r = ReadTrace(trace);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 3);
  CHECK((*r)[0].id == 0);
  CHECK((*r)[0].arrival == Time::Zero());
  CHECK((*r)[0].input_tokens == 700);
  CHECK((*r)[0].output_tokens == 5);
  CHECK((*r)[0].hash_ids == std::vector<int64_t>{0, 1});
  CHECK((*r)[1].arrival == Time::Zero());
  CHECK((*r)[1].hash_ids.empty());
  CHECK((*r)[2].id == 2);
  CHECK((*r)[2].arrival == Time::Milliseconds(1500));  // 2500 ms - 1000 ms

  TraceOptions half;
  half.time_scale = 0.5;
  Result<std::vector<Request>> fast = ReadTrace(trace, half);
  REQUIRE(fast.ok());
  CHECK((*fast)[2].arrival == Time::Milliseconds(750));

  TraceOptions two;
  two.max_requests = 2;
  Result<std::vector<Request>> firsts = ReadTrace(trace, two);
  REQUIRE(firsts.ok());
  CHECK(firsts->size() == 2);
}

TEST_CASE("a broken Mooncake line names the file, the line and the field") {
  const std::string ok = "{\"timestamp\": 0, \"input_length\": 10, \"output_length\": 2}\n";
  struct Case {
    std::string line;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"not json", "t.jsonl:2: not valid JSON"},
      {"[1, 2]", "t.jsonl:2: expected a JSON object per line, got array"},
      {"{\"timestamp\": 5, \"output_length\": 2}", "t.jsonl:2: input_length: missing"},
      {"{\"timestamp\": 5, \"input_length\": 3, \"output_length\": -2}",
       "t.jsonl:2: output_length: expected a token count from 1 to 2147483648 (2^31), got -2"},
      {"{\"timestamp\": 5, \"input_length\": 3.5, \"output_length\": 2}",
       "t.jsonl:2: input_length: expected a token count from 1 to 2^31, got 3.5"},
      {"{\"timestamp\": 5, \"input_length\": 0, \"output_length\": 2}",
       "t.jsonl:2: input_length: expected a token count from 1"},
      {"{\"timestamp\": 5, \"input_length\": \"3\", \"output_length\": 2}",
       "t.jsonl:2: input_length: expected a token count"},
      {"{\"timestamp\": 5, \"input_length\": 4294967296, \"output_length\": 2}",
       "t.jsonl:2: input_length: expected a token count from 1 to 2147483648 (2^31), got 4294967296"},
      {"{\"timestamp\": 1e400, \"input_length\": 3, \"output_length\": 2}", "t.jsonl:2: not valid JSON"},
      {"{\"timestamp\": -1, \"input_length\": 3, \"output_length\": 2}",
       "t.jsonl:2: timestamp: expected a time in ms from 0 to 9223372036 (Time's range, about 106 days), got -1"},
      {"{\"timestamp\": 1e12, \"input_length\": 3, \"output_length\": 2}",
       "t.jsonl:2: timestamp: expected a time in ms from 0 to 9223372036 (Time's range, about 106 days), got "
       "1000000000000"},
      {"{\"input_length\": 3, \"output_length\": 2}", "t.jsonl:2: timestamp: missing"},
      {"{\"timestamp\": 5, \"input_length\": 3, \"output_length\": 2, \"hash_ids\": [1, -1]}",
       "t.jsonl:2: hash_ids: expected a whole number from 0 to 9223372036854775808, got -1"},
      {"{\"timestamp\": 5, \"input_length\": 3, \"output_length\": 2, \"hash_ids\": 4}",
       "t.jsonl:2: hash_ids: expected an array"},
      {std::string(100000, '[') + std::string(100000, ']'), "t.jsonl:2: JSON nests deeper than 8 levels"},
  };
  for (const Case& c : cases) {
    INFO(c.line.substr(0, 80));
    CHECK_THAT(TraceError(ok + c.line + "\n" + ok), Catch::Contains(c.expect));
  }
}

TEST_CASE("time going backwards in a trace is an error on the line that does it") {
  const std::string trace =
      "{\"timestamp\": 10, \"input_length\": 1, \"output_length\": 1}\n"
      "{\"timestamp\": 20, \"input_length\": 1, \"output_length\": 1}\n"
      "{\"timestamp\": 15, \"input_length\": 1, \"output_length\": 1}\n";
  const std::string message = TraceError(trace);
  CHECK_THAT(message, Catch::Contains("t.jsonl:3: timestamp: time goes backwards"));
}

TEST_CASE("a source stops at its first error") {
  auto source = OpenTrace(
      std::make_unique<std::istringstream>("{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1}\nbad\n"
                                           "{\"timestamp\": 1, \"input_length\": 1, \"output_length\": 1}\n"),
      "t.jsonl", {});
  REQUIRE(source.ok());
  CHECK((*source)->Next().ok());
  CHECK_FALSE((*source)->Next().ok());
  Result<std::optional<Request>> after = (*source)->Next();
  REQUIRE(after.ok());
  CHECK_FALSE(after->has_value());
}

TEST_CASE("format detection and empty traces") {
  CHECK_THAT(TraceError("hello\n"), Catch::Contains("t.jsonl:1: cannot tell the trace format"));
  CHECK_THAT(TraceError("\n\n  \n"), Catch::Contains("t.jsonl: the trace is empty"));
  TraceOptions azure;
  azure.format = TraceFormat::kAzure;
  CHECK_THAT(TraceError("{\"timestamp\": 0}\n", azure), Catch::Contains("expected the Azure CSV header"));
  TraceOptions bad_scale;
  bad_scale.time_scale = 0;
  CHECK_THAT(TraceError("{}", bad_scale), Catch::Contains("time_scale: must be a positive finite number"));
}

TEST_CASE("Azure timestamps are differenced exactly across midnight, month, year and leap day") {
  // Each trace's second row is a hand-computed offset after its first.
  struct Case {
    const char* first;
    const char* second;
    Time expect;
  };
  const std::vector<Case> cases = {
      {"2023-11-16 23:59:59.9000000", "2023-11-17 00:00:00.1000000", Time::Milliseconds(200)},
      {"2023-11-30 23:00:00.0000000", "2023-12-01 01:00:00.0000000", Time::Seconds(2 * 3600)},
      {"2023-12-31 23:59:59.9999999", "2024-01-01 00:00:00.0000000", Time::Nanoseconds(100)},
      // 2024 is a leap year: Feb 28 noon to Mar 1 noon is two days.
      {"2024-02-28 12:00:00", "2024-03-01 12:00:00", Time::Seconds(2 * 86400)},
      // 2023 is not: one day.
      {"2023-02-28 12:00:00", "2023-03-01 12:00:00", Time::Seconds(86400)},
      // Fewer fraction digits: .5 is half a second, .25 a quarter.
      {"2023-11-16 18:15:46.5", "2023-11-16 18:15:47.25", Time::Milliseconds(750)},
  };
  for (const Case& c : cases) {
    const std::string trace = "TIMESTAMP,ContextTokens,GeneratedTokens\n" + std::string(c.first) + ",10,2\n" +
                              std::string(c.second) + ",11,3\n";
    INFO(c.first << " -> " << c.second);
    Result<std::vector<Request>> r = ReadTrace(trace);
    REQUIRE(r.ok());
    REQUIRE(r->size() == 2);
    CHECK((*r)[0].arrival == Time::Zero());
    CHECK((*r)[1].arrival == c.expect);
    CHECK((*r)[1].input_tokens == 11);
    CHECK((*r)[1].output_tokens == 3);
  }
}

TEST_CASE("a broken Azure row names the line and the column") {
  const std::string head = "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n";
  CHECK_THAT(TraceError(head + "2023-02-29 00:00:00,1,1\n"), Catch::Contains("t.jsonl:3: TIMESTAMP: day 29"));
  CHECK_THAT(TraceError(head + "2023-11-16 18:15:47,0,1\n"),
             Catch::Contains("t.jsonl:3: ContextTokens: expected a token count from 1 to 2147483648 (2^31), got 0"));
  CHECK_THAT(
      TraceError(head + "2023-11-16 18:15:47,5,x\n"),
      Catch::Contains("t.jsonl:3: GeneratedTokens: expected a token count from 1 to 2147483648 (2^31), got 'x'"));
  CHECK_THAT(TraceError(head + "2023-11-16 18:15:47,5\n"), Catch::Contains("t.jsonl:3: expected 3 comma-separated"));
  CHECK_THAT(TraceError(head + "2023-11-16T18:15:47,5,5\n"), Catch::Contains("expected YYYY-MM-DD HH:MM:SS"));
  CHECK_THAT(TraceError(head + "2023-11-16 18:15:45,5,5\n"), Catch::Contains("t.jsonl:3: TIMESTAMP: time "
                                                                             "goes backwards"));
  CHECK_THAT(TraceError(head + "2024-06-01 00:00:00,5,5\n"), Catch::Contains("Time's range"));
}

std::string ShippedTrace(const std::string& file) {
  return std::string(WIRESIM_SOURCE_DIR) + "/workloads/traces/" + file;
}

// Non-blank lines of a file, counted without the trace reader.
int CountLines(const std::string& path) {
  std::ifstream in(path);
  int n = 0;
  for (std::string line; std::getline(in, line);) n += line.find_first_not_of(" \r\t") != std::string::npos;
  return n;
}

TEST_CASE("the shipped traces parse completely") {
  for (const char* file :
       {"mooncake_conversation_head.jsonl", "azure_conv_2023_head.csv", "azure_code_2023_head.csv"}) {
    const std::string path = ShippedTrace(file);
    const bool azure = std::string(file).find("azure") == 0;
    auto source = OpenTrace(std::make_unique<std::ifstream>(path), file, {});
    INFO(path << ": " << source.status().ToString());
    REQUIRE(source.ok());
    const std::vector<Request> r = Drain(**source);
    CHECK(static_cast<int>(r.size()) == CountLines(path) - (azure ? 1 : 0));
    for (size_t i = 1; i < r.size(); ++i) CHECK(r[i].arrival >= r[i - 1].arrival);
  }
  // The conv trace's first two rows: 18:15:46.6805900 and 18:15:50.9951690, 4.3145790 s apart; 374 -> 44 tokens.
  std::ifstream conv(ShippedTrace("azure_conv_2023_head.csv"));
  Result<std::vector<std::pair<int64_t, int64_t>>> lengths = ReadTraceLengths(conv, "conv", {});
  REQUIRE(lengths.ok());
  CHECK(lengths->front() == std::pair<int64_t, int64_t>{374, 44});
  auto source = OpenTrace(std::make_unique<std::ifstream>(ShippedTrace("azure_conv_2023_head.csv")), "conv", {});
  REQUIRE(source.ok());
  const std::vector<Request> r = Drain(**source);
  CHECK(r[1].arrival == Time::Nanoseconds(4'314'579'000));
  // Mooncake: 6758 prompt tokens in 512-token blocks is ceil(6758/512) = 14 hash ids.
  auto mooncake = OpenTrace(std::make_unique<std::ifstream>(ShippedTrace("mooncake_conversation_head.jsonl")), "m", {});
  REQUIRE(mooncake.ok());
  const std::vector<Request> m = Drain(**mooncake);
  CHECK(m[0].input_tokens == 6758);
  CHECK(m[0].hash_ids.size() == 14);
}

}  // namespace
}  // namespace wiresim
