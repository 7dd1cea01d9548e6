// Point to point: all-to-all (every rank sends S/n to every other), all-to-all-v (a matrix of byte counts) and
// nccl-tests' sendrecv (every rank sends S to the next and receives S from the previous). Transfers go over the
// topology's routes at the point-to-point efficiency; a rank keeps a few peers in flight at once (NCCL spreads its
// peers over its p2p channels), starting the next peer when a send has left.
//
// Cost: the hop latency plus the bytes on the busiest link, as if every pair ran at once.
#include <algorithm>
#include <limits>

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
    default:
      return 0;
  }
}

}  // namespace

AlgorithmCost DirectCost(const AlgorithmContext& ctx, Protocol p) {
  AlgorithmCost cost;
  if (ctx.op != CollectiveOp::kAllToAll && ctx.op != CollectiveOp::kAllToAllV && ctx.op != CollectiveOp::kSendRecv) {
    cost.why_not = "direct transfers run all-to-all, all-to-all-v and send/recv";
    return cost;
  }
  cost.usable = true;
  CollectiveGroup& g = ctx.group;
  const int n = g.ranks();
  const LinkEfficiency eff = TransferEfficiency(g, ctx.params, Algorithm::kDirect, p);
  LinkLoads loads(g.topology());
  Time latency;
  const auto visit = [&](int i, int j, const Route* r) {
    const double share = PairShare(ctx, i, j, n);
    if (share <= 0 || r == nullptr) return;
    loads.Add(r, share, eff, kInf);
    latency = std::max(latency, StepLatency(g, ctx.params, *r, Algorithm::kDirect, p));
  };
  if (ctx.op == CollectiveOp::kSendRecv) {
    for (int i = 0; i < n && n > 1; ++i) visit(i, (i + 1) % n, g.router().Find(g.gpu_node(i), g.gpu_node((i + 1) % n)));
  } else {
    // One shortest-path search per sender, without caching n^2 routes.
    std::vector<int> rank_of(static_cast<size_t>(g.topology().node_count()), -1);
    for (int j = 0; j < n; ++j) rank_of[static_cast<size_t>(g.gpu_node(j))] = j;
    for (int i = 0; i < n; ++i) {
      std::vector<NodeId> others;
      for (int j = 0; j < n; ++j)
        if (j != i && PairShare(ctx, i, j, n) > 0) others.push_back(g.gpu_node(j));
      g.router().ForEachRouteFrom(g.gpu_node(i), others,
                                  [&](NodeId dst, const Route* r) { visit(i, rank_of[static_cast<size_t>(dst)], r); });
    }
  }
  cost.latency = latency;
  cost.seconds_per_byte = loads.Seconds();
  return cost;
}

void DirectExpand(const AlgorithmContext& ctx, Protocol p, double bytes, CollectiveSchedule* out) {
  CollectiveGroup& g = ctx.group;
  const int n = g.ranks();
  const uint16_t eff = out->AddEfficiency(TransferEfficiency(g, ctx.params, Algorithm::kDirect, p));
  const int window = std::max(1, ctx.params.p2p_peers_in_flight);
  // Wave w: every rank's sends w x window to (w + 1) x window - 1, which are in flight together.
  std::vector<std::vector<uint32_t>> waves;
  for (int i = 0; i < n; ++i) {
    std::vector<uint32_t> sent;  // this rank's transfers, in peer order
    for (int d = 1; d < n; ++d) {
      const int j = (i + d) % n;
      const double share = PairShare(ctx, i, j, n);
      if (share <= 0) continue;
      const Route* r = g.router().Find(g.gpu_node(i), g.gpu_node(j));
      ScheduledTransfer t;
      t.route = r;
      t.bytes = bytes * share;
      t.max_rate_GBps = kInf;
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
