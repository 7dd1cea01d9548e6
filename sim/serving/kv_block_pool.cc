#include "sim/serving/kv_block_pool.h"

#include <algorithm>
#include <cstdint>

#include "sim/core/check.h"

namespace wiresim {

// vllm/v1/core/block_pool.py, BlockPool.__init__: at the start every block is free, in block order.
KvBlockPool::KvBlockPool(int64_t num_blocks) : num_blocks_(num_blocks), num_free_(num_blocks) {
  WIRESIM_CHECK_GT(num_blocks, 0);
  WIRESIM_CHECK_LE(num_blocks, int64_t{INT32_MAX});
}

int32_t KvBlockPool::FindCached(uint64_t key) const {
  auto it = cached_.find(key);
  return it == cached_.end() ? -1 : it->second.front();
}

// block_pool.py, BlockPool.touch: a hit on a block with no holder removes it from the free queue.
void KvBlockPool::Touch(int32_t block) {
  WIRESIM_CHECK_LT(block, fresh_) << "touching block " << block << ", never handed out";
  if (ref_count_[block] == 0) Unlink(block);
  ++ref_count_[block];
}

// block_pool.py, BlockPool.get_new_blocks: pops the free queue's head and evicts its hash (_maybe_evict_cached_block).
int32_t KvBlockPool::Allocate() {
  WIRESIM_CHECK_GT(num_free_, 0) << "allocate from a full KV cache";
  if (fresh_ < num_blocks_) {  // the queue's head is the first block never handed out
    const int32_t block = fresh_++;
    ref_count_.push_back(1);
    prev_.push_back(-1);
    next_.push_back(-1);
    key_.push_back(0);
    has_key_.push_back(false);
    --num_free_;
    return block;
  }
  int32_t block = head_;
  Unlink(block);
  DropKey(block);
  ref_count_[block] = 1;
  return block;
}

// block_pool.py, BlockPool.free_blocks: a block whose holder count drops to 0 is appended to the free queue.
void KvBlockPool::Release(int32_t block) {
  WIRESIM_CHECK(held(block)) << "block " << block << " released more often than held";
  if (--ref_count_[block] == 0) PushBack(block);
}

// block_pool.py, BlockPool.cache_full_blocks: a block already hashed stays as it is; a second block with the same
// hash is added beside the first (get_cached_block returns the first).
void KvBlockPool::Cache(int32_t block, uint64_t key) {
  WIRESIM_CHECK(held(block)) << "caching block " << block << " that nobody holds";
  if (has_key_[block]) return;
  has_key_[block] = true;
  key_[block] = key;
  cached_[key].push_back(block);
  ++num_cached_;
}

void KvBlockPool::Unlink(int32_t block) {
  int32_t p = prev_[block];
  int32_t n = next_[block];
  (p >= 0 ? next_[p] : head_) = n;
  (n >= 0 ? prev_[n] : tail_) = p;
  prev_[block] = next_[block] = -1;
  --num_free_;
}

void KvBlockPool::PushBack(int32_t block) {
  prev_[block] = tail_;
  next_[block] = -1;
  (tail_ >= 0 ? next_[tail_] : head_) = block;
  tail_ = block;
  ++num_free_;
}

void KvBlockPool::DropKey(int32_t block) {
  if (!has_key_[block]) return;
  auto it = cached_.find(key_[block]);
  WIRESIM_CHECK(it != cached_.end());
  std::vector<int32_t>& blocks = it->second;
  blocks.erase(std::find(blocks.begin(), blocks.end(), block));
  if (blocks.empty()) cached_.erase(it);
  has_key_[block] = false;
  --num_cached_;
}

}  // namespace wiresim
