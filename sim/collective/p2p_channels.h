// NCCL's split of a point-to-point operation over its p2p channels, and the rate the channels it gets can give it.
//
// NCCL runs send/recv (and the all-to-alls made of them) on its p2p channels, one CTA each, and gives one peer's
// operation a number of them that grows with its size: a small message runs on one channel, a large one on many.
// Inside one node a channel's copy is done by its warps, so an operation on few channels moves its bytes slower
// than the links allow. The figures, every one from NCCL's source (tags v2.18.3-1 to v2.30.7-1):
//
//   p2pnChannels         the communicator's channels (its collective channel count, twice the search's after
//                        ncclTopoPostset) rounded up to a power of 2 (ncclTopoComputeP2pChannels, src/graph/paths.cc)
//   p2pnChannelsPerPeer  the fewest channels any peer is given, rounded up to a power of 2: 2 per NVLink of an
//                        NVLink peer, 2 for a PCIe one (ncclTopoGetNchannels); at most p2pnChannels
//   nChannelsMin         p2pnChannelsPerPeer halved while nChannelsMin x ranks > p2pnChannels (every release);
//   nChannelsMax         p2pnChannelsPerPeer, halved on one node while nChannelsMax x ranks > 4 x p2pnChannels up
//                        to 2.19 (scheduleP2pTasksToPlan, src/enqueue.cc)
//   part sizes           from p2pChunkSize (NCCL_P2P_NVL_CHUNKSIZE 512 KiB when every GPU pair is NVLink, else
//                        NCCL_P2P_PCI_CHUNKSIZE 128 KiB; at most the Simple buffer / NCCL_STEPS): on one node at
//                        least chunk / 8 and at most chunk x 32 bytes per channel
//   channels used        min(nChannelsMin, ceil(bytes / min part)), doubled while a part is over the most and
//                        doubling stays within nChannelsMax (addP2pToPlan, 2.22 on); up to 2.21 the same through
//                        calcP2pChunkSize, whose parts are rounded up to a multiple of the least part
//   warps                a channel's CTA runs NCCL_MAX_NTHREADS (640) threads; an operation that sends and
//                        receives in the same round (nccl-tests' sendrecv, every all-to-all) gives its send 10 of
//                        the 20 warps from 2.22 (src/device/sendrecv.h) and 9 of 16 up to 2.21 (finishWorkP2p);
//                        a send alone (CollectiveOp::kSend) gets them all (20, or 16 up to 2.21)
//
// The rate of one channel: NCCL's channel search gives each ring channel a speed (the graph's bwIntra, GB/s), which
// a ring channel running the Simple protocol's 512 threads (16 warps) reaches at full size. The same assumption the
// collectives' channel and thread reduction makes (AlgorithmCost::LaneFactor: a channel's rate is its warps' share
// of the searched speed) gives a p2p channel speed x its send warps / 16. It is applied inside one node where every
// pair that exchanges bytes is NVLink (direct.cc): across nodes the proxies and NICs set the pace, and over PCIe no
// measurement here checks the per-channel rate (docs/collectives.md).
#pragma once

#include <vector>

#include "sim/collective/nccl_tuning.h"

namespace wiresim::internal {

struct P2pChannelPlan {
  int channels = 0;            // p2pnChannels
  int per_peer = 0;            // p2pnChannelsPerPeer
  int min_per_op = 0;          // nChannelsMin
  int max_per_op = 0;          // nChannelsMax
  double min_part = 0;         // bytes
  double max_part = 0;         // bytes
  bool aligned_parts = false;  // up to 2.21: calcP2pChunkSize's parts, a multiple of min_part
  double channel_GBps = 0;     // what one channel moves for one operation's send

  // The channels an operation of `bytes` to one peer runs on (0 for no bytes).
  int Used(double bytes) const;
  // The seconds a rank's sends take on the channels they get: shares[k] x bytes to peer k, the peers' operations
  // spread over distinct channels up to p2pnChannels. 0 when there is nothing to send.
  double Seconds(const std::vector<double>& shares, double bytes) const;
};

struct P2pChannelInputs {
  NcclVersion version;
  int ranks = 2;
  int comm_channels = 1;   // the communicator's collective channels (twice the search's, at most MAXCHANNELS)
  int fewest_nvlinks = 0;  // the fewest NVLinks between any two of the group's GPUs; 0: some pair is not NVLink
  double simple_buffer_bytes = 4 << 20;  // NCCL_BUFFSIZE
  double search_channel_GBps = 0;        // the ring search's speed per channel
  bool paired = true;                    // the rank's sends share their round with receives (all but kSend)
};

P2pChannelPlan PlanP2pChannels(const P2pChannelInputs& in);

// Across nodes: the bytes NCCL keeps in flight to one network peer. A peer's large operation runs on the channels
// NCCL gives a network peer (ncclTopoGetNchannels, src/graph/paths.cc; p2pnChannelsPerPeer is the fewest over the
// peers, and a network peer has the fewest), each channel's connection a ring of NCCL_STEPS (8, src/include/device.h)
// slots of p2pChunkSize (NCCL_P2P_NET_CHUNKSIZE, 128 KiB across nodes; twice that on Arm hosts of sm100 GPUs from
// 2.29; at most the Simple buffer / NCCL_STEPS, computeBuffSizes in src/init.cc). A slot is reused only once its
// step has been received and handed back, so each window of bytes costs a network step's latency on top of its
// wire time: a lone pair runs at W / (W / rate + step), the cap wiresim puts on each network peer's transfer.
//   channels per network peer: 2 up to 2.19 (NCCL_NCHANNELS_PER_NET_PEER); 2.20 to 2.28, max(the local NICs it
//   takes to match the GPU's PCIe rate, 2 halved while 2 x ranks > 4 x p2pnChannels); from 2.29, max(the local
//   NICs, ceil(their bandwidth / NCCL_P2P_PER_CHANNEL_NET_BW 14 GB/s)), at most p2pnChannels.
struct NetPeerInputs {
  NcclVersion version;
  int ranks = 2;
  int comm_channels = 1;                 // the communicator's collective channels
  int nics = 1;                          // the local NICs the peer's bytes leave by
  double nic_GBps = 0;                   // their line rate together (NCCL's net bandwidth)
  bool arm_sm100 = false;                // an Arm host of sm100+ GPUs (Grace Blackwell)
  double simple_buffer_bytes = 4 << 20;  // NCCL_BUFFSIZE
};

struct NetPeerWindow {
  int channels = 0;
  double chunk_bytes = 0;
  double window_bytes() const { return channels * 8.0 * chunk_bytes; }
};

NetPeerWindow PlanNetPeerWindow(const NetPeerInputs& in);

}  // namespace wiresim::internal
