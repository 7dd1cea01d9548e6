// `nvidia-smi topo -m` text to a TopologySpec (see importers.h).
#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <numeric>
#include <regex>
#include <set>
#include <sstream>

#include "sim/core/numeric_field.h"
#include "sim/topology/importers.h"
#include "sim/topology/link_presets.h"
#include "sim/topology/path_matrix.h"
#include "sim/topology/spec_builder.h"

namespace wiresim {
namespace {

// Relation classes ordered by distance; kNv marks an NVLink pair, whose PCIe class the text does not show.
enum Level { kSelf = 0, kPix = 1, kPxb = 2, kPhb = 3, kNode = 4, kSys = 5, kNv = 6 };

struct Parsed {
  std::vector<std::string> columns;       // GPU0.., NIC0.. or mlx5_0..
  std::vector<int> line_of_row;           // input line of each device's row
  std::vector<std::vector<int>> level;    // level[i][j]
  std::vector<std::vector<int>> nvlinks;  // NV count, when level == kNv
  std::vector<int> numa;                  // NUMA affinity, -1 when absent
  std::vector<std::string> cpus;          // CPU affinity as printed ("0-31,64-95"), empty when absent
  std::map<std::string, std::string> nic_legend;
};

std::string StripAnsi(const std::string& line) {
  static const std::regex ansi("\x1b\\[[0-9;]*[A-Za-z]");
  return std::regex_replace(line, ansi, "");
}

std::vector<std::string> Tokens(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string t; in >> t;) out.push_back(t);
  return out;
}

bool IsGpu(const std::string& name) { return std::regex_match(name, std::regex("GPU[0-9]+")); }

std::string FormatGBps(double GBps) {
  std::ostringstream out;
  out << GBps;
  return out.str();
}

// NV# counts links between two GPUs (an H100 SXM has 18 in all); a NUMA node is a small index or N/A.
constexpr NumericRange kNvlinkCount{1, false, 64, true, "an NVLink count", "NV64"};
constexpr NumericRange kNumaNode{0, false, 1 << 20, true, "a NUMA node number (or N/A)", "2^20"};

Status Error(const SourceFile& file, int line, const std::string& message) {
  return InvalidInput(SourceLocation{file.name, line, 0}, "", message);
}

Result<Parsed> Parse(const SourceFile& file) {
  Parsed p;
  std::istringstream in(file.text);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(StripAnsi(line));
  size_t header = lines.size();
  for (size_t i = 0; i < lines.size(); ++i) {
    auto t = Tokens(lines[i]);
    if (!t.empty() && t[0] == "GPU0") {
      header = i;
      break;
    }
  }
  if (header == lines.size()) {
    return Error(file, 1, "not `nvidia-smi topo -m` output: no header line starting with GPU0");
  }
  // After the devices: "CPU Affinity", "NUMA Affinity" and "GPU NUMA ID", each present or not by driver version.
  const std::vector<std::string> head = Tokens(lines[header]);
  size_t tail = 0;
  while (tail < head.size() && head[tail] != "CPU" && head[tail] != "NUMA" && head[tail] != "Affinity") {
    p.columns.push_back(head[tail++]);
  }
  // "GPU NUMA ID" starts with a token that is also a device-name prefix: stop at a "GPU" followed by "NUMA".
  while (!p.columns.empty() && p.columns.back() == "GPU") p.columns.pop_back();
  std::vector<std::string> affinity_columns;  // "CPU", "NUMA", "GPU NUMA" in the header's order
  for (size_t i = tail; i + 1 < head.size(); ++i) {
    if (head[i + 1] == "Affinity") affinity_columns.push_back(head[i]);
    if (head[i] == "GPU" && head[i + 1] == "NUMA") affinity_columns.push_back("GPU NUMA");
  }
  const size_t n = p.columns.size();
  p.level.assign(n, std::vector<int>(n, -1));
  p.nvlinks.assign(n, std::vector<int>(n, 0));
  p.numa.assign(n, -1);
  p.cpus.assign(n, "");
  p.line_of_row.assign(n, 0);
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < n; ++i) index[p.columns[i]] = i;

  static const std::regex nv("NV([0-9]+)");
  for (size_t li = header + 1; li < lines.size(); ++li) {
    auto t = Tokens(lines[li]);
    if (t.empty()) continue;
    if (t[0] == "Legend:") {
      // The NIC legend follows the class legend: "  NIC0: mlx5_0".
      for (size_t k = li + 1; k < lines.size(); ++k) {
        auto lt = Tokens(lines[k]);
        if (lt.size() == 2 && lt[0].back() == ':') p.nic_legend[lt[0].substr(0, lt[0].size() - 1)] = lt[1];
      }
      break;
    }
    auto it = index.find(t[0]);
    if (it == index.end()) continue;  // a line nvidia-smi adds that is not a row (none known, but be lenient)
    const size_t row = it->second;
    const int line_no = static_cast<int>(li) + 1;
    if (t.size() < n + 1) {
      return Error(file, line_no,
                   "row " + t[0] + " has " + std::to_string(t.size() - 1) + " entries, expected " + std::to_string(n) +
                       " (one per column of the header)");
    }
    p.line_of_row[row] = line_no;
    for (size_t col = 0; col < n; ++col) {
      const std::string& cell = t[col + 1];
      std::smatch m;
      int lv = -1;
      if (cell == "X") {
        lv = kSelf;
      } else if (cell == "PIX") {
        lv = kPix;
      } else if (cell == "PXB") {
        lv = kPxb;
      } else if (cell == "PHB") {
        lv = kPhb;
      } else if (cell == "NODE") {
        lv = kNode;
      } else if (cell == "SYS") {
        lv = kSys;
      } else if (std::regex_match(cell, m, nv)) {
        lv = kNv;
        WIRESIM_ASSIGN_OR_RETURN(const int64_t links, ParseIntegerField(SourceLocation{file.name, line_no, 0},
                                                                        "row " + t[0] + ", column " + p.columns[col],
                                                                        m[1].str(), kNvlinkCount));
        p.nvlinks[row][col] = static_cast<int>(links);
      } else {
        return Error(file, line_no,
                     "row " + t[0] + ", column " + p.columns[col] + ": unknown class '" + cell +
                         "' (expected X, NV#, PIX, PXB, PHB, NODE or SYS)");
      }
      if ((lv == kSelf) != (row == col)) {
        return Error(file, line_no,
                     "row " + t[0] + ", column " + p.columns[col] + ": 'X' belongs on the diagonal only");
      }
      p.level[row][col] = lv;
    }
    // Affinity cells, in the header's order (NIC rows have none): CPU affinity a CPU list ("0-31,64-95") or N/A,
    // NUMA affinity a node number or N/A.
    for (size_t a = 0; a < affinity_columns.size() && n + 1 + a < t.size(); ++a) {
      const std::string& cell = t[n + 1 + a];
      if (cell == "N/A") continue;
      if (affinity_columns[a] == "CPU") {
        if (!std::regex_match(cell, std::regex("[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*"))) {
          return Error(
              file, line_no,
              "row " + t[0] + ", CPU Affinity: expected a CPU list like 0-31,64-95 or N/A, got '" + cell + "'");
        }
        p.cpus[row] = cell;
      } else if (affinity_columns[a] == "NUMA") {
        WIRESIM_ASSIGN_OR_RETURN(const int64_t numa,
                                 ParseIntegerField(SourceLocation{file.name, line_no, 0},
                                                   "row " + t[0] + ", NUMA Affinity", cell, kNumaNode));
        p.numa[row] = static_cast<int>(numa);
      }
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (p.line_of_row[i] == 0) {
      return Error(file, static_cast<int>(header) + 1, "column " + p.columns[i] + " has no row");
    }
    for (size_t j = 0; j < n; ++j) {
      if (p.level[i][j] != p.level[j][i] || p.nvlinks[i][j] != p.nvlinks[j][i]) {
        return Error(
            file, p.line_of_row[i],
            p.columns[i] + " and " + p.columns[j] + " disagree about each other (the matrix must be symmetric)");
      }
    }
  }
  return p;
}

// Union-find over device indices.
struct Groups {
  explicit Groups(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  size_t Find(size_t x) { return parent[x] == x ? x : parent[x] = Find(parent[x]); }
  void Join(size_t a, size_t b) { parent[Find(a)] = Find(b); }
  std::vector<size_t> parent;
};

// The socket a device's affinity columns put it on: "numa:N", else "cpus:LIST", else empty (NICs print none).
std::string SocketKey(const Parsed& p, size_t device) {
  if (p.numa[device] >= 0) return "numa:" + std::to_string(p.numa[device]);
  if (!p.cpus[device].empty()) return "cpus:" + p.cpus[device];
  return "";
}

// Splits `members` into groups joined by pairs whose level is at most `max_level`; at socket level also devices
// whose affinity columns name the same socket, whatever their class (an NVLink pair hides it, and some machines
// print SYS between GPUs of one NUMA node). Groups come out ordered by their first member.
std::vector<std::vector<size_t>> Split(const Parsed& p, const std::vector<size_t>& members, int max_level) {
  Groups g(p.columns.size());
  for (size_t a : members) {
    for (size_t b : members) {
      const int lv = p.level[a][b];
      const std::string key = SocketKey(p, a);
      const bool same_socket = key == SocketKey(p, b) && (!key.empty() || lv == kNv);
      const bool joined = lv <= max_level || (max_level == kNode && same_socket);
      if (a != b && joined) g.Join(a, b);
    }
  }
  std::map<size_t, std::vector<size_t>> by_root;
  std::vector<size_t> order;
  for (size_t m : members) {
    auto [it, added] = by_root.emplace(g.Find(m), std::vector<size_t>());
    if (added) order.push_back(g.Find(m));
    it->second.push_back(m);
  }
  std::vector<std::vector<size_t>> out;
  for (size_t root : order) out.push_back(by_root[root]);
  return out;
}

bool HasLevel(const Parsed& p, const std::vector<size_t>& members, int level) {
  for (size_t a : members)
    for (size_t b : members)
      if (p.level[a][b] == level) return true;
  return false;
}

class Builder {
 public:
  Builder(const Parsed& p, const ImportOptions& options, const SourceFile& file, double pcie_GBps)
      : p_(p), options_(options), file_(file), pcie_GBps_(pcie_GBps) {}

  TopologySpec& spec() { return spec_; }
  std::vector<NodeId>& device_ids() { return device_; }

  void AddDevices(const std::string& gpu_model) {
    device_.assign(p_.columns.size(), kNoNode);
    int gpus = 0, nics = 0;
    for (size_t i = 0; i < p_.columns.size(); ++i) {
      const bool gpu = IsGpu(p_.columns[i]);
      device_[i] = AddNode(gpu ? "gpu" + std::to_string(gpus++) : "nic" + std::to_string(nics++),
                           gpu ? NodeKind::kGpu : NodeKind::kNic, gpu ? gpu_model : "", p_.line_of_row[i]);
    }
  }

  NodeId AddNode(const std::string& local, NodeKind kind, const std::string& model, int line) {
    return internal::AppendNode(&spec_, options_.host + "/" + local, kind, options_.host, model,
                                SourceLocation{file_.name, line, 0});
  }

  void Link(NodeId a, NodeId b, LinkKind kind, double bandwidth, int count) {
    internal::AppendLink(&spec_, a, b, kind, bandwidth, count, DefaultLatency(kind), SourceLocation{file_.name, 0, 0});
  }

  NodeId NewSwitch(NodeKind kind) {
    const char* base = kind == NodeKind::kPcieSwitch ? "pcie" : "hostbridge";
    int& counter = kind == NodeKind::kPcieSwitch ? switches_ : bridges_;
    return AddNode(base + std::to_string(counter++), kind, "", 0);
  }

  // Hangs `members` (one PXB-level group or finer) under `parent`.
  void PlacePxbGroup(const std::vector<size_t>& members, NodeId parent) {
    auto pix = Split(p_, members, kPix);
    NodeId attach = parent;
    if (pix.size() > 1) {  // several PIX groups: they meet at an upper switch (PXB between them)
      attach = NewSwitch(NodeKind::kPcieSwitch);
      Link(attach, parent, LinkKind::kPcie, pcie_GBps_, 1);
    }
    for (const auto& group : pix) {
      if (group.size() == 1 && pix.size() == 1) {
        Link(device_[group[0]], attach, LinkKind::kPcie, pcie_GBps_, 1);
        continue;
      }
      const NodeId sw = NewSwitch(NodeKind::kPcieSwitch);
      Link(sw, attach, LinkKind::kPcie, pcie_GBps_, 1);
      for (size_t d : group) Link(device_[d], sw, LinkKind::kPcie, pcie_GBps_, 1);
    }
  }

  void PlaceSocket(const std::vector<size_t>& members, NodeId cpu) {
    for (const auto& phb : Split(p_, members, kPhb)) {
      auto pxb = Split(p_, phb, kPxb);
      NodeId parent = cpu;
      if (pxb.size() > 1 || HasLevel(p_, phb, kPhb)) {
        parent = NewSwitch(NodeKind::kHostBridge);
        Link(parent, cpu, LinkKind::kPcie, pcie_GBps_, 1);
      }
      for (const auto& group : pxb) PlacePxbGroup(group, parent);
    }
  }

 private:
  const Parsed& p_;
  const ImportOptions& options_;
  const SourceFile& file_;
  double pcie_GBps_;
  TopologySpec spec_;
  std::vector<NodeId> device_;
  int switches_ = 0;
  int bridges_ = 0;
};

// The GPU generation nvidia-smi's NV count suggests, for its NVLink preset.
struct Guess {
  std::string model;
  int sm;
};
Guess GuessGpu(int nv, bool all_pairs) {
  if (nv == 18 && all_pairs) return {"h100-sxm", 90};
  if (nv == 12) return {"a100-sxm-80gb", 80};
  if (nv == 8) return {"h800", 90};
  if (nv == 4) return {"rtx-a6000", 86};
  return {"", 0};
}

int SmOfModel(const std::string& model) {
  const std::string m = [&] {
    std::string s = model;
    std::transform(s.begin(), s.end(), s.begin(), ::tolower);
    return s;
  }();
  if (m.find("b200") != std::string::npos || m.find("gb200") != std::string::npos) return 100;
  if (m.find("h100") != std::string::npos || m.find("h200") != std::string::npos ||
      m.find("h800") != std::string::npos || m.find("h20") != std::string::npos)
    return 90;
  if (m.find("l40") != std::string::npos || m.find("4090") != std::string::npos) return 89;
  if (m.find("a6000") != std::string::npos || m.find("3090") != std::string::npos) return 86;
  if (m.find("a100") != std::string::npos || m.find("a800") != std::string::npos) return 80;
  if (m.find("v100") != std::string::npos) return 70;
  return 0;
}

}  // namespace

Result<ImportResult> ImportNvidiaSmiTopo(const SourceFile& file, const ImportOptions& options) {
  WIRESIM_ASSIGN_OR_RETURN(Parsed p, Parse(file));
  ImportResult result;
  const size_t n = p.columns.size();

  // NVLink: one NVSwitch when every GPU pair shows the same NV#, direct links otherwise.
  std::vector<size_t> gpus;
  for (size_t i = 0; i < n; ++i)
    if (IsGpu(p.columns[i])) gpus.push_back(i);
  int common_nv = -1;
  bool all_pairs_same = gpus.size() >= 3;
  int max_nv = 0;
  for (size_t a : gpus) {
    for (size_t b : gpus) {
      if (a == b) continue;
      const int nv = p.level[a][b] == kNv ? p.nvlinks[a][b] : 0;
      max_nv = std::max(max_nv, nv);
      if (common_nv == -1) common_nv = nv;
      if (nv == 0 || nv != common_nv) all_pairs_same = false;
    }
  }
  std::string model = options.gpu_model;
  int sm = SmOfModel(model);
  if (model.empty()) {
    const Guess g = GuessGpu(max_nv, all_pairs_same);
    model = g.model;
    sm = g.sm;
    result.notes.push_back(g.model.empty() ? "GPU model unknown (nvidia-smi topo -m does not name it): pass --gpu-model"
                                           : "GPU model guessed from NV" + std::to_string(max_nv) + ": " + g.model +
                                                 " (nvidia-smi topo -m does not name it; pass --gpu-model to set it)");
  }
  // Datasheet line rates, the convention of the shipped topologies (the collective model applies NCCL's
  // per-link-kind efficiencies on top): NVLink at the GPU generation's preset per link; PCIe at the generation's x16
  // preset, Gen5 for Hopper and Blackwell and Gen4 before (as dgx-h100.toml, gb200-nvl72.toml, hgx-a100.toml); the
  // CPU interconnect at upi-spr, which the text cannot confirm.
  const LinkPreset* nvlink = NvlinkPresetForSm(sm);
  if (nvlink == nullptr) {
    nvlink = FindLinkPreset("nvlink4");
    if (max_nv > 0) {
      result.notes.push_back("no NVLink preset for GPU model '" + model + "': NVLink assumed at nvlink4's " +
                             FormatGBps(nvlink->bandwidth_GBps) + " GB/s per link");
    }
  }
  const LinkPreset& pcie = *FindLinkPreset(sm >= 90 ? "pcie5x16" : "pcie4x16");
  const LinkPreset& smp = *FindLinkPreset("upi-spr");
  const double nvlink_GBps = nvlink->bandwidth_GBps;
  const double pcie_GBps = pcie.bandwidth_GBps;
  const double smp_GBps = smp.bandwidth_GBps;
  result.notes.push_back("bandwidths at datasheet line rates: NVLink " + FormatGBps(nvlink_GBps) + " GB/s per link (" +
                         std::string(nvlink->name) + "), PCIe " + FormatGBps(pcie_GBps) + " GB/s (" +
                         std::string(pcie.name) + "), CPU interconnect " + FormatGBps(smp_GBps) + " GB/s (" +
                         std::string(smp.name) + ")");

  Builder b(p, options, file, pcie_GBps);
  b.AddDevices(model);
  std::vector<NodeId>& device = b.device_ids();
  if (all_pairs_same) {
    const NodeId sw = b.AddNode("nvswitch", NodeKind::kNvSwitch, "", 0);
    for (size_t g : gpus) b.Link(device[g], sw, LinkKind::kNvLink, nvlink_GBps, common_nv);
    result.notes.push_back("every GPU pair is NV" + std::to_string(common_nv) +
                           ": modelled as one NVSwitch (the text does not show how many switch chips there are)");
  } else {
    for (size_t a : gpus)
      for (size_t c : gpus)
        if (a < c && p.level[a][c] == kNv)
          b.Link(device[a], device[c], LinkKind::kNvLink, nvlink_GBps, p.nvlinks[a][c]);
  }

  // PCIe: sockets, then host bridges, upper switches and leaf switches inside each.
  std::vector<size_t> all(n);
  std::iota(all.begin(), all.end(), 0);
  std::vector<NodeId> cpus;
  std::vector<size_t> socket_of(n, 0);
  for (const auto& socket : Split(p, all, kNode)) {
    for (size_t d : socket) socket_of[d] = cpus.size();
    const NodeId cpu = b.AddNode("cpu" + std::to_string(cpus.size()), NodeKind::kCpu, "", 0);
    for (size_t d : socket) {
      if (p.numa[d] < 0) continue;
      b.spec().nodes[static_cast<size_t>(cpu)].numa = p.numa[d];
      break;
    }
    cpus.push_back(cpu);
    b.PlaceSocket(socket, cpu);
  }
  for (size_t i = 0; i < cpus.size(); ++i)
    for (size_t j = i + 1; j < cpus.size(); ++j) b.Link(cpus[i], cpus[j], LinkKind::kCpuInterconnect, smp_GBps, 1);

  std::string nic_line = "NIC legend:";
  for (size_t i = 0; i < n; ++i) {
    if (IsGpu(p.columns[i])) continue;
    auto it = p.nic_legend.find(p.columns[i]);
    nic_line += " " + b.spec().nodes[static_cast<size_t>(device[i])].name + "=" +
                (it != p.nic_legend.end() ? it->second : p.columns[i]);
  }
  if (nic_line != "NIC legend:") result.notes.push_back(nic_line);
  const double nic_Gbps = options.nic_speed_Gbps > 0 ? options.nic_speed_Gbps : 400;
  result.nic_speed_Gbps = nic_Gbps;
  result.notes.push_back(
      "NIC line rate " + std::to_string(static_cast<int>(nic_Gbps)) +
      " Gb/s assumed for a fabric (the text does not say); see [[fabric]] in docs/formats/topology.md");

  b.spec().name = options.host;
  b.spec().description = "imported from " + file.name + " (nvidia-smi topo -m)";
  result.spec = std::move(b.spec());

  // Check: the rebuilt topology must show the input's classes.
  auto topo = Topology::Build(result.spec);
  if (!topo.ok()) return topo.status().WithContext(file.name + ": the rebuilt topology is invalid");
  std::vector<NodeId> devices;
  for (size_t i = 0; i < n; ++i) devices.push_back(device[i]);
  const PathMatrix m = ComputePathMatrix(*topo, devices);
  int mismatches = 0;
  int sys_on_one_socket = 0;  // pairs printed SYS that the affinity columns put on one socket
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      if (i == j) continue;
      if (p.level[i][j] == kSys && socket_of[i] == socket_of[j]) {
        sys_on_one_socket += i < j ? 1 : 0;
        continue;
      }
      const std::string expected =
          p.level[i][j] == kNv
              ? "NV" + std::to_string(p.nvlinks[i][j])
              : std::array<const char*, 6>{"X", "PIX", "PXB", "PHB", "NODE", "SYS"}[static_cast<size_t>(p.level[i][j])];
      const std::string got = m.at(i, j).info.ToString();
      if (got != expected && mismatches++ < 5) {
        result.notes.push_back("WARNING: " + p.columns[i] + "-" + p.columns[j] + " is " + expected +
                               " in the input but " + got + " in the imported topology");
      }
    }
  }
  if (sys_on_one_socket > 0) {
    result.notes.push_back(std::to_string(sys_on_one_socket) +
                           " device pairs print SYS but share a NUMA node by their affinity columns: placed on that "
                           "node's socket, so they are NODE or nearer here");
  }
  return result;
}

}  // namespace wiresim
