// AnalyticalNetwork: each transfer alone on its route. It drains at bytes / (the route's bottleneck rate) and is
// delivered one route latency later, whatever else is in flight: no contention, two events at most per transfer,
// cheap enough for millions of transfers. FlowNetwork gives the same times when no link is shared, or when the
// transfers sharing one are capped at rates the link can carry together (as collective expansions cap theirs).
//
//   AnalyticalNetwork net(sim, topo);
//   net.Transfer(request, {.on_drained = nullptr, .on_delivered = [&] { done = sim.Now(); }});
//   sim.Run();   // done = latency + 1e9 / bandwidth
#pragma once

#include "sim/core/simulator.h"
#include "sim/network/network.h"

namespace wiresim {

class AnalyticalNetwork : public Network {
 public:
  AnalyticalNetwork(Simulator& sim, const Topology& topo) : sim_(sim), topo_(topo) {}
  AnalyticalNetwork(const AnalyticalNetwork&) = delete;
  AnalyticalNetwork& operator=(const AnalyticalNetwork&) = delete;

  void Transfer(const TransferRequest& request, TransferCallbacks callbacks) override;
  int64_t in_flight() const override { return in_flight_; }

 private:
  Simulator& sim_;
  const Topology& topo_;
  int64_t in_flight_ = 0;
};

}  // namespace wiresim
