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
//   FlowNetwork net(sim, topo);
//   TransferRequest req;  req.route = r01;  req.bytes = 1e9;
//   net.Transfer(req, {.on_drained = nullptr, .on_delivered = [&] { a = sim.Now(); }});
//   net.Transfer(req, {.on_drained = nullptr, .on_delivered = [&] { b = sim.Now(); }});
//   sim.Run();   // a == b: each flow had half the link
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "sim/core/simulator.h"
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

  // Flows still draining.
  int64_t active_flows() const { return active_flows_; }
  // Payload bytes per second the link carries now, summed over the flows crossing it (rate x share).
  double LinkPayloadRate(LinkId link) const;

  struct Stats {
    int64_t flows = 0;         // transfers started
    int64_t settles = 0;       // rate recomputations (one per instant with starts or ends)
    int64_t rate_updates = 0;  // flow rates computed, summed over settles
    int64_t reschedules = 0;   // drain events moved because a rate changed
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Hop {
    LinkId link;
    uint32_t pos;   // index in link_flows_[link]
    double weight;  // link capacity used per unit of the flow's rate: share / efficiency
  };
  struct Flow {
    std::vector<Hop> hops;
    std::vector<double> shares;  // per hop, for LinkPayloadRate only
    double remaining = 0;        // bytes, as of last_update
    double rate = 0;             // bytes per second
    double cap = 0;              // bytes per second, +inf when none
    Time last_update;
    Time latency;
    EventId drain_event;
    std::function<void()> on_drained;
    std::function<void()> on_delivered;
    bool active = false;
  };
  struct FlowRef {
    uint32_t flow;
    uint32_t hop;
  };

  uint32_t NewFlow();
  void MarkDirty(LinkId link);
  void RequestSettle();
  void Settle();
  void CollectComponent();
  void ProgressiveFilling();
  void ApplyRates();
  void ScheduleDrain(uint32_t f);
  void Drained(uint32_t f);

  Simulator& sim_;
  const Topology& topo_;
  std::vector<double> capacity_;  // bytes per second, per directed link
  std::vector<LinkKind> kinds_;
  std::vector<Flow> flows_;
  std::vector<uint32_t> free_flows_;
  std::vector<std::vector<FlowRef>> link_flows_;
  int64_t in_flight_ = 0;
  int64_t active_flows_ = 0;
  Stats stats_;

  // Settling.
  bool settle_pending_ = false;
  std::vector<LinkId> dirty_links_;
  std::vector<uint32_t> flow_mark_;
  uint32_t stamp_ = 0;
  std::vector<LinkId> comp_links_;
  std::vector<uint32_t> comp_flows_;
  // Progressive-filling scratch per link, kept together: a freeze touches all of it for every hop.
  struct LinkState {
    double residual = 0;    // capacity left, bytes per second
    double weight_sum = 0;  // weights of the unfrozen flows crossing it
    int32_t unfrozen = 0;
    uint32_t mark = 0;  // == stamp_: in the component being settled
  };
  std::vector<LinkState> links_;
  std::vector<double> new_rate_;
  std::vector<uint8_t> frozen_;
  struct Level {
    double level;  // residual / unfrozen weight when pushed: never above the link's current level
    LinkId link;
    uint32_t unused;
  };
  std::vector<Level> heap_;
  std::vector<std::pair<double, uint32_t>> caps_;
};

}  // namespace wiresim
