// What differs between serving engines (vLLM, SGLang, TensorRT-LLM) where it changes the simulated answer: the
// engine's own all-reduce kernels (which groups and sizes they take from NCCL: custom one-shot or two-shot, vLLM's
// symmetric memory) and what it leaves NCCL (NVLS or not), the batch sizes
// it captures CUDA graphs for (and so pads decode batches to), the host time a step exposes, and the scheduler
// defaults that differ. Every value is cited, file and constant, in engine.cc and docs/engines.md.
//
//   WIRESIM_ASSIGN_OR_RETURN(Engine e, ParseEngine("vllm"));
//   EngineProfile profile = ProfileOf(e);
//   EngineAllReduce car(profile, topo);
//   closed.SetOverride(&car);                        // small TP all-reduces inside one NVLink box skip NCCL
//   BatchShape padded = PadForCudaGraph(step.Shape(), profile);   // decode=5x.. runs as 8 rows (3 padding)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/collective/algorithm.h"
#include "sim/collective/collective_timing.h"
#include "sim/compute/gpu_spec.h"
#include "sim/core/status.h"
#include "sim/core/time.h"
#include "sim/parallel/batch.h"
#include "sim/parallel/memory.h"
#include "sim/parallel/plan.h"
#include "sim/parallel/step_graph.h"
#include "sim/topology/topology.h"

namespace wiresim {

enum class Engine { kVllm, kSglang, kTrtllm };

// "vllm", "sglang", "trtllm".
std::string_view ToString(Engine engine);
// Errors (InvalidArgument) on any other name, listing the accepted ones.
Result<Engine> ParseEngine(std::string_view name);

// The custom all-reduce's rule for one group size. The kernel runs the all-reduce when bytes < max_bytes; it runs
// one-shot (every rank reads every peer's whole buffer) when bytes < one_shot_below, else two-shot (reduce-scatter
// then all-gather, both by peer reads).
struct CustomAllReduceLimit {
  int world_size = 0;
  double max_bytes = 0;
  double one_shot_below = 0;
};

// What one of the engine's all-reduce kernels costs: a fixed latency (the kernel's launch inside a CUDA graph and
// its cross-GPU barriers), on Hopper and earlier (and sm120 cards) and on Blackwell (compute capability 10.x), and
// the fraction of a GPU's NVLink (or PCIe) rate its peer traffic reaches.
struct EngineKernelCost {
  Time latency;
  Time latency_blackwell;
  double link_efficiency = 1.0;
};

struct CustomAllReduceSpec {
  bool available = false;
  std::vector<CustomAllReduceLimit> limits;  // one per supported world size; other sizes go to NCCL
  // A 2-GPU group may run it over PCIe peer access (vLLM and SGLang); larger groups need every GPU in one NVLink
  // domain. Every GPU of the group must be on one host in all engines.
  bool pcie_pairs = false;
  EngineKernelCost one_shot;  // t = latency + bytes (n - 1) / B
  EngineKernelCost two_shot;  // t = 2 latency + 2 bytes (n - 1) / n / B (a barrier between the two halves)
};

// vLLM's PyTorch symmetric-memory all-reduce for one GPU generation and group size
// (vllm/distributed/device_communicators/all_reduce_utils.py and symm_mem.py).
struct SymmMemLimit {
  int capability = 0;  // compute capability x 10: 90 (Hopper), 100 (B200, GB200), 103 (B300, GB300)
  int world_size = 0;
  double max_bytes = 0;         // SYMM_MEM_ALL_REDUCE_MAX_SIZES: it takes bytes <= max_bytes
  double custom_max_bytes = 0;  // CUSTOM_ALL_REDUCE_MAX_SIZES: the custom kernel's own limit drops to this
  bool multimem = false;        // _WORLD_SIZES_MULTIMEM: multimem_all_reduce_, else two_shot_all_reduce_
};

struct SymmMemSpec {
  bool available = false;
  std::vector<SymmMemLimit> limits;
  // Both copy the input into the symmetric buffer and the result back out (two device copies, each reading and
  // writing the bytes at the GPU's streaming memory rate) around the kernel.
  EngineKernelCost multimem;  // t = latency + copies + bytes (n + 1) / n / B: NVSwitch reduces and multicasts
  EngineKernelCost two_shot;  // t = latency + copies + 2 bytes (n - 1) / n / B: peer loads, then peer stores
};

// The kernel an engine runs an all-reduce with instead of NCCL.
enum class EngineKernel { kOneShot, kTwoShot, kSymmMemMultimem, kSymmMemTwoShot };
// "custom one-shot", "custom two-shot", "symm-mem multimem", "symm-mem two-shot".
std::string_view ToString(EngineKernel kernel);
// The names --engine-kernel takes: one-shot, two-shot, multimem, symm-two-shot.
Result<EngineKernel> ParseEngineKernel(std::string_view name);

// What CUDA graphs a replica replays, and so how its batches are padded.
struct CudaGraphSpec {
  std::vector<int64_t> capture_sizes;  // ascending batch sizes (tokens, for decode-only batches: sequences)
  bool pads_to_next_size = true;       // false: only an exactly captured size replays; others run eagerly
  // vLLM v1's piecewise graphs are keyed by the token count of any batch, mixed ones included; SGLang and TRT-LLM
  // capture decode-only batches.
  bool pads_mixed_batches = false;
};

struct EngineProfile {
  Engine engine = Engine::kVllm;
  KvBudget kv_budget = KvBudget::kVllm;  // how it sizes its KV cache (sim/parallel/memory.h)
  CustomAllReduceSpec custom_all_reduce;
  // vLLM's symmetric-memory all-reduce (VLLM_ALLREDUCE_USE_SYMM_MEM, on by default), tried after the custom kernel.
  SymmMemSpec symm_mem;
  // NCCL may run NVLink SHARP (NVLS, NVLSTree) for the engine's collectives. SGLang sets NCCL_NVLS_ENABLE to its
  // --enable-nccl-nvls (off by default) before NCCL starts, so its NCCL never runs NVLS unless asked.
  bool nccl_nvls = true;
  CudaGraphSpec cuda_graphs;
  Time host_overhead_per_step;  // CPU time to form and launch a step
  // The host forms step n+1 while the GPU runs step n (vLLM's async scheduling, SGLang's and TensorRT-LLM's overlap
  // schedulers), so between back-to-back steps the GPU waits only for the host time the step before did not cover.
  // Never with pipeline parallelism (vLLM turns it off there).
  bool overlaps_host = true;
  // With attention-DP + EP, how the MoE layers move tokens to their experts by default (docs/engines.md): an
  // all-gather of every rank's tokens and a reduce-scatter back (StepGraphOptions::EpExchange::kAllGather, rows as
  // `ep_gather` says) or all-to-alls of the routed copies. All three engines gather at their defaults: vLLM's
  // VLLM_ALL2ALL_BACKEND is allgather_reducescatter (vllm/distributed/device_communicators/all2all.py,
  // AgRsAll2AllManager; vLLM PR #33728), SGLang's --moe-a2a-backend is none (the MoE runs on the DP-attention
  // gather, python/sglang/srt/layers/communicator.py), TensorRT-LLM's select_alltoall_method_type returns
  // NotEnabled unless the GPUs share a multi-node NVLink domain (MnnvlMemory.supports_mnnvl) and the EP group is
  // wider than top-k (`ep_all_to_all_on_mnnvl`). EngineGathersExperts applies the rule.
  bool ep_all_gather = false;
  bool ep_all_to_all_on_mnnvl = false;
  StepGraphOptions::EpGatherFormat ep_gather;
  // Scheduler defaults; 0 where the engine has no fixed default (SGLang derives max_running_requests from the KV
  // pool).
  int64_t max_num_seqs = 0;
  int64_t max_num_batched_tokens = 0;
};

// The profile of each engine at its defaults on an H100/H200-class GPU (docs/engines.md says which values change
// with the GPU or the TP size). With `gpu`, the scheduler defaults are those the engine picks for that GPU;
// `tp_size` is the engine's tensor-parallel world (SGLang's tp_size: tp x dp under attention data parallelism),
// which SGLang's CUDA-graph batch limit depends on.
EngineProfile ProfileOf(Engine engine, const GpuSpec* gpu = nullptr, int tp_size = 1);

// Whether the engine's own EP exchange ("auto") is the all-gather for an EP group of `ep` ranks routing each token
// to `top_k` experts; `multi_node_nvlink`: the deployment's GPUs share an NVLink domain with other hosts' GPUs
// (Topology::NvlinkSpansHosts, a GB200 NVL72).
bool EngineGathersExperts(const EngineProfile& profile, bool multi_node_nvlink, int ep, int top_k);

// SGLang's defaults that depend on the GPU's memory (python/sglang/srt/server_args.py,
// ServerArgs._handle_gpu_memory_settings): chunked_prefill_size and cuda_graph_max_bs by the device memory in MiB
// (below 20 GiB 2048 and 8; below 35 GiB 2048 and 24, 80 from TP 4; below 60 GiB 4096 and 32, 160 from TP 4; below
// 160 GiB 8192 and 256, 512 from TP 4; from 160 GiB 16384 and 512).
struct SglangGpuDefaults {
  int64_t chunked_prefill_size = 8192;
  int64_t cuda_graph_max_bs = 256;
};
SglangGpuDefaults SglangDefaultsFor(const GpuSpec& gpu, int tp_size);

// SGLang's default mem_fraction_static (the same function): (memory - reserved) / memory, rounded to 3 decimals,
// memory in MiB and reserved = 512 + 1.5 x max(chunked prefill tokens, 2048) (with chunked prefill off, the
// max_prefill_tokens default 16384) + 2 x cuda_graph_max_bs + tp_size x pp_size / 8 x 1024, plus under attention
// data parallelism 3 x cuda_graph_max_bs x dp_size (and 1.5 x as much again above a batch limit of 300); at least
// 10 GiB on a GPU of more than 60 GiB. `chunked_prefill_size` <= 0: chunked prefill off.
double SglangMemFractionStatic(const GpuSpec& gpu, int tp_size, int pp_size, int dp_size, bool dp_attention,
                               int64_t chunked_prefill_size, int64_t cuda_graph_max_bs);

// SGLang's tensor-parallel world for a plan: tp, times dp under attention data parallelism (dp > 1 with experts over
// the DP ranks, SGLang's --enable-dp-attention).
int SglangTpSize(const ParallelPlan& plan);
// SGLang's default mem_fraction_static for a plan on a GPU with this chunked prefill size (<= 0: off), its
// cuda_graph_max_bs the default for the GPU: what wiresim uses for `--engine sglang` when no fraction is given.
double SglangDefaultFraction(const ParallelPlan& plan, const GpuSpec& gpu, int64_t chunked_prefill_size);

// vLLM's scheduler defaults for `vllm serve` on a GPU (EngineArgs.get_batch_defaults, the OPENAI_API_SERVER usage
// context): max_num_seqs 1024 and max_num_batched_tokens 8192 on a GPU of at least 70 GiB whose name does not say
// A100, else 256 and 2048.
struct SchedulerDefaults {
  int64_t max_num_seqs = 0;
  int64_t max_num_batched_tokens = 0;
};
SchedulerDefaults VllmSchedulerDefaults(const GpuSpec& gpu);

// vLLM's default capture sizes: 1, 2, 4, multiples of 8 below 256, multiples of 16 from 256, up to
// min(2 * max_num_seqs * decode_query_len, 512), dropping sizes over max_num_batched_tokens. With speculative
// decoding (decode_query_len = 1 + K > 1) each is rounded up to a multiple of decode_query_len, and those that end
// over the largest are dropped.
std::vector<int64_t> VllmCaptureSizes(int64_t max_num_seqs, int64_t max_num_batched_tokens,
                                      int64_t decode_query_len = 1);
// SGLang's: 1, 2, 4, 8, 12, multiples of 8 to 256, of 16 from 272 below 512, of 32 from 512, up to cuda_graph_max_bs.
std::vector<int64_t> SglangCaptureSizes(int64_t cuda_graph_max_bs);
// TRT-LLM's (PyTorch flow, padding off): 1..31, 32, 64, 128, powers of two from 256 below max_batch_size, and
// max_batch_size itself.
std::vector<int64_t> TrtllmCaptureSizes(int64_t max_batch_size);

// The batch the GPU computes when the engine replays a CUDA graph for `batch`. A decode-only batch of D sequences,
// D at most the largest captured size, becomes the smallest captured size >= D, the extra rows BatchShape::padding
// (their GEMM, norm and collective rows cost as much as real ones; they attend to nothing and sample nothing). With
// pads_mixed_batches, a batch with prefills whose token count is at most the largest size is padded the same way in
// tokens. Everything else is returned unchanged (it runs eagerly, or its size is captured exactly).
BatchShape PadForCudaGraph(const BatchShape& batch, const EngineProfile& profile);

// The engine's own all-reduce kernels, timed by closed forms on the topology's links, in the order vLLM's
// CudaCommunicator.all_reduce tries them: the custom kernel (when the group size is one of its limits and the bytes
// are under it, every GPU of the group on one host, and every pair in one NVLink domain or the group a PCIe pair
// the engine allows), then the symmetric-memory kernel (vLLM only: a GPU generation and group size it has a limit
// for, the bytes at most that limit, the group behind NVSwitches, which multicast needs); NCCL runs everything else.
// B = link efficiency x the smallest, over the group's GPUs, of a GPU's NVLink capacity to NVSwitches and to the
// group's other GPUs (PCIe capacity for a PCIe pair); the copies run at the slowest GPU's memory bandwidth x 0.85.
// NCCL's algorithms as the engine leaves them: `base` without NVLS and NVLSTree where the engine turns them off.
AlgorithmFilter NcclFilter(const EngineProfile& profile, AlgorithmFilter base = {});

class EngineAllReduce : public CollectiveOverride {
 public:
  // `topo` must outlive this object. `specs` (by global GPU index) give the GPUs' memory bandwidth; empty: looked
  // up from the topology's GPU models.
  EngineAllReduce(const EngineProfile& profile, const Topology& topo, std::vector<GpuSpec> specs = {});

  std::optional<Time> Duration(const CollectiveCall& call, const PreparedCollective& prepared) const override;
  // The same answer for a group and size, without a prepared NCCL group.
  std::optional<Time> Duration(const std::vector<int>& gpus, double bytes) const;
  // Which kernel the engine runs `bytes` on `gpus` with; nullopt when NCCL runs it.
  std::optional<EngineKernel> KernelFor(const std::vector<int>& gpus, double bytes) const;
  // One kernel's time whatever the engine's size limits say (as a benchmark forcing it measures); nullopt when the
  // group cannot run it at all (the GPUs apart, no NVSwitch for symmetric memory).
  std::optional<Time> KernelDuration(EngineKernel kernel, const std::vector<int>& gpus, double bytes) const;
  // Which kernel takes which sizes on `gpus`, for a report: "custom one-shot below 256 KiB, symm-mem multimem to
  // 64 MiB, NCCL above"; "NCCL" when the engine runs none of its own.
  std::string Describe(const std::vector<int>& gpus) const;

 private:
  // What the engine's kernels can do on one group, worked out once per call.
  struct Group {
    int n = 0;
    double link = 0;          // B before efficiency, bytes per second; 0: no engine kernel can run on the group
    bool switched = false;    // every GPU has NVLinks to NVSwitches (symmetric memory's multicast needs them)
    bool blackwell = false;   // compute capability 10.x: Blackwell's latencies
    double memory_bandwidth = 0;  // the slowest GPU's, bytes per second
    double custom_below = 0;      // the custom kernel takes bytes < this (0: never)
    double one_shot_below = 0;    // ... one-shot below this, else two-shot
    double symm_up_to = -1;       // symmetric memory takes bytes <= this (negative: never)
    bool multimem = false;        // ... with multimem_all_reduce_, else two_shot_all_reduce_
  };
  Group Inspect(const std::vector<int>& gpus) const;
  std::optional<EngineKernel> KernelOf(const Group& group, double bytes) const;
  std::optional<Time> TimeOf(EngineKernel kernel, const Group& group, double bytes) const;

  CustomAllReduceSpec custom_;
  SymmMemSpec symm_mem_;
  const Topology& topo_;
  std::vector<GpuSpec> specs_;
};

}  // namespace wiresim
