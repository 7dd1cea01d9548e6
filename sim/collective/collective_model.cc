#include "sim/collective/collective_model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace wiresim {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// NCCL's channel-search speeds (src/graph/search.cc), GB/s per channel, fastest first.
const std::vector<double>& SpeedArray(int sm, bool inter) {
  static const std::vector<double> intra_default = {40.0, 30.0, 20.0, 18.0, 15.0, 12.0, 10.0,
                                                    9.0,  7.0,  6.0,  5.0,  4.0,  3.0};
  static const std::vector<double> inter_default = {48.0, 30.0, 28.0, 24.0, 20.0, 18.0, 15.0, 12.0, 10.0, 9.0,
                                                    7.0,  6.0,  5.0,  4.0,  3.0,  2.4,  1.2,  0.24, 0.12};
  static const std::vector<double> intra_sm90 = {60.0, 50.0, 40.0, 30.0, 24.0, 20.0, 15.0, 12.0, 11.0, 6.0, 3.0};
  static const std::vector<double> inter_sm90 = {48.0, 45.0, 42.0, 40.0, 30.0, 24.0, 22.0, 20.0, 17.5,
                                                 15.0, 12.0, 6.0,  3.0,  2.4,  1.2,  0.24, 0.12};
  static const std::vector<double> intra_sm100 = {90.0, 80.0, 70.0, 60.0, 50.0, 45.0,
                                                  40.0, 30.0, 24.0, 20.0, 19.0, 18.0};
  static const std::vector<double> inter_sm100 = {96.0, 86.0, 80.0, 48.0, 45.1, 42.0, 40.0, 30.0, 24.0, 22.0,
                                                  20.0, 17.5, 15.0, 12.0, 6.0,  3.0,  2.4,  1.2,  0.24, 0.12};
  if (sm >= 100) return inter ? inter_sm100 : intra_sm100;
  if (sm >= 90) return inter ? inter_sm90 : intra_sm90;
  return inter ? inter_default : intra_default;
}

// A stand-in for NCCL's channel search: the per-channel speed from its speed array and the channel count (at most
// 16) that carry the most bandwidth without exceeding `total` GB/s, the fastest speed winning ties. Rings then
// duplicate channels of 25 GB/s or more at half speed, as ncclTopoCompute does.
NcclGraph SearchGraph(double total, int sm, bool inter, int max_channels) {
  NcclGraph g;
  double best = 0;
  for (double s : SpeedArray(sm, inter)) {
    const int n = std::min(16, static_cast<int>(std::floor(total / s + 1e-9)));
    if (n >= 1 && n * s > best + 1e-9) {
      best = n * s;
      g.channels = n;
      g.bw_intra_GBps = g.bw_inter_GBps = s;
    }
  }
  if (g.channels == 0) {  // slower than the slowest speed: one channel at what there is
    g.channels = 1;
    g.bw_intra_GBps = g.bw_inter_GBps = std::max(total, 1e-3);
  }
  if (g.bw_intra_GBps >= 25.0 && 2 * g.channels <= max_channels) {
    g.channels *= 2;
    g.bw_intra_GBps /= 2;
    g.bw_inter_GBps /= 2;
  }
  return g;
}

// NCCL's NVLS graph on one node (search.cc, ncclTopoSearchTryNvls and ncclTopoCompute, 2.18 to 2.30): one channel
// per head, a GPU each (minChannels = maxChannels = the GPUs, at most `max_arity` when above 0), each
// channel's speed taken on the path from the NVSwitch to every GPU and back, twice on its head's own: a head's NVLinks
// carry (channels + 1) x the speed. bwIntra is the fastest speed of the intra-node array that fits; the second pass
// then raises bwInter alone, one speed at a time, while it is under twice bwIntra (nothing on one node carries it),
// up to the array's top. None fits: no NVLS graph.
NcclGraph NvlsGraph(double per_gpu, int gpus, int sm, int max_arity) {
  NcclGraph g;
  const int channels = max_arity > 0 ? std::min(gpus, max_arity) : gpus;
  const std::vector<double>& speeds = SpeedArray(sm, false);
  for (size_t i = 0; i < speeds.size(); ++i) {
    if ((channels + 1) * speeds[i] > per_gpu + 1e-9) continue;
    g.channels = channels;
    g.bw_intra_GBps = g.bw_inter_GBps = speeds[i];
    while (i > 0 && g.bw_inter_GBps < 2 * g.bw_intra_GBps) g.bw_inter_GBps = speeds[--i];
    break;
  }
  return g;
}

}  // namespace

CollectiveModel::CollectiveModel(const Topology& topo, CollectiveParams params)
    : topo_(topo), params_(std::move(params)), router_(topo) {}

Result<std::unique_ptr<PreparedCollective>> CollectiveModel::Prepare(const CollectiveCall& call,
                                                                     const GroupOptions& options) {
  WIRESIM_ASSIGN_OR_RETURN(std::unique_ptr<CollectiveGroup> group,
                           CollectiveGroup::Create(topo_, router_, call.gpus, options));
  const int n = group->ranks();
  if ((call.op == CollectiveOp::kBroadcast || call.op == CollectiveOp::kReduce) && (call.root < 0 || call.root >= n)) {
    return InvalidArgument("root " + std::to_string(call.root) + " is not a rank of the group (0-" +
                           std::to_string(n - 1) + ")");
  }
  std::vector<double> matrix;
  if (call.op == CollectiveOp::kAllToAllV) {
    if (call.matrix_bytes.size() != static_cast<size_t>(n) * static_cast<size_t>(n)) {
      return InvalidArgument("an all-to-all-v over " + std::to_string(n) + " ranks needs " + std::to_string(n * n) +
                             " byte counts, got " + std::to_string(call.matrix_bytes.size()));
    }
    // Scaled so the largest row or column sum (nccl-tests' size) is 1.
    double largest = 0;
    for (int i = 0; i < n; ++i) {
      double row = 0, col = 0;
      for (int j = 0; j < n; ++j) {
        const double x = call.matrix_bytes[static_cast<size_t>(i * n + j)];
        if (x < 0 || !std::isfinite(x)) return InvalidArgument("all-to-all-v byte counts must be >= 0");
        row += x;
        col += call.matrix_bytes[static_cast<size_t>(j * n + i)];
      }
      largest = std::max({largest, row, col});
    }
    matrix = call.matrix_bytes;
    if (largest > 0)
      for (double& x : matrix) x /= largest;
  }
  std::unique_ptr<PreparedCollective> prepared(
      new PreparedCollective(std::move(group), params_, call.op, call.root, std::move(matrix), call.own_nic));
  prepared->Build();
  return prepared;
}

namespace {

std::unique_ptr<const CollectiveParams> WithoutPxn(const CollectiveParams& params, bool own_nic) {
  if (!own_nic || !params.p2p_pxn) return nullptr;
  auto p = std::make_unique<CollectiveParams>(params);
  p->p2p_pxn = false;
  return p;
}

}  // namespace

PreparedCollective::PreparedCollective(std::unique_ptr<CollectiveGroup> group, const CollectiveParams& params,
                                       CollectiveOp op, int root, std::vector<double> matrix, bool own_nic)
    : group_(std::move(group)),
      own_params_(WithoutPxn(params, own_nic)),
      params_(own_params_ != nullptr ? *own_params_ : params),
      matrix_(std::move(matrix)),
      ctx_{*group_, params_, op, root, nullptr, 1} {
  ctx_.matrix = &matrix_;
}

bool PreparedCollective::IsP2p() const {
  return ctx_.op == CollectiveOp::kAllToAll || ctx_.op == CollectiveOp::kAllToAllV ||
         ctx_.op == CollectiveOp::kSendRecv || ctx_.op == CollectiveOp::kSend;
}

void PreparedCollective::Build() {
  CollectiveGroup& g = *group_;
  const LinkEfficiency kernel = params_.KernelEfficiency(g.arch().generation);

  // The inputs of NCCL's channel search: the slowest intra-node ring edge at kernel efficiency, and each node's
  // NIC bandwidth (line rate, as NCCL reads it from the NIC) times the rails it spreads over.
  double intra = g.max_ranks_per_node() > 1 ? kInf : 5000.0;  // NCCL's LOC_BW for one GPU per node
  double nic = kInf;
  for (size_t i = 0; i < g.rings()[0].edges.size(); ++i) {
    const Route* e = g.rings()[0].edges[i];
    if (e == nullptr) continue;
    if (!g.rings()[0].inter_node[i]) {
      TransferRequest req;
      req.route = e;
      req.efficiency = kernel;
      intra = std::min(intra, UncontendedRate(req, g.topology()) / 1e9);
    } else {
      for (const RouteHop& h : e->hops) {
        const Link& l = g.topology().link(h.link);
        if (IsNetworkLink(l.kind)) nic = std::min(nic, l.capacity_GBps / h.share);
      }
    }
  }
  if (!std::isfinite(intra)) intra = 5000.0;
  // One node of directly linked GPUs with several ring orders (CollectiveGroup::MeshRingOrders): a GPU sends on all
  // of them at once, so what NCCL's search finds per GPU is the sum over the rings of each ring's slowest edge, an
  // edge's rate divided among the rings that use it.
  if (g.nodes() == 1 && g.channel_groups() > 1) {
    std::map<std::pair<NodeId, NodeId>, int> uses;
    for (const RingOrder& r : g.rings())
      for (const Route* e : r.edges)
        if (e != nullptr) ++uses[{e->src, e->dst}];
    double total = 0;
    for (const RingOrder& r : g.rings()) {
      double slowest = kInf;
      for (const Route* e : r.edges) {
        if (e == nullptr) continue;
        TransferRequest req;
        req.route = e;
        req.efficiency = kernel;
        slowest = std::min(slowest, UncontendedRate(req, g.topology()) / 1e9 / uses[{e->src, e->dst}]);
      }
      if (std::isfinite(slowest)) total += slowest;
    }
    if (total > 0) intra = total;
  }
  const double inter = g.nodes() > 1 && std::isfinite(nic) ? nic * g.channel_groups() : 0;
  g.set_bandwidths(intra, inter);

  NcclTuningInput in;
  in.ranks = g.ranks();
  in.nodes = g.nodes();
  in.sm = g.arch().sm;
  in.nccl_gen = g.arch().nccl_index();
  const bool multi = g.nodes() > 1;
  NcclGraph ring = SearchGraph(multi ? std::min(intra, inter) : intra, in.sm, multi, params_.max_channels);
  ring.nvlink_intra = g.nvlink_intra() && g.max_ranks_per_node() > 1;
  ring.same_channels = g.channel_groups() == 1;
  in.graphs[kNcclRing] = ring;
  in.graphs[kNcclTree] = ring;
  in.graphs[kNcclPat] = ring;
  NcclGraph nvls;
  if (multi) {
    // Across nodes NCCL pairs heads with NICs; a stand-in: the NVLS channels sharing the GPU's NVLinks and the NICs.
    nvls.channels = params_.NvlsChannels(g.arch().generation, multi);
    nvls.bw_intra_GBps = intra / nvls.channels;
    nvls.bw_inter_GBps = inter / nvls.channels;
  } else {
    nvls = NvlsGraph(intra, g.ranks(), in.sm, params_.nvls_max_arity);
  }
  nvls.nvlink_intra = true;
  in.graphs[kNcclNvls] = nvls;
  in.graphs[kNcclNvlsTree] = nvls;
  in.nvls_supported = internal::NvlsSupported(ctx_);
  in.pat_enabled = multi && g.max_ranks_per_node() == 1 && params_.tuner.pat_available;
  // LL128 by default only over NVLink inside nodes and NICs close to the GPUs across them (PIX/PXB; PXN too from
  // Hopper on, in every release from 2.18: ncclTopoTuneModel), on the GPU generations the release enables it for.
  const bool nic_ok = g.nic_close() || (in.sm >= 90 && g.nic_within_pxn());
  in.ll128_enabled = (g.nvlink_intra() || g.max_ranks_per_node() == 1) && (!multi || nic_ok) &&
                     NcclLl128ArchEnabled(in.sm, params_.nccl_version);
  tuning_ = std::make_unique<NcclTuningModel>(params_.tuner, in);
  ctx_.ring_channels = ring.channels;
  ctx_.ring_channel_GBps = ring.bw_intra_GBps;

  // Every route the algorithms will ask for, computed in one pass sorted by source.
  internal::EdgeList edges = internal::TreeEdgeList(ctx_);
  for (const auto& list : {internal::NvlsTreeEdgeList(ctx_), internal::PatEdgeList(ctx_)})
    edges.insert(edges.end(), list.begin(), list.end());
  g.PrefetchEdges(edges);

  for (int a = 0; a < kAlgorithmCount; ++a) {
    for (int p = 0; p < kProtocolCount; ++p) {
      const Algorithm algo = static_cast<Algorithm>(a);
      const Protocol proto = static_cast<Protocol>(p);
      internal::AlgorithmCost& cost = costs_[static_cast<size_t>(a)][static_cast<size_t>(p)];
      const bool simple_only = algo == Algorithm::kNvls || algo == Algorithm::kNvlsTree || algo == Algorithm::kPat;
      if (simple_only && proto != Protocol::kSimple) {
        cost.why_not = std::string(ToString(algo)) + " runs the Simple protocol only";
        continue;
      }
      if (IsP2p() != (algo == Algorithm::kDirect)) {
        cost.why_not = IsP2p() ? "point-to-point operations run as direct transfers"
                               : "direct transfers run all-to-all, all-to-all-v and send/recv";
        continue;
      }
      switch (algo) {
        case Algorithm::kRing:
          cost = (ctx_.op == CollectiveOp::kBroadcast || ctx_.op == CollectiveOp::kReduce)
                     ? internal::ChainCost(ctx_, proto)
                     : internal::RingCost(ctx_, proto);
          break;
        case Algorithm::kTree:
          cost = internal::TreeCost(ctx_, proto);
          break;
        case Algorithm::kNvls:
        case Algorithm::kNvlsTree:
          cost = internal::NvlsCost(ctx_, algo);
          break;
        case Algorithm::kPat:
          if (!params_.tuner.pat_available) {
            cost.why_not = "PAT arrived in NCCL 2.23 (this run models NCCL " + params_.nccl_version.ToString() + ")";
          } else {
            cost = internal::PatCost(ctx_);
          }
          break;
        case Algorithm::kDirect:
          if (proto == Protocol::kLL128) {
            cost.why_not = "point-to-point runs LL or Simple";
          } else {
            cost = internal::DirectCost(ctx_, proto);
          }
          break;
      }
    }
  }
}

int PreparedCollective::channels(Algorithm a) const {
  const int index = NcclAlgoIndex(a);
  if (index < 0) return std::max(1, params_.p2p_peers_in_flight);
  // NVLS runs nvlsChannels CTAs (NVLS_NCHANNELS), not its graph's channels (one per head).
  if (a == Algorithm::kNvls || a == Algorithm::kNvlsTree) {
    return params_.NvlsChannels(group_->arch().generation, group_->nodes() > 1);
  }
  return tuning_->input().graphs[static_cast<size_t>(index)].channels;
}

const internal::P2pChannelPlan* PreparedCollective::p2p_channels() const {
  const internal::AlgorithmCost& c = CostOf({Algorithm::kDirect, Protocol::kSimple});
  return c.usable && c.p2p_channels ? &c.p2p_channels->plan : nullptr;
}

const internal::P2pNetWindow* PreparedCollective::p2p_net_window() const {
  const internal::AlgorithmCost& c = CostOf({Algorithm::kDirect, Protocol::kSimple});
  return c.usable && c.p2p_net_window && !c.p2p_net_window->pairs.empty() ? c.p2p_net_window.get() : nullptr;
}

bool PreparedCollective::Usable(CollectiveChoice c) const { return CostOf(c).usable; }

std::string PreparedCollective::WhyNot(CollectiveChoice c) const { return CostOf(c).why_not; }

Time PreparedCollective::Cost(CollectiveChoice c, double bytes) const {
  WIRESIM_CHECK(Usable(c)) << ToString(c.algorithm) << "/" << ToString(c.protocol) << ": " << WhyNot(c);
  const Time alone = group_->ranks() == 1 ? params_.launch_overhead : params_.launch_overhead + CostOf(c).Of(bytes);
  return std::max(alone, params_.call_interval);
}

Time PreparedCollective::CostRanksApart(CollectiveChoice c, double bytes) const {
  const internal::AlgorithmCost& shared = CostOf(c);
  if (shared.skipped_copy_seconds_per_byte == 0) return Cost(c, bytes);
  internal::AlgorithmCost apart = shared;
  apart.seconds_per_byte += apart.skipped_copy_seconds_per_byte;
  apart.skipped_copy_seconds_per_byte = 0;
  return std::max(params_.launch_overhead + apart.Of(bytes), params_.call_interval);
}

Result<CollectiveChoice> PreparedCollective::Choose(double bytes, const AlgorithmFilter& filter) const {
  if (IsP2p()) {
    // NCCL sends a peer's bytes with LL up to NCCL_P2P_LL_THRESHOLD (16 KiB), Simple above.
    const int n = group_->ranks();
    const double per_peer = ctx_.op == CollectiveOp::kAllToAll ? bytes / std::max(1, n) : bytes;
    const Protocol preferred = per_peer <= 16384 ? Protocol::kLL : Protocol::kSimple;
    for (Protocol p : {preferred, preferred == Protocol::kLL ? Protocol::kSimple : Protocol::kLL}) {
      if (filter.allows(p) && Usable({Algorithm::kDirect, p})) return CollectiveChoice{Algorithm::kDirect, p};
    }
    return InvalidArgument(std::string(ToString(ctx_.op)) + " runs as direct transfers with LL or Simple");
  }
  // NCCL's order: Tree, Ring, NVLS, NVLSTree, PAT; the first of equal times wins.
  const Algorithm order[] = {Algorithm::kTree, Algorithm::kRing, Algorithm::kNvls, Algorithm::kNvlsTree,
                             Algorithm::kPat};
  double best = kInf;
  CollectiveChoice chosen;
  std::string reasons;
  for (Algorithm a : order) {
    if (!filter.allows(a)) continue;
    for (int pi = 0; pi < kProtocolCount; ++pi) {
      const Protocol p = static_cast<Protocol>(pi);
      if (!filter.allows(p)) continue;
      const CollectiveChoice c{a, p};
      if (!Usable(c)) {
        if (!WhyNot(c).empty() && reasons.find(WhyNot(c)) == std::string::npos) reasons += "; " + WhyNot(c);
        continue;
      }
      const double t = tuning_->TimeUs(ctx_.op, a, p, bytes);
      if (t < 0) {
        const std::string why =
            std::string(ToString(a)) + "/" + std::string(ToString(p)) + " is not enabled by NCCL's tuning here";
        if (reasons.find(why) == std::string::npos) reasons += "; " + why;
        continue;
      }
      if (t < best) {
        best = t;
        chosen = c;
      }
    }
  }
  if (!std::isfinite(best)) {
    return InvalidArgument("no algorithm and protocol allowed can run " + std::string(ToString(ctx_.op)) +
                           " on this group" + (reasons.empty() ? "" : " (" + reasons.substr(2) + ")"));
  }
  return chosen;
}

Result<Prediction> PreparedCollective::Predict(double bytes, const AlgorithmFilter& filter) const {
  WIRESIM_ASSIGN_OR_RETURN(CollectiveChoice c, Choose(bytes, filter));
  Prediction p;
  p.choice = c;
  p.time = Cost(c, bytes);
  p.channels = channels(c.algorithm);
  if (!IsP2p()) p.nccl_model_us = tuning_->TimeUs(ctx_.op, c.algorithm, c.protocol, bytes);
  return p;
}

Result<CollectiveSchedule> PreparedCollective::Expand(CollectiveChoice c, double bytes, size_t max_transfers) {
  if (!Usable(c)) {
    return InvalidArgument(std::string(ToString(c.algorithm)) + "/" + std::string(ToString(c.protocol)) +
                           " cannot run here: " + WhyNot(c));
  }
  CollectiveGroup& g = *group_;
  const double n = g.ranks();
  const double groups = g.channel_groups();
  double estimate = 0;
  switch (c.algorithm) {
    case Algorithm::kRing:
      if (ctx_.op == CollectiveOp::kBroadcast || ctx_.op == CollectiveOp::kReduce) {
        const double chunk = CostOf(c).chunk_bytes;
        estimate = groups * (n - 1) * (chunk > 0 ? std::ceil(bytes / groups / chunk) : 1);
      } else {
        estimate = groups * n * 2;  // implicit: one transfer and one copy per ring edge, whatever the steps
      }
      break;
    case Algorithm::kDirect:
      estimate = n * n;
      break;
    default:
      estimate = 8 * n * groups + n * std::log2(n + 1);
  }
  if (estimate > static_cast<double>(max_transfers)) {
    return FailedPrecondition("expanding " + std::string(ToString(ctx_.op)) + " over " + std::to_string(g.ranks()) +
                              " GPUs would take about " + std::to_string(static_cast<int64_t>(estimate)) +
                              " transfers (limit " + std::to_string(max_transfers) + "); use the closed form");
  }
  CollectiveSchedule s;
  s.start_delay = params_.launch_overhead;
  if (g.ranks() == 1) return s;
  // A message too small for every channel moves more slowly (AlgorithmCost::LaneFactor); the transfers below run at
  // full width, so the difference waits before them.
  s.start_delay += CostOf(c).LaneDelay(bytes);
  switch (c.algorithm) {
    case Algorithm::kRing:
      if (ctx_.op == CollectiveOp::kBroadcast || ctx_.op == CollectiveOp::kReduce) {
        internal::ChainExpand(ctx_, c.protocol, bytes, &s);
      } else {
        internal::RingExpand(ctx_, c.protocol, bytes, &s);
      }
      break;
    case Algorithm::kTree:
      internal::TreeExpand(ctx_, c.protocol, bytes, &s);
      break;
    case Algorithm::kNvls:
    case Algorithm::kNvlsTree:
      internal::NvlsExpand(ctx_, c.algorithm, bytes, &s);
      break;
    case Algorithm::kPat:
      internal::PatExpand(ctx_, bytes, &s);
      break;
    case Algorithm::kDirect:
      internal::DirectExpand(ctx_, c.protocol, bytes, CostOf(c).p2p_channels.get(), &s);
      break;
  }
  return s;
}

}  // namespace wiresim
