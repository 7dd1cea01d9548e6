#include "sim/topology/link_presets.h"

#include <cmath>

namespace wiresim {

const std::vector<LinkPreset>& LinkPresets() {
  // Per direction, per link. GB = 1e9 bytes.
  static const std::vector<LinkPreset> presets = {
      {"nvlink2", LinkKind::kNvLink, 25.0, "V100 datasheet: 6 NVLink2 links, 300 GB/s total bidirectional"},
      {"nvlink3", LinkKind::kNvLink, 25.0, "A100 datasheet: 12 NVLink3 links, 600 GB/s total bidirectional"},
      {"nvlink4", LinkKind::kNvLink, 25.0, "H100 SXM datasheet: 18 NVLink4 links, 900 GB/s total bidirectional"},
      {"nvlink5", LinkKind::kNvLink, 50.0, "B200 / GB200 datasheet: 18 NVLink5 links, 1.8 TB/s bidirectional"},
      {"nvlink-bridge-a6000", LinkKind::kNvLink, 14.0625,
       "RTX A6000 datasheet: NVLink bridge 112.5 GB/s bidirectional over 4 links"},
      {"nvlink-c2c", LinkKind::kC2C, 450.0, "Grace Hopper / GB200 datasheet: NVLink-C2C 900 GB/s bidirectional"},
      {"pcie3x16", LinkKind::kPcie, 15.75, "PCIe 3.0: 8 GT/s x16, 128b/130b encoding"},
      {"pcie4x16", LinkKind::kPcie, 31.5, "PCIe 4.0: 16 GT/s x16, 128b/130b encoding"},
      {"pcie5x16", LinkKind::kPcie, 63.0, "PCIe 5.0: 32 GT/s x16, 128b/130b encoding"},
      {"hdr", LinkKind::kInfiniBand, 25.0, "InfiniBand HDR 200 Gb/s (ConnectX-6)"},
      {"ndr", LinkKind::kInfiniBand, 50.0, "InfiniBand NDR 400 Gb/s (ConnectX-7)"},
      {"xdr", LinkKind::kInfiniBand, 100.0, "InfiniBand XDR 800 Gb/s (ConnectX-8)"},
      {"roce100", LinkKind::kRoce, 12.5, "100 Gb/s Ethernet"},
      {"roce200", LinkKind::kRoce, 25.0, "200 Gb/s Ethernet"},
      {"roce400", LinkKind::kRoce, 50.0, "400 Gb/s Ethernet"},
      {"roce800", LinkKind::kRoce, 100.0, "800 Gb/s Ethernet"},
      {"upi-spr", LinkKind::kCpuInterconnect, 22.0,
       "NCCL topology model SRP_QPI_BW (Sapphire Rapids), refdata nccl_tuning_model_constants.md"},
      {"upi-skl", LinkKind::kCpuInterconnect, 10.0, "NCCL topology model SKL_QPI_BW (Skylake)"},
      {"xgmi", LinkKind::kCpuInterconnect, 16.0, "NCCL topology model AMD_BW, refdata nccl_tuning_model_constants.md"},
  };
  return presets;
}

const LinkPreset* FindLinkPreset(std::string_view name) {
  for (const LinkPreset& p : LinkPresets())
    if (p.name == name) return &p;
  return nullptr;
}

const LinkPreset* NvlinkPresetForSm(int sm) {
  if (sm >= 100) return FindLinkPreset("nvlink5");
  if (sm >= 90) return FindLinkPreset("nvlink4");
  if (sm == 86) return FindLinkPreset("nvlink-bridge-a6000");
  if (sm >= 80 && sm < 86) return FindLinkPreset("nvlink3");
  if (sm >= 70 && sm < 80) return FindLinkPreset("nvlink2");
  return nullptr;
}

double PcieLineRate(double gts, int width) {
  if (width <= 0) return 0;
  auto x16 = [](const char* preset) { return FindLinkPreset(preset)->bandwidth_GBps; };
  struct Gen {
    double gts;
    double x16_GBps;
  };
  const Gen gens[] = {{2.5, 16 * 0.25},      {5, 16 * 0.5},         {8, x16("pcie3x16")},
                      {16, x16("pcie4x16")}, {32, x16("pcie5x16")}, {64, 2 * x16("pcie5x16")}};
  for (const Gen& g : gens)
    if (std::fabs(g.gts - gts) < 1e-6) return g.x16_GBps * width / 16.0;
  return 0;
}

Time DefaultLatency(LinkKind kind) {
  switch (kind) {
    case LinkKind::kNvLink:
      return Time::Nanoseconds(300);  // 2 hops = NCCL NVLink Ring LL 0.6 us
    case LinkKind::kPcie:
    case LinkKind::kCpuInterconnect:
    case LinkKind::kC2C:  // a host link: GPU traffic between GPUs takes NVLink, not a detour through the CPU
      return Time::Nanoseconds(500);  // 2 hops = NCCL PCI Ring LL 1.0 us
    case LinkKind::kInfiniBand:
    case LinkKind::kRoce:
    case LinkKind::kEthernet:
      return Time::Nanoseconds(350);  // 4 PCIe hops (2.0 us) + 2 network hops = NCCL NET Ring LL 2.7 us
  }
  return Time::Zero();
}

}  // namespace wiresim
