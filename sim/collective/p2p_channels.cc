#include "sim/collective/p2p_channels.h"

#include <algorithm>
#include <cmath>

namespace wiresim::internal {
namespace {

int Pow2Up(int v) {
  int p = 1;
  while (p < v) p <<= 1;
  return p;
}

}  // namespace

P2pChannelPlan PlanP2pChannels(const P2pChannelInputs& in) {
  P2pChannelPlan plan;
  const int ranks = std::max(1, in.ranks);
  plan.channels = Pow2Up(std::max(1, in.comm_channels));
  const int peer = in.fewest_nvlinks > 0 ? 2 * in.fewest_nvlinks : 2;
  plan.per_peer = std::min(plan.channels, Pow2Up(peer));
  plan.min_per_op = plan.per_peer;
  while (plan.min_per_op * ranks > plan.channels && plan.min_per_op > 1) plan.min_per_op /= 2;
  plan.max_per_op = plan.per_peer;
  if (in.version.minor <= 19) {
    while (plan.max_per_op * ranks > 4 * plan.channels && plan.max_per_op > 1) plan.max_per_op /= 2;
  }
  double chunk = in.fewest_nvlinks > 0 ? 512.0 * 1024 : 128.0 * 1024;
  chunk = std::min(chunk, in.simple_buffer_bytes / 8);
  plan.min_part = chunk / 8;
  plan.max_part = chunk * 32;
  plan.aligned_parts = in.version.minor <= 21;
  const bool new_kernel = in.version.minor >= 22;
  const double warps = in.paired ? (new_kernel ? 10 : 9) : (new_kernel ? 20 : 16);
  plan.channel_GBps = in.search_channel_GBps * warps / 16.0;
  return plan;
}

NetPeerWindow PlanNetPeerWindow(const NetPeerInputs& in) {
  NetPeerWindow w;
  const int p2p_channels = Pow2Up(std::max(1, in.comm_channels));
  const int nics = std::max(1, in.nics);
  int channels = 2;
  if (in.version.minor >= 29) {
    channels = std::max(nics, static_cast<int>(std::ceil(static_cast<int>(in.nic_GBps) / 14.0)));
  } else if (in.version.minor >= 20) {
    int most = 2;
    while (most * std::max(1, in.ranks) > 4 * p2p_channels && most > 1) most /= 2;
    channels = std::max(nics, most);
  }
  w.channels = std::min(p2p_channels, Pow2Up(std::max(1, channels)));
  const double ratio = in.version.minor >= 29 && in.arm_sm100 ? 2 : 1;
  w.chunk_bytes = std::min(ratio * 128.0 * 1024, in.simple_buffer_bytes / 8);
  return w;
}

int P2pChannelPlan::Used(double bytes) const {
  if (bytes <= 0 || min_per_op < 1 || min_part <= 0) return 0;
  if (aligned_parts) {
    // calcP2pChunkSize: a part of max(least, bytes / nChannelsMin), doubled channels while over the most, rounded up
    // to a multiple of the least; the operation is that many parts, one per channel.
    int n = min_per_op;
    double part = std::max(min_part, std::ceil(bytes / n));
    while (part > max_part && n <= max_per_op / 2) {
      n *= 2;
      part = std::ceil(bytes / n);
    }
    part = std::ceil(part / min_part) * min_part;
    return static_cast<int>(std::min<double>(per_peer, std::ceil(bytes / part)));
  }
  int n = static_cast<int>(std::min<double>(min_per_op, std::ceil(bytes / min_part)));
  double part = std::max(min_part, std::ceil(bytes / n));
  while (part > max_part && n <= max_per_op / 2) {
    n *= 2;
    part = std::ceil(bytes / n);
  }
  return n;
}

double P2pChannelPlan::Seconds(const std::vector<double>& shares, double bytes) const {
  double total = 0;
  int used = 0;
  for (double share : shares) {
    const double b = share * bytes;
    if (b <= 0) continue;
    total += b;
    used += Used(b);
  }
  if (total <= 0 || channel_GBps <= 0) return 0;
  used = std::clamp(used, 1, channels);
  return total / (used * channel_GBps * 1e9);
}

}  // namespace wiresim::internal
