// Memory per GPU under a plan, the way vLLM budgets it at start-up (its worker's determine_available_memory): of
// gpu_memory_utilization x the device memory CUDA reports, the weights the GPU holds, the activation peak of its
// profiling pass (a forward pass over max_num_batched_tokens, then the sampler over the logits of
// min(max_num_seqs, max_num_batched_tokens) sequences) and the memory outside torch that pass leaves behind (NCCL and
// custom all-reduce buffers: the runtime reserve) come off first; what is left is KV cache, in whole blocks. CUDA
// graphs are captured after the KV cache is sized, in the (1 - gpu_memory_utilization) headroom, as vLLM through
// v0.20 does. A plan that does not fit is an error naming the GPU, the bytes it needs and the bytes it has.
// docs/models.md defines every figure and where its default comes from; docs/validation/memory.md checks them
// against vLLM's own start-up logs.
//
//   MemoryOptions options;                                   // vLLM's defaults
//   Result<MemoryPlan> mem = PlanMemory(model, plan, placement, gpu_specs, options);
//   if (!mem.ok()) ...;                                      // "GPU 0 ... needs 97.7 GiB ... but 71.27 GiB is usable"
//   int64_t tokens = mem->max_kv_tokens;                     // context tokens one replica can cache
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "sim/compute/gpu_spec.h"
#include "sim/core/status.h"
#include "sim/model/model_spec.h"
#include "sim/parallel/placement.h"
#include "sim/parallel/shard.h"

namespace wiresim {

// How an engine sizes its KV cache from the device memory and the fraction it is given (docs/models.md section 5).
enum class KvBudget {
  // vLLM (its worker's determine_available_memory): fraction x device memory, less the weights, the activation
  // peak of the profiling pass and the memory outside torch.
  kVllm,
  // SGLang (ModelRunner.profile_max_num_token): mem_fraction_static x the memory free when the model runner starts
  // (the device memory less what is outside torch), less the weights; activations and CUDA graphs live in the rest.
  kSglang,
  // TensorRT-LLM (KvCacheConfig.free_gpu_memory_fraction): fraction x the memory still free after the weights, the
  // activations and the memory outside torch.
  kTrtllm,
};

struct MemoryOptions {
  KvBudget budget = KvBudget::kVllm;
  // The engine's memory fraction: vLLM's gpu_memory_utilization (default 0.9), SGLang's mem_fraction_static,
  // TensorRT-LLM's free_gpu_memory_fraction.
  double gpu_memory_utilization = 0.9;
  // Memory outside torch that vLLM's profiling pass finds (its "non-torch forward increase memory"): NCCL and custom
  // all-reduce buffers. Unset: DefaultRuntimeReserve(plan).
  std::optional<double> runtime_reserve_bytes;
  int64_t max_num_batched_tokens = 8192;  // the token budget per step (the forward pass is profiled over it)
  int64_t max_num_seqs = 256;             // the sequence limit (the sampler's logits scale with it)
  int64_t kv_block_size = 16;             // vLLM's default tokens per KV block
  // Speculative decoding's drafter: on the last stage, its weights (DrafterWeightBytes) and its layer's KV cache
  // (one more layer per token: vLLM gives the drafter's attention layer its own KV cache beside the target's).
  DraftModel draft;
  // With ep > 1, how the dense MLPs and shared experts are split (EpMlpSplitOf in step_graph.h).
  EpMlpSplit ep_mlp_split = EpMlpSplit::kTp;
};

struct GpuMemory {
  int rank = 0;
  int gpu = 0;    // global index
  int stage = 0;  // pipeline stage
  std::string_view gpu_model;
  double capacity = 0;            // bytes on the GPU as CUDA reports them
  double usable = 0;              // what the engine's budget lets `needed` and the KV cache use (KvBudget)
  double needed = 0;              // what must fit in `usable` besides the KV cache
  StageWeights weights;           // bytes of weights held
  double activations = 0;         // activation peak of one forward pass (estimate: ActivationBytes)
  double reserve = 0;             // runtime reserve
  double kv_cache = 0;            // what is left for the KV cache
  double kv_bytes_per_token = 0;  // KV bytes this GPU stores per token of context (its layers and heads)
  int64_t kv_tokens = 0;          // tokens its KV space holds, in whole blocks (with CP: of its share)
};

struct MemoryPlan {
  std::vector<GpuMemory> gpus;  // by rank
  // Tokens of context the KV cache of one replica (one DP rank) holds: the least over its GPUs, times cp (each
  // context-parallel rank keeps 1/cp of every sequence).
  int64_t max_kv_tokens = 0;
};

// Activation peak of one GPU of a stage in vLLM's profiling pass: the larger of the forward pass over
// options.max_num_batched_tokens tokens (the largest set of tensors live at once in a layer, attention or MLP/MoE;
// on a stage before the last, plus the hidden states and residual it hands on) and, on the last stage, the
// sampler's pass over the logits of min(max_num_seqs, max_num_batched_tokens) sequences, whole vocabulary, beside
// the step's final hidden states.
double ActivationBytes(const ModelSpec& model, const ParallelPlan& plan, const MemoryOptions& options, bool last_stage);

// Bytes the sampler's profiling pass holds per logit (per sequence per vocabulary entry): the LM head's 2-byte
// logits and the sampler's fp32 copies of them. Fitted on one vLLM v0.19.0 log (Llama-3.1-8B, 1 x H100: activation
// peak 1.89 GiB, sampler-bound); docs/validation/memory.md checks it on the others.
inline constexpr double kSamplerBytesPerLogit = 15;

// The runtime reserve vLLM v0.19.0 measures outside torch after its profiling pass, per GPU: 0.25 GiB when the
// replica's step has no collective (tp = cp = ep = 1), 2.1 GiB when it has (NCCL's and the custom all-reduce's
// buffers). Fitted on the Llama-3.1-8B logs at tp = 1 and 2 (0.25 and 2.07 GiB); docs/validation/memory.md.
double DefaultRuntimeReserve(const ParallelPlan& plan);

// The bytes an engine's budget lets its needs and KV cache use on a GPU of `capacity` bytes (GpuMemory::usable), and
// the name of its memory fraction ("gpu_memory_utilization", "mem_fraction_static", "free_gpu_memory_fraction").
double UsableBytes(KvBudget budget, double capacity, double reserve, double fraction);
std::string_view FractionName(KvBudget budget);

// What must fit in the usable bytes besides the KV cache (GpuMemory::needed): the weights alone under SGLang's budget
// (its activations and reserve live outside its static fraction), weights, activations and reserve otherwise.
double NeededBytes(KvBudget budget, double weights, double activations, double reserve);

// `gpu_specs[g]` is the spec of global GPU g. Fails with FailedPrecondition when a GPU's weights, activations and
// reserve exceed its usable memory, or leave no room for one KV block.
Result<MemoryPlan> PlanMemory(const ModelSpec& model, const ParallelPlan& plan, const Placement& placement,
                              std::span<const GpuSpec> gpu_specs, const MemoryOptions& options);

}  // namespace wiresim
