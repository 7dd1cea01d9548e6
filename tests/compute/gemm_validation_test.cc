// The default roofline against measured GEMM times (docs/validation/data, subsets of the project's reference
// data): the median relative error in each shape class stays within the 15% the compute issue sets.
// docs/validation/compute.md reports the same comparison in full (tools/validate_compute.py).
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "sim/compute/roofline.h"

namespace wiresim {
namespace {

struct Measured {
  std::string gpu;
  int64_t b, m, n, k;
  double seconds;
};

std::vector<std::vector<std::string>> ReadCsv(const std::string& name) {
  std::ifstream in(std::string(WIRESIM_SOURCE_DIR) + "/docs/validation/data/" + name);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (header) {
      header = false;
      continue;
    }
    std::vector<std::string> cells;
    std::stringstream s(line);
    std::string cell;
    while (std::getline(s, cell, ',')) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

// Vidur: one row per (gpu, tp, M), four GEMMs of Llama-2-70B per tensor-parallel shard (shapes in the file header).
std::vector<Measured> Vidur() {
  std::vector<Measured> out;
  for (const auto& r : ReadCsv("vidur_llama70b_gemm_times.csv")) {
    const int64_t tp = std::stoll(r[1]), m = std::stoll(r[2]);
    const int64_t shapes[4][2] = {{8192, 10240 / tp}, {8192 / tp, 8192}, {8192, 57344 / tp}, {28672 / tp, 8192}};
    for (int i = 0; i < 4; ++i) out.push_back({r[0], 1, m, shapes[i][1], shapes[i][0], std::stod(r[3 + i]) * 1e-3});
  }
  return out;
}

std::vector<Measured> Xla() {
  std::vector<Measured> out;
  for (const auto& r : ReadCsv("xla_h100_matmul_times.csv")) {
    const int64_t b = std::stoll(r[0]), m = std::stoll(r[1]), n = std::stoll(r[2]), k = std::stoll(r[3]);
    out.push_back({"h100", b, m, n, k, 2.0 * b * m * n * k / std::stod(r[4])});
  }
  return out;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Median |predicted - measured| / measured per class: decode-sized M (<= 256) and prefill-sized M.
std::map<std::string, double> MedianErrors(const std::vector<Measured>& rows) {
  std::map<std::string, std::vector<double>> errors;
  for (const Measured& x : rows) {
    const RooflineModel model(*FindGpuSpec(x.gpu));
    const Time t = model.KernelTime(GemmKernel(x.m, x.n, x.k, DataType::kBFloat16, DataType::kBFloat16, x.b));
    errors[x.gpu + (x.m <= 256 ? " decode" : " prefill")].push_back(std::abs(t.ToSeconds() - x.seconds) / x.seconds);
  }
  std::map<std::string, double> out;
  for (const auto& [cls, e] : errors) out[cls] = Median(e);
  return out;
}

TEST_CASE("Roofline vs Vidur's measured Llama-70B GEMMs (A100, H100): median error within 15% per class") {
  const std::vector<Measured> rows = Vidur();
  REQUIRE(rows.size() == 4 * 2088);
  for (const auto& [cls, median] : MedianErrors(rows)) {
    INFO(cls << ": median |error| " << median);
    CHECK(median < 0.15);
  }
}

TEST_CASE("Roofline vs XLA's measured sm_90 bf16 matmul table: median error within 15% per class") {
  const std::vector<Measured> rows = Xla();
  REQUIRE(rows.size() == 375);
  for (const auto& [cls, median] : MedianErrors(rows)) {
    INFO(cls << ": median |error| " << median);
    CHECK(median < 0.15);
  }
}

}  // namespace
}  // namespace wiresim
