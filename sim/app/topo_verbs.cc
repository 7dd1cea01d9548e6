// `wiresim topo show` and `wiresim topo import`.
#include <algorithm>
#include <iomanip>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "sim/app/cli.h"
#include "sim/app/number_format.h"
#include "sim/app/options.h"
#include "sim/app/topology_input.h"
#include "sim/app/verbs.h"
#include "sim/compute/gpu_spec.h"
#include "sim/core/numeric_field.h"
#include "sim/core/text.h"
#include "sim/topology/importers.h"
#include "sim/topology/link_presets.h"
#include "sim/topology/path_matrix.h"
#include "sim/topology/topology_file.h"

namespace wiresim::app {
namespace po = boost::program_options;

namespace {

std::string DeviceLabel(const Topology& topo, NodeId id) {
  const Node& n = topo.node(id);
  if (n.spec.kind == NodeKind::kGpu) return "GPU" + std::to_string(n.gpu_index);
  const auto nics = topo.nics();
  return "NIC" + std::to_string(std::find(nics.begin(), nics.end(), id) - nics.begin());
}

std::string Plural(size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : (word.back() == 'h' ? "es" : "s"));
}

// "1 host, 8 GPUs (h100-sxm), 4 NVSwitches, ...; 1 NVLink domain of 8 GPUs"
std::string Summary(const Topology& topo) {
  std::map<NodeKind, size_t> kinds;
  std::map<std::string, size_t> models;
  for (NodeId i = 0; i < topo.node_count(); ++i) {
    ++kinds[topo.node(i).spec.kind];
    if (topo.node(i).spec.kind == NodeKind::kGpu)
      ++models[topo.node(i).spec.model.empty() ? "?" : topo.node(i).spec.model];
  }
  std::ostringstream s;
  s << Plural(topo.hosts().size(), "host") << ", " << Plural(kinds[NodeKind::kGpu], "GPU") << " (";
  bool first = true;
  for (const auto& [model, n] : models) {
    s << (first ? "" : ", ") << n << "x " << model;
    first = false;
  }
  s << ")";
  const std::pair<NodeKind, const char*> others[] = {{NodeKind::kNvSwitch, "NVSwitch"},
                                                     {NodeKind::kPcieSwitch, "PCIe switch"},
                                                     {NodeKind::kHostBridge, "host bridge"},
                                                     {NodeKind::kCpu, "CPU"},
                                                     {NodeKind::kNic, "NIC"},
                                                     {NodeKind::kSwitch, "network switch"}};
  for (const auto& [kind, word] : others)
    if (kinds[kind] > 0) s << ", " << Plural(kinds[kind], word);
  const auto domains = topo.NvlinkDomains();
  std::map<size_t, size_t> sizes;
  for (const auto& d : domains) ++sizes[d.size()];
  s << "; NVLink domains:";
  for (const auto& [size, count] : sizes) s << " " << count << "x " << size << " GPU" << (size == 1 ? "" : "s");
  return s.str();
}

void PrintClassMatrix(std::ostream& out, const Topology& topo, const PathMatrix& m) {
  const size_t n = m.size();
  std::ostringstream header;
  header << std::left << std::setw(8) << "";
  for (NodeId d : m.devices) header << std::setw(8) << DeviceLabel(topo, d);
  header << "Host";
  out << header.str() << "\n";
  for (size_t i = 0; i < n; ++i) {
    std::ostringstream row;
    row << std::left << std::setw(8) << DeviceLabel(topo, m.devices[i]);
    for (size_t j = 0; j < n; ++j) {
      const PairPath& c = m.at(i, j);
      row << std::setw(8) << (i == j ? " X" : c.reachable ? c.info.ToString() : "-");
    }
    const Node& node = topo.node(m.devices[i]);
    row << (node.spec.host.empty() ? "-" : node.spec.host);
    out << row.str() << "\n";
  }
  out << "\nLegend:\n\n"
         "  X    = Self\n"
         "  NET  = Connection crossing the network between machines (InfiniBand, RoCE, Ethernet)\n"
         "  SYS  = Connection traversing PCIe as well as the SMP interconnect between NUMA nodes (e.g., QPI/UPI)\n"
         "  NODE = Connection traversing PCIe as well as the interconnect between PCIe Host Bridges within a NUMA "
         "node\n"
         "  PHB  = Connection traversing PCIe as well as a PCIe Host Bridge (typically the CPU)\n"
         "  PXB  = Connection traversing multiple PCIe bridges (without traversing the PCIe Host Bridge)\n"
         "  PIX  = Connection traversing at most a single PCIe bridge\n"
         "  NV#  = Connection traversing a bonded set of # NVLinks\n";
  bool any_nic = false;
  for (NodeId d : m.devices) {
    if (topo.node(d).spec.kind != NodeKind::kNic) continue;
    if (!any_nic) out << "\nNIC Legend:\n\n";
    any_nic = true;
    out << "  " << DeviceLabel(topo, d) << ": " << topo.node(d).spec.name;
    if (topo.node(d).spec.rail >= 0) out << " (rail " << topo.node(d).spec.rail << ")";
    out << "\n";
  }
}

// Writes `line` without its trailing blanks.
void EmitLine(std::ostream& out, const std::string& line) {
  out << line.substr(0, line.find_last_not_of(' ') + 1) << "\n";
}

void PrintRouteMatrix(std::ostream& out, const Topology& topo, const PathMatrix& m, size_t gpus) {
  out << "\nRoute bandwidth (GB/s per direction) / latency (us), GPU to GPU:\n\n";
  std::ostringstream header;
  header << std::left << std::setw(8) << "";
  for (size_t j = 0; j < gpus; ++j) header << std::setw(13) << DeviceLabel(topo, m.devices[j]);
  EmitLine(out, header.str());
  for (size_t i = 0; i < gpus; ++i) {
    std::ostringstream row;
    row << std::left << std::setw(8) << DeviceLabel(topo, m.devices[i]);
    for (size_t j = 0; j < gpus; ++j) {
      const PairPath& c = m.at(i, j);
      std::string cell = i == j         ? " X"
                         : !c.reachable ? "-"
                                        : Fixed(c.bandwidth_GBps, c.bandwidth_GBps < 100 ? 1 : 0) + "/" +
                                              Fixed(c.latency.ToMicroseconds(), 2);
      row << std::setw(13) << cell;
    }
    EmitLine(out, row.str());
  }
}

// A matrix prints every pair of its devices: n^2 cells (2048 devices: 4.2 million, 170 MB of routes and 50 MB of
// text). Past this, --full is refused. JSON holds three matrices in memory as JSON values (1.1 GB at 2048 GPUs,
// 176 MB written): --json gives the summary by class past 1024 GPUs (280 MB, 44 MB written).
constexpr size_t kMaxMatrixDevices = 2048;
constexpr size_t kMaxJsonMatrixDevices = 1024;
// A summary by class routes from every GPU up to this many (one shortest-path search each: about 5 s at 2048 on
// 256 8-GPU hosts); past it, from the first host's GPUs to all of them.
constexpr int kMaxSummarySources = 2048;

// For clusters too large for a matrix: GPU pairs grouped by class, from `sources` to every GPU.
struct ClassSummary {
  std::vector<NodeId> sources;
  std::string from;  // "" when the sources are every GPU, else the host they are on
  std::map<std::string, PathClassStats> by_class;
};

ClassSummary SummarizeGpuPairs(const Topology& topo) {
  ClassSummary s;
  const std::vector<NodeId> gpus(topo.gpus().begin(), topo.gpus().end());
  if (topo.gpu_count() <= kMaxSummarySources || topo.hosts().empty()) {
    s.sources = gpus;
  } else {
    s.sources = topo.hosts().front().gpus;
    s.from = topo.hosts().front().name;
  }
  s.by_class = SummarizePathClasses(topo, s.sources, gpus);
  return s;
}

void PrintClassSummary(std::ostream& out, const Topology& topo, const ClassSummary& s) {
  if (s.from.empty()) {
    out << "\nGPU pairs by class (the full matrix: --full):\n\n";
  } else {
    out << "\nGPU pairs by class, from the " << s.sources.size() << " GPUs of host " << s.from << " to all "
        << topo.gpu_count() << " (routing every pair of more than " << kMaxSummarySources
        << " GPUs would take minutes):\n\n";
  }
  out << std::left << std::setw(8) << "class" << std::setw(12) << "pairs" << std::setw(24) << "bandwidth GB/s"
      << "latency us\n";
  for (const auto& [cls, c] : s.by_class) {
    const std::string bw = c.bandwidth_min_GBps == c.bandwidth_max_GBps
                               ? Fixed(c.bandwidth_min_GBps, 1)
                               : Fixed(c.bandwidth_min_GBps, 1) + " - " + Fixed(c.bandwidth_max_GBps, 1);
    const double lo = c.latency_min.ToMicroseconds(), hi = c.latency_max.ToMicroseconds();
    const std::string lat = lo == hi ? Fixed(lo, 2) : Fixed(lo, 2) + " - " + Fixed(hi, 2);
    out << std::setw(8) << cls << std::setw(12) << c.pairs << std::setw(24) << bw << lat << "\n";
  }
}

nlohmann::ordered_json TopologyJson(const Topology& topo, const PathMatrix* m, const ClassSummary* summary) {
  nlohmann::ordered_json j;
  j["topology"] = topo.name();
  j["description"] = topo.description();
  j["source"] = topo.origin().file;
  j["summary"] = Summary(topo);
  nlohmann::ordered_json hosts = nlohmann::ordered_json::array();
  for (const Host& h : topo.hosts()) {
    nlohmann::ordered_json host{
        {"name", h.name}, {"gpus", nlohmann::ordered_json::array()}, {"nics", nlohmann::ordered_json::array()}};
    for (NodeId g : h.gpus) host["gpus"].push_back(topo.node(g).gpu_index);
    for (NodeId n : h.nics) host["nics"].push_back(topo.node(n).spec.name);
    hosts.push_back(std::move(host));
  }
  j["hosts"] = std::move(hosts);
  nlohmann::ordered_json gpus = nlohmann::ordered_json::array();
  for (NodeId g : topo.gpus()) {
    const Node& n = topo.node(g);
    nlohmann::ordered_json gpu{{"index", n.gpu_index},
                               {"name", n.spec.name},
                               {"host", n.spec.host},
                               {"model", n.spec.model},
                               {"nvlink_domain", n.nvlink_domain},
                               {"rail", topo.rail(g)}};
    gpu["nearest_nics"] = nlohmann::ordered_json::array();
    for (NodeId nic : topo.nearest_nics(g)) gpu["nearest_nics"].push_back(topo.node(nic).spec.name);
    gpus.push_back(std::move(gpu));
  }
  j["gpus"] = std::move(gpus);
  if (summary != nullptr) {
    nlohmann::ordered_json classes = nlohmann::ordered_json::array();
    for (const auto& [cls, c] : summary->by_class) {
      classes.push_back({{"class", cls},
                         {"pairs", c.pairs},
                         {"bandwidth_GBps", {c.bandwidth_min_GBps, c.bandwidth_max_GBps}},
                         {"latency_us", {c.latency_min.ToMicroseconds(), c.latency_max.ToMicroseconds()}}});
    }
    j["pairs_from"] = summary->from.empty() ? nlohmann::ordered_json("all") : nlohmann::ordered_json(summary->from);
    j["pairs_by_class"] = std::move(classes);
    return j;
  }
  // ordered_json keeps keys in a vector: fill local arrays, then insert them (no references across insertions).
  nlohmann::ordered_json devices = nlohmann::ordered_json::array();
  for (NodeId d : m->devices) devices.push_back(DeviceLabel(topo, d));
  nlohmann::ordered_json cls = nlohmann::ordered_json::array(), bw = cls, lat = cls;
  for (size_t r = 0; r < m->size(); ++r) {
    nlohmann::ordered_json c = nlohmann::ordered_json::array(), b = c, l = c;
    for (size_t col = 0; col < m->size(); ++col) {
      const PairPath& p = m->at(r, col);
      c.push_back(r == col ? "X" : p.reachable ? p.info.ToString() : "-");
      b.push_back(p.bandwidth_GBps);
      l.push_back(p.latency.ToMicroseconds());
    }
    cls.push_back(std::move(c));
    bw.push_back(std::move(b));
    lat.push_back(std::move(l));
  }
  j["devices"] = std::move(devices);
  j["class"] = std::move(cls);
  j["bandwidth_GBps"] = std::move(bw);
  j["latency_us"] = std::move(lat);
  return j;
}

// --nodes, --fabric and --nic-preset as a layout; the bandwidth, when no preset, comes from the import.
Result<ClusterLayout> ReadClusterLayout(int nodes, const std::string& fabric, const std::string& nic_preset) {
  ClusterLayout layout;
  if (nodes < 1) return InvalidArgument("--nodes: expected 1 or more, got " + std::to_string(nodes));
  layout.hosts = nodes;
  if (fabric == "rail") {
    layout.fabric = FabricKind::kRailOptimized;
  } else if (fabric == "single") {
    layout.fabric = FabricKind::kSingleSwitch;
  } else if (fabric == "fat-tree") {
    layout.fabric = FabricKind::kFatTree;
  } else if (!fabric.empty()) {
    return InvalidArgument("--fabric: expected rail, single or fat-tree, got '" + fabric + "'");
  }
  if (nodes > 1 && !layout.fabric) {
    return InvalidArgument("--nodes " + std::to_string(nodes) +
                           " needs --fabric rail, single or fat-tree to join them");
  }
  if (!nic_preset.empty()) {
    const LinkPreset* preset = FindLinkPreset(nic_preset);
    if (preset == nullptr || !IsNetworkLink(preset->kind)) {
      std::string known;
      for (const LinkPreset& p : LinkPresets())
        if (IsNetworkLink(p.kind)) known += (known.empty() ? "" : ", ") + std::string(p.name);
      return InvalidArgument("--nic-preset: '" + nic_preset + "' is not a network link preset (known: " + known + ")");
    }
    if (!layout.fabric) return InvalidArgument("--nic-preset describes the fabric's ports: give --fabric too");
    layout.preset = nic_preset;
  }
  return layout;
}

std::string FabricWords(const std::string& fabric) {
  return fabric == "rail" ? "rail-optimised" : fabric == "single" ? "single-switch" : fabric;
}

// The header line that says how the cluster was laid out.
std::string ClusterNote(const ClusterLayout& layout, const std::string& fabric) {
  std::ostringstream s;
  s << "cluster: " << layout.hosts << " host" << (layout.hosts == 1 ? "" : "s") << " of this machine, their NICs on a "
    << FabricWords(fabric) << " fabric (docs/formats/topology.md, [[fabric]]), ports ";
  if (!layout.preset.empty()) {
    const LinkPreset* p = FindLinkPreset(layout.preset);
    s << "'" << layout.preset << "': " << p->bandwidth_GBps << " GB/s, " << p->source;
  } else {
    s << layout.bandwidth_GBps << " GB/s (the NICs' line rate / 8)";
  }
  return s.str();
}

}  // namespace

int TopoShow(const Args& args, AppContext& ctx) {
  po::options_description options("options");
  std::string topology_arg;
  options.add_options()("topology", po::value(&topology_arg)->default_value("dgx-h100"),
                        "topology file, or the name of a shipped one (topologies/NAME.toml)")(
      "json", "print the same data as JSON")("full", "print the full matrix even for large clusters");
  po::positional_options_description positional;
  positional.add("topology", 1);
  po::variables_map vm;
  if (auto code = ParseOptions(args, ctx, "topo show", "[TOPOLOGY] [--json] [--full]",
                               "wiresim topo show topologies/dgx-h100-2node.toml", options, positional, vm)) {
    return *code;
  }
  auto file = ReadInput(ctx, topology_arg, InputKind::kTopology);
  if (!file.ok()) return ReportError(ctx, "topo show", file.status());
  auto topo = LoadTopologyForVerb(*file, ctx.reader);
  if (!topo.ok()) return ReportError(ctx, "topo show", topo.status());

  const bool small = topo->gpu_count() <= 32 || vm.count("full");
  std::vector<NodeId> devices(topo->gpus().begin(), topo->gpus().end());
  if (small) devices.insert(devices.end(), topo->nics().begin(), topo->nics().end());
  if (vm.count("full") && devices.size() > kMaxMatrixDevices) {
    return ReportError(
        ctx, "topo show",
        InvalidArgument("--full: " + topo->name() + " has " + std::to_string(devices.size()) +
                        " GPUs and NICs, and a matrix prints at most " + std::to_string(kMaxMatrixDevices) +
                        " (one cell per pair); leave out --full for GPU pairs by class"));
  }
  const bool matrix = small || (vm.count("json") && devices.size() <= kMaxJsonMatrixDevices);
  const size_t gpus = static_cast<size_t>(topo->gpu_count());
  std::optional<PathMatrix> m;
  std::optional<ClassSummary> summary;
  if (matrix) {
    m = ComputePathMatrix(*topo, devices);
  } else {
    summary = SummarizeGpuPairs(*topo);
  }

  if (vm.count("json")) {
    ctx.out << TopologyJson(*topo, m ? &*m : nullptr, summary ? &*summary : nullptr).dump(1) << "\n";
    return kExitOk;
  }
  ctx.out << topo->name() << ": " << Summary(*topo) << "\n";
  if (!topo->description().empty()) ctx.out << topo->description() << "\n";
  ctx.out << "\n";
  if (small) {
    PrintClassMatrix(ctx.out, *topo, *m);
    PrintRouteMatrix(ctx.out, *topo, *m, gpus);
  } else {
    PrintClassSummary(ctx.out, *topo, *summary);
  }
  return kExitOk;
}

int TopoImport(const Args& args, AppContext& ctx) {
  po::options_description options("options");
  std::string input, output, format, gpu_model, host, fabric, nic_preset;
  double nic_speed = 0;
  int nodes = 1;
  options.add_options()("input", po::value(&input)->required(),
                        "`nvidia-smi topo -m` output, or an NCCL topology XML (NCCL_TOPO_DUMP_FILE)")(
      "output,o", po::value(&output), "write the topology here (default: standard output)")(
      "format", po::value(&format)->default_value("auto"), "auto, nvidia-smi or nccl-xml")(
      "gpu-model", po::value(&gpu_model), "GPU model of every GPU (h100-sxm, a100-sxm-80gb, ...)")(
      "nic-speed-gbps", po::value(&nic_speed), "NIC line rate in Gb/s, for nvidia-smi input (default 400)")(
      "host", po::value(&host)->default_value("node"), "name of the imported machine")(
      "nodes", po::value(&nodes)->default_value(1), "write a cluster of N copies of the machine (needs --fabric)")(
      "fabric", po::value(&fabric), "join the machines' NICs: rail (rail-optimised), single (one switch) or fat-tree")(
      "nic-preset", po::value(&nic_preset),
      "the fabric's ports as a link preset (ndr, hdr, xdr, roce400, ...); default: the NICs' line rate, InfiniBand");
  po::positional_options_description positional;
  positional.add("input", 1);
  po::variables_map vm;
  if (auto code = ParseOptions(
          args, ctx, "topo import", "FILE [-o OUT.toml] [--gpu-model M] [--nodes N --fabric rail|single|fat-tree]",
          "wiresim topo import node.txt --nodes 16 --fabric rail -o cluster.toml", options, positional, vm)) {
    return *code;
  }
  ImportOptions opts;
  if (format == "nvidia-smi") {
    opts.format = ImportFormat::kNvidiaSmi;
  } else if (format == "nccl-xml") {
    opts.format = ImportFormat::kNcclXml;
  } else if (format != "auto") {
    return ReportError(ctx, "topo import",
                       InvalidArgument("--format: expected auto, nvidia-smi or nccl-xml, got '" + format + "'"));
  }
  auto layout = ReadClusterLayout(nodes, fabric, nic_preset);
  if (!layout.ok()) return ReportError(ctx, "topo import", layout.status());
  if (!gpu_model.empty()) {
    const GpuSpec* spec = FindGpuSpec(gpu_model);
    if (spec == nullptr) {
      return ReportError(ctx, "topo import",
                         InvalidArgument("--gpu-model " + gpu_model + ": wiresim has no spec for this GPU (known: " +
                                         std::string(KnownGpuNames()) + ")"));
    }
    opts.gpu_model = spec->name;  // the catalog's name, which every part knows ("4090" -> "rtx-4090")
  }
  // A line rate in Gb/s is 8 times the link bandwidth it gives (docs/formats/numbers.md bounds that bandwidth).
  constexpr NumericRange kNicSpeedGbps{8 * kMinBandwidthGBps,     false,   8 * kMaxBandwidthGBps, false,
                                       "a NIC line rate in Gb/s", "8 PB/s"};
  if (vm.count("nic-speed-gbps")) {
    if (Status s = CheckNumber({}, "--nic-speed-gbps", nic_speed, kNicSpeedGbps); !s.ok()) {
      return ReportError(ctx, "topo import", s);
    }
  }
  opts.nic_speed_Gbps = nic_speed;
  // The host names the written template and host: refused here, rather than written into a file that cannot load.
  if (!IsValidTopologyName(host)) {
    return ReportError(ctx, "topo import",
                       InvalidArgument("--host: '" + ToValidUtf8(InputExcerpt(host)) +
                                       "' is not a valid host name (letters, digits, '_', '-', '.')"));
  }
  opts.host = host;
  auto file = ctx.reader.Read(input, "");
  if (!file.ok()) return ReportError(ctx, "topo import", file.status());
  auto imported = ImportTopology(*file, opts);
  if (!imported.ok()) return ReportError(ctx, "topo import", imported.status());
  const bool has_nic = std::any_of(imported->spec.nodes.begin(), imported->spec.nodes.end(),
                                   [](const NodeSpec& n) { return n.kind == NodeKind::kNic; });
  if (layout->fabric && !has_nic) {
    return ReportError(ctx, "topo import", InvalidArgument(input + " shows no NIC for --fabric to join"));
  }
  if (layout->fabric && layout->preset.empty()) {
    if (!(imported->nic_speed_Gbps > 0)) {
      return ReportError(ctx, "topo import",
                         InvalidArgument("the input gives no NIC speed: say it with --nic-preset (ndr, roce400, ...)"));
    }
    layout->bandwidth_GBps = imported->nic_speed_Gbps / 8;
  }
  // The cluster's size, before it is written: the machine's nodes and GPUs times --nodes, within what a topology
  // may hold (a fabric's switches come on top; the load below checks them).
  const size_t machine_gpus =
      static_cast<size_t>(std::count_if(imported->spec.nodes.begin(), imported->spec.nodes.end(),
                                        [](const NodeSpec& n) { return n.kind == NodeKind::kGpu; }));
  const size_t hosts = static_cast<size_t>(layout->hosts);
  if (hosts * imported->spec.nodes.size() > kMaxTopologyNodes ||
      hosts * machine_gpus > static_cast<size_t>(kMaxRanks)) {
    return ReportError(
        ctx, "topo import",
        InvalidArgument("--nodes " + std::to_string(hosts) + ": " + std::to_string(hosts) + " x " +
                        std::to_string(imported->spec.nodes.size()) + " nodes (" + std::to_string(machine_gpus) +
                        " GPUs) per machine, more than a topology " + "holds (" + std::to_string(kMaxTopologyNodes) +
                        " nodes, " + std::to_string(kMaxRanks) + " GPUs)"));
  }
  if (layout->fabric) {
    imported->notes.push_back(ClusterNote(*layout, fabric));
    imported->spec.description += "; " + std::to_string(layout->hosts) + " host" + (layout->hosts == 1 ? "" : "s") +
                                  " on a " + FabricWords(fabric) + " fabric";
  }
  auto toml = WriteMachineFile(imported->spec, imported->Comment(), *layout);
  if (!toml.ok()) return ReportError(ctx, "topo import", toml.status());
  // What is written must load back: parse it before anyone else has to.
  SourceFile written{output.empty() ? "<output>" : output, *toml};
  auto check = LoadTopology(written, ctx.reader);
  if (!check.ok()) {
    return ReportError(ctx, "topo import", Internal("the written topology does not load: " + check.status().message()));
  }
  // The input may not name the GPU (nvidia-smi topo -m never does): a file the other verbs would refuse is not
  // written.
  for (NodeId g : check->gpus()) {
    const std::string& model = check->node(g).spec.model;
    if (FindGpuSpec(model) != nullptr) continue;
    return ReportError(ctx, "topo import",
                       InvalidArgument(file->name + ": " +
                                       (model.empty() ? "the input does not name the GPU model"
                                                      : "the input's GPU model \"" + model + "\" has no spec") +
                                       "; pass --gpu-model (known: " + std::string(KnownGpuNames()) + ")"));
  }
  if (Status models = CheckGpuModels(*check); !models.ok()) return ReportError(ctx, "topo import", models);
  for (const std::string& note : imported->notes) {
    if (note.rfind("WARNING", 0) == 0) ctx.err << "wiresim topo import: " << note << "\n";
  }
  if (output.empty() || output == "-") {
    ctx.out << *toml;
    return kExitOk;
  }
  if (Status s = WriteFileAtomically(output, *toml); !s.ok()) return ReportError(ctx, "topo import", s);
  ctx.err << "wiresim topo import: wrote " << output << " (" << check->node_count() << " nodes, " << check->link_count()
          << " one-way links)\n";
  return kExitOk;
}

}  // namespace wiresim::app
