// Point to point: all-to-all (every rank sends S/n to every other), all-to-all-v (a matrix of byte counts) and
// nccl-tests' sendrecv (every rank sends S to the next and receives S from the previous). Transfers go over the
// topology's routes at the links' efficiencies; a rank keeps a few peers in flight at once (NCCL spreads its peers
// over its p2p channels), starting the next peer when a send has left.
//
// Cost: the hop latency plus the bytes on the busiest link, as if every pair ran at once; inside one NVLink-connected
// node no faster than the p2p channels NCCL splits each peer's bytes over give the busiest rank, and across nodes no
// faster than the window NCCL keeps in flight to each network peer lets that pair go (p2p_channels.h).
#include <algorithm>
#include <limits>
#include <memory>
#include <optional>

#include "sim/collective/algorithms.h"

namespace wiresim::internal {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Bytes rank i sends rank j, per byte of S.
double PairShare(const AlgorithmContext& ctx, int i, int j, int n) {
  if (i == j) return 0;
  switch (ctx.op) {
    case CollectiveOp::kAllToAll:
      return 1.0 / n;
    case CollectiveOp::kAllToAllV:
      return (*ctx.matrix)[static_cast<size_t>(i) * static_cast<size_t>(n) + static_cast<size_t>(j)];
    case CollectiveOp::kSendRecv:
      return j == (i + 1) % n ? 1.0 : 0.0;
    case CollectiveOp::kSend:
      return j == i + 1 ? 1.0 : 0.0;
    default:
      return 0;
  }
}

// The NVLinks of a route for NCCL's channels per peer (ncclTopoGetNchannels): 0 unless it is NVLink only.
int NvLinksOf(Router& router, const Route* r) {
  if (r == nullptr) return 0;
  const PathInfo info = router.Classify(*r);
  return info.cls == PathClass::kNvLink ? info.nvlinks : 0;
}

// The channels NCCL gives this group's point-to-point operations, inside one node; none across nodes, where the
// proxies and NICs set the pace. `fewest`: the fewest NVLinks between two ranks that exchange bytes (NCCL keeps the
// fewest over every pair of the communicator; over the pairs that carry the operation's bytes it is the same on
// nodes whose GPUs are joined alike, and it saves a route search per rank); INT_MAX when none was seen.
std::shared_ptr<P2pChannelCap> ChannelCap(const AlgorithmContext& ctx, int fewest) {
  CollectiveGroup& g = ctx.group;
  const int n = g.ranks();
  if (g.nodes() != 1 || n < 2 || ctx.ring_channel_GBps <= 0) return nullptr;
  // Over PCIe the cap is not applied: NCCL gives a PCIe peer 2 channels, and at the rate per channel that holds over
  // NVLink (the sendrecv table's 128 MiB row) two PCIe GPUs' all-to-all would run a third under the link, which the
  // one measurement that touches it (an MoE model served over PCIe, docs/validation/serving.md) does not show.
  if (fewest == std::numeric_limits<int>::max() || fewest == 0) return nullptr;
  P2pChannelInputs in;
  in.version = ctx.params.nccl_version;
  in.ranks = n;
  in.comm_channels = std::min(ctx.params.max_channels, 2 * ctx.ring_channels);
  in.fewest_nvlinks = fewest;
  in.simple_buffer_bytes = ctx.params.chunk_bytes[2] * 8;
  in.search_channel_GBps = ctx.ring_channel_GBps;
  in.paired = ctx.op != CollectiveOp::kSend;
  auto cap = std::make_shared<P2pChannelCap>();
  cap->plan = PlanP2pChannels(in);
  // Sendrecv, send and all-to-all treat every sending rank alike: rank 0's row stands for all.
  const int rows = ctx.op == CollectiveOp::kAllToAllV ? n : 1;
  for (int i = 0; i < rows; ++i) {
    std::vector<double> row;
    for (int j = 0; j < n; ++j) {
      const double share = PairShare(ctx, i, j, n);
      if (share > 0) row.push_back(share);
    }
    if (!row.empty()) cap->shares.push_back(std::move(row));
  }
  cap->Finish();
  return cap;
}

// A network route's share of NCCL's window to one peer (P2pNetWindow); nullopt when the route stays in its node.
std::optional<P2pNetWindow::Pair> NetWindowOf(const AlgorithmContext& ctx, const Route& r, Protocol p,
                                              const LinkEfficiency& eff, double share) {
  const Topology& topo = ctx.group.topology();
  double seconds_per_byte = 0;
  double nic_GBps = 0;
  int nics = 0;
  for (const RouteHop& h : r.hops) {
    const Link& link = topo.link(h.link);
    if (h.share <= 0 || link.capacity_GBps <= 0) continue;
    seconds_per_byte = std::max(seconds_per_byte, h.share / (link.capacity_GBps * eff.of(link.kind) * 1e9));
    // The source side's NICs: the network links leaving a NIC (the far side's NICs are entered, not left).
    if (IsNetworkLink(link.kind) && topo.node(link.from).spec.kind == NodeKind::kNic) {
      nic_GBps += link.capacity_GBps;
      ++nics;
    }
  }
  if (nics == 0) return std::nullopt;
  NetPeerInputs in;
  in.version = ctx.params.nccl_version;
  in.ranks = ctx.group.ranks();
  in.comm_channels = std::min(ctx.params.max_channels, 2 * ctx.ring_channels);
  in.nics = nics;
  in.nic_GBps = nic_GBps;
  in.arm_sm100 = false;
  if (ctx.group.arch().sm >= 100) {
    for (LinkId l : topo.out_links(r.src)) in.arm_sm100 = in.arm_sm100 || topo.link(l).kind == LinkKind::kC2C;
  }
  in.simple_buffer_bytes = ctx.params.chunk_bytes[2] * 8;
  P2pNetWindow::Pair pair;
  pair.share = share;
  pair.seconds_per_byte = seconds_per_byte;
  pair.step_seconds = StepLatency(ctx.group, ctx.params, r, Algorithm::kDirect, p).ToSeconds();
  pair.window_bytes = PlanNetPeerWindow(in).window_bytes();
  return pair;
}

}  // namespace

AlgorithmCost DirectCost(const AlgorithmContext& ctx, Protocol p) {
  AlgorithmCost cost;
  if (ctx.op != CollectiveOp::kAllToAll && ctx.op != CollectiveOp::kAllToAllV && ctx.op != CollectiveOp::kSendRecv &&
      ctx.op != CollectiveOp::kSend) {
    cost.why_not = "direct transfers run all-to-all, all-to-all-v, send/recv and send";
    return cost;
  }
  cost.usable = true;
  CollectiveGroup& g = ctx.group;
  const int n = g.ranks();
  const LinkEfficiency eff = TransferEfficiency(g, ctx.params, Algorithm::kDirect, p);
  LinkLoads loads(g.topology());
  Time latency;
  std::shared_ptr<P2pNetWindow> window;
  int fewest_nvlinks = std::numeric_limits<int>::max();
  const auto visit = [&](int i, int j, const Route* r) {
    const double share = PairShare(ctx, i, j, n);
    if (share <= 0) return;
    if (g.nodes() == 1 && fewest_nvlinks > 0) fewest_nvlinks = std::min(fewest_nvlinks, NvLinksOf(g.router(), r));
    if (r == nullptr) return;
    loads.Add(r, share, eff, kInf);
    latency = std::max(latency, StepLatency(g, ctx.params, *r, Algorithm::kDirect, p));
    if (g.nodes() > 1) {
      if (const auto pair = NetWindowOf(ctx, *r, p, eff, share)) {
        if (!window) window = std::make_shared<P2pNetWindow>();
        window->Add(*pair);
      }
    }
  };
  const bool pxn = ctx.params.p2p_pxn;
  if (ctx.op == CollectiveOp::kSendRecv) {
    for (int i = 0; i < n && n > 1; ++i) visit(i, (i + 1) % n, g.P2pRoute(i, (i + 1) % n, pxn));
  } else if (ctx.op == CollectiveOp::kSend) {
    for (int i = 0; i + 1 < n; ++i) visit(i, i + 1, g.P2pRoute(i, i + 1, pxn));
  } else {
    // Inside a node one shortest-path search per sender, without caching n^2 routes; across nodes the NICs NCCL's
    // p2p transport picks (CollectiveGroup::P2pRoute).
    std::vector<int> rank_of(static_cast<size_t>(g.topology().node_count()), -1);
    for (int j = 0; j < n; ++j) rank_of[static_cast<size_t>(g.gpu_node(j))] = j;
    for (int i = 0; i < n; ++i) {
      std::vector<NodeId> others;
      for (int j = 0; j < n; ++j) {
        if (j == i || PairShare(ctx, i, j, n) <= 0) continue;
        if (g.node_of_rank(j) == g.node_of_rank(i)) {
          others.push_back(g.gpu_node(j));
        } else {
          visit(i, j, g.P2pRoute(i, j, pxn));
        }
      }
      g.router().ForEachRouteFrom(g.gpu_node(i), others,
                                  [&](NodeId dst, const Route* r) { visit(i, rank_of[static_cast<size_t>(dst)], r); });
    }
  }
  cost.latency = latency;
  cost.seconds_per_byte = loads.Seconds();
  cost.p2p_channels = ChannelCap(ctx, fewest_nvlinks);
  cost.p2p_net_window = std::move(window);
  return cost;
}

void DirectExpand(const AlgorithmContext& ctx, Protocol p, double bytes, const P2pChannelCap* channels,
                  CollectiveSchedule* out) {
  CollectiveGroup& g = ctx.group;
  const int n = g.ranks();
  const LinkEfficiency link_eff = TransferEfficiency(g, ctx.params, Algorithm::kDirect, p);
  const uint16_t eff = out->AddEfficiency(link_eff);
  const int window = std::max(1, ctx.params.p2p_peers_in_flight);
  // Wave w: every rank's sends w x window to (w + 1) x window - 1, which are in flight together.
  std::vector<std::vector<uint32_t>> waves;
  for (int i = 0; i < n; ++i) {
    std::vector<uint32_t> sent;  // this rank's transfers, in peer order
    for (int d = 1; d < n; ++d) {
      const int j = (i + d) % n;
      const double share = PairShare(ctx, i, j, n);
      if (share <= 0) continue;
      const Route* r = g.P2pRoute(i, j, ctx.params.p2p_pxn);
      ScheduledTransfer t;
      t.route = r;
      t.bytes = bytes * share;
      t.max_rate_GBps = kInf;
      if (channels) t.max_rate_GBps = channels->plan.Used(t.bytes) * channels->plan.channel_GBps;
      if (g.nodes() > 1) {
        if (const auto pair = NetWindowOf(ctx, *r, p, link_eff, 1)) {
          t.max_rate_GBps = std::min(t.max_rate_GBps, P2pNetWindow::CapGBps(*pair, t.bytes));
        }
      }
      t.extra_latency = StepLatency(g, ctx.params, *r, Algorithm::kDirect, p) - r->latency;
      t.efficiency = eff;
      std::vector<uint32_t> deps;
      if (sent.size() >= static_cast<size_t>(window)) {
        deps.push_back(CollectiveSchedule::Drained(sent[sent.size() - static_cast<size_t>(window)]));
      }
      sent.push_back(out->Add(t, deps));
      const size_t w = (sent.size() - 1) / static_cast<size_t>(window);
      if (waves.size() <= w) waves.resize(w + 1);
      waves[w].push_back(sent.back());
    }
  }
  for (const std::vector<uint32_t>& wave : waves) ShareLinksWithinWave(g.topology(), wave, out);
}

}  // namespace wiresim::internal
