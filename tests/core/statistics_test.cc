// Median, as the reports and fits use it.
#include "sim/core/statistics.h"

#include <catch2/catch.hpp>

namespace wiresim {
namespace {

TEST_CASE("The median is the middle value, or the mean of the middle two") {
  CHECK(Median({3, 1, 2}) == 2);           // sorted 1 2 3
  CHECK(Median({4, 1, 3, 2}) == 2.5);      // sorted 1 2 3 4: (2 + 3) / 2
  CHECK(Median({-1, 100, 0, 0, 7}) == 0);  // an outlier does not move it
  CHECK(Median({}) == 0);
}

}  // namespace
}  // namespace wiresim
