// Tests for the vLLM-v1-style scheduler. Each expected value is derived by hand in the comment above it.
#include "sim/serving/scheduler.h"

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "sim/core/random.h"

namespace wiresim {
namespace {

Request MakeRequest(int64_t id, int64_t input, int64_t output, std::vector<int64_t> hash_ids = {}) {
  Request r;
  r.id = id;
  r.input_tokens = input;
  r.output_tokens = output;
  r.hash_ids = std::move(hash_ids);
  return r;
}

SchedulerOptions Options(int64_t num_blocks) {
  SchedulerOptions o;
  o.num_blocks = num_blocks;
  return o;
}

// The step's sequence for `id`; fails the test when there is none.
const ScheduledSequence& Find(const SchedulerStep& step, int64_t id) {
  for (const ScheduledSequence& s : step.sequences) {
    if (s.request_id == id) return s;
  }
  FAIL("request " << id << " not in step " << step.id);
  return step.sequences.front();
}

bool Contains(const SchedulerStep& step, int64_t id) {
  for (const ScheduledSequence& s : step.sequences) {
    if (s.request_id == id) return true;
  }
  return false;
}

const SequenceOutcome& Outcome(const std::vector<SequenceOutcome>& outcomes, int64_t id) {
  for (const SequenceOutcome& o : outcomes) {
    if (o.request_id == id) return o;
  }
  FAIL("request " << id << " has no outcome");
  return outcomes.front();
}

TEST_CASE("budget splits three 5000-token prompts over steps, running requests first") {
  Scheduler s(Options(10000));
  for (int64_t id : {0, 1, 2}) REQUIRE(s.Add(MakeRequest(id, 5000, 3)).ok());

  // Step 0: budget 8192. Request 0 takes its whole prompt (5000), request 1 the remaining 8192 - 5000 = 3192 as a
  // first chunk; the budget is spent, so request 2 waits.
  SchedulerStep step0 = s.Schedule();
  REQUIRE(step0.sequences.size() == 2);
  CHECK(step0.sequences[0].request_id == 0);
  CHECK(step0.sequences[0].new_tokens == 5000);
  CHECK(step0.sequences[0].samples);
  CHECK(step0.sequences[1].request_id == 1);
  CHECK(step0.sequences[1].new_tokens == 3192);
  CHECK_FALSE(step0.sequences[1].samples);
  CHECK(step0.admitted == std::vector<int64_t>{0, 1});
  CHECK(s.waiting() == 1);
  // Blocks: ceil(5000 / 16) = 313 and ceil(3192 / 16) = 200.
  CHECK(s.used_blocks() == 313 + 200);
  std::vector<SequenceOutcome> out0 = s.Complete(step0);
  CHECK(Outcome(out0, 0).emitted);
  CHECK(Outcome(out0, 0).tokens_emitted == 1);
  CHECK_FALSE(Outcome(out0, 1).emitted);

  // Step 1: running first, in order: request 0 decodes (1 token after 5000 cached), request 1 finishes its prompt
  // (5000 - 3192 = 1808 tokens after 3192). Budget left 8192 - 1 - 1808 = 6383 >= 5000, so request 2 is admitted
  // whole. Tokens 1 + 1808 + 5000 = 6809.
  SchedulerStep step1 = s.Schedule();
  REQUIRE(step1.sequences.size() == 3);
  CHECK(step1.sequences[0].request_id == 0);
  CHECK(step1.sequences[0].decode);
  CHECK(step1.sequences[0].computed_before == 5000);
  CHECK(step1.sequences[1].request_id == 1);
  CHECK(step1.sequences[1].new_tokens == 1808);
  CHECK(step1.sequences[1].computed_before == 3192);
  CHECK(step1.sequences[1].samples);
  CHECK(step1.sequences[2].request_id == 2);
  CHECK(step1.sequences[2].new_tokens == 5000);
  CHECK(step1.Tokens() == 6809);
  // The step graph's view: prefill chunks in order, then the decode with its context 5000 + 1.
  CHECK(step1.Shape().ToString() == "prefill=1x1808@3192,prefill=1x5000,decode=1x5001");
  // Blocks: request 0 ceil(5001 / 16) = 313, requests 1 and 2 ceil(5000 / 16) = 313 each.
  CHECK(s.used_blocks() == 3 * 313);
  s.Complete(step1);

  // Step 2: three decodes; request 0 samples its third and last token and frees its 313 blocks.
  SchedulerStep step2 = s.Schedule();
  CHECK(step2.Tokens() == 3);
  std::vector<SequenceOutcome> out2 = s.Complete(step2);
  CHECK(Outcome(out2, 0).finished);
  CHECK(Outcome(out2, 0).tokens_emitted == 3);
  CHECK_FALSE(Outcome(out2, 1).finished);
  CHECK(s.used_blocks() == 2 * 313);
  CHECK(s.running() == 2);

  // Step 3: requests 1 and 2 decode their third token and finish.
  std::vector<SequenceOutcome> out3 = s.Complete(s.Schedule());
  CHECK(Outcome(out3, 1).finished);
  CHECK(Outcome(out3, 2).finished);
  CHECK(s.idle());
  CHECK(s.used_blocks() == 0);
}

TEST_CASE("decodes come before a newly arrived prompt, which gets what the budget leaves") {
  SchedulerOptions o = Options(1000);
  o.max_num_batched_tokens = 100;
  Scheduler s(o);
  REQUIRE(s.Add(MakeRequest(0, 100, 5)).ok());
  s.Complete(s.Schedule());  // request 0's prompt, 100 tokens
  REQUIRE(s.Add(MakeRequest(1, 100, 5)).ok());
  // Request 0 decodes (1 token) first; request 1 gets 100 - 1 = 99 tokens, one short of its prompt.
  SchedulerStep step = s.Schedule();
  REQUIRE(step.sequences.size() == 2);
  CHECK(step.sequences[0].request_id == 0);
  CHECK(step.sequences[0].decode);
  CHECK(step.sequences[1].request_id == 1);
  CHECK(step.sequences[1].new_tokens == 99);
  CHECK_FALSE(step.sequences[1].samples);
  CHECK(step.Shape().ToString() == "prefill=1x99,decode=1x101");
}

TEST_CASE("max_num_seqs caps the running requests") {
  SchedulerOptions o = Options(1000);
  o.max_num_seqs = 2;
  Scheduler s(o);
  for (int64_t id : {0, 1, 2}) REQUIRE(s.Add(MakeRequest(id, 10, 2)).ok());
  // Two are admitted; the third waits though the budget has room.
  SchedulerStep step0 = s.Schedule();
  CHECK(step0.admitted == std::vector<int64_t>{0, 1});
  CHECK(s.running() == 2);
  CHECK(s.waiting() == 1);
  s.Complete(step0);
  // Both decode their second (last) token; still two running while the step is formed, so 2 keeps waiting.
  SchedulerStep step1 = s.Schedule();
  CHECK(step1.sequences.size() == 2);
  CHECK(step1.admitted.empty());
  s.Complete(step1);
  CHECK(s.running() == 0);
  SchedulerStep step2 = s.Schedule();
  CHECK(step2.admitted == std::vector<int64_t>{2});
}

TEST_CASE("without chunked prefill a prompt that does not fit the budget stops admission") {
  SchedulerOptions o = Options(1000);
  o.max_num_batched_tokens = 100;
  o.enable_chunked_prefill = false;
  Scheduler s(o);
  REQUIRE(s.Add(MakeRequest(0, 60, 2)).ok());
  REQUIRE(s.Add(MakeRequest(1, 60, 2)).ok());
  REQUIRE(s.Add(MakeRequest(2, 30, 2)).ok());
  // Request 0 takes 60, leaving 40 < 60: request 1 does not fit whole, and admission stops there even though
  // request 2 (30) would fit (vLLM breaks, it does not skip).
  SchedulerStep step0 = s.Schedule();
  REQUIRE(step0.sequences.size() == 1);
  CHECK(step0.sequences[0].new_tokens == 60);
  s.Complete(step0);
  // Request 0 decodes (1), leaving 99: request 1 (60) then request 2 (30, 39 left) are admitted whole.
  SchedulerStep step1 = s.Schedule();
  REQUIRE(step1.sequences.size() == 3);
  CHECK(step1.sequences[1].new_tokens == 60);
  CHECK(step1.sequences[2].new_tokens == 30);

  // With chunked prefill the same start gives request 1 a first chunk of 100 - 60 = 40.
  o.enable_chunked_prefill = true;
  Scheduler chunked(o);
  REQUIRE(chunked.Add(MakeRequest(0, 60, 2)).ok());
  REQUIRE(chunked.Add(MakeRequest(1, 60, 2)).ok());
  SchedulerStep c0 = chunked.Schedule();
  REQUIRE(c0.sequences.size() == 2);
  CHECK(c0.sequences[1].new_tokens == 40);
}

TEST_CASE("a request holds ceil(tokens / block_size) blocks, the token being written included") {
  Scheduler s(Options(100));
  REQUIRE(s.Add(MakeRequest(0, 20, 20)).ok());
  // Step k writes token 20 + k's KV (step 0 the 20 prompt tokens) and needs ceil((20 + k) / 16) blocks:
  // k = 0..12 -> 20..32 tokens -> 2 blocks; k = 13..19 -> 33..39 tokens -> 3 blocks. The 20th output comes out
  // of step 19, which frees everything.
  const std::vector<int64_t> expected = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3};
  for (size_t k = 0; k < expected.size(); ++k) {
    SchedulerStep step = s.Schedule();
    INFO("step " << k);
    CHECK(s.used_blocks() == expected[k]);
    std::vector<SequenceOutcome> out = s.Complete(step);
    CHECK(out[0].tokens_emitted == static_cast<int64_t>(k) + 1);
    CHECK(out[0].finished == (k + 1 == expected.size()));
  }
  CHECK(s.used_blocks() == 0);
  CHECK(s.idle());
}

TEST_CASE("when blocks run out the last running request is preempted and recomputed later") {
  Scheduler s(Options(4));
  // Each needs at most ceil((32 + 10 - 1) / 16) = 3 blocks, so each fits the 4-block cache alone.
  REQUIRE(s.Add(MakeRequest(0, 32, 10)).ok());
  REQUIRE(s.Add(MakeRequest(1, 32, 10)).ok());
  // Step 0: both prompts, 2 blocks each: the cache is full.
  SchedulerStep step0 = s.Schedule();
  CHECK(step0.sequences.size() == 2);
  CHECK(s.used_blocks() == 4);
  s.Complete(step0);

  // Step 1: request 0's decode writes token 33 and needs a third block; none is free, so the last running request
  // (1) is preempted: its 2 blocks are freed and request 0 takes one (3 used). Nothing is admitted in a step
  // that preempted.
  SchedulerStep step1 = s.Schedule();
  CHECK(step1.preempted == std::vector<int64_t>{1});
  REQUIRE(step1.sequences.size() == 1);
  CHECK(step1.sequences[0].request_id == 0);
  CHECK(s.preemptions() == 1);
  CHECK(s.waiting() == 1);
  CHECK(s.running() == 1);
  CHECK(s.used_blocks() == 3);
  s.Complete(step1);

  // Request 0 keeps decoding; request 1 would need ceil((32 + 1) / 16) = 3 blocks to recompute its prompt and
  // its one output token, and only 1 is free, so it waits until request 0 finishes. Request 0's 10th token comes
  // out of step 9.
  int64_t step_count = 2;
  while (true) {
    SchedulerStep step = s.Schedule();
    CHECK_FALSE(Contains(step, 1));
    std::vector<SequenceOutcome> out = s.Complete(step);
    ++step_count;
    if (Outcome(out, 0).finished) break;
  }
  CHECK(step_count == 10);

  // Step 10: request 1 is back, from the front of waiting, with its progress lost: it recomputes 32 prompt tokens
  // plus its first output, 33 tokens from 0, and samples its second output.
  SchedulerStep resumed = s.Schedule();
  REQUIRE(resumed.sequences.size() == 1);
  CHECK(resumed.admitted == std::vector<int64_t>{1});
  CHECK(resumed.sequences[0].computed_before == 0);
  CHECK(resumed.sequences[0].new_tokens == 33);
  CHECK_FALSE(resumed.sequences[0].decode);
  CHECK(resumed.sequences[0].samples);
  std::vector<SequenceOutcome> out = s.Complete(resumed);
  CHECK(out[0].tokens_emitted == 2);
  // Eight more decodes give outputs 3..10; exactly 10 in all.
  int64_t last = 0;
  for (int i = 0; i < 8; ++i) {
    std::vector<SequenceOutcome> o = s.Complete(s.Schedule());
    last = o[0].tokens_emitted;
    CHECK(o[0].finished == (i == 7));
  }
  CHECK(last == 10);
  CHECK(s.idle());
  CHECK(s.preemptions() == 1);
}

TEST_CASE("a step that preempts admits nothing, even what would fit") {
  SchedulerOptions o = Options(4);
  o.max_num_batched_tokens = 17;
  Scheduler s(o);
  // Request 0 holds at most ceil((16 + 40 - 1) / 16) = 4 blocks, request 1 ceil((17 + 20 - 1) / 16) = 3.
  REQUIRE(s.Add(MakeRequest(0, 16, 40)).ok());
  REQUIRE(s.Add(MakeRequest(1, 17, 20)).ok());
  // Step 0: request 0's prompt (16, 1 block), request 1's first token (17 - 16 = 1, 1 block).
  // Step 1: request 0 decodes token 17 (2 blocks), request 1 its last 16 prompt tokens (2 blocks): 4 used.
  // Steps 2..16: both decode tokens 18..32 within their 2 blocks. Each step k >= 1 writes token 16 + k of both.
  for (int k = 0; k <= 16; ++k) {
    SchedulerStep step = s.Schedule();
    REQUIRE(step.preempted.empty());
    s.Complete(step);
  }
  CHECK(s.used_blocks() == 4);
  // Step 17: request 0 writes token 33 and needs a third block; none is free, so request 1 (last) is preempted,
  // freeing 2, and request 0 takes 1. Request 1 would come back with a 16-token chunk (1 block, and 1 is free),
  // but vLLM admits nothing in a step that preempted.
  SchedulerStep step17 = s.Schedule();
  CHECK(step17.preempted == std::vector<int64_t>{1});
  REQUIRE(step17.sequences.size() == 1);
  CHECK(step17.sequences[0].request_id == 0);
  CHECK(step17.admitted.empty());
  CHECK(s.used_blocks() == 3);
  s.Complete(step17);
  // Step 18 admits it: 17 prompt + 16 outputs = 33 tokens to recompute, the first 16 this step (the
  // budget of 17 less request 0's decode).
  SchedulerStep step18 = s.Schedule();
  CHECK(step18.admitted == std::vector<int64_t>{1});
  CHECK(Find(step18, 1).new_tokens == 16);
  s.Complete(step18);
  // Both still finish with exactly their outputs.
  std::map<int64_t, int64_t> emitted;
  while (!s.idle()) {
    for (const SequenceOutcome& out : s.Complete(s.Schedule())) emitted[out.request_id] = out.tokens_emitted;
  }
  CHECK(emitted[0] == 40);
  CHECK(emitted[1] == 20);
}

TEST_CASE("prefix caching: a request sharing leading hash blocks starts after them") {
  SchedulerOptions o = Options(100);
  o.enable_prefix_caching = true;
  o.hash_block_tokens = 64;
  Scheduler s(o);
  // Request 0: 200 tokens, hash blocks [0,64) [64,128) [128,192) [192,200).
  REQUIRE(s.Add(MakeRequest(0, 200, 2, {1, 2, 3, 4})).ok());
  SchedulerStep step0 = s.Schedule();
  CHECK(step0.prefix_hit_tokens == 0);
  // ceil(200 / 16) = 13 blocks.
  CHECK(s.used_blocks() == 13);
  s.Complete(step0);

  // Request 1 shares hash_ids 1, 2 (128 tokens = 8 blocks of 16) and then differs. Its block 8 (tokens 128..143)
  // lies in its third hash block (9, not 3): a miss. So it starts after 128 cached tokens and computes
  // 150 - 128 = 22, holding ceil(150 / 16) = 10 blocks of which 8 are shared: 13 + 2 used.
  REQUIRE(s.Add(MakeRequest(1, 150, 2, {1, 2, 9})).ok());
  SchedulerStep step1 = s.Schedule();
  const ScheduledSequence& r1 = Find(step1, 1);
  CHECK(r1.computed_before == 128);
  CHECK(r1.new_tokens == 22);
  CHECK(step1.prefix_hit_tokens == 128);
  CHECK(step1.Shape().prefills.at(0).context == 128);
  CHECK(s.used_blocks() == 15);
  s.Complete(step1);

  // Request 2's whole 128-token prompt is cached, but vLLM recomputes at least the last token, and hits are whole
  // blocks: floor((128 - 1) / 16) = 7 blocks = 112 tokens, so it computes the last 16.
  REQUIRE(s.Add(MakeRequest(2, 128, 1, {1, 2})).ok());
  SchedulerStep step2 = s.Schedule();
  const ScheduledSequence& r2 = Find(step2, 2);
  CHECK(r2.computed_before == 112);
  CHECK(r2.new_tokens == 16);
  CHECK(r2.samples);
  CHECK(step2.prefix_hit_tokens == 112);

  // Without prefix caching nothing is found.
  o.enable_prefix_caching = false;
  Scheduler plain(o);
  REQUIRE(plain.Add(MakeRequest(0, 200, 2, {1, 2, 3, 4})).ok());
  plain.Complete(plain.Schedule());
  REQUIRE(plain.Add(MakeRequest(1, 150, 2, {1, 2, 9})).ok());
  SchedulerStep p1 = plain.Schedule();
  CHECK(Find(p1, 1).computed_before == 0);
  CHECK(p1.prefix_hit_tokens == 0);
}

TEST_CASE("freed cached blocks stay findable until reused, tail blocks evicted first") {
  SchedulerOptions o = Options(4);
  o.enable_prefix_caching = true;
  o.hash_block_tokens = 16;  // one hash per block
  Scheduler s(o);
  // Request 0 (32 tokens, 1 output) takes blocks 0 and 1 from the free queue [0 1 2 3], caches both, and finishes
  // in one step; its blocks are freed tail first, so the queue becomes [2 3 1 0].
  REQUIRE(s.Add(MakeRequest(0, 32, 1, {1, 2})).ok());
  CHECK(s.Complete(s.Schedule()).at(0).finished);
  CHECK(s.used_blocks() == 0);

  // Request 1 (48 tokens, hashes 7 8 9: no hit) takes 3 blocks from the head: 2, 3 and 1, which evicts request 0's
  // second block (hashes 1,2). Request 0's first block (hash 1) is still cached.
  REQUIRE(s.Add(MakeRequest(1, 48, 1, {7, 8, 9})).ok());
  SchedulerStep step1 = s.Schedule();
  CHECK(step1.prefix_hit_tokens == 0);
  CHECK(s.used_blocks() == 3);
  s.Complete(step1);

  // Request 2 (48 tokens, hashes 1 2 5) may hit floor(47 / 16) = 2 blocks: the first (hash 1) is found, the second
  // (hashes 1,2) was evicted: 16 cached tokens.
  REQUIRE(s.Add(MakeRequest(2, 48, 1, {1, 2, 5})).ok());
  SchedulerStep step2 = s.Schedule();
  CHECK(Find(step2, 2).computed_before == 16);
  CHECK(step2.prefix_hit_tokens == 16);
}

TEST_CASE("a request in a step still in flight is skipped until the step completes") {
  SchedulerOptions o = Options(1000);
  o.max_num_batched_tokens = 100;
  Scheduler s(o);
  REQUIRE(s.Add(MakeRequest(0, 10, 3)).ok());
  REQUIRE(s.Add(MakeRequest(1, 150, 3)).ok());
  // Step 0: request 0's prompt (10) and request 1's first chunk (90).
  SchedulerStep step0 = s.Schedule();
  CHECK(step0.Tokens() == 100);
  REQUIRE(s.Add(MakeRequest(2, 20, 3)).ok());
  // Step 1, formed before step 0 completes: requests 0 and 1 are in flight and skipped (vLLM would already give
  // request 1 its next chunk; this contract does not), so only request 2 is scheduled.
  SchedulerStep step1 = s.Schedule();
  REQUIRE(step1.sequences.size() == 1);
  CHECK(step1.sequences[0].request_id == 2);
  CHECK(s.in_flight() == 2);
  // Step 2, with both still in flight: nothing to do.
  SchedulerStep step2 = s.Schedule();
  CHECK(step2.empty());
  CHECK(s.in_flight() == 2);

  s.Complete(step0);
  // Step 3: request 0 decodes, request 1 gets its last 60 tokens; request 2 is still in flight in step 1.
  SchedulerStep step3 = s.Schedule();
  REQUIRE(step3.sequences.size() == 2);
  CHECK(Find(step3, 0).decode);
  CHECK(Find(step3, 1).new_tokens == 60);
  CHECK(Find(step3, 1).computed_before == 90);
  CHECK_FALSE(Contains(step3, 2));
  s.Complete(step1);
  s.Complete(step3);
  CHECK(s.in_flight() == 0);
}

TEST_CASE("Add refuses requests that can never run") {
  SchedulerOptions o = Options(4);
  o.max_model_len = 100;
  Scheduler s(o);
  // 90 + 11 = 101 > 100.
  Status too_long = s.Add(MakeRequest(7, 90, 11));
  CHECK(too_long.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(too_long.message(), Catch::Contains("request 7") && Catch::Contains("max_model_len 100"));
  // 60 + 6 - 1 = 65 tokens held at most: ceil(65 / 16) = 5 blocks > 4.
  Status too_big = s.Add(MakeRequest(8, 60, 6));
  CHECK(too_big.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(too_big.message(), Catch::Contains("request 8") && Catch::Contains("num_blocks 4"));
  // 60 + 5 - 1 = 64 tokens: exactly 4 blocks.
  CHECK(s.Add(MakeRequest(9, 60, 5)).ok());
  CHECK(s.Add(MakeRequest(9, 10, 1)).code() == StatusCode::kInvalidArgument);  // id already queued
  CHECK(s.Add(MakeRequest(10, 0, 1)).code() == StatusCode::kInvalidArgument);
  CHECK(s.waiting() == 1);

  // Without chunked prefill a request must be recomputable in one step: 99 + 2 - 1 = 100 fits a 100-token
  // budget, 100 + 2 - 1 = 101 does not.
  SchedulerOptions whole = Options(1000);
  whole.enable_chunked_prefill = false;
  whole.max_num_batched_tokens = 100;
  Scheduler w(whole);
  CHECK(w.Add(MakeRequest(0, 99, 2)).ok());
  Status over = w.Add(MakeRequest(1, 100, 2));
  CHECK(over.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(over.message(), Catch::Contains("request 1") && Catch::Contains("max_num_batched_tokens 100"));
}

// Runs a random workload to the end, checking the invariants at every step. Returns a digest of every step so
// two runs can be compared.
std::string RunRandomWorkload(const SchedulerOptions& options, int pipeline_depth, uint64_t seed) {
  RandomStream rng(seed);
  Scheduler s(options);
  struct Expect {
    int64_t prompt = 0;
    int64_t output = 0;
    int64_t emitted = 0;
    int64_t computed = -1;  // -1: waiting
    bool finished = false;
  };
  std::map<int64_t, Expect> requests;
  const int64_t total_requests = 120;
  int64_t next_id = 0;
  std::deque<SchedulerStep> in_flight;
  std::set<int64_t> in_flight_ids;
  std::string digest;
  int64_t iterations = 0;
  int64_t prefix_hit_tokens = 0;

  while (next_id < total_requests || !s.idle()) {
    REQUIRE(++iterations < 200000);  // no livelock
    // A few arrivals now and then.
    if (next_id < total_requests && rng.Bernoulli(0.3)) {
      Expect e;
      e.prompt = rng.UniformInt(1, 300);
      e.output = rng.UniformInt(1, 30);
      std::vector<int64_t> hashes;
      int64_t branch = rng.UniformInt(0, 2);  // three families of shared prefixes
      for (int64_t t = 0; t < e.prompt; t += options.hash_block_tokens) {
        hashes.push_back(branch * 1000 + t / options.hash_block_tokens + (rng.Bernoulli(0.2) ? 500 : 0));
      }
      REQUIRE(s.Add(MakeRequest(next_id, e.prompt, e.output, hashes)).ok());
      requests[next_id++] = e;
    }

    SchedulerStep step = s.Schedule();
    prefix_hit_tokens += step.prefix_hit_tokens;
    digest += std::to_string(step.id) + ":";
    CHECK(s.used_blocks() <= options.num_blocks);
    CHECK(s.running() <= options.max_num_seqs);
    CHECK(step.Tokens() <= options.max_num_batched_tokens);
    for (int64_t id : step.preempted) {
      CHECK(in_flight_ids.count(id) == 0);
      requests[id].computed = -1;
    }
    for (const ScheduledSequence& q : step.sequences) {
      digest += std::to_string(q.request_id) + "x" + std::to_string(q.new_tokens) + "@" +
                std::to_string(q.computed_before) + ",";
      Expect& e = requests.at(q.request_id);
      CHECK_FALSE(e.finished);
      CHECK(in_flight_ids.insert(q.request_id).second);  // never in two unfinished steps
      CHECK(q.new_tokens >= 1);
      if (e.computed < 0) {
        // Admitted: from scratch or after whole cached blocks, never the last token.
        CHECK(q.computed_before % options.block_size == 0);
        CHECK(q.computed_before < e.prompt + e.emitted);
        if (!options.enable_prefix_caching) CHECK(q.computed_before == 0);
      } else {
        CHECK(q.computed_before == e.computed);
      }
      e.computed = q.computed_before + q.new_tokens;
      CHECK(e.computed <= e.prompt + e.emitted);
      CHECK(q.samples == (e.computed == e.prompt + e.emitted));
      if (!options.enable_chunked_prefill && !q.decode) CHECK(q.samples);
    }
    if (!step.empty()) in_flight.push_back(step);
    CHECK(s.in_flight() == static_cast<int64_t>(in_flight.size()));

    // Complete the oldest step when the pipeline is full, or when nothing new could be scheduled.
    if (!in_flight.empty() && (static_cast<int>(in_flight.size()) >= pipeline_depth || step.empty())) {
      SchedulerStep done = in_flight.front();
      in_flight.pop_front();
      for (const SequenceOutcome& out : s.Complete(done)) {
        Expect& e = requests.at(out.request_id);
        in_flight_ids.erase(out.request_id);
        CHECK(out.emitted == (e.computed == e.prompt + e.emitted));
        if (out.emitted) ++e.emitted;
        CHECK(out.tokens_emitted == e.emitted);
        CHECK(out.finished == (e.emitted == e.output));
        e.finished = out.finished;
      }
    }
  }
  for (const auto& [id, e] : requests) {
    INFO("request " << id);
    CHECK(e.finished);
    CHECK(e.emitted == e.output);
  }
  CHECK(s.used_blocks() == 0);
  CHECK(s.in_flight() == 0);
  // The workload is heavy enough to preempt, and (with caching) to hit the cache; else this test proves little.
  CHECK(s.preemptions() > 0);
  if (options.enable_prefix_caching) CHECK(prefix_hit_tokens > 0);
  return digest;
}

TEST_CASE("every request of a random workload finishes with exactly its output tokens") {
  for (bool caching : {false, true}) {
    for (bool chunked : {true, false}) {
      for (int depth : {1, 3}) {
        SchedulerOptions o;
        o.num_blocks = 48;  // 768 tokens: a few requests at a time, so preemption is common
        o.block_size = 16;
        o.max_num_batched_tokens = 512;
        o.max_num_seqs = 8;
        o.enable_chunked_prefill = chunked;
        o.enable_prefix_caching = caching;
        o.hash_block_tokens = 32;
        INFO("caching " << caching << " chunked " << chunked << " depth " << depth);
        std::string a = RunRandomWorkload(o, depth, 17);
        std::string b = RunRandomWorkload(o, depth, 17);
        CHECK(a == b);  // deterministic
      }
    }
  }
}

}  // namespace
}  // namespace wiresim

namespace wiresim {
namespace {

// Speculative decoding, as vllm/v1/core/sched/scheduler.py runs it: 3 drafts per step, 3 lookahead slots (an
// EAGLE/MTP drafter), blocks of 4 tokens. A request of an 8-token prompt and 10 output tokens.
SchedulerOptions SpeculativeOptions() {
  SchedulerOptions o = Options(100);
  o.block_size = 4;
  o.num_speculative_tokens = 3;
  o.num_lookahead_tokens = 3;
  return o;
}

TEST_CASE("speculative decoding: drafts scheduled with the new token, rejected ones rolled back") {
  Scheduler s(SpeculativeOptions());
  REQUIRE(s.Add(MakeRequest(0, 8, 10)).ok());
  // Step 0: the prompt, no drafts yet; a waiting request gets no lookahead slots (num_computed_tokens is 0):
  // ceil(8 / 4) = 2 blocks.
  SchedulerStep prefill = s.Schedule();
  CHECK(Find(prefill, 0).new_tokens == 8);
  CHECK(Find(prefill, 0).draft_tokens == 0);
  CHECK(s.used_blocks() == 2);
  std::vector<SequenceOutcome> out = s.Complete(prefill);
  CHECK(Outcome(out, 0).new_tokens == 1);
  // Step 1: num_tokens_with_spec - num_computed = (8 + 1 + 3) - 8 = 4 tokens, 3 of them drafts; context 8 + 4 = 12.
  // Blocks for 8 + 4 tokens and 3 lookahead slots: ceil(15 / 4) = 4.
  SchedulerStep d1 = s.Schedule();
  const ScheduledSequence& q = Find(d1, 0);
  CHECK(q.decode);
  CHECK(q.new_tokens == 4);
  CHECK(q.draft_tokens == 3);
  CHECK(q.computed_before == 8);
  CHECK(s.used_blocks() == 4);
  const BatchShape shape = d1.Shape();
  CHECK(shape.decode_contexts == std::vector<int64_t>{12});
  CHECK(shape.decode_queries == std::vector<int64_t>{4});
  CHECK(shape.LogitRows() == 4);
  // One draft accepted: 2 tokens out (the draft and the sampler's own); the 2 rejected come off the computed
  // tokens: 12 - 2 = 10, one short of num_tokens 8 + 3 = 11.
  const std::vector<int64_t> one = {1};
  out = s.Complete(d1, one);
  CHECK(Outcome(out, 0).new_tokens == 2);
  CHECK(Outcome(out, 0).tokens_emitted == 3);
  // Step 2 starts from 10 computed: (11 + 3) - 10 = 4 tokens again.
  SchedulerStep d2 = s.Schedule();
  CHECK(Find(d2, 0).computed_before == 10);
  CHECK(Find(d2, 0).new_tokens == 4);
  const std::vector<int64_t> all = {3};
  out = s.Complete(d2, all);
  CHECK(Outcome(out, 0).tokens_emitted == 3 + 4);
  // Step 3: all three accepted would make 11 outputs, but max_tokens is 10: 3 come out and the request finishes,
  // its blocks freed.
  SchedulerStep d3 = s.Schedule();
  out = s.Complete(d3, all);
  CHECK(Outcome(out, 0).new_tokens == 3);
  CHECK(Outcome(out, 0).finished);
  CHECK(s.used_blocks() == 0);
  CHECK(s.idle());
}

TEST_CASE("speculative decoding: the token budget cuts the drafts, and a request must fit with its drafts") {
  SchedulerOptions o = SpeculativeOptions();
  o.max_num_batched_tokens = 2;
  Scheduler tight(o);
  REQUIRE(tight.Add(MakeRequest(0, 2, 10)).ok());
  tight.Complete(tight.Schedule());
  // Budget 2: the decode and one draft (vLLM trims spec_token_ids to what was scheduled).
  SchedulerStep step = tight.Schedule();
  CHECK(Find(step, 0).new_tokens == 2);
  CHECK(Find(step, 0).draft_tokens == 1);
  CHECK(step.Shape().decode_queries == std::vector<int64_t>{2});
  // At most prompt + output - 1 + 3 drafts + 3 lookahead slots are held: 2 + 10 - 1 + 6 = 17 tokens, 5 blocks of 4.
  SchedulerOptions few = SpeculativeOptions();
  few.num_blocks = 4;
  Scheduler small(few);
  CHECK_FALSE(small.Fits(MakeRequest(0, 2, 10)).ok());
  few.num_blocks = 5;
  Scheduler enough(few);
  CHECK(enough.Fits(MakeRequest(0, 2, 10)).ok());
}

}  // namespace
}  // namespace wiresim
