#include "sim/core/numeric_field.h"

#include <cmath>
#include <limits>
#include <string>

#include <catch2/catch.hpp>

#include "sim/core/text.h"
#include "sim/core/time.h"

namespace wiresim {
namespace {

using Catch::Matchers::Contains;

const SourceLocation kAt{"in.toml", 7, 0};

TEST_CASE("the bounds keep the largest message over the slowest link inside Time") {
  // 2^40 B at 0.01 GB/s = 1.0995e12 / 1e7 = 109,951 s; Time holds INT64_MAX ps = 9,223,372 s (time.h).
  const double worst_s = kMaxMessageBytes / (kMinBandwidthGBps * 1e9);
  CHECK(worst_s == Approx(109951.16).epsilon(1e-6));
  const double time_range_s = static_cast<double>(std::numeric_limits<int64_t>::max()) * 1e-12;
  CHECK(time_range_s / worst_s > 80);
  // A second of latency on each of the 2(n-1) steps of a ring over 2^16 ranks: 131,070 s, also inside.
  CHECK(2.0 * ((1 << 16) - 1) * kMaxLatencyNs * 1e-9 < time_range_s);
  // The largest latency and measured time convert to Time without tripping its checks.
  CHECK(Time::FromNanoseconds(kMaxLatencyNs) == Time::Seconds(1));
  CHECK(Time::FromMicroseconds(kMaxMeasuredMicroseconds) == Time::Seconds(86400));
}

TEST_CASE("CheckNumber refuses non-finite and out-of-range values, naming the place and the range") {
  CHECK(CheckNumber(kAt, "link.latency_ns", 0, kLatencyNs).ok());
  CHECK(CheckNumber(kAt, "link.latency_ns", 1e9, kLatencyNs).ok());
  const Status big = CheckNumber(kAt, "link.latency_ns", 1e16, kLatencyNs);
  REQUIRE_FALSE(big.ok());
  CHECK(big.code() == StatusCode::kInvalidArgument);
  CHECK(
      big.message() ==
      "in.toml:7: link.latency_ns: expected a latency in ns from 0 to 1000000000 (one second), got 10000000000000000");
  CHECK_FALSE(CheckNumber(kAt, "x", -1, kLatencyNs).ok());
  CHECK_FALSE(CheckNumber(kAt, "x", std::nan(""), kLatencyNs).ok());
  CHECK_FALSE(CheckNumber(kAt, "x", std::numeric_limits<double>::infinity(), kLatencyNs).ok());
  // Exclusive lower bound: a measured time must be above 0.
  CHECK_FALSE(CheckNumber(kAt, "time", 0, kMeasuredMicroseconds).ok());
  CHECK(CheckNumber(kAt, "time", 1e-3, kMeasuredMicroseconds).ok());
  // Bandwidth 1e-6 GB/s is below the 0.01 floor.
  CHECK_THAT(CheckNumber(kAt, "bandwidth_GBps", 1e-6, kBandwidthGBps).message(),
             Contains("from 0.01 to 1000000") && Contains("got 1e-06"));
  // Whole numbers only where the range says so.
  CHECK_FALSE(CheckNumber(kAt, "ranks", 2.5, kRankCount).ok());
  CHECK(CheckNumber(kAt, "ranks", 8, kRankCount).ok());
}

TEST_CASE("CheckInteger compares in integers") {
  CHECK(CheckInteger(kAt, "nodes", 1, kRankCount).ok());
  CHECK(CheckInteger(kAt, "nodes", int64_t{1} << 20, kRankCount).ok());
  CHECK_THAT(CheckInteger(kAt, "nodes", 0, kRankCount).message(), Contains("in.toml:7: nodes:") && Contains("got 0"));
  CHECK_FALSE(CheckInteger(kAt, "nodes", -1, kRankCount).ok());
  CHECK_FALSE(CheckInteger(kAt, "nodes", (int64_t{1} << 20) + 1, kRankCount).ok());
  CHECK_FALSE(CheckInteger(kAt, "nodes", std::numeric_limits<int64_t>::min(), kRankCount).ok());
}

TEST_CASE("ParseNumberField and ParseIntegerField take the whole text and quote a bounded excerpt") {
  CHECK(*ParseNumberField(kAt, "size", "1048576", kMessageBytes) == 1048576.0);
  CHECK(*ParseNumberField(kAt, "time", "1.2e+05", kMeasuredMicroseconds) == 120000.0);
  CHECK_FALSE(ParseNumberField(kAt, "time", "inf", kMeasuredMicroseconds).ok());
  CHECK_FALSE(ParseNumberField(kAt, "time", "nan", kMeasuredMicroseconds).ok());
  CHECK_FALSE(ParseNumberField(kAt, "time", "-3", kMeasuredMicroseconds).ok());
  CHECK_THAT(ParseNumberField(kAt, "time", "1e400", kMeasuredMicroseconds).status().message(),
             Contains("out of a double's range"));
  // 2^63 as printed: refused, not wrapped.
  CHECK_THAT(ParseNumberField(kAt, "size", "9223372036854775808", kMessageBytes).status().message(),
             Contains("got 9223372036854775808"));
  CHECK(*ParseIntegerField(kAt, "root", "-1", NumericRange{-1, false, 8, true, "a root", ""}) == -1);
  CHECK_FALSE(ParseIntegerField(kAt, "count", "+1", kElementCount).ok());
  CHECK_FALSE(ParseIntegerField(kAt, "count", "1.5", kElementCount).ok());
  // Past int64: from_chars reports it out of range rather than wrapping.
  const std::string long_digits(5000, '9');
  const Status overlong = ParseIntegerField(kAt, "NV", long_digits, kRankCount).status();
  REQUIRE_FALSE(overlong.ok());
  CHECK(overlong.message().size() < 200);  // the 5,000 digits are cut to 40 and "..."
  CHECK_THAT(overlong.message(), Contains(std::string(40, '9') + "..."));
}

TEST_CASE("CheckedProduct detects int64 overflow and the bound") {
  // 8192 x 28672 x 3 = 704,643,072 (a Llama-3.1-70B MLP layer).
  CHECK(*CheckedProduct(kAt, "intermediate_size", {8192, 28672, 3}, kMaxModelParameters) == 704643072);
  // 2^32 x 2^32 wraps an int64; it is refused, not wrapped.
  CHECK_FALSE(CheckedProduct(kAt, "hidden_size", {int64_t{1} << 32, int64_t{1} << 32}, INT64_MAX).ok());
  // 2^25 x 2^25 = 2^50 is the bound itself; one more factor of 2 passes it.
  CHECK(CheckedProduct(kAt, "x", {int64_t{1} << 25, int64_t{1} << 25}, kMaxModelParameters).ok());
  CHECK_FALSE(CheckedProduct(kAt, "x", {int64_t{1} << 25, int64_t{1} << 25, 2}, kMaxModelParameters).ok());
}

TEST_CASE("CheckJsonNesting names the line where the depth passes 512") {
  CHECK(CheckJsonNesting("a.json", "{\"a\": [1, {\"b\": 2}]}").ok());
  CHECK(CheckJsonNesting("a.json", std::string(512, '[') + std::string(512, ']')).ok());
  // Line 1 holds "{", line 2 the 75,000 brackets: the 513th level opens on line 2.
  const std::string deep = "{\n\"a\": " + std::string(75000, '[');
  const Status s = CheckJsonNesting("deep.json", deep);
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.message(), Contains("deep.json:2:") && Contains("512 levels"));
  // Brackets inside strings do not count.
  CHECK(CheckJsonNesting("a.json", "{\"a\": \"" + std::string(1000, '[') + "\"}").ok());
}

TEST_CASE("JsonNumberOutOfRange names the line of the number nlohmann could not hold") {
  // nlohmann's out_of_range.406 message, as its parser words it (json.hpp, parser::parse_internal).
  const std::string what = "[json.exception.out_of_range.406] number overflow parsing '1e400'";
  // Line 2 holds "1e400" inside a string (skipped, as is 21e400 on line 3); the number is on line 4.
  const std::string text = "{\n\"note\": \"1e400 \\\" 1e400\",\n\"a\": 21e400,\n\"b\": 1e400}";
  const Status s = JsonNumberOutOfRange("c.json", text, what);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message() == "c.json:4: the number 1e400 is out of range (no double holds it)");
  // A negative number is its own token.
  CHECK(JsonNumberOutOfRange("c.json", "[1,\n-1e999]", "number overflow parsing '-1e999'").message() ==
        "c.json:2: the number -1e999 is out of range (no double holds it)");
  // A message without a number: no line, the message quoted.
  CHECK_THAT(JsonNumberOutOfRange("c.json", "[]", "out_of_range").message(),
             Contains("c.json: a JSON value out of range: out_of_range"));
}

TEST_CASE("ToValidUtf8 keeps UTF-8 and replaces every invalid byte with U+FFFD") {
  CHECK(ToValidUtf8("gpu0") == "gpu0");
  CHECK(ToValidUtf8("h\xC3\xA9te") == "h\xC3\xA9te");            // é, two bytes
  CHECK(ToValidUtf8("\xF0\x9F\x98\x80") == "\xF0\x9F\x98\x80");  // U+1F600, four bytes
  CHECK(ToValidUtf8("a\xFF"
                    "b") ==
        "a\xEF\xBF\xBD"
        "b");                                                                    // 0xFF never appears in UTF-8
  CHECK(ToValidUtf8("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");                  // an overlong '/'
  CHECK(ToValidUtf8("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a UTF-16 surrogate
  CHECK(ToValidUtf8("x\xE2\x82") == "x\xEF\xBF\xBD\xEF\xBF\xBD");                // cut short at the end
}

}  // namespace
}  // namespace wiresim
