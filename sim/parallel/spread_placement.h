// Spreading a plan's DP replicas over failure domains (hosts) so that one host's loss takes as few replicas as the
// GPUs allow, each replica placed inside its GPUs by AutoPlacement (docs/placement.md, "Spreading replicas").
//
//   PlacementScore why;
//   WIRESIM_ASSIGN_OR_RETURN(Placement where, SpreadPlacement(dgx_2node, llama8b, plan_tp4_dp2, gpus_0_15, &why));
//   // where.gpu_of_rank = {0, 1, 2, 3, 8, 9, 10, 11}
//   // why.lines.back(): "DP replicas (2 of 4 GPUs): hosts node0 | node1; losing one host loses at most 1 of 2 ..."
#pragma once

#include <span>
#include <string>

#include "sim/core/status.h"
#include "sim/model/model_spec.h"
#include "sim/parallel/placement.h"
#include "sim/parallel/placement_search.h"
#include "sim/parallel/plan.h"
#include "sim/topology/topology.h"

namespace wiresim {

// AutoPlacement with the DP replicas spread over failure domains, the hosts (machines): replica after replica goes to
// the host holding the fewest replicas so far that has free GPUs for a whole replica (ties: the most free GPUs, then
// the lowest host), where AutoPlacement places it; a replica larger than any host's free GPUs takes the free GPUs of
// the hosts holding the fewest replicas, in that order. Losing one host then loses as few replicas as the GPUs allow.
// Replicas that talk to each other (expert parallelism across DP) fail together and are placed as AutoPlacement
// places them. score->lines gains a line saying which hosts hold each replica and how many one host's loss takes.
// Errors: as AutoPlacement.
Result<Placement> SpreadPlacement(const Topology& topo, const ModelSpec& model, const ParallelPlan& plan,
                                  std::span<const int> gpus, PlacementScore* score = nullptr,
                                  StepGraphOptions::EpExchange ep_exchange = StepGraphOptions::EpExchange::kAllToAll);

// The replicas' failure exposure under `placement`: "DP replicas (2 of 8 GPUs): hosts node0 | node1; losing one host
// loses at most 1 of 2 replicas". Empty for dp = 1.
std::string ReplicaHostsLine(const Topology& topo, const ParallelPlan& plan, const Placement& placement);

}  // namespace wiresim
