#include "sim/parallel/memory.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace wiresim {
namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

std::string Gb(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f GB", bytes / 1e9);
  return buf;
}

}  // namespace

double ActivationBytes(const ModelSpec& m, const ParallelPlan& p, const MemoryOptions& o, bool last_stage) {
  const LocalShapes s = LocalShapesOf(m, p);
  const double a = BytesPerElement(m.activation_dtype);
  const double h = static_cast<double>(m.hidden_size);
  const double tokens = static_cast<double>(CeilDiv(o.max_num_batched_tokens, p.cp));
  const double qh = static_cast<double>(s.q_heads);
  // Per token: the layer input and the residual, plus what the block materialises.
  double attention = 0;
  if (m.attention == AttentionKind::kMultiLatent) {
    const MlaShape& l = m.mla;
    attention = 2 * h + static_cast<double>(l.q_lora_rank + l.kv_lora_rank + l.qk_rope_head_dim) +
                qh * static_cast<double>(m.QkHeadDim() + l.qk_nope_head_dim + 2 * l.v_head_dim);
  } else {
    attention = 2 * h + static_cast<double>(s.q_heads + 2 * s.kv_heads) * static_cast<double>(m.head_dim) +
                qh * static_cast<double>(m.head_dim);
  }
  double mlp = 0;
  if (m.intermediate_size > 0) mlp = 2 * h + 3 * static_cast<double>(s.dense_width);  // gate|up, and act out
  if (m.IsMoe()) {
    // Expert rows on this GPU per token of its share: the top-k copies of every token (ep = 1); with ep > 1 the
    // stage's distinct tokens (one copy per TP group) times k, spread evenly over tp x cp x dp GPUs: k / tp.
    const double k = static_cast<double>(m.moe.experts_per_token);
    const double rows = p.ep > 1 ? k / p.tp : k;
    const double moe =
        2 * h + rows * (h + 3 * static_cast<double>(s.expert_width)) + 3 * static_cast<double>(s.shared_width);
    mlp = std::max(mlp, moe);
  }
  double bytes = tokens * std::max(attention, mlp) * a;
  if (last_stage) bytes += 2.0 * static_cast<double>(o.max_num_seqs) * static_cast<double>(s.vocab) * 4;
  return bytes;
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
    g.capacity = spec.memory_bytes;
    g.usable = spec.memory_bytes * o.gpu_memory_utilization;
    g.weights = StageWeightBytes(m, p, stages[static_cast<size_t>(c.pp)], first, last);
    g.activations = ActivationBytes(m, p, o, last);
    g.reserve = o.runtime_reserve_bytes;
    g.kv_cache = g.usable - g.weights.total() - g.activations - g.reserve;
    g.kv_bytes_per_token = static_cast<double>(stages[static_cast<size_t>(c.pp)].count()) * s.kv_bytes_per_token_layer;
    if (g.kv_cache > 0) {
      const int64_t blocks = static_cast<int64_t>(std::floor(g.kv_cache / (g.kv_bytes_per_token * o.kv_block_size)));
      g.kv_tokens = blocks * o.kv_block_size;
    }
    plan.gpus.push_back(g);
    const double shortfall = g.weights.total() + g.activations + g.reserve - g.usable;
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
    const std::string needs = Gb(g.weights.total() + g.activations + g.reserve) + " (weights " + Gb(g.weights.total()) +
                              ", activations " + Gb(g.activations) + ", runtime reserve " + Gb(g.reserve) + ")";
    const std::string has = Gb(g.usable) + " is usable (" + Gb(g.capacity) + " x gpu_memory_utilization " + util + ")";
    if (g.kv_cache <= 0) {
      return FailedPrecondition(m.name + " with plan " + p.ToString() + " does not fit: " + where + " needs " + needs +
                                " but " + has);
    }
    return FailedPrecondition(m.name + " with plan " + p.ToString() + " leaves no room for the KV cache: " + where +
                              " needs " + needs + " of the " + has + "; " + Gb(g.kv_cache) +
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
