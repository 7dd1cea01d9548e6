// KvBlockPool: the paged KV cache of one replica as vLLM v1's BlockPool (vllm/v1/core/block_pool.py) keeps it:
// num_blocks blocks, each referenced by the requests that hold it, and a free queue of unreferenced blocks in
// eviction order (least recently freed first). With prefix caching a full block carries a key naming its content
// (and everything before it); a freed block keeps its key, so later requests still find it, until it is taken
// from the free queue for new tokens.
//
//   KvBlockPool pool(1000);
//   int32_t b = pool.Allocate();          // pool.num_free() == 999
//   pool.Cache(b, key);                   // full block, findable under `key`
//   pool.Release(b);                      // free again, still cached: pool.FindCached(key) == b
//   pool.Touch(pool.FindCached(key));     // a cache hit takes it off the free queue
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace wiresim {

class KvBlockPool {
 public:
  // REQUIRES: num_blocks > 0.
  explicit KvBlockPool(int64_t num_blocks);
  KvBlockPool(const KvBlockPool&) = delete;
  KvBlockPool& operator=(const KvBlockPool&) = delete;

  int64_t num_blocks() const { return num_blocks_; }
  // Blocks no request holds, cached ones included (they are evicted when taken).
  int64_t num_free() const { return num_free_; }
  int64_t num_used() const { return num_blocks() - num_free_; }
  // Blocks that carry a key (held or free).
  int64_t num_cached() const { return num_cached_; }

  // A block cached under `key`, or -1. When several blocks carry the key, the one cached first.
  int32_t FindCached(uint64_t key) const;
  bool held(int32_t block) const { return block < fresh_ && ref_count_[block] > 0; }

  // One more holder for `block` (a cache hit); a free block leaves the free queue.
  void Touch(int32_t block);
  // Takes the free queue's head (the least recently freed block), drops its key, and gives it one holder.
  // REQUIRES: num_free() > 0.
  int32_t Allocate();
  // One holder fewer; a block nobody holds joins the tail of the free queue.
  void Release(int32_t block);
  // Names `block`'s content. A block that already has a key keeps it. REQUIRES: held(block).
  void Cache(int32_t block, uint64_t key);

 private:
  void Unlink(int32_t block);
  void PushBack(int32_t block);
  void DropKey(int32_t block);

  int64_t num_blocks_ = 0;
  // The free queue is blocks [fresh_, num_blocks_) in order, never handed out yet, then a doubly linked list of
  // released blocks threaded through them (-1 ends it): the order of vLLM's queue, which starts as every block in
  // order, without touching a block before it is first used. The per-block vectors cover [0, fresh_).
  int32_t fresh_ = 0;
  std::vector<int32_t> ref_count_;
  std::vector<int32_t> prev_;
  std::vector<int32_t> next_;
  int32_t head_ = -1;
  int32_t tail_ = -1;
  int64_t num_free_ = 0;
  std::vector<uint64_t> key_;
  std::vector<bool> has_key_;
  int64_t num_cached_ = 0;
  // Looked up by key only, never iterated, so its order cannot steer a decision. Blocks in caching order.
  std::unordered_map<uint64_t, std::vector<int32_t>> cached_;
};

}  // namespace wiresim
