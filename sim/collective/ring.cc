// Rings (all-reduce, all-gather, reduce-scatter) and the chains broadcast and reduce run along them.
//
// All-reduce over n ranks and G channel groups (one ring per NIC rail across nodes): 2(n-1) steps; in each, every
// rank sends S/(nG) per group to the next rank of each ring, the data it received in the step before. All-gather
// and reduce-scatter: n-1 steps of S/(nG) (S the total buffer). With one ring and equal hops of latency a and rate
// B this is the textbook 2(n-1) * (a + S/(nB)) = 2(n-1)/n * S/B + 2(n-1) * a.
//
// Broadcast and reduce: a chain from (to) the root along each ring, the group's S/G bytes cut into chunks that
// follow one another down the chain: latency + sum over hops of (a + chunk/B_h) + (chunks - 1) * chunk/min B_h.
#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/collective/algorithms.h"

namespace wiresim::internal {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

int RingSteps(CollectiveOp op, int n) { return op == CollectiveOp::kAllReduce ? 2 * (n - 1) : n - 1; }

// Per-GPU caps of the protocol, in GB/s per ring edge (NCCL: LL's busBw <= llMaxBw; LL128's <= channels x
// perChMaxRingLL128Bw), split over the G rings each GPU sends on.
double RingCap(const AlgorithmContext& ctx, Protocol p) {
  const CollectiveGroup& g = ctx.group;
  const auto& t = ctx.params.tuner;
  const size_t gen = static_cast<size_t>(g.arch().nccl_index());
  const size_t index2 = static_cast<size_t>(g.nodes() <= 2 ? g.nodes() - 1 : 2);
  const double groups = g.channel_groups();
  if (p == Protocol::kLL) {
    const size_t row = g.nodes() == 1 ? gen : (t.amd_cpu ? 1 : 0);
    return t.ll_max_bw[row][index2] / groups;
  }
  if (p == Protocol::kLL128) return ctx.ring_channels * t.per_ch_max_ring_ll128_bw[gen][index2] / groups;
  return kInf;
}

Time MaxStepLatency(const AlgorithmContext& ctx, Protocol p, bool inter) {
  const CollectiveGroup& g = ctx.group;
  const bool one_per_node = g.max_ranks_per_node() == 1;
  Time worst;
  for (const RingOrder& ring : g.rings()) {
    for (size_t i = 0; i < ring.edges.size(); ++i) {
      if (ring.edges[i] == nullptr || ring.inter_node[i] != inter) continue;
      worst = std::max(worst, StepLatency(g, ctx.params, *ring.edges[i], Algorithm::kRing, p, !inter && g.nodes() > 1,
                                          one_per_node));
    }
  }
  return worst;
}

Time BaseLatency(const AlgorithmContext& ctx, Algorithm a, Protocol p) {
  return Time::FromMicroseconds(
      ctx.params.tuner.base_latency_us[static_cast<size_t>(NcclAlgoIndex(a))][static_cast<size_t>(p)]);
}

// The chain of ring g from (broadcast) or to (reduce) the root: its ranks in order of the data, with the route
// of each hop.
struct Chain {
  std::vector<int> ranks;
  std::vector<const Route*> hops;  // hops[j]: ranks[j] -> ranks[j + 1]
};

Chain BuildChain(const AlgorithmContext& ctx, int g) {
  CollectiveGroup& group = ctx.group;
  const RingOrder& ring = group.rings()[static_cast<size_t>(g)];
  const size_t n = ring.order.size();
  const size_t at = static_cast<size_t>(std::find(ring.order.begin(), ring.order.end(), ctx.root) - ring.order.begin());
  Chain chain;
  for (size_t j = 0; j < n; ++j) chain.ranks.push_back(ring.order[(at + j) % n]);
  const bool reduce = ctx.op == CollectiveOp::kReduce;
  for (size_t j = 0; j + 1 < n; ++j) {
    const size_t e = (at + j) % n;  // ring edge from chain[j] to chain[j + 1]
    chain.hops.push_back(reduce ? nullptr : ring.edges[e]);
    if (reduce) chain.hops.back() = group.EdgeRoute(chain.ranks[j + 1], chain.ranks[j], ring.rails[e]);
  }
  if (reduce) {
    // Data flows toward the root: reverse the order so hops[j] goes ranks[j] -> ranks[j + 1].
    std::reverse(chain.ranks.begin(), chain.ranks.end());
    std::reverse(chain.hops.begin(), chain.hops.end());
  }
  return chain;
}

double ChunkBytes(const AlgorithmContext& ctx, Protocol p, double groups) {
  return ctx.params.chunk_bytes[static_cast<size_t>(p)] * std::max(1.0, ctx.ring_channels / groups);
}

// Seconds per byte of S one ring step takes: every rank sends S/(nG) on each of the G rings at once, and the
// busiest link (or the protocol's cap) sets the pace. `intra_only`: the edges inside nodes alone, the ones the
// GPUs' own kernels drive (a NIC drains the others while the kernel goes on).
double StepSecondsPerByte(const AlgorithmContext& ctx, Protocol p, bool intra_only = false) {
  const CollectiveGroup& g = ctx.group;
  const double n = g.ranks(), groups = g.channel_groups();
  const LinkEfficiency eff = TransferEfficiency(g, ctx.params, Algorithm::kRing, p);
  const double cap = RingCap(ctx, p);
  LinkLoads loads(g.topology());
  bool any = false;
  for (const RingOrder& ring : g.rings()) {
    for (size_t i = 0; i < ring.edges.size(); ++i) {
      if (intra_only && ring.inter_node[i]) continue;
      loads.Add(ring.edges[i], 1.0 / (n * groups), eff, cap);
      any = true;
    }
  }
  return any ? loads.Seconds() : 0.0;
}

// Whether NCCL's Simple rings write the all-gather steps straight into the next rank's output buffer: every edge
// of every ring joins two ranks of one process (P2P/direct pointer; CollectiveParams::ranks_per_process). An edge
// between nodes never does (its receiver copies out of the network buffer).
bool RingWritesDirect(const AlgorithmContext& ctx, Protocol p) {
  const int k = ctx.params.ranks_per_process;
  if (p != Protocol::kSimple || k <= 1) return false;
  if (ctx.op != CollectiveOp::kAllReduce && ctx.op != CollectiveOp::kAllGather) return false;
  for (const RingOrder& ring : ctx.group.rings()) {
    const size_t n = ring.order.size();
    for (size_t i = 0; i < n; ++i) {
      if (ring.inter_node[i] || ring.order[i] / k != ring.order[(i + 1) % n] / k) return false;
    }
  }
  return true;
}

// The loop's last operation copies the last chunk received out of the receive buffer (or reduces it into the
// output): it sends nothing and holds the channel ring_local_copy of a step at the pace of the kernel-driven edges.
double CopySecondsPerByte(const AlgorithmContext& ctx, Protocol p) {
  return ctx.params.ring_local_copy * StepSecondsPerByte(ctx, p, /*intra_only=*/true);
}

// The copy as this ring pays it: with direct writes the chunk is already in place and the operation copies nothing.
double LocalCopySecondsPerByte(const AlgorithmContext& ctx, Protocol p) {
  return RingWritesDirect(ctx, p) ? 0 : CopySecondsPerByte(ctx, p);
}

}  // namespace

AlgorithmCost RingCost(const AlgorithmContext& ctx, Protocol p) {
  AlgorithmCost cost;
  const CollectiveGroup& g = ctx.group;
  if (ctx.op != CollectiveOp::kAllReduce && ctx.op != CollectiveOp::kAllGather &&
      ctx.op != CollectiveOp::kReduceScatter) {
    cost.why_not = "rings run all-reduce, all-gather and reduce-scatter (broadcast and reduce run as chains)";
    return cost;
  }
  cost.usable = true;
  const int n = g.ranks();
  if (n == 1) return cost;
  const int steps = RingSteps(ctx.op, n);
  cost.seconds_per_byte = steps * StepSecondsPerByte(ctx, p) + LocalCopySecondsPerByte(ctx, p);
  if (RingWritesDirect(ctx, p)) cost.skipped_copy_seconds_per_byte = CopySecondsPerByte(ctx, p);
  SetLanes(ctx, Algorithm::kRing, p, &cost);
  const int inter_steps =
      g.nodes() == 1 ? 0 : std::min(steps, ctx.op == CollectiveOp::kAllReduce ? 2 * (g.nodes() - 1) : g.nodes() - 1);
  const Time intra = MaxStepLatency(ctx, p, false);
  const Time inter = MaxStepLatency(ctx, p, true);
  cost.latency = BaseLatency(ctx, Algorithm::kRing, p) + intra * (steps - inter_steps) + inter * inter_steps;
  return cost;
}

void RingExpand(const AlgorithmContext& ctx, Protocol p, double bytes, CollectiveSchedule* out) {
  const CollectiveGroup& g = ctx.group;
  const int n = g.ranks();
  out->start_delay += BaseLatency(ctx, Algorithm::kRing, p);
  if (n == 1) return;
  const int groups = g.channel_groups();
  const uint16_t eff = out->AddEfficiency(TransferEfficiency(g, ctx.params, Algorithm::kRing, p));
  const double cap = RingCap(ctx, p);
  const bool one_per_node = g.max_ranks_per_node() == 1;
  // Every step sends the same transfers, so the ring is kept implicit: one transfer per ring edge, played step by
  // step (RingSchedule), instead of millions stored on a large cluster.
  RingSchedule ring;
  ring.topology = &g.topology();
  ring.groups = groups;
  ring.ranks = n;
  ring.steps = RingSteps(ctx.op, n);
  // The edges live in a scratch schedule so that the wave's sharing can cap them.
  CollectiveSchedule wave_of_edges;
  wave_of_edges.efficiencies = out->efficiencies;
  wave_of_edges.transfers.reserve(static_cast<size_t>(groups) * static_cast<size_t>(n));
  for (int grp = 0; grp < groups; ++grp) {
    const RingOrder& order = g.rings()[static_cast<size_t>(grp)];
    for (int i = 0; i < n; ++i) {
      const Route* e = order.edges[static_cast<size_t>(i)];
      const bool inter = order.inter_node[static_cast<size_t>(i)];
      ScheduledTransfer t;
      t.route = e;
      t.bytes = bytes / (n * groups);
      t.max_rate_GBps = cap;
      t.extra_latency =
          StepLatency(g, ctx.params, *e, Algorithm::kRing, p, !inter && g.nodes() > 1, one_per_node) - e->latency;
      t.efficiency = eff;
      wave_of_edges.transfers.push_back(t);
    }
  }
  // Step s of every ring runs at once: the rings' edges through one link (a GPU's NVLinks) share it. Every step is
  // the same wave, so one sharing serves them all.
  std::vector<uint32_t> wave(wave_of_edges.transfers.size());
  for (size_t k = 0; k < wave.size(); ++k) wave[k] = static_cast<uint32_t>(k);
  ShareLinksWithinWave(g.topology(), wave, &wave_of_edges);
  ring.edges = std::move(wave_of_edges.transfers);
  // Each rank's last operation copies what the last step brought it out of the receive buffer: no link.
  const double copy_seconds = bytes * LocalCopySecondsPerByte(ctx, p);
  if (copy_seconds > 0) {
    const double chunk = bytes / (n * groups);
    ScheduledTransfer t;
    t.bytes = chunk;
    t.max_rate_GBps = chunk / copy_seconds / 1e9;
    t.efficiency = eff;
    ring.copies.assign(static_cast<size_t>(groups) * static_cast<size_t>(n), t);
  }
  out->ring = std::move(ring);
}

AlgorithmCost ChainCost(const AlgorithmContext& ctx, Protocol p) {
  AlgorithmCost cost;
  CollectiveGroup& g = ctx.group;
  if (ctx.op != CollectiveOp::kBroadcast && ctx.op != CollectiveOp::kReduce) {
    cost.why_not = "chains run broadcast and reduce";
    return cost;
  }
  cost.usable = true;
  const int n = g.ranks();
  if (n == 1) return cost;
  const double groups = g.channel_groups();
  const LinkEfficiency eff = TransferEfficiency(g, ctx.params, Algorithm::kRing, p);
  const double cap = RingCap(ctx, p);
  LinkLoads loads(g.topology());
  Time latency;
  for (int grp = 0; grp < g.channel_groups(); ++grp) {
    const Chain chain = BuildChain(ctx, grp);
    Time chain_latency;
    for (const Route* hop : chain.hops) {
      loads.Add(hop, 1.0 / groups, eff, cap);
      chain_latency += StepLatency(g, ctx.params, *hop, Algorithm::kRing, p);
    }
    latency = std::max(latency, chain_latency);
  }
  // The fill: a chunk crosses every hop of the chain at the pace the chain gets there (the hop's links carry every
  // chain's bytes, G chains in all), while the rest follow at the slowest hop's pace.
  double sum = 0, slowest = 0;
  for (const Route* hop : BuildChain(ctx, 0).hops) {
    double per_byte = loads.SecondsOn(*hop) * groups;
    if (std::isfinite(cap)) per_byte = std::max(per_byte, 1.0 / (cap * 1e9));
    sum += per_byte;
    slowest = std::max(slowest, per_byte);
  }
  cost.latency = BaseLatency(ctx, Algorithm::kRing, p) + latency;
  cost.seconds_per_byte = loads.Seconds();
  cost.fill_seconds_per_byte = sum - slowest;
  SetLanes(ctx, Algorithm::kRing, p, &cost);
  cost.chunk_bytes = ChunkBytes(ctx, p, groups);
  cost.group_share = 1.0 / groups;
  return cost;
}

void ChainExpand(const AlgorithmContext& ctx, Protocol p, double bytes, CollectiveSchedule* out) {
  CollectiveGroup& g = ctx.group;
  const int n = g.ranks();
  out->start_delay += BaseLatency(ctx, Algorithm::kRing, p);
  if (n == 1 || bytes <= 0) return;
  const int groups = g.channel_groups();
  const uint16_t eff = out->AddEfficiency(TransferEfficiency(g, ctx.params, Algorithm::kRing, p));
  const double cap = RingCap(ctx, p);
  const double per_group = bytes / groups;
  const double chunks = std::ceil(per_group / ChunkBytes(ctx, p, groups));
  const double chunk = per_group / chunks;
  const int k_count = static_cast<int>(chunks);
  // Once the pipelines are full, chunk k is on every hop of every chain at once (each hop a different chunk, all of
  // one size): a wave per chunk index shares the links as the pipelines do.
  std::vector<std::vector<uint32_t>> waves(static_cast<size_t>(k_count));
  for (int grp = 0; grp < groups; ++grp) {
    const Chain chain = BuildChain(ctx, grp);
    const int hops = n - 1;
    const uint32_t first = static_cast<uint32_t>(out->transfers.size());
    const auto index = [&](int k, int j) { return first + static_cast<uint32_t>(k * hops + j); };
    for (int k = 0; k < k_count; ++k) {
      for (int j = 0; j < hops; ++j) {
        const Route* hop = chain.hops[static_cast<size_t>(j)];
        ScheduledTransfer t;
        t.route = hop;
        t.bytes = chunk;
        t.max_rate_GBps = cap;
        t.extra_latency = StepLatency(g, ctx.params, *hop, Algorithm::kRing, p) - hop->latency;
        t.efficiency = eff;
        std::vector<uint32_t> deps;
        if (j > 0) deps.push_back(CollectiveSchedule::Delivered(index(k, j - 1)));  // the chunk arrived
        if (k > 0) deps.push_back(CollectiveSchedule::Drained(index(k - 1, j)));    // the previous chunk left
        waves[static_cast<size_t>(k)].push_back(out->Add(t, deps));
      }
    }
  }
  for (const std::vector<uint32_t>& wave : waves) ShareLinksWithinWave(g.topology(), wave, out);
}

}  // namespace wiresim::internal
