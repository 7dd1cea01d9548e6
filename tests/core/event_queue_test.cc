#include "sim/core/event_queue.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace wiresim {
namespace {

std::vector<std::string> Drain(EventQueue& q) {
  std::vector<std::string> order;
  while (auto e = q.Pop()) e->handler();
  return order;
}

TEST_CASE("Events run by time, then priority, then the order they were scheduled") {
  EventQueue q;
  std::string order;
  q.Push(Time::Nanoseconds(20), 0, [&] { order += "c"; });
  q.Push(Time::Nanoseconds(10), 5, [&] { order += "b"; });  // same time as "a" but lower priority (5 > 1)
  q.Push(Time::Nanoseconds(10), 1, [&] { order += "a"; });
  q.Push(Time::Nanoseconds(20), 0, [&] { order += "d"; });  // same time and priority as "c": after it
  q.Push(Time::Nanoseconds(20), 0, [&] { order += "e"; });
  Drain(q);
  CHECK(order == "abcde");
}

TEST_CASE("A cancelled event never runs and frees its place") {
  EventQueue q;
  std::string order;
  EventId a = q.Push(Time::Nanoseconds(1), 0, [&] { order += "a"; });
  q.Push(Time::Nanoseconds(2), 0, [&] { order += "b"; });
  CHECK(q.size() == 2);
  CHECK(q.Cancel(a));
  CHECK_FALSE(q.Cancel(a));  // twice is a no-op
  CHECK_FALSE(q.IsPending(a));
  CHECK(q.size() == 1);
  CHECK(q.NextTime() == Time::Nanoseconds(2));
  Drain(q);
  CHECK(order == "b");
  CHECK(q.empty());
  CHECK(q.NextTime() == Time::Max());
}

TEST_CASE("A handle to a fired event does not cancel the event that reuses its slot") {
  EventQueue q;
  int fired = 0;
  EventId first = q.Push(Time::Nanoseconds(1), 0, [&] { ++fired; });
  q.Pop()->handler();
  EventId second = q.Push(Time::Nanoseconds(2), 0, [&] { ++fired; });
  CHECK_FALSE(q.Cancel(first));  // stale handle: the slot now belongs to `second`
  CHECK(q.IsPending(second));
  q.Pop()->handler();
  CHECK(fired == 2);
}

TEST_CASE("A default EventId names nothing") {
  EventQueue q;
  EventId none;
  CHECK_FALSE(none.valid());
  CHECK_FALSE(q.Cancel(none));
}

}  // namespace
}  // namespace wiresim
