// CollectiveSchedule: a collective expanded into its point-to-point transfers on the topology, each started when
// the transfers it depends on have drained (the sender's previous send left) or been delivered (the data it
// forwards arrived). ScheduleRun plays one on a Network; a collective is done when its last transfer is delivered.
//
//   CollectiveSchedule s = model.Expand(...);
//   ScheduleRun run(sim, net, s, [&] { done = sim.Now(); });
//   run.Start();
//   sim.Run();
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <vector>

#include "sim/core/simulator.h"
#include "sim/network/network.h"

namespace wiresim {

struct ScheduledTransfer {
  const Route* route = nullptr;  // owned by the CollectiveGroup or the Router that built the schedule
  double bytes = 0;
  double max_rate_GBps = 0;  // +inf when uncapped
  Time extra_latency;
  uint16_t efficiency = 0;  // index into CollectiveSchedule::efficiencies
  uint32_t dep_begin = 0;   // into CollectiveSchedule::deps
  uint32_t dep_count = 0;
};

struct CollectiveSchedule {
  // A dependency: transfer index << 1 | 1 when it must be delivered, | 0 when drained is enough.
  static uint32_t Drained(uint32_t t) { return t << 1; }
  static uint32_t Delivered(uint32_t t) { return (t << 1) | 1u; }

  Time start_delay;  // before the first transfer: launch overhead and the algorithm's fixed latency
  std::vector<ScheduledTransfer> transfers;
  std::vector<uint32_t> deps;
  std::vector<LinkEfficiency> efficiencies;

  // Appends a transfer with its dependencies; returns its index.
  uint32_t Add(const ScheduledTransfer& t, std::initializer_list<uint32_t> deps_on);
  uint32_t Add(const ScheduledTransfer& t, const std::vector<uint32_t>& deps_on);
  uint16_t AddEfficiency(const LinkEfficiency& e);
};

class ScheduleRun {
 public:
  ScheduleRun(Simulator& sim, Network& net, const CollectiveSchedule& schedule, std::function<void()> on_done);
  ScheduleRun(const ScheduleRun&) = delete;
  ScheduleRun& operator=(const ScheduleRun&) = delete;

  // Schedules the start at sim.Now() + start_delay. The schedule, network and this object must outlive the run.
  void Start();
  bool done() const { return delivered_ == schedule_.transfers.size(); }

 private:
  void Launch(uint32_t t);
  void Satisfy(uint32_t dep);

  Simulator& sim_;
  Network& net_;
  const CollectiveSchedule& schedule_;
  std::function<void()> on_done_;
  std::vector<uint32_t> waiting_;          // unsatisfied dependencies per transfer
  std::vector<uint32_t> dependent_begin_;  // CSR over dependency keys (transfer << 1 | kind)
  std::vector<uint32_t> dependents_;
  size_t delivered_ = 0;
};

}  // namespace wiresim
