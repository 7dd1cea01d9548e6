#include "sim/compute/kernel.h"

#include <cmath>

#include "sim/core/check.h"

namespace wiresim {
namespace {

double OutputBytes(DataType dtype) { return dtype == DataType::kFloat32 || dtype == DataType::kFloat64 ? 4 : 2; }

// Bytes per weight as stored; int4 carries a 16-bit scale and zero point per 128 weights (AWQ/GPTQ layout).
double WeightElementBytes(DataType weight_dtype) {
  return weight_dtype == DataType::kInt4 ? 0.5 + 4.0 / 128.0 : BytesPerElement(weight_dtype);
}

// Activations enter a weight-only int4 GEMM at 16 bits.
double InputBytes(DataType dtype) { return dtype == DataType::kInt4 ? 2 : BytesPerElement(dtype); }

}  // namespace

std::string_view ToString(KernelKind kind) {
  switch (kind) {
    case KernelKind::kGemm:
      return "gemm";
    case KernelKind::kGroupedGemm:
      return "grouped_gemm";
    case KernelKind::kAttentionPrefill:
      return "attention_prefill";
    case KernelKind::kAttentionDecode:
      return "attention_decode";
    case KernelKind::kMemoryBound:
      return "memory_bound";
  }
  return "?";
}

KernelShape GemmKernel(int64_t m, int64_t n, int64_t k, DataType dtype, DataType weight_dtype, int64_t batch) {
  WIRESIM_CHECK(m >= 0 && n > 0 && k > 0 && batch > 0) << "GEMM " << m << "x" << n << "x" << k << " batch " << batch;
  KernelShape s;
  s.kind = KernelKind::kGemm;
  s.m = m;
  s.n = n;
  s.k = k;
  s.batch = batch;
  s.dtype = dtype;
  s.weight_dtype = weight_dtype;
  const double b = static_cast<double>(batch);
  const double dm = static_cast<double>(m), dn = static_cast<double>(n), dk = static_cast<double>(k);
  s.flops = 2.0 * b * dm * dn * dk;
  s.bytes = m == 0 ? 0
                   : b * (dm * dk * InputBytes(dtype) + dk * dn * WeightElementBytes(weight_dtype) +
                          dm * dn * OutputBytes(dtype));
  return s;
}

KernelShape GroupedGemmKernel(int64_t experts, int64_t tokens_per_expert, int64_t n, int64_t k, DataType dtype,
                              DataType weight_dtype) {
  KernelShape s = GemmKernel(tokens_per_expert, n, k, dtype, weight_dtype, experts);
  s.kind = KernelKind::kGroupedGemm;
  return s;
}

KernelShape PrefillAttentionKernel(const AttentionHeads& h, std::span<const AttentionChunk> chunks) {
  KernelShape s;
  s.kind = KernelKind::kAttentionPrefill;
  s.dtype = h.dtype;
  s.weight_dtype = h.dtype;
  const double e = BytesPerElement(h.dtype);
  const double heads = static_cast<double>(h.q_heads);
  double weighted_keys = 0, all_pairs = 0;
  for (const AttentionChunk& c : chunks) {
    const double q = static_cast<double>(c.tokens), ctx = static_cast<double>(c.context);
    const double pairs = q * ctx + q * (q + 1) / 2;
    s.flops += 2.0 * heads * static_cast<double>(h.qk_dim + h.v_dim) * pairs;
    s.bytes += q * heads * static_cast<double>(h.qk_dim + h.v_dim) * e + (ctx + q) * h.kv_bytes_per_token;
    s.m += c.tokens;
    weighted_keys += pairs * (ctx + (q + 1) / 2);  // the chunk's mean keys per query, weighted by its work
    all_pairs += pairs;
  }
  s.k = all_pairs > 0 ? static_cast<int64_t>(std::llround(weighted_keys / all_pairs)) : 0;
  s.batch = static_cast<int64_t>(chunks.size());
  return s;
}

KernelShape DecodeAttentionKernel(const AttentionHeads& h, std::span<const int64_t> contexts,
                                  std::span<const int64_t> queries) {
  KernelShape s;
  s.kind = KernelKind::kAttentionDecode;
  s.dtype = h.dtype;
  s.weight_dtype = h.dtype;
  const double e = BytesPerElement(h.dtype);
  const double heads = static_cast<double>(h.q_heads);
  for (size_t i = 0; i < contexts.size(); ++i) {
    const double c = static_cast<double>(contexts[i]);
    const double q = queries.empty() ? 1.0 : static_cast<double>(queries[i]);
    const double pairs = q * c - q * (q - 1) / 2;
    s.flops += 2.0 * heads * static_cast<double>(h.qk_dim + h.v_dim) * pairs;
    s.bytes += c * h.kv_bytes_per_token + q * heads * static_cast<double>(h.qk_dim + h.v_dim) * e;
  }
  s.m = static_cast<int64_t>(contexts.size());
  s.batch = s.m;
  return s;
}

KernelShape MemoryBoundKernel(double bytes, double flops) {
  KernelShape s;
  s.kind = KernelKind::kMemoryBound;
  s.bytes = bytes;
  s.flops = flops;
  return s;
}

}  // namespace wiresim
