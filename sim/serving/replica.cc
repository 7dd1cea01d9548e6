#include "sim/serving/replica.h"

#include <algorithm>
#include <string>
#include <utility>

namespace wiresim {

struct Replica::Step {
  std::vector<SchedulerStep> per_dp;  // one per DP rank of the replica
  std::shared_ptr<const StepGraph> graph;
  std::vector<Time> body;  // compiled: each program's body duration
  std::unique_ptr<IterationRun> run;
  Time launched;
};

class Replica::TransfersOnly : public ExecutionObserver {
 public:
  TransfersOnly(GpuTimeAccounting* acc, ExecutionObserver* trace) : acc_(acc), trace_(trace) {}
  void OnKernel(int, Time, Time) override {}
  void OnCollective(int gpu, Time posted, Time done, ParallelDim dim, Phase phase) override {
    if (acc_ != nullptr) acc_->OnCollective(gpu, posted, done, dim, phase);
  }
  // The trace sees the bodies as they ran (one span each), the accounting their precomputed totals.
  void OnKernelDetail(int gpu, Time begin, Time end, const OpDetail& op) override {
    if (trace_ != nullptr) trace_->OnKernelDetail(gpu, begin, end, op);
  }
  void OnCollectiveDetail(int gpu, Time started, Time done, ParallelDim dim, const OpDetail& op) override {
    if (trace_ != nullptr) trace_->OnCollectiveDetail(gpu, started, done, dim, op);
  }

 private:
  GpuTimeAccounting* acc_;
  ExecutionObserver* trace_;
};

Replica::Replica(int index, Simulator& sim, GpuQueues& gpus, CollectiveTimer& timer, IterationModel& iterations,
                 GpuTimeAccounting* accounting, ReplicaListener& listener, const ReplicaOptions& options)
    : index_(index),
      sim_(sim),
      gpus_(gpus),
      timer_(timer),
      iterations_(iterations),
      accounting_(accounting),
      listener_(listener),
      options_(options),
      speculative_rng_(sim.Random("speculative")),
      transfers_only_(std::make_unique<TransfersOnly>(accounting, options.trace)) {
  if (options.trace != nullptr) traced_ = std::make_unique<ObserverPair>(accounting, options.trace);
  const ParallelPlan& plan = iterations.plan();
  const int ranks = plan.ep > 1 && plan.dp > 1 ? plan.dp : 1;
  for (int d = 0; d < ranks; ++d) schedulers_.push_back(std::make_unique<Scheduler>(options.scheduler));
  outstanding_.assign(static_cast<size_t>(ranks), 0);
  options_.compiled = options.compiled && iterations.CanCompile();
  // A timeline shows every kernel: collapsed iterations only where nobody watches them op by op.
  collapse_ = options.compiled && iterations.CanCollapse() && options.trace == nullptr;
}

Replica::~Replica() = default;

Status Replica::Add(const Request& request, int dp_rank) {
  WIRESIM_RETURN_IF_ERROR(schedulers_[static_cast<size_t>(dp_rank)]->Add(request));
  ++outstanding_[static_cast<size_t>(dp_rank)];
  Poke();
  return Status::Ok();
}

Status Replica::AddTransferred(const Request& request, int dp_rank, int64_t kv_tokens) {
  WIRESIM_RETURN_IF_ERROR(schedulers_[static_cast<size_t>(dp_rank)]->AddTransferred(request, kv_tokens));
  ++outstanding_[static_cast<size_t>(dp_rank)];
  Poke();
  return Status::Ok();
}

void Replica::ReleaseHeld(int64_t request_id, int dp_rank) {
  schedulers_[static_cast<size_t>(dp_rank)]->ReleaseHeld(request_id);
  Poke();
}

int64_t Replica::outstanding(int dp_rank) const { return outstanding_[static_cast<size_t>(dp_rank)]; }

double Replica::kv_usage(int dp_rank) const {
  const Scheduler& s = *schedulers_[static_cast<size_t>(dp_rank)];
  return s.num_blocks() > 0 ? static_cast<double>(s.used_blocks()) / static_cast<double>(s.num_blocks()) : 0.0;
}

void Replica::Poke() {
  // While a step's outcomes are being handed out (a finished request may let the client send the next one), the
  // next step waits until every DP rank has completed this one.
  if (finishing_ || host_busy_ || in_flight_ >= iterations_.plan().pp || !error_.ok()) return;
  Form();
}

void Replica::Form() {
  auto step = std::make_unique<Step>();
  bool any = false;
  for (size_t d = 0; d < schedulers_.size(); ++d) {
    SchedulerStep s = schedulers_[d]->Schedule();
    if (!s.empty() || !s.preempted.empty()) listener_.OnStepScheduled(index_, static_cast<int>(d), s);
    any = any || !s.empty();
    step->per_dp.push_back(std::move(s));
  }
  if (!any) return;
  host_busy_ = true;
  ++in_flight_;
  Step* raw = step.get();
  steps_.push_back(std::move(step));
  // With the host's work overlapped, a step formed the moment the one before it finished had that step's GPU time
  // to be prepared in: only the rest is exposed. A step formed on an idle replica waits for all of it.
  Time host = options_.host_overhead;
  if (HostOverlapped(options_, iterations_.plan()) && sim_.Now() == last_finish_) {
    const Time covered = last_finish_ - last_launch_;
    host = host > covered ? host - covered : Time::Zero();
  }
  sim_.ScheduleAfter(host, [this, raw] {
    host_busy_ = false;
    if (Status s = Launch(raw); !s.ok()) {
      Fail(s);
      return;
    }
    Poke();
  });
}

Status Replica::Launch(Step* step) {
  step->launched = sim_.Now();
  last_launch_ = step->launched;
  KernelDuration kernel_time;
  ExecutionObserver* observer = traced_ ? static_cast<ExecutionObserver*>(traced_.get()) : accounting_;
  if (options_.compiled) {
    const BatchShape shape = PadForCudaGraph(step->per_dp[0].Shape(), options_.engine);
    WIRESIM_ASSIGN_OR_RETURN(const CompiledIteration* c, iterations_.Compile(shape));
    std::vector<Time> compute;
    iterations_.BodyTimes(*c, shape, &step->body, &compute);
    if (options_.link_use != nullptr) options_.link_use->AddBytes(c->link_bytes, sim_.Now());
    if (accounting_ != nullptr) {
      for (size_t p = 0; p < c->bodies.size(); ++p) {
        accounting_->AddPrecomputed(c->bodies[p].gpu, compute[p], c->bodies[p].exposed, c->bodies[p].communication);
      }
    }
    step->graph = c->graph;
    kernel_time = [step](size_t p, const StepOp&) { return step->body[p]; };
    observer = transfers_only_.get();
  } else if (schedulers_.size() > 1) {
    std::vector<BatchShape> batches;
    for (const SchedulerStep& s : step->per_dp) batches.push_back(PadForCudaGraph(s.Shape(), options_.engine));
    std::shared_ptr<const CollapsedIteration> collapsed;
    if (collapse_) {
      WIRESIM_ASSIGN_OR_RETURN(collapsed, iterations_.Collapsed(batches));
    }
    if (collapsed != nullptr) {
      step->graph = collapsed->graph;
      kernel_time = IterationModel::SegmentTimes(std::move(collapsed));
    } else {
      WIRESIM_ASSIGN_OR_RETURN(step->graph, iterations_.Full(BatchShape{}, batches));
      kernel_time = iterations_.KernelTimes(step->graph);
    }
  } else {
    WIRESIM_ASSIGN_OR_RETURN(step->graph, iterations_.Full(PadForCudaGraph(step->per_dp[0].Shape(), options_.engine)));
    kernel_time = iterations_.KernelTimes(step->graph);
  }
  step->run = std::make_unique<IterationRun>(sim_, gpus_, timer_, std::move(kernel_time), observer, step->graph,
                                             [this, step] { Finish(step); }, nullptr, &error_);
  step->run->Start();
  return Status::Ok();
}

void Replica::Finish(Step* step) {
  const Time now = sim_.Now();
  last_finish_ = now;
  if (accounting_ != nullptr) accounting_->OnReplicaBusy(index_, step->launched, now);
  const Time from = std::max(step->launched, covered_until_);
  if (now > from) stats_.gpu_busy += now - from;
  covered_until_ = std::max(covered_until_, now);
  ++stats_.steps;
  --in_flight_;
  finishing_ = true;
  for (size_t d = 0; d < schedulers_.size(); ++d) {
    stats_.tokens += step->per_dp[d].Tokens();
    // Speculative decoding: how many of each decode's drafts the target accepted (speculative.h).
    const SchedulerStep& done = step->per_dp[d];
    accepted_.assign(done.sequences.size(), 0);
    for (size_t i = 0; i < done.sequences.size(); ++i) {
      const int64_t drafts = done.sequences[i].draft_tokens;
      if (drafts == 0) continue;
      accepted_[i] = DrawAccepted(options_.speculative, drafts, speculative_rng_);
      stats_.speculative.Observe(drafts, accepted_[i]);
    }
    std::vector<SequenceOutcome> outcomes = schedulers_[d]->Complete(done, accepted_);
    for (const SequenceOutcome& o : outcomes) {
      if (o.finished) --outstanding_[d];
    }
    listener_.OnStepDone(index_, static_cast<int>(d), outcomes);
  }
  finishing_ = false;
  // The run is inside its own callback: release it after this event.
  sim_.ScheduleAfter(Time::Zero(), [this, step] {
    auto it = std::find_if(steps_.begin(), steps_.end(), [step](const auto& s) { return s.get() == step; });
    if (it != steps_.end()) steps_.erase(it);
  });
  Poke();
}

Status Replica::CheckSettled() const {
  if (in_flight_ == 0) return Status::Ok();
  return Internal("replica " + std::to_string(index_) + ": " + std::to_string(in_flight_) +
                  " step(s) never finished although nothing was left to run (their ops wait on each other); "
                  "--iterations op-by-op runs each op on its own");
}

void Replica::Fail(const Status& s) {
  if (error_.ok()) error_ = s;
  sim_.Stop();
}

}  // namespace wiresim
