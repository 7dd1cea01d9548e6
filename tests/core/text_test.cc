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
