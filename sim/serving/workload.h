// Workloads: where requests come from. Synthetic arrivals (Poisson, or Gamma with a burstiness factor as `vllm
// bench serve --burstiness` draws them, or all at once) with prompt and output lengths from a distribution; or a
// recorded trace replayed line by line (Mooncake JSONL, Azure LLM inference CSV), streamed from a std::istream and
// never loaded whole. docs/serving-workloads.md describes the formats, the distributions and where
// the ShareGPT-like default comes from.
//
//   SyntheticWorkload w;
//   w.arrivals = {ArrivalKind::kPoisson, /*rate_per_s=*/4.0};
//   WIRESIM_ASSIGN_OR_RETURN(w.input, ParseLengthDistribution("lognormal:512,256"));
//   w.requests = 1000;
//   std::unique_ptr<RequestSource> src = MakeSyntheticSource(w, sim.Random("arrivals"), sim.Random("lengths"));
//
//   WIRESIM_ASSIGN_OR_RETURN(auto trace, OpenTrace(std::move(stream), "conv.jsonl", TraceOptions{}));
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/random.h"
#include "sim/core/status.h"
#include "sim/serving/request.h"

namespace wiresim {

// A distribution of token counts. Draws are rounded to the nearest integer and clamped to [min, max].
struct LengthDistribution {
  enum class Kind { kFixed, kUniform, kNormal, kLogNormal, kEmpirical };
  Kind kind = Kind::kFixed;
  double value = 0;              // kFixed: the length; kUniform: low; kNormal/kLogNormal: mean of the length
  double high = 0;               // kUniform: high (inclusive)
  double stddev = 0;             // kNormal/kLogNormal: standard deviation of the length (not of its log)
  std::vector<int64_t> samples;  // kEmpirical: drawn uniformly
  int64_t min = 1;
  int64_t max = int64_t{1} << 30;

  int64_t Draw(RandomStream& rng) const;
  double Mean() const;  // of the unclamped distribution (kEmpirical: of the samples)
  // The form Parse reads back.
  std::string ToString() const;
};

// "512" or "fixed:512", "uniform:128-1024", "normal:512,128" (mean, stddev), "lognormal:512,256" (mean, stddev
// of the length), "empirical:N1,N2,..." (drawn uniformly), each optionally followed by ",min=N" and/or ",max=N";
// "sharegpt-input" / "sharegpt-output"
// (the ShareGPT-like defaults, cited in docs/serving-workloads.md). Errors say what was expected.
Result<LengthDistribution> ParseLengthDistribution(std::string_view text);
LengthDistribution ShareGptInputLengths();
LengthDistribution ShareGptOutputLengths();

enum class ArrivalKind {
  kPoisson,    // exponential gaps with mean 1/rate
  kGamma,      // Gamma gaps, shape = burstiness, mean 1/rate (burstiness 1 is Poisson), as vllm bench serve
  kAllAtOnce,  // every request at t = 0 (vllm bench serve's --request-rate inf)
};

struct ArrivalProcess {
  ArrivalKind kind = ArrivalKind::kPoisson;
  double rate_per_s = 1.0;  // > 0; ignored for kAllAtOnce
  double burstiness = 1.0;  // kGamma: > 0
};

struct SyntheticWorkload {
  ArrivalProcess arrivals;
  LengthDistribution input;
  LengthDistribution output;
  int64_t requests = 0;  // stop after this many (0: no count limit)
  Time duration;         // stop at the first arrival after this (zero: no time limit)
};

// REQUIRES: requests > 0 or duration > 0 (else the stream never ends). The streams are the run's named streams
// ("arrivals", "lengths"); each request draws its gap, then its input, then its output length.
std::unique_ptr<RequestSource> MakeSyntheticSource(const SyntheticWorkload& workload, RandomStream& arrivals,
                                                   RandomStream& lengths);
// Checks a workload before a run: positive rate and burstiness, a limit, sane distributions. Errors name the field.
Status ValidateWorkload(const SyntheticWorkload& workload);

enum class TraceFormat {
  kAuto,      // from the first line: '{' is Mooncake JSONL, a TIMESTAMP header is Azure CSV
  kMooncake,  // {"timestamp": ms, "input_length": N, "output_length": N, "hash_ids": [...]} per line
  kAzure,     // TIMESTAMP,ContextTokens,GeneratedTokens with "YYYY-MM-DD HH:MM:SS.fffffff" timestamps
};

struct TraceOptions {
  TraceFormat format = TraceFormat::kAuto;
  double time_scale = 1.0;          // arrival times are multiplied by this (0.5 replays twice as fast)
  int64_t max_requests = 0;         // stop after this many (0: the whole trace)
  int64_t hash_block_tokens = 512;  // Mooncake's block size for hash_ids
};

// Opens a trace for streaming. Arrival times start at the first request's timestamp (it arrives at t = 0).
// Each broken line (not JSON, a missing or non-numeric field, a negative or absurd value, time going backwards)
// is an error "NAME:LINE: ..." naming the field, returned by the Next() that reaches it.
Result<std::unique_ptr<RequestSource>> OpenTrace(std::unique_ptr<std::istream> in, std::string name,
                                                 const TraceOptions& options);

// Reads a whole trace's prompt and output lengths (for --input-len trace:FILE style sampling).
Result<std::vector<std::pair<int64_t, int64_t>>> ReadTraceLengths(std::istream& in, const std::string& name,
                                                                  const TraceOptions& options);

}  // namespace wiresim
