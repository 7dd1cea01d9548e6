// Scheduler: one replica's batching, as vLLM v1's scheduler (vllm/v1/core/sched/scheduler.py) forms it. Each step it
// first gives running requests their tokens (decodes, and the next chunk of a prompt being prefilled), oldest first,
// then admits waiting requests in arrival order, under max_num_seqs sequences and max_num_batched_tokens new
// tokens per step, with chunked prefill. The KV cache is paged: a request holds ceil(tokens / block_size) blocks;
// when a running request needs a block and none is free, the most recently admitted running request is
// preempted by recompute (its blocks freed, back to the front of the waiting queue, its progress lost). With
// prefix caching, a new request whose prompt's leading blocks match cached blocks (Mooncake hash_ids) starts after
// them. With speculative decoding a running request is given its draft tokens with its new one, KV slots for them and
// for the drafter's next pass (num_lookahead_tokens), and after the step the rejected drafts' slots are given back
// (speculative.h). scheduler.cc names, beside each rule, the vLLM file and function it follows, and where it differs.
//
// Pipeline parallelism keeps several steps in flight: Schedule() may be called again before Complete(); a request
// that is part of an unfinished step is skipped until that step completes, and is never chosen for preemption.
// (vLLM would already give a prompt in flight its next chunk; see scheduler.cc.)
//
//   Scheduler s(options);
//   WIRESIM_RETURN_IF_ERROR(s.Add(request));
//   SchedulerStep step = s.Schedule();           // step.Shape() is what the step graph is built for
//   ... run the iteration ...
//   for (const SequenceOutcome& o : s.Complete(step, accepted)) if (o.emitted) ...;   // accepted: per sequence
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "sim/core/status.h"
#include "sim/parallel/batch.h"
#include "sim/serving/request.h"

namespace wiresim {

struct SchedulerOptions {
  int64_t max_num_seqs = 256;             // vLLM's default for `vllm serve`
  int64_t max_num_batched_tokens = 8192;  // vLLM's default token budget per step
  bool enable_chunked_prefill = true;     // off: a prompt is admitted only when it fits the budget whole
  int64_t block_size = 16;                // tokens per KV block
  int64_t num_blocks = 0;                 // KV blocks of the replica (from the memory plan); > 0
  bool enable_prefix_caching = false;
  int64_t hash_block_tokens = 512;  // tokens each Request::hash_ids entry covers
  int64_t max_model_len = 0;        // prompt + output limit; 0: no limit
  // A prefill instance of a disaggregated deployment: a finished request keeps its KV blocks until ReleaseHeld()
  // (its KV cache is being sent to a decode instance).
  bool hold_finished_kv = false;
  // Speculative decoding: draft tokens a request carries into each step after one that sampled for it (0: none),
  // and the KV slots reserved past them for the drafter (SpeculativeConfig::LookaheadTokens).
  int64_t num_speculative_tokens = 0;
  int64_t num_lookahead_tokens = 0;
};

// One sequence's share of a step.
struct ScheduledSequence {
  int64_t request_id = 0;
  int64_t new_tokens = 0;       // tokens computed in this step (1 for a decode, + its drafts)
  int64_t computed_before = 0;  // tokens already in its KV cache (prefix-cache hits included)
  int64_t draft_tokens = 0;     // drafts verified in this step (speculative decoding; a decode only)
  bool decode = false;          // a decode (the prompt is done): one new token and its drafts
  bool samples = false;         // the step ends with a sampled output token for it (a decode, or a last chunk)
};

struct SchedulerStep {
  int64_t id = 0;                            // 0, 1, 2, ... in the order Schedule() formed them
  std::vector<ScheduledSequence> sequences;  // running requests first, then newly admitted ones
  std::vector<int64_t> preempted;            // request ids preempted while forming this step
  std::vector<int64_t> admitted;             // request ids admitted (first scheduled) in this step
  int64_t prefix_hit_tokens = 0;             // tokens admitted requests (resumed ones too) found in the cache

  bool empty() const { return sequences.empty(); }
  int64_t Tokens() const;
  // As the step graph reads it: every non-decode sequence is a prefill chunk (tokens = new_tokens, context =
  // computed_before, last = samples); every decode contributes context computed_before + new_tokens and, when some
  // decode verifies drafts, new_tokens queries.
  BatchShape Shape() const;
};

struct SequenceOutcome {
  int64_t request_id = 0;
  bool emitted = false;        // output tokens came out of this step
  int64_t new_tokens = 0;      // how many (1, or 1 + accepted drafts, up to the request's last)
  bool finished = false;       // it was the request's last token: its blocks are freed
  int64_t tokens_emitted = 0;  // output tokens so far, these included
};

class Scheduler {
 public:
  explicit Scheduler(const SchedulerOptions& options);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a request. Fails (InvalidArgument, naming the request and the limit) when it can never run: prompt +
  // output over max_model_len; more blocks than the cache has in all (ceil((prompt + output - 1) / block_size), the
  // last output token is never written); without chunked prefill, prompt + output - 1 tokens (what a preempted
  // request recomputes in one step) over max_num_batched_tokens. Also when a length is < 1 or the id is queued.
  Status Add(const Request& request);
  // Add()'s checks alone: whether `request` could ever run here. Queues nothing.
  Status Fits(const Request& request) const;
  // Queues a request whose first `kv_tokens` prompt tokens already have their KV cache (moved in from a prefill
  // instance): when admitted it holds blocks for them and computes from token kv_tokens on, as a prefix-cache hit
  // of kv_tokens would. A preempted one recomputes from token 0. REQUIRES: 0 <= kv_tokens < input_tokens.
  Status AddTransferred(const Request& request, int64_t kv_tokens);
  // Frees the blocks of a finished request held under hold_finished_kv. REQUIRES: it finished and is held.
  void ReleaseHeld(int64_t request_id);
  // Forms the next step; empty when nothing can be scheduled now (it may still list preemptions). An empty step is
  // not in flight.
  SchedulerStep Schedule();
  // Marks `step` done: one outcome per sequence, in the step's order; finished requests' blocks are freed (with
  // prefix caching their full blocks stay findable until reused). Completing an empty step does nothing.
  // `accepted[i]`: the drafts sequence i's step accepted (read where its draft_tokens > 0; empty when none has).
  // REQUIRES: `step` came from Schedule() and was not completed before; 0 <= accepted[i] <= draft_tokens.
  std::vector<SequenceOutcome> Complete(const SchedulerStep& step, std::span<const int64_t> accepted = {});

  int64_t waiting() const;    // queued, not admitted (preempted ones included)
  int64_t running() const;    // admitted and unfinished
  int64_t in_flight() const;  // steps scheduled and not completed
  int64_t used_blocks() const;
  int64_t num_blocks() const;
  int64_t held() const;         // finished requests whose blocks are held (hold_finished_kv)
  int64_t preemptions() const;  // total so far
  bool idle() const { return waiting() == 0 && running() == 0; }

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wiresim
