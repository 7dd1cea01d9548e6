#include "sim/network/network.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "sim/core/check.h"

namespace wiresim {

LinkEfficiency LinkEfficiency::Scaled(double factor) const {
  LinkEfficiency out = *this;
  for (double& e : out.by_kind) e *= factor;
  return out;
}

double UncontendedRate(const TransferRequest& request, const Topology& topo) {
  double rate = request.max_rate_GBps * 1e9;
  if (request.route != nullptr) {
    for (const RouteHop& hop : request.route->hops) {
      const Link& link = topo.link(hop.link);
      const double capacity = link.capacity_GBps * 1e9 * request.efficiency.of(link.kind);
      rate = std::min(rate, capacity / hop.share);
    }
  }
  return rate;
}

TransferTimes UncontendedTimes(const TransferRequest& request, const Topology& topo) {
  WIRESIM_CHECK_GE(request.bytes, 0.0);
  TransferTimes t;
  if (request.bytes > 0) {
    const double rate = UncontendedRate(request, topo);
    WIRESIM_CHECK(std::isfinite(rate) && rate > 0) << "a transfer of " << request.bytes << " bytes with no rate";
    t.drained = Time::FromSecondsCeil(request.bytes / rate);
  }
  const Time latency = request.route != nullptr ? request.route->latency : Time::Zero();
  t.delivered = t.drained + latency + request.extra_latency;
  return t;
}

Status Network::CheckConservation() const {
  const LinkLedger& l = ledger();
  const double started = l.bytes_started(), delivered = l.bytes_delivered();
  const bool bytes_match = std::abs(started - delivered) <= 1e-9 * std::max(started, delivered);
  if (in_flight() == 0 && l.transfers_started() == l.transfers_delivered() && bytes_match) return Status::Ok();
  std::ostringstream os;
  os << "network conservation: " << l.transfers_started() << " transfers (" << started << " bytes) started, "
     << l.transfers_delivered() << " (" << delivered << " bytes) delivered, " << in_flight() << " in flight";
  return Internal(os.str());
}

}  // namespace wiresim
