#include "sim/compute/roofline.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "sim/core/check.h"
#include "sim/core/text.h"

namespace wiresim {
namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The fraction of SM slots busy over all waves when `tiles` output tiles run on `sms` SMs. Fewer tiles than SMs
// is not penalised: libraries split K (or use stream-K) to fill the machine.
// `tiles` is a double: a GEMM from `compute gemm` may have more tiles than an int64 counts (2^24 each of batch, m
// and n, over tiles of one row); below 2^53 the quotient and its ceiling are exact.
double WaveEfficiency(double tiles, int sms) {
  if (tiles < sms) return 1.0;
  const double waves = std::ceil(tiles / sms);
  return tiles / (waves * sms);
}

}  // namespace

Result<RooflineParams> ParseRooflineParams(std::string_view text, RooflineParams base) {
  struct Field {
    std::string_view name;
    double* number;
    int64_t* integer;
  };
  RooflineParams p = base;
  const Field fields[] = {{"gemm_efficiency", &p.gemm_efficiency, nullptr},
                          {"memory_efficiency", &p.memory_efficiency, nullptr},
                          {"gemm_k_half", &p.gemm_k_half, nullptr},
                          {"gemm_k_step_ns", &p.gemm_k_step_ns, nullptr},
                          {"tile_m", nullptr, &p.tile_m},
                          {"tile_n", nullptr, &p.tile_n},
                          {"m_granularity", nullptr, &p.m_granularity},
                          {"gemm_overhead_us", &p.gemm_overhead_us, nullptr},
                          {"attention_efficiency", &p.attention_efficiency, nullptr},
                          {"attention_keys_half", &p.attention_keys_half, nullptr},
                          {"attention_memory_efficiency", &p.attention_memory_efficiency, nullptr},
                          {"attention_overhead_us", &p.attention_overhead_us, nullptr},
                          {"memory_bound_overhead_us", &p.memory_bound_overhead_us, nullptr}};
  for (std::string_view item : Split(text, ',')) {
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    const std::string_view key = item.substr(0, eq);
    const Field* field = nullptr;
    for (const Field& f : fields)
      if (f.name == key) field = &f;
    if (eq == std::string_view::npos || field == nullptr) {
      std::string names;
      for (const Field& f : fields) names += (names.empty() ? "" : ", ") + std::string(f.name);
      return InvalidArgument("roofline parameter '" + std::string(item) + "': expected NAME=VALUE with NAME one of " +
                             names);
    }
    const std::string value(item.substr(eq + 1));
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    // Integers (tiles, granularity) are whole numbers from 1 to 2^16, so a cast and the tile counts stay exact;
    // an efficiency is above 0; every value is finite. A time these make too long for a simulation to hold is
    // refused where it is formed (compute gemm).
    const bool positive_only = field->integer != nullptr || key.find("efficiency") != std::string_view::npos;
    if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(v) || v < 0 ||
        (positive_only && v <= 0) || (field->integer != nullptr && (v > 65536 || v != std::floor(v)))) {
      return InvalidArgument("roofline parameter '" + std::string(item) + "': bad value (expected a finite number" +
                             (field->integer != nullptr ? std::string(", whole, from 1 to 65536")
                              : positive_only           ? std::string(" above 0")
                                                        : std::string(" from 0")) +
                             ")");
    }
    if (field->number != nullptr) *field->number = v;
    if (field->integer != nullptr) *field->integer = static_cast<int64_t>(v);
  }
  return p;
}

RooflineModel::RooflineModel(const GpuSpec& gpu, RooflineParams params)
    : gpu_(gpu), params_(params), tensor_scale_(SustainedTensorScale(gpu)) {
  WIRESIM_CHECK(gpu_.sm_count > 0 && gpu_.memory_bandwidth > 0 && gpu_.bf16_flops > 0) << gpu_.name;
}

double RooflineModel::GemmSeconds(int64_t m, int64_t n, int64_t k, int64_t batch, DataType dtype, double bytes) const {
  const RooflineParams& p = params_;
  const double tiles = static_cast<double>(batch) * static_cast<double>(CeilDiv(m, p.tile_m)) *
                       static_cast<double>(CeilDiv(n, p.tile_n));
  const int64_t padded_m = CeilDiv(m, p.m_granularity) * p.m_granularity;
  const double k_efficiency = static_cast<double>(k) / (static_cast<double>(k) + p.gemm_k_half);
  const double rate =
      PeakFlops(gpu_, dtype) * tensor_scale_ * p.gemm_efficiency * k_efficiency * WaveEfficiency(tiles, gpu_.sm_count);
  const double compute = 2.0 * static_cast<double>(batch) * static_cast<double>(padded_m) * static_cast<double>(n) *
                         static_cast<double>(k) / rate;
  const double memory = bytes / (gpu_.memory_bandwidth * p.memory_efficiency);
  return std::max(compute, memory);
}

double RooflineModel::KernelSeconds(const KernelShape& s) const {
  const RooflineParams& p = params_;
  switch (s.kind) {
    case KernelKind::kGemm:
    case KernelKind::kGroupedGemm: {
      if (s.m == 0) return 0;
      const double seconds = p.gemm_overhead_us * 1e-6 + p.gemm_k_step_ns * 1e-9 * static_cast<double>(s.k) +
                             GemmSeconds(s.m, s.n, s.k, s.batch, s.dtype, s.bytes);
      return seconds;
    }
    case KernelKind::kAttentionPrefill:
    case KernelKind::kAttentionDecode: {
      if (s.flops == 0 && s.bytes == 0) return 0;
      // A prefill kernel carries its mean keys per query in k (PrefillAttentionKernel); decode attention is
      // bandwidth-bound, its compute at the full rate.
      const double keys = static_cast<double>(s.k);
      const double length = s.k > 0 ? keys / (keys + p.attention_keys_half) : 1.0;
      const double compute = s.flops / (PeakFlops(gpu_, s.dtype) * tensor_scale_ * p.attention_efficiency * length);
      const double memory = s.bytes / (gpu_.memory_bandwidth * p.attention_memory_efficiency);
      return p.attention_overhead_us * 1e-6 + std::max(compute, memory);
    }
    case KernelKind::kMemoryBound: {
      if (s.bytes == 0) return 0;
      return p.memory_bound_overhead_us * 1e-6 + s.bytes / (gpu_.memory_bandwidth * p.memory_efficiency);
    }
  }
  return 0;
}

Time RooflineModel::KernelTime(const KernelShape& s) const { return Time::FromSecondsCeil(KernelSeconds(s)); }

Time RooflineModel::GroupedGemmTime(std::span<const int64_t> tokens_per_expert, int64_t n, int64_t k, DataType dtype,
                                    DataType weight_dtype) const {
  const RooflineParams& p = params_;
  int64_t tiles = 0;
  double padded_rows = 0;
  double bytes = 0;
  for (int64_t t : tokens_per_expert) {
    if (t == 0) continue;
    tiles += CeilDiv(t, p.tile_m) * CeilDiv(n, p.tile_n);
    padded_rows += static_cast<double>(CeilDiv(t, p.m_granularity) * p.m_granularity);
    bytes += GemmKernel(t, n, k, dtype, weight_dtype).bytes;
  }
  if (tiles == 0) return Time::Zero();
  const double k_efficiency = static_cast<double>(k) / (static_cast<double>(k) + p.gemm_k_half);
  const double rate = PeakFlops(gpu_, dtype) * tensor_scale_ * p.gemm_efficiency * k_efficiency *
                      WaveEfficiency(static_cast<double>(tiles), gpu_.sm_count);
  const double compute = 2.0 * padded_rows * static_cast<double>(n) * static_cast<double>(k) / rate;
  const double memory = bytes / (gpu_.memory_bandwidth * p.memory_efficiency);
  return Time::FromSecondsCeil(p.gemm_overhead_us * 1e-6 + p.gemm_k_step_ns * 1e-9 * static_cast<double>(k) +
                               std::max(compute, memory));
}

}  // namespace wiresim
