// CollectiveGroup: a set of GPUs seen the way NCCL sees a communicator on a topology. Ranks are grouped into nodes
// (hosts, or a whole NVLink domain that spans hosts, as NCCL's MNNVL does); inside a node they are ordered so
// NVLink islands stay contiguous; across nodes, traffic leaves and enters through one NIC per channel group, rail
// by rail, the way NCCL's rings and trees do. The group owns the routes it composes (GPU -> NIC -> network -> NIC
// -> GPU) and answers the shape questions NCCL's tuning asks (nodes, ranks per node, GPU generation, NVLS).
//
//   WIRESIM_ASSIGN_OR_RETURN(auto group, CollectiveGroup::Create(topo, router, {0, 1, 2, 3, 8, 9, 10, 11}, {}));
//   group->nodes();                   // 2
//   const RingOrder& r = group->rings()[0];
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "sim/collective/gpu_arch.h"
#include "sim/core/status.h"
#include "sim/topology/routing.h"
#include "sim/topology/topology.h"

namespace wiresim {

struct GroupOptions {
  // Local NIC indices (position in the host's NIC list) that inter-node traffic may use, like NCCL_IB_HCA. Empty:
  // the NICs nearest to the group's GPUs.
  std::vector<int> nics;
};

// One ring over all ranks: `order[i]` sends to `order[i + 1]` (cyclically) over `edges[i]`.
struct RingOrder {
  std::vector<int> order;           // ranks
  std::vector<const Route*> edges;  // edges[i]: order[i] -> order[(i + 1) % n]
  std::vector<bool> inter_node;     // edges[i] crosses nodes
  std::vector<int> rails;           // edges[i] leaves its node on this rail (channel group index)
};

class CollectiveGroup {
 public:
  // Errors: an empty group, a GPU index out of range, a GPU listed twice, a pair of ranks with no route, or a NIC
  // index a host does not have.
  static Result<std::unique_ptr<CollectiveGroup>> Create(const Topology& topo, Router& router, std::vector<int> gpus,
                                                         const GroupOptions& options);

  CollectiveGroup(const CollectiveGroup&) = delete;
  CollectiveGroup& operator=(const CollectiveGroup&) = delete;

  const Topology& topology() const { return topo_; }
  Router& router() const { return router_; }
  int ranks() const { return static_cast<int>(gpus_.size()); }
  const std::vector<int>& gpus() const { return gpus_; }
  NodeId gpu_node(int rank) const { return nodes_of_rank_[static_cast<size_t>(rank)]; }
  int nodes() const { return static_cast<int>(node_ranks_.size()); }
  // Ranks of each node, nodes in order of first appearance, ranks in NVLink-island then local order.
  const std::vector<std::vector<int>>& node_ranks() const { return node_ranks_; }
  int node_of_rank(int rank) const { return node_of_rank_[static_cast<size_t>(rank)]; }
  int min_ranks_per_node() const;
  int max_ranks_per_node() const;
  const GpuArch& arch() const { return arch_; }

  // Every intra-node ring edge is an NVLink path (NCCL's typeIntra NVL), and the GPU-to-NIC paths are PIX/PXB.
  bool nvlink_intra() const { return nvlink_intra_; }
  bool nic_close() const { return nic_close_; }
  // Every GPU-to-NIC path is PIX/PXB or, for a NIC next to another GPU of the NVLink domain, PXN (NCCL's typeInter
  // <= PATH_PXN).
  bool nic_within_pxn() const { return nic_within_pxn_; }
  // Hopper or later, and each node's GPUs reach each other through NVSwitches of one NVLink domain.
  bool nvls_capable() const { return nvls_capable_; }

  // Channel groups: the number of NICs (rails) each node's traffic spreads over; 1 on a single node.
  int channel_groups() const { return static_cast<int>(rings_.size()); }
  const std::vector<RingOrder>& rings() const { return rings_; }
  // The head (the GPU on the channel group's rail) of node `node` for channel group `g`.
  int head(int node, int g) const;

  // The route from rank a to rank b: the topology's route inside a node; across nodes, out through the NIC of
  // channel group g's rail on a's node and in through the same rail on b's node.
  const Route* EdgeRoute(int a, int b, int g);
  // The route of a point-to-point send from rank a to rank b as NCCL's p2p transport takes it: the topology's route
  // inside a node; across nodes, with PXN (`pxn`, NCCL's default P2P_PXN_LEVEL 2), out through the NIC of a's
  // node's GPU that has b's local index, over NVLink to that GPU first when it is not a's own, and in through b's
  // own NIC (ncclTopoGetNetDev, src/graph/search.cc), so that the bytes stay on b's rail; without PXN, or where that
  // GPU is not in the group or not over NVLink, out through a's own NIC.
  const Route* P2pRoute(int a, int b, bool pxn = true);
  // Computes the routes EdgeRoute will need for these (a, b, g) edges in an order that searches the topology once
  // per source node: on a large cluster, the difference between milliseconds and seconds.
  void PrefetchEdges(const std::vector<std::tuple<int, int, int>>& edges);
  // The route of an NVLink SHARP transfer between a rank's GPU and its NVSwitches (every NVLink of the GPU, each
  // carrying its share of the bytes); `up` is GPU to switches.
  const Route* SwitchRoute(int rank, bool up);

  // NCCL's per-GPU intra-node bandwidth (GB/s; the slowest intra-node ring edge at kernel efficiency) and a node's
  // total NIC bandwidth, the inputs of its channel search.
  double intra_bandwidth_GBps() const { return intra_bw_; }
  double inter_bandwidth_GBps() const { return inter_bw_; }
  void set_bandwidths(double intra, double inter) {
    intra_bw_ = intra;
    inter_bw_ = inter;
  }

 private:
  CollectiveGroup(const Topology& topo, Router& router) : topo_(topo), router_(router) {}
  Status Analyze(std::vector<int> gpus, const GroupOptions& options);
  Status BuildRings();
  // Ring orders over one node's ranks whose GPUs are joined by direct NVLink links, several orders when that mesh
  // offers them (below); empty when it does not (switched or PCIe-joined GPUs keep one ring in island order).
  std::vector<std::vector<int>> MeshRingOrders(const std::vector<int>& local);
  // The NIC node of rail index `rail` on `node`.
  NodeId RailNic(int node, int rail) const;
  // A GPU of `node` next to `nic`, or -1.
  int RankNearNic(int node, NodeId nic) const;
  // a -> nic on a's host: directly when the NIC is a's own, else over NVLink to the GPU next to it (PXN).
  Route ToNic(int rank, NodeId nic);
  // nic -> rank on its host, the same way in reverse (the data lands next to the NIC and crosses NVLink).
  Route FromNic(NodeId nic, int rank);
  // The GPU ToNic / FromNic go through for (rank, nic), or kNoNode when they go directly.
  NodeId PxnProxy(int rank, NodeId nic) const;
  const Route* Store(Route r);

  const Topology& topo_;
  Router& router_;
  std::vector<int> gpus_;
  std::vector<NodeId> nodes_of_rank_;
  std::vector<std::vector<int>> node_ranks_;
  std::vector<int> node_of_rank_;
  std::vector<int> host_of_node_;
  std::vector<std::vector<NodeId>> rails_;  // per node: NIC nodes in rail order
  std::vector<NodeId> own_nic_;             // per rank: its NIC (no two ranks of a node share one when avoidable)
  GpuArch arch_;
  bool nvlink_intra_ = true;
  bool nic_close_ = true;
  bool nic_within_pxn_ = true;
  bool nvls_capable_ = false;
  std::vector<RingOrder> rings_;
  std::vector<std::vector<int>> heads_;  // [node][g]
  double intra_bw_ = 0;
  double inter_bw_ = 0;
  std::deque<Route> routes_;
  std::map<std::tuple<int, int, int>, const Route*> edge_cache_;
  std::map<std::tuple<int, int, bool>, const Route*> p2p_cache_;
  std::map<std::pair<int, bool>, const Route*> switch_cache_;
};

// Concatenates routes taken one after the other (shares add up where a link repeats; latencies add).
Route ComposeRoutes(const std::vector<const Route*>& parts, const Topology& topo);

}  // namespace wiresim
