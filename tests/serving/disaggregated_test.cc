// Tests for the parts of disaggregated serving below the run: where a request's KV cache goes between a prefill
// and a decode replica (kv_transfer.h), and the scheduler's side of the handoff (a prefill replica holding a
// finished request's blocks, a decode replica admitting a request whose KV has arrived). Expected values are
// derived by hand in the comments.
#include "sim/serving/disaggregated.h"

#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "sim/serving/kv_transfer.h"
#include "sim/serving/scheduler.h"

namespace wiresim {
namespace {

// Llama-3.1-70B's attention (HF config): 80 layers, 8 KV heads of 128, KV cache in bf16.
ModelSpec Llama70b() {
  ModelSpec m;
  m.name = "llama-3.1-70b";
  m.hidden_size = 8192;
  m.num_layers = 80;
  m.num_attention_heads = 64;
  m.num_kv_heads = 8;
  m.head_dim = 128;
  m.intermediate_size = 28672;
  m.vocab_size = 128256;
  return m;
}

std::vector<int> Gpus(int first, int count) {
  std::vector<int> g;
  for (int i = 0; i < count; ++i) g.push_back(first + i);
  return g;
}

ParallelPlan Plan(int tp, int pp) {
  ParallelPlan p;
  p.tp = tp;
  p.pp = pp;
  return p;
}

TEST_CASE("KV layout: tp=8 to tp=8 sends each rank's own head to its peer") {
  const ModelSpec m = Llama70b();
  const KvTransferLayout l = LayoutKvTransfer(m, Plan(8, 1), Gpus(0, 8), Plan(8, 1), Gpus(8, 8));
  REQUIRE(l.layers.size() == 80);
  for (const std::vector<KvPiece>& layer : l.layers) {
    REQUIRE(layer.size() == 8);
    for (int i = 0; i < 8; ++i) {
      // Rank i holds KV head i: K and V of 128 bf16 elements = 2 x 128 x 2 = 512 bytes per token.
      CHECK(layer[static_cast<size_t>(i)].src_gpu == i);
      CHECK(layer[static_cast<size_t>(i)].dst_gpu == 8 + i);
      CHECK(layer[static_cast<size_t>(i)].bytes_per_token == 512);
    }
  }
  // Every head once: the model's KV per token, 80 x 2 x 8 x 128 x 2 = 327,680 bytes.
  CHECK(l.BytesPerToken() == 327680);
  CHECK(l.BytesPerToken() == m.KvBytesPerToken());
}

TEST_CASE("KV layout: tp=2 to tp=4 splits each prefill rank's heads over two decode ranks") {
  const ModelSpec m = Llama70b();
  const KvTransferLayout l = LayoutKvTransfer(m, Plan(2, 1), {0, 1}, Plan(4, 1), {10, 11, 12, 13});
  // Prefill rank 0 holds heads 0-3, rank 1 heads 4-7; decode rank j holds heads 2j, 2j+1: ranks 10, 11 get theirs
  // from GPU 0, ranks 12, 13 from GPU 1, two heads (1,024 bytes per token) each.
  const std::vector<KvPiece>& layer = l.layers[0];
  REQUIRE(layer.size() == 4);
  const int src[] = {0, 0, 1, 1};
  for (int j = 0; j < 4; ++j) {
    CHECK(layer[static_cast<size_t>(j)].src_gpu == src[j]);
    CHECK(layer[static_cast<size_t>(j)].dst_gpu == 10 + j);
    CHECK(layer[static_cast<size_t>(j)].bytes_per_token == 1024);
  }
  CHECK(l.BytesPerToken() == m.KvBytesPerToken());
}

TEST_CASE("KV layout: pipeline stages send their own layers") {
  const ModelSpec m = Llama70b();
  // Prefill tp=1, pp=2: layers 0-39 on GPU 0, 40-79 on GPU 1. Decode tp=1, pp=1 on GPU 5.
  const KvTransferLayout l = LayoutKvTransfer(m, Plan(1, 2), {0, 1}, Plan(1, 1), {5});
  CHECK(l.layers[39].size() == 1);
  CHECK(l.layers[39][0].src_gpu == 0);
  CHECK(l.layers[40][0].src_gpu == 1);
  const std::vector<KvPairShare> pairs = PairShares(l);
  REQUIRE(pairs.size() == 2);
  CHECK(pairs[0].layers.size() == 40);
  CHECK(pairs[1].layers.front() == 40);
  // One rank holds all 8 heads: 2 x 8 x 128 x 2 = 4,096 bytes per token per layer.
  CHECK(pairs[0].bytes_per_token == 4096);
}

TEST_CASE("KV layout: more TP ranks than KV heads: each decode rank gets its head from a different holder") {
  ModelSpec m = Llama70b();
  m.num_kv_heads = 2;
  // tp=4 over 2 heads: ranks 0, 1 hold head 0, ranks 2, 3 head 1. Decode rank j needs head j / 2, from prefill
  // rank 2 (j / 2) + j % 2 = j: each pair carries one head, 512 bytes, and the replicated heads go twice.
  const KvTransferLayout l = LayoutKvTransfer(m, Plan(4, 1), Gpus(0, 4), Plan(4, 1), Gpus(4, 4));
  REQUIRE(l.layers[0].size() == 4);
  for (int j = 0; j < 4; ++j) CHECK(l.layers[0][static_cast<size_t>(j)].src_gpu == j);
  CHECK(l.BytesPerToken() == 2 * m.KvBytesPerToken());
}

TEST_CASE("kv_transfer names") {
  CHECK(ParseKvTransferMode("after_prefill") == KvTransferMode::kAfterPrefill);
  CHECK(ParseKvTransferMode("after-prefill") == KvTransferMode::kAfterPrefill);
  CHECK(ParseKvTransferMode("layerwise") == KvTransferMode::kLayerwise);
  CHECK(!ParseKvTransferMode("eager"));
}

Request MakeRequest(int64_t id, int64_t input, int64_t output) {
  Request r;
  r.id = id;
  r.input_tokens = input;
  r.output_tokens = output;
  return r;
}

TEST_CASE("A prefill replica holds a finished request's blocks until released") {
  SchedulerOptions o;
  o.num_blocks = 100;
  o.hold_finished_kv = true;
  Scheduler s(o);
  REQUIRE(s.Add(MakeRequest(0, 100, 1)).ok());
  const SchedulerStep step = s.Schedule();
  // One step computes the 100-token prompt: ceil(100 / 16) = 7 blocks; its one token finishes it.
  REQUIRE(step.sequences.size() == 1);
  const std::vector<SequenceOutcome> out = s.Complete(step);
  CHECK(out[0].finished);
  CHECK(s.used_blocks() == 7);
  CHECK(s.held() == 1);
  CHECK(s.idle());
  s.ReleaseHeld(0);
  CHECK(s.used_blocks() == 0);
  CHECK(s.held() == 0);
}

TEST_CASE("A decode replica admits a request with its KV moved in and recomputes the prompt's last token") {
  SchedulerOptions o;
  o.num_blocks = 100;
  Scheduler s(o);
  REQUIRE(s.AddTransferred(MakeRequest(3, 100, 3), 99).ok());
  SchedulerStep step = s.Schedule();
  REQUIRE(step.sequences.size() == 1);
  // First step: token 100 of the prompt after 99 moved in, as a one-token chunk that samples output token 1;
  // the blocks cover all 100 prompt tokens: ceil(100 / 16) = 7.
  CHECK(step.sequences[0].new_tokens == 1);
  CHECK(step.sequences[0].computed_before == 99);
  CHECK(step.sequences[0].samples);
  CHECK_FALSE(step.sequences[0].decode);
  CHECK(step.admitted == std::vector<int64_t>{3});
  CHECK(s.used_blocks() == 7);
  std::vector<SequenceOutcome> out = s.Complete(step);
  CHECK(out[0].emitted);
  CHECK(out[0].tokens_emitted == 1);
  // Then two decodes over 101 and 102 tokens; the last finishes it and frees the blocks.
  for (int64_t context : {101, 102}) {
    step = s.Schedule();
    REQUIRE(step.sequences.size() == 1);
    CHECK(step.sequences[0].decode);
    CHECK(step.sequences[0].computed_before + 1 == context);
    out = s.Complete(step);
  }
  CHECK(out[0].finished);
  CHECK(s.used_blocks() == 0);
}

TEST_CASE("A request whose KV arrives waits in the decode queue while the pool is full") {
  SchedulerOptions o;
  o.num_blocks = 10;
  Scheduler s(o);
  // Request 0 holds ceil(150 / 16) = 10 blocks (all of them) for its first step; request 1 needs 7.
  REQUIRE(s.AddTransferred(MakeRequest(0, 150, 2), 149).ok());
  REQUIRE(s.AddTransferred(MakeRequest(1, 100, 2), 99).ok());
  SchedulerStep step = s.Schedule();
  CHECK(step.admitted == std::vector<int64_t>{0});
  CHECK(s.waiting() == 1);
  s.Complete(step);
  step = s.Schedule();  // request 0's last token: 150 + 1 tokens need 10 blocks still; 1 cannot enter
  CHECK(step.admitted.empty());
  s.Complete(step);  // request 0 finished: its 10 blocks are free
  step = s.Schedule();
  CHECK(step.admitted == std::vector<int64_t>{1});
  CHECK(step.sequences[0].computed_before == 99);
}

}  // namespace
}  // namespace wiresim
