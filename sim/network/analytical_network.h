// AnalyticalNetwork: each transfer alone on its route. It drains at bytes / (the route's bottleneck rate) and is
// delivered one route latency later, whatever else is in flight: no contention, two events at most per transfer,
// cheap enough for millions of transfers. FlowNetwork gives the same times when no link is shared, or when the
// transfers sharing one are capped at rates the link can carry together (as collective expansions cap theirs).
//
// Its ledger counts a link busy over the union of the drain intervals (start to drained) of the transfers that
// cross it: overlapping transfers count once, as the link was busy once.
//
//   AnalyticalNetwork net(sim, topo);
//   net.Transfer(request, {.on_drained = nullptr, .on_delivered = [&] { done = sim.Now(); }});
//   sim.Run();   // done = latency + 1e9 / bandwidth
#pragma once

#include <vector>

#include "sim/core/simulator.h"
#include "sim/network/network.h"

namespace wiresim {

class AnalyticalNetwork : public Network {
 public:
  AnalyticalNetwork(Simulator& sim, const Topology& topo);
  AnalyticalNetwork(const AnalyticalNetwork&) = delete;
  AnalyticalNetwork& operator=(const AnalyticalNetwork&) = delete;

  void Transfer(const TransferRequest& request, TransferCallbacks callbacks) override;
  int64_t in_flight() const override { return in_flight_; }
  // Busy times include the drain intervals of the transfers still draining, to their ends.
  const LinkLedger& ledger() const override;

 private:
  // Adds [from, to) to the link's busy union. Starts never go back in time, so the union is the closed intervals
  // plus the one still open.
  void MarkBusy(LinkId link, Time from, Time to);

  Simulator& sim_;
  const Topology& topo_;
  int64_t in_flight_ = 0;
  mutable LinkLedger ledger_;
  struct Open {
    Time from;
    Time to;
  };
  mutable std::vector<Open> open_;  // per link: the busy interval not yet added to the ledger
};

}  // namespace wiresim
