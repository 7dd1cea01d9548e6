// Splitting and number parsing shared by every option parser.
#include "sim/core/text.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string_view>
#include <vector>

namespace wiresim {
namespace {

using Views = std::vector<std::string_view>;

TEST_CASE("Split keeps every item, empty ones too") {
  CHECK(Split("a,,b", ',') == Views{"a", "", "b"});
  CHECK(Split("", ',') == Views{""});
  CHECK(Split("a,", ',') == Views{"a", ""});
  CHECK(Split("h0/gpu[0-3]", '/') == Views{"h0", "gpu[0-3]"});
}

TEST_CASE("Trim drops spaces and tabs at the ends only") {
  CHECK(Trim(" \ttp = 8\t ") == "tp = 8");
  CHECK(Trim("   ").empty());
}

TEST_CASE("ParseWholeNumber takes all of the text or nothing") {
  int64_t v = -1;
  CHECK(ParseWholeNumber("2048", &v));
  CHECK(v == 2048);
  int i = 0;
  CHECK_FALSE(ParseWholeNumber("", &i));
  CHECK_FALSE(ParseWholeNumber("-1", &i));
  CHECK_FALSE(ParseWholeNumber("+1", &i));
  CHECK_FALSE(ParseWholeNumber("1x", &i));
  CHECK_FALSE(ParseWholeNumber(" 1", &i));
  CHECK_FALSE(ParseWholeNumber("4294967296", &i));  // 2^32 does not fit in a 32-bit int
}

}  // namespace
}  // namespace wiresim

namespace wiresim {
namespace {

TEST_CASE("ParseFiniteNumber takes all of a finite number and nothing else") {
  double v = 0;
  CHECK(ParseFiniteNumber("0.5", &v));
  CHECK(v == 0.5);
  CHECK(ParseFiniteNumber("-2e3", &v));
  CHECK(v == -2000);
  for (const char* bad : {"", " 1", "1x", "inf", "nan", "1e999"}) {
    INFO(bad);
    CHECK_FALSE(ParseFiniteNumber(bad, &v));
  }
}

TEST_CASE("IndexRanges writes runs as ranges, sorted") {
  CHECK(IndexRanges({5, 0, 1, 2, 7}) == "0-2,5,7");
  CHECK(IndexRanges({3}) == "3");
  CHECK(IndexRanges({}) == "-");
}

TEST_CASE("JsonNestingDepth counts brackets outside strings and stops past its limit") {
  CHECK(JsonNestingDepth(R"({"a": [1, {"b": 2}]})", 10) == 3);
  CHECK(JsonNestingDepth(R"({"a": "[[[{{{"})", 10) == 1);   // brackets inside a string do not count
  CHECK(JsonNestingDepth(R"({"a": "\"[["})", 10) == 1);     // nor after an escaped quote
  CHECK(JsonNestingDepth(std::string(1000, '['), 5) == 6);  // stops one past the limit
}

}  // namespace
}  // namespace wiresim
