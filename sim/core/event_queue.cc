#include "sim/core/event_queue.h"

#include <algorithm>

#include "sim/core/check.h"

namespace wiresim {

bool EventQueue::Later(const HeapEntry& a, const HeapEntry& b) {
  if (a.at != b.at) return a.at > b.at;
  if (a.priority != b.priority) return a.priority > b.priority;
  return a.sequence > b.sequence;
}

EventId EventQueue::Push(Time at, int priority, EventHandler handler) {
  WIRESIM_CHECK(static_cast<bool>(handler)) << "event without a handler";
  WIRESIM_CHECK(!at.IsMax()) << "event scheduled at Time::Max()";
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[slot];
  s.handler = std::move(handler);
  s.pending = true;
  heap_.push_back(HeapEntry{at, priority, next_sequence_++, slot});
  std::push_heap(heap_.begin(), heap_.end(), Later);
  ++live_;
  return EventId(slot, s.generation);
}

bool EventQueue::IsPending(EventId id) const {
  if (!id.valid() || id.slot_ >= slots_.size()) return false;
  const Slot& s = slots_[id.slot_];
  return s.pending && s.generation == id.generation_;
}

bool EventQueue::Cancel(EventId id) {
  if (!IsPending(id)) return false;
  Slot& s = slots_[id.slot_];
  s.pending = false;
  s.handler = nullptr;  // release captured state now, not when the entry surfaces
  --live_;
  return true;
}

void EventQueue::ReleaseSlot(uint32_t slot) {
  Slot& s = slots_[slot];
  s.pending = false;
  s.handler = nullptr;
  ++s.generation;
  if (s.generation == 0) s.generation = 1;  // 0 marks an invalid EventId
  free_slots_.push_back(slot);
}

void EventQueue::SkipCancelled() {
  while (!heap_.empty() && !slots_[heap_.front().slot].pending) {
    const uint32_t slot = heap_.front().slot;
    std::pop_heap(heap_.begin(), heap_.end(), Later);
    heap_.pop_back();
    ReleaseSlot(slot);
  }
}

std::optional<EventQueue::Event> EventQueue::Pop() {
  SkipCancelled();
  if (heap_.empty()) return std::nullopt;
  const HeapEntry top = heap_.front();
  std::pop_heap(heap_.begin(), heap_.end(), Later);
  heap_.pop_back();
  Event event{top.at, top.priority, top.sequence, std::move(slots_[top.slot].handler)};
  ReleaseSlot(top.slot);
  --live_;
  return event;
}

Time EventQueue::NextTime() {
  SkipCancelled();
  return heap_.empty() ? Time::Max() : heap_.front().at;
}

}  // namespace wiresim
