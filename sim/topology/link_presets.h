// Named link types with datasheet bandwidths, so a topology file can say `preset = "nvlink4"` instead of
// repeating figures, and the default latency of each link kind.
//
//   const LinkPreset* p = FindLinkPreset("ndr");   // InfiniBand NDR, 50 GB/s per direction
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/core/time.h"
#include "sim/topology/topology.h"

namespace wiresim {

struct LinkPreset {
  std::string_view name;
  LinkKind kind;
  double bandwidth_GBps;    // per direction, per link
  std::string_view source;  // where the figure comes from
};

// nullptr when there is no preset of that name.
const LinkPreset* FindLinkPreset(std::string_view name);
const std::vector<LinkPreset>& LinkPresets();

// The NVLink preset of a GPU generation, by compute capability: 70 (V100) nvlink2, 80 (A100) nvlink3, 86 (RTX A6000
// bridge) nvlink-bridge-a6000, 90 (Hopper) nvlink4, 100 and above (Blackwell) nvlink5. nullptr for a generation
// with no preset (before Volta, Ada without NVLink, or 0 for unknown).
const LinkPreset* NvlinkPresetForSm(int sm);

// GB/s per direction of a PCIe link of `width` lanes at `gts` GT/s, at its datasheet line rate after encoding: the
// pcie3x16 / pcie4x16 / pcie5x16 presets scaled by width / 16, Gen6 (64 GT/s) twice Gen5, Gen1 and Gen2 with 8b/10b
// (0.25 and 0.5 GB/s a lane). 0 when `gts` is no PCIe generation or `width` is not positive.
double PcieLineRate(double gts, int width);

// The latency a link of this kind gets when a file gives none. Chosen so that one step over each class of path
// adds up to NCCL's own per-step hardware latency for that class (NCCL 2.30.7 hwLatencies, Ring/LL, in
// ../shared/refdata/nccl_tuning_model_constants.md): GPU-NVSwitch-GPU two NVLink hops = 0.6 us; GPU-switch-GPU
// two PCIe hops = 1.0 us; GPU-PCIe-NIC-switch-NIC-PCIe-GPU four PCIe and two network hops = 2.7 us.
Time DefaultLatency(LinkKind kind);

}  // namespace wiresim
