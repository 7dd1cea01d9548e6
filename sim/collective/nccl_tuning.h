// NCCL's own cost model (src/graph/tuning.cc, NCCL 2.30.7), which NCCL uses to choose an algorithm and protocol
// for every call: a latency and a bandwidth per (collective, algorithm, protocol), from per-channel bandwidths its
// topology search finds and constant tables. wiresim uses it the way NCCL does, to choose; the time it predicts
// comes from the algorithms' own costs on the topology (collective_model.h). Constants are verbatim from
// ../shared/refdata/nccl_tuning_model_constants.md; calibration may replace them (plain struct).
//
//   NcclTuningInput in = ...;                      // ranks, nodes, GPU generation, per-algorithm graphs
//   NcclTuningModel model(NcclTunerConstants::Defaults(), in);
//   double us = model.TimeUs(CollectiveOp::kAllReduce, Algorithm::kRing, Protocol::kLL, 1 << 20);  // < 0: unusable
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "sim/collective/algorithm.h"
#include "sim/collective/collective_op.h"
#include "sim/core/status.h"

namespace wiresim {

// Index order of NCCL's tables.
enum NcclAlgo { kNcclTree = 0, kNcclRing, kNcclCollNetDirect, kNcclCollNetChain, kNcclNvls, kNcclNvlsTree, kNcclPat };
inline constexpr int kNcclAlgos = 7;
enum NcclHw { kNcclHwNvlink = 0, kNcclHwPci, kNcclHwNet };

// An NCCL release, 2.18 to 2.30 (the versions whose tuning wiresim knows; docs/collectives.md section 6 lists
// what differs between them). The patch level is kept for provenance; the constants change with the minor version.
struct NcclVersion {
  int major = 2;
  int minor = 30;
  int patch = 7;
  static constexpr int kOldestMinor = 18;
  static constexpr int kNewestMinor = 30;
  static NcclVersion Newest() { return NcclVersion(); }
  std::string ToString() const;  // "2.30.7"; "2.18" when no patch was given (patch < 0)
  friend bool operator==(const NcclVersion&, const NcclVersion&) = default;
};
// "2.18", "2.18.3" or "2.18.3-1"; an error says what was expected.
Result<NcclVersion> ParseNcclVersion(std::string_view text);

struct NcclTunerConstants {
  using PerProto = std::array<double, 3>;  // LL, LL128, Simple
  std::array<PerProto, kNcclAlgos> base_latency_us{};
  std::array<std::array<PerProto, kNcclAlgos>, 3> hw_latency_us{};  // [NVLINK, PCI, NET][algo][proto]
  std::array<std::array<double, 3>, 4> ll_max_bw{};                 // [gen or CPU row][N1, N2, N4+]
  std::array<std::array<double, 3>, 4> per_ch_max_ring_ll128_bw{};
  std::array<std::array<double, 3>, 4> per_ch_max_tree_ll128_bw{};
  std::array<std::array<double, 3>, 4> per_ch_max_tree_bw{};
  std::array<std::array<double, 3>, 4> per_ch_max_nvls_tree_bw{};
  std::array<double, 4> nvls_efficiency{};                  // [Volta, Ampere, Hopper, Blackwell]
  std::array<std::array<double, 24>, 3> tree_correction{};  // [proto][log2(bytes / 64)]
  double net_overhead_us = 1.0;                             // getNetOverhead(): 1 us on Intel x86 hosts, 2 us on AMD
  bool amd_cpu = false;                                     // selects the multi-node llMaxBw row

  // Formulas of ncclTopoTuneModel that changed between versions (2.30.7's by default).
  // Ring LL's payload fraction: 0.5 from 2.21; up to 2.20 1/4 for all-reduce, reduce and anything across nodes,
  // 1/3 otherwise (ring_ll_legacy).
  bool ring_ll_legacy = false;
  // Ring LL128 with one GPU per node: x 0.7 up to 2.22 (0.92 like the others from 2.23).
  double ring_ll128_one_per_node = 0.92;
  // PAT exists from 2.23; its derating: 0.85 in 2.23, 0.75 from 2.24.
  bool pat_available = true;
  double pat_factor = 0.75;
  // NVLS and NVLSTree bandwidth: up to 2.27 the graph's channels x bandwidth x 5/6 (NVLSTree x 0.7 nodes /
  // (2 (nodes - 1)) in 2.18); from 2.28 the NVLink rate x nvlsEfficiency, per ncclTopoTuneModel's NVLS branch.
  bool nvls_legacy_bw = false;
  bool nvls_tree_ratio_2_18 = false;

  // NCCL 2.30.7's ncclTunerConstantsDefaults and friends.
  static NcclTunerConstants Defaults();
  // The constants and formulas of `v` (src/graph/tuning.cc at that release): Defaults() with what differs.
  static NcclTunerConstants ForVersion(NcclVersion v);
};

// What NCCL's topology search would report for one algorithm's graph.
struct NcclGraph {
  int channels = 0;
  double bw_intra_GBps = 0;  // per channel
  double bw_inter_GBps = 0;  // per channel
  bool nvlink_intra = true;  // typeIntra is NVLink (else the PCI latency row)
  double latency_inter_us = 0;
  bool same_channels = true;
  bool tree_pattern = false;  // NCCL_TOPO_PATTERN_TREE (the 0.85 derating); balanced trees otherwise
};

struct NcclTuningInput {
  int ranks = 1;
  int nodes = 1;
  int sm = 80;       // compute capability x 10
  int nccl_gen = 1;  // compCapIndex (GpuArch::nccl_index)
  std::array<NcclGraph, kNcclAlgos> graphs{};
  bool nvls_supported = false;
  bool pat_enabled = false;
  bool ll128_enabled = true;
};

class NcclTuningModel {
 public:
  NcclTuningModel(const NcclTunerConstants& constants, const NcclTuningInput& input);

  // NCCL's modelled latency (us) and algorithm bandwidth (GB/s) for a rooted or reducing collective
  // (broadcast, reduce, all-gather, reduce-scatter, all-reduce); bandwidth 0 when NCCL would not use it.
  double LatencyUs(CollectiveOp op, Algorithm a, Protocol p) const;
  double BandwidthGBps(CollectiveOp op, Algorithm a, Protocol p) const;

  // ncclTopoGetAlgoTime for `bytes` (as NCCL counts them: the per-rank buffer, or the total for all-gather and
  // reduce-scatter); negative when the combination is unusable (not modelled, disabled, or not applicable).
  double TimeUs(CollectiveOp op, Algorithm a, Protocol p, double bytes) const;

  const NcclTuningInput& input() const { return input_; }

 private:
  static int FuncIndex(CollectiveOp op);  // -1 for ops NCCL does not tune (all-to-all, send/recv)
  void Compute(const NcclTunerConstants& c);

  NcclTuningInput input_;
  std::array<std::array<double, 24>, 3> tree_correction_{};
  // [func][algo][proto], funcs in NCCL order: Broadcast, Reduce, AllGather, ReduceScatter, AllReduce.
  std::array<std::array<std::array<double, 3>, kNcclAlgos>, 5> latency_{};
  std::array<std::array<std::array<double, 3>, kNcclAlgos>, 5> bandwidth_{};
};

// Whether NCCL release `v` enables LL128 by default on GPUs of compute capability `sm` (x 10), the architecture part of
// ncclTopoTuneModel's LL128 rule (src/graph/tuning.cc): up to 2.24 only on sm70, sm80 and sm90; 2.25 and 2.26 also
// sm100 and sm120; from 2.27 every GPU from sm70. So sm86 (RTX A6000, RTX 3090) and sm89 (Ada) run LL128 only from
// 2.27, Blackwell only from 2.25. (The rest of the rule, NVLink inside nodes and NICs close to the GPUs, is the
// group's.)
bool NcclLl128ArchEnabled(int sm, NcclVersion v);

// ncclNvlsInit's GPU count rule (src/transport/nvls.cc): NVLS stays off when the communicator has `gpuCount <= 2`
// GPUs on the node (2.18 to 2.28.3; a multi-node NVLink clique of 2 likewise from 2.21) and `gpuCount < 2` from
// 2.28.7. So before 2.28.7 two GPUs of an NVSwitch node never run NVLS, not even when NCCL_ALGO asks for it. A
// release named without its patch ("2.28") is its newest patch.
int NcclNvlsMinGpusPerNode(NcclVersion v);

// Maps wiresim's algorithms onto NCCL's table index (-1 for Direct, which NCCL does not tune).
int NcclAlgoIndex(Algorithm a);

}  // namespace wiresim
