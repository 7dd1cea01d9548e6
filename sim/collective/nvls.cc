// NVLink SHARP: the NVSwitch reduces what the GPUs load through it and multicasts what they store. Per GPU, for an
// all-reduce of S over n GPUs: the switch reads the GPU's whole buffer (S) for everyone's reductions and returns
// its reduced share (S/n); the GPU stores that share (S/n) and receives everyone's (S). So each GPU moves
// S(n+1)/n each way over its NVLinks, at the kernels' NVLink efficiency. All-gather: S/n up, S down;
// reduce-scatter: S up, S/n down (S the total buffer). NCCL's channels x heads operations pace the pipeline when
// they are slower than the links (NvlsPipelineSeconds), as they are on Hopper and Blackwell.
//
// NVLSTree (several nodes): NVLS reduce inside each node leaves each GPU the node's sum of its S/ppn share; the
// GPUs holding the same share on every node exchange it over two binary trees across nodes (through their own
// NICs, rail by rail), then NVLS multicast inside each node.
//
// Latency: on one node the kernel's fixed cost (the pipeline's steps and fill charged apart); NVLSTree keeps NCCL's
// base + NVLS + 2 log2(nodes) x the inter-node hop.
#include <algorithm>
#include <limits>

#include "sim/collective/algorithms.h"
#include "sim/collective/nccl_tuning.h"

namespace wiresim::internal {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

int Log2i(int n) {
  int l = 0;
  while (n >>= 1) ++l;
  return l;
}

struct NvlsFlow {
  const Route* route;
  double share;          // bytes per byte of S
  bool between = false;  // NVLSTree: between nodes (else through the NVSwitches)
};

// Why NVLS cannot run here, or empty.
std::string Unsupported(const AlgorithmContext& ctx, Algorithm a) {
  const CollectiveGroup& g = ctx.group;
  if (!g.nvls_capable()) return "NVLS needs Hopper or later GPUs whose node-mates share NVSwitches";
  if (!NvlsSupported(ctx)) {
    const int min_gpus = NcclNvlsMinGpusPerNode(ctx.params.nccl_version);
    return "NCCL " + ctx.params.nccl_version.ToString() + " turns NVLS off with fewer than " +
           std::to_string(min_gpus) + " of the communicator's GPUs on a node" +
           (min_gpus > 2 ? " (2 are enough from 2.28.7)" : "");
  }
  if (a == Algorithm::kNvls) {
    if (g.nodes() > 1) return "NVLS spans one NVLink domain (across nodes NCCL runs NVLSTree)";
    if (ctx.op != CollectiveOp::kAllReduce && ctx.op != CollectiveOp::kAllGather &&
        ctx.op != CollectiveOp::kReduceScatter) {
      return "NVLS runs all-reduce, all-gather and reduce-scatter";
    }
  } else {
    if (g.nodes() == 1) return "NVLSTree needs several nodes (on one node NCCL runs NVLS)";
    if (ctx.op != CollectiveOp::kAllReduce) return "NVLSTree runs all-reduce only";
  }
  return "";
}

std::vector<NvlsFlow> Flows(const AlgorithmContext& ctx, Algorithm a) {
  CollectiveGroup& g = ctx.group;
  std::vector<NvlsFlow> flows;
  for (const auto& local : g.node_ranks()) {
    const double n = static_cast<double>(local.size());
    if (local.size() < 2) continue;
    double up = 1 + 1 / n, down = 1 + 1 / n;
    if (a == Algorithm::kNvls && ctx.op == CollectiveOp::kAllGather) up = 1 / n, down = 1;
    if (a == Algorithm::kNvls && ctx.op == CollectiveOp::kReduceScatter) up = 1, down = 1 / n;
    for (int r : local) {
      flows.push_back({g.SwitchRoute(r, true), up});
      flows.push_back({g.SwitchRoute(r, false), down});
    }
  }
  if (a == Algorithm::kNvlsTree) {
    const int nodes = g.nodes();
    for (int j = 0; j < g.max_ranks_per_node(); ++j) {
      const auto owner = [&](int k) {
        const auto& local = g.node_ranks()[static_cast<size_t>(k)];
        return local[static_cast<size_t>(j) % local.size()];
      };
      const double share = 1.0 / (2.0 * g.max_ranks_per_node());
      std::vector<std::tuple<int, int, int>> edges;
      for (int t = 0; t < 2; ++t) {
        for (int k = 0; k < nodes; ++k) {
          const int up = DtreeParent(nodes, k, t);
          if (up < 0) continue;
          edges.emplace_back(owner(k), owner(up), j);
          edges.emplace_back(owner(up), owner(k), j);
        }
      }
      for (const auto& [from, to, rail] : edges) flows.push_back({g.EdgeRoute(from, to, rail), share, true});
    }
  }
  return flows;
}

Time NvlsLatency(const AlgorithmContext& ctx, Algorithm a) {
  const auto& t = ctx.params.tuner;
  // One node: the kernel's fixed cost, its pipeline charged apart (CollectiveParams::nvls_kernel_latency).
  if (a == Algorithm::kNvls) return ctx.params.nvls_kernel_latency;
  CollectiveGroup& g = ctx.group;
  Time inter;
  for (const NvlsFlow& f : Flows(ctx, a)) {
    if (f.route == nullptr) continue;
    bool network = false;
    for (const RouteHop& h : f.route->hops) network |= IsNetworkLink(g.topology().link(h.link).kind);
    if (network) {
      inter = std::max(inter, StepLatency(g, ctx.params, *f.route, Algorithm::kNvlsTree, Protocol::kSimple, false,
                                          g.max_ranks_per_node() == 1));
    }
  }
  return Time::FromMicroseconds(t.base_latency_us[kNcclNvlsTree][2]) +
         Time::FromMicroseconds(t.hw_latency_us[kNcclHwNvlink][kNcclNvlsTree][2]) + 2 * inter * Log2i(g.nodes());
}

}  // namespace

bool NvlsSupported(const AlgorithmContext& ctx) {
  const CollectiveGroup& g = ctx.group;
  return g.nvls_capable() && g.min_ranks_per_node() >= NcclNvlsMinGpusPerNode(ctx.params.nccl_version);
}

EdgeList NvlsTreeEdgeList(const AlgorithmContext& ctx) {
  EdgeList out;
  CollectiveGroup& g = ctx.group;
  if (ctx.op != CollectiveOp::kAllReduce || g.nodes() < 2 || !NvlsSupported(ctx)) return out;
  const int nodes = g.nodes();
  for (int j = 0; j < g.max_ranks_per_node(); ++j) {
    const auto owner = [&](int k) {
      const auto& local = g.node_ranks()[static_cast<size_t>(k)];
      return local[static_cast<size_t>(j) % local.size()];
    };
    for (int t = 0; t < 2; ++t) {
      for (int k = 0; k < nodes; ++k) {
        const int up = DtreeParent(nodes, k, t);
        if (up < 0) continue;
        out.emplace_back(owner(k), owner(up), j);
        out.emplace_back(owner(up), owner(k), j);
      }
    }
  }
  return out;
}

AlgorithmCost NvlsCost(const AlgorithmContext& ctx, Algorithm a) {
  AlgorithmCost cost;
  cost.why_not = Unsupported(ctx, a);
  if (!cost.why_not.empty()) return cost;
  cost.usable = true;
  CollectiveGroup& g = ctx.group;
  const CollectiveParams& params = ctx.params;
  const LinkEfficiency eff = TransferEfficiency(g, params, a, Protocol::kSimple);
  const bool tree = a == Algorithm::kNvlsTree;
  // One node: the switch flows at the kernels' raw NVLink rate too, the pace of a step's bytes beside its
  // synchronisation (NvlsPipelineSeconds).
  const LinkEfficiency raw = params.KernelEfficiency(g.arch().generation);
  LinkLoads loads(g.topology()), switch_loads(g.topology()), tree_loads(g.topology()), raw_loads(g.topology());
  for (const NvlsFlow& f : Flows(ctx, a)) {
    loads.Add(f.route, f.share, eff, kInf);
    (f.between ? tree_loads : switch_loads).Add(f.route, f.share, eff, kInf);
    if (!tree) raw_loads.Add(f.route, f.share, raw, kInf);
  }
  cost.seconds_per_byte = loads.Seconds();
  cost.latency = NvlsLatency(ctx, a);
  // The pipeline (enqueue.cc): channels x heads operations per step, each a chunk.
  cost.nvls_ops = static_cast<double>(params.NvlsChannels(g.arch().generation, g.nodes() > 1)) * g.max_ranks_per_node();
  cost.nvls_tree = tree;
  cost.nvls_first_chunk = params.nvls_chunk_bytes;
  if (tree) {
    if (params.nvls_tree_chunk_from_buffer) {
      cost.nvls_first_chunk = params.chunk_bytes[static_cast<size_t>(Protocol::kSimple)];
    }
    if (params.nvls_tree_small_chunk_from_4_nodes && g.nodes() >= 4) {
      cost.nvls_first_chunk = std::min(cost.nvls_first_chunk, 65536.0);
    }
  }
  // Fill: a step's data crosses every stage before the rest follow at the slowest stage's pace. NVLS: the scatter
  // copy into the GPU's NVLS buffer and the gather copy out of it frame the switch stage (the pace), a step each
  // (nvls_fill_steps, fitted with the synchronisation, docs/collectives.md section 3). NVLSTree: the same copies
  // (nvls_tree_fill_steps of the switch stage's time), then the switch reduction, the trees' hops up and down (each
  // at the busiest NIC's pace) and the switch multicast, less the slowest of those stages.
  const double sw = switch_loads.Seconds();
  if (!tree) {
    cost.step_sync_seconds = params.nvls_step_sync.ToSeconds();
    cost.nvls_step_seconds_per_byte = raw_loads.Seconds();
    cost.nvls_switch_seconds_per_byte = sw;
    cost.nvls_copy_fill_steps = params.nvls_fill_steps;
  } else {
    cost.step_sync_seconds = params.nvls_tree_step_sync.ToSeconds();
    const double net = tree_loads.Seconds();
    int depth = 0;
    for (int k = 0; k < g.nodes(); ++k) {
      int d = 0;
      for (int at = k; DtreeParent(g.nodes(), at, 0) >= 0; at = DtreeParent(g.nodes(), at, 0)) ++d;
      depth = std::max(depth, d);
    }
    cost.nvls_fill_seconds_per_byte = (params.nvls_tree_fill_steps + 2) * sw + 2 * depth * net - std::max(sw, net);
  }
  return cost;
}

void NvlsExpand(const AlgorithmContext& ctx, Algorithm a, double bytes, CollectiveSchedule* out) {
  CollectiveGroup& g = ctx.group;
  const uint16_t eff = out->AddEfficiency(TransferEfficiency(g, ctx.params, a, Protocol::kSimple));
  // The pipeline's steps and fill ride on every transfer's latency, so the last is delivered when the pipeline
  // would have drained.
  const Time latency = NvlsLatency(ctx, a) + Time::FromSecondsCeil(NvlsPipelineSeconds(NvlsCost(ctx, a), bytes));
  // Every stage of the pipeline at once, sharing the links they cross; each transfer carries the whole latency.
  std::vector<uint32_t> wave;
  for (const NvlsFlow& f : Flows(ctx, a)) {
    if (f.route == nullptr) continue;
    ScheduledTransfer t;
    t.route = f.route;
    t.bytes = bytes * f.share;
    t.max_rate_GBps = kInf;
    t.extra_latency = std::max(Time::Zero(), latency - f.route->latency);
    t.efficiency = eff;
    wave.push_back(out->Add(t, {}));
  }
  ShareLinksWithinWave(g.topology(), wave, out);
}

}  // namespace wiresim::internal
