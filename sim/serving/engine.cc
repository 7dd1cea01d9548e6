#include "sim/serving/engine.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "sim/collective/gpu_arch.h"

namespace wiresim {

namespace {

constexpr double kKiB = 1024.0;
constexpr double kMiB = 1024.0 * 1024.0;

// The custom kernels' costs, fitted (docs/engines.md, "Cost model"; tools/validate_engine_collectives.py) to vLLM's
// own benchmark of them on H100 under CUDA graphs (benchmarks/kernels/benchmark_device_communicators.py, as
// vllm-project/vllm PR #24111 lists it: TP 2, 4 and 6, 0.5 to 4 MiB, ca_1stage and ca_2stage columns), and checked on
// PR #24532's TP 4 table (another run, not fitted). One-shot: 5.5 us and 0.75 of the NVLink rate; two-shot 4.75 us
// per half and 0.47 (its two barriers and the reduce-scatter's and all-gather's peer reads).
// On Blackwell the same kernels' fixed costs are larger: fitted on the three smallest rows (16-64 KiB, where the
// traffic is under a microsecond whatever the world size) of PR #37756's SM 10.3 (B300) table, and checked on PR
// #42324's B200 TP 2 rows; the efficiencies stay Hopper's.
constexpr EngineKernelCost kCustomOneShot{Time::Nanoseconds(5500), Time::Nanoseconds(7250), 0.75};
constexpr EngineKernelCost kCustomTwoShot{Time::Nanoseconds(4750), Time::Nanoseconds(9750), 0.47};
// PyTorch's symmetric-memory kernels as vLLM calls them, fitted to PR #42324's SM 9.0 table (8 GPUs, 0.5 to 128 MiB,
// symm_mem_multimem and symm_mem_two_shot columns) and checked on PR #24111's TP 2/4/6 and PR #24532's TP 4 columns.
constexpr EngineKernelCost kSymmMemMultimem{Time::Nanoseconds(8500), Time::Nanoseconds(12750), 0.77};
constexpr EngineKernelCost kSymmMemTwoShot{Time::Nanoseconds(8250), Time::Nanoseconds(18750), 0.71};
// The copies in and out of the symmetric buffer stream at this fraction of the memory bandwidth (the roofline's
// memory_efficiency default, sim/compute/roofline.h).
constexpr double kCopyEfficiency = 0.85;

CustomAllReduceSpec VllmCustomAllReduce() {
  // vllm/distributed/device_communicators/custom_all_reduce.py: CustomAllreduce._SUPPORTED_WORLD_SIZES = [2, 4, 6,
  // 8]; __init__(max_size=8192 * 1024); should_custom_ar: inp_size < max_size, when world_size == 2 or the group
  // is fully NVLink-connected. csrc/custom_all_reduce.cuh, CustomAllreduce::allreduce: world size 2 always
  // cross_device_reduce_1stage; with full NVLink, 1stage when (ws <= 4 and bytes < 512 KiB) or (ws <= 8 and
  // bytes < 256 KiB), else cross_device_reduce_2stage.
  CustomAllReduceSpec s;
  s.available = true;
  s.limits = {{2, 8 * kMiB, 8 * kMiB}, {4, 8 * kMiB, 512 * kKiB}, {6, 8 * kMiB, 256 * kKiB}, {8, 8 * kMiB, 256 * kKiB}};
  s.pcie_pairs = true;
  s.one_shot = kCustomOneShot;
  s.two_shot = kCustomTwoShot;
  return s;
}

SymmMemSpec VllmSymmMem() {
  // vllm/distributed/device_communicators/all_reduce_utils.py: SYMM_MEM_ALL_REDUCE_MAX_SIZES and
  // CUSTOM_ALL_REDUCE_MAX_SIZES by capability "9.0", "10.0", "10.3" and world size; symm_mem.py,
  // SymmMemCommunicator: _WORLD_SIZES_MULTIMEM {"9.0": [4, 6, 8], "10.0": [6, 8], "10.3": [6, 8]}, disabled where
  // the capability or world size has no limit or the rendezvous gives no multicast pointer; should_use_symm_mem:
  // bf16 and inp_size <= max_size. custom_all_reduce.py: with symmetric memory enabled the custom kernel's max_size
  // becomes min(CUSTOM_ALL_REDUCE_MAX_SIZES[cap][ws], max_size). On by default since vllm-project/vllm PR #24111
  // (VLLM_ALLREDUCE_USE_SYMM_MEM, vllm/envs.py).
  SymmMemSpec s;
  s.available = true;
  s.limits = {
      {90, 2, 64 * kMiB, 64 * kMiB, false}, {90, 4, 32 * kMiB, 32 * kMiB, true},  {90, 6, 64 * kMiB, 512 * kKiB, true},
      {90, 8, 64 * kMiB, 256 * kKiB, true}, {100, 2, 8 * kMiB, 2 * kMiB, false},  {100, 4, 32 * kMiB, 2 * kMiB, false},
      {100, 6, 128 * kMiB, 1 * kMiB, true}, {100, 8, 128 * kMiB, 1 * kMiB, true}, {103, 2, 4 * kMiB, 4 * kMiB, false},
      {103, 4, 32 * kMiB, 4 * kMiB, false}, {103, 6, 32 * kMiB, 8 * kMiB, true},  {103, 8, 64 * kMiB, 4 * kMiB, true},
  };
  s.multimem = kSymmMemMultimem;
  s.two_shot = kSymmMemTwoShot;
  return s;
}

CustomAllReduceSpec SglangCustomAllReduce() {
  // python/sglang/srt/distributed/device_communicators/custom_all_reduce.py: _SUPPORTED_WORLD_SIZES = [2, 4, 6, 8],
  // _MAX_CAR_SIZE = 8192 * 1024 on CUDA, should_custom_ar as vLLM's. sgl-kernel/csrc/allreduce/
  // custom_all_reduce.cuh, CustomAllreduce::allreduce: the same one-shot/two-shot rule as vLLM's.
  CustomAllReduceSpec s = VllmCustomAllReduce();
  return s;
}

CustomAllReduceSpec TrtllmCustomAllReduce() {
  // cpp/tensorrt_llm/common/customAllReduceUtils.h, selectStrategyLookUpTable and AllReduceBestStrategyTableSM90
  // (AUTO strategy; 0 = NCCL, 4 = ONESHOT, 5 = TWOSHOT in AllReduceStrategyType), fusion NONE, hidden 8192, bf16,
  // TP 2/4/8 only. Read as bytes = tokens x 8192 x 2:
  //   TP=8: ONESHOT to 16 tokens (256 KiB), TWOSHOT from 32 (512 KiB) to 256 (4 MiB), NCCL from 512 (8 MiB).
  //   TP=4: ONESHOT to 16 tokens, TWOSHOT from 32 (one ONESHOT at 64), NCCL from 512 (8 MiB).
  //   TP=2: ONESHOT to 512 tokens (8 MiB, a few TWOSHOT entries), NCCL from 1024 (16 MiB).
  // The table has no entries between powers of two: each boundary is the first size it sends elsewhere. The
  // runtime also falls back to NCCL without P2P or NVLink (allreduceOp.cpp, ifFallbackToNCCL): no PCIe pairs.
  CustomAllReduceSpec s;
  s.available = true;
  s.limits = {{2, 16 * kMiB, 16 * kMiB}, {4, 8 * kMiB, 512 * kKiB}, {8, 8 * kMiB, 512 * kKiB}};
  s.pcie_pairs = false;
  // TRT-LLM's kernels were not measured here: vLLM's figures stand in for them.
  s.one_shot = kCustomOneShot;
  s.two_shot = kCustomTwoShot;
  return s;
}

// The smallest captured size >= n, or -1 when n is over the largest.
int64_t NextCaptured(const std::vector<int64_t>& sizes, int64_t n) {
  auto it = std::lower_bound(sizes.begin(), sizes.end(), n);
  return it == sizes.end() ? -1 : *it;
}

}  // namespace

std::string_view ToString(Engine engine) {
  switch (engine) {
    case Engine::kVllm:
      return "vllm";
    case Engine::kSglang:
      return "sglang";
    case Engine::kTrtllm:
      return "trtllm";
  }
  return "?";
}

Result<Engine> ParseEngine(std::string_view name) {
  for (Engine e : {Engine::kVllm, Engine::kSglang, Engine::kTrtllm}) {
    if (name == ToString(e)) return e;
  }
  return InvalidArgument("unknown engine '" + std::string(name) + "': expected vllm, sglang or trtllm");
}

std::vector<int64_t> VllmCaptureSizes(int64_t max_num_seqs, int64_t max_num_batched_tokens, int64_t decode_query_len) {
  // vllm/config/vllm.py, VllmConfig._set_cudagraph_sizes: the largest size is min(max_num_seqs x decode_query_len
  // x 2, 512, max_num_batched_tokens), decode_query_len = 1 + num_speculative_tokens.
  const int64_t q = std::max<int64_t>(decode_query_len, 1);
  const int64_t largest = std::min<int64_t>({max_num_seqs * q * 2, 512, max_num_batched_tokens});
  std::vector<int64_t> sizes = {1, 2, 4};
  for (int64_t s = 8; s < 256; s += 8) sizes.push_back(s);
  for (int64_t s = 256; s <= largest; s += 16) sizes.push_back(s);
  std::erase_if(sizes, [&](int64_t s) { return s > largest; });
  if (q == 1 || sizes.empty()) return sizes;
  // vllm/config/compilation.py, CompilationConfig.adjust_cudagraph_sizes_for_spec_decode: a uniform decode step has
  // 1 + K rows per request, so every size is rounded up to a multiple of it; those over the largest are dropped,
  // and q alone stands in when none is left.
  std::vector<int64_t> rounded;
  for (int64_t s : sizes) {
    const int64_t up = (s + q - 1) / q * q;
    if (up <= largest) rounded.push_back(up);
  }
  std::sort(rounded.begin(), rounded.end());
  rounded.erase(std::unique(rounded.begin(), rounded.end()), rounded.end());
  if (rounded.empty() && q <= largest) rounded.push_back(q);
  return rounded;
}

std::vector<int64_t> SglangCaptureSizes(int64_t cuda_graph_max_bs) {
  // python/sglang/srt/server_args.py, ServerArgs._generate_cuda_graph_batch_sizes (no speculative decoding, padding
  // on), then filtered to <= cuda_graph_max_bs.
  std::vector<int64_t> sizes = {1, 2, 4, 8, 12};
  for (int64_t s = 16; s <= 256; s += 8) sizes.push_back(s);
  for (int64_t s = 272; s < 512; s += 16) sizes.push_back(s);
  for (int64_t s = 512; s <= cuda_graph_max_bs; s += 32) sizes.push_back(s);
  std::erase_if(sizes, [&](int64_t s) { return s > cuda_graph_max_bs; });
  return sizes;
}

std::vector<int64_t> TrtllmCaptureSizes(int64_t max_batch_size) {
  // tensorrt_llm/llmapi/llm_args.py, CudaGraphConfig._generate_cuda_graph_batch_sizes with enable_padding=False
  // (the default).
  std::vector<int64_t> sizes;
  for (int64_t s = 1; s < 32; ++s) sizes.push_back(s);
  sizes.insert(sizes.end(), {32, 64, 128});
  for (int64_t p = 256; p < max_batch_size; p *= 2) sizes.push_back(p);
  std::erase_if(sizes, [&](int64_t s) { return s > max_batch_size; });
  if (sizes.empty() || sizes.back() != max_batch_size) sizes.push_back(max_batch_size);
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

SchedulerDefaults VllmSchedulerDefaults(const GpuSpec& gpu) {
  // vllm/engine/arg_utils.py, EngineArgs.get_batch_defaults: device_memory >= 70 * GiB_bytes and "a100" not in
  // device_name gives {OPENAI_API_SERVER: 8192} tokens and {OPENAI_API_SERVER: 1024} sequences ("For GPUs like H100
  // and MI300x"; A100 is excluded because a larger token budget lowered its throughput, vLLM PR #17885), else 2048
  // and 256. vLLM v0.19.0 on an H100 logs "Defaulting max_num_seqs to 1024" and "max_num_batched_tokens=8192".
  std::string name(gpu.name);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const bool large = gpu.device_memory_bytes >= 70.0 * 1024 * 1024 * 1024 && name.find("a100") == std::string::npos;
  return large ? SchedulerDefaults{1024, 8192} : SchedulerDefaults{256, 2048};
}

namespace {

// The device memory SGLang reads (get_nvgpu_memory_capacity: nvidia-smi's memory.total, MiB); the catalog's
// CUDA-reported figure where it has one, else the datasheet's.
double DeviceMemoryMiB(const GpuSpec& gpu) {
  const double bytes = gpu.device_memory_bytes > 0 ? gpu.device_memory_bytes : gpu.memory_bytes;
  return bytes / (1024.0 * 1024.0);
}

// SGLang's --enable-dp-attention as a plan says it: DP ranks that share their experts.
bool DpAttention(const ParallelPlan& plan) { return plan.dp > 1 && plan.ep > 1; }

}  // namespace

SglangGpuDefaults SglangDefaultsFor(const GpuSpec& gpu, int tp_size) {
  const double mib = DeviceMemoryMiB(gpu);
  const bool wide = tp_size >= 4;
  SglangGpuDefaults d;
  if (mib < 20 * 1024) {  // T4, 4080
    d = {2048, 8};
  } else if (mib < 35 * 1024) {  // A10, 4090, 5090
    d = {2048, wide ? 80 : 24};
  } else if (mib < 60 * 1024) {  // A100 40GB, L40
    d = {4096, wide ? 160 : 32};
  } else if (mib < 160 * 1024) {  // H100, A100 80GB, H20, H200
    d = {8192, wide ? 512 : 256};
  } else {  // B200, MI300
    d = {16384, 512};
  }
  return d;
}

double SglangMemFractionStatic(const GpuSpec& gpu, int tp_size, int pp_size, int dp_size, bool dp_attention,
                               int64_t chunked_prefill_size, int64_t cuda_graph_max_bs) {
  const double mib = DeviceMemoryMiB(gpu);
  constexpr int64_t kMaxPrefillTokens = 16384;  // ServerArgs.max_prefill_tokens
  double reserved = 512;
  reserved += static_cast<double>(std::max<int64_t>(chunked_prefill_size > 0 ? chunked_prefill_size
                                                                             : kMaxPrefillTokens,
                                                    2048)) *
              1.5;
  reserved += static_cast<double>(cuda_graph_max_bs) * 2;
  reserved += static_cast<double>(tp_size) * pp_size / 8.0 * 1024;
  if (dp_attention) {
    reserved += static_cast<double>(cuda_graph_max_bs) * dp_size * 3;
    if (cuda_graph_max_bs > 300) reserved += static_cast<double>(cuda_graph_max_bs) * dp_size * 1.5;
  }
  if (mib > 60 * 1024) reserved = std::max(reserved, 10.0 * 1024);
  return std::round((mib - reserved) / mib * 1000) / 1000;
}

int SglangTpSize(const ParallelPlan& plan) { return plan.tp * (DpAttention(plan) ? plan.dp : 1); }

double SglangDefaultFraction(const ParallelPlan& plan, const GpuSpec& gpu, int64_t chunked_prefill_size) {
  const int tp_size = SglangTpSize(plan);
  return SglangMemFractionStatic(gpu, tp_size, plan.pp, plan.dp, DpAttention(plan), chunked_prefill_size,
                                 SglangDefaultsFor(gpu, tp_size).cuda_graph_max_bs);
}

EngineProfile ProfileOf(Engine engine, const GpuSpec* gpu, int tp_size) {
  EngineProfile p;
  p.engine = engine;
  switch (engine) {
    case Engine::kVllm: {
      p.custom_all_reduce = VllmCustomAllReduce();
      p.symm_mem = VllmSymmMem();
      p.ep_all_gather = true;
      // `vllm serve`'s defaults for the GPU (an H100 without one).
      const SchedulerDefaults d = VllmSchedulerDefaults(gpu != nullptr ? *gpu : *FindGpuSpec("h100"));
      p.max_num_seqs = d.max_num_seqs;
      p.max_num_batched_tokens = d.max_num_batched_tokens;
      p.cuda_graphs.capture_sizes = VllmCaptureSizes(p.max_num_seqs, p.max_num_batched_tokens);
      p.cuda_graphs.pads_to_next_size = true;
      // vllm/v1/worker/gpu_model_runner.py, execute_model: any batch of at most cudagraph_batch_sizes[-1] tokens
      // is padded with pad_for_cudagraph and run through the piecewise graphs.
      p.cuda_graphs.pads_mixed_batches = true;
      // No measured figure found; a reasoned default (docs/engines.md, "Host overhead"). Async scheduling
      // (overlaps_host, left at its default) hides it behind the step before: on by default since vLLM v0.14.0
      // (vllm-project/vllm PR #27614; its release notes: "Async scheduling is now enabled by default", pipeline
      // parallelism excluded).
      p.host_overhead_per_step = Time::Microseconds(300);
      break;
    }
    case Engine::kSglang:
      p.kv_budget = KvBudget::kSglang;
      p.custom_all_reduce = SglangCustomAllReduce();
      // python/sglang/srt/entrypoints/engine.py, _set_envs_and_config: os.environ["NCCL_NVLS_ENABLE"] =
      // str(int(server_args.enable_nccl_nvls)); ServerArgs.enable_nccl_nvls defaults to False. NCCL reads the
      // variable in ncclNvlsInit (src/transport/nvls.cc): 0 leaves nvlsSupport 0, so neither NVLS nor NVLSTree runs.
      p.nccl_nvls = false;
      // ServerArgs.moe_a2a_backend defaults to "none": with DP attention the MoE runs on the DP gather's buffer
      // (communicator.py, sparse_mlp_scatter_mode: FULL), hidden states only, routed after the gather, in the
      // padding mode DpPaddingMode.get_dp_padding_mode picks (dp_attention.py).
      p.ep_all_gather = true;
      p.ep_gather.routing = false;
      p.ep_gather.sum_len = true;
      p.ep_gather.mlps_over_group = true;
      // server_args.py, _handle_gpu_memory_settings: chunked_prefill_size and cuda_graph_max_bs by the GPU's
      // memory and the TP size (an H100 without a GPU: 8192, and 256 below TP 4). max_running_requests has no fixed
      // default: 0.
      {
        const SglangGpuDefaults d = SglangDefaultsFor(gpu != nullptr ? *gpu : *FindGpuSpec("h100"), tp_size);
        p.max_num_seqs = 0;
        p.max_num_batched_tokens = d.chunked_prefill_size;
        p.cuda_graphs.capture_sizes = SglangCaptureSizes(d.cuda_graph_max_bs);
      }
      p.cuda_graphs.pads_to_next_size = true;
      p.cuda_graphs.pads_mixed_batches = false;
      // The overlap ("zero-overhead") scheduler, on by default, hides the CPU work behind the GPU's.
      p.host_overhead_per_step = Time::Zero();
      break;
    case Engine::kTrtllm:
      p.kv_budget = KvBudget::kTrtllm;
      p.custom_all_reduce = TrtllmCustomAllReduce();
      // tensorrt_llm/_torch/modules/fused_moe (select_alltoall_method_type): NotEnabled, so allgather +
      // reducescatter, unless moe_ep_size > top_k on a system with multi-node NVLink (MNNVL all-to-all); DeepEP
      // only with TRTLLM_CAN_USE_DEEP_EP set.
      p.ep_all_gather = true;
      p.ep_all_to_all_on_mnnvl = true;
      // Not verified in this session (docs/engines.md): max_batch_size 2048, max_num_tokens 8192.
      p.max_num_seqs = 2048;
      p.max_num_batched_tokens = 8192;
      // CudaGraphConfig: max_batch_size 0 -> 128, enable_padding False.
      p.cuda_graphs.capture_sizes = TrtllmCaptureSizes(128);
      p.cuda_graphs.pads_to_next_size = false;
      p.cuda_graphs.pads_mixed_batches = false;
      // The overlap scheduler is on by default (TRT-LLM docs, features/overlap-scheduler).
      p.host_overhead_per_step = Time::Zero();
      break;
  }
  return p;
}

bool EngineGathersExperts(const EngineProfile& profile, bool multi_node_nvlink, int ep, int top_k) {
  if (profile.ep_all_to_all_on_mnnvl && multi_node_nvlink && ep > top_k) return false;
  return profile.ep_all_gather;
}

BatchShape PadForCudaGraph(const BatchShape& batch, const EngineProfile& profile) {
  const CudaGraphSpec& g = profile.cuda_graphs;
  if (batch.empty() || g.capture_sizes.empty() || !g.pads_to_next_size) return batch;
  if (!batch.prefills.empty() && !g.pads_mixed_batches) return batch;
  const int64_t tokens = batch.Tokens();
  const int64_t target = NextCaptured(g.capture_sizes, tokens);
  if (target < 0) return batch;  // over the largest captured size: eager
  BatchShape padded = batch;
  padded.padding += target - tokens;
  return padded;
}

std::string_view ToString(EngineKernel kernel) {
  switch (kernel) {
    case EngineKernel::kOneShot:
      return "custom one-shot";
    case EngineKernel::kTwoShot:
      return "custom two-shot";
    case EngineKernel::kSymmMemMultimem:
      return "symm-mem multimem";
    case EngineKernel::kSymmMemTwoShot:
      return "symm-mem two-shot";
  }
  return "?";
}

Result<EngineKernel> ParseEngineKernel(std::string_view name) {
  if (name == "one-shot") return EngineKernel::kOneShot;
  if (name == "two-shot") return EngineKernel::kTwoShot;
  if (name == "multimem") return EngineKernel::kSymmMemMultimem;
  if (name == "symm-two-shot") return EngineKernel::kSymmMemTwoShot;
  return InvalidArgument("unknown engine kernel '" + std::string(name) +
                         "': expected one-shot, two-shot (the custom kernel), multimem or symm-two-shot (symmetric "
                         "memory)");
}

AlgorithmFilter NcclFilter(const EngineProfile& profile, AlgorithmFilter base) {
  if (!profile.nccl_nvls) {
    base.algorithms &= ~((1u << static_cast<int>(Algorithm::kNvls)) | (1u << static_cast<int>(Algorithm::kNvlsTree)));
  }
  return base;
}

namespace {

// The GPUs' slowest NVLink capacity to NVSwitches and to each other (PCIe capacity for a PCIe pair the engine
// allows), bytes per second; 0 when the group spans hosts or NVLink domains (a PCIe pair aside).
double GroupLinkCapacity(const Topology& topo, const std::vector<NodeId>& nodes, bool pcie_pairs) {
  bool one_domain = true;
  for (NodeId a : nodes) {
    for (NodeId b : nodes) {
      if (!topo.SameHost(a, b)) return 0;  // the engines refuse groups that span hosts, MNNVL included
      one_domain = one_domain && topo.SameNvlinkDomain(a, b);
    }
  }
  const bool pcie_pair = !one_domain && nodes.size() == 2 && pcie_pairs;
  if (!one_domain && !pcie_pair) return 0;
  auto in_group = [&](NodeId n) { return std::find(nodes.begin(), nodes.end(), n) != nodes.end(); };
  double slowest = std::numeric_limits<double>::infinity();
  for (NodeId a : nodes) {
    double gbps = 0;
    for (LinkId id : topo.out_links(a)) {
      const Link& l = topo.link(id);
      if (pcie_pair) {
        if (l.kind == LinkKind::kPcie) gbps += l.capacity_GBps;
      } else if (l.kind == LinkKind::kNvLink && (topo.node(l.to).spec.kind == NodeKind::kNvSwitch || in_group(l.to))) {
        gbps += l.capacity_GBps;
      }
    }
    slowest = std::min(slowest, gbps);
  }
  return slowest > 0 && slowest < std::numeric_limits<double>::infinity() ? slowest * 1e9 : 0;
}

// Every GPU has NVLinks to NVSwitches (multicast objects need them).
bool BehindNvSwitch(const Topology& topo, const std::vector<NodeId>& nodes) {
  for (NodeId g : nodes) {
    bool switched = false;
    for (LinkId id : topo.out_links(g)) {
      const Link& l = topo.link(id);
      switched = switched || (l.kind == LinkKind::kNvLink && topo.node(l.to).spec.kind == NodeKind::kNvSwitch);
    }
    if (!switched) return false;
  }
  return true;
}

// The compute capability x 10 as vLLM keys it: B300 and GB300 are "10.3" (all_reduce_utils.py), where the NCCL
// model's table has them as sm100.
int VllmCapability(const std::string& model) {
  std::string m;
  for (char c : model) m.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return m.find("b300") != std::string::npos ? 103 : GpuArchFromModel(model).sm;
}

}  // namespace

EngineAllReduce::EngineAllReduce(const EngineProfile& profile, const Topology& topo, std::vector<GpuSpec> specs)
    : custom_(profile.custom_all_reduce), symm_mem_(profile.symm_mem), topo_(topo), specs_(std::move(specs)) {}

EngineAllReduce::Group EngineAllReduce::Inspect(const std::vector<int>& gpus) const {
  Group g;
  g.n = static_cast<int>(gpus.size());
  std::vector<NodeId> nodes;
  for (int i : gpus) {
    if (i < 0 || i >= topo_.gpu_count()) return g;
    nodes.push_back(topo_.gpu(i));
  }
  g.link = GroupLinkCapacity(topo_, nodes, custom_.pcie_pairs);
  if (g.link <= 0) return g;
  g.switched = BehindNvSwitch(topo_, nodes);
  int cap = std::numeric_limits<int>::max();
  g.memory_bandwidth = std::numeric_limits<double>::infinity();
  for (size_t k = 0; k < gpus.size(); ++k) {
    const std::string& model = topo_.node(nodes[k]).spec.model;
    cap = std::min(cap, VllmCapability(model));
    const size_t i = static_cast<size_t>(gpus[k]);
    const GpuSpec* spec = i < specs_.size() ? &specs_[i] : FindGpuSpec(model);
    if (spec == nullptr) spec = FindGpuSpec("h100");
    g.memory_bandwidth = std::min(g.memory_bandwidth, spec->memory_bandwidth);
  }
  g.blackwell = cap >= 100 && cap < 110;  // B200, GB200, B300, GB300 (10.x); not the sm120 PCIe cards
  const SymmMemLimit* symm = nullptr;
  if (symm_mem_.available && g.switched) {
    for (const SymmMemLimit& l : symm_mem_.limits) {
      if (l.capability == cap && l.world_size == g.n) symm = &l;
    }
  }
  if (symm != nullptr) {
    g.symm_up_to = symm->max_bytes;
    g.multimem = symm->multimem;
  }
  if (custom_.available) {
    for (const CustomAllReduceLimit& l : custom_.limits) {
      if (l.world_size != g.n) continue;
      g.custom_below = symm != nullptr ? std::min(l.max_bytes, symm->custom_max_bytes) : l.max_bytes;
      g.one_shot_below = l.one_shot_below;
    }
  }
  return g;
}

std::optional<EngineKernel> EngineAllReduce::KernelOf(const Group& g, double bytes) const {
  if (g.link <= 0) return std::nullopt;
  if (bytes < g.custom_below) return bytes < g.one_shot_below ? EngineKernel::kOneShot : EngineKernel::kTwoShot;
  if (bytes <= g.symm_up_to) return g.multimem ? EngineKernel::kSymmMemMultimem : EngineKernel::kSymmMemTwoShot;
  return std::nullopt;
}

std::optional<EngineKernel> EngineAllReduce::KernelFor(const std::vector<int>& gpus, double bytes) const {
  return KernelOf(Inspect(gpus), bytes);
}

std::optional<Time> EngineAllReduce::TimeOf(EngineKernel kernel, const Group& g, double bytes) const {
  if (g.link <= 0) return std::nullopt;
  const double n = static_cast<double>(g.n);
  auto latency = [&](const EngineKernelCost& c) { return g.blackwell ? c.latency_blackwell : c.latency; };
  switch (kernel) {
    case EngineKernel::kOneShot:
      return latency(custom_.one_shot) +
             Time::FromSecondsCeil(bytes * (n - 1) / (custom_.one_shot.link_efficiency * g.link));
    case EngineKernel::kTwoShot:
      return latency(custom_.two_shot) + latency(custom_.two_shot) +
             Time::FromSecondsCeil(2 * bytes * (n - 1) / n / (custom_.two_shot.link_efficiency * g.link));
    case EngineKernel::kSymmMemMultimem:
    case EngineKernel::kSymmMemTwoShot: {
      if (!g.switched) return std::nullopt;
      // In and out of the symmetric buffer: each copy reads and writes the bytes.
      const double copies = 2 * (2 * bytes) / (kCopyEfficiency * g.memory_bandwidth);
      const bool multimem = kernel == EngineKernel::kSymmMemMultimem;
      const EngineKernelCost& c = multimem ? symm_mem_.multimem : symm_mem_.two_shot;
      // multimem: each GPU's memory serves every rank's reduced load of its 1/n slice (bytes) and it stores its own
      // slice once for the switch to multicast (bytes / n); two-shot: peer loads of the slice (n - 1) / n, then
      // stores of the result to every peer (n - 1) / n. Each figure is per direction.
      const double traffic = multimem ? bytes * (n + 1) / n : 2 * bytes * (n - 1) / n;
      return latency(c) + Time::FromSecondsCeil(copies + traffic / (c.link_efficiency * g.link));
    }
  }
  return std::nullopt;
}

std::optional<Time> EngineAllReduce::KernelDuration(EngineKernel kernel, const std::vector<int>& gpus,
                                                    double bytes) const {
  return TimeOf(kernel, Inspect(gpus), bytes);
}

std::string EngineAllReduce::Describe(const std::vector<int>& gpus) const {
  auto size = [](double bytes) {
    return bytes >= kMiB ? std::to_string(static_cast<int64_t>(bytes / kMiB)) + " MiB"
                         : std::to_string(static_cast<int64_t>(bytes / kKiB)) + " KiB";
  };
  const Group g = Inspect(gpus);
  if (g.n < 2 || g.link <= 0) return "NCCL";
  std::string out;
  if (g.custom_below > 0) {
    out += g.one_shot_below >= g.custom_below
               ? "custom one-shot below " + size(g.custom_below) + ", "
               : "custom one-shot below " + size(g.one_shot_below) + ", two-shot below " + size(g.custom_below) + ", ";
  }
  if (g.symm_up_to >= 0) {
    out += std::string("symm-mem ") + (g.multimem ? "multimem" : "two-shot") + " to " + size(g.symm_up_to) + ", ";
  }
  return out.empty() ? "NCCL" : out + "NCCL above";
}

std::optional<Time> EngineAllReduce::Duration(const std::vector<int>& gpus, double bytes) const {
  const Group g = Inspect(gpus);
  const std::optional<EngineKernel> kernel = KernelOf(g, bytes);
  if (!kernel) return std::nullopt;
  return TimeOf(*kernel, g, bytes);
}

std::optional<Time> EngineAllReduce::Duration(const CollectiveCall& call, const PreparedCollective& prepared) const {
  (void)prepared;  // the call names the group; the topology gives its links
  if (call.op != CollectiveOp::kAllReduce) return std::nullopt;
  return Duration(call.gpus, call.bytes);
}

}  // namespace wiresim
