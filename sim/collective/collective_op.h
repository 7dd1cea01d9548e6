// The vocabulary of collective communication shared by the parts that ask for collectives (parallel's step graph,
// serving) and the part that times them (collective): which operation, over which GPUs, how many bytes.
//
//   CollectiveCall ar{CollectiveOp::kAllReduce, {0, 1, 2, 3}, /*bytes=*/64 * 8192 * 2, DataType::kBFloat16};
//   double bus = BusBandwidthFactor(ar.op, 4);   // 2(n-1)/n = 1.5, as nccl-tests defines busbw
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "sim/core/dtype.h"

namespace wiresim {

enum class CollectiveOp {
  kAllReduce,
  kAllGather,
  kReduceScatter,
  kBroadcast,
  kReduce,
  kAllToAll,   // every rank sends bytes/n to every rank
  kAllToAllV,  // uneven: per-pair byte counts (MoE dispatch/combine)
  kSendRecv,   // point to point, nccl-tests' sendrecv: rank i sends bytes to i+1 and receives from i-1, together
  kSend,       // point to point one way: rank i < n-1 sends bytes to i+1, each send alone in its NCCL group (a
               // pipeline stage's hand-off: ncclSend, and ncclRecv on the peer); 2 ranks: one send
};

// A collective as a caller needs it done.
struct CollectiveCall {
  CollectiveOp op = CollectiveOp::kAllReduce;
  std::vector<int> gpus;  // global GPU indices of the group, in rank order
  // The size nccl-tests reports in its `size` column: the buffer each rank holds for all-reduce, broadcast,
  // reduce and send/recv; the total (count x type size x ranks) for all-gather, reduce-scatter and all-to-all.
  double bytes = 0;
  DataType dtype = DataType::kBFloat16;
  int root = 0;  // for broadcast and reduce: index into gpus
  // For kAllToAllV only: bytes[i * n + j] sent by rank i to rank j (the `bytes` field is then their maximum row
  // or column sum, as nccl-tests' alltoallv reports).
  std::vector<double> matrix_bytes;
  // Point to point between nodes leaves by the sender's own NIC and arrives at the receiver's, whatever rails they
  // are on: the engine's own kernels putting each row over NVSHMEM/IBGDA (DeepEP's low-latency kernels, pplx), which
  // no PXN relay moves onto the receiver's rail. False: NCCL's routes (CollectiveParams::p2p_pxn).
  bool own_nic = false;
};

// "all_reduce", "all_gather", "reduce_scatter", "broadcast", "reduce", "alltoall", "alltoallv", "sendrecv":
// the nccl-tests binary names without _perf.
std::string_view ToString(CollectiveOp op);
std::optional<CollectiveOp> ParseCollectiveOp(std::string_view name);

// nccl-tests' busbw = algbw x factor (its doc/PERFORMANCE.md): all-reduce 2(n-1)/n; all-gather, reduce-scatter
// and all-to-all (n-1)/n; broadcast, reduce and send/recv 1.
double BusBandwidthFactor(CollectiveOp op, int ranks);

}  // namespace wiresim
