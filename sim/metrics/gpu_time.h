// Where each GPU's time goes in a serving run: computing (a kernel on its compute stream), exposed communication
// (a collective of its own in flight while no kernel runs, per parallel dimension and phase), pipeline bubble (no
// kernel and no collective while its replica has a micro-batch in flight elsewhere) and idle (its replica has
// nothing in flight). The four add up to the run's duration. docs/metrics.md defines each; the accounting watches
// the executor through ExecutionObserver and never steers it.
//
//   GpuTimeAccounting acc(/*gpus=*/16, replica_of_gpu);
//   acc.OnKernel(gpu, begin, end);   acc.OnCollective(gpu, posted, done, ParallelDim::kTp, Phase::kDecode);
//   acc.OnReplicaBusy(replica, begin, end);
//   std::vector<GpuBreakdown> b = acc.Finish(run_end);
#pragma once

#include <array>
#include <deque>
#include <string_view>
#include <vector>

#include "sim/core/time.h"
#include "sim/parallel/batch.h"
#include "sim/parallel/placement.h"

namespace wiresim {

inline constexpr int kParallelDims = 5;  // ParallelDim values
inline constexpr int kPhases = 3;        // Phase values

struct GpuBreakdown {
  int gpu = 0;
  int replica = -1;  // -1: the GPU serves no replica
  Time compute;
  // Collective time not hidden behind a kernel, by ParallelDim and Phase.
  std::array<std::array<Time, kPhases>, kParallelDims> exposed{};
  Time communication;  // every collective's time on this GPU, hidden or not
  Time bubble;
  Time idle;
  Time ExposedTotal() const;
  Time Exposed(ParallelDim dim) const;
};

// What an op was, for observers that draw it (the timeline); the accounting has no use for it.
struct OpDetail {
  std::string_view name;  // the step graph's op name: "qkv_proj", "tp_all_reduce", "iteration_body" (static text)
  int layer = 0;
  Phase phase = Phase::kMixed;
  double bytes = 0;  // collectives: the size nccl-tests reports
};

// What the executor reports. Times are absolute. Kernels of one GPU never overlap (one compute stream).
class ExecutionObserver {
 public:
  virtual ~ExecutionObserver() = default;
  virtual void OnKernel(int gpu, Time begin, Time end) = 0;
  // A collective of `gpu`'s in flight: from when it started (every participant had posted it) to when this GPU's
  // part was done. Waiting for a late participant is not communication: a pipeline stage waiting for its input is
  // in a bubble, a TP rank waiting for a slower peer is idle on its compute stream.
  virtual void OnCollective(int gpu, Time started, Time done, ParallelDim dim, Phase phase) = 0;
  // The same kernel or collective again, with what it was; called right after OnKernel / OnCollective. Ignored
  // unless overridden.
  virtual void OnKernelDetail(int /*gpu*/, Time /*begin*/, Time /*end*/, const OpDetail& /*op*/) {}
  virtual void OnCollectiveDetail(int /*gpu*/, Time /*started*/, Time /*done*/, ParallelDim /*dim*/,
                                  const OpDetail& /*op*/) {}
};

// Reports to two observers (either may be null), in order.
class ObserverPair : public ExecutionObserver {
 public:
  ObserverPair(ExecutionObserver* first, ExecutionObserver* second) : first_(first), second_(second) {}
  void OnKernel(int gpu, Time begin, Time end) override;
  void OnCollective(int gpu, Time started, Time done, ParallelDim dim, Phase phase) override;
  void OnKernelDetail(int gpu, Time begin, Time end, const OpDetail& op) override;
  void OnCollectiveDetail(int gpu, Time started, Time done, ParallelDim dim, const OpDetail& op) override;

 private:
  ExecutionObserver* first_;
  ExecutionObserver* second_;
};

class GpuTimeAccounting : public ExecutionObserver {
 public:
  // replica_of_gpu[g]: the replica GPU g serves, or -1.
  GpuTimeAccounting(int gpus, std::vector<int> replica_of_gpu);

  void OnKernel(int gpu, Time begin, Time end) override;
  void OnCollective(int gpu, Time started, Time done, ParallelDim dim, Phase phase) override;
  // Adds what a compiled stretch of work did on `gpu` (the executor timed it once and replays its totals).
  void AddPrecomputed(int gpu, Time compute, const std::array<std::array<Time, kPhases>, kParallelDims>& exposed,
                      Time communication);
  // The replica had a micro-batch in flight over [begin, end) (intervals of one replica may overlap).
  void OnReplicaBusy(int replica, Time begin, Time end);

  // Closes the books at `end` (>= every time reported). Idle = end - replica busy; bubble = replica busy -
  // compute - exposed.
  std::vector<GpuBreakdown> Finish(Time end) const;

 private:
  struct Interval {
    Time begin, end;
  };
  struct PerGpu {
    std::deque<Interval> kernels;  // recent kernels, by start; older ones are dropped once no collective needs them
    Time compute, communication, exposed_total;
    std::array<std::array<Time, kPhases>, kParallelDims> exposed{};
  };
  // Union length of a replica's busy intervals, kept incrementally (intervals arrive by start time).
  struct PerReplica {
    Time busy, covered_until;
  };
  std::vector<PerGpu> gpus_;
  std::vector<int> replica_of_gpu_;
  std::vector<PerReplica> replicas_;
};

}  // namespace wiresim
