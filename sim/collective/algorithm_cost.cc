// The pieces every algorithm's cost shares: link loads, step latencies, protocol efficiencies.
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "sim/collective/algorithms.h"

namespace wiresim::internal {

namespace {

// The data-moving time of a full-width run: bytes over the bottleneck plus the pipeline's fill.
double FullWidthSeconds(const AlgorithmCost& c, double bytes) {
  double seconds = bytes * c.seconds_per_byte;
  if (c.fill_seconds_per_byte > 0 && c.chunk_bytes > 0 && bytes > 0) {
    const double per_group = bytes * c.group_share;
    const double chunks = std::ceil(per_group / c.chunk_bytes);
    seconds += per_group / chunks * c.fill_seconds_per_byte;
  }
  if (c.nvls_ops > 0 && bytes > 0) seconds += NvlsPipelineSeconds(c, bytes);
  if (c.p2p_channels) seconds = std::max(seconds, c.p2p_channels->Seconds(bytes, seconds));
  if (c.p2p_net_window) seconds = std::max(seconds, c.p2p_net_window->Seconds(bytes));
  return seconds;
}

}  // namespace

void P2pNetWindow::Add(const Pair& pair) {
  for (Pair& p : pairs) {
    if (p.seconds_per_byte == pair.seconds_per_byte && p.step_seconds == pair.step_seconds &&
        p.window_bytes == pair.window_bytes) {
      p.share = std::max(p.share, pair.share);
      return;
    }
  }
  pairs.push_back(pair);
}

double P2pNetWindow::Pair::Seconds(double bytes) const {
  return bytes * seconds_per_byte + step_seconds * (bytes / window_bytes - 1);
}

double P2pNetWindow::Seconds(double bytes) const {
  double worst = 0;
  for (const Pair& p : pairs) {
    const double b = p.share * bytes;
    if (p.window_bytes <= 0 || b <= p.window_bytes) continue;
    worst = std::max(worst, p.Seconds(b));
  }
  return worst;
}

double P2pNetWindow::CapGBps(const Pair& pair, double bytes) {
  if (pair.window_bytes <= 0 || bytes <= pair.window_bytes) return std::numeric_limits<double>::infinity();
  return bytes / pair.Seconds(bytes) / 1e9;
}

void P2pChannelCap::Finish() {
  bound_seconds_per_byte = 0;
  if (plan.channel_GBps <= 0) return;
  for (const std::vector<double>& row : shares) {
    double total = 0;
    for (double share : row) total += share;
    const double channels = std::clamp(static_cast<int>(row.size()), 1, std::max(1, plan.channels));
    bound_seconds_per_byte = std::max(bound_seconds_per_byte, total / (channels * plan.channel_GBps * 1e9));
  }
}

double P2pChannelCap::Seconds(double bytes, double floor) const {
  if (bytes <= 0 || bytes * bound_seconds_per_byte <= floor) return 0;
  double worst = 0;
  for (const std::vector<double>& row : shares) worst = std::max(worst, plan.Seconds(row, bytes));
  return worst;
}

double NvlsChunkBytes(double bytes, double ops, double first, bool tree) {
  double chunk = first;
  if (!tree) {
    if (bytes < 64 * ops * chunk && chunk > 65536) chunk = 65536;
    if (bytes < 8 * ops * chunk && chunk > 32768) chunk = 32768;
    if (bytes < 2 * ops * chunk && chunk > 16384) chunk = 16384;
  } else {
    if (bytes < 32 * ops * chunk && chunk > 262144) chunk = 262144;
    if (bytes < 16 * ops * chunk && chunk > 131072) chunk = 131072;
    if (bytes < 4 * ops * chunk && chunk > 65536) chunk = 65536;
    if (bytes < 1 * ops * chunk && chunk > 32768) chunk = 32768;
  }
  return chunk;
}

double NvlsPipelineSeconds(const AlgorithmCost& c, double bytes) {
  if (c.nvls_ops <= 0 || bytes <= 0) return 0;
  const double step_bytes = c.nvls_ops * NvlsChunkBytes(bytes, c.nvls_ops, c.nvls_first_chunk, c.nvls_tree);
  if (c.nvls_tree) {
    return std::ceil(bytes / step_bytes) * c.step_sync_seconds +
           std::min(bytes, step_bytes) * c.nvls_fill_seconds_per_byte;
  }
  // A step of b bytes through the switch: its synchronisation and b at the NVLink's raw pace, or b at the switch's
  // sustained pace, whichever is longer (the steps in flight overlap one another's synchronisation).
  const auto step = [&](double b) {
    return std::max(c.step_sync_seconds + b * c.nvls_step_seconds_per_byte, b * c.nvls_switch_seconds_per_byte);
  };
  const double full = std::floor(bytes / step_bytes);
  const double rest = bytes - full * step_bytes;
  const double paced = full * step(step_bytes) + (rest > 0 ? step(rest) : 0.0);
  // What the steps take beyond the links' time, and the fill.
  return std::max(0.0, paced - bytes * c.seconds_per_byte) + c.nvls_copy_fill_steps * step(std::min(bytes, step_bytes));
}

Time AlgorithmCost::Of(double bytes) const {
  return latency + Time::FromSecondsCeil(FullWidthSeconds(*this, bytes) * LaneFactor(bytes));
}

double AlgorithmCost::LaneFactor(double bytes) const {
  if (runtime_channels <= 0) return 1;
  // ncclTuningGetChannels: drop channels while the message is smaller than channels x threads x threshold, then
  // (rings) halve the threads while a multiple of 128; a warp-multiple floor of 3 warps.
  int nc = runtime_channels;
  int nt = max_threads;
  while (bytes < nc * nt * thread_threshold && nc >= 2) --nc;
  if (reduce_threads) {
    while (bytes < nc * nt * thread_threshold && nt % 128 == 0) nt /= 2;
    nt = std::max(nt, 3 * 32);
  }
  const double lanes = nc * static_cast<double>(std::min(nt, max_threads)) / max_threads;
  return std::max(1.0, full_speed_lanes / lanes);
}

Time AlgorithmCost::LaneDelay(double bytes) const {
  const double full = FullWidthSeconds(*this, bytes);
  return Time::FromSecondsCeil(full * LaneFactor(bytes)) - Time::FromSecondsCeil(full);
}

namespace {

// Zeroed per-link buffers for LinkLoads, reused by the thread that made them.
std::vector<std::vector<double>>& FreeLinkBuffers() {
  thread_local std::vector<std::vector<double>> free;
  return free;
}

}  // namespace

LinkLoads::LinkLoads(const Topology& topo) : topo_(topo) {
  auto& free = FreeLinkBuffers();
  if (!free.empty()) {
    seconds_ = std::move(free.back());
    free.pop_back();
  }
  seconds_.resize(static_cast<size_t>(topo.link_count()), 0.0);  // zero wherever it grows
}

LinkLoads::LinkLoads(LinkLoads&& other) noexcept
    : topo_(other.topo_),
      seconds_(std::exchange(other.seconds_, {})),
      touched_(std::exchange(other.touched_, {})),
      cap_seconds_(other.cap_seconds_) {}

LinkLoads::~LinkLoads() {
  if (seconds_.empty()) return;  // moved from (or a topology without links)
  Clear();
  FreeLinkBuffers().push_back(std::move(seconds_));
}

void LinkLoads::Add(const Route* route, double bytes, const LinkEfficiency& efficiency, double cap_GBps) {
  if (bytes <= 0) return;
  if (std::isfinite(cap_GBps)) cap_seconds_ = std::max(cap_seconds_, bytes / (cap_GBps * 1e9));
  if (route == nullptr) return;
  for (const RouteHop& h : route->hops) {
    const Link& link = topo_.link(h.link);
    const size_t i = static_cast<size_t>(h.link);
    if (seconds_[i] == 0) touched_.push_back(h.link);
    seconds_[i] += bytes * h.share / (link.capacity_GBps * 1e9 * efficiency.of(link.kind));
  }
}

double LinkLoads::Seconds() const {
  double s = cap_seconds_;
  for (LinkId l : touched_) s = std::max(s, seconds_[static_cast<size_t>(l)]);
  return s;
}

double LinkLoads::SecondsOn(const Route& route) const {
  double s = 0;
  for (const RouteHop& h : route.hops) s = std::max(s, seconds_[static_cast<size_t>(h.link)]);
  return s;
}

void LinkLoads::Clear() {
  for (LinkId l : touched_) seconds_[static_cast<size_t>(l)] = 0;
  touched_.clear();
  cap_seconds_ = 0;
}

void ShareLinksWithinWave(const Topology& topo, const std::vector<uint32_t>& wave, CollectiveSchedule* out) {
  LinkLoads loads(topo);
  const double inf = std::numeric_limits<double>::infinity();
  for (uint32_t i : wave) {
    const ScheduledTransfer& t = out->transfers[i];
    loads.Add(t.route, t.bytes, out->efficiencies[t.efficiency], inf);
  }
  for (uint32_t i : wave) {
    ScheduledTransfer& t = out->transfers[i];
    if (t.route == nullptr || t.bytes <= 0) continue;
    const double seconds = loads.SecondsOn(*t.route);
    if (seconds <= 0) continue;
    const double shared_GBps = t.bytes / seconds / 1e9;
    t.max_rate_GBps = t.max_rate_GBps > 0 ? std::min(t.max_rate_GBps, shared_GBps) : shared_GBps;
  }
}

namespace {

int HwClass(const Topology& topo, const Route& route) {
  bool nvlink_only = true;
  for (const RouteHop& h : route.hops) {
    const LinkKind k = topo.link(h.link).kind;
    if (IsNetworkLink(k)) return kNcclHwNet;
    if (k != LinkKind::kNvLink && k != LinkKind::kC2C) nvlink_only = false;
  }
  return nvlink_only ? kNcclHwNvlink : kNcclHwPci;
}

}  // namespace

Time StepLatency(const CollectiveGroup& group, const CollectiveParams& params, const Route& route, Algorithm a,
                 Protocol p, bool ring_intra_multi_node, bool one_per_node) {
  const int hw = HwClass(group.topology(), route);
  int algo = NcclAlgoIndex(a);
  if (algo < 0) algo = kNcclRing;  // point to point: the ring's per-step figures
  if (hw == kNcclHwNet && one_per_node) algo = kNcclTree;
  const auto& table = params.tuner.hw_latency_us[static_cast<size_t>(hw)];
  const double value = table[static_cast<size_t>(algo)][static_cast<size_t>(p)];
  const double baseline = table[kNcclRing][0];  // Ring/LL: what the topology's link latencies reproduce
  Time t = route.latency + Time::FromMicroseconds(std::max(0.0, value - baseline));
  if (hw == kNcclHwNvlink && group.arch().sm == 80) {
    t = Time::FromSecondsCeil(t.ToSeconds() * params.sm80_nvlink_step_factor[static_cast<size_t>(p)]);
  }
  if (ring_intra_multi_node) {
    const double overhead = params.tuner.net_overhead_us * (p == Protocol::kSimple ? 3 : 1);
    t = std::max(t, Time::FromMicroseconds(overhead));
  }
  return t;
}

void SetLanes(const AlgorithmContext& ctx, Algorithm a, Protocol p, AlgorithmCost* cost) {
  const size_t pi = static_cast<size_t>(p);
  cost->runtime_channels = std::min(ctx.params.max_channels, 2 * ctx.ring_channels);
  cost->full_speed_lanes = ctx.ring_channels;
  cost->max_threads = ctx.params.max_threads[pi];
  cost->thread_threshold = ctx.params.thread_threshold[pi];
  // Rings (and the chains broadcast and reduce run on them) scale LL's threshold by the ranks.
  if (a == Algorithm::kRing && p == Protocol::kLL) cost->thread_threshold *= ctx.group.ranks();
  cost->reduce_threads = a != Algorithm::kTree;
}

LinkEfficiency TransferEfficiency(const CollectiveGroup& group, const CollectiveParams& params, Algorithm a,
                                  Protocol p) {
  const LinkEfficiency kernel = params.KernelEfficiency(group.arch().generation);
  double factor = 1.0;
  switch (a) {
    case Algorithm::kRing:
      factor = p == Protocol::kLL ? params.ring_ll : p == Protocol::kLL128 ? params.ring_ll128 : 1.0;
      break;
    case Algorithm::kTree:
      factor = p == Protocol::kLL      ? params.tree_ll
               : p == Protocol::kLL128 ? (group.nodes() == 1 ? params.tree_ll128_one_node : params.tree_ll128)
                                       : params.tree_simple;
      break;
    case Algorithm::kPat:
      factor = params.pat;
      break;
    case Algorithm::kDirect:
      factor = params.p2p_efficiency * (p == Protocol::kLL ? params.ring_ll : 1.0);
      break;
    case Algorithm::kNvls:
    case Algorithm::kNvlsTree: {
      LinkEfficiency e = kernel;
      e.set(LinkKind::kNvLink,
            kernel.of(LinkKind::kNvLink) * params.nvls_efficiency[static_cast<size_t>(group.arch().generation)]);
      return e;
    }
  }
  return kernel.Scaled(factor);
}

}  // namespace wiresim::internal
