// Internal to the collective part: each algorithm's closed-form cost and its expansion into transfers, written
// side by side so they stay the same model. collective_model.h is the public face.
//
// The model, for every algorithm: a collective costs a fixed latency (NCCL's base latency plus its per-step hop
// latencies, the hops' own from the topology) plus its bytes over the bottleneck, where the bottleneck is the most
// loaded link (bytes on the link over its rate at the transfers' efficiency) or the tightest per-GPU cap of the
// protocol; chained pipelines (broadcast, reduce, trees) add the fill of the pipeline, chunk by chunk.
#pragma once

#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "sim/collective/algorithm.h"
#include "sim/collective/collective_group.h"
#include "sim/collective/collective_op.h"
#include "sim/collective/collective_params.h"
#include "sim/collective/nccl_tuning.h"
#include "sim/collective/p2p_channels.h"
#include "sim/collective/schedule.h"

namespace wiresim::internal {

// Everything an algorithm needs to know about the call.
struct AlgorithmContext {
  CollectiveGroup& group;
  const CollectiveParams& params;
  CollectiveOp op = CollectiveOp::kAllReduce;
  int root = 0;                                 // rank, for broadcast and reduce
  const std::vector<double>* matrix = nullptr;  // all-to-all-v: bytes[i * n + j], scaled so its largest row is 1
  int ring_channels = 1;                        // NCCL's ring/tree channel count (its channel search)
  double ring_channel_GBps = 0;                 // the search's speed per channel (its bwIntra)
};

// Point to point inside one node: the seconds the busiest rank's sends take on the p2p channels NCCL gives them
// (p2p_channels.h), for a message of S bytes.
struct P2pChannelCap {
  P2pChannelPlan plan;
  std::vector<std::vector<double>> shares;  // each distinct rank's bytes to each peer, per byte of S
  // The most any rank's sends can take per byte of S: its bytes on one channel per peer (at most p2pnChannels),
  // the fewest a rank's operations run on. Set by Finish().
  double bound_seconds_per_byte = 0;
  void Finish();
  // The busiest rank's seconds for a message of `bytes`; 0 when even the bound stays under `floor` (the links'
  // time, which the caller takes the larger of), so a wide all-to-all-v is not walked where it cannot matter.
  double Seconds(double bytes, double floor = 0) const;
};

// Point to point across nodes: each network peer's bytes are paced by the window NCCL keeps in flight to it
// (NetPeerWindow, p2p_channels.h). A pair's transfer of b bytes takes b / rate + step x max(0, b / window - 1) on
// top of the one step latency every transfer pays: each window after the first waits a step for its slots.
struct P2pNetWindow {
  struct Pair {
    double share = 0;             // the pair's bytes per byte of S (the largest of the pairs alike)
    double seconds_per_byte = 0;  // 1 / its route's rate alone, at the transfer's efficiency
    double step_seconds = 0;      // its network step's latency
    double window_bytes = 0;
    // The seconds a transfer of `bytes` to this peer takes beyond its first step: its wire time, and a step for
    // each window after the first.
    double Seconds(double bytes) const;
  };
  std::vector<Pair> pairs;  // one per distinct (rate, step, window)
  void Add(const Pair& pair);
  // The slowest pair's seconds for a message of `bytes` (0 when no pair's bytes exceed its window).
  double Seconds(double bytes) const;
  // The rate cap that gives one transfer of `bytes` that time (infinity when it fits in its window).
  static double CapGBps(const Pair& pair, double bytes);
};

// A closed form: T(S) = latency + (S * seconds_per_byte + chunk(S) * fill_seconds_per_byte) * lanes(S), where
// chunk(S) = S_g / ceil(S_g / chunk_bytes) and S_g = S * group_share (the bytes one pipeline carries), and lanes(S)
// >= 1 is how much slower a small message runs on the fewer channels and threads NCCL gives it.
struct AlgorithmCost {
  bool usable = false;
  std::string why_not;  // when unusable: what the algorithm needs that this group lacks
  Time latency;
  double seconds_per_byte = 0;
  double fill_seconds_per_byte = 0;
  double chunk_bytes = 0;
  double group_share = 1;
  // NCCL's channel and thread reduction (ncclTuningGetChannels). 0 runtime channels: none modelled.
  int runtime_channels = 0;      // the channels NCCL runs a large message on (twice the search's, ncclTopoPostset)
  double full_speed_lanes = 1;   // channels at full threads that reach full speed (the search's channel count)
  int max_threads = 512;         // per channel, for the protocol
  double thread_threshold = 64;  // bytes per thread before NCCL adds threads or channels
  bool reduce_threads = true;    // trees always run every thread
  // NVLS pipelines (NVLS, NVLSTree): every step, each of NCCL's channels x heads concurrent operations moves one
  // chunk, whose size NCCL picks from the message's (NvlsChunkBytes). NVLS (one node): a step of b bytes takes the
  // longer of a synchronisation (`step_sync_seconds`) plus b at the NVLink's raw pace (`nvls_step_seconds_per_byte`:
  // the switch flows without NCCL's nvlsEfficiency) and b at the switch's sustained pace
  // (`nvls_switch_seconds_per_byte`, with it); the pipeline takes what its steps need beyond the links' time
  // (seconds_per_byte), and fills in `nvls_copy_fill_steps` such steps (the copies into and out of the NVLS buffer).
  // NVLSTree: each step adds its synchronisation to the bytes' time, and the first step's data crosses every stage
  // first: min(S, step bytes) x nvls_fill_seconds_per_byte (the stages' seconds per byte of S, summed, less the
  // slowest); the one-node fields stay 0. nvls_ops 0: not an NVLS pipeline.
  double nvls_ops = 0;
  bool nvls_tree = false;
  double nvls_first_chunk = 0;  // the chunk NCCL starts from before its size-based reductions
  double step_sync_seconds = 0;
  double nvls_step_seconds_per_byte = 0;
  double nvls_switch_seconds_per_byte = 0;
  double nvls_copy_fill_steps = 0;
  double nvls_fill_seconds_per_byte = 0;
  // Rings whose ranks share processes: the loop's final copy their direct writes skip (seconds per byte of S), which
  // the same ring over ranks apart would add to seconds_per_byte (CollectiveParams::ranks_per_process).
  double skipped_copy_seconds_per_byte = 0;
  // Point to point inside one node: no faster than the channels NCCL splits each peer's bytes over (null: no cap).
  std::shared_ptr<const P2pChannelCap> p2p_channels;
  // Point to point across nodes: no faster than each network peer's window allows (null: no network pair).
  std::shared_ptr<const P2pNetWindow> p2p_net_window;

  Time Of(double bytes) const;
  // How many times slower than at full width the data of a `bytes` message moves: full_speed_lanes over the
  // channels x threads / max_threads NCCL runs it on, and at least 1.
  double LaneFactor(double bytes) const;
  // The time Of() adds for that (expansions charge it as a delay before the first transfer).
  Time LaneDelay(double bytes) const;
};

// Accumulates the bytes concurrent transfers put on each link and the tightest per-transfer cap, to give the time
// they take together when every link and cap runs at its rate.
class LinkLoads {
 public:
  explicit LinkLoads(const Topology& topo);
  ~LinkLoads();
  LinkLoads(LinkLoads&& other) noexcept;
  LinkLoads& operator=(const LinkLoads&) = delete;
  void Add(const Route* route, double bytes, const LinkEfficiency& efficiency, double cap_GBps);
  double Seconds() const;
  // The busiest of the route's links: the seconds it needs per byte of S for everything added.
  double SecondsOn(const Route& route) const;
  void Clear();

 private:
  const Topology& topo_;
  // One entry per link of the topology, zero where nothing was added: a buffer borrowed from this thread's pool and
  // handed back zeroed (a collective's cost builds several per call, and a 1,024-GPU topology has ~10^4 links).
  std::vector<double> seconds_;
  std::vector<LinkId> touched_;
  double cap_seconds_ = 0;
};

// Caps each transfer of `wave` (indices into out->transfers: transfers the algorithm runs at the same time) at the
// rate its links leave it when they divide their rate among the wave in proportion to bytes, so that the wave's
// transfers on a link drain together: bytes / (its busiest link's summed drain time for the whole wave). This is
// the sharing the closed form charges; without it a Network that gives each transfer its route alone
// (AnalyticalNetwork) runs a collective's concurrent transfers as if each had the links to itself. The caps are
// feasible, so a FlowNetwork with nothing else on the links gives the same rates.
void ShareLinksWithinWave(const Topology& topo, const std::vector<uint32_t>& wave, CollectiveSchedule* out);

// The latency of one step of algorithm `a` with protocol `p` over `route`: the route's own latency plus the
// protocol's handshake over the route's class, as NCCL's hwLatencies table puts it (the topology's default link
// latencies add up to the table's Ring/LL figure, so the rest is the protocol's). `multi_node` and `ppn` apply
// NCCL's adjustments (net overhead on intra-node ring steps, tree latencies when one GPU per node).
// NVLink steps between sm80 GPUs take CollectiveParams::sm80_nvlink_step_factor times as long.
Time StepLatency(const CollectiveGroup& group, const CollectiveParams& params, const Route& route, Algorithm a,
                 Protocol p, bool ring_intra_multi_node = false, bool one_per_node = false);

// The chunk NCCL's NVLS kernels move per operation and step for a message of `bytes` (enqueue.cc, the NVLS and
// NVLS_TREE branches of the chunk-size computation, unchanged in form from 2.18 to 2.30): starting from `first`,
// NVLS halves it to 64 KiB below 64 x ops x chunk bytes, 32 KiB below 8 x, 16 KiB below 2 x; NVLSTree steps it
// down to 256, 128, 64 and 32 KiB below 32, 16, 4 and 1 x ops x chunk. `ops` = channels x heads.
double NvlsChunkBytes(double bytes, double ops, double first, bool tree);
// The steps' synchronisation and the fill of an NVLS pipeline's cost for `bytes` (0 when it is none).
double NvlsPipelineSeconds(const AlgorithmCost& c, double bytes);

// NCCL's double binary tree over `n` positions (node indices in the group's order): the parent of `pos` in tree
// `t` (0 or 1), -1 for the root. Tree 0 is ncclGetBtree's: the root (position 0) has one child, n / 2 rounded down
// to a power of two, and every interior position has two; tree 1 is its mirror (position n - 1 - p) when n is even
// and the tree shifted by one position when n is odd (ncclGetDtree). src/graph/trees.cc, the same from NCCL 2.18
// to 2.30.
int DtreeParent(int n, int pos, int t);

// Sets the cost's channel and thread reduction for algorithm `a` (ring, chain or tree) and protocol `p`.
void SetLanes(const AlgorithmContext& ctx, Algorithm a, Protocol p, AlgorithmCost* cost);

// Protocol payload efficiency for an algorithm family (CollectiveParams' factors), applied on top of the kernels'
// link efficiency.
LinkEfficiency TransferEfficiency(const CollectiveGroup& group, const CollectiveParams& params, Algorithm a,
                                  Protocol p);

// The (from, to, rail) edges each algorithm will route, so the model can compute every route in one pass sorted by
// source (CollectiveGroup::PrefetchEdges) before costing.
using EdgeList = std::vector<std::tuple<int, int, int>>;
EdgeList TreeEdgeList(const AlgorithmContext& ctx);
EdgeList NvlsTreeEdgeList(const AlgorithmContext& ctx);
EdgeList PatEdgeList(const AlgorithmContext& ctx);

AlgorithmCost RingCost(const AlgorithmContext& ctx, Protocol p);
void RingExpand(const AlgorithmContext& ctx, Protocol p, double bytes, CollectiveSchedule* out);

AlgorithmCost ChainCost(const AlgorithmContext& ctx, Protocol p);  // broadcast and reduce
void ChainExpand(const AlgorithmContext& ctx, Protocol p, double bytes, CollectiveSchedule* out);

AlgorithmCost TreeCost(const AlgorithmContext& ctx, Protocol p);
void TreeExpand(const AlgorithmContext& ctx, Protocol p, double bytes, CollectiveSchedule* out);

// Whether NCCL sets NVLS up for the group at all: Hopper or later GPUs behind NVSwitches (the group's
// nvls_capable), with as many of the communicator's GPUs on every node as the release's ncclNvlsInit asks
// (NcclNvlsMinGpusPerNode). NCCL's tuning, the NVLS costs and the NVLSTree routes all ask this.
bool NvlsSupported(const AlgorithmContext& ctx);
AlgorithmCost NvlsCost(const AlgorithmContext& ctx, Algorithm a);  // kNvls or kNvlsTree; Simple only
void NvlsExpand(const AlgorithmContext& ctx, Algorithm a, double bytes, CollectiveSchedule* out);

AlgorithmCost PatCost(const AlgorithmContext& ctx);  // Simple only
void PatExpand(const AlgorithmContext& ctx, double bytes, CollectiveSchedule* out);

AlgorithmCost DirectCost(const AlgorithmContext& ctx, Protocol p);
// `channels`: the cap DirectCost found for the choice (null: none), each transfer held to its channels' rate.
void DirectExpand(const AlgorithmContext& ctx, Protocol p, double bytes, const P2pChannelCap* channels,
                  CollectiveSchedule* out);

}  // namespace wiresim::internal
