// What a step graph's options mean: the EP exchange's words, the layouts it implies, and which inputs are valid.
#include "sim/parallel/step_graph_options.h"

#include <string>

#include "sim/parallel/expert_routing.h"
#include "sim/parallel/step_graph.h"

namespace wiresim {

Result<StepGraphOptions::EpExchange> StepGraphOptions::ParseEpExchange(std::string_view word, bool engine_all_gathers) {
  if (word == "alltoall") return EpExchange::kAllToAll;
  if (word == "allgather") return EpExchange::kAllGather;
  if (word == "auto") return engine_all_gathers ? EpExchange::kAllGather : EpExchange::kAllToAll;
  return InvalidArgument("expected auto, alltoall or allgather, got '" + std::string(word) + "'");
}

bool GathersOverDpGroup(const ParallelPlan& p, StepGraphOptions::EpExchange exchange) {
  return exchange == StepGraphOptions::EpExchange::kAllGather && p.ep > 1 && p.tp > 1 && !p.sequence_parallel &&
         p.cp == 1;
}

EpMlpSplit EpMlpSplitOf(const ParallelPlan& p, StepGraphOptions::EpExchange exchange,
                        const StepGraphOptions::EpGatherFormat& format) {
  if (p.ep > 1 && exchange == StepGraphOptions::EpExchange::kAllGather && format.mlps_over_group) {
    return EpMlpSplit::kEpGroup;
  }
  return GathersOverDpGroup(p, exchange) ? EpMlpSplit::kSharedOverTp : EpMlpSplit::kTp;
}

namespace internal {

Status CheckStepGraphInputs(const ParallelPlan& plan, const BatchShape& batch, const StepGraphOptions& options) {
  if (batch.empty() && options.dp_batches.empty()) return InvalidArgument("step graph: the batch is empty");
  if (!(options.expert_imbalance >= 1.0)) {
    return InvalidArgument("step graph: expert imbalance must be >= 1 (1 = balanced), got " +
                           std::to_string(options.expert_imbalance));
  }
  if (options.draft.passes < 0 || options.draft.passes > kMaxDraftTokens) {
    return InvalidArgument("step graph: drafter passes must be 0 to " + std::to_string(kMaxDraftTokens) + ", got " +
                           std::to_string(options.draft.passes));
  }
  if (options.draft.passes > 0 && (plan.pp > 1 || plan.cp > 1)) {
    return InvalidArgument(
        "step graph: a drafter (speculative decoding) with pipeline or context parallelism is not "
        "modelled (pp=" +
        std::to_string(plan.pp) + ", cp=" + std::to_string(plan.cp) + ")");
  }
  if (options.replica < 0 || options.replica >= plan.dp) {
    return InvalidArgument("step graph: replica " + std::to_string(options.replica) +
                           " is not a DP rank (dp=" + std::to_string(plan.dp) + ")");
  }
  const bool coupled = plan.ep > 1;  // experts over the DP ranks: they step together
  if (!options.dp_batches.empty() && (!coupled || static_cast<int>(options.dp_batches.size()) != plan.dp)) {
    return InvalidArgument(
        "step graph: per-DP-rank batches need ep > 1 and one batch per DP rank (dp=" + std::to_string(plan.dp) + ")");
  }
  return ValidateRouting(options.routing, options.expert_imbalance);
}

}  // namespace internal
}  // namespace wiresim
