// Measured GEMM tables: exact at measured points, log-log interpolation between them, and the fallback scaled by
// the nearest measurement elsewhere.
#include "sim/compute/gemm_table.h"

#include <cmath>

#include <catch2/catch.hpp>

#include "sim/compute/roofline.h"

namespace wiresim {
namespace {

constexpr DataType kBf16 = DataType::kBFloat16;

GemmTable Table() {
  // Two measured m for (n, k) = (8192, 8192): 10 us at m = 16, 40 us at m = 1024.
  auto t = GemmTable::Build(
      {{16, 8192, 8192, kBf16, Time::Microseconds(10)}, {1024, 8192, 8192, kBf16, Time::Microseconds(40)}});
  REQUIRE(t.ok());
  return std::move(t).value();
}

TEST_CASE("Lookup is exact at measured points and log-log linear between them") {
  const GemmTable t = Table();
  CHECK(t.Lookup(16, 8192, 8192, kBf16)->ToMicroseconds() == Approx(10));
  CHECK(t.Lookup(1024, 8192, 8192, kBf16)->ToMicroseconds() == Approx(40));
  // m = 128 is the geometric midpoint of 16 and 1024 (16 x 8 = 128 = 1024 / 8): time sqrt(10 x 40) = 20 us.
  CHECK(t.Lookup(128, 8192, 8192, kBf16)->ToMicroseconds() == Approx(20));
  CHECK_FALSE(t.Lookup(2048, 8192, 8192, kBf16));  // outside the measured m
  CHECK_FALSE(t.Lookup(128, 4096, 8192, kBf16));   // shape not measured
  CHECK_FALSE(t.Lookup(128, 8192, 8192, DataType::kFloat8E4M3));
}

TEST_CASE("Repeated measurements average geometrically, bad entries are errors") {
  auto t = GemmTable::Build({{16, 64, 64, kBf16, Time::Microseconds(4)}, {16, 64, 64, kBf16, Time::Microseconds(9)}});
  REQUIRE(t.ok());
  CHECK(t->Lookup(16, 64, 64, kBf16)->ToMicroseconds() == Approx(6));  // sqrt(4 x 9)
  CHECK_FALSE(GemmTable::Build({{0, 64, 64, kBf16, Time::Microseconds(1)}}).ok());
  CHECK_FALSE(GemmTable::Build({{1, 64, 64, kBf16, Time::Zero()}}).ok());
}

TEST_CASE("TableKernelTimeModel: the table where measured, the corrected fallback elsewhere") {
  const GpuSpec& h100 = *FindGpuSpec("h100");
  const RooflineModel roofline(h100);
  const TableKernelTimeModel model(Table(), std::make_unique<RooflineModel>(h100));
  // Measured shape, measured range: the table's own value.
  CHECK(model.KernelTime(GemmKernel(128, 8192, 8192, kBf16, kBf16)).ToMicroseconds() == Approx(20));
  // Beyond the largest measured m: the roofline's growth from m = 1024, anchored at the measured 40 us.
  const double ratio_1024 = 40.0 / roofline.KernelTime(GemmKernel(1024, 8192, 8192, kBf16, kBf16)).ToMicroseconds();
  const double r4096 = roofline.KernelTime(GemmKernel(4096, 8192, 8192, kBf16, kBf16)).ToMicroseconds();
  CHECK(model.KernelTime(GemmKernel(4096, 8192, 8192, kBf16, kBf16)).ToMicroseconds() ==
        Approx(r4096 * ratio_1024).epsilon(1e-6));
  // An unmeasured shape takes the measured/roofline ratio of the nearest measured one at the same m.
  const double ratio_128 = 20.0 / roofline.KernelTime(GemmKernel(128, 8192, 8192, kBf16, kBf16)).ToMicroseconds();
  const double r_other = roofline.KernelTime(GemmKernel(128, 1024, 8192, kBf16, kBf16)).ToMicroseconds();
  CHECK(model.KernelTime(GemmKernel(128, 1024, 8192, kBf16, kBf16)).ToMicroseconds() ==
        Approx(r_other * ratio_128).epsilon(1e-6));
  // Nothing measured for fp8: the roofline unchanged; attention is never in the table.
  const KernelShape fp8 = GemmKernel(128, 8192, 8192, DataType::kFloat8E4M3, DataType::kFloat8E4M3);
  CHECK(model.KernelTime(fp8) == roofline.KernelTime(fp8));
  const KernelShape norm = MemoryBoundKernel(1e6);
  CHECK(model.KernelTime(norm) == roofline.KernelTime(norm));
}

TEST_CASE("TableKernelTimeModel: a measured shape whose roofline time no Time holds still corrects the others") {
  // A profile's GEMM dimensions reach 2^24 each: the roofline's time for 2^24 x 2^24 x 2^24 on an H100 is about
  // 2 x 2^72 FLOPs / ~700 TFLOP/s = 1.3e7 s, past Time's 9.2e6 s. Its correction (measured / roofline) is taken in
  // seconds; only the answer must fit.
  const GpuSpec& h100 = *FindGpuSpec("h100");
  const RooflineModel roofline(h100);
  const int64_t d = int64_t{1} << 24;
  const KernelShape measured = GemmKernel(d, d, d, kBf16, kBf16);
  REQUIRE_FALSE(Time::FitsSeconds(roofline.KernelSeconds(measured)));
  auto table = GemmTable::Build({{d, d, d, kBf16, Time::Seconds(1000)}});
  REQUIRE(table.ok());
  const TableKernelTimeModel model(std::move(table).value(), std::make_unique<RooflineModel>(h100));
  // At the measured point: the table's own 1000 s.
  CHECK(model.KernelTime(measured).ToSeconds() == Approx(1000));
  // Another shape: its roofline time scaled by 1000 s / the roofline's time at the measured point.
  const KernelShape other = GemmKernel(4096, 8192, 8192, kBf16, kBf16);
  const double expected = roofline.KernelSeconds(other) * 1000 / roofline.KernelSeconds(measured);
  CHECK(model.KernelSeconds(other) == Approx(expected).epsilon(1e-9));
  CHECK(model.KernelTime(other).ToSeconds() == Approx(expected).margin(1e-12));  // ~61 ns, rounded up to a ps
}

}  // namespace
}  // namespace wiresim
