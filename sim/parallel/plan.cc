#include "sim/parallel/plan.h"

#include "sim/core/text.h"

namespace wiresim {
namespace {

std::string Str(int64_t v) { return std::to_string(v); }

}  // namespace

std::string ParallelPlan::ToString() const {
  std::string out;
  auto add = [&out](const char* name, int v) {
    if (v == 1) return;
    out += (out.empty() ? "" : ",") + std::string(name) + "=" + std::to_string(v);
  };
  add("tp", tp);
  add("pp", pp);
  add("cp", cp);
  add("dp", dp);
  add("ep", ep);
  if (sequence_parallel) out += (out.empty() ? "" : ",") + std::string("sp=on");
  if (cp > 1 && cp_attention == CpAttention::kAllGather) out += ",cp_attention=allgather";
  return out.empty() ? "tp=1" : out;
}

Result<ParallelPlan> ParsePlan(std::string_view text) {
  ParallelPlan plan;
  const std::string expected = "expected items like tp=8,pp=2,cp=1,dp=1,ep=8,sp=on,cp_attention=ring|allgather";
  for (std::string_view part : Split(text, ',')) {
    const std::string_view item = Trim(part);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) return InvalidArgument("plan: '" + std::string(item) + "': " + expected);
    const std::string_view key = Trim(item.substr(0, eq));
    const std::string_view value = Trim(item.substr(eq + 1));
    if (key == "sp" || key == "sequence_parallel") {
      if (value == "on" || value == "true" || value == "1") {
        plan.sequence_parallel = true;
      } else if (value == "off" || value == "false" || value == "0") {
        plan.sequence_parallel = false;
      } else {
        return InvalidArgument("plan: '" + std::string(item) + "': sp takes on or off");
      }
      continue;
    }
    if (key == "cp_attention") {
      if (value == "ring") {
        plan.cp_attention = CpAttention::kRing;
      } else if (value == "allgather" || value == "all_gather") {
        plan.cp_attention = CpAttention::kAllGather;
      } else {
        return InvalidArgument("plan: '" + std::string(item) + "': cp_attention takes ring or allgather");
      }
      continue;
    }
    int* slot = key == "tp"   ? &plan.tp
                : key == "pp" ? &plan.pp
                : key == "cp" ? &plan.cp
                : key == "dp" ? &plan.dp
                : key == "ep" ? &plan.ep
                              : nullptr;
    if (slot == nullptr) return InvalidArgument("plan: unknown item '" + std::string(key) + "': " + expected);
    int v = 0;
    if (!ParseWholeNumber(value, &v) || v < 1 || v > 65536) {
      return InvalidArgument("plan: '" + std::string(item) + "': " + std::string(key) +
                             " must be a whole number from 1 to 65536");
    }
    *slot = v;
  }
  const int64_t gpus = int64_t{plan.tp} * plan.pp * plan.cp * plan.dp;  // each below 2^17: no overflow
  if (gpus > kMaxPlanGpus) {
    return InvalidArgument("plan '" + std::string(text) + "': tp x pp x cp x dp = " + std::to_string(gpus) +
                           " GPUs, more than " + std::to_string(kMaxPlanGpus) + " (2^20)");
  }
  if (plan.cp > kMaxContextParallel || (plan.cp > 1 && plan.tp * plan.cp > kMaxContextParallelGpus)) {
    return InvalidArgument("plan '" + std::string(text) + "': cp=" + std::to_string(plan.cp) +
                           " with tp=" + std::to_string(plan.tp) + ": context parallelism takes cp up to " +
                           std::to_string(kMaxContextParallel) + " and tp x cp up to " +
                           std::to_string(kMaxContextParallelGpus) +
                           " (each GPU's cp - 1 ring-attention passes per layer are simulated one by one)");
  }
  return plan;
}

Status ValidatePlan(const ParallelPlan& p, const ModelSpec& m, int gpus_available) {
  auto fail = [&](const std::string& message) { return InvalidArgument("plan " + p.ToString() + ": " + message); };
  const int64_t tp = p.tp;
  if (m.num_attention_heads % tp != 0) {
    return fail("num_attention_heads " + Str(m.num_attention_heads) + " is not divisible by tp=" + Str(tp) +
                " (each GPU of a tensor-parallel group computes whole heads)");
  }
  if (m.attention == AttentionKind::kMultiHead && m.num_kv_heads % tp != 0 && tp % m.num_kv_heads != 0) {
    return fail("num_key_value_heads " + Str(m.num_kv_heads) + " and tp=" + Str(tp) +
                ": tp must divide the KV heads, or be a multiple of them (each KV head is then replicated on tp / " +
                Str(m.num_kv_heads) + " GPUs)");
  }
  bool any_dense = false;
  for (int64_t l = 0; l < m.num_layers && !any_dense; ++l) any_dense = !m.IsMoeLayer(l);
  if (any_dense && m.intermediate_size % tp != 0) {
    return fail("intermediate_size " + Str(m.intermediate_size) + " is not divisible by tp=" + Str(tp));
  }
  if (p.ep > 1) {
    if (!m.IsMoe()) return fail("ep=" + Str(p.ep) + " but " + m.name + " has no experts; use ep=1");
    if (p.ep != p.GpusPerStage()) {
      return fail("ep=" + Str(p.ep) + " must be 1 or tp x cp x dp = " + Str(p.GpusPerStage()) +
                  " (experts spread over every attention rank of a pipeline stage, as vLLM and SGLang lay them out)");
    }
    if (m.moe.num_experts % p.ep != 0) {
      return fail(Str(m.moe.num_experts) + " experts do not divide over ep=" + Str(p.ep) + " GPUs");
    }
  } else if (m.IsMoe()) {
    if (m.moe.expert_intermediate_size % tp != 0) {
      return fail("expert width " + Str(m.moe.expert_intermediate_size) + " is not divisible by tp=" + Str(tp) +
                  " (with ep=1 every expert is split over the tp group)");
    }
  }
  if (m.IsMoe() && m.moe.shared_intermediate_size % tp != 0 && p.ep == 1) {
    return fail("shared-expert width " + Str(m.moe.shared_intermediate_size) + " is not divisible by tp=" + Str(tp));
  }
  if (p.pp > m.num_layers) {
    return fail("pp=" + Str(p.pp) + " exceeds the " + Str(m.num_layers) + " layers (each stage needs at least one)");
  }
  if (gpus_available > 0 && p.WorldSize() > gpus_available) {
    return fail("needs tp x pp x cp x dp = " + Str(p.WorldSize()) + " GPUs but " + Str(gpus_available) +
                " are available");
  }
  return Status::Ok();
}

std::vector<StageLayers> SplitLayers(int64_t num_layers, int pp) {
  WIRESIM_CHECK(pp >= 1 && pp <= num_layers) << "pp " << pp << " for " << num_layers << " layers";
  std::vector<int64_t> counts(static_cast<size_t>(pp), num_layers / pp);
  const int64_t remainder = num_layers % pp;
  // vLLM: for i in range(2, remainder + 2): partitions[-i] += 1
  for (int64_t i = 2; i < remainder + 2; ++i) counts[static_cast<size_t>(pp - i)] += 1;
  std::vector<StageLayers> out;
  int64_t first = 0;
  for (int64_t c : counts) {
    out.push_back({first, first + c});
    first += c;
  }
  return out;
}

}  // namespace wiresim
