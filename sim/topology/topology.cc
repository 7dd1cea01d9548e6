#include "sim/topology/topology.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <queue>
#include <unordered_map>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/connected_components.hpp>

#include "sim/core/numeric_field.h"

namespace wiresim {
namespace {

struct KindName {
  NodeKind kind;
  std::string_view name;
};
constexpr KindName kNodeKinds[] = {
    {NodeKind::kGpu, "gpu"},
    {NodeKind::kNvSwitch, "nvswitch"},
    {NodeKind::kPcieSwitch, "pcie_switch"},
    {NodeKind::kHostBridge, "host_bridge"},
    {NodeKind::kCpu, "cpu"},
    {NodeKind::kNic, "nic"},
    {NodeKind::kSwitch, "switch"},
};

struct LinkKindName {
  LinkKind kind;
  std::string_view name;
};
constexpr LinkKindName kLinkKinds[] = {
    {LinkKind::kNvLink, "nvlink"},
    {LinkKind::kPcie, "pcie"},
    {LinkKind::kInfiniBand, "infiniband"},
    {LinkKind::kRoce, "roce"},
    {LinkKind::kEthernet, "ethernet"},
    {LinkKind::kC2C, "c2c"},
    {LinkKind::kCpuInterconnect, "cpu_interconnect"},
};

}  // namespace

std::string_view ToString(NodeKind kind) {
  for (const auto& k : kNodeKinds)
    if (k.kind == kind) return k.name;
  return "?";
}

std::optional<NodeKind> ParseNodeKind(std::string_view name) {
  for (const auto& k : kNodeKinds)
    if (k.name == name) return k.kind;
  return std::nullopt;
}

std::string_view ToString(LinkKind kind) {
  for (const auto& k : kLinkKinds)
    if (k.kind == kind) return k.name;
  return "?";
}

std::optional<LinkKind> ParseLinkKind(std::string_view name) {
  for (const auto& k : kLinkKinds)
    if (k.name == name) return k.kind;
  return std::nullopt;
}

bool IsNetworkLink(LinkKind kind) {
  return kind == LinkKind::kInfiniBand || kind == LinkKind::kRoce || kind == LinkKind::kEthernet;
}

struct Topology::Impl {
  std::string name;
  std::string description;
  SourceLocation origin;
  std::vector<Node> nodes;
  std::vector<Link> links;
  std::vector<LinkSpec> link_specs;
  // Out-links of each node in compressed rows: out_links[out_begin[v] .. out_begin[v+1]).
  std::vector<int32_t> out_begin;
  std::vector<LinkId> out_links;
  std::unordered_map<std::string, NodeId> by_name;
  std::vector<NodeId> gpus;
  std::vector<NodeId> nics;
  std::vector<Host> hosts;
  std::vector<std::vector<NodeId>> nearest_nics;  // per node; empty for non-GPUs
  int nvlink_domains = 0;
};

Topology::Topology(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Topology::Topology(Topology&&) noexcept = default;
Topology& Topology::operator=(Topology&&) noexcept = default;
Topology::~Topology() = default;

namespace {

Status ValidateLinks(const TopologySpec& spec) {
  const int n = static_cast<int>(spec.nodes.size());
  for (const LinkSpec& l : spec.links) {
    if (l.a < 0 || l.a >= n || l.b < 0 || l.b >= n) {
      return InvalidInput(l.origin, "link", "endpoint refers to a node that does not exist");
    }
    if (l.a == l.b) {
      return InvalidInput(l.origin, "link",
                          "connects node '" + spec.nodes[static_cast<size_t>(l.a)].name + "' to itself");
    }
    // The bounds of numeric_field.h, for links that did not come from a TOML file (importers, fabrics).
    WIRESIM_RETURN_IF_ERROR(CheckNumber(l.origin, "bandwidth_GBps", l.bandwidth_GBps, kBandwidthGBps));
    WIRESIM_RETURN_IF_ERROR(CheckInteger(l.origin, "count", l.count, kRankCount));
    WIRESIM_RETURN_IF_ERROR(CheckNumber(l.origin, "latency_ns", l.latency.ToNanoseconds(), kLatencyNs));
  }
  return Status::Ok();
}

// Labels GPUs joined by NVLink (directly, or through NVSwitches or other GPUs) with the same domain id, numbered in
// order of each domain's first GPU.
int LabelNvlinkDomains(const std::vector<LinkSpec>& links, std::vector<Node>& nodes) {
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS>;
  Graph g(nodes.size());
  for (const LinkSpec& l : links) {
    if (l.kind == LinkKind::kNvLink) boost::add_edge(static_cast<size_t>(l.a), static_cast<size_t>(l.b), g);
  }
  std::vector<int> component(nodes.size());
  boost::connected_components(g, component.data());
  std::unordered_map<int, int> dense;
  for (Node& node : nodes) {
    if (node.spec.kind != NodeKind::kGpu) continue;
    const int c = component[static_cast<size_t>(&node - nodes.data())];
    auto [it, inserted] = dense.emplace(c, static_cast<int>(dense.size()));
    node.nvlink_domain = it->second;
  }
  return static_cast<int>(dense.size());
}

// Every GPU must reach every other under the routing rules of routing.h: no GPU forwards, and a route enters the
// network once. So a reaches b either inside the machine (over non-network links, through no GPU), or by leaving
// through some NIC into a network component (nodes joined by network links) that b also reaches from inside its
// machine. Reachability is not transitive under these rules (h1 -> h0 -> h2 may exist while h1 -> h2 does not), so
// every GPU's count of GPUs it reaches is checked against all the others.
Status CheckGpusReachEachOther(const Topology& topo) {
  const size_t n = static_cast<size_t>(topo.node_count());
  // Network components: union-find over network links.
  std::vector<size_t> parent(n);
  for (size_t i = 0; i < n; ++i) parent[i] = i;
  auto find = [&](size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (LinkId l = 0; l < topo.link_count(); ++l) {
    const Link& link = topo.link(l);
    if (IsNetworkLink(link.kind)) parent[find(static_cast<size_t>(link.from))] = find(static_cast<size_t>(link.to));
  }
  const auto gpus = topo.gpus();
  std::vector<int> gpu_of(n, -1);
  for (size_t g = 0; g < gpus.size(); ++g) gpu_of[static_cast<size_t>(gpus[g])] = static_cast<int>(g);
  // For each GPU: the GPUs it reaches inside, and the network components it can enter.
  std::vector<std::vector<int>> inside(gpus.size());
  std::vector<std::vector<size_t>> networks(gpus.size());
  std::vector<uint32_t> seen(n, 0);
  std::vector<NodeId> stack;
  for (size_t g = 0; g < gpus.size(); ++g) {
    const uint32_t stamp = static_cast<uint32_t>(g + 1);
    stack.assign(1, gpus[g]);
    seen[static_cast<size_t>(gpus[g])] = stamp;
    while (!stack.empty()) {
      const NodeId u = stack.back();
      stack.pop_back();
      if (u != gpus[g] && topo.node(u).spec.kind == NodeKind::kGpu) {
        inside[g].push_back(gpu_of[static_cast<size_t>(u)]);
        continue;  // GPUs do not forward
      }
      for (LinkId l : topo.out_links(u)) {
        const Link& link = topo.link(l);
        if (IsNetworkLink(link.kind)) {
          networks[g].push_back(find(static_cast<size_t>(u)));
          continue;
        }
        if (seen[static_cast<size_t>(link.to)] != stamp) {
          seen[static_cast<size_t>(link.to)] = stamp;
          stack.push_back(link.to);
        }
      }
    }
    std::sort(inside[g].begin(), inside[g].end());
    std::sort(networks[g].begin(), networks[g].end());
    networks[g].erase(std::unique(networks[g].begin(), networks[g].end()), networks[g].end());
  }
  // a reaches b when b is inside a's reach or they share a network component. Checked by counting, not pair by
  // pair (a cluster of 131,072 GPUs has 8.6e9 pairs): the GPUs a reaches through the network are those of the
  // components it enters, a union shared by every GPU entering the same components (one, in a cluster on one
  // fabric), counted once per such set; a's inside reach adds the GPUs of it that share no component with a.
  auto share_network = [&](size_t a, size_t b) {
    for (size_t i = 0, j = 0; i < networks[a].size() && j < networks[b].size();) {
      if (networks[a][i] == networks[b][j]) return true;
      if (networks[a][i] < networks[b][j]) {
        ++i;
      } else {
        ++j;
      }
    }
    return false;
  };
  auto reaches = [&](size_t a, size_t b) {
    return std::binary_search(inside[a].begin(), inside[a].end(), static_cast<int>(b)) || share_network(a, b);
  };
  std::unordered_map<size_t, std::vector<size_t>> members;  // network component -> the GPUs that enter it
  for (size_t g = 0; g < gpus.size(); ++g) {
    for (size_t k : networks[g]) members[k].push_back(g);
  }
  std::map<std::vector<size_t>, size_t> through_network;  // a GPU's components -> how many GPUs they reach
  std::vector<uint32_t> counted(gpus.size(), 0);
  uint32_t stamp = 0;
  for (size_t a = 0; a < gpus.size(); ++a) {
    auto [it, added] = through_network.try_emplace(networks[a], 0);
    if (added) {
      ++stamp;
      for (size_t k : networks[a]) {
        for (size_t g : members[k]) {
          if (counted[g] != stamp) {
            counted[g] = stamp;
            ++it->second;
          }
        }
      }
    }
    size_t reached = it->second - (networks[a].empty() ? 0 : 1);  // a itself is among its components' GPUs
    for (int b : inside[a]) reached += share_network(a, static_cast<size_t>(b)) ? 0 : 1;
    if (reached + 1 == gpus.size()) continue;
    // a misses some GPU: name the first, the later of the two as the error's node (links run both ways, so this is
    // the pair an ordered pairwise check finds first).
    for (size_t b = 0; b < gpus.size(); ++b) {
      if (b == a || reaches(a, b)) continue;
      const size_t first = std::min(a, b), later = std::max(a, b);
      const NodeSpec& spec = topo.node(gpus[later]).spec;
      return InvalidInput(spec.origin, "node '" + spec.name + "'",
                          "GPU cannot reach GPU '" + topo.node(gpus[first]).spec.name +
                              "': no route joins them (a GPU with no links, a part of the machine left unconnected, "
                              "or machines whose only path runs through another machine?)");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Topology> Topology::Build(TopologySpec spec, GpuReach reach) {
  auto impl = std::make_unique<Impl>();
  impl->name = spec.name;
  impl->description = spec.description;
  impl->origin = spec.origin;

  // Nodes: unique names, GPU numbering, hosts.
  std::unordered_map<std::string, int> host_index;
  for (size_t i = 0; i < spec.nodes.size(); ++i) {
    NodeSpec& ns = spec.nodes[i];
    if (ns.name.empty()) return InvalidInput(ns.origin, "node.name", "must not be empty");
    auto [it, inserted] = impl->by_name.emplace(ns.name, static_cast<NodeId>(i));
    if (!inserted) {
      return InvalidInput(ns.origin, "node.name",
                          "duplicate node name '" + ns.name + "' (first declared at " +
                              spec.nodes[static_cast<size_t>(it->second)].origin.ToString() + ")");
    }
    Node node;
    node.spec = ns;
    if (!ns.host.empty()) {
      auto [h, added] = host_index.emplace(ns.host, static_cast<int>(impl->hosts.size()));
      if (added) impl->hosts.push_back(Host{ns.host, {}, {}});
      node.host_index = h->second;
    }
    const NodeId id = static_cast<NodeId>(i);
    if (ns.kind == NodeKind::kGpu && impl->gpus.size() == static_cast<size_t>(kMaxRanks)) {
      return InvalidInput(ns.origin, "node '" + ns.name + "'",
                          "the topology has more than " + std::to_string(kMaxRanks) + " (2^20) GPUs");
    }
    if (ns.kind == NodeKind::kGpu) {
      node.gpu_index = static_cast<int>(impl->gpus.size());
      impl->gpus.push_back(id);
      if (node.host_index >= 0) {
        auto& list = impl->hosts[static_cast<size_t>(node.host_index)].gpus;
        node.local_index = static_cast<int>(list.size());
        list.push_back(id);
      } else {
        node.local_index = node.gpu_index;
      }
    } else if (ns.kind == NodeKind::kNic) {
      impl->nics.push_back(id);
      if (node.host_index >= 0) {
        auto& list = impl->hosts[static_cast<size_t>(node.host_index)].nics;
        node.local_index = static_cast<int>(list.size());
        list.push_back(id);
      }
    }
    impl->nodes.push_back(std::move(node));
  }
  if (impl->gpus.empty()) {
    return InvalidInput(spec.origin, "node", "the topology has no GPU (a node with kind = \"gpu\")");
  }

  WIRESIM_RETURN_IF_ERROR(ValidateLinks(spec));

  // Directed links, two per spec, and their compressed out-rows.
  const size_t n = impl->nodes.size();
  impl->links.reserve(spec.links.size() * 2);
  std::vector<int32_t> degree(n + 1, 0);
  for (size_t i = 0; i < spec.links.size(); ++i) {
    const LinkSpec& l = spec.links[i];
    const LinkId forward = static_cast<LinkId>(impl->links.size());
    const double capacity = l.bandwidth_GBps * l.count;
    impl->links.push_back(Link{l.a, l.b, l.kind, l.count, capacity, l.latency, forward + 1, static_cast<int>(i)});
    impl->links.push_back(Link{l.b, l.a, l.kind, l.count, capacity, l.latency, forward, static_cast<int>(i)});
    ++degree[static_cast<size_t>(l.a)];
    ++degree[static_cast<size_t>(l.b)];
  }
  impl->out_begin.assign(n + 1, 0);
  for (size_t v = 0; v < n; ++v) impl->out_begin[v + 1] = impl->out_begin[v] + degree[v];
  impl->out_links.resize(impl->links.size());
  std::vector<int32_t> fill(impl->out_begin.begin(), impl->out_begin.end() - 1);
  for (size_t id = 0; id < impl->links.size(); ++id) {
    const NodeId from = impl->links[id].from;
    impl->out_links[static_cast<size_t>(fill[static_cast<size_t>(from)]++)] = static_cast<LinkId>(id);
  }

  impl->nvlink_domains = LabelNvlinkDomains(spec.links, impl->nodes);
  impl->link_specs = std::move(spec.links);
  impl->nearest_nics.assign(n, {});

  Topology topo(std::move(impl));

  // Nearest NICs: a search from each GPU over host links (no network links, no GPU transit), by hops then latency.
  {
    Impl& m = *topo.impl_;
    const std::pair<int32_t, int64_t> unreached{std::numeric_limits<int32_t>::max(), int64_t{0}};
    std::vector<std::pair<int32_t, int64_t>> best(n, unreached);
    std::vector<NodeId> touched;  // the nodes a search reached: reset for the next (not all n per GPU)
    using Item = std::tuple<int32_t, int64_t, NodeId>;
    for (NodeId g : m.gpus) {
      const int host = m.nodes[static_cast<size_t>(g)].host_index;
      for (NodeId v : touched) best[static_cast<size_t>(v)] = unreached;
      touched.assign(1, g);
      std::priority_queue<Item, std::vector<Item>, std::greater<Item>> queue;
      best[static_cast<size_t>(g)] = {0, 0};
      queue.emplace(0, 0, g);
      std::pair<int32_t, int64_t> found{std::numeric_limits<int32_t>::max(), 0};
      std::vector<NodeId> nics;
      while (!queue.empty()) {
        auto [hops, lat, u] = queue.top();
        queue.pop();
        if (std::make_pair(hops, lat) != best[static_cast<size_t>(u)]) continue;
        if (std::make_pair(hops, lat) > found) break;
        const Node& node = m.nodes[static_cast<size_t>(u)];
        if (node.spec.kind == NodeKind::kNic) {
          if (node.host_index == host) {
            found = {hops, lat};
            nics.push_back(u);
          }
          continue;  // do not pass through a NIC
        }
        if (u != g && node.spec.kind == NodeKind::kGpu) continue;
        for (int32_t k = m.out_begin[static_cast<size_t>(u)]; k < m.out_begin[static_cast<size_t>(u) + 1]; ++k) {
          const Link& link = m.links[static_cast<size_t>(m.out_links[static_cast<size_t>(k)])];
          if (IsNetworkLink(link.kind)) continue;
          const std::pair<int32_t, int64_t> key{hops + 1, lat + link.latency.picoseconds()};
          if (key < best[static_cast<size_t>(link.to)]) {
            if (best[static_cast<size_t>(link.to)] == unreached) touched.push_back(link.to);
            best[static_cast<size_t>(link.to)] = key;
            queue.emplace(key.first, key.second, link.to);
          }
        }
      }
      std::sort(nics.begin(), nics.end());
      m.nearest_nics[static_cast<size_t>(g)] = std::move(nics);
    }
  }

  if (reach == GpuReach::kEveryPair) WIRESIM_RETURN_IF_ERROR(CheckGpusReachEachOther(topo));
  return topo;
}

TopologySpec Topology::ToSpec() const {
  TopologySpec spec;
  spec.name = impl_->name;
  spec.description = impl_->description;
  spec.origin = impl_->origin;
  spec.nodes.reserve(impl_->nodes.size());
  for (const Node& n : impl_->nodes) spec.nodes.push_back(n.spec);
  spec.links = impl_->link_specs;
  return spec;
}

const std::string& Topology::name() const { return impl_->name; }
const std::string& Topology::description() const { return impl_->description; }
const SourceLocation& Topology::origin() const { return impl_->origin; }
int Topology::node_count() const { return static_cast<int>(impl_->nodes.size()); }
int Topology::link_count() const { return static_cast<int>(impl_->links.size()); }
const Node& Topology::node(NodeId id) const { return impl_->nodes[static_cast<size_t>(id)]; }
const Link& Topology::link(LinkId id) const { return impl_->links[static_cast<size_t>(id)]; }

std::span<const LinkId> Topology::out_links(NodeId id) const {
  const size_t begin = static_cast<size_t>(impl_->out_begin[static_cast<size_t>(id)]);
  const size_t end = static_cast<size_t>(impl_->out_begin[static_cast<size_t>(id) + 1]);
  return std::span<const LinkId>(impl_->out_links.data() + begin, end - begin);
}

std::optional<NodeId> Topology::FindNode(std::string_view name) const {
  auto it = impl_->by_name.find(std::string(name));
  if (it == impl_->by_name.end()) return std::nullopt;
  return it->second;
}

std::span<const NodeId> Topology::gpus() const { return impl_->gpus; }
std::span<const NodeId> Topology::nics() const { return impl_->nics; }
const std::vector<Host>& Topology::hosts() const { return impl_->hosts; }

std::span<const NodeId> Topology::nearest_nics(NodeId gpu) const {
  return impl_->nearest_nics[static_cast<size_t>(gpu)];
}

int Topology::rail(NodeId gpu) const {
  auto nics = nearest_nics(gpu);
  return nics.empty() ? -1 : node(nics.front()).spec.rail;
}

bool Topology::SameHost(NodeId a, NodeId b) const {
  return node(a).host_index >= 0 && node(a).host_index == node(b).host_index;
}

bool Topology::SameNvlinkDomain(NodeId a, NodeId b) const {
  return node(a).nvlink_domain >= 0 && node(a).nvlink_domain == node(b).nvlink_domain;
}

bool Topology::NvlinkSpansHosts(NodeId gpu) const {
  for (NodeId other : gpus()) {
    if (SameNvlinkDomain(gpu, other) && !SameHost(gpu, other)) return true;
  }
  return false;
}

bool Topology::ShareNic(NodeId a, NodeId b) const {
  auto na = nearest_nics(a);
  auto nb = nearest_nics(b);
  for (NodeId x : na)
    if (std::find(nb.begin(), nb.end(), x) != nb.end()) return true;
  return false;
}

bool Topology::SameRail(NodeId a, NodeId b) const { return rail(a) >= 0 && rail(a) == rail(b); }

std::vector<std::vector<NodeId>> Topology::NvlinkDomains() const {
  std::vector<std::vector<NodeId>> domains(static_cast<size_t>(impl_->nvlink_domains));
  for (NodeId g : impl_->gpus) domains[static_cast<size_t>(node(g).nvlink_domain)].push_back(g);
  return domains;
}

std::vector<int> Topology::GpuNvlinkDomains() const {
  std::vector<int> out;
  out.reserve(impl_->gpus.size());
  for (NodeId g : impl_->gpus) out.push_back(node(g).nvlink_domain);
  return out;
}

}  // namespace wiresim
