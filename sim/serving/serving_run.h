// ServingRun: a whole serving deployment, simulated event by event. Requests come from a RequestSource (streamed:
// one pending arrival at a time) and are sent as the client sends them: at their arrival time, or, under a
// concurrency limit (vllm bench serve --max-concurrency), when one of the limit's slots frees, the request waiting
// for it; a router spreads them over the replicas' DP ranks; replicas run their iterations; the metrics watch.
//
//   ServingRun run(sim, source, replicas, options, metrics);
//   WIRESIM_RETURN_IF_ERROR(run.Run());
//   metrics.Summarize(...);
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/simulator.h"
#include "sim/metrics/request_metrics.h"
#include "sim/metrics/slo_watch.h"
#include "sim/serving/replica.h"
#include "sim/serving/request.h"

namespace wiresim {

enum class RouterPolicy {
  kRoundRobin,        // each request to the next DP rank in turn
  kLeastOutstanding,  // to the DP rank with the fewest queued and running requests (ties: the lowest index)
  kLeastKvUsage,      // to the DP rank whose KV cache is least used (ties: fewest outstanding, lowest index)
};
std::string_view ToString(RouterPolicy p);
std::optional<RouterPolicy> ParseRouterPolicy(std::string_view text);

// The router's choice among `slots` ((replica, DP rank) pairs of `replicas`): the slot after *next_slot in turn
// (round-robin, advancing *next_slot), or the least loaded by `policy`. REQUIRES: slots not empty.
std::pair<int, int> RouteAmong(RouterPolicy policy, const std::vector<Replica*>& replicas,
                               const std::vector<std::pair<int, int>>& slots, size_t* next_slot);

// How a disaggregated deployment (disaggregated.h) takes requests over from its prefill replicas. The run's
// replicas are then the prefill replicas: a request goes to one with max_tokens = 1 (its prefill, whose sampled
// token the user never sees), and its output tokens come from a decode replica, whose index (from the number of
// prefill replicas on) the run's listener sees.
class PrefillHandoff {
 public:
  virtual ~PrefillHandoff() = default;
  // Whether `request` can ever run on a decode replica; a request that cannot is rejected before it is sent.
  virtual Status Fits(const Request& request) const = 0;
  // `request` (as the client sent it) went to prefill replica `replica`.
  virtual void OnSent(const Request& request, int replica, int dp_rank) = 0;
  // A prefill replica formed `step` (at sim.Now(); it launches one host overhead later).
  virtual void OnPrefillScheduled(int replica, int dp_rank, const SchedulerStep& step) = 0;
  // The prefill of `request_id` is done on `replica`: its KV cache is to be moved to a decode replica.
  virtual void OnPrefillDone(int replica, int dp_rank, int64_t request_id) = 0;
};

struct ServingRunOptions {
  RouterPolicy router = RouterPolicy::kRoundRobin;
  PrefillHandoff* handoff = nullptr;  // set: the replicas are a disaggregated deployment's prefill replicas
  int64_t max_concurrency = 0;        // 0: no limit (open loop)
  // Called now and then with (requests finished, requests sent, simulated time); may be empty.
  std::function<void(int64_t, int64_t, Time)> progress;
  // Set (>= 0): the run stops early, stats().stopped, once more than this many requests have missed `stop_slo`
  // (SloWatch: as soon as a miss is certain).
  int64_t stop_after_misses = -1;
  ServingSlo stop_slo;
};

struct ServingRunStats {
  int64_t sent = 0;
  int64_t finished = 0;
  int64_t rejected = 0;  // sent but refused by the replica (can never fit); they count as failed
  std::string first_rejection;  // why the first rejected request was refused
  Time end;              // the last event
  uint64_t events = 0;
  bool stopped = false;  // stopped early: more requests missed the SLO than ServingRunOptions allowed
  int64_t missed = 0;    // requests known to have missed ServingRunOptions::stop_slo (when it is set)
  int64_t met = 0;       // requests finished meeting it
};

class ServingRun : public ReplicaListener {
 public:
  ServingRun(Simulator& sim, RequestSource& source, std::vector<Replica*> replicas, const ServingRunOptions& options,
             RequestMetrics& metrics);
  ServingRun(const ServingRun&) = delete;
  ServingRun& operator=(const ServingRun&) = delete;

  // Runs until every request is finished. Fails on a source error (a broken trace line) or a replica's error.
  Status Run();
  const ServingRunStats& stats() const { return stats_; }

  void OnStepScheduled(int replica, int dp_rank, const SchedulerStep& step) override;
  void OnStepDone(int replica, int dp_rank, const std::vector<SequenceOutcome>& outcomes) override;

 private:
  void PullNext();
  void Arrive(Request r);
  void Send(Request r);
  std::pair<int, int> Route();
  bool IsPrefill(int replica) const {
    return options_.handoff != nullptr && replica < static_cast<int>(replicas_.size());
  }

  Simulator& sim_;
  RequestSource& source_;
  std::vector<Replica*> replicas_;
  ServingRunOptions options_;
  RequestMetrics& metrics_;
  std::vector<std::pair<int, int>> slots_;  // (replica, dp rank)
  size_t next_slot_ = 0;
  int64_t in_flight_ = 0;
  std::optional<Request> blocked_;  // arrived, waiting for a concurrency slot
  Status error_;
  ServingRunStats stats_;
  int64_t next_progress_ = 0;
  std::optional<SloWatch> slo_watch_;  // set when the run may stop early
};

}  // namespace wiresim
