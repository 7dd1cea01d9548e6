// Topology-aware placement: how much each parallel dimension of a plan communicates (CommDemand), what that costs
// under a given rank -> GPU mapping (ScorePlacement), and a mapping that keeps the heaviest communication on the
// fastest links (AutoPlacement). The score is a ranking estimate built from the topology's routes (docs/placement.md),
// not a prediction: a simulation of the chosen placement gives the times.
//
//   std::vector<int> gpus = {0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15};
//   PlacementScore why;
//   WIRESIM_ASSIGN_OR_RETURN(Placement where, AutoPlacement(dgx_2node, llama70b, plan_tp8_pp2, gpus, &why));
//   // where.gpu_of_rank = {0, 1, ..., 15}: each TP group inside one node, the PP boundary across the fabric
//   // why.lines[0]: "TP groups (2 of 8 GPUs): all inside one NVLink domain; slowest pair GPU 0-1 NV18 ..."
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sim/core/status.h"
#include "sim/model/model_spec.h"
#include "sim/parallel/placement.h"
#include "sim/parallel/plan.h"
#include "sim/parallel/step_graph.h"
#include "sim/topology/topology.h"

namespace wiresim {

// Bytes one iteration of the plan moves per rank along each parallel dimension, for a step of `tokens` tokens of one
// replica (one DP rank), counted as the collectives' buffer sizes (nccl-tests' "size"), summed over the collectives of
// the busiest pipeline stage (ceil(layers / pp) layers). With h = hidden_size, a = activation bytes, t = ceil(tokens /
// cp) tokens per rank, L = ceil(num_layers / pp), M = the MoE layers among them:
//   tp  2 L t h a: two all-reduces per layer, after attention and after the MLP (under sequence parallelism a
//       reduce-scatter and an all-gather, which move the same bytes);
//   cp  L tokens kv: the KV of all the step's tokens, kv = this rank's KV bytes per token per layer (LocalShapesOf);
//   ep  2 M ceil(t / tp) r h a: dispatch and combine all-to-alls of each MoE layer, r = the rows a token sends in a
//       step that prefills, one per rank holding one of its experts: ep x DestinationHits under uniform routing; with
//       the gather exchange (`ep_exchange` kAllGather) 2 M n D h a, the all-gather and reduce-scatter of n ranks' D
//       tokens each: n = ep and D = ceil(t / tp), or in vLLM's layout with TP inside each DP rank
//       (GathersOverDpGroup) n = dp and D = t (the routing bytes, and SGLang's all-reduces in prefill steps, left
//       out of this ranking estimate);
//   pp  2 t' h a: one send of the hidden state and the residual per stage boundary, t' = ceil(t / tp) under
//       sequence parallelism, else t (vLLM's IntermediateTensors);
//   dp  0: inference replicas do not talk.
// A dimension of degree 1 has demand 0.
struct CommDemand {
  double tp = 0, cp = 0, ep = 0, pp = 0, dp = 0;
};
CommDemand DemandOf(const ModelSpec& model, const ParallelPlan& plan, int64_t tokens,
                    StepGraphOptions::EpExchange ep_exchange = StepGraphOptions::EpExchange::kAllToAll);

struct PlacementScore {
  // Estimated communication time of one iteration under this placement: over the stages a batch passes through, the
  // slowest TP, CP and EP group of each stage plus the slowest send of each PP boundary (docs/placement.md).
  double cost_seconds = 0;
  // The explanation: one line per group kind and one per PP boundary, e.g.
  //   "TP groups (8 of 4 GPUs): all inside one NVLink domain; slowest pair GPU 0-1 NV12 (300 GB/s); 1.6 GB per step
  //    each, slowest group 21.5 ms"
  //   "PP boundary 0->1 (8 sends): node0 -> node1, slowest GPU 0-8 NET (50 GB/s); 268 MB per step each"
  std::vector<std::string> lines;
};

// Scores `placement` (global GPU indices per rank) by its groups' demand over their route cost: a group's bandwidth is
// its slowest member pair's route bandwidth and its latency the slowest pair's route latency (a ring is as fast as its
// busiest link; links are not summed). Groups of more than 32 GPUs are costed over the pairs of consecutive members
// in GPU-index order, a ring through them, to stay fast. A group with an unreachable pair costs +infinity.
// REQUIRES: placement has plan.WorldSize() distinct GPUs of `topo`.
// The step AutoPlacement scores with: a full prefill-sized batch of the scheduler's default max_num_batched_tokens
// (8192, the vllm profile in sim/serving/engine.cc), where communication weighs most.
inline constexpr int64_t kPlacementScoreTokens = 8192;

// `ep_exchange`: how the EP group exchanges tokens (DemandOf); with vLLM's gather over the DP group
// (GathersOverDpGroup) the groups scored for it are the DP groups.
PlacementScore ScorePlacement(const Topology& topo, const ModelSpec& model, const ParallelPlan& plan,
                              const Placement& placement, int64_t tokens = kPlacementScoreTokens,
                              StepGraphOptions::EpExchange ep_exchange = StepGraphOptions::EpExchange::kAllToAll);

// Maps ranks onto `gpus` (global GPU indices the run may use, in the caller's order; more than the plan needs is
// allowed, and the search then also chooses which to use) so the heaviest communication lands on the fastest links:
// TP x CP blocks grown GPU by GPU from the fastest and nearest free GPUs (an NVLink domain whenever one holds them),
// the blocks of a stage next to each other (EP), consecutive stages on consecutive domains (PP). The best of that,
// packed and strided is then improved by a bounded search of pairwise swaps. Deterministic; ties go to the lower GPU
// index. Never scores worse than packed and strided on the same GPUs. Errors: fewer GPUs than ranks, an index
// outside the topology, a GPU listed twice.
Result<Placement> AutoPlacement(const Topology& topo, const ModelSpec& model, const ParallelPlan& plan,
                                std::span<const int> gpus, PlacementScore* score = nullptr,
                                StepGraphOptions::EpExchange ep_exchange = StepGraphOptions::EpExchange::kAllToAll);

// Errors for a placement of `plan` on `gpus`: a GPU the topology lacks, a GPU listed twice, fewer GPUs than ranks.
Status CheckPlacementGpus(const Topology& topo, const ParallelPlan& plan, std::span<const int> gpus);

}  // namespace wiresim
