// The scheduler follows vLLM v1. Each rule names the vLLM file and function it comes from; "scheduler.py" is
// vllm/v1/core/sched/scheduler.py, "kv_cache_manager.py" is vllm/v1/core/kv_cache_manager.py,
// "single_type_kv_cache_manager.py" is vllm/v1/core/single_type_kv_cache_manager.py.
//
// Where wiresim differs from vLLM:
// - Pipeline parallelism. vLLM (engine/core.py, step_with_batch_queue, with max_concurrent_batches > 1) advances a
//   request's computed tokens when it is scheduled (scheduler.py, _update_after_schedule), so the next chunk of a
//   prompt can go into the next batch while the previous one is still in the pipeline, and a decode gets no new
//   token (num_new_tokens == 0, the `continue` in schedule()) until its output comes back. This contract skips every
//   request of an unfinished step, prefill chunks included, and never preempts one: the preemption victim is the
//   last running request that is not in flight.
// - No null block (block 0 of vLLM's pool), no watermark, no long_prefill_token_threshold, FCFS policy only.
// - Speculative decoding: every request that sampled in a step carries num_speculative_tokens drafts into the next
//   (vLLM's proposers draft for every request of the batch; the n-gram proposer finds none where the text has no
//   match, which here is a rejection at the first position, already in the acceptance rates).
// - Block hashes. vLLM hashes every full block of prompt and output tokens (chained). Here a block is keyed by the
//   Mooncake hash_ids that cover it (chained, plus its index), so requests with equal leading hash_ids share it; a
//   block not covered by hash_ids (prompt past them, or holding output tokens) gets a key unique to its request,
//   which only that request, resumed after a preemption, can hit. Keys are 64-bit mixes: a collision is possible
//   in principle, at odds of about (cached blocks x lookups) / 2^64.
#include "sim/serving/scheduler.h"

#include <algorithm>
#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>

#include "sim/core/check.h"
#include "sim/serving/kv_block_pool.h"

namespace wiresim {
namespace {

uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t x = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

constexpr uint64_t kSharedSeed = 0x5be0cd19137e2179ULL;
constexpr uint64_t kUniqueSeed = 0x1f83d9abfb41bd6bULL;

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

int64_t SchedulerStep::Tokens() const {
  int64_t n = 0;
  for (const ScheduledSequence& s : sequences) n += s.new_tokens;
  return n;
}

BatchShape SchedulerStep::Shape() const {
  BatchShape shape;
  bool drafts = false;
  for (const ScheduledSequence& s : sequences) drafts = drafts || s.draft_tokens > 0;
  for (const ScheduledSequence& s : sequences) {
    if (s.decode) {
      shape.decode_contexts.push_back(s.computed_before + s.new_tokens);
      if (drafts) shape.decode_queries.push_back(s.new_tokens);
    } else {
      shape.prefills.push_back(PrefillChunk{s.new_tokens, s.computed_before, s.samples});
    }
  }
  return shape;
}

class Scheduler::Impl {
 public:
  explicit Impl(const SchedulerOptions& options) : options_(options), pool_(options.num_blocks) {
    WIRESIM_CHECK_GT(options.max_num_seqs, 0);
    WIRESIM_CHECK_GT(options.max_num_batched_tokens, 0);
    WIRESIM_CHECK_GT(options.block_size, 0);
    WIRESIM_CHECK_GT(options.hash_block_tokens, 0);
  }

  Status Fits(const Request& request) const;
  Status Add(const Request& request, int64_t kv_tokens);
  void ReleaseHeld(int64_t request_id);
  SchedulerStep Schedule();
  std::vector<SequenceOutcome> Complete(const SchedulerStep& step, std::span<const int64_t> accepted);

  int64_t waiting() const { return static_cast<int64_t>(waiting_.size()); }
  int64_t running() const { return static_cast<int64_t>(running_.size()); }
  int64_t in_flight() const { return static_cast<int64_t>(in_flight_steps_.size()); }
  int64_t used_blocks() const { return pool_.num_used(); }
  int64_t num_blocks() const { return pool_.num_blocks(); }
  int64_t preemptions() const { return preemptions_; }
  int64_t held() const { return static_cast<int64_t>(held_.size()); }

 private:
  struct Sequence {
    int64_t id = 0;
    int64_t prompt = 0;
    int64_t output = 0;
    int64_t emitted = 0;                // output tokens sampled so far
    int64_t computed = 0;               // tokens in the KV cache, counting those of a step in flight
    std::vector<uint64_t> prefix_keys;  // prefix_keys[j]: the content of hash_ids[0..j]
    std::vector<int32_t> blocks;
    int64_t cached_blocks = 0;  // blocks[0, cached_blocks) carry their key
    int64_t transferred = 0;    // prompt tokens whose KV arrives with the request (until a preemption)
    int64_t drafts = 0;         // draft tokens proposed for its next step (vLLM's spec_token_ids)
    bool in_flight = false;
    bool finished = false;
    // vLLM's Request.num_tokens: prompt plus the output tokens sampled so far. The last sampled token is not in
    // the KV cache yet, so a decode computes it.
    int64_t tokens() const { return prompt + emitted; }
  };

  uint64_t BlockKey(const Sequence& s, int64_t index) const;
  // The leading blocks of `s` found in the cache (into hits_), as kv_cache_manager.py's get_computed_blocks does.
  void FindCachedPrefix(const Sequence& s);
  // kv_cache_manager.py, allocate_slots: gives `s` blocks for `new_tokens` more tokens after `hit_blocks` cached
  // ones (hits_), and `lookahead` slots past them. False, and nothing changed, when the free queue is too short.
  bool AllocateSlots(Sequence& s, int64_t new_tokens, int64_t hit_blocks, int64_t lookahead = 0);
  void FreeBlocks(Sequence& s);
  void Preempt(Sequence& s, SchedulerStep& step);
  void Record(Sequence& s, int64_t new_tokens, SchedulerStep& step);

  SchedulerOptions options_;
  KvBlockPool pool_;
  std::unordered_map<int64_t, std::unique_ptr<Sequence>> sequences_;  // by id; looked up, never iterated
  std::unordered_map<int64_t, std::unique_ptr<Sequence>> held_;       // finished, blocks held; never iterated
  std::deque<Sequence*> waiting_;
  std::vector<Sequence*> running_;  // in admission order
  std::vector<int64_t> in_flight_steps_;
  std::vector<int32_t> hits_;  // scratch for FindCachedPrefix
  int64_t next_step_id_ = 0;
  int64_t preemptions_ = 0;
};

Status Scheduler::Impl::Fits(const Request& request) const {
  const std::string who = "request " + std::to_string(request.id) + ": ";
  if (request.input_tokens < 1 || request.output_tokens < 1) {
    return InvalidArgument(who + "input_tokens and output_tokens must be >= 1, got " +
                           std::to_string(request.input_tokens) + " and " + std::to_string(request.output_tokens));
  }
  if (sequences_.count(request.id) > 0 || held_.count(request.id) > 0) {
    return InvalidArgument(who + "id already queued or running");
  }
  const int64_t total = request.input_tokens + request.output_tokens;
  if (options_.max_model_len > 0 && total > options_.max_model_len) {
    return InvalidArgument(who + "prompt " + std::to_string(request.input_tokens) + " + output " +
                           std::to_string(request.output_tokens) + " = " + std::to_string(total) +
                           " tokens exceeds max_model_len " + std::to_string(options_.max_model_len));
  }
  // The last output token is sampled, never written to the KV cache: at most total - 1 tokens are held at once, and
  // with speculative decoding the drafts and the lookahead slots past them.
  const int64_t peak_blocks =
      CeilDiv(total - 1 + options_.num_speculative_tokens + options_.num_lookahead_tokens, options_.block_size);
  if (peak_blocks > pool_.num_blocks()) {
    return InvalidArgument(who + "needs " + std::to_string(peak_blocks) + " KV blocks of " +
                           std::to_string(options_.block_size) + " tokens, more than num_blocks " +
                           std::to_string(pool_.num_blocks()));
  }
  // Without chunked prefill a prompt (after a preemption: prompt and outputs so far) must fit one step's budget.
  // vLLM makes this a configuration rule (vllm/config/scheduler.py: max_num_batched_tokens >= max_model_len unless
  // chunked prefill is on); here it is checked per request.
  if (!options_.enable_chunked_prefill && total - 1 > options_.max_num_batched_tokens) {
    return InvalidArgument(who + "without chunked prefill, its " + std::to_string(total - 1) +
                           " tokens (recomputed in one step after a preemption) exceed max_num_batched_tokens " +
                           std::to_string(options_.max_num_batched_tokens));
  }
  return Status::Ok();
}

Status Scheduler::Impl::Add(const Request& request, int64_t kv_tokens) {
  WIRESIM_RETURN_IF_ERROR(Fits(request));
  WIRESIM_CHECK(kv_tokens >= 0 && kv_tokens < request.input_tokens) << "request " << request.id;
  auto s = std::make_unique<Sequence>();
  s->transferred = kv_tokens;
  s->id = request.id;
  s->prompt = request.input_tokens;
  s->output = request.output_tokens;
  if (options_.enable_prefix_caching) {
    s->prefix_keys.reserve(request.hash_ids.size());
    uint64_t key = kSharedSeed;
    for (int64_t h : request.hash_ids) {
      key = Mix(key, static_cast<uint64_t>(h));
      s->prefix_keys.push_back(key);
    }
  }
  // scheduler.py, add_request: new requests join the back of the waiting queue.
  waiting_.push_back(s.get());
  sequences_.emplace(request.id, std::move(s));
  return Status::Ok();
}

uint64_t Scheduler::Impl::BlockKey(const Sequence& s, int64_t index) const {
  const int64_t end = (index + 1) * options_.block_size;  // one past the block's last token
  if (end <= s.prompt) {
    const int64_t last_hash = (end - 1) / options_.hash_block_tokens;
    if (last_hash < static_cast<int64_t>(s.prefix_keys.size())) {
      return Mix(s.prefix_keys[last_hash], static_cast<uint64_t>(index));
    }
  }
  return Mix(Mix(kUniqueSeed, static_cast<uint64_t>(s.id)), static_cast<uint64_t>(index));
}

void Scheduler::Impl::FindCachedPrefix(const Sequence& s) {
  hits_.clear();
  if (!options_.enable_prefix_caching) return;
  // kv_cache_manager.py, get_computed_blocks: when every token is cached the last one is still recomputed for its
  // logits, so the hit is capped at num_tokens - 1; only full blocks count (single_type_kv_cache_manager.py,
  // FullAttentionManager.find_longest_cache_hit: max_length // block_size blocks, stopping at the first miss). A
  // prompt cached whole therefore recomputes its last block.
  const int64_t max_blocks = (s.tokens() - 1) / options_.block_size;
  for (int64_t i = 0; i < max_blocks; ++i) {
    int32_t block = pool_.FindCached(BlockKey(s, i));
    if (block < 0) break;
    hits_.push_back(block);
  }
}

bool Scheduler::Impl::AllocateSlots(Sequence& s, int64_t new_tokens, int64_t hit_blocks, int64_t lookahead) {
  const int64_t computed = s.computed + hit_blocks * options_.block_size;
  const int64_t required = CeilDiv(computed + new_tokens + lookahead, options_.block_size);
  // single_type_kv_cache_manager.py, get_num_blocks_to_allocate: cache hits on free blocks take them from the
  // free queue too, so they count against it.
  int64_t evictable_hits = 0;
  for (int64_t i = 0; i < hit_blocks; ++i) evictable_hits += pool_.held(hits_[i]) ? 0 : 1;
  const int64_t to_allocate = required - hit_blocks - static_cast<int64_t>(s.blocks.size()) + evictable_hits;
  if (to_allocate > pool_.num_free()) return false;

  // allocate_slots: the hits join the request before new blocks are taken, so taking cannot evict them.
  for (int64_t i = 0; i < hit_blocks; ++i) {
    pool_.Touch(hits_[i]);
    s.blocks.push_back(hits_[i]);
  }
  s.cached_blocks += hit_blocks;
  while (static_cast<int64_t>(s.blocks.size()) < required) s.blocks.push_back(pool_.Allocate());

  // allocate_slots -> cache_blocks: blocks full once this step's tokens are in (capped at num_tokens) are cached
  // now, at schedule time, not when the step completes.
  if (options_.enable_prefix_caching) {
    const int64_t full = std::min(computed + new_tokens, s.tokens()) / options_.block_size;
    for (int64_t i = s.cached_blocks; i < full; ++i) pool_.Cache(s.blocks[i], BlockKey(s, i));
    s.cached_blocks = std::max(s.cached_blocks, full);
  }
  return true;
}

// kv_cache_manager.py, free -> single_type_kv_cache_manager.py, free: blocks go back in reverse order, so a
// request's tail blocks are evicted before its head (which other requests are likelier to share).
void Scheduler::Impl::FreeBlocks(Sequence& s) {
  for (auto it = s.blocks.rbegin(); it != s.blocks.rend(); ++it) pool_.Release(*it);
  s.blocks.clear();
  s.cached_blocks = 0;
}

// scheduler.py, _preempt_request: recompute preemption frees the blocks, forgets the computed tokens (the output
// tokens sampled so far are kept and recomputed with the prompt) and puts the request at the front of waiting.
void Scheduler::Impl::Preempt(Sequence& s, SchedulerStep& step) {
  FreeBlocks(s);
  s.computed = 0;
  s.transferred = 0;
  s.drafts = 0;
  waiting_.push_front(&s);
  step.preempted.push_back(s.id);
  ++preemptions_;
}

void Scheduler::Impl::Record(Sequence& s, int64_t new_tokens, SchedulerStep& step) {
  ScheduledSequence seq;
  seq.request_id = s.id;
  seq.new_tokens = new_tokens;
  seq.computed_before = s.computed;
  // scheduler.py, schedule(): the drafts scheduled are the new tokens past num_tokens (fewer than the request holds
  // when the budget or max_model_len cut them).
  seq.draft_tokens = std::max<int64_t>(0, s.computed + new_tokens - s.tokens());
  seq.decode = s.emitted > 0 && s.computed == s.tokens() - 1 && new_tokens == 1 + seq.draft_tokens;
  seq.samples = s.computed + new_tokens >= s.tokens();
  step.sequences.push_back(seq);
  // scheduler.py, _update_after_schedule: computed tokens advance when the step is formed.
  s.computed += new_tokens;
  s.in_flight = true;
}

SchedulerStep Scheduler::Impl::Schedule() {
  SchedulerStep step;
  step.id = next_step_id_++;
  int64_t budget = options_.max_num_batched_tokens;

  // scheduler.py, schedule(), "First, schedule the RUNNING requests": in running order while budget remains.
  size_t index = 0;
  while (index < running_.size() && budget > 0) {
    Sequence& s = *running_[index];
    if (s.in_flight) {  // see the pipeline-parallelism note at the top
      ++index;
      continue;
    }
    // num_new_tokens = num_tokens_with_spec - num_computed_tokens, capped by the budget: a decode is 1 token and its
    // drafts, a prompt being prefilled gets its next chunk; and no position past max_model_len - 1.
    int64_t new_tokens = std::min(s.tokens() + s.drafts - s.computed, budget);
    if (options_.max_model_len > 0) new_tokens = std::min(new_tokens, options_.max_model_len - 1 - s.computed);
    bool scheduled = false;
    while (true) {
      if (AllocateSlots(s, new_tokens, 0, options_.num_lookahead_tokens)) {
        scheduled = true;
        break;
      }
      // FCFS: preempt the running list's last request (here: its last one not in flight), then retry; when the
      // victim is the request itself, it cannot be scheduled.
      size_t victim = running_.size();
      while (victim > index && running_[victim - 1]->in_flight) --victim;
      WIRESIM_CHECK_GT(victim, index);
      Sequence& v = *running_[victim - 1];
      running_.erase(running_.begin() + static_cast<std::ptrdiff_t>(victim - 1));
      Preempt(v, step);
      if (&v == &s) break;
    }
    // "if new_blocks is None: break": no request after it is scheduled either.
    if (!scheduled) break;
    Record(s, new_tokens, step);
    budget -= new_tokens;
    ++index;
  }

  // "Next, schedule the WAITING requests", only when nothing was preempted in this step.
  if (step.preempted.empty()) {
    while (!waiting_.empty() && budget > 0) {
      if (static_cast<int64_t>(running_.size()) >= options_.max_num_seqs) break;
      Sequence& s = *waiting_.front();
      FindCachedPrefix(s);
      // KV moved in from a prefill instance counts as computed: blocks for it are allocated with the new ones.
      if (s.transferred > 0) hits_.clear();
      const int64_t hit_blocks = static_cast<int64_t>(hits_.size());
      const int64_t hit_tokens = hit_blocks * options_.block_size;
      s.computed = s.transferred;
      int64_t new_tokens = s.tokens() - hit_tokens - s.transferred;
      // Without chunked prefill, the first request that does not fit the budget whole stops admission.
      if (!options_.enable_chunked_prefill && new_tokens > budget) {
        s.computed = 0;
        break;
      }
      new_tokens = std::min(new_tokens, budget);
      if (!AllocateSlots(s, new_tokens, hit_blocks)) {  // "if new_blocks is None: ... break"
        s.computed = 0;
        break;
      }
      waiting_.pop_front();
      running_.push_back(&s);
      s.computed = hit_tokens + s.transferred;
      step.admitted.push_back(s.id);
      step.prefix_hit_tokens += hit_tokens;
      Record(s, new_tokens, step);
      budget -= new_tokens;
    }
  }

  if (!step.empty()) in_flight_steps_.push_back(step.id);
  return step;
}

std::vector<SequenceOutcome> Scheduler::Impl::Complete(const SchedulerStep& step, std::span<const int64_t> accepted) {
  std::vector<SequenceOutcome> outcomes;
  if (step.empty()) return outcomes;
  auto it = std::find(in_flight_steps_.begin(), in_flight_steps_.end(), step.id);
  WIRESIM_CHECK(it != in_flight_steps_.end()) << "step " << step.id << " is not in flight";
  in_flight_steps_.erase(it);

  outcomes.reserve(step.sequences.size());
  bool any_finished = false;
  for (size_t index = 0; index < step.sequences.size(); ++index) {
    const ScheduledSequence& seq = step.sequences[index];
    auto found = sequences_.find(seq.request_id);
    WIRESIM_CHECK(found != sequences_.end()) << "request " << seq.request_id << " of step " << step.id;
    Sequence& s = *found->second;
    WIRESIM_CHECK(s.in_flight) << "request " << seq.request_id << " completed twice";
    s.in_flight = false;
    SequenceOutcome outcome;
    outcome.request_id = s.id;
    // scheduler.py, update_from_output: a step that brings a request's computed tokens up to num_tokens samples a
    // token; a chunk that ends short of it samples none. check_stop (sched/utils.py) finishes the request after
    // max_tokens outputs, and _free_request frees its blocks.
    //
    // With drafts, update_from_output takes the accepted ones and the sampler's own token, and num_computed_tokens
    // goes back by the rejected drafts (their KV slots are overwritten next step); check_stop stops at max_tokens
    // even inside the accepted run.
    int64_t sampled = 0;
    if (seq.draft_tokens > 0) {
      WIRESIM_CHECK(index < accepted.size() && accepted[index] >= 0 && accepted[index] <= seq.draft_tokens)
          << "request " << s.id << ": accepted drafts of step " << step.id;
      s.computed -= seq.draft_tokens - accepted[index];
      sampled = std::min(1 + accepted[index], s.output - s.emitted);
    } else if (s.computed == s.tokens()) {
      sampled = 1;
    }
    if (sampled > 0) {
      s.emitted += sampled;
      outcome.emitted = true;
      outcome.new_tokens = sampled;
      // The proposer drafts for the request's next step.
      s.drafts = options_.num_speculative_tokens;
    }
    outcome.tokens_emitted = s.emitted;
    if (s.emitted == s.output) {
      outcome.finished = true;
      s.finished = true;
      any_finished = true;
      if (!options_.hold_finished_kv) FreeBlocks(s);
    }
    outcomes.push_back(outcome);
  }
  if (any_finished) {
    std::erase_if(running_, [](const Sequence* s) { return s->finished; });
    for (const SequenceOutcome& o : outcomes) {
      if (!o.finished) continue;
      auto done = sequences_.find(o.request_id);
      if (options_.hold_finished_kv) held_.emplace(o.request_id, std::move(done->second));
      sequences_.erase(done);
    }
  }
  return outcomes;
}

void Scheduler::Impl::ReleaseHeld(int64_t request_id) {
  auto it = held_.find(request_id);
  WIRESIM_CHECK(it != held_.end()) << "request " << request_id << " holds no finished blocks";
  FreeBlocks(*it->second);
  held_.erase(it);
}

Scheduler::Scheduler(const SchedulerOptions& options) : impl_(std::make_unique<Impl>(options)) {}
Scheduler::~Scheduler() = default;
Status Scheduler::Add(const Request& request) { return impl_->Add(request, 0); }
Status Scheduler::Fits(const Request& request) const { return impl_->Fits(request); }
Status Scheduler::AddTransferred(const Request& request, int64_t kv_tokens) { return impl_->Add(request, kv_tokens); }
void Scheduler::ReleaseHeld(int64_t request_id) { impl_->ReleaseHeld(request_id); }
int64_t Scheduler::held() const { return impl_->held(); }
SchedulerStep Scheduler::Schedule() { return impl_->Schedule(); }
std::vector<SequenceOutcome> Scheduler::Complete(const SchedulerStep& step, std::span<const int64_t> accepted) {
  return impl_->Complete(step, accepted);
}
int64_t Scheduler::waiting() const { return impl_->waiting(); }
int64_t Scheduler::running() const { return impl_->running(); }
int64_t Scheduler::in_flight() const { return impl_->in_flight(); }
int64_t Scheduler::used_blocks() const { return impl_->used_blocks(); }
int64_t Scheduler::num_blocks() const { return impl_->num_blocks(); }
int64_t Scheduler::preemptions() const { return impl_->preemptions(); }

}  // namespace wiresim
