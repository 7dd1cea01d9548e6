// NCCL topology XML to a TopologySpec (see importers.h), and the importers' shared pieces.
#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include "sim/core/numeric_field.h"
#include "sim/core/text.h"
#include "sim/topology/importers.h"
#include "sim/topology/link_presets.h"
#include "sim/topology/spec_builder.h"

namespace wiresim {

std::string ImportResult::Comment() const {
  std::string out = spec.description + "\n";
  for (const std::string& note : notes) out += note + "\n";
  out += "Edit freely: this file is a starting point (docs/formats/topology.md describes every key).";
  return out;
}

namespace {

namespace pt = boost::property_tree;

// The ranges of the numeric attributes NCCL writes (src/graph/xml.cc): -1 for an unknown NUMA node, decimal CPU model
// ids, PCIe widths x1 to x32 and rates up to 64 GT/s (Gen6), SM versions (90 = Hopper, 100 = Blackwell), NVLink counts
// per GPU pair (18 on an H100), C2C bandwidths in GB/s and NIC speeds in Mb/s.
constexpr NumericRange kNumaId{-1, false, 1 << 20, true, "a NUMA node number (-1: unknown)", "2^20"};
constexpr NumericRange kCpuModel{0, false, 1 << 20, true, "a CPU model id", "2^20"};
constexpr NumericRange kPcieWidth{0, false, 32, true, "a PCIe link width", "x32"};
constexpr NumericRange kPcieRate{0, false, 1024, false, "a PCIe rate in GT/s", "1024"};
constexpr NumericRange kSmVersion{0, false, 10000, true, "an SM version", "10000"};
constexpr NumericRange kLinkCount{1, false, 64, true, "a link count", "64"};
constexpr NumericRange kNicSpeedMbps{0, false, 1e8, false, "a NIC speed in Mb/s", "100 Tb/s"};

std::string FormatGBps(double GBps) {
  std::ostringstream out;
  out << GBps;
  return out.str();
}

// Known NVIDIA PCI device ids (the `device` attribute of a GPU's pci element).
std::string ModelOfDeviceId(const std::string& id) {
  static const std::map<std::string, std::string> kIds = {
      {"0x2330", "h100-sxm"},       {"0x2335", "h200-sxm"}, {"0x20b0", "a100-sxm-40gb"}, {"0x20b2", "a100-sxm-80gb"},
      {"0x20b5", "a100-pcie-80gb"}, {"0x26b9", "l40s"},     {"0x2684", "rtx-4090"},      {"0x2230", "rtx-a6000"},
  };
  auto it = kIds.find(id);
  return it == kIds.end() ? "" : it->second;
}

// NCCL's socket-to-socket bandwidth for a CPU (topo.cc): Intel by model (Skylake 10, Sapphire Rapids 22, Emerald
// Rapids 40, older 6), AMD 16, other 6 (ARM) GB/s.
double SmpBandwidth(const pt::ptree& cpu, int model) {
  const std::string vendor = cpu.get<std::string>("<xmlattr>.vendor", "");
  if (vendor == "GenuineIntel") {
    if (model >= 0xCF) return 40.0;
    if (model >= 0x8F) return 22.0;
    if (model >= 0x55) return 10.0;
    return 6.0;
  }
  if (vendor == "AuthenticAMD") return 16.0;
  return 6.0;
}

class XmlBuilder {
 public:
  XmlBuilder(const SourceFile& file, const ImportOptions& options, ImportResult* result)
      : file_(file), options_(options), result_(result) {}

  Status Build(const pt::ptree& system) {
    std::vector<std::pair<NodeId, const pt::ptree*>> cpus;
    for (const auto& [tag, child] : system) {
      if (tag != "cpu") continue;
      const NodeId cpu = AddNode("cpu" + std::to_string(cpus.size()), NodeKind::kCpu, "");
      const int numa = static_cast<int>(Number(child, "cpu", "numaid", -1, kNumaId));
      spec().nodes[static_cast<size_t>(cpu)].numa = numa;
      cpus.emplace_back(cpu, &child);
      WIRESIM_RETURN_IF_ERROR(Walk(child, cpu, nullptr));
    }
    if (cpus.empty()) return Error("no <cpu> element under <system>");
    for (size_t i = 0; i < cpus.size(); ++i) {
      const int model = static_cast<int>(Number(*cpus[i].second, "cpu", "modelid", 0, kCpuModel));
      for (size_t j = i + 1; j < cpus.size(); ++j) {
        Link(cpus[i].first, cpus[j].first, LinkKind::kCpuInterconnect, SmpBandwidth(*cpus[i].second, model), 1);
      }
    }
    WIRESIM_RETURN_IF_ERROR(ConnectNvlinks());
    return attribute_error_;
  }

  TopologySpec& spec() { return result_->spec; }
  int gpus() const { return gpus_; }
  // GPUs listed as a PCI device only, with no <gpu> element (so no <nvlink> either).
  int bare_gpus() const { return bare_gpus_; }
  // <nvlink> elements read, and the NVLink links they made (between GPUs, or from a GPU to an NVSwitch).
  int nvlinks_declared() const { return static_cast<int>(nvlinks_.size()); }
  int nvlinks() const { return nvlinks_made_; }

 private:
  Status Error(const std::string& message) const { return InvalidInput(SourceLocation{file_.name, 0, 0}, "", message); }

  // The attribute `name` of an element (tagged `tag`, for messages) as a number in `range`; `fallback` when it is
  // absent or empty. The first bad attribute is kept and Build returns it (ptree keeps no line numbers).
  double Number(const pt::ptree& element, const char* tag, const char* name, double fallback,
                const NumericRange& range) {
    const auto text = element.get_optional<std::string>(std::string("<xmlattr>.") + name);
    if (!text || Trim(*text).empty()) return fallback;
    auto v =
        ParseNumberField(SourceLocation{file_.name, 0, 0}, "<" + std::string(tag) + "> " + name, Trim(*text), range);
    if (v.ok()) return *v;
    if (attribute_error_.ok()) attribute_error_ = v.status();
    return fallback;
  }

  NodeId AddNode(const std::string& local, NodeKind kind, const std::string& model) {
    return internal::AppendNode(&spec(), options_.host + "/" + local, kind, options_.host, model,
                                SourceLocation{file_.name, 0, 0});
  }

  void Link(NodeId a, NodeId b, LinkKind kind, double bandwidth, int count) {
    internal::AppendLink(&spec(), a, b, kind, bandwidth, count, DefaultLatency(kind), SourceLocation{file_.name, 0, 0});
  }

  // PCIe bandwidth of a pci element's link to its parent: its speed and width at the datasheet line rate; Gen4
  // x16 when absent.
  double PciBandwidth(const pt::ptree& pci) {
    // "32.0 GT/s PCIe": the rate is the first word.
    const std::string speed = pci.get<std::string>("<xmlattr>.link_speed", "");
    const int width = static_cast<int>(Number(pci, "pci", "link_width", 0, kPcieWidth));
    double gts = 0;
    if (const std::string rate = speed.substr(0, speed.find(' ')); !rate.empty()) {
      auto v = ParseNumberField(SourceLocation{file_.name, 0, 0}, "<pci> link_speed", rate, kPcieRate);
      if (v.ok()) {
        gts = *v;
      } else if (attribute_error_.ok()) {
        attribute_error_ = v.status();
      }
    }
    const double bw = PcieLineRate(gts, width);
    if (bw > 0) return bw;
    const LinkPreset& gen4 = *FindLinkPreset("pcie4x16");
    if (!defaulted_pcie_) {
      result_->notes.push_back("some PCIe links give no speed or width: assumed Gen4 x16 (pcie4x16, " +
                               FormatGBps(gen4.bandwidth_GBps) + " GB/s)");
      defaulted_pcie_ = true;
    }
    return gen4.bandwidth_GBps;
  }

  // Walks the children of a cpu or pci element, attaching what it finds to `parent`. `parent_pci` is the pci element
  // of `parent` when it is a bridge, to merge the ports of one physical switch.
  Status Walk(const pt::ptree& element, NodeId parent, const pt::ptree* parent_pci) {
    for (const auto& [tag, child] : element) {
      if (tag == "pci") {
        WIRESIM_RETURN_IF_ERROR(Pci(child, parent, parent_pci));
      } else if (tag == "nic") {
        AddNics(child, parent, FindLinkPreset("pcie4x16")->bandwidth_GBps);  // no PCIe figure: Gen4 x16
      } else if (tag == "pcilink" && !noted_pcilink_) {
        result_->notes.push_back("<pcilink> peer links are not imported");
        noted_pcilink_ = true;
      }
    }
    return Status::Ok();
  }

  Status Pci(const pt::ptree& pci, NodeId parent, const pt::ptree* parent_pci) {
    const std::string cls = pci.get<std::string>("<xmlattr>.class", "");
    const std::string busid = pci.get<std::string>("<xmlattr>.busid", "");
    const double bw = PciBandwidth(pci);
    if (cls.rfind("0x0604", 0) == 0) {
      // A bridge. The downstream ports of a PCIe switch appear as bridges under its upstream-port bridge, with the
      // same vendor and device ids: they are one switch (as NCCL flattens Broadcom switches).
      const std::string vendor = pci.get<std::string>("<xmlattr>.vendor", "");
      const std::string device = pci.get<std::string>("<xmlattr>.device", "");
      if (parent_pci != nullptr && !vendor.empty() && vendor == parent_pci->get<std::string>("<xmlattr>.vendor", "") &&
          device == parent_pci->get<std::string>("<xmlattr>.device", "")) {
        return Walk(pci, parent, parent_pci);
      }
      const NodeId sw = AddNode("pcie" + std::to_string(switches_++), NodeKind::kPcieSwitch, "");
      Link(sw, parent, LinkKind::kPcie, bw, 1);
      return Walk(pci, sw, &pci);
    }
    if (cls.rfind("0x0302", 0) == 0 || cls.rfind("0x0300", 0) == 0) {
      const pt::ptree* gpu = nullptr;
      if (auto g = pci.get_child_optional("gpu")) gpu = &*g;
      std::string model = options_.gpu_model;
      if (model.empty()) model = ModelOfDeviceId(pci.get<std::string>("<xmlattr>.device", ""));
      const int sm = gpu ? static_cast<int>(Number(*gpu, "gpu", "sm", 0, kSmVersion)) : 0;
      if (model.empty() && sm > 0) model = "sm" + std::to_string(sm);
      const NodeId id = AddNode("gpu" + std::to_string(gpus_++), NodeKind::kGpu, model);
      Link(id, parent, LinkKind::kPcie, bw, 1);
      gpu_by_busid_[busid] = id;
      if (gpu == nullptr) ++bare_gpus_;
      if (gpu != nullptr) {
        for (const auto& [tag, link] : *gpu) {
          if (tag == "nvlink") {
            nvlinks_.push_back(NvlinkDecl{id, busid, link.get<std::string>("<xmlattr>.target", ""),
                                          link.get<std::string>("<xmlattr>.tclass", ""),
                                          static_cast<int>(Number(link, "nvlink", "count", 1, kLinkCount)), sm});
          } else if (tag == "c2c") {
            // Grace-Hopper style NVLink-C2C to the CPU: bw is per link in GB/s (NCCL xml).
            Link(id, CpuOf(parent), LinkKind::kC2C, Number(link, "c2c", "bw", 0, kBandwidthGBps),
                 static_cast<int>(Number(link, "c2c", "count", 1, kLinkCount)));
          }
        }
      }
      return Status::Ok();
    }
    if (cls.rfind("0x0200", 0) == 0 || cls.rfind("0x0207", 0) == 0) {
      if (auto nic = pci.get_child_optional("nic")) {
        AddNics(*nic, parent, bw);
      } else {
        const NodeId id = AddNode("nic" + std::to_string(nics_++), NodeKind::kNic, "");
        Link(id, parent, LinkKind::kPcie, bw, 1);
      }
      return Status::Ok();
    }
    // Another device (NVMe, ...): not part of the GPU fabric, but look inside.
    return Walk(pci, parent, parent_pci);
  }

  void AddNics(const pt::ptree& nic, NodeId parent, double pcie_bw) {
    bool any = false;
    for (const auto& [tag, net] : nic) {
      if (tag != "net") continue;
      any = true;
      const std::string name = net.get<std::string>("<xmlattr>.name", "?");
      const double speed = Number(net, "net", "speed", 0, kNicSpeedMbps);  // Mb/s
      if (result_->nic_speed_Gbps == 0 && speed > 0) result_->nic_speed_Gbps = speed / 1000;
      const NodeId id = AddNode("nic" + std::to_string(nics_++), NodeKind::kNic, "");
      Link(id, parent, LinkKind::kPcie, pcie_bw, 1);
      result_->notes.push_back(spec().nodes[static_cast<size_t>(id)].name + " = " + name + ", " +
                               std::to_string(static_cast<long>(speed / 1000)) + " Gb/s (" + FormatGBps(speed / 8000) +
                               " GB/s)");
    }
    if (!any) {
      const NodeId id = AddNode("nic" + std::to_string(nics_++), NodeKind::kNic, "");
      Link(id, parent, LinkKind::kPcie, pcie_bw, 1);
    }
  }

  NodeId CpuOf(NodeId node) {
    // Follow PCIe links up to the CPU this node hangs from.
    for (int hops = 0; hops < 64 && spec().nodes[static_cast<size_t>(node)].kind != NodeKind::kCpu; ++hops) {
      for (const LinkSpec& l : spec().links) {
        if (l.a == node && l.kind == LinkKind::kPcie) {
          node = l.b;
          break;
        }
      }
    }
    return node;
  }

  struct NvlinkDecl {
    NodeId gpu;
    std::string busid;
    std::string target;
    std::string tclass;
    int count;
    int sm;
  };

  Status ConnectNvlinks() {
    std::map<std::string, NodeId> switches;
    std::set<std::pair<NodeId, NodeId>> peers;
    for (const NvlinkDecl& d : nvlinks_) {
      const LinkPreset* preset = NvlinkPresetForSm(d.sm > 0 ? d.sm : 90);
      const double bw = (preset != nullptr ? preset : FindLinkPreset("nvlink4"))->bandwidth_GBps;
      if (d.tclass == "0x068000") {
        auto [it, added] = switches.emplace(d.target, kNoNode);
        if (added) it->second = AddNode("nvswitch" + std::to_string(switches.size() - 1), NodeKind::kNvSwitch, "");
        Link(d.gpu, it->second, LinkKind::kNvLink, bw, d.count);
        ++nvlinks_made_;
      } else if (d.target == d.busid) {
        if (!noted_self_) {
          result_->notes.push_back("an <nvlink> that targets its own GPU was skipped (busid " + d.busid + ")");
          noted_self_ = true;
        }
      } else {
        auto it = gpu_by_busid_.find(d.target);
        if (it == gpu_by_busid_.end()) {
          result_->notes.push_back("an <nvlink> from " + d.busid + " targets " + d.target +
                                   ", which is no GPU in the file: skipped");
          continue;
        }
        const auto key = std::minmax(d.gpu, it->second);
        if (peers.insert(key).second) {
          Link(d.gpu, it->second, LinkKind::kNvLink, bw, d.count);
          ++nvlinks_made_;
        }
      }
    }
    if (switches.size() == 1 && switches.begin()->first.rfind("ffff", 0) == 0) {
      result_->notes.push_back("NVSwitches hidden (a VM): one logical NVSwitch stands for them");
    }
    return Status::Ok();
  }

  const SourceFile& file_;
  const ImportOptions& options_;
  ImportResult* result_;
  std::map<std::string, NodeId> gpu_by_busid_;
  std::vector<NvlinkDecl> nvlinks_;
  int switches_ = 0, gpus_ = 0, nics_ = 0, bare_gpus_ = 0, nvlinks_made_ = 0;
  bool defaulted_pcie_ = false, noted_pcilink_ = false, noted_self_ = false;
  Status attribute_error_;
};

// The line where elements first nest deeper than kMaxNestingDepth (the XML parser and the walk above recurse per
// level, so a hostile file could exhaust the stack), or 0 when they never do. Comments and declarations are skipped
// roughly: a '>' inside an attribute value is not expected in NCCL's files.
int LineWhereXmlNestsTooDeep(std::string_view text) {
  int depth = 0, line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') ++line;
    if (text[i] != '<' || i + 1 >= text.size()) continue;
    const char next = text[i + 1];
    const size_t close = text.find('>', i);
    if (close == std::string_view::npos) break;
    if (next == '/') {
      --depth;
    } else if (next != '?' && next != '!' && text[close - 1] != '/') {
      if (++depth > kMaxNestingDepth) return line;
    }
    line += static_cast<int>(std::count(text.begin() + static_cast<std::ptrdiff_t>(i),
                                        text.begin() + static_cast<std::ptrdiff_t>(close), '\n'));
    i = close;
  }
  return 0;
}

}  // namespace

Result<ImportResult> ImportNcclTopoXml(const SourceFile& file, const ImportOptions& options) {
  if (const int line = LineWhereXmlNestsTooDeep(file.text); line > 0) {
    return InvalidInput(SourceLocation{file.name, line, 0}, "",
                        "XML elements nest more than " + std::to_string(kMaxNestingDepth) + " levels deep");
  }
  pt::ptree tree;
  try {
    std::istringstream in(file.text);
    pt::read_xml(in, tree);
  } catch (const pt::xml_parser_error& e) {
    return InvalidInput(SourceLocation{file.name, static_cast<int>(e.line()), 0}, "",
                        "XML syntax error: " + e.message());
  }
  auto system = tree.get_child_optional("system");
  if (!system) {
    return InvalidInput(SourceLocation{file.name, 1, 0}, "", "not an NCCL topology file: no <system> element");
  }
  ImportResult result;
  XmlBuilder builder(file, options, &result);
  WIRESIM_RETURN_IF_ERROR(builder.Build(*system));
  // A hand-written NCCL_TOPO_FILE (Azure's ndv4/ndv5-topo.xml) lists the GPUs as PCI devices only, to fix the PCIe
  // layout a VM hides; NCCL adds each GPU's <gpu> element and NVLinks from the driver at run time (src/graph/xml.cc
  // fills a loaded file in). Such a file cannot say how the GPUs are linked: imported, its GPUs would talk over PCIe.
  if (builder.gpus() >= 2 && builder.bare_gpus() > 0) {
    return InvalidInput(SourceLocation{file.name, 0, 0}, "",
                        std::to_string(builder.bare_gpus()) + " of its " + std::to_string(builder.gpus()) +
                            " GPUs are PCI devices with no <gpu> element, so the file describes no GPU-to-GPU link "
                            "(NVLink, NVSwitch): it is a hand-written NCCL_TOPO_FILE giving the PCIe layout, which "
                            "NCCL completes from the driver at run time. Import what NCCL saw instead: run once with "
                            "NCCL_TOPO_DUMP_FILE=topo.xml and import topo.xml, or import `nvidia-smi topo -m`, or use "
                            "a shipped topology (topologies/*.toml: dgx-h100, dgx-a100, ...)");
  }
  // Azure's ncv4-topo.xml gives each GPU one <nvlink count="12"> that targets the GPU itself: NVLink is declared,
  // but to nothing this file can place, so the pairs its bridges join would talk over PCIe.
  if (builder.gpus() >= 2 && builder.nvlinks_declared() > 0 && builder.nvlinks() == 0) {
    return InvalidInput(SourceLocation{file.name, 0, 0}, "",
                        "its " + std::to_string(builder.nvlinks_declared()) +
                            " <nvlink> elements reach no other GPU and no NVSwitch (each targets its own GPU or a "
                            "bus id not in the file), so the file describes no GPU-to-GPU link: a hand-written "
                            "NCCL_TOPO_FILE, which NCCL completes from the driver at run time. Import what NCCL saw "
                            "instead: run once with NCCL_TOPO_DUMP_FILE=topo.xml and import topo.xml, or import "
                            "`nvidia-smi topo -m`, or use a shipped topology (topologies/*.toml)");
  }
  if (builder.gpus() >= 2 && builder.nvlinks() == 0) {
    result.notes.push_back("the file gives no NVLink between its GPUs: they reach each other over PCIe");
  }
  result.spec.name = options.host;
  result.spec.description = "imported from " + file.name + " (NCCL topology XML)";
  result.notes.insert(result.notes.begin(),
                      "bandwidths at datasheet line rates: NVLink per link by GPU generation (sm90: nvlink4, 25 GB/s), "
                      "PCIe by each link's speed and width (Gen5 x16: pcie5x16, 63 GB/s), NICs speed / 8000; "
                      "CPU-to-CPU NCCL's figure for the CPU model");
  auto topo = Topology::Build(result.spec);
  if (!topo.ok()) return topo.status().WithContext(file.name + ": the imported topology is invalid");
  return result;
}

Result<ImportResult> ImportTopology(const SourceFile& file, const ImportOptions& options) {
  ImportFormat format = options.format;
  if (format == ImportFormat::kAuto) {
    const size_t first = file.text.find_first_not_of(" \t\r\n");
    format = first != std::string::npos && file.text[first] == '<' ? ImportFormat::kNcclXml : ImportFormat::kNvidiaSmi;
  }
  return format == ImportFormat::kNcclXml ? ImportNcclTopoXml(file, options) : ImportNvidiaSmiTopo(file, options);
}

}  // namespace wiresim
