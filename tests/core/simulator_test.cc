#include "sim/core/simulator.h"

#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace wiresim {
namespace {

TEST_CASE("Handlers see the clock at their own time and may schedule more") {
  Simulator sim;
  std::vector<Time> seen;
  sim.ScheduleAfter(Time::Microseconds(2), [&] {
    seen.push_back(sim.Now());
    sim.ScheduleAfter(Time::Microseconds(3), [&] { seen.push_back(sim.Now()); });
  });
  sim.Run();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == Time::Microseconds(2));
  CHECK(seen[1] == Time::Microseconds(5));
  CHECK(sim.events_processed() == 2);
  CHECK(sim.Now() == Time::Microseconds(5));
}

TEST_CASE("RunUntil stops at the horizon and resumes later") {
  Simulator sim;
  std::string order;
  sim.Schedule(Time::Microseconds(1), [&] { order += "a"; });
  sim.Schedule(Time::Microseconds(5), [&] { order += "b"; });  // exactly at the horizon: runs
  sim.Schedule(Time::Microseconds(9), [&] { order += "c"; });
  sim.RunUntil(Time::Microseconds(5));
  CHECK(order == "ab");
  CHECK(sim.Now() == Time::Microseconds(5));
  sim.RunUntil(Time::Microseconds(7));
  CHECK(order == "ab");
  CHECK(sim.Now() == Time::Microseconds(7));  // the clock moves to the horizon even without events
  sim.Run();
  CHECK(order == "abc");
}

TEST_CASE("An event after the run's horizon is dropped and stops the run") {
  Simulator sim;
  std::string order;
  const Time h = Simulator::kHorizon;
  CHECK(h.picoseconds() == int64_t{1} << 62);  // half of int64's range: h + any span shorter than h fits
  sim.Schedule(h, [&] { order += "a"; });      // exactly at the horizon: kept
  sim.Schedule(Time::Microseconds(1), [&] {
    order += "b";
    // Now() + (h - 1 ps + 2 ps) is past the horizon by 1 ps: dropped, and nothing after this handler runs.
    const EventId late = sim.ScheduleAfter(h - Time::Microseconds(1) + Time::Picoseconds(1), [&] { order += "x"; });
    CHECK_FALSE(late.valid());
    CHECK_FALSE(sim.Cancel(late));
  });
  CHECK_FALSE(sim.passed_horizon());
  sim.Run();
  CHECK(order == "b");
  CHECK(sim.passed_horizon());
  CHECK(sim.Now() == Time::Microseconds(1));
  sim.Run();  // a run that passed its horizon stays stopped
  CHECK(order == "b");
}

TEST_CASE("A delay that would overflow Time passes the horizon instead of aborting") {
  Simulator sim;
  bool ran = false;
  sim.Schedule(Simulator::kHorizon, [&] {
    // Now() + Time::Max() - 1 ps is past int64: compared, never added.
    sim.ScheduleAfter(Time::Picoseconds(std::numeric_limits<int64_t>::max() - 1), [&] { ran = true; });
  });
  sim.Run();
  CHECK(sim.passed_horizon());
  CHECK_FALSE(ran);
  CHECK(sim.Now() == Simulator::kHorizon);
}

TEST_CASE("Stop returns after the current handler") {
  Simulator sim;
  int ran = 0;
  sim.Schedule(Time::Nanoseconds(1), [&] {
    ++ran;
    sim.Stop();
  });
  sim.Schedule(Time::Nanoseconds(2), [&] { ++ran; });
  sim.Run();
  CHECK(ran == 1);
  CHECK(sim.events_pending() == 1);
  sim.Run();
  CHECK(ran == 2);
}

TEST_CASE("Cancelling from a handler removes a later event") {
  Simulator sim;
  bool late_ran = false;
  EventId late = sim.Schedule(Time::Nanoseconds(10), [&] { late_ran = true; });
  sim.Schedule(Time::Nanoseconds(5), [&] { CHECK(sim.Cancel(late)); });
  sim.Run();
  CHECK_FALSE(late_ran);
}

// Two runs with the same seed and the same schedule produce the same trace, event for event.
std::vector<std::pair<int64_t, int>> TraceOfRun(uint64_t seed) {
  Simulator sim(seed);
  std::vector<std::pair<int64_t, int>> trace;
  RandomStream& gaps = sim.Random("gaps");
  for (int i = 0; i < 200; ++i) {
    const Time at = Time::FromSecondsCeil(gaps.Exponential(1e6));  // mean 1 us
    // Many events share a time bucket when rounded to the microsecond: ties must break the same way.
    const Time bucket = Time::Microseconds(at.picoseconds() / 1'000'000);
    sim.Schedule(
        bucket, [&, i] { trace.emplace_back(sim.Now().picoseconds(), i); }, i % 3);
  }
  sim.Run();
  return trace;
}

TEST_CASE("Same seed, same events in the same order") {
  CHECK(TraceOfRun(42) == TraceOfRun(42));
  CHECK(TraceOfRun(42) != TraceOfRun(43));
}

}  // namespace
}  // namespace wiresim
