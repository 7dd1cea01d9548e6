#include "sim/core/simulator.h"

#include "sim/core/check.h"

namespace wiresim {

EventId Simulator::Schedule(Time at, EventHandler handler, int priority) {
  WIRESIM_CHECK(at >= now_) << "event scheduled at " << at << ", before now " << now_;
  return queue_.Push(at, priority, std::move(handler));
}

EventId Simulator::ScheduleAfter(Time delay, EventHandler handler, int priority) {
  WIRESIM_CHECK(delay >= Time::Zero()) << "negative delay " << delay;
  return Schedule(now_ + delay, std::move(handler), priority);
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
  while (!stopped_ && Step(Time::Max())) {
  }
}

void Simulator::RunUntil(Time until) {
  WIRESIM_CHECK(until >= now_) << "RunUntil(" << until << ") before now " << now_;
  stopped_ = false;
  while (!stopped_ && Step(until)) {
  }
  if (!stopped_) now_ = until;
}

}  // namespace wiresim
