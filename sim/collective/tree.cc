// NCCL's double binary tree for all-reduce. Each channel group g carries S/G, split over two trees: inside every
// node a chain from the group's head (the GPU on its rail) through the node's other GPUs; across nodes two binary
// trees over the heads, shaped as NCCL's ncclGetBtree builds them (the root has one child), the second the mirror
// (or, over an odd number of nodes, the shift) of the first so that a node interior in one is a leaf in the other.
// Each tree reduces its half up (tail to head, child to parent) and broadcasts it back down, pipelined chunk by
// chunk, so every edge carries S/(2G) up and S/(2G) down at the same time.
//
// Cost: NCCL's latency (base + 2((ranks per node - 1) x intra hop + log2(nodes) x inter hop)), plus the bytes on
// the busiest link, plus the fill of the deepest path (up the chain, up the tree, down again).
#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/collective/algorithms.h"

namespace wiresim::internal {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct TreeEdge {
  int from, to;
  const Route* route;
  bool inter;
  bool up;  // toward the root (the reduction), else away from it (the broadcast)
};

int Log2i(int n) {
  int l = 0;
  while (n >>= 1) ++l;
  return l;
}

// The chain of node k for group g: head first.
std::vector<int> NodeChain(const CollectiveGroup& group, int k, int g) {
  const auto& local = group.node_ranks()[static_cast<size_t>(k)];
  const int head = group.head(k, g);
  const size_t at = static_cast<size_t>(std::find(local.begin(), local.end(), head) - local.begin());
  std::vector<int> chain;
  for (size_t i = 0; i < local.size(); ++i) chain.push_back(local[(at + i) % local.size()]);
  return chain;
}

// Every directed edge of tree t of group g, up edges then down edges; routed unless `route` is false.
std::vector<TreeEdge> TreeEdges(CollectiveGroup& group, int g, int t, bool route = true) {
  std::vector<TreeEdge> edges;
  const int nodes = group.nodes();
  for (int k = 0; k < nodes; ++k) {
    const std::vector<int> chain = NodeChain(group, k, g);
    for (size_t i = 0; i + 1 < chain.size(); ++i) {
      edges.push_back({chain[i + 1], chain[i], nullptr, false, true});
      edges.push_back({chain[i], chain[i + 1], nullptr, false, false});
    }
  }
  for (int k = 0; k < nodes; ++k) {
    const int up = DtreeParent(nodes, k, t);
    if (up < 0) continue;
    const int child = group.head(k, g);
    const int parent = group.head(up, g);
    edges.push_back({child, parent, nullptr, true, true});
    edges.push_back({parent, child, nullptr, true, false});
  }
  if (route)
    for (TreeEdge& e : edges) e.route = group.EdgeRoute(e.from, e.to, g);
  return edges;
}

struct TreeShape {
  Time latency;  // without the base latency
  double fill_per_chunk_byte = 0;
};

// The bytes the tree edges of every group put on each link, per byte of S: each edge carries S/(2G). `Phase::kAll`
// counts every edge (both streams run at once once the pipeline is full), the others one direction only.
enum class Phase { kAll, kUp, kDown };
LinkLoads TreeLoads(const AlgorithmContext& ctx, const LinkEfficiency& eff, Phase phase = Phase::kAll) {
  CollectiveGroup& g = ctx.group;
  const double share = 1.0 / (2.0 * g.channel_groups());
  LinkLoads loads(g.topology());
  for (int grp = 0; grp < g.channel_groups(); ++grp)
    for (int t = 0; t < 2; ++t)
      for (const TreeEdge& e : TreeEdges(g, grp, t))
        if (phase == Phase::kAll || e.up == (phase == Phase::kUp)) loads.Add(e.route, share, eff, kInf);
  return loads;
}

TreeShape Shape(const AlgorithmContext& ctx, Protocol p, const LinkEfficiency& eff) {
  CollectiveGroup& g = ctx.group;
  const bool one_per_node = g.max_ranks_per_node() == 1;
  Time intra, inter;
  for (int grp = 0; grp < g.channel_groups(); ++grp) {
    for (int t = 0; t < 2; ++t) {
      for (const TreeEdge& e : TreeEdges(g, grp, t)) {
        const Time l = StepLatency(g, ctx.params, *e.route, Algorithm::kTree, p, false, one_per_node);
        (e.inter ? inter : intra) = std::max(e.inter ? inter : intra, l);
      }
    }
  }
  TreeShape shape;
  shape.latency = 2 * (intra * (g.max_ranks_per_node() - 1) + inter * Log2i(g.nodes()));
  // The deepest path of group 0, tree 0: from the tail of the deepest node's chain up to the root and back down
  // (ranks, from the tail up). The mirrored (or shifted) tree 1 is as deep.
  std::vector<int> up_path;
  const int nodes = g.nodes();
  int deepest = 0, depth = 0;
  for (int k = 0; k < nodes; ++k) {
    int d = 0;
    for (int at = k; DtreeParent(nodes, at, 0) >= 0; at = DtreeParent(nodes, at, 0)) ++d;
    if (d > depth) deepest = k, depth = d;
  }
  const std::vector<int> chain = NodeChain(g, deepest, 0);
  for (size_t i = chain.size(); i > 0; --i) up_path.push_back(chain[i - 1]);
  for (int at = DtreeParent(nodes, deepest, 0); at >= 0; at = DtreeParent(nodes, at, 0)) {
    up_path.push_back(g.head(at, 0));
  }
  // A chunk crosses each hop at the pace its pipeline gets there: the hop's links carry every pipeline's bytes
  // (2G pipelines, S/(2G) each), so a pipeline byte takes the link's seconds per byte of S times 2G. While the
  // first chunks climb, nothing comes down yet (and the other way round): each hop counts its own direction's
  // streams only. The first chunk crosses every hop; the others follow at the slowest hop's pace, which the
  // bandwidth term already counts.
  const double pipelines = 2.0 * g.channel_groups();
  const LinkLoads up = TreeLoads(ctx, eff, Phase::kUp), down = TreeLoads(ctx, eff, Phase::kDown);
  double sum = 0, slowest = 0;
  const auto hop = [&](int a, int b, const LinkLoads& loads) {
    const double per_byte = loads.SecondsOn(*g.EdgeRoute(a, b, 0)) * pipelines;
    sum += per_byte;
    slowest = std::max(slowest, per_byte);
  };
  for (size_t i = 0; i + 1 < up_path.size(); ++i) hop(up_path[i], up_path[i + 1], up);
  for (size_t i = up_path.size() - 1; i > 0; --i) hop(up_path[i], up_path[i - 1], down);
  const bool path_empty = up_path.size() < 2;
  // LL and LL128 forward each line as soon as its flag arrives: only Simple waits for a whole chunk at every hop.
  shape.fill_per_chunk_byte = path_empty || p != Protocol::kSimple ? 0 : sum - slowest;
  return shape;
}

double TreeChunk(const AlgorithmContext& ctx, Protocol p) {
  const double trees = 2.0 * ctx.group.channel_groups();
  return ctx.params.chunk_bytes[static_cast<size_t>(p)] * std::max(1.0, ctx.ring_channels / trees);
}

}  // namespace

// ncclGetBtree: position r's parent clears r's lowest set bit and sets the next one up, or only clears it when that
// falls outside; position 0 is the root.
namespace {
int BtreeParent(int n, int r) {
  if (r == 0) return -1;
  const int bit = r & -r;
  const int up = (r ^ bit) | (bit << 1);
  return up < n ? up : r ^ bit;
}
}  // namespace

int DtreeParent(int n, int pos, int t) {
  if (t == 0) return BtreeParent(n, pos);
  if (n % 2 == 0) {
    const int up = BtreeParent(n, n - 1 - pos);
    return up < 0 ? -1 : n - 1 - up;
  }
  const int up = BtreeParent(n, (pos - 1 + n) % n);
  return up < 0 ? -1 : (up + 1) % n;
}

EdgeList TreeEdgeList(const AlgorithmContext& ctx) {
  EdgeList out;
  if (ctx.op != CollectiveOp::kAllReduce) return out;
  for (int g = 0; g < ctx.group.channel_groups(); ++g)
    for (int t = 0; t < 2; ++t)
      for (const TreeEdge& e : TreeEdges(ctx.group, g, t, false)) out.emplace_back(e.from, e.to, g);
  return out;
}

AlgorithmCost TreeCost(const AlgorithmContext& ctx, Protocol p) {
  AlgorithmCost cost;
  CollectiveGroup& g = ctx.group;
  if (ctx.op != CollectiveOp::kAllReduce) {
    cost.why_not = "trees run all-reduce only";
    return cost;
  }
  cost.usable = true;
  if (g.ranks() == 1) return cost;
  const LinkEfficiency eff = TransferEfficiency(g, ctx.params, Algorithm::kTree, p);
  const double share = 1.0 / (2.0 * g.channel_groups());
  const LinkLoads loads = TreeLoads(ctx, eff);
  const TreeShape shape = Shape(ctx, p, eff);
  cost.latency =
      Time::FromMicroseconds(ctx.params.tuner.base_latency_us[kNcclTree][static_cast<size_t>(p)]) + shape.latency;
  cost.seconds_per_byte = loads.Seconds();
  cost.fill_seconds_per_byte = shape.fill_per_chunk_byte;
  cost.chunk_bytes = TreeChunk(ctx, p);
  cost.group_share = share;
  SetLanes(ctx, Algorithm::kTree, p, &cost);
  return cost;
}

void TreeExpand(const AlgorithmContext& ctx, Protocol p, double bytes, CollectiveSchedule* out) {
  CollectiveGroup& g = ctx.group;
  out->start_delay += Time::FromMicroseconds(ctx.params.tuner.base_latency_us[kNcclTree][static_cast<size_t>(p)]);
  if (g.ranks() == 1 || bytes <= 0) return;
  const LinkEfficiency e = TransferEfficiency(g, ctx.params, Algorithm::kTree, p);
  const uint16_t eff = out->AddEfficiency(e);
  const double share = 1.0 / (2.0 * g.channel_groups());
  // The pipeline runs every edge at once; each transfer carries the tree's latency and fill, so the last one is
  // delivered when the pipeline would have drained.
  const TreeShape shape = Shape(ctx, p, e);
  const double per_tree = bytes * share;
  const double chunk = per_tree / std::ceil(per_tree / TreeChunk(ctx, p));
  const Time tail = shape.latency + Time::FromSecondsCeil(chunk * shape.fill_per_chunk_byte);
  std::vector<uint32_t> wave;
  for (int grp = 0; grp < g.channel_groups(); ++grp) {
    for (int t = 0; t < 2; ++t) {
      for (const TreeEdge& edge : TreeEdges(g, grp, t)) {
        ScheduledTransfer x;
        x.route = edge.route;
        x.bytes = per_tree;
        x.max_rate_GBps = kInf;
        x.extra_latency = std::max(Time::Zero(), tail - edge.route->latency);
        x.efficiency = eff;
        wave.push_back(out->Add(x, {}));
      }
    }
  }
  // Every edge streams at once: the edges through one NIC or NVLink share it.
  ShareLinksWithinWave(g.topology(), wave, out);
}

}  // namespace wiresim::internal
