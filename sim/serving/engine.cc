#include "sim/serving/engine.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace wiresim {

namespace {

constexpr double kKiB = 1024.0;
constexpr double kMiB = 1024.0 * 1024.0;

// Latency and efficiency of the peer-read kernels, fitted (docs/engines.md, "Cost model") to the H100 TP=8
// latencies of vLLM's custom all-reduce that SGLang PR #2904 lists (eager mode): 11.8 us at 64 KiB (one-shot);
// 24.1, 30.4, 45.0 us at 512 KiB, 1 MiB, 2 MiB (two-shot). The two-shot slope gives B ~ 135 GB/s = 0.30 x the
// H100's 450 GB/s; its intercept 2 x 8.5 us; one-shot at 64 KiB then predicts 8.5 + 3.4 = 11.9 us.
constexpr Time kPhaseLatency = Time::Nanoseconds(8500);
constexpr double kLinkEfficiency = 0.30;

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
  s.phase_latency = kPhaseLatency;
  s.link_efficiency = kLinkEfficiency;
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
  s.phase_latency = kPhaseLatency;
  s.link_efficiency = kLinkEfficiency;
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

std::vector<int64_t> VllmCaptureSizes(int64_t max_num_seqs, int64_t max_num_batched_tokens) {
  // vllm/config/vllm.py, VllmConfig._set_cudagraph_sizes.
  const int64_t largest = std::min<int64_t>(max_num_seqs * 2, 512);
  std::vector<int64_t> sizes = {1, 2, 4};
  for (int64_t s = 8; s < 256; s += 8) sizes.push_back(s);
  for (int64_t s = 256; s <= largest; s += 16) sizes.push_back(s);
  std::erase_if(sizes, [&](int64_t s) { return s > largest || s > max_num_batched_tokens; });
  return sizes;
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

CustomAllReduce::CustomAllReduce(const EngineProfile& profile, const Topology& topo)
    : spec_(profile.custom_all_reduce), topo_(topo) {}

const CustomAllReduceLimit* CustomAllReduce::LimitFor(const std::vector<int>& gpus, double bytes) const {
  if (!spec_.available) return nullptr;
  for (const CustomAllReduceLimit& l : spec_.limits) {
    if (l.world_size == static_cast<int>(gpus.size())) return bytes < l.max_bytes ? &l : nullptr;
  }
  return nullptr;
}

double CustomAllReduce::GroupBandwidth(const std::vector<int>& gpus) const {
  std::vector<NodeId> nodes;
  for (int g : gpus) {
    if (g < 0 || g >= topo_.gpu_count()) return 0;
    nodes.push_back(topo_.gpu(g));
  }
  bool one_domain = true;
  for (NodeId a : nodes) {
    for (NodeId b : nodes) {
      if (!topo_.SameHost(a, b)) return 0;  // the engines refuse groups that span hosts, MNNVL included
      one_domain = one_domain && topo_.SameNvlinkDomain(a, b);
    }
  }
  const bool pcie_pair = !one_domain && nodes.size() == 2 && spec_.pcie_pairs;
  if (!one_domain && !pcie_pair) return 0;
  auto in_group = [&](NodeId n) { return std::find(nodes.begin(), nodes.end(), n) != nodes.end(); };
  double slowest = std::numeric_limits<double>::infinity();
  for (NodeId a : nodes) {
    double gbps = 0;
    for (LinkId id : topo_.out_links(a)) {
      const Link& l = topo_.link(id);
      if (pcie_pair) {
        if (l.kind == LinkKind::kPcie) gbps += l.capacity_GBps;
      } else if (l.kind == LinkKind::kNvLink && (topo_.node(l.to).spec.kind == NodeKind::kNvSwitch || in_group(l.to))) {
        gbps += l.capacity_GBps;
      }
    }
    slowest = std::min(slowest, gbps);
  }
  return slowest > 0 && slowest < std::numeric_limits<double>::infinity() ? slowest * 1e9 : 0;
}

std::optional<bool> CustomAllReduce::OneShot(const std::vector<int>& gpus, double bytes) const {
  const CustomAllReduceLimit* limit = LimitFor(gpus, bytes);
  if (limit == nullptr || GroupBandwidth(gpus) <= 0) return std::nullopt;
  return bytes < limit->one_shot_below;
}

std::optional<Time> CustomAllReduce::Duration(const std::vector<int>& gpus, double bytes) const {
  const std::optional<bool> one_shot = OneShot(gpus, bytes);
  if (!one_shot) return std::nullopt;
  const double bw = spec_.link_efficiency * GroupBandwidth(gpus);
  const double n = static_cast<double>(gpus.size());
  if (*one_shot) return spec_.phase_latency + Time::FromSecondsCeil(bytes * (n - 1) / bw);
  return spec_.phase_latency + spec_.phase_latency + Time::FromSecondsCeil(2 * bytes * (n - 1) / n / bw);
}

std::optional<Time> CustomAllReduce::Duration(const CollectiveCall& call, const PreparedCollective& prepared) const {
  (void)prepared;  // the call names the group; the topology gives its links
  if (call.op != CollectiveOp::kAllReduce) return std::nullopt;
  return Duration(call.gpus, call.bytes);
}

}  // namespace wiresim
