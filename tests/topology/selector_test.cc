#include "sim/topology/selector.h"

#include <catch2/catch.hpp>

namespace wiresim::internal {
namespace {

Selector Parse(const std::string& text) {
  std::string error;
  auto s = Selector::Parse(text, &error);
  INFO(error);
  REQUIRE(s.has_value());
  return *s;
}

TEST_CASE("Selectors match names by segment") {
  CHECK(Parse("gpu[*]").Matches("gpu0"));
  CHECK(Parse("gpu[*]").Matches("gpu17"));
  CHECK_FALSE(Parse("gpu[*]").Matches("gpu"));
  CHECK_FALSE(Parse("gpu[*]").Matches("gpux"));
  CHECK_FALSE(Parse("gpu[*]").Matches("gpu01"));  // no leading zeros: gpu01 is not gpu1
  CHECK(Parse("nvswitch[0-1]").Matches("nvswitch1"));
  CHECK_FALSE(Parse("nvswitch[0-1]").Matches("nvswitch2"));
  CHECK(Parse("gpu[0,2,5-6]").Matches("gpu6"));
  CHECK_FALSE(Parse("gpu[0,2,5-6]").Matches("gpu3"));
  CHECK(Parse("cpu0").Matches("cpu0"));
  CHECK_FALSE(Parse("cpu0").Matches("cpu00"));
  CHECK(Parse("node[1-2]/nic[*]").Matches("node2/nic7"));
  CHECK_FALSE(Parse("node[1-2]/nic[*]").Matches("node3/nic7"));
  CHECK_FALSE(Parse("node[1-2]/nic[*]").Matches("nic7"));
  CHECK(Parse("*/gpu[3]").Matches("tray9/gpu3"));
}

TEST_CASE("Malformed selectors are refused with a reason") {
  std::string error;
  CHECK_FALSE(Selector::Parse("gpu[3-1]", &error).has_value());
  CHECK(error.find("bad index list") != std::string::npos);
  CHECK_FALSE(Selector::Parse("gpu[", &error).has_value());
  CHECK_FALSE(Selector::Parse("a//b", &error).has_value());
  CHECK_FALSE(Selector::Parse("", &error).has_value());
}

}  // namespace
}  // namespace wiresim::internal
