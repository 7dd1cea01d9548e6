#include "sim/network/analytical_network.h"

#include <utility>

namespace wiresim {

void AnalyticalNetwork::Transfer(const TransferRequest& request, TransferCallbacks callbacks) {
  const TransferTimes t = UncontendedTimes(request, topo_);
  ++in_flight_;
  if (callbacks.on_drained) sim_.ScheduleAfter(t.drained, std::move(callbacks.on_drained));
  sim_.ScheduleAfter(t.delivered, [this, done = std::move(callbacks.on_delivered)] {
    --in_flight_;
    if (done) done();
  });
}

}  // namespace wiresim
