// BatchShape: what one iteration of a replica computes: prefill chunks (new prompt tokens after some already
// cached) and decoding sequences (one new token each, attending over their cached context; with speculative
// decoding, the new token and the draft tokens it verifies), as a continuous-batching scheduler with chunked prefill
// forms them. The step graph is built for one BatchShape.
//
//   WIRESIM_ASSIGN_OR_RETURN(BatchShape b, ParseBatch("prefill=1x2048,decode=64x1024"));
//   b.Tokens();   // 2048 + 64 = 2112
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/status.h"

namespace wiresim {

// The most draft tokens a decode verifies per step (speculative decoding's num_speculative_tokens): a bound on what
// a run accepts, above any method's useful range (acceptance falls with each position).
inline constexpr int64_t kMaxDraftTokens = 32;

// Bounds on one iteration's batch (ParseBatch), far above what any scheduler forms (vLLM's max_num_seqs is 256 to
// 1,024, its max_num_batched_tokens 8K to 64K), and low enough that every kernel time of the step fits a Time: at
// most 2^20 sequences and padding rows, 2^24 rows (tokens) through each GEMM, and 2^31 tokens of context (new and
// cached) over the batch, the KV cache its attention reads.
inline constexpr int64_t kMaxBatchSequences = int64_t{1} << 20;
inline constexpr int64_t kMaxBatchRows = int64_t{1} << 24;
inline constexpr int64_t kMaxBatchContext = int64_t{1} << 31;

// Which part of serving an op belongs to: a batch of only prefill chunks, of only decodes, or both.
enum class Phase { kPrefill, kDecode, kMixed };
std::string_view ToString(Phase phase);

struct PrefillChunk {
  int64_t tokens = 0;   // new prompt tokens computed in this iteration
  int64_t context = 0;  // tokens of the same prompt already in the KV cache (earlier chunks)
  bool last = true;     // the chunk ends the prompt, so its sequence samples its first output token
};

struct BatchShape {
  std::vector<PrefillChunk> prefills;
  std::vector<int64_t> decode_contexts;  // per decoding sequence: tokens in its KV cache, the new ones included
  // Per decoding sequence (parallel to decode_contexts): the query tokens it computes, 1 + the draft tokens it
  // verifies under speculative decoding; each is a row of every GEMM and gets its logits. Empty: 1 each.
  std::vector<int64_t> decode_queries;
  // Rows a CUDA graph adds to reach its captured size: they pass through every GEMM, norm and collective like a
  // token, but attend to nothing and sample nothing (they change neither the phase nor the KV cache).
  int64_t padding = 0;

  int64_t Tokens() const;      // rows: prefill chunk tokens, each decode's queries, and the padding
  int64_t DecodeRows() const;  // the decodes' query tokens (their number without speculation)
  int64_t Queries(size_t decode) const { return decode_queries.empty() ? 1 : decode_queries[decode]; }
  // Rows whose logits the LM head computes: every decode query, and the last token of a chunk that ends its prompt.
  int64_t LogitRows() const;
  // Tokens of KV cache the batch's sequences hold after this iteration, each sequence in whole blocks of
  // `block_size` tokens (a paged cache: ceil(tokens / block_size) blocks each). REQUIRES: block_size >= 1.
  int64_t KvCacheTokens(int64_t block_size) const;
  Phase phase() const;
  bool empty() const { return prefills.empty() && decode_contexts.empty(); }
  // "prefill=1x2048,decode=64x1024" (the form ParseBatch reads).
  std::string ToString() const;
};

// Items joined by commas: "prefill=NxT" (N chunks of T new tokens), "prefill=NxT@C" (after C cached tokens),
// "decode=NxC" (N sequences with C tokens of context each), "decode=NxC+D" (each verifying D draft tokens: 1 + D
// queries, the context counting them), "pad=N" (N padding rows). Errors say what an item should look like, and
// name the bound a batch passes (kMaxBatchSequences, kMaxBatchRows, kMaxBatchContext).
Result<BatchShape> ParseBatch(std::string_view text);

}  // namespace wiresim
