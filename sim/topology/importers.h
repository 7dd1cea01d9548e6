// Importers: topologies from the files users already have.
//
//   `nvidia-smi topo -m` text (tabs or spaces, with or without NIC legend, older layouts with mlx5_N columns).
//     The PCIe tree is rebuilt from the relation classes: devices SYS to each other sit on different sockets, NODE
//     under different root complexes of one socket, PHB under one host bridge, PXB under a shared upper PCIe switch,
//     PIX on one switch. NV# pairs become NVLink links (through one NVSwitch when every GPU pair shows the same
//     NV#). The text gives only classes, so bandwidths are the datasheet line rates of the shipped topologies' link
//     presets (NVLink per link by GPU generation, PCIe by generation, upi-spr between sockets), and the GPU model is
//     guessed from the NVLink count unless given. The rebuilt topology is checked against the input: every class must
//     come out the same.
//   NCCL topology XML (NCCL_TOPO_DUMP_FILE / NCCL_TOPO_FILE): cpu > pci tree > gpu (with nvlink, c2c) and nic > net,
//     with PCIe at each link's speed and width at its datasheet line rate and NVLink at the preset of the GPU's
//     generation per link (as the shipped topologies); between sockets NCCL's figure for the CPU model.
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

}  // namespace wiresim
