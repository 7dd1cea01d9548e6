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
#include "sim/parallel/placement.h"
#include "sim/parallel/step_graph.h"

namespace wiresim::internal {

struct EpTraffic {
  // By global GPU index: the tokens it contributes to the dispatch for the whole batch, micro-batches A and B, and
  // the drafter's passes after the first (the index is the builder's micro-batch).
  std::vector<std::array<int64_t, 4>> tokens_of_gpu;
  std::vector<double> share;                     // by index in the EP group
  std::vector<double> hit;                       // by index: the chance a token has an expert there (DestinationHits)
  double dispatch_bytes = 0, combine_bytes = 0;  // per routed token copy (all-to-all), per token (gather)
  bool any_prefill = false;                      // some rank's batch holds a prefill chunk

  struct Matrix {
    std::vector<double> bytes;  // [i * n + j]: rank i to rank j
    bool even = true;           // every off-diagonal entry equal: a plain all-to-all
    double largest = 0;         // the largest row or column sum
  };
  // The dispatch (or combine, its transpose) of micro-batch `mb` over the EP group `ep` as an all-to-all-v: entry
  // (i, j) = the copies EP rank i routes to rank j's experts x the bytes of one copy. In a step where some rank
  // prefills, once per token and destination rank instead (PerDestinationRank). The same for every layer and every
  // member, so computed by the first program that asks and kept.
  const Matrix& MatrixOf(const std::vector<int>& ep, int mb, bool combine, int top_k) const;
  // Whether micro-batch `mb`'s all-to-all sends a token once per destination rank (DeepEP's normal kernels, which
  // SGLang's default --deepep-mode auto runs when some DP rank extends: DeepEPMode.resolve) rather than once per
  // expert copy (its low-latency kernels, for decode steps and the drafter's later passes, mb 3).
  bool PerDestinationRank(int mb) const { return any_prefill && mb != 3; }

 private:
  mutable std::map<std::tuple<int, int, bool>, Matrix> matrices_;  // key: (the group's first GPU, mb, combine)
};

// The EP traffic of the ranks `ranks` (global GPU indices below `gpus`), rank i running `batches[i]`. Empty (no
// tokens, no shares) unless ep > 1 and the model has MoE layers.
EpTraffic BuildEpTraffic(const ModelSpec& model, const ParallelPlan& plan, const Placement& placement,
                         const StepGraphOptions& options, const std::vector<int>& ranks,
                         const std::vector<const BatchShape*>& batches, int gpus);

}  // namespace wiresim::internal
