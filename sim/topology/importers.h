// Importers: topologies from the files users already have.
//
//   `nvidia-smi topo -m` text (tabs or spaces, with or without NIC legend, older layouts with mlx5_N columns).
//     The PCIe tree is rebuilt from the relation classes: devices SYS to each other sit on different sockets, NODE
//     under different root complexes of one socket, PHB under one host bridge, PXB under a shared upper PCIe switch,
//     PIX on one switch. NV# pairs become NVLink links (through one NVSwitch when every GPU pair shows the same
//     NV#). The text gives only classes, so bandwidths come from NCCL's own link model (per-NVLink bandwidth by GPU
//     generation, PCIe by generation, CPU interconnect), and the GPU model is guessed from the NVLink count unless
//     given. The rebuilt topology is checked against the input: every class must come out the same.
//   NCCL topology XML (NCCL_TOPO_DUMP_FILE / NCCL_TOPO_FILE): cpu > pci tree > gpu (with nvlink, c2c) and nic > net,
//     with PCIe bandwidth = width x per-lane rate / 80 and NVLink = count x per-link rate by SM, as NCCL computes them.
//
//   WIRESIM_ASSIGN_OR_RETURN(ImportResult r, ImportTopology(file, ImportOptions{}));
//   WIRESIM_ASSIGN_OR_RETURN(std::string toml, WriteMachineFile(r.spec, r.Comment(), ClusterLayout{}));
#pragma once

#include <string>
#include <vector>

#include "sim/core/source.h"
#include "sim/core/status.h"
#include "sim/topology/topology.h"

namespace wiresim {

enum class ImportFormat { kAuto, kNvidiaSmi, kNcclXml };

struct ImportOptions {
  ImportFormat format = ImportFormat::kAuto;
  std::string gpu_model;      // empty: from the XML's PCI device id, or guessed from nvidia-smi's NV# count
  double nic_speed_Gbps = 0;  // nvidia-smi input: the NICs' line rate for the notes; 0 means 400
  std::string host = "node";  // the host name of the imported machine
};

struct ImportResult {
  TopologySpec spec;
  std::vector<std::string> notes;  // what was assumed or inferred, for the file's header comment
  double nic_speed_Gbps = 0;       // the NICs' line rate: from the XML, or assumed for nvidia-smi; 0 when unknown
  // The header comment of the written file: source, format, notes.
  std::string Comment() const;
};

Result<ImportResult> ImportTopology(const SourceFile& file, const ImportOptions& options);
Result<ImportResult> ImportNvidiaSmiTopo(const SourceFile& file, const ImportOptions& options);
Result<ImportResult> ImportNcclTopoXml(const SourceFile& file, const ImportOptions& options);

// NCCL's link model (src/graph/topo.h, NCCL 2.30.7; ../shared/refdata/nccl_tuning_model_constants.md).
namespace nccl_model {
// GB/s per NVLink for a GPU of compute capability `sm` (90 for Hopper): 18.0 / 20.0 / 12.0 (sm86) / 20.6 / 40.1.
double NvlinkBandwidth(int sm);
// GB/s of a PCIe link: width x per-lane rate (in 100 Mb/s: 2.5 GT/s -> 15, 5 -> 30, 8 -> 60, 16 -> 120, 32 -> 240,
// 64 -> 480) / 80. Gen4 x16 = 24, Gen5 x16 = 48. Returns 0 when the speed is not one NCCL knows.
double PcieBandwidth(double gts, int width);
}  // namespace nccl_model

}  // namespace wiresim
