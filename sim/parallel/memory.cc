#include "sim/parallel/memory.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace wiresim {
namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

constexpr double kGiB = 1024.0 * 1024 * 1024;

std::string Gib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f GiB", bytes / kGiB);
  return buf;
}

}  // namespace

double ActivationBytes(const ModelSpec& m, const ParallelPlan& p, const MemoryOptions& o, bool last_stage) {
  const LocalShapes s = LocalShapesOf(m, p);
  const double a = BytesPerElement(m.activation_dtype);
  const double h = static_cast<double>(m.hidden_size);
  const double tokens = static_cast<double>(CeilDiv(o.max_num_batched_tokens, p.cp));
  const double qh = static_cast<double>(s.q_heads);
  // Per token: the residual stream, its normalised copy, the block's input and its output (4h), plus what the
  // block materialises. (4h rather than 2h: CodeLlama-7b and Granite-3.1-8B, whose sampler is small, peak at 0.77
  // and 0.85 GiB in vLLM v0.19.0's logs; 4h gives 0.75 and 0.84, 2h 0.63 and 0.71.)
  const double stream = 4 * h;
  double attention = 0;
  if (m.attention == AttentionKind::kMultiLatent) {
    const MlaShape& l = m.mla;
    attention = stream + static_cast<double>(l.q_lora_rank + l.kv_lora_rank + l.qk_rope_head_dim) +
                qh * static_cast<double>(m.QkHeadDim() + l.qk_nope_head_dim + 2 * l.v_head_dim);
  } else {
    attention = stream + static_cast<double>(s.q_heads + 2 * s.kv_heads) * static_cast<double>(m.head_dim) +
                qh * static_cast<double>(m.head_dim);
  }
  double mlp = 0;
  if (m.intermediate_size > 0) mlp = stream + 3 * static_cast<double>(s.dense_width);  // gate|up, and act out
  // The fused-MoE kernel's two workspaces, per token of the GPU's share. vLLM's FusedMoEModularKernel keeps them in
  // buffers shared by every MoE layer and never freed ("Persistent buffers that are shared across
  // FusedMoEModularKernel instances", modular_kernel.py), sized by TritonExperts.workspace_shapes: (M, topk,
  // max(N / 2, K)) and (M, topk, max(N, K)) with N the gate|up width and K the hidden size. They outlive the
  // forward pass, so the sampler's pass holds them too.
  double moe_workspace = 0;
  if (m.IsMoe()) {
    // Expert rows on this GPU per token of its share: the top-k copies of every token (ep = 1); with ep > 1 the
    // stage's distinct tokens (one copy per TP group) times k, spread evenly over tp x cp x dp GPUs: k / tp.
    const double k = static_cast<double>(m.moe.experts_per_token);
    const double rows = p.ep > 1 ? k / p.tp : k;
    const double w = static_cast<double>(s.expert_width);
    moe_workspace = rows * (std::max(w, h) + std::max(2 * w, h));
    mlp = std::max(mlp, stream + moe_workspace + 3 * static_cast<double>(s.shared_width));
  }
  double forward = tokens * std::max(attention, mlp) * a;
  if (!last_stage) return forward + tokens * 2 * h * a;  // the hidden states and residual handed to the next stage
  // The sampler runs after the forward pass has freed its layers' tensors, beside the step's final hidden states
  // (and the MoE workspaces). Its logits cover the whole vocabulary on every TP rank (gathered; the logs' peak does
  // not shrink with tp).
  const double sequences = static_cast<double>(std::min(o.max_num_seqs, o.max_num_batched_tokens));
  const double sampler =
      tokens * (h + moe_workspace) * a + sequences * static_cast<double>(m.vocab_size) * kSamplerBytesPerLogit;
  return std::max(forward, sampler);
}

double UsableBytes(KvBudget budget, double capacity, double reserve, double fraction) {
  switch (budget) {
    case KvBudget::kVllm:
      return capacity * fraction;
    case KvBudget::kSglang:
      return (capacity - reserve) * fraction;
    case KvBudget::kTrtllm:
      return capacity;
  }
  return 0;
}

double NeededBytes(KvBudget budget, double weights, double activations, double reserve) {
  return budget == KvBudget::kSglang ? weights : weights + activations + reserve;
}

std::string_view FractionName(KvBudget budget) {
  switch (budget) {
    case KvBudget::kVllm:
      return "gpu_memory_utilization";
    case KvBudget::kSglang:
      return "mem_fraction_static";
    case KvBudget::kTrtllm:
      return "free_gpu_memory_fraction";
  }
  return "";
}

double DefaultRuntimeReserve(const ParallelPlan& p) {
  const bool collectives = p.tp > 1 || p.cp > 1 || p.ep > 1;
  return (collectives ? 2.1 : 0.25) * kGiB;
}

Result<MemoryPlan> PlanMemory(const ModelSpec& m, const ParallelPlan& p, const Placement& placement,
                              std::span<const GpuSpec> gpu_specs, const MemoryOptions& o) {
  const std::vector<StageLayers> stages = SplitLayers(m.num_layers, p.pp);
  const LocalShapes s = LocalShapesOf(m, p);
  MemoryPlan plan;
  int worst = -1;
  double worst_short = 0;
  for (int r = 0; r < p.WorldSize(); ++r) {
    const RankCoord c = CoordOf(p, r);
    GpuMemory g;
    g.rank = r;
    g.gpu = placement.GpuOf(r);
    g.stage = c.pp;
    WIRESIM_CHECK(static_cast<size_t>(g.gpu) < gpu_specs.size()) << "no spec for GPU " << g.gpu;
    const GpuSpec& spec = gpu_specs[static_cast<size_t>(g.gpu)];
    const bool first = c.pp == 0, last = c.pp == p.pp - 1;
    g.gpu_model = spec.name;
    g.capacity = spec.device_memory_bytes;
    g.weights = StageWeightBytes(m, p, stages[static_cast<size_t>(c.pp)], first, last, o.ep_mlp_split);
    const bool drafter = last && o.draft.passes > 0;
    if (drafter) g.weights.drafter = DrafterWeightBytes(m, p, o.draft, o.ep_mlp_split);
    g.activations = ActivationBytes(m, p, o, last);
    g.reserve = o.runtime_reserve_bytes ? *o.runtime_reserve_bytes : DefaultRuntimeReserve(p);
    const double f = o.gpu_memory_utilization;
    g.usable = UsableBytes(o.budget, g.capacity, g.reserve, f);
    g.needed = NeededBytes(o.budget, g.weights.total(), g.activations, g.reserve);
    g.kv_cache = (g.usable - g.needed) * (o.budget == KvBudget::kTrtllm ? f : 1.0);
    g.kv_bytes_per_token =
        static_cast<double>(stages[static_cast<size_t>(c.pp)].count() + (drafter ? 1 : 0)) * s.kv_bytes_per_token_layer;
    if (g.kv_cache > 0) {
      const int64_t blocks = static_cast<int64_t>(std::floor(g.kv_cache / (g.kv_bytes_per_token * o.kv_block_size)));
      g.kv_tokens = blocks * o.kv_block_size;
    }
    plan.gpus.push_back(g);
    const double shortfall = g.needed - g.usable;
    if (g.kv_tokens == 0 && (worst < 0 || shortfall > worst_short)) {
      worst = r;
      worst_short = shortfall;
    }
  }
  if (worst >= 0) {
    const GpuMemory& g = plan.gpus[static_cast<size_t>(worst)];
    char util[16];
    std::snprintf(util, sizeof(util), "%.2f", o.gpu_memory_utilization);
    const std::string where = "GPU " + std::to_string(g.gpu) + " (rank " + std::to_string(g.rank) +
                              ", pipeline stage " + std::to_string(g.stage) + ", " + std::string(g.gpu_model) + ")";
    std::string needs, has;
    switch (o.budget) {
      case KvBudget::kVllm:
        needs = Gib(g.needed) + " (weights " + Gib(g.weights.total()) + ", activations " + Gib(g.activations) +
                ", runtime reserve " + Gib(g.reserve) + ")";
        has = Gib(g.usable) + " is usable (" + Gib(g.capacity) + " x gpu_memory_utilization " + util + ")";
        break;
      case KvBudget::kSglang:
        needs = Gib(g.needed) + " of weights";
        has = Gib(g.usable) + " is usable ((" + Gib(g.capacity) + " less the runtime reserve " + Gib(g.reserve) +
              ") x mem_fraction_static " + util + ")";
        break;
      case KvBudget::kTrtllm:
        needs = Gib(g.needed) + " (weights " + Gib(g.weights.total()) + ", activations " + Gib(g.activations) +
                ", runtime reserve " + Gib(g.reserve) + ")";
        has = Gib(g.usable) + " is on the GPU (its KV cache takes free_gpu_memory_fraction " + std::string(util) +
              " of what is left)";
        break;
    }
    if (g.kv_cache <= 0) {
      return FailedPrecondition(m.name + " with plan " + p.ToString() + " does not fit: " + where + " needs " + needs +
                                " but " + has);
    }
    return FailedPrecondition(m.name + " with plan " + p.ToString() + " leaves no room for the KV cache: " + where +
                              " needs " + needs + " of the " + has + "; " + Gib(g.kv_cache) +
                              " is left, less than one KV block of " + std::to_string(o.kv_block_size) + " tokens");
  }
  // One replica: the GPUs of DP rank 0.
  int64_t least = std::numeric_limits<int64_t>::max();
  for (const GpuMemory& g : plan.gpus) {
    if (CoordOf(p, g.rank).dp == 0) least = std::min(least, g.kv_tokens);
  }
  plan.max_kv_tokens = least * p.cp;
  return plan;
}

}  // namespace wiresim
