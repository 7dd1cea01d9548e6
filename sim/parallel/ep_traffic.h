// Internal to the parallel part: what every rank's program needs to know about its EP group's traffic, built once
// per step graph. How many tokens each GPU contributes to the dispatch, which share of the routed copies each EP
// rank's experts receive, the bytes each way, and (for all-to-alls) each group's dispatch and combine matrices.
#pragma once

#include <array>
#include <map>
#include <tuple>
#include <vector>

#include "sim/model/model_spec.h"
#include "sim/parallel/batch.h"
#include "sim/parallel/expert_routing.h"
#include "sim/parallel/placement.h"
#include "sim/parallel/step_graph.h"

namespace wiresim::internal {

struct EpTraffic {
  // The micro-batch index of the drafter's passes after the first (0: the whole batch, 1 and 2: micro-batches A and
  // B under two-batch overlap).
  static constexpr int kLaterDraftPasses = 3;
  // By global GPU index: the tokens it contributes to the dispatch for each micro-batch index.
  std::vector<std::array<int64_t, 4>> tokens_of_gpu;
  std::vector<double> share;                     // by index in the EP group
  std::vector<double> hit;                       // by index: the chance a token has an expert there (DestinationHits)
  double dispatch_bytes = 0, combine_bytes = 0;  // per routed token copy (all-to-all), per token (gather)
  bool any_prefill = false;                      // some rank's batch holds a prefill chunk
  // By global GPU index: its NVLink domain (StepGraphOptions::gpu_domain; -1 or absent: a domain of its own), and
  // what DomainHits needs to say how often a token reaches a set of EP ranks.
  std::vector<int> domain_of_gpu;
  ExpertRouting routing;
  int experts = 0;
  double expert_imbalance = 1.0;
  ExpertGroups groups;
  bool sum_len = false;                          // StepGraphOptions::EpGatherFormat::sum_len

  // Whether some rank extends (prefills) in micro-batch `mb`, the engines' is_extend_in_batch: the drafter's later
  // passes decode.
  bool Extends(int mb) const { return any_prefill && mb != kLaterDraftPasses; }

  struct Matrix {
    std::vector<double> bytes;  // [i * n + j]: rank i to rank j
    bool even = true;           // every off-diagonal entry equal: a plain all-to-all
    double largest = 0;         // the largest row or column sum
  };
  // The dispatch (or combine, its transpose) of micro-batch `mb` over the EP group `ep` as an all-to-all-v: entry
  // (i, j) = the copies EP rank i routes to rank j's experts x the bytes of one copy. When some rank extends, a
  // token goes once to each destination rank instead (DeepEP's normal kernels, which SGLang's default --deepep-mode
  // auto runs then: DeepEPMode.resolve; its low-latency kernels send a row per copy). When the group spans NVLink
  // domains (nodes), those kernels send a token once to each other domain holding one of its experts, over the
  // network to the rank there of the sender's index in its own domain (DeepEP's internode dispatch: RDMA to the
  // same NVL rank of the target node), which forwards it over NVLink to each rank of its domain the token reaches;
  // tokens bound for the sender's own domain go straight over NVLink. Entry (i, f) for f the forwarder of domain D
  // is then tokens_i x DomainHits(D), and (f, j) gains tokens_i x hit_j for each other j of D; the combine, its
  // transpose, reduces a domain's rows at the forwarder before the one network row goes back. The same for every
  // layer and every member, so computed by the first program that asks and kept.
  const Matrix& MatrixOf(const std::vector<int>& ep, int mb, bool combine, int top_k) const;

  // The buffer a gather exchange over `group` builds for micro-batch `mb`: its rows, and whether they are the ranks'
  // own laid end to end (SGLang's SUM_LEN mode, gathered and combined by all-reduces: when some rank extends, or when
  // 2 x their sum < the padded rows; dp_attention.py, get_dp_padding_mode) rather than the group's size x the most of
  // any rank (padded: an all-gather and a reduce-scatter). Kept per group and micro-batch, as the matrices.
  struct Gathered {
    int64_t rows = 0;
    bool sum_len = false;
  };
  const Gathered& GatheredOf(const std::vector<int>& group, int mb) const;

 private:
  mutable std::map<std::tuple<int, int, bool>, Matrix> matrices_;  // key: (the group's first GPU, mb, combine)
  mutable std::map<std::pair<int, int>, Gathered> gathered_;       // key: (the group's first GPU, mb)
};

// The EP traffic of the ranks `ranks` (global GPU indices below `gpus`), rank i running `batches[i]`. Empty (no
// tokens, no shares) unless ep > 1 and the model has MoE layers.
EpTraffic BuildEpTraffic(const ModelSpec& model, const ParallelPlan& plan, const Placement& placement,
                         const StepGraphOptions& options, const std::vector<int>& ranks,
                         const std::vector<const BatchShape*>& batches, int gpus);

}  // namespace wiresim::internal
