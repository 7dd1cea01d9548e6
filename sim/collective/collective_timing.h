// How an executor times the collectives of an iteration, behind one interface with two implementations:
//   - ClosedFormTimer: the collective model's closed form (NCCL's choice of algorithm and protocol, its cost on the
//     group's routes), cached by operation, group and size. Right where the group's links are its own.
//   - FlowTimer: the chosen algorithm expanded into its transfers on a Network (a FlowNetwork shares links with
//     everything else in flight), for groups whose links other traffic uses at the same time.
// Calibration plugs in behind both through CollectiveCalibration, which the calibration part implements and the
// app injects; nothing above this interface rescales results.
//
//   ClosedFormCollectives closed(model, filter, calibration);      // calibration may be null
//   ClosedFormTimer timer(sim, closed);
//   WIRESIM_RETURN_IF_ERROR(timer.Start(call, [&](size_t participant) { ... }));
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "sim/collective/collective_model.h"
#include "sim/core/simulator.h"
#include "sim/network/network.h"

namespace wiresim {

// Measured or fitted times that replace the model's. Implemented by the calibration part.
class CollectiveCalibration {
 public:
  virtual ~CollectiveCalibration() = default;
  // The calibrated time of `choice` for `bytes` (nccl-tests' size) on the prepared group, or nullopt when the
  // calibration has nothing for it. `timed_by` (may be null) receives what timed it ("measured", "fitted"), or
  // "model" when nothing did.
  virtual std::optional<Time> Calibrated(const PreparedCollective& prepared, CollectiveChoice choice, double bytes,
                                         std::string* timed_by = nullptr) const = 0;
};

// A collective simulated as transfers (`simulated`) under a calibration: the measured machine's slowness that the
// transfers do not model, calibrated - modelled closed form, is added at the end; never taken away.
Time WithCalibration(Time simulated, Time modelled, std::optional<Time> calibrated);

// A serving engine's own collective kernels, where it uses them instead of NCCL (vLLM's custom all-reduce for small
// messages inside an NVLink domain, for instance). Implemented by the serving part; consulted before NCCL's model.
class CollectiveOverride {
 public:
  virtual ~CollectiveOverride() = default;
  // The time of `call` when the engine runs it with its own kernel, or nullopt when NCCL runs it.
  virtual std::optional<Time> Duration(const CollectiveCall& call, const PreparedCollective& prepared) const = 0;
};

// The bytes one link carries for a collective: each transfer's bytes x its route's share on the link, summed.
struct LinkBytes {
  LinkId link;
  double bytes;
};
// Sorted by link; only links that carry bytes.
using CollectiveLinkLoad = std::vector<LinkBytes>;

// The collective model's answers for the calls of a run, prepared once per group and cached per size.
class ClosedFormCollectives {
 public:
  ClosedFormCollectives(CollectiveModel& model, const AlgorithmFilter& filter,
                        const CollectiveCalibration* calibration);
  ClosedFormCollectives(const ClosedFormCollectives&) = delete;
  ClosedFormCollectives& operator=(const ClosedFormCollectives&) = delete;

  // The group of `call`, analysed once (its matrix, for all-to-all-v, is part of what identifies it).
  Result<PreparedCollective*> Prepared(const CollectiveCall& call);
  // The call's time: NCCL's choice for its size, its closed-form cost, or the calibration's when it has one.
  Result<Time> Duration(const CollectiveCall& call);
  // What ran it: the choice for the call's size.
  Result<CollectiveChoice> Choice(const CollectiveCall& call);
  // The bytes each link carries when NCCL's choice for the call's size runs it: its expansion's transfers summed
  // link by link (exactly what a Network's ledger records for them), cached by group and size. The pointer stays
  // valid as long as this object. Errors as Choice, or when the expansion is too large (PreparedCollective::Expand).
  // The engine's own kernels (SetOverride) are not consulted: the load is NCCL's algorithm's.
  Result<const CollectiveLinkLoad*> LinkLoad(const CollectiveCall& call);

  // The engine's own kernels, consulted first (null: NCCL runs everything). Not owned; set before any Duration().
  void SetOverride(const CollectiveOverride* engine) { override_ = engine; }
  // The engine's time for the call when it runs it itself.
  Result<std::optional<Time>> Overridden(const CollectiveCall& call);

  const AlgorithmFilter& filter() const { return filter_; }
  const CollectiveCalibration* calibration() const { return calibration_; }

 private:
  using GroupKey = std::tuple<CollectiveOp, std::vector<int>, int, std::vector<double>, bool>;
  // A call's group as it stands in the call, so that a lookup copies nothing.
  using GroupView = std::tuple<CollectiveOp, std::span<const int>, int, std::span<const double>, bool>;
  using SizeKey = std::pair<const PreparedCollective*, double>;
  struct GroupKeyHash {
    using is_transparent = void;
    size_t operator()(const GroupKey& k) const;
    size_t operator()(const GroupView& k) const;
  };
  struct GroupKeyEqual {
    using is_transparent = void;
    bool operator()(const GroupKey& a, const GroupKey& b) const { return a == b; }
    bool operator()(const GroupView& a, const GroupKey& b) const;
    bool operator()(const GroupKey& a, const GroupView& b) const { return (*this)(b, a); }
  };
  struct SizeKeyHash {
    size_t operator()(const SizeKey& k) const;
  };
  CollectiveModel& model_;
  AlgorithmFilter filter_;
  const CollectiveCalibration* calibration_;
  const CollectiveOverride* override_ = nullptr;
  // Looked up only, never iterated, so their order cannot reach a result.
  std::unordered_map<GroupKey, std::unique_ptr<PreparedCollective>, GroupKeyHash, GroupKeyEqual> prepared_;
  std::unordered_map<SizeKey, Time, SizeKeyHash> durations_;
  std::unordered_map<SizeKey, std::unique_ptr<CollectiveLinkLoad>, SizeKeyHash> loads_;
  // The last group looked up (not all-to-all-v): a call is usually asked its preparation, choice and time in a row.
  PreparedCollective* last_prepared_ = nullptr;
  CollectiveOp last_op_{};
  int last_root_ = 0;
  bool last_own_nic_ = false;
  std::vector<int> last_gpus_;
  // The last duration looked up: a call is asked its time more than once as it starts.
  SizeKey last_duration_key_{nullptr, 0.0};
  Time last_duration_;
};

class CollectiveTimer {
 public:
  virtual ~CollectiveTimer() = default;
  // Starts `call` at sim.Now(); `on_done(i)` runs, as an event, when participant i (the GPU call.gpus[i]) has
  // finished its part. Fails when the model cannot run the call on this group.
  virtual Status Start(const CollectiveCall& call, std::function<void(size_t participant)> on_done) = 0;
};

// Every participant finishes one closed-form duration after the start.
class ClosedFormTimer : public CollectiveTimer {
 public:
  ClosedFormTimer(Simulator& sim, ClosedFormCollectives& closed) : sim_(sim), closed_(closed) {}
  Status Start(const CollectiveCall& call, std::function<void(size_t)> on_done) override;

 private:
  Simulator& sim_;
  ClosedFormCollectives& closed_;
};

// The choice's transfers on `net`; every participant finishes when the last transfer is delivered. With a
// calibration, the difference between the calibrated and the modelled closed-form time is added at the end (a
// measured machine's slowness that the transfers do not model), never taken away.
class FlowTimer : public CollectiveTimer {
 public:
  FlowTimer(Simulator& sim, Network& net, ClosedFormCollectives& closed) : sim_(sim), net_(net), closed_(closed) {}
  ~FlowTimer() override;
  Status Start(const CollectiveCall& call, std::function<void(size_t)> on_done) override;
  // Groups (their GPUs in call order) whose links no other traffic uses: timed by the closed form, which equals
  // their transfers alone (collective_model.h). Empty: every group runs as transfers.
  void SetPrivateGroups(std::set<std::vector<int>> groups) { private_ = std::move(groups); }

 private:
  struct Running;
  std::set<std::vector<int>> private_;
  Simulator& sim_;
  Network& net_;
  ClosedFormCollectives& closed_;
  std::map<std::pair<const PreparedCollective*, double>, std::shared_ptr<const CollectiveSchedule>> schedules_;
};

}  // namespace wiresim
