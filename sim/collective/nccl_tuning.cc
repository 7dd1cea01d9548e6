#include "sim/collective/nccl_tuning.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace wiresim {
namespace {

enum NcclFunc { kBroadcast = 0, kReduce, kAllGather, kReduceScatter, kAllReduce };
constexpr int kLL = 0, kLL128 = 1, kSimple = 2;

int Log2i(int n) {
  int l = 0;
  while (n >>= 1) ++l;
  return l;
}

}  // namespace

NcclTunerConstants NcclTunerConstants::Defaults() {
  NcclTunerConstants c;
  // baseLatencies: Tree, Ring, CollNetDirect, CollNetChain, NVLS, NVLSTree, PAT.
  c.base_latency_us = {
      {{6.8, 14.0, 8.4}, {6.6, 14.0, 8.4}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {8.0, 8.0, 8.0}}};
  // hwLatencies[NVLINK | PCI | NET][algo][proto].
  c.hw_latency_us[kNcclHwNvlink] = {
      {{0.6, 1.25, 4.0}, {0.6, 1.9, 3.4}, {0, 0, 3.7}, {0, 0, 2.8}, {0, 0, 25}, {0, 0, 25}, {0, 0, 4.0}}};
  c.hw_latency_us[kNcclHwPci] = {
      {{1.0, 1.9, 4.0}, {1.0, 2.5, 5.7}, {0, 0, 3.7}, {0, 0, 2.8}, {0, 0, 0}, {0, 0, 0}, {0, 0, 4.0}}};
  c.hw_latency_us[kNcclHwNet] = {
      {{5.0, 8.5, 14}, {2.7, 4.0, 14.0}, {0, 0, 31}, {0, 0, 30}, {0, 0, 18}, {0, 0, 20.9}, {0, 0, 14}}};
  c.ll_max_bw = {{{39.0, 39.0, 20.4}, {87.7, 22.5, 19.0}, {141.0, 45.0, 35.0}, {2 * 141.0, 2 * 45.0, 2 * 35.0}}};
  c.per_ch_max_ring_ll128_bw = {{{20.0, 20.0, 20.0}, {20.0, 20.0, 20.0}, {36.7, 36.7, 36.7}, {40.0, 40.0, 40.0}}};
  c.per_ch_max_tree_ll128_bw = {{{20.0, 20.0, 20.0}, {20.0, 20.0, 20.0}, {36.7, 36.7, 29.0}, {55.6, 31.67, 20.0}}};
  c.per_ch_max_tree_bw = {{{26.5, 18.5, 10.0}, {24.0, 23.6, 17.8}, {38.7, 41.4, 36.0}, {70.0, 42.8, 24.0}}};
  c.per_ch_max_nvls_tree_bw = {{{26.5, 18.5, 10.0}, {24.0, 23.6, 17.8}, {0.0, 57.7, 45.5}, {0.0, 96.0, 80.0}}};
  c.nvls_efficiency = {0.0, 0.0, 0.85, 0.74};
  c.tree_correction = {{
      {1.0, 1.0, 1.0, 1.0, .9, .8, .7, .7, .7, .7, .6, .5, .4, .4, .5, .6, .7, .8, .9, 1.0, 1.0, 1.0, 1.0, 1.0},
      {1.0, 1.0, 1.0, 1.0, 1.0, .9, .8, .8, .8, .7, .6, .6, .6, .6, .6, .6, .8, .9, .9, .9, .9, 1.0, 1.0, 1.0},
      {.9, .9, .9, .9, .9, .9, .9, .8, .7, .6, .6, .5, .5, .5, .5, .6, .7, .8, .7, .7, .8, .9, .9, .9},
  }};
  c.net_overhead_us = 1.0;
  return c;
}

std::string NcclVersion::ToString() const {
  std::string s = std::to_string(major) + "." + std::to_string(minor);
  if (patch >= 0) s += "." + std::to_string(patch);
  return s;
}

Result<NcclVersion> ParseNcclVersion(std::string_view text) {
  const std::string expected = "expected an NCCL version from 2." + std::to_string(NcclVersion::kOldestMinor) +
                               " to 2." + std::to_string(NcclVersion::kNewestMinor) +
                               " such as 2.21 or 2.21.5-1, got '" + std::string(text) + "'";
  std::string_view rest = text;
  const size_t dash = rest.find('-');
  if (dash != std::string_view::npos) {
    const std::string_view build = rest.substr(dash + 1);
    if (build.empty() || build.find_first_not_of("0123456789") != std::string_view::npos) {
      return InvalidArgument(expected);
    }
    rest = rest.substr(0, dash);
  }
  int parts[3] = {-1, -1, -1};
  int count = 0;
  while (!rest.empty()) {
    if (count == 3) return InvalidArgument(expected);
    const size_t dot = rest.find('.');
    const std::string_view part = rest.substr(0, dot);
    if (part.empty() || part.size() > 4 || part.find_first_not_of("0123456789") != std::string_view::npos) {
      return InvalidArgument(expected);
    }
    parts[count++] = std::stoi(std::string(part));
    if (dot == std::string_view::npos) break;
    rest = rest.substr(dot + 1);
    if (rest.empty()) return InvalidArgument(expected);
  }
  if (count < 2 || parts[0] != 2 || parts[1] < NcclVersion::kOldestMinor || parts[1] > NcclVersion::kNewestMinor) {
    return InvalidArgument(expected);
  }
  NcclVersion v;
  v.major = parts[0];
  v.minor = parts[1];
  v.patch = parts[2];
  return v;
}

// What differs from 2.30.7, read release by release from src/graph/tuning.cc (the tables of
// ../shared/refdata/nccl_tuning_model_constants.md section 7 for 2.18.3, 2.21.5 and 2.23.4; the other releases'
// tuning.cc at their tags). Rows: [0] Volta, [1] Ampere, [2] Hopper, [3] Blackwell.
NcclTunerConstants NcclTunerConstants::ForVersion(NcclVersion v) {
  NcclTunerConstants c = Defaults();
  const int m = v.minor;
  auto& nvlink = c.hw_latency_us[kNcclHwNvlink];
  auto& pci = c.hw_latency_us[kNcclHwPci];
  auto& net = c.hw_latency_us[kNcclHwNet];
  constexpr int kS = 2;
  // NVLS: 2.18 charged its 23 us as a base latency, 2.19-2.20 as the NVLink hop, 2.21 on 25 us.
  if (m == 18) {
    c.base_latency_us[kNcclNvls][kS] = c.base_latency_us[kNcclNvlsTree][kS] = 23.0;
    nvlink[kNcclNvls][kS] = nvlink[kNcclNvlsTree][kS] = 0.0;
  } else if (m <= 20) {
    nvlink[kNcclNvls][kS] = nvlink[kNcclNvlsTree][kS] = 23.0;
  }
  // NVLSTree's network hop: 19 us in 2.18, 14 from 2.19 to 2.28, 20.9 from 2.29.
  if (m == 18) net[kNcclNvlsTree][kS] = 19.0;
  if (m >= 19 && m <= 28) net[kNcclNvlsTree][kS] = 14.0;
  // Tree Simple: hops 4 / 6 / 14 us in 2.18, 28 on every class from 2.19 to 2.22, 4 / 4 / 14 from 2.23; a base
  // latency of 8.4 us from 2.23 (0 before).
  if (m == 18) pci[kNcclTree][kS] = 6.0;
  if (m >= 19 && m <= 22) nvlink[kNcclTree][kS] = pci[kNcclTree][kS] = net[kNcclTree][kS] = 28.0;
  if (m <= 22) c.base_latency_us[kNcclTree][kS] = 0.0;
  // Ring LL: Hopper's one-node cap 87.7 GB/s up to 2.20 (141 after), and the legacy payload fractions.
  if (m <= 20) {
    c.ll_max_bw[2] = {87.7, 22.5, 19.0};
    c.ring_ll_legacy = true;
  }
  if (m <= 22) c.ring_ll128_one_per_node = 0.7;
  // The trees' correction table covered 64 B to 256 MiB (23 entries) up to 2.28; 2.29 added 512 MiB (0.9 for
  // Simple). Before, 512 MiB ran uncorrected.
  if (m <= 28) {
    for (auto& row : c.tree_correction) row[23] = 1.0;
  }
  c.pat_available = m >= 23;
  c.pat_factor = m == 23 ? 0.85 : 0.75;
  c.nvls_legacy_bw = m <= 27;
  c.nvls_tree_ratio_2_18 = m == 18;
  // Blackwell: NCCL before 2.25 had no row of its own (sm100 read Hopper's); 2.25-2.28 doubled Hopper's; 2.28
  // refined the trees'; 2.29 and 2.30 the ring LL128 and NVLSTree caps.
  if (m <= 24) {
    c.ll_max_bw[3] = c.ll_max_bw[2];
    c.per_ch_max_ring_ll128_bw[3] = c.per_ch_max_ring_ll128_bw[2];
    c.per_ch_max_tree_ll128_bw[3] = c.per_ch_max_tree_ll128_bw[2];
    c.per_ch_max_tree_bw[3] = c.per_ch_max_tree_bw[2];
  } else if (m <= 28) {
    c.per_ch_max_ring_ll128_bw[3] = {2 * 36.7, 2 * 36.7, 2 * 36.7};
    if (m <= 27) {
      c.per_ch_max_tree_ll128_bw[3] = {2 * 36.7, 2 * 36.7, 2 * 29.0};
      c.per_ch_max_tree_bw[3] = {2 * 38.7, 2 * 41.4, 2 * 36.0};
    }
    c.per_ch_max_nvls_tree_bw[3] = {0.0, 96.0, 43.1};
  } else if (m == 29) {
    c.per_ch_max_ring_ll128_bw[3] = {34.5, 34.6, 34.5};
    c.per_ch_max_nvls_tree_bw[3] = {0.0, 96.0, 43.8};
  }
  return c;
}

bool NcclLl128ArchEnabled(int sm, NcclVersion v) {
  if (v.minor >= 27) return sm >= 70;
  if (sm == 70 || sm == 80 || sm == 90) return true;
  return v.minor >= 25 && (sm == 100 || sm == 120);
}

int NcclNvlsMinGpusPerNode(NcclVersion v) {
  const bool allows_two = v.minor > 28 || (v.minor == 28 && (v.patch < 0 || v.patch >= 7));
  return allows_two ? 2 : 3;
}

int NcclAlgoIndex(Algorithm a) {
  switch (a) {
    case Algorithm::kTree:
      return kNcclTree;
    case Algorithm::kRing:
      return kNcclRing;
    case Algorithm::kNvls:
      return kNcclNvls;
    case Algorithm::kNvlsTree:
      return kNcclNvlsTree;
    case Algorithm::kPat:
      return kNcclPat;
    case Algorithm::kDirect:
      return -1;
  }
  return -1;
}

int NcclTuningModel::FuncIndex(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::kBroadcast:
      return kBroadcast;
    case CollectiveOp::kReduce:
      return kReduce;
    case CollectiveOp::kAllGather:
      return kAllGather;
    case CollectiveOp::kReduceScatter:
      return kReduceScatter;
    case CollectiveOp::kAllReduce:
      return kAllReduce;
    default:
      return -1;
  }
}

NcclTuningModel::NcclTuningModel(const NcclTunerConstants& constants, const NcclTuningInput& input)
    : input_(input), tree_correction_(constants.tree_correction) {
  Compute(constants);
}

// ncclTopoTuneModel's loop (HEAD), for the algorithms wiresim models (CollNet needs a SHARP-capable network plugin
// and is left out).
void NcclTuningModel::Compute(const NcclTunerConstants& c) {
  const int n = input_.ranks;
  const int nodes = input_.nodes;
  const double ppn = static_cast<double>(n) / nodes;
  const int gen = std::clamp(input_.nccl_gen, 0, 3);
  const int index2 = nodes <= 2 ? nodes - 1 : 2;
  const int ll_row = nodes == 1 ? gen : (c.amd_cpu ? 1 : 0);
  const double ll_max_bw = c.ll_max_bw[static_cast<size_t>(ll_row)][static_cast<size_t>(index2)];
  const double ring_ll128 = c.per_ch_max_ring_ll128_bw[static_cast<size_t>(gen)][static_cast<size_t>(index2)];
  const double tree_ll128 = c.per_ch_max_tree_ll128_bw[static_cast<size_t>(gen)][static_cast<size_t>(index2)];
  const double tree_max = c.per_ch_max_tree_bw[static_cast<size_t>(gen)][static_cast<size_t>(index2)];
  const double nvls_tree_max = c.per_ch_max_nvls_tree_bw[static_cast<size_t>(gen)][static_cast<size_t>(index2)];
  const double nvls_eff = c.nvls_efficiency[static_cast<size_t>(gen)];

  for (int coll = 0; coll < 5; ++coll) {
    const int nsteps = coll == kAllReduce ? 2 * (n - 1) : (coll == kReduceScatter || coll == kAllGather) ? n - 1 : n;
    for (int a = 0; a < kNcclAlgos; ++a) {
      auto& bw_out = bandwidth_[static_cast<size_t>(coll)][static_cast<size_t>(a)];
      auto& lat_out = latency_[static_cast<size_t>(coll)][static_cast<size_t>(a)];
      bw_out = {0, 0, 0};
      lat_out = {0, 0, 0};
      if (a == kNcclCollNetDirect || a == kNcclCollNetChain) continue;
      if ((coll == kBroadcast || coll == kReduce) && a != kNcclRing) continue;
      if ((coll == kReduceScatter || coll == kAllGather) && a != kNcclPat && a != kNcclRing && a != kNcclNvls) continue;
      if (coll == kAllReduce && a == kNcclPat) continue;
      const NcclGraph& g = input_.graphs[static_cast<size_t>(a)];
      if (g.channels <= 0) continue;
      const int intra_hw = g.nvlink_intra ? kNcclHwNvlink : kNcclHwPci;
      const int hw = nodes == 1 ? intra_hw : kNcclHwNet;
      for (int p = 0; p < 3; ++p) {
        if ((a == kNcclNvls || a == kNcclNvlsTree) && p != kSimple) continue;
        if ((coll == kReduceScatter || coll == kAllGather) && a == kNcclPat && (p != kSimple || !input_.pat_enabled)) {
          continue;
        }
        double bw = nodes <= 2 ? g.bw_intra_GBps : g.bw_inter_GBps;
        if ((a == kNcclNvls || a == kNcclNvlsTree) && c.nvls_legacy_bw) {
          // Up to 2.27: the NVLS graph's own speed (all-gather and reduce-scatter: the intra-node share, the
          // network at 0.9).
          if (a == kNcclNvls) {
            bw = coll == kAllReduce ? std::min(g.bw_intra_GBps, g.bw_inter_GBps)
                                    : std::min(g.bw_intra_GBps * (ppn - 1) / ppn, g.bw_inter_GBps * 0.9);
          } else {
            bw = std::min(g.bw_intra_GBps, nodes <= 2 ? g.bw_inter_GBps : g.bw_inter_GBps / 2);
          }
        } else if (a == kNcclNvls || a == kNcclNvlsTree) {
          if (g.channels < 2) continue;
          double intra_bw = g.bw_intra_GBps * nvls_eff * (g.channels - 1) / g.channels;
          intra_bw *= coll == kAllReduce ? 2.0 : (ppn - 1) / ppn;
          const double inter_bw = g.bw_inter_GBps * ((nodes <= 2 && a == kNcclNvlsTree) ? 2 : 1);
          bw = std::min({intra_bw, inter_bw, a == kNcclNvlsTree ? nvls_tree_max : std::numeric_limits<double>::max()});
        }
        double bus_bw = g.channels * bw;
        if (a == kNcclRing && p == kLL) {
          const bool quarter = nodes > 1 || coll == kAllReduce || coll == kReduce;
          bus_bw = std::min(ll_max_bw, bus_bw * (!c.ring_ll_legacy ? .5 : quarter ? 1.0 / 4.0 : 1.0 / 3.0));
        }
        if (a == kNcclRing && p == kLL128) {
          bus_bw = std::min(bus_bw * (ppn < 2 ? c.ring_ll128_one_per_node : 0.92), g.channels * ring_ll128);
        }
        if (a == kNcclTree && coll == kAllReduce) bus_bw = std::min(bus_bw * .92, g.channels * tree_max);
        if (a == kNcclTree && p == kLL) bus_bw = std::min(bus_bw * 1.0 / 3.8, ll_max_bw);
        if (a == kNcclTree && p == kLL128) {
          bus_bw = std::min(bus_bw * (nodes == 1 ? 7.0 / 9.0 : 120.0 / 128.0), g.channels * tree_ll128);
        }
        if (a == kNcclTree && g.tree_pattern) bus_bw *= .85;
        if (a == kNcclPat) bus_bw *= c.pat_factor;
        // NVLS all-gather / reduce-scatter across nodes needs CollNet.
        if (a == kNcclNvls && (coll == kAllGather || coll == kReduceScatter) && nodes > 1) bus_bw = 0;
        if (!(a != kNcclRing && (coll == kAllGather || coll == kReduceScatter))) {
          double ratio =
              (a == kNcclRing || a == kNcclNvls || a == kNcclNvlsTree) ? static_cast<double>(n) / nsteps : .5;
          if (c.nvls_legacy_bw && (a == kNcclNvls || a == kNcclNvlsTree)) {
            ratio = a == kNcclNvlsTree && c.nvls_tree_ratio_2_18 && nodes > 1 ? .70 * nodes / (2.0 * (nodes - 1))
                                                                              : 5.0 / 6.0;
          }
          bus_bw *= ratio;
        }
        bw_out[static_cast<size_t>(p)] = bus_bw;

        double lat = c.base_latency_us[static_cast<size_t>(a)][static_cast<size_t>(p)];
        double intra_lat =
            c.hw_latency_us[static_cast<size_t>(intra_hw)][static_cast<size_t>(a)][static_cast<size_t>(p)];
        double inter_lat = ppn == 1 ? c.hw_latency_us[kNcclHwNet][kNcclTree][static_cast<size_t>(p)]
                                    : c.hw_latency_us[kNcclHwNet][static_cast<size_t>(a)][static_cast<size_t>(p)];
        inter_lat += g.latency_inter_us;
        if (p == kSimple) inter_lat += g.latency_inter_us;  // flush
        if (a == kNcclRing) {
          double step_lat = c.hw_latency_us[static_cast<size_t>(hw)][static_cast<size_t>(a)][static_cast<size_t>(p)];
          if (coll == kReduce || coll == kBroadcast) {
            if (g.same_channels) {
              lat += step_lat;
            } else {
              if (p == kSimple) step_lat = c.hw_latency_us[static_cast<size_t>(hw)][kNcclTree][static_cast<size_t>(p)];
              lat += nsteps * step_lat;
            }
          } else {
            double net_overhead = 0;
            if (nodes > 1) net_overhead = c.net_overhead_us * (p == kSimple ? 3 : 1);
            intra_lat = std::max(intra_lat, net_overhead);
            const int inter_steps = nodes == 1 ? 0 : coll == kAllReduce ? 2 * (nodes - 1) : nodes - 1;
            lat += (nsteps - inter_steps) * intra_lat + inter_steps * inter_lat;
          }
        } else if (a == kNcclTree) {
          if (coll == kAllReduce) lat += 2 * ((n / nodes - 1) * intra_lat + Log2i(nodes) * inter_lat);
        } else if (a == kNcclNvls) {
          lat += intra_lat;  // the base is 0 except in 2.18, whose 23 us sat there
          if (nodes > 1) lat += inter_lat;
        } else if (a == kNcclNvlsTree) {
          lat += intra_lat + 2 * Log2i(nodes) * inter_lat;
        } else if (a == kNcclPat) {
          if (coll == kAllGather || coll == kReduceScatter) lat += Log2i(nodes) * (inter_lat / 3.5) + n * 2.8;
        }
        lat_out[static_cast<size_t>(p)] = lat;
      }
    }
  }
}

double NcclTuningModel::LatencyUs(CollectiveOp op, Algorithm a, Protocol p) const {
  const int f = FuncIndex(op), ai = NcclAlgoIndex(a);
  if (f < 0 || ai < 0) return 0;
  return latency_[static_cast<size_t>(f)][static_cast<size_t>(ai)][static_cast<size_t>(p)];
}

double NcclTuningModel::BandwidthGBps(CollectiveOp op, Algorithm a, Protocol p) const {
  const int f = FuncIndex(op), ai = NcclAlgoIndex(a);
  if (f < 0 || ai < 0) return 0;
  return bandwidth_[static_cast<size_t>(f)][static_cast<size_t>(ai)][static_cast<size_t>(p)];
}

// ncclTopoGetAlgoTime, plus the enable rules of ncclTopoTuneModel's tail: NVLS on one node only (across nodes it
// needs CollNet), NVLSTree across nodes only, LL128 where NCCL enables it by default.
double NcclTuningModel::TimeUs(CollectiveOp op, Algorithm a, Protocol p, double bytes) const {
  double bw = BandwidthGBps(op, a, p);
  if (bw <= 0) return -1;
  if ((a == Algorithm::kNvls || a == Algorithm::kNvlsTree) && !input_.nvls_supported) return -1;
  if (a == Algorithm::kNvls && input_.nodes > 1) return -1;
  if (a == Algorithm::kNvlsTree && input_.nodes == 1) return -1;
  if (p == Protocol::kLL128 && !input_.ll128_enabled) return -1;
  double lat = LatencyUs(op, a, p);
  const int64_t units = static_cast<int64_t>(bytes) >> 6;
  const int log_size = units > 0 ? Log2i(static_cast<int>(std::min<int64_t>(units, 1 << 30))) : -1;
  if (a == Algorithm::kTree && op == CollectiveOp::kAllReduce && log_size >= 0 && log_size < 24) {
    bw *= tree_correction_[static_cast<size_t>(p)][static_cast<size_t>(log_size)];
  }
  const NcclGraph& ring = input_.graphs[kNcclRing];
  if (a == Algorithm::kRing && p == Protocol::kSimple && op == CollectiveOp::kAllReduce && input_.nodes > 1 &&
      ring.channels > 0 && bytes / (ring.channels * input_.ranks) >= 64) {
    lat *= input_.sm < 80 ? 1.9 : 1.4;
  }
  return lat + bytes / (1000.0 * bw);
}

}  // namespace wiresim
