// Network: how wiresim moves bytes between two endpoints of a Topology. A transfer crosses a Route (every
// equal-cost path at once, each link with the share of the bytes it carries) and completes as an event on the run's
// Simulator. Models are chosen at run time through this interface: AnalyticalNetwork (latency + bytes over the
// route's bottleneck, no contention) and FlowNetwork (flows share links by max-min fairness).
//
//   FlowNetwork net(sim, topo);
//   TransferRequest req;
//   req.route = router.Find(topo.gpu(0), topo.gpu(9));
//   req.bytes = 1 << 30;
//   net.Transfer(req, {.on_drained = nullptr, .on_delivered = [&] { ... sim.Now() ... }});
//   sim.Run();
//
// A transfer has two moments: it is *drained* when its last byte has left the sender (the links it crossed are
// free again, the sender may reuse its buffer) and *delivered* one route latency later, when the last byte has
// arrived. Pipelined algorithms chain a rank's next send on the drain and the next rank's send on the delivery.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <limits>

#include "sim/core/status.h"
#include "sim/core/time.h"
#include "sim/network/link_ledger.h"
#include "sim/topology/routing.h"
#include "sim/topology/topology.h"

namespace wiresim {

// The fraction of a link's datasheet rate a kind of traffic achieves, per link kind: payload bytes per wire byte.
// NCCL's kernels, for instance, reach 20.6 of NVLink4's 25 GB/s per link on Hopper (NCCL 2.30.7 SM90_NVLINK_BW);
// the LL protocol halves that again. A transfer carries its own, so different traffic on one link can differ.
struct LinkEfficiency {
  static constexpr int kKinds = 7;  // the LinkKind values
  std::array<double, kKinds> by_kind{1, 1, 1, 1, 1, 1, 1};

  double of(LinkKind kind) const { return by_kind[static_cast<size_t>(kind)]; }
  void set(LinkKind kind, double value) { by_kind[static_cast<size_t>(kind)] = value; }
  // Every kind scaled by `factor` (a protocol's overhead on top of the link's).
  LinkEfficiency Scaled(double factor) const;
};

struct TransferRequest {
  // The links crossed and the share of the bytes on each. Read during the call only; the network keeps what it
  // needs. nullptr or no hops: a transfer that touches no link (rate limited by max_rate_GBps alone).
  const Route* route = nullptr;
  double bytes = 0;
  // An upper bound on the transfer's rate whatever the links allow (e.g. what the SMs of a channel can drive).
  double max_rate_GBps = std::numeric_limits<double>::infinity();
  // Added to the route's latency (e.g. a protocol's per-step handshake).
  Time extra_latency;
  LinkEfficiency efficiency;
};

struct TransferCallbacks {
  std::function<void()> on_drained;    // optional
  std::function<void()> on_delivered;  // optional
};

// The rate one transfer reaches alone on its route: min over hops of capacity x efficiency / share, and the cap.
// In bytes per second; +inf for a transfer with no hops and no cap.
double UncontendedRate(const TransferRequest& request, const Topology& topo);

// Drain and delivery times, relative to the start, of a transfer alone on its route (rounded up to the picosecond):
// drain = bytes / UncontendedRate, delivered = drain + route latency + extra latency.
struct TransferTimes {
  Time drained;
  Time delivered;
};
TransferTimes UncontendedTimes(const TransferRequest& request, const Topology& topo);

class Network {
 public:
  virtual ~Network() = default;

  // Starts a transfer at sim.Now(). Callbacks run as events of the Simulator. REQUIRES: bytes >= 0, and a finite
  // rate (a route with hops or a finite max_rate_GBps) when bytes > 0.
  virtual void Transfer(const TransferRequest& request, TransferCallbacks callbacks) = 0;

  // Transfers started and not yet delivered.
  virtual int64_t in_flight() const = 0;

  // What each link carried so far (link_ledger.h); each network says what busy time means for it.
  virtual const LinkLedger& ledger() const = 0;

  // Bytes sent equal bytes received: no transfer is in flight, and the bytes of every transfer started were
  // delivered (equal to 1e-9 relative, the sums' rounding). Call at the end of a run; an error names the difference.
  Status CheckConservation() const;
};

}  // namespace wiresim
