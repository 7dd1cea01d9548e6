// Length distributions, their text form, and the synthetic request source. Traces are in trace.cc.
#include "sim/serving/workload.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include "sim/core/check.h"
#include "sim/core/numeric_field.h"
#include "sim/core/text.h"

namespace wiresim {
namespace {

constexpr int64_t kDefaultMin = 1;
constexpr int64_t kDefaultMax = int64_t{1} << 30;

// The shortest text that reads back as the same double ("215", "0.5", "1e+20").
std::string FormatNumber(double x) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
  WIRESIM_CHECK(ec == std::errc());
  return std::string(buf, end);
}

// sigma^2 = ln(1 + s^2/m^2), mu = ln(m) - sigma^2/2: the log-normal whose own mean is m and stddev s.
void LogNormalParameters(double mean, double stddev, double* mu, double* sigma) {
  const double sigma2 = std::log1p((stddev * stddev) / (mean * mean));
  *mu = std::log(mean) - sigma2 / 2.0;
  *sigma = std::sqrt(sigma2);
}

int64_t RoundAndClamp(double x, int64_t lo, int64_t hi) {
  // Clamp while still a double so a far-out draw never overflows the conversion.
  x = std::clamp(std::nearbyint(x), static_cast<double>(lo), static_cast<double>(hi));
  return std::clamp(static_cast<int64_t>(x), lo, hi);
}

// Checks the fields a distribution of `kind` uses, with the shared bounds (sim/core/numeric_field.h). `field`
// prefixes each message ("input", "--input-len").
Status CheckDistribution(const LengthDistribution& d, const std::string& field) {
  const SourceLocation here;  // the caller says where the distribution came from
  WIRESIM_RETURN_IF_ERROR(CheckInteger(here, field + ".min", d.min, kTokenCount));
  WIRESIM_RETURN_IF_ERROR(CheckInteger(here, field + ".max", d.max, kTokenCount));
  if (d.max < d.min) {
    return InvalidArgument(field + ".max: must be at least min (" + std::to_string(d.min) + "), got " +
                           std::to_string(d.max));
  }
  using Kind = LengthDistribution::Kind;
  switch (d.kind) {
    case Kind::kFixed:
      WIRESIM_RETURN_IF_ERROR(CheckNumber(here, field + ".value", d.value, kTokenLength));
      break;
    case Kind::kUniform:
      WIRESIM_RETURN_IF_ERROR(CheckNumber(here, field + ".low", d.value, kTokenLength));
      WIRESIM_RETURN_IF_ERROR(CheckNumber(here, field + ".high", d.high, kTokenLength));
      if (d.high < d.value) return InvalidArgument(field + ".high: must be at least low, got " + FormatNumber(d.high));
      break;
    case Kind::kNormal:
    case Kind::kLogNormal:
      WIRESIM_RETURN_IF_ERROR(CheckNumber(here, field + ".mean", d.value, kTokenLength));
      WIRESIM_RETURN_IF_ERROR(CheckNumber(here, field + ".stddev", d.stddev, kTokenSpread));
      break;
    case Kind::kEmpirical:
      if (d.samples.empty()) return InvalidArgument(field + ".samples: must not be empty");
      for (int64_t s : d.samples) WIRESIM_RETURN_IF_ERROR(CheckInteger(here, field + ".samples", s, kTokenCount));
      break;
  }
  return Status::Ok();
}

class SyntheticSource final : public RequestSource {
 public:
  SyntheticSource(const SyntheticWorkload& workload, RandomStream& arrivals, RandomStream& lengths)
      : workload_(workload), arrivals_(arrivals), lengths_(lengths) {}

  Result<std::optional<Request>> Next() override {
    if (done_ || (workload_.requests > 0 && next_id_ >= workload_.requests)) return std::optional<Request>();
    const double gap_s = DrawGapSeconds();
    // Time::FromSecondsCeil accepts up to ~9.2e6 s; a gap or a clock past Time's range ends the run with a
    // message rather than a failed check.
    const double room_s = static_cast<double>(std::numeric_limits<int64_t>::max() - clock_.picoseconds()) * 1e-12 - 1.0;
    if (!(gap_s < room_s)) {
      done_ = true;
      return InvalidArgument("synthetic arrivals: request " + std::to_string(next_id_) +
                             " would arrive past Time's range (about 106 days); lower the request count or raise "
                             "the rate");
    }
    clock_ += Time::FromSecondsCeil(gap_s);
    if (workload_.duration > Time::Zero() && clock_ > workload_.duration) {
      done_ = true;
      return std::optional<Request>();
    }
    Request r;
    r.id = next_id_++;
    r.arrival = clock_;
    r.input_tokens = workload_.input.Draw(lengths_);
    r.output_tokens = workload_.output.Draw(lengths_);
    return std::optional<Request>(std::move(r));
  }

 private:
  // vllm bench serve (vllm/benchmarks/serve.py, get_request) draws one gap per request and sends request i at the
  // sum of gaps 0..i, so even the first request waits one gap; we do the same. It then rescales all arrival
  // times so the last lands at exactly N / rate; a streamed source cannot know N in advance (a duration limit),
  // so we keep the raw gaps, whose sum differs from N / rate by the sampling noise (~1/sqrt(N)).
  double DrawGapSeconds() {
    const ArrivalProcess& a = workload_.arrivals;
    switch (a.kind) {
      case ArrivalKind::kPoisson:
        return arrivals_.Exponential(a.rate_per_s);
      case ArrivalKind::kGamma:
        // shape k = burstiness, scale theta = 1 / (rate * k): mean k * theta = 1 / rate, variance
        // k * theta^2 = 1 / (rate^2 * k).
        return arrivals_.Gamma(a.burstiness, 1.0 / (a.rate_per_s * a.burstiness));
      case ArrivalKind::kAllAtOnce:
        return 0.0;
    }
    return 0.0;
  }

  SyntheticWorkload workload_;
  RandomStream& arrivals_;
  RandomStream& lengths_;
  Time clock_;
  int64_t next_id_ = 0;
  bool done_ = false;
};

// "min=N" / "max=N" options after the positional arguments.
Status ApplyBoundOption(std::string_view item, std::string_view text, LengthDistribution* d) {
  const size_t eq = item.find('=');
  const std::string_view key = Trim(item.substr(0, eq));
  const std::string_view value = Trim(item.substr(eq + 1));
  int64_t n = 0;
  if (key != "min" && key != "max") {
    return InvalidArgument("'" + std::string(text) + "': unknown option '" + std::string(key) +
                           "'; expected min=N or max=N");
  }
  if (!ParseWholeNumber(value, &n)) {
    return InvalidArgument("'" + std::string(text) + "': " + std::string(key) +
                           " expects a whole number of tokens >= 1, got '" + std::string(value) + "'");
  }
  WIRESIM_RETURN_IF_ERROR(
      CheckInteger(SourceLocation{}, "'" + std::string(text) + "': " + std::string(key), n, kTokenCount));
  (key == "min" ? d->min : d->max) = n;
  return Status::Ok();
}

}  // namespace

int64_t LengthDistribution::Draw(RandomStream& rng) const {
  switch (kind) {
    case Kind::kFixed:
      return RoundAndClamp(value, min, max);
    case Kind::kUniform:
      return RoundAndClamp(static_cast<double>(rng.UniformInt(std::llround(value), std::llround(high))), min, max);
    case Kind::kNormal:
      return RoundAndClamp(rng.Normal(value, stddev), min, max);
    case Kind::kLogNormal: {
      double mu = 0, sigma = 0;
      LogNormalParameters(value, stddev, &mu, &sigma);
      return RoundAndClamp(rng.LogNormal(mu, sigma), min, max);
    }
    case Kind::kEmpirical: {
      WIRESIM_CHECK(!samples.empty()) << "an empirical length distribution without samples";
      const int64_t i = rng.UniformInt(0, static_cast<int64_t>(samples.size()) - 1);
      return std::clamp(samples[static_cast<size_t>(i)], min, max);
    }
  }
  return min;
}

double LengthDistribution::Mean() const {
  switch (kind) {
    case Kind::kFixed:
    case Kind::kNormal:
    case Kind::kLogNormal:
      return value;
    case Kind::kUniform:
      return (std::round(value) + std::round(high)) / 2.0;
    case Kind::kEmpirical:
      if (samples.empty()) return 0;
      return std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(samples.size());
  }
  return 0;
}

std::string LengthDistribution::ToString() const {
  std::string out;
  switch (kind) {
    case Kind::kFixed:
      out = "fixed:" + FormatNumber(value);
      break;
    case Kind::kUniform:
      out = "uniform:" + FormatNumber(value) + "-" + FormatNumber(high);
      break;
    case Kind::kNormal:
      out = "normal:" + FormatNumber(value) + "," + FormatNumber(stddev);
      break;
    case Kind::kLogNormal:
      out = "lognormal:" + FormatNumber(value) + "," + FormatNumber(stddev);
      break;
    case Kind::kEmpirical:
      out = "empirical:";
      for (size_t i = 0; i < samples.size(); ++i) out += (i ? "," : "") + std::to_string(samples[i]);
      break;
  }
  if (min != kDefaultMin) out += ",min=" + std::to_string(min);
  if (max != kDefaultMax) out += ",max=" + std::to_string(max);
  return out;
}

// ShareGPT-like defaults; docs/serving-workloads.md gives the sources. The means are what `vllm bench serve
// --dataset-name sharegpt --num-prompts 1000` (ShareGPT_V3_unfiltered_cleaned_split.json, default seed 0)
// samples with a Llama-3 tokenizer: "Total input tokens: 215196" over 1000 requests (215.2 per prompt), the same
// in every public run of that command; the output mean is what those runs generate, 197090-198532 tokens per
// 1000 requests (about 198; runs without --ignore-eos may stop early, so this is a lower bound on the dataset's
// own mean). No published standard deviation was found: we assume one equal to the mean (coefficient of
// variation 1, a long right tail as chat lengths have). The bounds are vllm's ShareGPT filter: it drops prompts
// or outputs under 4 tokens and prompts over 1024 tokens, and keeps prompt + output <= 2048, hence output <= 2044.
LengthDistribution ShareGptInputLengths() {
  LengthDistribution d;
  d.kind = LengthDistribution::Kind::kLogNormal;
  d.value = 215.2;
  d.stddev = 215.2;
  d.min = 4;
  d.max = 1024;
  return d;
}

LengthDistribution ShareGptOutputLengths() {
  LengthDistribution d;
  d.kind = LengthDistribution::Kind::kLogNormal;
  d.value = 198.0;
  d.stddev = 198.0;
  d.min = 4;
  d.max = 2044;
  return d;
}

Result<LengthDistribution> ParseLengthDistribution(std::string_view text) {
  const std::string quoted = "'" + std::string(text) + "'";
  const std::string_view t = Trim(text);
  if (t == "sharegpt-input") return ShareGptInputLengths();
  if (t == "sharegpt-output") return ShareGptOutputLengths();

  const size_t colon = t.find(':');
  const std::string_view kind = colon == std::string_view::npos ? std::string_view("fixed") : Trim(t.substr(0, colon));
  const std::string_view rest = colon == std::string_view::npos ? t : t.substr(colon + 1);

  LengthDistribution d;
  std::vector<std::string_view> positional;
  bool saw_option = false;
  for (std::string_view item : Split(rest, ',')) {
    if (item.find('=') != std::string_view::npos) {
      WIRESIM_RETURN_IF_ERROR(ApplyBoundOption(item, text, &d));
      saw_option = true;
    } else if (saw_option) {
      return InvalidArgument(quoted + ": min= and max= must come after the distribution's own numbers");
    } else {
      positional.push_back(Trim(item));
    }
  }

  auto expected = [&](const std::string& form) { return InvalidArgument(quoted + ": expected " + form); };
  auto number = [&](std::string_view s, double* out) { return ParseFiniteNumber(Trim(s), out); };
  // Text that is a number but out of range gets the shared bounds' message (docs/formats/numbers.md).
  auto bounded = [&](const char* what, double v, const NumericRange& range) {
    return CheckNumber(SourceLocation{}, quoted + ": " + what, v, range);
  };
  if (kind == "fixed") {
    int64_t n = 0;
    if (positional.size() != 1 || !ParseWholeNumber(positional[0], &n)) {
      return expected("a whole number of tokens >= 1, as 512 or fixed:512");
    }
    WIRESIM_RETURN_IF_ERROR(CheckInteger(SourceLocation{}, quoted + ": length", n, kTokenCount));
    d.kind = LengthDistribution::Kind::kFixed;
    d.value = static_cast<double>(n);
  } else if (kind == "uniform") {
    const size_t dash = positional.size() == 1 ? positional[0].find('-') : std::string_view::npos;
    int64_t lo = 0, hi = 0;
    const std::string form = "uniform:LOW-HIGH with whole numbers 1 <= LOW <= HIGH, as uniform:128-1024";
    if (dash == std::string_view::npos || !ParseWholeNumber(Trim(positional[0].substr(0, dash)), &lo) ||
        !ParseWholeNumber(Trim(positional[0].substr(dash + 1)), &hi)) {
      return expected(form);
    }
    WIRESIM_RETURN_IF_ERROR(CheckInteger(SourceLocation{}, quoted + ": LOW", lo, kTokenCount));
    WIRESIM_RETURN_IF_ERROR(CheckInteger(SourceLocation{}, quoted + ": HIGH", hi, kTokenCount));
    if (hi < lo) return expected(form);
    d.kind = LengthDistribution::Kind::kUniform;
    d.value = static_cast<double>(lo);
    d.high = static_cast<double>(hi);
  } else if (kind == "normal" || kind == "lognormal") {
    const std::string form = std::string(kind) + ":MEAN,STDDEV (a positive mean and a non-negative standard " +
                             "deviation of the length in tokens), as " + std::string(kind) + ":512,128";
    double mean = 0, stddev = 0;
    if (positional.size() != 2 || !number(positional[0], &mean) || !number(positional[1], &stddev)) {
      return expected(form);
    }
    WIRESIM_RETURN_IF_ERROR(bounded("MEAN", mean, kTokenLength));
    WIRESIM_RETURN_IF_ERROR(bounded("STDDEV", stddev, kTokenSpread));
    d.kind = kind == "normal" ? LengthDistribution::Kind::kNormal : LengthDistribution::Kind::kLogNormal;
    d.value = mean;
    d.stddev = stddev;
  } else if (kind == "empirical") {
    d.kind = LengthDistribution::Kind::kEmpirical;
    for (std::string_view s : positional) {
      int64_t n = 0;
      if (!ParseWholeNumber(s, &n)) return expected("empirical:N1,N2,... with whole numbers >= 1");
      WIRESIM_RETURN_IF_ERROR(CheckInteger(SourceLocation{}, quoted + ": length", n, kTokenCount));
      d.samples.push_back(n);
    }
    if (d.samples.empty()) return expected("empirical:N1,N2,... with at least one length");
  } else {
    return InvalidArgument(quoted + ": unknown distribution '" + std::string(kind) +
                           "'; expected N, fixed:N, uniform:LOW-HIGH, normal:MEAN,STDDEV, lognormal:MEAN,STDDEV, "
                           "empirical:N1,N2,..., sharegpt-input or sharegpt-output");
  }
  if (d.max < d.min) {
    return InvalidArgument(quoted + ": max (" + std::to_string(d.max) + ") must be at least min (" +
                           std::to_string(d.min) + ")");
  }
  return d;
}

std::unique_ptr<RequestSource> MakeSyntheticSource(const SyntheticWorkload& workload, RandomStream& arrivals,
                                                   RandomStream& lengths) {
  WIRESIM_CHECK(workload.requests > 0 || workload.duration > Time::Zero())
      << "a synthetic workload needs a request count or a duration";
  return std::make_unique<SyntheticSource>(workload, arrivals, lengths);
}

Status ValidateWorkload(const SyntheticWorkload& workload) {
  const ArrivalProcess& a = workload.arrivals;
  if (a.kind != ArrivalKind::kAllAtOnce && !(std::isfinite(a.rate_per_s) && a.rate_per_s > 0)) {
    return InvalidArgument("rate: must be a positive finite number of requests per second, got " +
                           FormatNumber(a.rate_per_s));
  }
  if (a.kind == ArrivalKind::kGamma && !(std::isfinite(a.burstiness) && a.burstiness > 0)) {
    return InvalidArgument("burstiness: must be a positive finite number (1 is Poisson, below 1 burstier), got " +
                           FormatNumber(a.burstiness));
  }
  if (workload.requests < 0) {
    return InvalidArgument("requests: must be >= 0 (0: no count limit), got " + std::to_string(workload.requests));
  }
  if (workload.duration < Time::Zero()) {
    return InvalidArgument("duration: must be >= 0 (0: no time limit), got " + workload.duration.ToString());
  }
  if (workload.requests == 0 && workload.duration == Time::Zero()) {
    return InvalidArgument("requests: a workload needs a request count or a duration, or it never ends");
  }
  if (a.kind == ArrivalKind::kAllAtOnce && workload.requests == 0) {
    return InvalidArgument(
        "requests: all-at-once arrivals need a request count (every request arrives at t = 0, "
        "so a duration alone never ends)");
  }
  WIRESIM_RETURN_IF_ERROR(CheckDistribution(workload.input, "input"));
  WIRESIM_RETURN_IF_ERROR(CheckDistribution(workload.output, "output"));
  return Status::Ok();
}

}  // namespace wiresim
