#include "sim/collective/collective_params.h"

namespace wiresim {

LinkEfficiency CollectiveParams::KernelEfficiency(GpuGeneration gen) const {
  LinkEfficiency e;
  e.set(LinkKind::kNvLink, nvlink_efficiency[static_cast<size_t>(gen)]);
  e.set(LinkKind::kPcie, pcie_efficiency);
  e.set(LinkKind::kInfiniBand, network_efficiency);
  e.set(LinkKind::kRoce, network_efficiency);
  e.set(LinkKind::kEthernet, network_efficiency);
  e.set(LinkKind::kC2C, c2c_efficiency);
  e.set(LinkKind::kCpuInterconnect, cpu_interconnect_efficiency);
  return e;
}

CollectiveParams CollectiveParams::ForNcclVersion(NcclVersion v) {
  CollectiveParams p;
  p.SetNcclVersion(v);
  return p;
}

CollectiveParams CollectiveParams::InServingStep(NcclVersion v) {
  CollectiveParams p = ForNcclVersion(v);
  p.launch_overhead = Time::Zero();
  return p;
}

void CollectiveParams::SetNcclVersion(NcclVersion v) {
  const CollectiveParams newest;
  nccl_version = v;
  tuner = NcclTunerConstants::ForVersion(v);
  pat = tuner.pat_factor;
  nvls_channels_sm100 = newest.nvls_channels_sm100;
  nvls_channels_sm100_multi_node = newest.nvls_channels_sm100_multi_node;
  if (v.minor <= 25) nvls_channels_sm100 = nvls_channels_sm100_multi_node = 16;
  if (v.minor == 26) nvls_channels_sm100 = nvls_channels_sm100_multi_node = 32;
  nvls_tree_chunk_from_buffer = v.minor <= 20;
  nvls_tree_small_chunk_from_4_nodes = v.minor >= 20;
  nvls_max_arity = v.minor >= 21 ? 32 : 0;
}

int CollectiveParams::NvlsChannels(GpuGeneration gen, bool multi_node) const {
  if (gen == GpuGeneration::kBlackwell) return multi_node ? nvls_channels_sm100_multi_node : nvls_channels_sm100;
  return nvls_channels;
}

}  // namespace wiresim
