#include "sim/core/simulator.h"

#include "sim/core/check.h"

namespace wiresim {

EventId Simulator::Schedule(Time at, EventHandler handler, int priority) {
  WIRESIM_CHECK(at >= now_) << "event scheduled at " << at << ", before now " << now_;
  if (at > kHorizon) return PassHorizon();
  return queue_.Push(at, priority, std::move(handler));
}

EventId Simulator::ScheduleAfter(Time delay, EventHandler handler, int priority) {
  WIRESIM_CHECK(delay >= Time::Zero()) << "negative delay " << delay;
  // Compared before adding: Now() + delay may be past Time's range.
  if (now_ > kHorizon || delay > kHorizon - now_) return PassHorizon();
  return Schedule(now_ + delay, std::move(handler), priority);
}

EventId Simulator::PassHorizon() {
  passed_horizon_ = true;
  stopped_ = true;
  return EventId();
}

bool Simulator::Step(Time until) {
  if (queue_.empty() || queue_.NextTime() > until) return false;
  auto event = queue_.Pop();
  now_ = event->at;
  ++events_processed_;
  event->handler();
  return true;
}

void Simulator::Run() {
  stopped_ = false;
  while (!stopped_ && !passed_horizon_ && Step(Time::Max())) {
  }
}

void Simulator::RunUntil(Time until) {
  WIRESIM_CHECK(until >= now_) << "RunUntil(" << until << ") before now " << now_;
  stopped_ = false;
  while (!stopped_ && !passed_horizon_ && Step(until)) {
  }
  if (!stopped_ && !passed_horizon_) now_ = until;
}

}  // namespace wiresim
