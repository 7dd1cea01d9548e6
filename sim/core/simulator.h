// Simulator: the clock and the event loop of one run. One Simulator exists per run and is passed by reference to
// everything that schedules work; nothing in wiresim keeps time anywhere else. Handlers run one at a time, in
// (time, priority, insertion) order, and may schedule or cancel further events.
//
// A run has a horizon, kHorizon: half of Time's range. An event that would fall after it is not scheduled; the
// run stops after the handler that asked for it, and passed_horizon() says so, for the caller to report as an
// error. Below the horizon, a time plus any span shorter than the horizon stays inside Time, so the totals a run
// keeps (busy time, compute time per GPU) cannot overflow before the clock reaches it.
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
  // 2^62 ps: 4.6e6 s, about 53 days of simulated time.
  static constexpr Time kHorizon = Time::Picoseconds(int64_t{1} << 62);

  explicit Simulator(uint64_t seed = 0) : random_(seed) {}
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // The time of the event being handled, or of the last one handled.
  Time Now() const { return now_; }

  // Schedules `handler` at absolute time `at`. Lower priority values run first among events at the same time.
  // An event after kHorizon is dropped (an invalid EventId comes back) and the run stops. REQUIRES: at >= Now().
  EventId Schedule(Time at, EventHandler handler, int priority = 0);
  // Schedules `handler` `delay` after Now(), or drops it as Schedule does past the horizon. REQUIRES: delay >= 0.
  EventId ScheduleAfter(Time delay, EventHandler handler, int priority = 0);
  // Whether an event was dropped for falling after kHorizon: the run's results stop short of it.
  bool passed_horizon() const { return passed_horizon_; }
  // Cancels a pending event; false if it already ran or was cancelled.
  bool Cancel(EventId id) { return queue_.Cancel(id); }
  bool IsPending(EventId id) const { return queue_.IsPending(id); }

  // Runs events until none is left, Stop() is called or an event passes the horizon.
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
  // Drops an event past the horizon: records it and stops the run.
  EventId PassHorizon();
  // Runs the next event if it is at or before `until`; false when there is none.
  bool Step(Time until);

  EventQueue queue_;
  RandomStreams random_;
  Time now_;
  uint64_t events_processed_ = 0;
  bool stopped_ = false;
  bool passed_horizon_ = false;
};

}  // namespace wiresim
