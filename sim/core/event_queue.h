// EventQueue: pending events ordered by (time, priority, insertion sequence). Equal times run in priority order
// (lower first), and equal (time, priority) in the order they were scheduled, so a rerun with the same inputs
// runs the same events in the same order. Cancelling is O(1): the event is marked and skipped when it surfaces.
//
//   EventQueue q;
//   EventId id = q.Push(Time::Nanoseconds(5), /*priority=*/0, [] { ... });
//   q.Cancel(id);
//   while (auto e = q.Pop()) e->handler();
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "sim/core/time.h"

namespace wiresim {

// What an event does when it fires. It captures whatever state it needs.
using EventHandler = std::function<void()>;

// A handle to a scheduled event, valid until the event fires or is cancelled. A default EventId names nothing.
class EventId {
 public:
  EventId() = default;
  bool valid() const { return generation_ != 0; }
  friend bool operator==(EventId a, EventId b) = default;

 private:
  friend class EventQueue;
  EventId(uint32_t slot, uint32_t generation) : slot_(slot), generation_(generation) {}
  uint32_t slot_ = 0;
  uint32_t generation_ = 0;
};

class EventQueue {
 public:
  struct Event {
    Time at;
    int priority = 0;
    uint64_t sequence = 0;
    EventHandler handler;
  };

  EventQueue() = default;
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // Adds an event. REQUIRES: handler is callable.
  EventId Push(Time at, int priority, EventHandler handler);

  // Cancels a pending event. Returns false if it already fired, was cancelled, or never existed.
  bool Cancel(EventId id);

  // True if `id` names an event that has neither fired nor been cancelled.
  bool IsPending(EventId id) const;

  // Removes and returns the next live event, or nullopt when none is left.
  std::optional<Event> Pop();

  // Time of the next live event, or Time::Max() when none is left.
  Time NextTime();

  // Number of live (pending, not cancelled) events.
  size_t size() const { return live_; }
  bool empty() const { return live_ == 0; }

 private:
  struct HeapEntry {
    Time at;
    int priority;
    uint64_t sequence;
    uint32_t slot;
  };
  struct Slot {
    EventHandler handler;
    uint32_t generation = 1;
    bool pending = false;
  };
  static bool Later(const HeapEntry& a, const HeapEntry& b);
  // Drops cancelled entries from the top of the heap.
  void SkipCancelled();
  void ReleaseSlot(uint32_t slot);

  std::vector<HeapEntry> heap_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  uint64_t next_sequence_ = 0;
  size_t live_ = 0;
};

}  // namespace wiresim
