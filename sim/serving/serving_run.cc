#include "sim/serving/serving_run.h"

#include <string>
#include <utility>

namespace wiresim {

std::string_view ToString(RouterPolicy p) {
  switch (p) {
    case RouterPolicy::kRoundRobin:
      return "round-robin";
    case RouterPolicy::kLeastOutstanding:
      return "least-outstanding";
    case RouterPolicy::kLeastKvUsage:
      return "least-kv";
  }
  return "?";
}

std::optional<RouterPolicy> ParseRouterPolicy(std::string_view text) {
  for (RouterPolicy p : {RouterPolicy::kRoundRobin, RouterPolicy::kLeastOutstanding, RouterPolicy::kLeastKvUsage}) {
    if (text == ToString(p)) return p;
  }
  return std::nullopt;
}

ServingRun::ServingRun(Simulator& sim, RequestSource& source, std::vector<Replica*> replicas,
                       const ServingRunOptions& options, RequestMetrics& metrics)
    : sim_(sim), source_(source), replicas_(std::move(replicas)), options_(options), metrics_(metrics) {
  for (size_t r = 0; r < replicas_.size(); ++r) {
    for (int d = 0; d < replicas_[r]->dp_ranks(); ++d) slots_.emplace_back(static_cast<int>(r), d);
  }
  if (options_.stop_after_misses >= 0) slo_watch_.emplace(options_.stop_slo, metrics_);
}

Status ServingRun::Run() {
  PullNext();
  sim_.Run();
  stats_.end = sim_.Now();
  stats_.events = sim_.events_processed();
  if (slo_watch_) {
    stats_.missed = slo_watch_->missed();
    stats_.met = slo_watch_->met();
  }
  WIRESIM_RETURN_IF_ERROR(error_);
  for (Replica* r : replicas_) WIRESIM_RETURN_IF_ERROR(r->error());
  if (sim_.passed_horizon()) {
    // The message's figure is kHorizon's: 2^62 ps.
    return InvalidArgument("the run passed the longest simulated time it holds, 4.6e6 s (about 53 days), with " +
                           std::to_string(stats_.finished) + " of the " + std::to_string(stats_.sent) +
                           " requests sent finished; simulate fewer requests or a shorter trace, or check the "
                           "straggler factors and the model's size");
  }
  if (!stats_.stopped) {
    for (Replica* r : replicas_) WIRESIM_RETURN_IF_ERROR(r->CheckSettled());
  }
  if (options_.progress) options_.progress(stats_.finished, stats_.sent, sim_.Now());
  return Status::Ok();
}

void ServingRun::PullNext() {
  Result<std::optional<Request>> next = source_.Next();
  if (!next.ok()) {
    error_ = next.status();
    sim_.Stop();
    return;
  }
  if (!next->has_value()) return;
  Request r = std::move(**next);
  const Time at = std::max(r.arrival, sim_.Now());
  sim_.Schedule(at, [this, r = std::move(r)]() mutable { Arrive(std::move(r)); });
}

void ServingRun::Arrive(Request r) {
  if (options_.max_concurrency > 0 && in_flight_ >= options_.max_concurrency) {
    blocked_ = std::move(r);  // the next arrivals wait behind it: nothing more is pulled until it is sent
    return;
  }
  Send(std::move(r));
  PullNext();
}

std::pair<int, int> RouteAmong(RouterPolicy policy, const std::vector<Replica*>& replicas,
                               const std::vector<std::pair<int, int>>& slots, size_t* next_slot) {
  if (policy == RouterPolicy::kRoundRobin || slots.size() == 1) {
    const auto slot = slots[*next_slot % slots.size()];
    *next_slot = (*next_slot + 1) % slots.size();
    return slot;
  }
  size_t best = 0;
  for (size_t i = 1; i < slots.size(); ++i) {
    const auto [r, d] = slots[i];
    const auto [br, bd] = slots[best];
    const Replica& a = *replicas[static_cast<size_t>(r)];
    const Replica& b = *replicas[static_cast<size_t>(br)];
    if (policy == RouterPolicy::kLeastKvUsage) {
      if (a.kv_usage(d) < b.kv_usage(bd) || (a.kv_usage(d) == b.kv_usage(bd) && a.outstanding(d) < b.outstanding(bd))) {
        best = i;
      }
    } else if (a.outstanding(d) < b.outstanding(bd)) {
      best = i;
    }
  }
  return slots[best];
}

std::pair<int, int> ServingRun::Route() { return RouteAmong(options_.router, replicas_, slots_, &next_slot_); }

void ServingRun::Send(Request r) {
  const auto [replica, dp] = Route();
  ++stats_.sent;
  metrics_.OnSent(r.id, sim_.Now(), r.input_tokens, r.output_tokens, replica);
  if (slo_watch_) slo_watch_->OnSent(r.id);
  PrefillHandoff* handoff = options_.handoff;
  Status added = handoff != nullptr ? handoff->Fits(r) : Status::Ok();
  if (added.ok() && handoff != nullptr) {
    Request prefill = r;
    prefill.output_tokens = 1;  // the prefill instance's request: max_tokens = 1
    added = replicas_[static_cast<size_t>(replica)]->Add(prefill, dp);
    if (added.ok()) handoff->OnSent(r, replica, dp);
  } else if (added.ok()) {
    added = replicas_[static_cast<size_t>(replica)]->Add(r, dp);
  }
  if (!added.ok()) {
    ++stats_.rejected;  // the server refuses it (as vLLM answers 400 for a request over its limits): it fails
    if (stats_.first_rejection.empty()) stats_.first_rejection = added.message();
    if (slo_watch_) slo_watch_->OnFinished(r.id);
    return;
  }
  ++in_flight_;
}

void ServingRun::OnStepScheduled(int replica, int dp_rank, const SchedulerStep& step) {
  const Time now = sim_.Now();
  const bool prefill = IsPrefill(replica);
  if (prefill) options_.handoff->OnPrefillScheduled(replica, dp_rank, step);
  for (int64_t id : step.preempted) metrics_.OnPreempted(id);
  // A decode replica's admission is not the request's first scheduling: its prefill was.
  if (step.admitted.empty() || (options_.handoff != nullptr && !prefill)) return;
  for (const ScheduledSequence& s : step.sequences) {
    // A newly admitted request: its first scheduling, and the prompt tokens it found in the prefix cache.
    for (int64_t id : step.admitted) {
      if (id != s.request_id) continue;
      metrics_.OnScheduled(id, now);
      if (s.computed_before > 0) metrics_.OnPrefixHit(id, s.computed_before);
    }
  }
}

void ServingRun::OnStepDone(int replica, int dp_rank, const std::vector<SequenceOutcome>& outcomes) {
  const Time now = sim_.Now();
  if (IsPrefill(replica)) {
    // The prefill instance's token is not the user's: the decode instance emits every output token.
    for (const SequenceOutcome& o : outcomes) {
      if (o.finished) options_.handoff->OnPrefillDone(replica, dp_rank, o.request_id);
    }
    return;
  }
  for (const SequenceOutcome& o : outcomes) {
    if (o.emitted) metrics_.OnToken(o.request_id, now, o.new_tokens);
    if (!o.finished) continue;
    metrics_.OnFinished(o.request_id, now);
    if (slo_watch_) slo_watch_->OnFinished(o.request_id);
    ++stats_.finished;
    --in_flight_;
    if (blocked_ && (options_.max_concurrency == 0 || in_flight_ < options_.max_concurrency)) {
      Request r = std::move(*blocked_);
      blocked_.reset();
      Send(std::move(r));
      PullNext();
    }
  }
  if (slo_watch_) {
    slo_watch_->Advance(now);
    if (slo_watch_->missed() > options_.stop_after_misses && !stats_.stopped) {
      stats_.stopped = true;
      sim_.Stop();
    }
  }
  if (options_.progress && stats_.finished >= next_progress_) {
    options_.progress(stats_.finished, stats_.sent, now);
    next_progress_ = stats_.finished + 1000;
  }
}

}  // namespace wiresim
