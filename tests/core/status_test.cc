#include "sim/core/status.h"

#include <catch2/catch.hpp>

namespace wiresim {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("odd: " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  WIRESIM_ASSIGN_OR_RETURN(int h, Half(x));
  WIRESIM_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST_CASE("Result carries a value or the status that explains its absence") {
  CHECK(Quarter(8).ok());
  CHECK(*Quarter(8) == 2);
  Result<int> bad = Quarter(6);  // 6/2 = 3 is odd
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK(bad.status().message() == "odd: 3");
}

TEST_CASE("Input errors name file, line and field") {
  Status s = InvalidInput(SourceLocation{"cluster.toml", 12, 0}, "link.bandwidth_GBps", "must be > 0, got -5");
  CHECK(s.message() == "cluster.toml:12: link.bandwidth_GBps: must be > 0, got -5");
  CHECK(InvalidInput(SourceLocation{"a.toml", 3, 7}, "", "bad").message() == "a.toml:3:7: bad");
  CHECK(s.WithContext("loading").message() == "loading: cluster.toml:12: link.bandwidth_GBps: must be > 0, got -5");
}

}  // namespace
}  // namespace wiresim

#include "sim/core/index_list.h"

namespace wiresim {
namespace {

TEST_CASE("Index lists: indices and inclusive ranges in the order written") {
  CHECK(*ParseIndexList("0-3,8-9") == std::vector<int>{0, 1, 2, 3, 8, 9});
  CHECK(*ParseIndexList("5, 2") == std::vector<int>{5, 2});
  CHECK(*ParseIndexList("7") == std::vector<int>{7});
  CHECK(ParseIndexList("3-1").status().message() == "'3-1' is not an index or a range like 0-7");
  CHECK_FALSE(ParseIndexList("a").ok());
  CHECK_FALSE(ParseIndexList("1,,2").ok());
  CHECK_FALSE(ParseIndexList("-1").ok());
}

}  // namespace
}  // namespace wiresim
