#include "sim/topology/topology_file.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "sim/config/toml_reader.h"
#include "sim/core/text.h"
#include "sim/topology/fabric.h"
#include "sim/topology/link_presets.h"
#include "sim/topology/selector.h"

namespace wiresim {
namespace {

// 1 = non-blocking, 2 = 2:1; 64 keeps the slowest allowed link's share above kMinBandwidthGBps / 64.
constexpr NumericRange kOversubscription{
    1, false, 64, false, "an oversubscription ratio (1 = non-blocking, 2 = 2:1)", "64:1"};

using config::TableReader;
using internal::Selector;

// A machine type: its nodes (local names) and links (as pairs of local node indices).
struct Template {
  std::string name;
  SourceLocation origin;
  std::vector<NodeSpec> nodes;
  std::vector<LinkSpec> links;  // a and b index `nodes`
};

bool ValidName(const std::string& name) { return IsValidTopologyName(name); }

Status TooLarge(TableReader& t, const char* key, const char* what, size_t total, size_t max) {
  return t.Error(key, "the topology would have " + std::to_string(total) + " " + what + ", more than " +
                          std::to_string(max) + " (2^" + std::to_string(std::bit_width(max) - 1) + ")");
}

// Reads a [[node]] table into one or more NodeSpecs (several when `count` is given: name0, name1, ...).
Status ReadNodes(TableReader& t, const std::string& host, std::vector<NodeSpec>* out, size_t already = 0) {
  WIRESIM_RETURN_IF_ERROR(t.CheckKeys({"name", "kind", "count", "model", "rail", "numa", "host"}));
  if (t.Has("host") && !t.path().empty() && t.path() != "node") return t.Error("host", "unknown key");
  WIRESIM_ASSIGN_OR_RETURN(std::string name, t.String("name"));
  if (!ValidName(name)) {
    return t.Error("name", "'" + name + "' is not a valid node name (letters, digits, '_', '-', '.')");
  }
  WIRESIM_ASSIGN_OR_RETURN(std::string kind_text, t.String("kind"));
  auto kind = ParseNodeKind(kind_text);
  if (!kind) {
    return t.Error("kind", "unknown node kind '" + kind_text +
                               "' (expected gpu, nvswitch, pcie_switch, host_bridge, cpu, nic or switch)");
  }
  WIRESIM_ASSIGN_OR_RETURN(auto count, t.OptionalInt("count", 1, 1 << 20));
  WIRESIM_ASSIGN_OR_RETURN(std::string model, t.StringOr("model", ""));
  WIRESIM_ASSIGN_OR_RETURN(auto rail, t.OptionalInt("rail", 0, 1 << 20));
  WIRESIM_ASSIGN_OR_RETURN(auto numa, t.OptionalInt("numa", 0, 1 << 20));
  if (rail && *kind != NodeKind::kNic) return t.Error("rail", "only NICs have a rail");
  if (numa && *kind != NodeKind::kCpu) return t.Error("numa", "only CPUs have a NUMA node");
  if (count && (rail || numa)) {
    return t.Error(rail ? "rail" : "numa", "cannot be set on a node with a count; declare the nodes one by one");
  }
  const int n = count ? static_cast<int>(*count) : 1;
  const size_t total = already + out->size() + static_cast<size_t>(n);
  if (total > kMaxTopologyNodes) return TooLarge(t, "count", "nodes", total, kMaxTopologyNodes);
  for (int i = 0; i < n; ++i) {
    NodeSpec node;
    node.name = count ? name + std::to_string(i) : name;
    node.kind = *kind;
    node.host = host;
    node.model = model;
    node.rail = rail ? static_cast<int>(*rail) : -1;
    node.numa = numa ? static_cast<int>(*numa) : (*kind == NodeKind::kCpu && count ? i : -1);
    node.origin = t.where();
    out->push_back(std::move(node));
  }
  return t.CheckNoUnknownKeys();
}

// Link properties shared by [[link]], [[template.link]] and [[fabric]]: kind or preset, bandwidth, latency.
struct LinkProps {
  LinkKind kind = LinkKind::kPcie;
  double bandwidth_GBps = 0;
  Time latency;
};

Result<LinkProps> ReadLinkProps(TableReader& t, const char* kind_key, std::optional<LinkKind> default_kind) {
  LinkProps props;
  WIRESIM_ASSIGN_OR_RETURN(auto preset_name, t.OptionalString("preset"));
  const LinkPreset* preset = nullptr;
  if (preset_name) {
    preset = FindLinkPreset(*preset_name);
    if (preset == nullptr) {
      std::string names;
      for (const LinkPreset& p : LinkPresets()) names += (names.empty() ? "" : ", ") + std::string(p.name);
      return t.Error("preset", "unknown link preset '" + *preset_name + "' (known: " + names + ")");
    }
  }
  WIRESIM_ASSIGN_OR_RETURN(auto kind_text, t.OptionalString(kind_key));
  std::optional<LinkKind> kind;
  if (kind_text) {
    kind = ParseLinkKind(*kind_text);
    if (!kind) {
      return t.Error(kind_key, "unknown link kind '" + *kind_text +
                                   "' (expected nvlink, pcie, infiniband, roce, ethernet, c2c or cpu_interconnect)");
    }
    if (preset && preset->kind != *kind) {
      return t.Error(kind_key, "'" + *kind_text + "' contradicts preset '" + std::string(preset->name) + "' (" +
                                   std::string(ToString(preset->kind)) + ")");
    }
  } else if (preset) {
    kind = preset->kind;
  } else {
    kind = default_kind;
  }
  if (!kind) return t.Error(kind_key, "is required (or give a preset)");
  props.kind = *kind;

  WIRESIM_ASSIGN_OR_RETURN(auto bandwidth, t.OptionalNumberIn("bandwidth_GBps", kBandwidthGBps));
  if (bandwidth) {
    props.bandwidth_GBps = *bandwidth;
  } else if (preset) {
    props.bandwidth_GBps = preset->bandwidth_GBps;
  } else {
    return t.Error("bandwidth_GBps", "is required (GB/s per direction per link), or give a preset");
  }
  WIRESIM_ASSIGN_OR_RETURN(auto latency_ns, t.OptionalNumberIn("latency_ns", kLatencyNs));
  props.latency = latency_ns ? Time::FromNanoseconds(*latency_ns) : DefaultLatency(props.kind);
  return props;
}

// Resolves a selector against `names`, returning matching indices in order. Errors when it matches nothing.
Result<std::vector<int>> Resolve(TableReader& t, const char* key, const std::string& text,
                                 const std::vector<std::string>& names, const std::string& scope) {
  std::string error;
  auto sel = Selector::Parse(text, &error);
  if (!sel) return t.Error(key, error);
  std::vector<int> out;
  for (size_t i = 0; i < names.size(); ++i)
    if (sel->Matches(names[i])) out.push_back(static_cast<int>(i));
  if (out.empty()) return t.Error(key, "'" + text + "' matches no node" + scope);
  return out;
}

// Pairs the endpoints of a link declaration: "all" (every a with every b), "zip" (i-th with i-th), "block" (the
// larger side split into equal consecutive blocks, block j with the j-th node of the smaller side).
Result<std::vector<std::pair<int, int>>> MapEndpoints(TableReader& t, const std::vector<int>& a,
                                                      const std::vector<int>& b) {
  WIRESIM_ASSIGN_OR_RETURN(std::string map, t.StringOr("map", "all"));
  std::vector<std::pair<int, int>> pairs;
  if (map == "all") {
    if (a.size() * b.size() > kMaxTopologyLinks) {
      return TooLarge(t, "map", "links from this declaration", a.size() * b.size(), kMaxTopologyLinks);
    }
    for (int x : a)
      for (int y : b) pairs.emplace_back(x, y);
  } else if (map == "zip") {
    if (a.size() != b.size()) {
      return t.Error("map", "\"zip\" needs as many 'from' nodes (" + std::to_string(a.size()) + ") as 'to' nodes (" +
                                std::to_string(b.size()) + ")");
    }
    for (size_t i = 0; i < a.size(); ++i) pairs.emplace_back(a[i], b[i]);
  } else if (map == "block") {
    const size_t large = std::max(a.size(), b.size());
    const size_t small = std::min(a.size(), b.size());
    if (large % small != 0) {
      return t.Error("map", "\"block\" needs one side's node count (" + std::to_string(large) +
                                ") to be a multiple of the other's (" + std::to_string(small) + ")");
    }
    const size_t per = large / small;
    for (size_t i = 0; i < large; ++i) {
      if (a.size() >= b.size()) {
        pairs.emplace_back(a[i], b[i / per]);
      } else {
        pairs.emplace_back(a[i / per], b[i]);
      }
    }
  } else {
    return t.Error("map", "expected \"all\", \"zip\" or \"block\", got \"" + map + "\"");
  }
  return pairs;
}

// Reads a [[link]] table: endpoints resolved against `names` (node indices in `ids`), links appended to `out`.
Status ReadLinks(TableReader& t, const std::vector<std::string>& names, const std::vector<NodeId>& ids,
                 const std::string& scope, std::vector<LinkSpec>* out) {
  WIRESIM_RETURN_IF_ERROR(
      t.CheckKeys({"from", "to", "kind", "preset", "bandwidth_GBps", "latency_ns", "count", "map"}));
  WIRESIM_ASSIGN_OR_RETURN(std::string from_text, t.String("from"));
  WIRESIM_ASSIGN_OR_RETURN(std::string to_text, t.String("to"));
  WIRESIM_ASSIGN_OR_RETURN(std::vector<int> from, Resolve(t, "from", from_text, names, scope));
  WIRESIM_ASSIGN_OR_RETURN(std::vector<int> to, Resolve(t, "to", to_text, names, scope));
  WIRESIM_ASSIGN_OR_RETURN(LinkProps props, ReadLinkProps(t, "kind", std::nullopt));
  WIRESIM_ASSIGN_OR_RETURN(int64_t count, t.IntOr("count", 1, 1, 1 << 16));
  WIRESIM_ASSIGN_OR_RETURN(auto pairs, MapEndpoints(t, from, to));
  if (out->size() + pairs.size() > kMaxTopologyLinks) {
    return TooLarge(t, "from", "links", out->size() + pairs.size(), kMaxTopologyLinks);
  }
  for (const auto& [x, y] : pairs) {
    if (x == y) return t.Error("to", "links node '" + names[static_cast<size_t>(x)] + "' to itself");
    LinkSpec link;
    link.a = ids[static_cast<size_t>(x)];
    link.b = ids[static_cast<size_t>(y)];
    link.kind = props.kind;
    link.bandwidth_GBps = props.bandwidth_GBps;
    link.count = static_cast<int>(count);
    link.latency = props.latency;
    link.origin = t.where();
    out->push_back(link);
  }
  return t.CheckNoUnknownKeys();
}

Result<Template> ReadTemplate(TableReader& t) {
  WIRESIM_RETURN_IF_ERROR(t.CheckKeys({"name", "description", "node", "link"}));
  Template tpl;
  WIRESIM_ASSIGN_OR_RETURN(tpl.name, t.String("name"));
  tpl.origin = t.where();
  WIRESIM_ASSIGN_OR_RETURN(auto description, t.StringOr("description", ""));
  (void)description;
  WIRESIM_ASSIGN_OR_RETURN(auto nodes, t.Tables("node"));
  for (TableReader& n : nodes) WIRESIM_RETURN_IF_ERROR(ReadNodes(n, "", &tpl.nodes));
  if (tpl.nodes.empty()) return t.Error("node", "template '" + tpl.name + "' has no nodes");
  std::vector<std::string> names;
  std::vector<NodeId> ids;
  std::set<std::string> seen;
  for (const NodeSpec& n : tpl.nodes) {
    if (!seen.insert(n.name).second) {
      return InvalidInput(n.origin, "template.node.name",
                          "duplicate node name '" + n.name + "' in template '" + tpl.name + "'");
    }
    ids.push_back(static_cast<NodeId>(names.size()));
    names.push_back(n.name);
  }
  WIRESIM_ASSIGN_OR_RETURN(auto links, t.Tables("link"));
  for (TableReader& l : links) {
    WIRESIM_RETURN_IF_ERROR(ReadLinks(l, names, ids, " in template '" + tpl.name + "'", &tpl.links));
  }
  WIRESIM_RETURN_IF_ERROR(t.CheckNoUnknownKeys());
  return tpl;
}

class Loader {
 public:
  explicit Loader(SourceReader& reader) : reader_(reader) {}

  Result<TopologySpec> Load(const SourceFile& file) {
    WIRESIM_ASSIGN_OR_RETURN(toml::table doc, config::ParseToml(file));
    TableReader top(doc, file.name, "");
    WIRESIM_RETURN_IF_ERROR(
        top.CheckKeys({"name", "description", "include", "template", "host", "node", "link", "fabric"}));
    TopologySpec spec;
    spec.origin = SourceLocation{file.name, 0, 0};
    WIRESIM_ASSIGN_OR_RETURN(spec.name, top.StringOr("name", ""));
    WIRESIM_ASSIGN_OR_RETURN(spec.description, top.StringOr("description", ""));
    WIRESIM_RETURN_IF_ERROR(ReadTemplates(top, file.name));
    WIRESIM_RETURN_IF_ERROR(ReadHosts(top, &spec));
    WIRESIM_ASSIGN_OR_RETURN(auto nodes, top.Tables("node"));
    for (TableReader& n : nodes) {
      WIRESIM_ASSIGN_OR_RETURN(std::string host, n.StringOr("host", ""));
      std::vector<NodeSpec> added;
      WIRESIM_RETURN_IF_ERROR(ReadNodes(n, host, &added, spec.nodes.size()));
      for (NodeSpec& node : added) {
        if (!host.empty()) node.name = host + "/" + node.name;
        spec.nodes.push_back(std::move(node));
      }
    }
    std::vector<std::string> names;
    std::vector<NodeId> ids;
    for (size_t i = 0; i < spec.nodes.size(); ++i) {
      names.push_back(spec.nodes[i].name);
      ids.push_back(static_cast<NodeId>(i));
    }
    WIRESIM_ASSIGN_OR_RETURN(auto links, top.Tables("link"));
    for (TableReader& l : links) WIRESIM_RETURN_IF_ERROR(ReadLinks(l, names, ids, "", &spec.links));
    WIRESIM_ASSIGN_OR_RETURN(auto fabrics, top.Tables("fabric"));
    for (TableReader& f : fabrics) WIRESIM_RETURN_IF_ERROR(ReadFabric(f, &spec));
    WIRESIM_RETURN_IF_ERROR(top.CheckNoUnknownKeys());
    if (spec.name.empty()) spec.name = file.name;
    return spec;
  }

 private:
  // Templates of this file and, recursively, of the files it includes.
  Status ReadTemplates(TableReader& top, const std::string& file) {
    if (!visiting_.insert(file).second) {
      return top.Error("include", "includes itself (through '" + file + "')");
    }
    WIRESIM_ASSIGN_OR_RETURN(auto includes, top.StringList("include"));
    for (const std::string& path : includes) {
      auto included = reader_.Read(path, file);
      if (!included.ok()) return top.Error("include", included.status().message());
      WIRESIM_ASSIGN_OR_RETURN(toml::table doc, config::ParseToml(*included));
      TableReader inner(doc, included->name, "");
      for (const char* key : {"name", "description", "host", "node", "link", "fabric"}) inner.Accept(key);
      WIRESIM_RETURN_IF_ERROR(ReadTemplates(inner, included->name));
      WIRESIM_RETURN_IF_ERROR(inner.CheckNoUnknownKeys());
    }
    WIRESIM_ASSIGN_OR_RETURN(auto templates, top.Tables("template"));
    for (TableReader& t : templates) {
      WIRESIM_ASSIGN_OR_RETURN(Template tpl, ReadTemplate(t));
      auto it = templates_.find(tpl.name);
      if (it != templates_.end()) {
        return t.Error("name", "template '" + tpl.name + "' is already defined at " + it->second.origin.ToString());
      }
      templates_.emplace(tpl.name, std::move(tpl));
    }
    visiting_.erase(file);
    return Status::Ok();
  }

  Status ReadHosts(TableReader& top, TopologySpec* spec) {
    WIRESIM_ASSIGN_OR_RETURN(auto hosts, top.Tables("host"));
    std::set<std::string> host_names;
    for (TableReader& h : hosts) {
      WIRESIM_RETURN_IF_ERROR(h.CheckKeys({"template", "name", "count", "gpu_model"}));
      WIRESIM_ASSIGN_OR_RETURN(std::string tpl_name, h.String("template"));
      auto it = templates_.find(tpl_name);
      if (it == templates_.end()) {
        std::string known;
        for (const auto& [name, tpl] : templates_) known += (known.empty() ? "" : ", ") + name;
        return h.Error("template",
                       "no template named '" + tpl_name + "'" +
                           (known.empty() ? " (this file defines or includes none)" : " (known: " + known + ")"));
      }
      const Template& tpl = it->second;
      WIRESIM_ASSIGN_OR_RETURN(std::string base, h.StringOr("name", "node"));
      if (!ValidName(base)) return h.Error("name", "'" + base + "' is not a valid host name");
      WIRESIM_ASSIGN_OR_RETURN(auto count, h.OptionalInt("count", 1, 1 << 20));
      WIRESIM_ASSIGN_OR_RETURN(auto gpu_model, h.OptionalString("gpu_model"));
      WIRESIM_RETURN_IF_ERROR(h.CheckNoUnknownKeys());
      const int n = count ? static_cast<int>(*count) : 1;
      const size_t nodes = spec->nodes.size() + static_cast<size_t>(n) * tpl.nodes.size();
      if (nodes > kMaxTopologyNodes) return TooLarge(h, "count", "nodes", nodes, kMaxTopologyNodes);
      const size_t links = spec->links.size() + static_cast<size_t>(n) * tpl.links.size();
      if (links > kMaxTopologyLinks) return TooLarge(h, "count", "links", links, kMaxTopologyLinks);
      for (int i = 0; i < n; ++i) {
        const std::string host = count ? base + std::to_string(i) : base;
        if (!host_names.insert(host).second) return h.Error("name", "host '" + host + "' is declared twice");
        const NodeId first = static_cast<NodeId>(spec->nodes.size());
        for (const NodeSpec& local : tpl.nodes) {
          NodeSpec node = local;
          node.name = host + "/" + local.name;
          node.host = host;
          // The node exists because of this [[host]] entry: messages about it name the entry (the template may be
          // in another file, one the user did not write).
          node.origin = h.where();
          if (gpu_model && node.kind == NodeKind::kGpu) node.model = *gpu_model;
          spec->nodes.push_back(std::move(node));
        }
        for (const LinkSpec& local : tpl.links) {
          LinkSpec link = local;
          link.a = first + local.a;
          link.b = first + local.b;
          spec->links.push_back(link);
        }
      }
    }
    return Status::Ok();
  }

  Status ReadFabric(TableReader& t, TopologySpec* spec) {
    WIRESIM_RETURN_IF_ERROR(t.CheckKeys({"kind", "name", "nics", "link_kind", "preset", "bandwidth_GBps", "latency_ns",
                                         "radix", "leaf_down_ports", "oversubscription", "switch_model"}));
    FabricSpec f;
    f.origin = t.where();
    WIRESIM_ASSIGN_OR_RETURN(std::string kind, t.String("kind"));
    if (kind == "single_switch") {
      f.kind = FabricKind::kSingleSwitch;
    } else if (kind == "rail_optimized") {
      f.kind = FabricKind::kRailOptimized;
    } else if (kind == "fat_tree") {
      f.kind = FabricKind::kFatTree;
    } else {
      return t.Error("kind", "unknown fabric kind '" + kind + "' (expected single_switch, rail_optimized or fat_tree)");
    }
    WIRESIM_ASSIGN_OR_RETURN(f.name, t.StringOr("name", "fabric"));
    WIRESIM_ASSIGN_OR_RETURN(std::string nics, t.StringOr("nics", ""));
    if (nics.empty()) {
      for (size_t i = 0; i < spec->nodes.size(); ++i)
        if (spec->nodes[i].kind == NodeKind::kNic) f.nics.push_back(static_cast<NodeId>(i));
      if (f.nics.empty()) return t.Error("nics", "the topology has no NIC to attach");
    } else {
      std::vector<std::string> names;
      for (const NodeSpec& n : spec->nodes) names.push_back(n.name);
      WIRESIM_ASSIGN_OR_RETURN(std::vector<int> picked, Resolve(t, "nics", nics, names, ""));
      for (int i : picked) {
        if (spec->nodes[static_cast<size_t>(i)].kind != NodeKind::kNic) {
          return t.Error("nics", "'" + nics + "' selects '" + names[static_cast<size_t>(i)] + "', which is not a NIC");
        }
        f.nics.push_back(i);
      }
    }
    WIRESIM_ASSIGN_OR_RETURN(LinkProps props, ReadLinkProps(t, "link_kind", LinkKind::kInfiniBand));
    if (!IsNetworkLink(props.kind)) {
      return t.Error("link_kind", "a fabric's links must be infiniband, roce or ethernet");
    }
    f.link_kind = props.kind;
    f.bandwidth_GBps = props.bandwidth_GBps;
    f.latency = props.latency;
    WIRESIM_ASSIGN_OR_RETURN(int64_t radix, t.IntOr("radix", 64, 2, 1 << 16));
    WIRESIM_ASSIGN_OR_RETURN(int64_t down, t.IntOr("leaf_down_ports", 0, 0, 1 << 16));
    WIRESIM_ASSIGN_OR_RETURN(auto oversubscription, t.OptionalNumberIn("oversubscription", kOversubscription));
    f.oversubscription = oversubscription.value_or(1.0);
    if (down >= radix) return t.Error("leaf_down_ports", "must be smaller than radix (" + std::to_string(radix) + ")");
    f.radix = static_cast<int>(radix);
    f.leaf_down_ports = static_cast<int>(down);
    WIRESIM_ASSIGN_OR_RETURN(f.switch_model, t.StringOr("switch_model", ""));
    WIRESIM_RETURN_IF_ERROR(t.CheckNoUnknownKeys());
    return AddFabric(f, spec);
  }

  SourceReader& reader_;
  std::map<std::string, Template> templates_;
  std::set<std::string> visiting_;
};

// A TOML basic string. Names copied from an imported file may hold control characters (written as \uXXXX escapes)
// and bytes that are not UTF-8 (written as U+FFFD), so that the file loads whatever the input held.
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : ToValidUtf8(s)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04X", u);
      out += buf;
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// One "# ..." line per line of `comment`, with control characters other than tab shown as U+FFFD and invalid UTF-8
// replaced (TOML allows neither in a comment).
void WriteComment(std::ostream& out, const std::string& comment) {
  std::istringstream lines(comment);
  for (std::string line; std::getline(lines, line);) {
    std::string clean;
    for (char c : ToValidUtf8(line)) {
      const auto u = static_cast<unsigned char>(c);
      clean += (u < 0x20 && c != '\t') || u == 0x7F ? std::string("\xEF\xBF\xBD") : std::string(1, c);
    }
    out << "# " << clean << "\n";
  }
}

std::string Number(double v) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, ptr);
}

}  // namespace

Result<TopologySpec> ParseTopologyFile(const SourceFile& file, SourceReader& reader) {
  Loader loader(reader);
  return loader.Load(file);
}

bool IsValidTopologyName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

Result<Topology> LoadTopology(const SourceFile& file, SourceReader& reader) {
  WIRESIM_ASSIGN_OR_RETURN(TopologySpec spec, ParseTopologyFile(file, reader));
  return Topology::Build(std::move(spec));
}

std::string WriteTopologyFile(const TopologySpec& spec, const std::string& comment) {
  std::ostringstream out;
  WriteComment(out, comment);
  out << "name = " << Quote(spec.name) << "\n";
  if (!spec.description.empty()) out << "description = " << Quote(spec.description) << "\n";
  for (const NodeSpec& n : spec.nodes) {
    out << "\n[[node]]\n";
    std::string name = n.name;
    if (!n.host.empty() && name.rfind(n.host + "/", 0) == 0) {
      name = name.substr(n.host.size() + 1);
      out << "host = " << Quote(n.host) << "\n";
    }
    out << "name = " << Quote(name) << "\nkind = " << Quote(std::string(ToString(n.kind))) << "\n";
    if (!n.model.empty()) out << "model = " << Quote(n.model) << "\n";
    if (n.rail >= 0) out << "rail = " << n.rail << "\n";
    if (n.numa >= 0) out << "numa = " << n.numa << "\n";
  }
  for (const LinkSpec& l : spec.links) {
    out << "\n[[link]]\nfrom = " << Quote(spec.nodes[static_cast<size_t>(l.a)].name)
        << "\nto = " << Quote(spec.nodes[static_cast<size_t>(l.b)].name)
        << "\nkind = " << Quote(std::string(ToString(l.kind))) << "\nbandwidth_GBps = " << Number(l.bandwidth_GBps)
        << "\n";
    if (l.count != 1) out << "count = " << l.count << "\n";
    out << "latency_ns = " << Number(l.latency.ToNanoseconds()) << "\n";
  }
  return out.str();
}

Result<std::string> WriteMachineFile(const TopologySpec& machine, const std::string& comment,
                                     const ClusterLayout& layout) {
  if (machine.nodes.empty()) return InvalidArgument("the machine has no nodes");
  const std::string host = machine.nodes.front().host;
  for (const NodeSpec& n : machine.nodes) {
    if (n.host.empty() || n.host != host || n.name.rfind(host + "/", 0) != 0) {
      return InvalidArgument("node '" + n.name + "' is not on host '" + host + "': only one machine can be a template");
    }
  }
  if (layout.hosts < 1) return InvalidArgument("the host count must be at least 1");
  if (layout.hosts > 1 && !layout.fabric) {
    return InvalidArgument(std::to_string(layout.hosts) + " hosts need a fabric to join them");
  }
  if (layout.fabric && layout.preset.empty() && !(layout.bandwidth_GBps > 0)) {
    return InvalidArgument("the fabric needs a link preset or a bandwidth");
  }
  const auto local = [&](const NodeSpec& n) { return n.name.substr(host.size() + 1); };

  std::ostringstream out;
  WriteComment(out, comment);
  out << "name = " << Quote(machine.name) << "\n";
  if (!machine.description.empty()) out << "description = " << Quote(machine.description) << "\n";
  out << "\n[[template]]\nname = " << Quote(host) << "\n";
  for (const NodeSpec& n : machine.nodes) {
    out << "\n  [[template.node]]\n  name = " << Quote(local(n))
        << "\n  kind = " << Quote(std::string(ToString(n.kind))) << "\n";
    if (!n.model.empty()) out << "  model = " << Quote(n.model) << "\n";
    if (n.rail >= 0) out << "  rail = " << n.rail << "\n";
    if (n.numa >= 0) out << "  numa = " << n.numa << "\n";
  }
  for (const LinkSpec& l : machine.links) {
    out << "\n  [[template.link]]\n  from = " << Quote(local(machine.nodes[static_cast<size_t>(l.a)]))
        << "\n  to = " << Quote(local(machine.nodes[static_cast<size_t>(l.b)]))
        << "\n  kind = " << Quote(std::string(ToString(l.kind))) << "\n  bandwidth_GBps = " << Number(l.bandwidth_GBps)
        << "\n";
    if (l.count != 1) out << "  count = " << l.count << "\n";
    out << "  latency_ns = " << Number(l.latency.ToNanoseconds()) << "\n";
  }
  out << "\n[[host]]\ntemplate = " << Quote(host) << "\nname = " << Quote(host) << "\n";
  if (layout.hosts > 1) out << "count = " << layout.hosts << "\n";
  if (layout.fabric) {
    const char* kind = *layout.fabric == FabricKind::kSingleSwitch    ? "single_switch"
                       : *layout.fabric == FabricKind::kRailOptimized ? "rail_optimized"
                                                                      : "fat_tree";
    out << "\n[[fabric]]\nkind = " << Quote(kind) << "\nname = \"net\"\n";
    if (!layout.preset.empty()) {
      out << "preset = " << Quote(layout.preset) << "\n";
    } else {
      out << "link_kind = " << Quote(std::string(ToString(layout.link_kind)))
          << "\nbandwidth_GBps = " << Number(layout.bandwidth_GBps) << "\n";
    }
  }
  return out.str();
}

}  // namespace wiresim
