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
  p.nccl_version = v;
  p.tuner = NcclTunerConstants::ForVersion(v);
  p.pat = p.tuner.pat_factor;
  if (v.minor <= 25) p.nvls_channels_sm100 = p.nvls_channels_sm100_multi_node = 16;
  if (v.minor == 26) p.nvls_channels_sm100 = p.nvls_channels_sm100_multi_node = 32;
  p.nvls_tree_chunk_from_buffer = v.minor <= 20;
  p.nvls_tree_small_chunk_from_4_nodes = v.minor >= 20;
  return p;
}

int CollectiveParams::NvlsChannels(GpuGeneration gen, bool multi_node) const {
  if (gen == GpuGeneration::kBlackwell) return multi_node ? nvls_channels_sm100_multi_node : nvls_channels_sm100;
  return nvls_channels;
}

}  // namespace wiresim
