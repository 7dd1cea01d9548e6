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

}  // namespace wiresim
