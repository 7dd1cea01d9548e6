#include "sim/compute/gemm_table.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

namespace wiresim {
namespace {

double Log(int64_t v) { return std::log(static_cast<double>(v)); }

}  // namespace

Result<GemmTable> GemmTable::Build(const std::vector<GemmMeasurement>& measurements) {
  // (dtype, n, k) -> m -> (sum of log seconds, count); ordered maps keep the result independent of input order.
  std::map<std::tuple<int, int64_t, int64_t>, std::map<int64_t, std::pair<double, int>>> grouped;
  for (size_t i = 0; i < measurements.size(); ++i) {
    const GemmMeasurement& g = measurements[i];
    if (g.m < 1 || g.n < 1 || g.k < 1) {
      return InvalidArgument("GEMM measurement " + std::to_string(i) + ": m, n and k must be >= 1, got " +
                             std::to_string(g.m) + "x" + std::to_string(g.n) + "x" + std::to_string(g.k));
    }
    if (g.time <= Time::Zero()) {
      return InvalidArgument("GEMM measurement " + std::to_string(i) + ": time must be > 0");
    }
    auto& cell = grouped[{static_cast<int>(g.dtype), g.n, g.k}][g.m];
    cell.first += std::log(g.time.ToSeconds());
    cell.second += 1;
  }
  GemmTable table;
  table.measurements_ = measurements.size();
  for (const auto& [key, by_m] : grouped) {
    Series s;
    s.dtype = static_cast<DataType>(std::get<0>(key));
    s.n = std::get<1>(key);
    s.k = std::get<2>(key);
    for (const auto& [m, sum] : by_m) {
      s.log_m.push_back(Log(m));
      s.log_seconds.push_back(sum.first / sum.second);
    }
    table.series_.push_back(std::move(s));
  }
  return table;
}

const GemmTable::Series* GemmTable::Find(int64_t n, int64_t k, DataType dtype) const {
  auto it =
      std::lower_bound(series_.begin(), series_.end(), std::make_tuple(dtype, n, k),
                       [](const Series& s, const std::tuple<DataType, int64_t, int64_t>& key) {
                         return std::make_tuple(static_cast<int>(s.dtype), s.n, s.k) <
                                std::make_tuple(static_cast<int>(std::get<0>(key)), std::get<1>(key), std::get<2>(key));
                       });
  if (it == series_.end() || it->dtype != dtype || it->n != n || it->k != k) return nullptr;
  return &*it;
}

double GemmTable::Interpolate(const Series& s, double log_m) {
  if (s.log_m.size() == 1) return s.log_seconds.front();
  auto hi = std::upper_bound(s.log_m.begin(), s.log_m.end(), log_m);
  if (hi == s.log_m.begin()) return s.log_seconds.front();
  if (hi == s.log_m.end()) return s.log_seconds.back();
  const size_t j = static_cast<size_t>(hi - s.log_m.begin());
  const double x0 = s.log_m[j - 1], x1 = s.log_m[j];
  const double f = (log_m - x0) / (x1 - x0);
  return s.log_seconds[j - 1] + f * (s.log_seconds[j] - s.log_seconds[j - 1]);
}

std::optional<double> GemmTable::LookupSeconds(int64_t m, int64_t n, int64_t k, DataType dtype) const {
  const Series* s = Find(n, k, dtype);
  if (s == nullptr || m < 1) return std::nullopt;
  const double lm = Log(m);
  if (lm < s->log_m.front() - 1e-12 || lm > s->log_m.back() + 1e-12) return std::nullopt;
  return std::exp(Interpolate(*s, lm));
}

std::optional<Time> GemmTable::Lookup(int64_t m, int64_t n, int64_t k, DataType dtype) const {
  const std::optional<double> seconds = LookupSeconds(m, n, k, dtype);
  if (!seconds) return std::nullopt;
  return Time::FromSecondsCeil(*seconds);
}

std::optional<GemmTable::Nearest> GemmTable::NearestMeasured(int64_t m, int64_t n, int64_t k, DataType dtype) const {
  const Series* best = Find(n, k, dtype);
  if (best == nullptr) {
    double best_distance = 0;
    for (const Series& s : series_) {
      if (s.dtype != dtype) continue;
      const double dn = Log(s.n) - Log(n), dk = Log(s.k) - Log(k);
      const double distance = dn * dn + dk * dk;
      if (best == nullptr || distance < best_distance) {
        best = &s;
        best_distance = distance;
      }
    }
  }
  if (best == nullptr) return std::nullopt;
  const double lm = std::clamp(Log(std::max<int64_t>(m, 1)), best->log_m.front(), best->log_m.back());
  Nearest out;
  out.m = static_cast<int64_t>(std::llround(std::exp(lm)));
  out.n = best->n;
  out.k = best->k;
  out.time = Time::FromSecondsCeil(std::exp(Interpolate(*best, lm)));
  return out;
}

TableKernelTimeModel::TableKernelTimeModel(GemmTable table, std::unique_ptr<KernelTimeModel> fallback)
    : table_(std::move(table)), fallback_(std::move(fallback)) {
  WIRESIM_CHECK(fallback_ != nullptr);
}

double TableKernelTimeModel::Correction(int64_t m, int64_t n, int64_t k, DataType dtype, DataType weight_dtype) const {
  const std::optional<GemmTable::Nearest> near = table_.NearestMeasured(m, n, k, dtype);
  if (!near) return 1.0;
  // In seconds, unrounded: a measured shape's roofline time need not fit a Time (a profile's dimensions reach 2^24).
  const double modelled = fallback_->KernelSeconds(GemmKernel(near->m, near->n, near->k, dtype, weight_dtype));
  return near->time.ToSeconds() / modelled;
}

double TableKernelTimeModel::KernelSeconds(const KernelShape& s) const {
  if ((s.kind != KernelKind::kGemm && s.kind != KernelKind::kGroupedGemm) || s.m == 0) {
    return fallback_->KernelSeconds(s);
  }
  if (s.batch == 1) {
    if (std::optional<double> measured = table_.LookupSeconds(s.m, s.n, s.k, s.dtype)) return *measured;
  }
  return fallback_->KernelSeconds(s) * Correction(s.m, s.n, s.k, s.dtype, s.weight_dtype);
}

Time TableKernelTimeModel::KernelTime(const KernelShape& s) const {
  if ((s.kind != KernelKind::kGemm && s.kind != KernelKind::kGroupedGemm) || s.m == 0) {
    return fallback_->KernelTime(s);
  }
  return Time::FromSecondsCeil(KernelSeconds(s));
}

Time TableKernelTimeModel::GroupedGemmTime(std::span<const int64_t> tokens_per_expert, int64_t n, int64_t k,
                                           DataType dtype, DataType weight_dtype) const {
  int64_t total = 0, busy = 0;
  for (int64_t t : tokens_per_expert) {
    total += t;
    busy += t > 0 ? 1 : 0;
  }
  const Time modelled = fallback_->GroupedGemmTime(tokens_per_expert, n, k, dtype, weight_dtype);
  if (busy == 0) return modelled;
  const int64_t mean = std::max<int64_t>(1, total / busy);
  return Time::FromSecondsCeil(modelled.ToSeconds() * Correction(mean, n, k, dtype, weight_dtype));
}

}  // namespace wiresim
