// CollectiveSchedule: a collective expanded into its point-to-point transfers on the topology, each started when
// the transfers it depends on have drained (the sender's previous send left) or been delivered (the data it
// forwards arrived). ScheduleRun plays one on a Network; a collective is done when its last transfer is delivered.
// A ring is kept implicit (RingSchedule): its dependencies follow from its shape, so it is generated step by step as
// it runs, in memory that grows with its ranks, not with ranks x steps.
//
//   CollectiveSchedule s = model.Expand(...);
//   ScheduleRun run(sim, net, s, [&] { done = sim.Now(); });
//   run.Start();
//   sim.Run();
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
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

// `groups` rings of `ranks` positions running `steps` steps. In step s the rank at position i of ring g sends
// edges[g * ranks + i] (the same transfer every step) to position i + 1; it starts once position i - 1's step s - 1
// has been delivered (the data it forwards) and its own step s - 1 has drained. When `copies` is not empty, each
// position then runs copies[g * ranks + i] (a transfer over no link) on the same two conditions after the last step.
// The dependency fields of the entries are unused.
struct RingSchedule {
  const Topology* topology = nullptr;  // the routes' topology
  int groups = 0;
  int ranks = 0;
  int steps = 0;
  std::vector<ScheduledTransfer> edges;
  std::vector<ScheduledTransfer> copies;

  size_t transfer_count() const { return static_cast<size_t>(groups) * ranks * steps + copies.size(); }
};

struct CollectiveSchedule {
  // A dependency: transfer index << 1 | 1 when it must be delivered, | 0 when drained is enough.
  static uint32_t Drained(uint32_t t) { return t << 1; }
  static uint32_t Delivered(uint32_t t) { return (t << 1) | 1u; }

  Time start_delay;  // before the first transfer: launch overhead and the algorithm's fixed latency
  std::vector<ScheduledTransfer> transfers;
  std::vector<uint32_t> deps;
  std::vector<LinkEfficiency> efficiencies;
  // Runs alongside `transfers`, independent of them.
  std::optional<RingSchedule> ring;

  // Every transfer, stored and implicit.
  size_t transfer_count() const { return transfers.size() + (ring ? ring->transfer_count() : 0); }
  // The same schedule with the ring's transfers stored: step by step, group by group, then the copies, each with its
  // two dependencies. ScheduleRun plays both forms identically.
  CollectiveSchedule Materialized() const;

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

  // A promise that nothing else uses the network while this run is in flight (a network made for this collective
  // alone). A ring then runs without the network when its transfers' rate caps fit every link they cross together
  // (RingExpand's caps do, by construction): each runs at its cap, which is the rate both networks would give it,
  // and its drain and delivery times follow from the ring's dependencies directly (RingAloneAtCaps). The network
  // sees none of these transfers (its ledger stays empty). Call before Start().
  void set_exclusive(bool on) { exclusive_ = on; }

  // Schedules the start at sim.Now() + start_delay. The schedule, network and this object must outlive the run.
  void Start();
  bool done() const { return delivered_ == schedule_.transfer_count(); }

 private:
  // What the network is asked to move for `x`: an uncapped transfer (max_rate 0) gets +inf.
  TransferRequest RequestOf(const ScheduledTransfer& x) const;
  void Launch(uint32_t t);
  void Satisfy(uint32_t dep);
  void Delivered();
  // The implicit ring: position i of ring g launches its next step when both its dependencies are met.
  void RingTryLaunch(int g, int i);
  void RingLaunch(int g, int i, int s);

  Simulator& sim_;
  Network& net_;
  const CollectiveSchedule& schedule_;
  std::function<void()> on_done_;
  std::vector<uint32_t> waiting_;          // unsatisfied dependencies per transfer
  std::vector<uint32_t> dependent_begin_;  // CSR over dependency keys (transfer << 1 | kind)
  std::vector<uint32_t> dependents_;
  size_t delivered_ = 0;
  bool exclusive_ = false;
  // Per ring position (g * ranks + i): steps launched, drained and delivered so far.
  std::vector<uint32_t> ring_launched_;
  std::vector<uint32_t> ring_drained_;
  std::vector<uint32_t> ring_delivered_;
};

// The time from a ring's first launch until its last transfer is delivered when every transfer runs at its cap:
// drained = launch + bytes / cap (rounded up to the picosecond, as the networks round), delivered = drained + route
// latency + extra latency, and a step launches at the later of the previous position's delivery and its own drain.
// nullopt when the caps do not fit together: when for some link the ring's positions, one transfer each (which is
// all a ring has in flight), would need more than its capacity at their caps (share / efficiency x cap summed, to
// a relative 1e-9), or a transfer has no finite cap.
// nullopt too when the ring does not name its topology.
std::optional<Time> RingAloneAtCaps(const RingSchedule& ring, const std::vector<LinkEfficiency>& efficiencies);

}  // namespace wiresim
