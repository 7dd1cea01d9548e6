// KernelShape: one GPU kernel as a kernel-time model sees it: its kind, its GEMM dimensions where it has them, and
// the FLOPs and HBM bytes it costs. Plain data, built once per shape by the constructors below and timed by a
// KernelTimeModel (kernel_time_model.h) as often as the simulator needs.
//
//   KernelShape qkv = GemmKernel(/*m=*/tokens, /*n=*/1280, /*k=*/8192, DataType::kBFloat16, DataType::kBFloat16);
//   KernelShape attn = DecodeAttentionKernel(heads, contexts);   // heads: AttentionHeads, contexts: KV lengths
//   Time t = model.KernelTime(qkv);
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "sim/core/dtype.h"

namespace wiresim {

enum class KernelKind {
  kGemm,              // dense y[m, n] = x[m, k] W[k, n], `batch` of them (a batched GEMM)
  kGroupedGemm,       // MoE experts: `batch` experts, each y[m, n] = x[m, k] W_e[k, n]
  kAttentionPrefill,  // causal attention of new tokens over their context (FlashAttention-like)
  kAttentionDecode,   // one query token per sequence over its whole KV cache (FlashDecoding-like)
  kMemoryBound,       // norms, activations, rotary embeddings, sampling, embedding lookups: bytes, not FLOPs
};

std::string_view ToString(KernelKind kind);

struct KernelShape {
  KernelKind kind = KernelKind::kMemoryBound;
  int64_t m = 0;
  int64_t n = 0;
  int64_t k = 0;
  int64_t batch = 1;
  DataType dtype = DataType::kBFloat16;         // inputs and the tensor-core path
  DataType weight_dtype = DataType::kBFloat16;  // W as stored in memory (int4 weight-only is dequantized on load)
  double flops = 0;                             // floating-point operations (multiply-add = 2)
  double bytes = 0;                             // bytes read from and written to GPU memory
};

// A GEMM: flops 2·batch·m·n·k; bytes batch·(m·k·a + k·n·w + m·n·o) with a and w the input and weight element
// sizes and o the output's (fp32 for fp32 inputs, else 16-bit). m == 0 is an empty kernel.
KernelShape GemmKernel(int64_t m, int64_t n, int64_t k, DataType dtype, DataType weight_dtype, int64_t batch = 1);
// Routed experts of one MoE layer on one GPU: `experts` local experts with `tokens_per_expert` tokens each.
// Only experts that receive tokens read their weights.
KernelShape GroupedGemmKernel(int64_t experts, int64_t tokens_per_expert, int64_t n, int64_t k, DataType dtype,
                              DataType weight_dtype);

// The heads one GPU computes in one attention layer, and what its KV cache holds per token.
struct AttentionHeads {
  int64_t q_heads = 0;
  int64_t qk_dim = 0;             // query/key width per head
  int64_t v_dim = 0;              // value width per head
  double kv_bytes_per_token = 0;  // this layer's KV cache on this GPU, per token
  DataType dtype = DataType::kBFloat16;
};

// A prefill chunk: `tokens` new tokens after `context` tokens already in the KV cache.
struct AttentionChunk {
  int64_t tokens = 0;
  int64_t context = 0;
};

// Causal attention over chunks. A chunk of q tokens after c cached ones scores q·c + q(q+1)/2 query-key pairs;
// flops = 2·heads·(qk + v)·pairs. bytes: Q and O once, and the KV of all c + q positions once. k: the mean keys a
// query attends to, c + (q + 1) / 2 per chunk, weighted by the chunks' pairs (the roofline's rate depends on it).
KernelShape PrefillAttentionKernel(const AttentionHeads& heads, std::span<const AttentionChunk> chunks);
// Decode: one query per sequence over its `context` cached tokens (the new one included).
// flops = 2·heads·(qk + v)·Σ context; bytes = Σ context · kv_bytes_per_token + Q and O.
// With `queries` (per sequence, parallel to contexts; speculative decoding's verification), q queries whose
// context ends with them: query i of q sees context - q + 1 + i keys, q·context - q(q - 1)/2 pairs; the KV is
// still read once, Q and O q times.
KernelShape DecodeAttentionKernel(const AttentionHeads& heads, std::span<const int64_t> contexts,
                                  std::span<const int64_t> queries = {});
KernelShape MemoryBoundKernel(double bytes, double flops = 0);

}  // namespace wiresim
