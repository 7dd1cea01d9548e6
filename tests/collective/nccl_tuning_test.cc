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

TEST_CASE("a forced ring across two Hopper nodes: NCCL's model ranks LL128 first from 1 to 128 MiB") {
  // Two DGX H100 nodes, 16 ranks: 16 ring channels of 24 GB/s (8 NICs, 48 GB/s each in NCCL's speed array, doubled
  // at half speed). Two nodes read bwIntra and the 2-node rows (index2 = 1).
  NcclTuningInput in = OneHopperNode();
  in.ranks = 16;
  in.nodes = 2;
  NcclGraph ring;
  ring.channels = 16;
  ring.bw_intra_GBps = ring.bw_inter_GBps = 24;
  in.graphs[kNcclRing] = ring;
  for (const NcclVersion v : {NcclVersion{2, 26, 2}, NcclVersion::Newest(), NcclVersion{2, 18, 3}}) {
    INFO(v.ToString());
    const NcclTuningModel m(NcclTunerConstants::ForVersion(v), in);
    const auto ring_time = [&](Protocol p, double bytes) {
      return m.TimeUs(CollectiveOp::kAllReduce, Algorithm::kRing, p, bytes);
    };
    // LL128: min(16 x 24 x 0.92, 16 x 36.7) x 16/30 = 188.416 GB/s; 14 + 28 x max(1.9, net overhead 1) + 2 x 4.0
    // = 75.2 us. Simple: 384 x 16/30 = 204.8 GB/s; (8.4 + 28 x 3.4 + 2 x 14) x 1.4 = 184.24 us. LL: the 2-node
    // llMaxBws row (Intel CPUs) 39 GB/s x 16/30 = 20.8; 6.6 + 28 x 1.0 + 2 x 2.7 = 40.0 us (2.18-2.20 rate LL at
    // min(39, 384 / 4) the same). LL128 and Simple cross at 109.04 / (1/188416 - 1/204800) = 256.8e6 bytes, LL and
    // LL128 at 35.2 / (1/20800 - 1/188416) = 823e3 bytes.
    CHECK(ring_time(Protocol::kLL128, 1 << 20) == Approx(75.2 + (1 << 20) / 188416.0));
    CHECK(ring_time(Protocol::kSimple, 1 << 20) == Approx(184.24 + (1 << 20) / 204800.0));
    CHECK(ring_time(Protocol::kLL, 1 << 19) == Approx(40.0 + (1 << 19) / 20800.0));
    CHECK(ring_time(Protocol::kLL, 1 << 19) < ring_time(Protocol::kLL128, 1 << 19));
    for (double mib = 1; mib <= 128; mib *= 2) {
      INFO(mib << " MiB");
      CHECK(ring_time(Protocol::kLL128, mib * (1 << 20)) < ring_time(Protocol::kSimple, mib * (1 << 20)));
      CHECK(ring_time(Protocol::kLL128, mib * (1 << 20)) < ring_time(Protocol::kLL, mib * (1 << 20)));
    }
    CHECK(ring_time(Protocol::kSimple, 256.0 * (1 << 20)) < ring_time(Protocol::kLL128, 256.0 * (1 << 20)));
  }
}

TEST_CASE("LL128 by default on the GPU generations each release enables it for") {
  // ncclTopoTuneModel's LL128 rule (src/graph/tuning.cc): a switch on the compute capability up to 2.26 (70, 80, 90;
  // 100 and 120 from 2.25), every GPU from sm70 from 2.27.
  CHECK(NcclLl128ArchEnabled(80, NcclVersion{2, 18, 3}));
  CHECK(NcclLl128ArchEnabled(90, NcclVersion{2, 26, 2}));
  CHECK_FALSE(NcclLl128ArchEnabled(86, NcclVersion{2, 26, 2}));  // RTX A6000 bridges: no case 86
  CHECK(NcclLl128ArchEnabled(86, NcclVersion{2, 27, 7}));
  CHECK_FALSE(NcclLl128ArchEnabled(89, NcclVersion{2, 21, 5}));
  CHECK_FALSE(NcclLl128ArchEnabled(100, NcclVersion{2, 24, 3}));  // Blackwell: case 100 from 2.25
  CHECK(NcclLl128ArchEnabled(100, NcclVersion{2, 25, 1}));
  CHECK_FALSE(NcclLl128ArchEnabled(60, NcclVersion::Newest()));
}

}  // namespace
}  // namespace wiresim
