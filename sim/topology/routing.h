// Router: deterministic routes between nodes of a Topology, and the path class of a GPU pair in the vocabulary of
// `nvidia-smi topo -m` (NV#, PIX, PXB, PHB, NODE, SYS, NET).
//
// A route is every shortest path from source to destination, where "shortest" means least total latency, then
// fewest links. Equal-cost paths are all kept and share the traffic: at each node where paths branch, the bytes
// split in proportion to the capacity of the outgoing links (NVLink traffic spread over the NVSwitch planes of an
// HGX board, or over the spines of a leaf/spine fabric). A route is therefore a set of links, each with the share
// of the transfer's bytes that crosses it; its bandwidth is the smallest capacity/share over those links.
//
// Rules every route obeys:
//   - GPUs are endpoints only: no route passes through a GPU.
//   - A route enters the network (InfiniBand, RoCE, Ethernet links) at most once: once it has left the network
//     for a machine's PCIe, it cannot go back out. So no route uses a server as a switch.
//   - Two devices of the same host talk inside it whenever a path inside it exists, even if a loop through a
//     network switch would be quicker: NCCL moves such traffic over P2P or shared memory, never the network.
//
//   Router router(topo);
//   const Route* r = router.Find(topo.gpu(0), topo.gpu(9));
//   double gbps = r->bandwidth_GBps;   // 50 for two DGX H100 nodes joined by 400G NDR
//   PathClass c = router.Classify(*r); // PathClass::kNet
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/core/time.h"
#include "sim/topology/topology.h"

namespace wiresim {

struct RouteHop {
  LinkId link = -1;
  double share = 0;  // fraction of the route's bytes that cross this link, in (0, 1]
};

struct Route {
  NodeId src = kNoNode;
  NodeId dst = kNoNode;
  std::vector<RouteHop> hops;  // every link of every equal-cost path, ordered by distance from src
  Time latency;                // sum of link latencies along any one of the paths
  int hop_count = 0;           // links along any one of the paths
  double path_count = 0;       // number of equal-cost paths
  double bandwidth_GBps = 0;   // min over hops of capacity / share: the rate one transfer can reach alone
};

// The class of the connection between two devices, as nvidia-smi names it.
enum class PathClass { kSelf, kNvLink, kPix, kPxb, kPhb, kNode, kSys, kNet };

struct PathInfo {
  PathClass cls = PathClass::kSelf;
  int nvlinks = 0;  // for kNvLink: the links in the bonded set (the source's NVLinks the route uses)

  // "X", "NV18", "PIX", "PXB", "PHB", "NODE", "SYS", "NET".
  std::string ToString() const;
};

class Router {
 public:
  explicit Router(const Topology& topology);
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // The route from src to dst, computed on first use and cached. Returns nullptr when dst cannot be reached.
  // The pointer stays valid for the life of the Router. REQUIRES: src != dst.
  const Route* Find(NodeId src, NodeId dst);

  // Computes the routes from src to each of `dsts` without caching them, calling `visit` with each (nullptr when
  // unreachable). One shortest-path search serves all destinations: this is how whole matrices are computed.
  void ForEachRouteFrom(NodeId src, const std::vector<NodeId>& dsts,
                        const std::function<void(NodeId dst, const Route*)>& visit);

  // The nvidia-smi class of a route, from the kinds of links and nodes it crosses:
  //   NET  a network link;  NV#  NVLink only;  SYS  a CPU-to-CPU interconnect;  NODE  a CPU socket (between its
  //   root complexes);  PHB  a PCIe host bridge;  PXB  two or more PCIe switches;  PIX  one PCIe switch.
  PathInfo Classify(const Route& route) const;

  const Topology& topology() const { return topology_; }

 private:
  struct Search;
  // A shortest-path search from src; with `allow_network` false, network links are not used. With `toward` a
  // component (below), the search leaves out the dead-end components other than src's and that one: the routes to
  // nodes of `toward` are the same as a full search's, and other nodes may be missing. kTowardWanted: those other
  // than src's and the ones wanted_ marks (such a search is never reused).
  static constexpr int kWholeTopology = -1;
  static constexpr int kTowardWanted = -2;
  void RunSearch(NodeId src, bool allow_network, int toward = kWholeTopology);
  bool BuildRoute(NodeId dst, Route* out);

  const Topology& topology_;
  std::unique_ptr<Search> search_;
  // Components of the topology joined by links other than network links (a host, or an NVLink domain of several),
  // by node. A component is a dead end when each of its nodes has at most one network neighbour and none inside
  // the component: a path that enters it can never leave it (a path meets the network once, and a node cannot send
  // a path back to the one switch it came from), so only routes to its own nodes go into it. Searching for one
  // destination skips the other dead ends: across a cluster of servers, that is every other server.
  std::vector<int> component_;
  std::vector<uint8_t> dead_end_;  // by component
  std::vector<uint8_t> wanted_;    // by component: the destinations' components of a kTowardWanted search
  std::unordered_map<uint64_t, std::unique_ptr<Route>> cache_;
};

}  // namespace wiresim
