// Memory per GPU under a plan, the way vLLM budgets it at start-up: of gpu_memory_utilization x capacity, the
// weights the GPU holds, the activation peak of a forward pass over max_num_batched_tokens, and a runtime reserve
// (CUDA graphs, NCCL and cuBLAS workspaces) come off first; what is left is KV cache, in whole blocks. A plan that
// does not fit is an error naming the GPU, the bytes it needs and the bytes it has. docs/models.md defines every
// figure and where its default comes from.
//
//   MemoryOptions options;                                   // vLLM's defaults
//   Result<MemoryPlan> mem = PlanMemory(model, plan, placement, gpu_specs, options);
//   if (!mem.ok()) ...;                                      // "GPU 0 ... needs 104.5 GB ... but 72.0 GB is usable"
//   int64_t tokens = mem->max_kv_tokens;                     // context tokens one replica can cache
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "sim/compute/gpu_spec.h"
#include "sim/core/status.h"
#include "sim/model/model_spec.h"
#include "sim/parallel/placement.h"
#include "sim/parallel/shard.h"

namespace wiresim {

struct MemoryOptions {
  double gpu_memory_utilization = 0.9;  // vLLM's --gpu-memory-utilization default
  // Memory the profiled forward pass does not show: CUDA graphs (vLLM logs 0.5-2 GiB for their capture), NCCL
  // buffers and cuBLAS workspaces. A parameter; 2 GiB by default.
  double runtime_reserve_bytes = 2.0 * 1024 * 1024 * 1024;
  int64_t max_num_batched_tokens = 8192;  // vLLM's default token budget per step for `vllm serve`
  int64_t max_num_seqs = 256;             // vLLM's default sequence limit (the sampler's logits scale with it)
  int64_t kv_block_size = 16;             // vLLM's default tokens per KV block
};

struct GpuMemory {
  int rank = 0;
  int gpu = 0;    // global index
  int stage = 0;  // pipeline stage
  std::string_view gpu_model;
  double capacity = 0;            // bytes on the GPU
  double usable = 0;              // capacity x gpu_memory_utilization
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

// Activation peak of one GPU of `stage` for a forward pass over options.max_num_batched_tokens tokens: the
// largest set of tensors live at once in a layer (attention or MLP/MoE), plus the sampler's fp32 logits on the last
// stage.
double ActivationBytes(const ModelSpec& model, const ParallelPlan& plan, const MemoryOptions& options, bool last_stage);

// `gpu_specs[g]` is the spec of global GPU g. Fails with FailedPrecondition when a GPU's weights, activations and
// reserve exceed its usable memory, or leave no room for one KV block.
Result<MemoryPlan> PlanMemory(const ModelSpec& model, const ParallelPlan& plan, const Placement& placement,
                              std::span<const GpuSpec> gpu_specs, const MemoryOptions& options);

}  // namespace wiresim
