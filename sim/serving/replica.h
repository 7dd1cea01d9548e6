// Replica: one deployment of the model on its GPUs (one DP rank, or every DP rank of an attention-DP + EP group,
// which step together), running iterations as vLLM's engine does: a host that spends `host_overhead` forming and
// launching each step (scheduling, input preparation, sampling and output processing), and up to pp steps in
// flight (one per pipeline stage, vLLM's batch queue), each a micro-batch that flows through the stages. A
// request is in at most one step at a time. Steps run on the shared GpuQueues through IterationRun, either op by
// op or compiled (iteration_model.h); what they do is reported to a ReplicaListener and to the GPU accounting.
//
//   Replica r(index, sim, gpus, timer, iterations, accounting, listener, options);
//   WIRESIM_RETURN_IF_ERROR(r.Add(request, dp_rank));
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "sim/collective/collective_timing.h"
#include "sim/core/simulator.h"
#include "sim/metrics/gpu_time.h"
#include "sim/serving/engine.h"
#include "sim/serving/iteration_model.h"
#include "sim/serving/iteration_run.h"
#include "sim/serving/link_use.h"
#include "sim/serving/scheduler.h"
#include "sim/serving/speculative.h"

namespace wiresim {

struct ReplicaOptions {
  SchedulerOptions scheduler;  // per DP rank
  Time host_overhead;          // per step
  // The host's work for the next step overlaps the step in flight (EngineProfile::overlaps_host); ignored with
  // pipeline parallelism (HostOverlapped).
  bool overlap_host = false;
  // Compiled iterations where they are exact, and coupled DP ranks' iterations with their kernels collapsed between
  // collectives (IterationModel::Collapsed; not when `trace` is set); else op by op.
  bool compiled = true;
  EngineProfile engine;  // CUDA-graph padding of the batches it runs
  // Speculative decoding (off unless enabled): the acceptance of each step's drafts is drawn from the run's
  // "speculative" stream. The scheduler's draft and lookahead counts and the iteration's drafter are set to match
  // by the caller (scheduler.num_speculative_tokens, IterationModel's DraftModel).
  SpeculativeConfig speculative;
  // Not owned; may be null. Sees every op beside the accounting (a compiled iteration's body as one kernel named
  // "iteration_body"), for a timeline; it never steers the run.
  ExecutionObserver* trace = nullptr;
  // Not owned; may be null. Counts the link bytes of compiled iterations' bodies (their collectives never reach
  // the collective timer).
  LinkUseAccounting* link_use = nullptr;
};

// Whether a replica of `plan` run with `options` forms each step while the one before runs: overlap_host, never
// with pipeline parallelism (vLLM turns async scheduling off there).
inline bool HostOverlapped(const ReplicaOptions& options, const ParallelPlan& plan) {
  return options.overlap_host && plan.pp == 1;
}

// What a replica tells the run. Called from simulator events, at sim.Now().
class ReplicaListener {
 public:
  virtual ~ReplicaListener() = default;
  virtual void OnStepScheduled(int replica, int dp_rank, const SchedulerStep& step) = 0;
  virtual void OnStepDone(int replica, int dp_rank, const std::vector<SequenceOutcome>& outcomes) = 0;
};

struct ReplicaStats {
  int64_t steps = 0;
  int64_t tokens = 0;  // tokens computed (prefill and decode)
  Time gpu_busy;       // union of the replica's steps in flight
  SpeculativeStats speculative;
};

class Replica {
 public:
  Replica(int index, Simulator& sim, GpuQueues& gpus, CollectiveTimer& timer, IterationModel& iterations,
          GpuTimeAccounting* accounting, ReplicaListener& listener, const ReplicaOptions& options);
  ~Replica();
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  // Queues a request on one of the replica's DP ranks (0 unless the DP ranks step together).
  Status Add(const Request& request, int dp_rank);
  // Queues a request whose first `kv_tokens` prompt tokens' KV cache has arrived from a prefill instance
  // (Scheduler::AddTransferred).
  Status AddTransferred(const Request& request, int dp_rank, int64_t kv_tokens);
  // Frees a finished request's blocks held for its KV transfer (Scheduler::ReleaseHeld); may start a step.
  void ReleaseHeld(int64_t request_id, int dp_rank);
  int dp_ranks() const { return static_cast<int>(schedulers_.size()); }
  int64_t outstanding(int dp_rank) const;  // queued or running requests
  double kv_usage(int dp_rank) const;      // used / total blocks
  const Scheduler& scheduler(int dp_rank) const { return *schedulers_[static_cast<size_t>(dp_rank)]; }
  const ReplicaStats& stats() const { return stats_; }
  // Steps launched (or being formed) and not yet finished. Nonzero once the simulator has run out of events means a
  // step's ops wait on each other (a model bug): CheckSettled() says so.
  int steps_in_flight() const { return in_flight_; }
  // Internal error when a step is still in flight; call after the simulator ran dry (not when it was stopped).
  Status CheckSettled() const;
  // The first error met inside an event (a step whose collectives the model cannot run); the simulator was stopped.
  const Status& error() const { return error_; }

 private:
  struct Step;
  void Poke();  // forms and launches a step when the host is free and a slot is open
  void Form();
  Status Launch(Step* step);
  void Finish(Step* step);
  void Fail(const Status& s);

  int index_;
  Simulator& sim_;
  GpuQueues& gpus_;
  CollectiveTimer& timer_;
  IterationModel& iterations_;
  GpuTimeAccounting* accounting_;
  ReplicaListener& listener_;
  ReplicaOptions options_;
  std::vector<std::unique_ptr<Scheduler>> schedulers_;
  std::vector<int64_t> outstanding_;
  int in_flight_ = 0;
  bool host_busy_ = false;
  Time last_launch_ = Time::Zero();  // of the last step launched, and when the last step finished
  Time last_finish_ = Time::Max();
  bool collapse_ = false;   // coupled DP ranks' iterations run collapsed
  bool finishing_ = false;  // inside Finish(): no new step until every DP rank has completed the last
  Time busy_since_, covered_until_;
  ReplicaStats stats_;
  Status error_;
  std::vector<std::unique_ptr<Step>> steps_;  // in flight
  std::vector<int64_t> accepted_;             // scratch: the drafts accepted per sequence of a finished step
  RandomStream& speculative_rng_;             // the run's "speculative" stream (acceptance draws)
  // Forwards the pipeline transfers of a compiled iteration to the accounting (its bodies are added whole).
  class TransfersOnly;
  std::unique_ptr<TransfersOnly> transfers_only_;
  std::unique_ptr<ObserverPair> traced_;  // the accounting and options_.trace, for op-by-op iterations
};

}  // namespace wiresim
