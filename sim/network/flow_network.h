// FlowNetwork: transfers as fluid flows that share links by max-min fairness. A flow over a multipath route is one
// flow whose rate r loads each link it crosses with r x share / efficiency, so its rate is set by its most
// contended link (weighted max-min, computed by progressive filling). Links are directional: a ring's sends and
// receives load opposite directions and never slow each other.
//
// Rates are recomputed only for the connected component of flows that share links, directly or through other
// flows, with a flow that started or ended; all starts and ends at one instant are settled together, after every
// other event of that instant. A flow drains when its bytes have left at the rates it had over time (rounded up
// to the next picosecond) and is delivered one route latency later.
//
// What keeps it fast on large fabrics: links that every route crosses together, in proportion to capacity (the
// NVLinks of a GPU, a leaf's uplinks to all spines), are one bundle (link_bundles.h), so a flow touches a handful
// of bundles instead of dozens of links; drain times live in the network's own heap, with one simulator event for
// the earliest, so a rate change moves a heap entry instead of cancelling and scheduling an event.
//
// Aggregation: transfers started at one instant over the same route with the same bytes, rate cap, latency and
// efficiency (a collective's symmetric transfers) are one flow of multiplicity k. It loads each link with
// k x rate x share / efficiency, every member gets the rate the k separate flows would each get (they are
// identical, so max-min gives them one rate), and each member's callbacks run when it drains and is delivered. The
// results are those of k flows; set_aggregation(false) runs them as k flows (for tests).
//
// Ledger: a link is busy while at least one flow with a rate crosses it; its bytes are each transfer's bytes x the
// route's share on it, counted when the transfer starts. Busy time is added when the link goes idle, so it is whole
// once nothing is in flight.
//
//   FlowNetwork net(sim, topo);
//   TransferRequest req;  req.route = r01;  req.bytes = 1e9;
//   net.Transfer(req, {.on_drained = nullptr, .on_delivered = [&] { a = sim.Now(); }});
//   net.Transfer(req, {.on_drained = nullptr, .on_delivered = [&] { b = sim.Now(); }});
//   sim.Run();   // a == b: each flow had half the link
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "sim/core/simulator.h"
#include "sim/network/link_bundles.h"
#include "sim/network/network.h"

namespace wiresim {

class FlowNetwork : public Network {
 public:
  FlowNetwork(Simulator& sim, const Topology& topo);
  ~FlowNetwork() override;
  FlowNetwork(const FlowNetwork&) = delete;
  FlowNetwork& operator=(const FlowNetwork&) = delete;

  void Transfer(const TransferRequest& request, TransferCallbacks callbacks) override;
  int64_t in_flight() const override { return in_flight_; }
  const LinkLedger& ledger() const override { return ledger_; }

  // On by default. Only transfers started after the call are affected.
  void set_aggregation(bool on) { aggregate_ = on; }

  // Flows still draining.
  int64_t active_flows() const { return active_flows_; }
  // Payload bytes per second the link carries now, summed over the flows crossing it (rate x share).
  double LinkPayloadRate(LinkId link) const;

  struct Stats {
    int64_t flows = 0;         // transfers started
    int64_t settles = 0;       // rate recomputations (one per instant with starts or ends)
    int64_t rate_updates = 0;  // flow rates computed, summed over settles
    int64_t reschedules = 0;   // drain times moved because a rate changed
    int64_t aggregated = 0;    // transfers that joined a flow started at the same instant instead of making one
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Hop {
    uint32_t bundle;
    uint32_t pos;    // index in bundle_flows_[bundle]
    double weight;   // bundle capacity used per unit of a member's rate: share / efficiency
    double payload;  // payload rate per unit of a member's rate, per byte/s of a member link's capacity
  };
  struct Flow {
    std::vector<Hop> hops;
    double remaining = 0;  // bytes, as of last_update
    double rate = 0;       // bytes per second
    double cap = 0;        // bytes per second, +inf when none
    Time last_update;
    Time latency;
    Time drain_at;           // when the bytes run out at the current rate
    uint64_t drain_seq = 0;  // orders equal drain times as the events they replace would have been ordered
    uint32_t heap_pos = 0;   // in drains_, when in_heap
    bool in_heap = false;
    double bytes = 0;                     // per member, as started
    uint32_t count = 1;                   // members: transfers this flow stands for
    TransferCallbacks first;              // the first member's callbacks
    std::vector<TransferCallbacks> more;  // the others', in the order they started
  };
  struct FlowRef {
    uint32_t flow;
    uint32_t hop;
  };

  uint32_t NewFlow();
  // A flow started at this instant that `request` can join, or -1.
  static uint64_t TwinKey(const TransferRequest& request);
  int64_t FindTwin(uint64_t key, const TransferRequest& request) const;
  void AddToBundle(uint32_t bundle, uint32_t flow, uint32_t hop);
  void RemoveFromBundle(uint32_t bundle, uint32_t pos);
  void ApplySplits();
  void MarkDirty(uint32_t bundle) { dirty_.push_back(bundle); }
  void RequestSettle();
  void Settle();
  void CollectComponent();
  void ProgressiveFilling();
  void ApplyRates();
  // The drain heap: earliest (drain_at, drain_seq) first; one simulator event waits for its top.
  bool DrainsBefore(uint32_t a, uint32_t b) const;
  void HeapSet(size_t pos, uint32_t f);
  void HeapUp(size_t pos);
  void HeapDown(size_t pos);
  void HeapPush(uint32_t f);
  void HeapRemove(uint32_t f);
  void ArmTimer();
  void OnTimer();
  void Drained(uint32_t f);
  void Deliver(uint32_t slot);

  Simulator& sim_;
  const Topology& topo_;
  LinkBundles bundles_;
  std::vector<Flow> flows_;
  std::vector<uint32_t> free_flows_;
  std::vector<std::vector<FlowRef>> bundle_flows_;
  int64_t in_flight_ = 0;
  int64_t active_flows_ = 0;
  Stats stats_;
  std::vector<LinkBundles::Part> parts_;
  std::vector<LinkBundles::Split> splits_;

  bool aggregate_ = true;
  // Flows started at this instant, not yet settled (the ones a transfer may join), by a hash of what must match;
  // with a copy of their routes, which callers need not keep.
  struct Fresh {
    uint32_t flow;
    uint32_t hop_begin;
    uint32_t hop_end;
    double cap_GBps;
    Time extra_latency;
    LinkEfficiency efficiency;
  };
  std::unordered_map<uint64_t, Fresh> fresh_;
  std::vector<RouteHop> fresh_hops_;
  LinkLedger ledger_;
  std::vector<Time> busy_since_;  // per bundle: when it last went from no flow to some

  // Deliveries waiting for their latency: the callbacks, so the events carry a slot number only.
  struct Delivery {
    std::function<void()> done;
    double bytes = 0;
  };
  std::vector<Delivery> deliveries_;
  std::vector<uint32_t> free_deliveries_;

  // Draining.
  std::vector<uint32_t> drains_;
  uint64_t next_drain_seq_ = 0;
  EventId timer_;
  Time timer_at_;

  // Settling.
  bool settle_pending_ = false;
  std::vector<uint32_t> dirty_;
  std::vector<uint32_t> flow_mark_;
  uint32_t stamp_ = 0;
  std::vector<uint32_t> comp_bundles_;
  std::vector<uint32_t> comp_flows_;
  // Progressive-filling scratch per bundle, kept together: a freeze touches all of it for every hop.
  struct BundleState {
    double residual = 0;    // capacity left, bytes per second
    double weight_sum = 0;  // weights of the unfrozen flows crossing it
    int32_t unfrozen = 0;
    uint32_t mark = 0;  // == stamp_: in the component being settled
  };
  std::vector<BundleState> state_;
  std::vector<double> new_rate_;
  std::vector<uint8_t> frozen_;
  struct Level {
    double level;  // residual / unfrozen weight when pushed: never above the bundle's current level
    uint32_t bundle;
  };
  std::vector<Level> heap_;
  std::vector<std::pair<double, uint32_t>> caps_;
};

}  // namespace wiresim
