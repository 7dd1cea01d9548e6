// The topology file: TOML that describes a cluster in a few dozen lines, even at thousands of GPUs.
//
//   name = "two-dgx"
//   include = ["dgx-h100.toml"]              # brings that file's templates
//   [[host]]                                 # two machines from the template
//   template = "dgx-h100"
//   name = "node"                            # node0, node1
//   count = 2
//   [[fabric]]                               # their NICs on a rail-optimised NDR fabric
//   kind = "rail_optimized"
//   name = "ib"
//   preset = "ndr"
//
// A [[template]] lists [[template.node]] (name, kind, count, model, rail, numa) and [[template.link]] (from, to,
// kind or preset, bandwidth_GBps, latency_ns, count, map); top-level [[node]] and [[link]] describe what sits
// outside hosts (NVLink switch trays, hand-built fabrics), and [[fabric]] generates networks (fabric.h).
// docs/formats/topology.md is the full reference.
//
//   WIRESIM_ASSIGN_OR_RETURN(SourceFile file, reader.Read("topologies/dgx-h100.toml", ""));
//   WIRESIM_ASSIGN_OR_RETURN(TopologySpec spec, ParseTopologyFile(file, reader));
//   WIRESIM_ASSIGN_OR_RETURN(Topology topo, Topology::Build(std::move(spec)));
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "sim/core/source.h"
#include "sim/core/status.h"
#include "sim/topology/fabric.h"
#include "sim/topology/topology.h"

namespace wiresim {

// The most nodes and link declarations a topology expands to (templates, [[host]] counts, `map = "all"`), checked
// before they are built; the loader refuses more, naming the table. 2^20 GPUs of 8-GPU machines with their
// switches, NICs and CPUs are about 4 million nodes.
inline constexpr size_t kMaxTopologyNodes = size_t{1} << 22;
inline constexpr size_t kMaxTopologyLinks = size_t{1} << 23;

// Parses a topology file, reading its includes through `reader`. Every error names the file, line and field.
Result<TopologySpec> ParseTopologyFile(const SourceFile& file, SourceReader& reader);

// Parses and builds in one step.
Result<Topology> LoadTopology(const SourceFile& file, SourceReader& reader);

// Whether `name` may name a node or host in a topology file: letters, digits, '_', '-' and '.', at least one.
bool IsValidTopologyName(std::string_view name);

// Writes a spec as a topology file that ParseTopologyFile reads back into the same nodes and links (flat: one
// [[node]] and one [[link]] per entry). `comment` lines go at the top, each prefixed with "# ".
std::string WriteTopologyFile(const TopologySpec& spec, const std::string& comment);

// How WriteMachineFile lays out one machine: copies of it as hosts, and the fabric that joins their NICs.
struct ClusterLayout {
  int hosts = 1;                     // [[host]] count; 1 writes one host named as the machine's host ("node")
  std::optional<FabricKind> fabric;  // none: no [[fabric]] (then hosts must be 1)
  std::string preset;                // the fabric's link preset ("ndr"); empty: link_kind and bandwidth_GBps
  LinkKind link_kind = LinkKind::kInfiniBand;
  double bandwidth_GBps = 0;  // per port per direction, when no preset
};

// Writes one machine (every node of `machine` on one host) as a [[template]] named after that host, `layout.hosts`
// [[host]] copies of it and, when asked, a [[fabric]]; other files can `include` it for the template. Errors: nodes
// outside a host or on several hosts, hosts > 1 without a fabric, a fabric with neither preset nor bandwidth.
Result<std::string> WriteMachineFile(const TopologySpec& machine, const std::string& comment,
                                     const ClusterLayout& layout);

}  // namespace wiresim
