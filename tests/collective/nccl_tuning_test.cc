// NCCL's tuning model, pinned to numbers worked out by hand from its constants
// (../shared/refdata/nccl_tuning_model_constants.md, NCCL 2.30.7 tuning.cc).
#include "sim/collective/nccl_tuning.h"

#include <algorithm>

#include <catch2/catch.hpp>

namespace wiresim {
namespace {

// One node of 8 Hopper GPUs on NVLink: a ring graph of 12 channels at 30 GB/s, NVLS with 16 channels of
// 370.8 / 16 GB/s.
NcclTuningInput OneHopperNode() {
  NcclTuningInput in;
  in.ranks = 8;
  in.nodes = 1;
  in.sm = 90;
  in.nccl_gen = 2;
  NcclGraph ring;
  ring.channels = 12;
  ring.bw_intra_GBps = ring.bw_inter_GBps = 30;
  in.graphs[kNcclRing] = in.graphs[kNcclTree] = ring;
  NcclGraph nvls;
  nvls.channels = 16;
  nvls.bw_intra_GBps = nvls.bw_inter_GBps = 370.8 / 16;
  in.graphs[kNcclNvls] = in.graphs[kNcclNvlsTree] = nvls;
  in.nvls_supported = true;
  return in;
}

TEST_CASE("ring LL on one Hopper node") {
  const NcclTuningModel m(NcclTunerConstants::Defaults(), OneHopperNode());
  // busBw = min(llMaxBw[Hopper][N1] = 141, 12 x 30 x 0.5 = 180) = 141; algBw = 141 x 8 / 14.
  CHECK(m.BandwidthGBps(CollectiveOp::kAllReduce, Algorithm::kRing, Protocol::kLL) == Approx(141.0 * 8 / 14));
  // latency = baseLat 6.6 + 2(n-1) = 14 steps x NVLink Ring/LL 0.6 = 15.0 us.
  CHECK(m.LatencyUs(CollectiveOp::kAllReduce, Algorithm::kRing, Protocol::kLL) == Approx(15.0));
  // time(1 MiB) = 15 + 1048576 / (1000 x 80.571) us.
  CHECK(m.TimeUs(CollectiveOp::kAllReduce, Algorithm::kRing, Protocol::kLL, 1048576) ==
        Approx(15.0 + 1048576 / (1000 * 141.0 * 8 / 14)));
}

TEST_CASE("ring LL128 and Simple on one Hopper node") {
  const NcclTuningModel m(NcclTunerConstants::Defaults(), OneHopperNode());
  // LL128: min(360 x 0.92 = 331.2, 12 x 36.7 = 440.4) x 8/14; latency 14.0 + 14 x 1.9 = 40.6.
  CHECK(m.BandwidthGBps(CollectiveOp::kAllReduce, Algorithm::kRing, Protocol::kLL128) == Approx(331.2 * 8 / 14));
  CHECK(m.LatencyUs(CollectiveOp::kAllReduce, Algorithm::kRing, Protocol::kLL128) == Approx(40.6));
  // Simple: 360 x 8/14; latency 8.4 + 14 x 3.4 = 56.0. All-gather: n-1 = 7 steps, ratio 8/7.
  CHECK(m.BandwidthGBps(CollectiveOp::kAllReduce, Algorithm::kRing, Protocol::kSimple) == Approx(360.0 * 8 / 14));
  CHECK(m.LatencyUs(CollectiveOp::kAllReduce, Algorithm::kRing, Protocol::kSimple) == Approx(56.0));
  CHECK(m.BandwidthGBps(CollectiveOp::kAllGather, Algorithm::kRing, Protocol::kSimple) == Approx(360.0 * 8 / 7));
  CHECK(m.LatencyUs(CollectiveOp::kAllGather, Algorithm::kRing, Protocol::kSimple) == Approx(8.4 + 7 * 3.4));
}

TEST_CASE("NVLS on one Hopper node") {
  const NcclTuningModel m(NcclTunerConstants::Defaults(), OneHopperNode());
  // Per channel: min(intra 23.175 x nvlsEfficiency 0.85 x 15/16 x 2 (all-reduce) = 36.9, inter 23.175); x 16
  // channels; x 8/14.
  const double per_channel = std::min(370.8 / 16 * 0.85 * 15.0 / 16 * 2, 370.8 / 16);
  CHECK(m.BandwidthGBps(CollectiveOp::kAllReduce, Algorithm::kNvls, Protocol::kSimple) ==
        Approx(16 * per_channel * 8 / 14));
  // NVLS replaces the base latency with the NVLink NVLS figure, 25 us.
  CHECK(m.LatencyUs(CollectiveOp::kAllReduce, Algorithm::kNvls, Protocol::kSimple) == Approx(25.0));
  // NVLS needs Simple, and NVLSTree needs several nodes.
  CHECK(m.TimeUs(CollectiveOp::kAllReduce, Algorithm::kNvls, Protocol::kLL, 1 << 20) < 0);
  CHECK(m.TimeUs(CollectiveOp::kAllReduce, Algorithm::kNvlsTree, Protocol::kSimple, 1 << 20) < 0);
}

TEST_CASE("tree and ring across two nodes") {
  NcclTuningInput in = OneHopperNode();
  in.ranks = 16;
  in.nodes = 2;
  const NcclTuningModel m(NcclTunerConstants::Defaults(), in);
  // Tree/Simple: baseLat 8.4 + 2((16/2 - 1) x 4.0 NVLink + log2(2) x 14 NET) = 92.4 us.
  CHECK(m.LatencyUs(CollectiveOp::kAllReduce, Algorithm::kTree, Protocol::kSimple) == Approx(92.4));
  // Tree bandwidth: min(360 x 0.92, 12 x perChMaxTreeBw[Hopper][N2] 41.4) x 0.5.
  CHECK(m.BandwidthGBps(CollectiveOp::kAllReduce, Algorithm::kTree, Protocol::kSimple) == Approx(331.2 * 0.5));
  // Ring/Simple: 8.4 + (30 - 2) x max(3.4, 3 x 1.0 net overhead) + 2 x 14 = 131.6 us, and x1.4 in the time of a
  // multi-node all-reduce of at least 64 bytes per channel and rank.
  CHECK(m.LatencyUs(CollectiveOp::kAllReduce, Algorithm::kRing, Protocol::kSimple) == Approx(131.6));
  const double bw = m.BandwidthGBps(CollectiveOp::kAllReduce, Algorithm::kRing, Protocol::kSimple);
  CHECK(m.TimeUs(CollectiveOp::kAllReduce, Algorithm::kRing, Protocol::kSimple, 1 << 24) ==
        Approx(131.6 * 1.4 + (1 << 24) / (1000 * bw)));
  // The tree correction factor scales the tree's bandwidth by size: 1 MiB is log2(2^20 / 64) = 14 -> Simple 0.5.
  const double tree_bw = m.BandwidthGBps(CollectiveOp::kAllReduce, Algorithm::kTree, Protocol::kSimple);
  CHECK(m.TimeUs(CollectiveOp::kAllReduce, Algorithm::kTree, Protocol::kSimple, 1 << 20) ==
        Approx(92.4 + (1 << 20) / (1000 * tree_bw * 0.5)));
}

}  // namespace
}  // namespace wiresim
