// The numbers the collective model runs on, in plain structs so calibration can replace them: NCCL's tuning
// constants (for choosing) and what NCCL's kernels achieve on each kind of link and protocol (for timing).
// docs/collectives.md derives each default and names its source.
//
//   CollectiveParams params = CollectiveParams::Defaults();
//   params.launch_overhead = Time::Microseconds(0);   // kernel times, as Vidur's profiles record them
#pragma once

#include <array>

#include "sim/collective/algorithm.h"
#include "sim/collective/gpu_arch.h"
#include "sim/collective/nccl_tuning.h"
#include "sim/core/time.h"
#include "sim/network/network.h"

namespace wiresim {

struct CollectiveParams {
  // The NCCL release modelled (ForNcclVersion); its tuning constants.
  NcclVersion nccl_version = NcclVersion::Newest();
  NcclTunerConstants tuner = NcclTunerConstants::Defaults();

  // Host-side cost of one call before any GPU work: nccl-tests without CUDA graphs measures it in every row.
  Time launch_overhead = Time::Microseconds(5);

  // Fraction of a link's datasheet rate NCCL's kernels reach with the Simple protocol, by GPU generation for
  // NVLink (NCCL 2.30.7 per-link NVLink bandwidth over the datasheet 25 GB/s, 50 for NVLink5), and for the other
  // link kinds (NCCL's PCIe model: 24 of 31.5 GB/s for Gen4 x16; NICs: 47 of 50 GB/s on NDR, per NCCL maintainers).
  std::array<double, 5> nvlink_efficiency{0.80, 0.80, 0.853, 0.824, 0.802};  // by GpuGeneration
  double pcie_efficiency = 0.76;
  double network_efficiency = 0.94;
  double cpu_interconnect_efficiency = 1.0;  // topology files carry NCCL's effective QPI/UPI figures already
  double c2c_efficiency = 1.0;

  // Payload fraction each protocol leaves, per algorithm family (NCCL's own refinements, tuning.cc):
  // ring LL 0.5, LL128 0.92; tree Simple 0.92, LL 0.92/3.8, LL128 0.92 x 120/128 (7/9 on one node); PAT 0.75.
  double ring_ll = 0.5, ring_ll128 = 0.92;
  double tree_simple = 0.92, tree_ll = 0.92 / 3.8, tree_ll128 = 0.92 * 120.0 / 128.0,
         tree_ll128_one_node = 0.92 * 7.0 / 9.0;
  double pat = 0.75;
  // NVLink SHARP: what the switch reduction achieves of the NVLink rate (NCCL's nvlsEfficiency), by generation.
  std::array<double, 5> nvls_efficiency{0.0, 0.0, 0.0, 0.85, 0.74};
  // Point-to-point (all-to-all, send/recv) on top of the links' efficiencies: 1. NCCL's maintainers give the
  // collectives other than the all-reduce NVLink's effective rate and a CX-7 all-to-all 48-49 of 50 GB/s
  // (../shared/refdata/ github_issues_nccl_measurements_digest.md A); what slows a send is its p2p channels inside a
  // node and its window across nodes (p2p_channels.h). A fitted constant a run may still set (--model-constant).
  double p2p_efficiency = 1.0;
  // PXN for point-to-point across nodes (NCCL_PXN_DISABLE=0 and P2P_PXN_LEVEL 2, NCCL's defaults since 2.12): a send
  // leaves through the NIC on the receiver's rail, over NVLink to the GPU next to it (CollectiveGroup::P2pRoute).
  bool p2p_pxn = true;
  // Peers each rank sends to at once in a direct all-to-all (NCCL spreads peers over its p2p channels).
  int p2p_peers_in_flight = 8;
  // Bytes one channel moves per pipeline step, by protocol (NCCL's buffer per channel / NCCL_STEPS = 8): the grain
  // of chained (broadcast, reduce) and tree pipelines. NCCL_BUFFSIZE (4 MiB by default) sets Simple's: 512 KiB.
  std::array<double, 3> chunk_bytes{32 * 1024, 576000, 512 * 1024};
  // NVLink SHARP channels (NCCL's nvlsChannels: NVLS_NCHANNELS_SM90 16 on Hopper; on Blackwell
  // NVLS_NCHANNELS_SM100_NVL 24 inside one NVLink domain and NVLS_NCHANNELS_SM100 32 across nodes, src/transport/
  // nvls.cc 2.27+; 32 for both in 2.26) and the cap on channels of a ring/tree graph.
  int nvls_channels = 16;
  int nvls_channels_sm100 = 24;
  int nvls_channels_sm100_multi_node = 32;
  // The most heads an NVLS graph has (NCCL_MAX_NVLS_ARITY, src/graph/search.cc): 32 from 2.21; up to 2.20 (8) it
  // did not cap the graph, whose heads were every GPU (0: no cap).
  int nvls_max_arity = 32;
  int max_channels = 32;
  // The chunk an NVLS operation moves per step before NCCL's size-based reductions (NvlsChunkBytes):
  // NCCL_NVLS_CHUNKSIZE, 128 KiB (src/transport/nvls.cc 2.21+; the literal 131072 in enqueue.cc before).
  double nvls_chunk_bytes = 128 * 1024;
  // NVLSTree started from the Simple protocol's chunk (NCCL_BUFFSIZE / 8) up to 2.20 (enqueue.cc); from 2.20 on
  // it starts at 64 KiB when 4 or more nodes take part (NCCL_NVLSTREE_MAX_CHUNKSIZE's default).
  bool nvls_tree_chunk_from_buffer = false;
  bool nvls_tree_small_chunk_from_4_nodes = true;
  // NVLS pipelines as NCCL's kernels run them (src/device/all_reduce.h): each of the nvlsChannels x heads
  // operations moves its chunk per step through warp groups of its channel, a scatter copying the GPU's input into
  // the NVLS buffer, a reduction through the switch (multimem.ld_reduce, then multimem.st to every GPU) and a gather
  // copying the result out, each step's buffer slot handed from group to group by the ranks' flags. A step costs a
  // synchronisation (nvls_step_sync) besides its bytes: fitted on the ml-engineering 8x H200 curve (NCCL 2.27.7,
  // 2 MiB to 16 GiB, each call timed alone with the host's 19.4 us before the kernel;
  // ../shared/refdata/stas00_mlengineering_collective_and_matmul_measurements.md, section 2), held out on vLLM's and
  // Vidur's kernel times (docs/collectives.md section 3, docs/validation/collectives.md).
  Time nvls_step_sync = Time::FromMicroseconds(6.25);
  // The fill, in such steps: the first step's scatter copy comes before the switch stage, and the last step's
  // gather copy after the rest (at most 2 steps were the copies as slow as the switch stage). Fitted with the
  // synchronisation on the same curve.
  double nvls_fill_steps = 1.5;
  // What an NVLS kernel on one node costs before its pipeline: the fixed cost NCCL's tuning gives a Simple ring
  // kernel (baseLatencies, 8.4 us in every release modelled). NCCL's own NVLS figure, 25 us (23 up to 2.20), lumps
  // that cost with the pipeline's fill, which the model charges by itself; it stays in the tuning.
  Time nvls_kernel_latency = Time::FromMicroseconds(8.4);
  // NVLSTree (several nodes): each step adds a synchronisation to its bytes' time, and the copies fill the pipeline
  // in this many steps of the switch stage's time: the one-node values of the form before (1.75 us and 1.1 steps,
  // fitted on the same H200 curve when NVLS's steps were added alike). No table here measures NVLSTree between
  // 1 MiB and 1 GiB, so nothing refits them (docs/collectives.md section 8).
  Time nvls_tree_step_sync = Time::FromMicroseconds(1.75);
  double nvls_tree_fill_steps = 1.1;

  // Small messages run on fewer channels and threads (NCCL's ncclTuningGetChannels): while the bytes are fewer than
  // channels x threads x a per-thread threshold, NCCL drops a channel, then halves the threads. By protocol (LL,
  // LL128, Simple): the most threads a channel runs (NCCL_LL_MAX_NTHREADS 512, NCCL_LL128_MAX_NTHREADS 640,
  // NCCL_SIMPLE_MAX_NTHREADS 512) and the bytes per thread (NCCL_LL_THREAD_THRESHOLD 8, times the ranks for rings;
  // NCCL_LL128_THREAD_THRESHOLD 8; NCCL_SIMPLE_THREAD_THRESHOLD 64). A channel at full threads moves data at the
  // speed NCCL's channel search gave it, so fewer channels (or threads) move a small message more slowly.
  std::array<int, 3> max_threads{512, 640, 512};
  std::array<double, 3> thread_threshold{8, 8, 64};

  // Each loop of a ring ends with an operation that sends nothing: the last received chunk is copied out of the
  // receive buffer into the user's (all-reduce, all-gather) or reduced into it (reduce-scatter). It holds the
  // channel for this fraction of one step's time. Fitted: 0.5 on the 2-GPU rows of Vidur's H100 DGX profile, where
  // a ring has 3 operations per loop of which 2 send (docs/collectives.md section 5).
  double ring_local_copy = 0.5;
  // How many of the communicator's ranks each process drives, consecutive ranks together (nccl-tests runs nThread x
  // nGpus per process: `-g 8` puts a node's 8 ranks in one; MPI, torchrun and the serving engines run one per GPU).
  // Two ranks of one process connect by P2P/direct pointer (src/transport/p2p.cc, P2P_SAME_PID, every release):
  // NCCL_DIRECT_WRITE lets the ring's all-gather steps write straight into the next rank's output buffer, so the
  // loop's last receive finds its chunk in place and copies nothing (src/device/all_reduce.h and all_gather.h,
  // directRecv; prims_simple.h skips the copy when source and destination coincide). Simple protocol only: LL and
  // LL128 always go through their own buffers; reduce-scatter's ring is not direct (Direct = 0) and keeps its last
  // reduction. A ring pays the copy unless every one of its edges joins two ranks of one process.
  int ranks_per_process = 1;

  // Per-step latency of NVLink steps between Ampere sm80 GPUs (A100, A800, A30), as a multiple of NCCL's
  // hwLatencies, by protocol. NCCL reads its peers' buffers over NVLink there (P2P read, enabled for sm80 only) and
  // its constants are tuned on Hopper. Fitted: 3 on Vidur's 8x A100 DGX profile (docs/collectives.md section 5).
  std::array<double, 3> sm80_nvlink_step_factor{3.0, 3.0, 3.0};

  // What a benchmark that calls the collective back to back measures when the host is the bottleneck: a host that
  // needs this long per call (the slowest rank's) makes every call take at least this long, because the ranks
  // whose kernels start early wait in the kernel for the last one. 0 (the default) predicts the collective alone.
  // Vidur's profiles (kernel times of torch.distributed calls) and nccl-tests with -g 8 (one thread launching
  // eight GPUs) need it; docs/validation/collectives.md gives each system's value.
  Time call_interval;

  static CollectiveParams Defaults() { return CollectiveParams(); }
  // The defaults with NCCL release `v`'s tuning constants and the mechanisms that changed with it: NVLS channels
  // on Blackwell (16 up to 2.25; 32 in 2.26; 24 inside one NVLink domain and 32 across nodes from 2.27), where
  // NVLSTree's chunk starts (the Simple buffer's slot up to 2.20, NCCL_NVLS_CHUNKSIZE after; 64 KiB from 4 nodes
  // since 2.20), PAT's derating (0.85 in 2.23). docs/collectives.md section 6 has the table.
  static CollectiveParams ForNcclVersion(NcclVersion v);
  // ForNcclVersion(v) for collectives inside a serving step (`wiresim run`, `model show`): the kernel alone, no host
  // launch. A step replayed from a CUDA graph launches nothing from the host, and an eager step's host launches run
  // ahead of the GPU; what the host costs a step is the engine's host_overhead (docs/serving.md). The engine's own
  // all-reduce kernels are timed the same way (docs/engines.md).
  static CollectiveParams InServingStep(NcclVersion v);
  // The same release-dependent figures set on these parameters, keeping everything else (constants a user or a
  // calibration set): ForNcclVersion(v) is Defaults() with SetNcclVersion(v).
  void SetNcclVersion(NcclVersion v);

  // The link efficiency of NCCL kernel traffic for a GPU generation, before protocol overheads.
  LinkEfficiency KernelEfficiency(GpuGeneration gen) const;
  // NCCL's NVLS channel count for a GPU generation, inside one NVLink domain or across several.
  int NvlsChannels(GpuGeneration gen, bool multi_node) const;
};

}  // namespace wiresim
