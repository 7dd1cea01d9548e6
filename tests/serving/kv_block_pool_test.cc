// KvBlockPool against vLLM v1's BlockPool (vllm/v1/core/block_pool.py): its free queue starts as every block in
// order, a freed block joins the tail, allocation takes the head and evicts the head's cached content, and a cache
// hit takes a free block off the queue wherever it is.
#include "sim/serving/kv_block_pool.h"

#include <catch2/catch.hpp>

namespace wiresim {
namespace {

TEST_CASE("KV block pool: blocks never used come first, in order, then freed ones in the order they were freed") {
  KvBlockPool pool(5);
  CHECK(pool.num_blocks() == 5);
  CHECK(pool.num_free() == 5);
  const int32_t a = pool.Allocate();
  const int32_t b = pool.Allocate();
  CHECK(a == 0);
  CHECK(b == 1);
  CHECK_FALSE(pool.held(4));  // never handed out
  pool.Release(b);            // queue: 2 3 4 | 1
  pool.Release(a);            // queue: 2 3 4 | 1 0
  CHECK(pool.num_free() == 5);
  CHECK(pool.num_used() == 0);
  // The three never used, then 1 and 0 as they were freed.
  std::vector<int32_t> order;
  for (int i = 0; i < 5; ++i) order.push_back(pool.Allocate());
  CHECK(order == std::vector<int32_t>{2, 3, 4, 1, 0});
  CHECK(pool.num_free() == 0);
}

TEST_CASE("KV block pool: a freed block keeps its content until it is taken, and a hit takes it off the queue") {
  KvBlockPool pool(4);
  const int32_t x = pool.Allocate();  // 0
  const int32_t y = pool.Allocate();  // 1
  pool.Cache(x, 11);
  pool.Cache(y, 22);
  CHECK(pool.num_cached() == 2);
  pool.Release(x);  // queue: 2 3 | 0
  pool.Release(y);  // queue: 2 3 | 0 1
  CHECK(pool.FindCached(11) == 0);
  CHECK(pool.FindCached(22) == 1);
  // A hit on 1 takes it from the queue's middle: the next four allocations see 2, 3, 0 and nothing else.
  pool.Touch(pool.FindCached(22));
  CHECK(pool.held(1));
  CHECK(pool.num_free() == 2 + 1);
  CHECK(pool.Allocate() == 2);
  CHECK(pool.Allocate() == 3);
  CHECK(pool.FindCached(11) == 0);  // still findable: never taken
  CHECK(pool.Allocate() == 0);      // taken for new tokens: its content is evicted
  CHECK(pool.FindCached(11) == -1);
  CHECK(pool.FindCached(22) == 1);
  CHECK(pool.num_cached() == 1);
  CHECK(pool.num_free() == 0);
}

}  // namespace
}  // namespace wiresim
