// CollectiveModel: how long an NCCL collective takes on a topology, and why. For one operation over one group of
// GPUs, PreparedCollective holds every algorithm and protocol that could run it, each with a closed-form cost on the
// group's routes (the fast path), and chooses among them the way NCCL's tuning model does (or as --algo/--proto
// force, like NCCL_ALGO/NCCL_PROTO). Expand() turns a choice into its point-to-point transfers for a Network, so a
// collective that shares links with other traffic slows down for the right reason.
//
//   CollectiveModel model(topo);
//   WIRESIM_ASSIGN_OR_RETURN(auto ar, model.Prepare({CollectiveOp::kAllReduce, {0, 1, 2, 3, 4, 5, 6, 7}}, {}));
//   WIRESIM_ASSIGN_OR_RETURN(Prediction p, ar->Predict(1 << 30, {}));
//   // p.choice: {NVLS, Simple} on a DGX H100; p.time: launch overhead + latency + bytes over the bottleneck
//   WIRESIM_ASSIGN_OR_RETURN(CollectiveSchedule s, ar->Expand(p.choice, 1 << 30));
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "sim/collective/algorithm.h"
#include "sim/collective/algorithms.h"
#include "sim/collective/collective_group.h"
#include "sim/collective/collective_op.h"
#include "sim/collective/collective_params.h"
#include "sim/collective/nccl_tuning.h"
#include "sim/collective/schedule.h"
#include "sim/core/status.h"
#include "sim/topology/routing.h"

namespace wiresim {

struct CollectiveChoice {
  Algorithm algorithm = Algorithm::kRing;
  Protocol protocol = Protocol::kSimple;
  friend bool operator==(const CollectiveChoice&, const CollectiveChoice&) = default;
};

struct Prediction {
  CollectiveChoice choice;
  Time time;                 // launch overhead + the choice's closed-form cost
  int channels = 0;          // NCCL's channel count for the algorithm (its channel search on this topology)
  double nccl_model_us = 0;  // NCCL's own modelled time for the choice (what its tuner compares); 0 for p2p
};

class PreparedCollective {
 public:
  // The algorithm and protocol NCCL would pick for `bytes` (nccl-tests' size) among those `filter` allows.
  // Errors when the filter leaves nothing that can run here, saying why each candidate cannot.
  Result<CollectiveChoice> Choose(double bytes, const AlgorithmFilter& filter) const;
  Result<Prediction> Predict(double bytes, const AlgorithmFilter& filter) const;

  // Whether a choice can run this operation on this group; when not, why.
  bool Usable(CollectiveChoice c) const;
  std::string WhyNot(CollectiveChoice c) const;
  // Closed-form time of a usable choice, launch overhead included, and at least params().call_interval (what a
  // host-bound benchmark measures; 0 by default).
  Time Cost(CollectiveChoice c, double bytes) const;
  // Cost() as ranks in separate processes would take it: the same when params().ranks_per_process is 1 or the
  // choice writes nothing directly; else with the copies the shared processes' direct writes skip.
  Time CostRanksApart(CollectiveChoice c, double bytes) const;
  // The choice's transfers; errors when it is unusable or would store more than `max_transfers` (a ring stores one
  // transfer per edge, whatever its steps: RingSchedule).
  Result<CollectiveSchedule> Expand(CollectiveChoice c, double bytes, size_t max_transfers = 20'000'000);

  CollectiveOp op() const { return ctx_.op; }
  const CollectiveGroup& group() const { return *group_; }
  const NcclTuningModel& tuning() const { return *tuning_; }
  const CollectiveParams& params() const { return params_; }
  // The channels (CTAs) the algorithm runs with: its graph's, NVLS's nvlsChannels.
  int channels(Algorithm a) const;
  // Point to point inside one node: NCCL's p2p channels, the fewest and most one peer's operation runs on, and what
  // one channel moves for a send (p2p_channels.h). Null where none are modelled (collectives, across nodes).
  const internal::P2pChannelPlan* p2p_channels() const;
  // Point to point across nodes: the window NCCL keeps in flight to each network peer (p2p_channels.h). Null where
  // no pair crosses the network.
  const internal::P2pNetWindow* p2p_net_window() const;

 private:
  friend class CollectiveModel;
  // `own_nic`: the call's point to point leaves by each sender's own NIC (CollectiveCall::own_nic): the collective
  // keeps its own copy of `params` with PXN off.
  PreparedCollective(std::unique_ptr<CollectiveGroup> group, const CollectiveParams& params, CollectiveOp op, int root,
                     std::vector<double> matrix, bool own_nic);
  void Build();
  const internal::AlgorithmCost& CostOf(CollectiveChoice c) const {
    return costs_[static_cast<size_t>(c.algorithm)][static_cast<size_t>(c.protocol)];
  }
  bool IsP2p() const;

  std::unique_ptr<CollectiveGroup> group_;
  std::unique_ptr<const CollectiveParams> own_params_;  // set when the call overrides the model's params
  const CollectiveParams& params_;
  std::vector<double> matrix_;
  internal::AlgorithmContext ctx_;
  std::unique_ptr<NcclTuningModel> tuning_;
  std::array<std::array<internal::AlgorithmCost, kProtocolCount>, kAlgorithmCount> costs_{};
};

class CollectiveModel {
 public:
  explicit CollectiveModel(const Topology& topo, CollectiveParams params = CollectiveParams::Defaults());
  CollectiveModel(const CollectiveModel&) = delete;
  CollectiveModel& operator=(const CollectiveModel&) = delete;

  // Analyses the call's group and costs every algorithm for its operation; the result answers any size. The
  // call's `bytes` is not used; for all-to-all-v its matrix gives the pattern (scaled by the size later asked).
  Result<std::unique_ptr<PreparedCollective>> Prepare(const CollectiveCall& call, const GroupOptions& options);

  const Topology& topology() const { return topo_; }
  const CollectiveParams& params() const { return params_; }
  Router& router() { return router_; }

 private:
  const Topology& topo_;
  CollectiveParams params_;
  Router router_;
};

}  // namespace wiresim
