// PAT (parallel aggregated trees), NCCL's all-gather / reduce-scatter for many nodes of one GPU each: log2(n)
// steps instead of n-1. Modelled as the Bruck exchange it generalises: in all-gather step k every rank sends what
// it holds so far (min(2^k, n - 2^k) shares of S/n) to the rank 2^k before it; reduce-scatter runs the steps in
// reverse, sending partial sums forward. Each rank still sends (n-1)/n of S in all; NCCL's model derates PAT's
// bandwidth to 0.75.
#include <algorithm>
#include <limits>

#include "sim/collective/algorithms.h"

namespace wiresim::internal {
namespace {

struct PatStep {
  int distance;
  double share;  // bytes per byte of S, per sender
};

std::vector<PatStep> Steps(CollectiveOp op, int n) {
  std::vector<PatStep> steps;
  for (int d = 1; d < n; d *= 2) steps.push_back({d, static_cast<double>(std::min(d, n - d)) / n});
  if (op == CollectiveOp::kReduceScatter) std::reverse(steps.begin(), steps.end());
  return steps;
}

// Position i sends to this position at a step of `distance`.
int Peer(CollectiveOp op, int i, int distance, int n) {
  return op == CollectiveOp::kAllGather ? (i - distance % n + n) % n : (i + distance) % n;
}

int Rail(const CollectiveGroup& g, int rank) {
  const auto& local = g.node_ranks()[static_cast<size_t>(g.node_of_rank(rank))];
  return static_cast<int>(std::find(local.begin(), local.end(), rank) - local.begin());
}

}  // namespace

EdgeList PatEdgeList(const AlgorithmContext& ctx) {
  EdgeList out;
  if (ctx.op != CollectiveOp::kAllGather && ctx.op != CollectiveOp::kReduceScatter) return out;
  const std::vector<int>& order = ctx.group.rings()[0].order;
  const int n = static_cast<int>(order.size());
  for (const PatStep& s : Steps(ctx.op, n)) {
    for (int i = 0; i < n; ++i) {
      const int a = order[static_cast<size_t>(i)], b = order[static_cast<size_t>(Peer(ctx.op, i, s.distance, n))];
      out.emplace_back(a, b, Rail(ctx.group, a));
    }
  }
  return out;
}

AlgorithmCost PatCost(const AlgorithmContext& ctx) {
  AlgorithmCost cost;
  if (ctx.op != CollectiveOp::kAllGather && ctx.op != CollectiveOp::kReduceScatter) {
    cost.why_not = "PAT runs all-gather and reduce-scatter";
    return cost;
  }
  cost.usable = true;
  CollectiveGroup& g = ctx.group;
  const std::vector<int>& order = g.rings()[0].order;
  const int n = static_cast<int>(order.size());
  const LinkEfficiency eff = TransferEfficiency(g, ctx.params, Algorithm::kPat, Protocol::kSimple);
  cost.latency = Time::FromMicroseconds(ctx.params.tuner.base_latency_us[kNcclPat][2]);
  LinkLoads loads(g.topology());
  for (const PatStep& s : Steps(ctx.op, n)) {
    loads.Clear();
    Time latency;
    for (int i = 0; i < n; ++i) {
      const int a = order[static_cast<size_t>(i)], b = order[static_cast<size_t>(Peer(ctx.op, i, s.distance, n))];
      const Route* r = g.EdgeRoute(a, b, Rail(g, a));
      loads.Add(r, s.share, eff, std::numeric_limits<double>::infinity());
      latency = std::max(latency, StepLatency(g, ctx.params, *r, Algorithm::kPat, Protocol::kSimple, false,
                                              g.max_ranks_per_node() == 1));
    }
    cost.latency += latency;
    cost.seconds_per_byte += loads.Seconds();
  }
  return cost;
}

void PatExpand(const AlgorithmContext& ctx, double bytes, CollectiveSchedule* out) {
  CollectiveGroup& g = ctx.group;
  out->start_delay += Time::FromMicroseconds(ctx.params.tuner.base_latency_us[kNcclPat][2]);
  const std::vector<int>& order = g.rings()[0].order;
  const int n = static_cast<int>(order.size());
  const uint16_t eff = out->AddEfficiency(TransferEfficiency(g, ctx.params, Algorithm::kPat, Protocol::kSimple));
  const std::vector<PatStep> steps = Steps(ctx.op, n);
  const uint32_t first = static_cast<uint32_t>(out->transfers.size());
  const auto index = [&](size_t k, int i) { return first + static_cast<uint32_t>(k * static_cast<size_t>(n) + i); };
  for (size_t k = 0; k < steps.size(); ++k) {
    for (int i = 0; i < n; ++i) {
      const int a = order[static_cast<size_t>(i)],
                b = order[static_cast<size_t>(Peer(ctx.op, i, steps[k].distance, n))];
      const Route* r = g.EdgeRoute(a, b, Rail(g, a));
      ScheduledTransfer t;
      t.route = r;
      t.bytes = bytes * steps[k].share;
      t.max_rate_GBps = std::numeric_limits<double>::infinity();
      t.extra_latency =
          StepLatency(g, ctx.params, *r, Algorithm::kPat, Protocol::kSimple, false, g.max_ranks_per_node() == 1) -
          r->latency;
      t.efficiency = eff;
      std::vector<uint32_t> deps;
      if (k > 0) {
        // This rank forwards what the previous step brought it, once its own previous send has left.
        const int d = steps[k - 1].distance % n;
        const int sender = ctx.op == CollectiveOp::kAllGather ? (i + d) % n : (i - d + n) % n;
        deps.push_back(CollectiveSchedule::Delivered(index(k - 1, sender)));
        deps.push_back(CollectiveSchedule::Drained(index(k - 1, i)));
      }
      out->Add(t, deps);
    }
  }
  // Every rank's send of one step runs at once.
  for (size_t k = 0; k < steps.size(); ++k) {
    std::vector<uint32_t> wave;
    for (int i = 0; i < n; ++i) wave.push_back(index(k, i));
    ShareLinksWithinWave(g.topology(), wave, out);
  }
}

}  // namespace wiresim::internal
