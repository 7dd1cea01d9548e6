#include "sim/core/time.h"

#include <limits>

#include <catch2/catch.hpp>

namespace wiresim {
namespace {

TEST_CASE("Time factories agree on units") {
  STATIC_REQUIRE(Time::Nanoseconds(1).picoseconds() == 1'000);
  STATIC_REQUIRE(Time::Microseconds(1).picoseconds() == 1'000'000);
  STATIC_REQUIRE(Time::Milliseconds(1).picoseconds() == 1'000'000'000);
  STATIC_REQUIRE(Time::Seconds(1).picoseconds() == 1'000'000'000'000);
  CHECK(Time::Microseconds(3) + Time::Nanoseconds(250) == Time::Picoseconds(3'250'000));
  CHECK(Time::Milliseconds(2) - Time::Microseconds(500) == Time::Microseconds(1500));
  CHECK(Time::Nanoseconds(7) * 3 == Time::Nanoseconds(21));
  CHECK(Time::Microseconds(10) / 4 == Time::Nanoseconds(2500));
  CHECK(Time::Microseconds(10) / Time::Microseconds(3) == 3);
}

TEST_CASE("Durations from rates round up to the next picosecond") {
  // 1 byte at 3e12 B/s takes 1/3 ps, which must not round down to zero: an event never fires before its work.
  CHECK(Time::FromSecondsCeil(1.0 / 3e12) == Time::Picoseconds(1));
  // 1 MB at 50 GB/s = 20 us exactly.
  CHECK(Time::FromSecondsCeil(1e6 / 50e9) == Time::Microseconds(20));
  CHECK(Time::FromSecondsCeil(0.0) == Time::Zero());
  CHECK(Time::FromMicroseconds(1.5) == Time::Nanoseconds(1500));
  CHECK(Time::FromNanoseconds(0.4) == Time::Picoseconds(400));
  CHECK(Time::FromNanoseconds(0.0004) == Time::Zero());  // 0.4 ps rounds to the nearest picosecond
}

TEST_CASE("FitsSeconds says which durations a Time holds: below 9.2e18 ps, finite, not negative") {
  // 9.2e6 s = 9.2e18 ps, the bound FromSecondsCeil checks (int64 holds up to 9.22e18).
  CHECK(Time::FitsSeconds(0.0));
  CHECK(Time::FitsSeconds(9.1e6));
  CHECK(Time::FromSecondsCeil(9.1e6) == Time::Seconds(9'100'000));
  CHECK_FALSE(Time::FitsSeconds(9.2e6));
  CHECK_FALSE(Time::FitsSeconds(2.16e14));  // a 2^24-cubed GEMM batch of 2^24 on an H100
  CHECK_FALSE(Time::FitsSeconds(-1e-12));
  CHECK_FALSE(Time::FitsSeconds(std::numeric_limits<double>::infinity()));
  CHECK_FALSE(Time::FitsSeconds(std::numeric_limits<double>::quiet_NaN()));
}

TEST_CASE("Time orders like its picosecond count") {
  CHECK(Time::Nanoseconds(1) < Time::Nanoseconds(2));
  CHECK(Time::Max() > Time::Seconds(1'000'000));
  CHECK(Time::Max().IsMax());
  CHECK_FALSE(Time::Zero().IsMax());
}

TEST_CASE("Time prints with a unit that keeps the number readable") {
  CHECK(Time::Picoseconds(812).ToString() == "812 ps");
  CHECK(Time::Nanoseconds(1500).ToString() == "1.500 us");
  CHECK((Time::Microseconds(3) + Time::Nanoseconds(250)).ToString() == "3.250 us");
  CHECK(Time::Milliseconds(12).ToString() == "12.000 ms");
  CHECK(Time::Seconds(2).ToString() == "2.000 s");
  CHECK(Time::Max().ToString() == "never");
}

TEST_CASE("Time range covers a long serving run") {
  // int64 picoseconds reach 9.22e6 s (about 106 days); a week of simulated traffic fits with room to spare.
  const Time week = Time::Seconds(7 * 24 * 3600);
  CHECK(week.ToSeconds() == Approx(604800.0));
  CHECK(week * 15 > week);
}

}  // namespace
}  // namespace wiresim
