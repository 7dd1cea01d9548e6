// Topology: the hardware graph of a cluster. Nodes are GPUs, NVSwitches, PCIe switches, PCIe host bridges, CPU
// sockets, NICs and network switches; links are NVLink, PCIe, InfiniBand, RoCE/Ethernet, C2C and CPU
// interconnects, each with a bandwidth per direction, a latency and a count of parallel lanes or links. A topology
// is built once from a validated TopologySpec (topology_file.h reads one from TOML) and is immutable afterwards.
//
//   WIRESIM_ASSIGN_OR_RETURN(Topology topo, Topology::Build(std::move(spec)));
//   NodeId g0 = topo.gpu(0);
//   bool same_island = topo.SameNvlinkDomain(topo.gpu(0), topo.gpu(5));
//
// Routes between nodes are computed by Router (routing.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/status.h"
#include "sim/core/time.h"

namespace wiresim {

using NodeId = int32_t;
using LinkId = int32_t;
inline constexpr NodeId kNoNode = -1;

enum class NodeKind { kGpu, kNvSwitch, kPcieSwitch, kHostBridge, kCpu, kNic, kSwitch };
enum class LinkKind { kNvLink, kPcie, kInfiniBand, kRoce, kEthernet, kC2C, kCpuInterconnect };

// Names as written in topology files: "gpu", "nvswitch", "pcie_switch", "host_bridge", "cpu", "nic", "switch".
std::string_view ToString(NodeKind kind);
std::optional<NodeKind> ParseNodeKind(std::string_view name);
// "nvlink", "pcie", "infiniband", "roce", "ethernet", "c2c", "cpu_interconnect".
std::string_view ToString(LinkKind kind);
std::optional<LinkKind> ParseLinkKind(std::string_view name);
// InfiniBand, RoCE and Ethernet: links between machines through network switches.
bool IsNetworkLink(LinkKind kind);

// One node as a file describes it.
struct NodeSpec {
  std::string name;  // unique in the topology; "node3/gpu5" for nodes of a host
  NodeKind kind = NodeKind::kGpu;
  std::string host;       // the machine it belongs to ("node3"); empty for fabric-level nodes
  std::string model;      // GPU model ("h100-sxm"), NIC or switch model; free text, may be empty
  int rail = -1;          // NICs: the rail of a rail-optimised fabric, -1 when none
  int numa = -1;          // CPUs: the NUMA node, -1 when unknown
  SourceLocation origin;  // where the node was declared, for messages
};

// One physical connection, usable in both directions.
struct LinkSpec {
  NodeId a = kNoNode;
  NodeId b = kNoNode;
  LinkKind kind = LinkKind::kPcie;
  double bandwidth_GBps = 0;  // per direction, per link (GB = 1e9 bytes)
  int count = 1;              // parallel links or lanes bonded into this connection
  Time latency;               // one-way, per traversal
  SourceLocation origin;
};

struct TopologySpec {
  std::string name;
  std::string description;
  std::vector<NodeSpec> nodes;
  std::vector<LinkSpec> links;
  SourceLocation origin;  // the file
};

// A built node, with what the topology derives for it.
struct Node {
  NodeSpec spec;
  int gpu_index = -1;      // GPUs: global index in declaration order (GPU0, GPU1, ...); -1 otherwise
  int local_index = -1;    // GPUs and NICs: index among the same kind in its host
  int host_index = -1;     // index into Topology::hosts(), -1 for fabric-level nodes
  int nvlink_domain = -1;  // GPUs: id of the set of GPUs joined by NVLink/NVSwitch links
};

// A directed link. Every LinkSpec gives two, one per direction, with ids 2i and 2i+1.
struct Link {
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  LinkKind kind = LinkKind::kPcie;
  int count = 1;
  double capacity_GBps = 0;  // bandwidth_GBps * count, this direction
  Time latency;
  LinkId reverse = -1;
  int spec_index = -1;  // index into the spec's links
};

struct Host {
  std::string name;
  std::vector<NodeId> gpus;  // in local order
  std::vector<NodeId> nics;  // in local order
};

// Whether Build insists that every GPU reach every other. A what-if topology (a failed link, degrade.h) is built
// without it: only the GPUs a deployment makes talk need to reach each other, and the caller checks those.
enum class GpuReach { kEveryPair, kUnchecked };

class Topology {
 public:
  // Validates the spec and builds the graph. Errors (each naming the file, line and field): duplicate node names,
  // links to nonexistent nodes or to themselves, non-positive or non-finite bandwidth, a count below 1, negative
  // latency, no GPU at all, and (with GpuReach::kEveryPair) GPUs that cannot reach each other.
  static Result<Topology> Build(TopologySpec spec, GpuReach reach = GpuReach::kEveryPair);

  // The spec the topology was built from (nodes and links as declared), to build a variant of it.
  TopologySpec ToSpec() const;

  Topology(Topology&&) noexcept;
  Topology& operator=(Topology&&) noexcept;
  ~Topology();

  const std::string& name() const;
  const std::string& description() const;
  const SourceLocation& origin() const;

  int node_count() const;
  int link_count() const;
  const Node& node(NodeId id) const;
  const Link& link(LinkId id) const;
  std::span<const LinkId> out_links(NodeId id) const;
  std::optional<NodeId> FindNode(std::string_view name) const;

  // GPUs by global index; gpu(i) is the node of GPU i.
  std::span<const NodeId> gpus() const;
  NodeId gpu(int index) const { return gpus()[static_cast<size_t>(index)]; }
  int gpu_count() const { return static_cast<int>(gpus().size()); }
  std::span<const NodeId> nics() const;
  const std::vector<Host>& hosts() const;

  // The NICs of the GPU's host closest to it over PCIe (fewest hops, then lowest latency); several when tied.
  std::span<const NodeId> nearest_nics(NodeId gpu) const;
  // The rail of the GPU's nearest NIC, or -1.
  int rail(NodeId gpu) const;

  bool SameHost(NodeId a, NodeId b) const;
  bool SameNvlinkDomain(NodeId a, NodeId b) const;
  bool ShareNic(NodeId a, NodeId b) const;
  bool SameRail(NodeId a, NodeId b) const;

  // Number of distinct NVLink domains and the GPUs of each.
  std::vector<std::vector<NodeId>> NvlinkDomains() const;
  // By global GPU index: the GPU's nvlink_domain (StepGraphOptions::gpu_domain).
  std::vector<int> GpuNvlinkDomains() const;
  // Whether the GPU's NVLink domain holds GPUs of other hosts: a multi-node NVLink system (GB200 NVL72).
  bool NvlinkSpansHosts(NodeId gpu) const;

 private:
  struct Impl;
  explicit Topology(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wiresim
