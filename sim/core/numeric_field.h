// The ranges the numbers wiresim reads may take, and the one check every reader applies to them. A number from a
// file or a flag is accepted only when it is finite, in its field's range and small enough that what the simulator
// derives from it (a Time, an int64 byte or parameter count) cannot overflow; otherwise the reader returns a Status
// naming the file, line and field and what was expected (docs/formats/README.md gives every bound and its reason).
//
//   WIRESIM_RETURN_IF_ERROR(CheckNumber(where, "link.latency_ns", 1e16, kLatencyNs));
//   // -> "cluster.toml:12: link.latency_ns: expected a latency in ns from 0 to 1e+09 (one second), got 1e+16"
//   WIRESIM_ASSIGN_OR_RETURN(int64_t n, ParseIntegerField(where, "NUMA Affinity", cell, kNumaNode));
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "sim/core/status.h"

namespace wiresim {

// An interval a number must lie in. `what` and `max_note` only make messages: "expected {what} from {min} to
// {max} ({max_note}), got ...".
struct NumericRange {
  double min = 0;
  bool min_exclusive = false;  // value > min rather than >= min
  double max = 0;              // inclusive
  bool whole = false;          // an integer is required
  const char* what = "a number";
  const char* max_note = "";
};

// The limits below, all derived from Time: an int64 count of picoseconds holds 9.22e18 ps, about 9.2e6 s or
// 106 days (time.h). The largest message at the slowest bandwidth takes 2^40 B / 1e7 B/s = 1.1e5 s (30.5 hours),
// 84 times below that range, which leaves room for a collective's steps (a ring all-reduce moves under twice its
// buffer) and for links shared by several flows; a second of latency on each of the 2(n-1) steps of a ring over
// 2^16 ranks adds 1.3e5 s more.
inline constexpr double kMaxMessageBytes = 1099511627776.0;  // 2^40 B (1 TiB): above any GPU's memory (B200: 192 GB)
inline constexpr double kMinBandwidthGBps = 0.01;            // 10 MB/s: below 1 Gb/s Ethernet (0.125 GB/s)
inline constexpr double kMaxBandwidthGBps = 1e6;             // 1 PB/s: 1,000 times an NVLink 5 GPU (1.8 TB/s)
inline constexpr double kMaxLatencyNs = 1e9;                 // one second
inline constexpr double kMaxMeasuredMicroseconds = 8.64e10;  // one day
inline constexpr int64_t kMaxRanks = int64_t{1} << 20;       // ranks, GPUs, nodes, link counts
inline constexpr int64_t kMaxModelDimension = int64_t{1} << 24;  // one of a model's sizes (vocab, hidden, ...)
inline constexpr int64_t kMaxModelLayers = int64_t{1} << 16;
inline constexpr int64_t kMaxModelParameters = int64_t{1} << 50;  // products of a model's sizes (1.1e15)
// A request's prompt or output length (traces, length distributions): 2^31 tokens, 200 times the longest context
// window of a released model (Llama 4 Scout: 10M tokens, Meta's model card).
inline constexpr int64_t kMaxRequestTokens = int64_t{1} << 31;
// A time in a trace, in ms after its first request: what Time holds, int64 picoseconds (about 106 days).
inline constexpr double kMaxTraceMilliseconds = 9223372036.0;  // floor((2^63 - 1) ps / 1e9 ps per ms)
// JSON and XML inputs nest a few levels; deeper ones are refused before parsing, so that no recursive parser, walk
// or destructor can exhaust the stack.
inline constexpr int kMaxNestingDepth = 512;

inline constexpr NumericRange kLatencyNs{0, false, kMaxLatencyNs, false, "a latency in ns", "one second"};
inline constexpr NumericRange kBandwidthGBps{kMinBandwidthGBps,     false,   kMaxBandwidthGBps, false,
                                             "a bandwidth in GB/s", "1 PB/s"};
// A bandwidth printed beside a measurement: derived, so 0 is allowed (nccl-tests prints 0.00 for tiny sizes).
inline constexpr NumericRange kReportedBandwidthGBps{0,       false, kMaxBandwidthGBps, false, "a bandwidth in GB/s",
                                                     "1 PB/s"};
inline constexpr NumericRange kMessageBytes{0, false, kMaxMessageBytes, false, "a size in bytes", "2^40, 1 TiB"};
inline constexpr NumericRange kElementCount{0, false, kMaxMessageBytes, true, "an element count", "2^40"};
inline constexpr NumericRange kMeasuredMicroseconds{
    0, true, kMaxMeasuredMicroseconds, false, "a time in microseconds", "one day"};
inline constexpr NumericRange kRankCount{1, false, static_cast<double>(kMaxRanks), true, "a whole number", "2^20"};
// The busiest EP rank's routed tokens over the average (a run's and model show's --expert-imbalance).
inline constexpr NumericRange kExpertImbalance{
    1, false, 1e6, false, "a factor (the busiest EP rank's tokens over the average)", "1e6"};
inline constexpr NumericRange kModelDimension{
    1, false, static_cast<double>(kMaxModelDimension), true, "a whole number", "2^24"};
inline constexpr NumericRange kModelLayers{1,     false, static_cast<double>(kMaxModelLayers), true, "a whole number",
                                           "2^16"};

inline constexpr NumericRange kTokenCount{1,    false,           static_cast<double>(kMaxRequestTokens),
                                          true, "a token count", "2^31"};
// A length distribution's mean (or a fixed or uniform length) and its standard deviation, in tokens. A mean of at
// least 1 keeps a log-normal's sigma^2 = ln(1 + s^2 / m^2) finite (at most ln(1 + 2^62), about 43).
inline constexpr NumericRange kTokenLength{
    1, false, static_cast<double>(kMaxRequestTokens), false, "a length in tokens", "2^31"};
inline constexpr NumericRange kTokenSpread{
    0, false, static_cast<double>(kMaxRequestTokens), false, "a standard deviation in tokens", "2^31"};
inline constexpr NumericRange kTraceMilliseconds{0,     false,          kMaxTraceMilliseconds,
                                                 false, "a time in ms", "Time's range, about 106 days"};

// A non-negative whole number up to `max` (an index, a count that may be 0).
constexpr NumericRange WholeUpTo(int64_t max, const char* max_note = "") {
  return NumericRange{0, false, static_cast<double>(max), true, "a whole number", max_note};
}

// OK when `value` is finite and in `range`; else "where: field: expected ..., got value".
Status CheckNumber(const SourceLocation& where, std::string_view field, double value, const NumericRange& range);
Status CheckInteger(const SourceLocation& where, std::string_view field, int64_t value, const NumericRange& range);

// All of `text` as a number ("12", "0.5", "1e3"; "-1" when the range allows it), then CheckNumber. Text that is not
// a number is quoted in the message, cut to 40 characters.
Result<double> ParseNumberField(const SourceLocation& where, std::string_view field, std::string_view text,
                                const NumericRange& range);
// All of `text` as an integer ("12", "-1"; no sign "+", no fraction), then CheckInteger.
Result<int64_t> ParseIntegerField(const SourceLocation& where, std::string_view field, std::string_view text,
                                  const NumericRange& range);

// The product of `factors` (each >= 0) when it does not pass `max`; an error naming `field` otherwise. The product
// is formed in int64 with overflow detection, so no factors can wrap it.
Result<int64_t> CheckedProduct(const SourceLocation& where, std::string_view field,
                               std::initializer_list<int64_t> factors, int64_t max);

// OK when `text` (JSON) nests objects and arrays at most kMaxNestingDepth deep; else an error naming the line where
// it passes that depth.
Status CheckJsonNesting(const std::string& file, std::string_view text);

// The error for a JSON `text` that nlohmann refused with out_of_range (`what`, its message: a number such as 1e400
// that no double holds): "file:LINE: the number 1e400 is out of range (no double holds it)", the line being that of
// the first such number outside a string. Without a number in `what` (or not found in `text`), no line is given.
Status JsonNumberOutOfRange(const std::string& file, std::string_view text, std::string_view what);

// `text` cut to `max` bytes with "..." appended, for quoting input in messages.
std::string InputExcerpt(std::string_view text, size_t max = 40);

// A JSON number (nlohmann::json or ordered_json) as an int64 when it is a whole number in int64's range; nullopt for
// a fraction, inf, 2^63 and above, or anything that is not a number. The readers then bound it with CheckInteger.
template <class Json>
std::optional<int64_t> JsonWholeNumber(const Json& v) {
  if (v.is_number_unsigned()) {
    const auto u = v.template get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.template get<int64_t>();
  if (v.is_number_float()) {
    const double d = v.template get<double>();
    // 2^63 itself is not an int64: compared exclusively.
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9223372036854775808.0) return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

}  // namespace wiresim
