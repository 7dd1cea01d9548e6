// Simulator: the clock and the event loop of one run. One Simulator exists per run and is passed by reference to
// everything that schedules work; nothing in wiresim keeps time anywhere else. Handlers run one at a time, in
// (time, priority, insertion) order, and may schedule or cancel further events.
//
//   Simulator sim(/*seed=*/7);
//   sim.ScheduleAfter(Time::Microseconds(2), [&] { ... sim.Now() ... });
//   sim.Run();
#pragma once

#include <cstdint>

#include "sim/core/event_queue.h"
#include "sim/core/random.h"
#include "sim/core/time.h"

namespace wiresim {

class Simulator {
 public:
  explicit Simulator(uint64_t seed = 0) : random_(seed) {}
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // The time of the event being handled, or of the last one handled.
  Time Now() const { return now_; }

  // Schedules `handler` at absolute time `at`. Lower priority values run first among events at the same time.
  // REQUIRES: at >= Now().
  EventId Schedule(Time at, EventHandler handler, int priority = 0);
  // Schedules `handler` `delay` after Now(). REQUIRES: delay >= 0.
  EventId ScheduleAfter(Time delay, EventHandler handler, int priority = 0);
  // Cancels a pending event; false if it already ran or was cancelled.
  bool Cancel(EventId id) { return queue_.Cancel(id); }
  bool IsPending(EventId id) const { return queue_.IsPending(id); }

  // Runs events until none is left or Stop() is called.
  void Run();
  // Runs every event at or before `until`, then advances Now() to `until` (unless stopped first).
  // REQUIRES: until >= Now().
  void RunUntil(Time until);
  // Makes Run()/RunUntil() return after the handler that calls it.
  void Stop() { stopped_ = true; }

  uint64_t events_processed() const { return events_processed_; }
  size_t events_pending() const { return queue_.size(); }

  // The run's named random streams (see random.h).
  RandomStream& Random(std::string_view stream) { return random_.Get(stream); }
  uint64_t seed() const { return random_.seed(); }

 private:
  // Runs the next event if it is at or before `until`; false when there is none.
  bool Step(Time until);

  EventQueue queue_;
  RandomStreams random_;
  Time now_;
  uint64_t events_processed_ = 0;
  bool stopped_ = false;
};

}  // namespace wiresim
