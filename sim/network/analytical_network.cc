#include "sim/network/analytical_network.h"

#include <algorithm>
#include <utility>

namespace wiresim {

AnalyticalNetwork::AnalyticalNetwork(Simulator& sim, const Topology& topo)
    : sim_(sim), topo_(topo), ledger_(topo.link_count()), open_(static_cast<size_t>(topo.link_count())) {}

void AnalyticalNetwork::Transfer(const TransferRequest& request, TransferCallbacks callbacks) {
  const TransferTimes t = UncontendedTimes(request, topo_);
  ++in_flight_;
  ledger_.Started(request.bytes);
  if (request.route != nullptr && request.bytes > 0) {
    const Time now = sim_.Now();
    for (const RouteHop& hop : request.route->hops) {
      ledger_.AddBytes(hop.link, request.bytes * hop.share);
      MarkBusy(hop.link, now, now + t.drained);
    }
  }
  if (callbacks.on_drained) sim_.ScheduleAfter(t.drained, std::move(callbacks.on_drained));
  sim_.ScheduleAfter(t.delivered, [this, bytes = request.bytes, done = std::move(callbacks.on_delivered)] {
    --in_flight_;
    ledger_.Delivered(bytes);
    if (done) done();
  });
}

void AnalyticalNetwork::MarkBusy(LinkId link, Time from, Time to) {
  Open& open = open_[static_cast<size_t>(link)];
  if (from > open.to) {
    ledger_.AddBusy(link, open.to - open.from);
    open = Open{from, to};
  } else {
    open.to = std::max(open.to, to);
  }
}

const LinkLedger& AnalyticalNetwork::ledger() const {
  for (size_t l = 0; l < open_.size(); ++l) {
    Open& open = open_[l];
    if (open.to == open.from) continue;
    ledger_.AddBusy(static_cast<LinkId>(l), open.to - open.from);
    open.from = open.to;  // what is left open starts where the ledger stopped
  }
  return ledger_;
}

}  // namespace wiresim
