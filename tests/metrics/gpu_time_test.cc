// Per-GPU time accounting against intervals laid out by hand.
#include "sim/metrics/gpu_time.h"

#include <catch2/catch.hpp>

namespace wiresim {
namespace {

Time Us(int64_t n) { return Time::Microseconds(n); }

TEST_CASE("A collective is exposed where no kernel of its GPU runs, the rest of the busy time is bubble") {
  GpuTimeAccounting acc(2, {0, 0});
  // GPU 0: kernels [0,10) and [20,30); a TP all-reduce in flight over [5,25): kernels cover [5,10) and [20,25), so
  // 10 us of its 20 are hidden and 10 exposed.
  acc.OnKernel(0, Us(0), Us(10));
  acc.OnKernel(0, Us(20), Us(30));
  acc.OnCollective(0, Us(5), Us(25), ParallelDim::kTp, Phase::kDecode);
  // GPU 1: one kernel [40,50) and a PP send in flight over [50,60), nothing hiding it.
  acc.OnKernel(1, Us(40), Us(50));
  acc.OnCollective(1, Us(50), Us(60), ParallelDim::kPp, Phase::kPrefill);
  // The replica was busy over [0,60) and [50,100): 100 us in all (the overlap counts once).
  acc.OnReplicaBusy(0, Us(0), Us(60));
  acc.OnReplicaBusy(0, Us(50), Us(100));
  const std::vector<GpuBreakdown> b = acc.Finish(Us(150));
  // GPU 0: compute 20, exposed 10, bubble = 100 - 30 = 70, idle = 150 - 100 = 50.
  CHECK(b[0].compute == Us(20));
  CHECK(b[0].communication == Us(20));
  CHECK(b[0].Exposed(ParallelDim::kTp) == Us(10));
  CHECK(b[0].exposed[static_cast<size_t>(ParallelDim::kTp)][static_cast<size_t>(Phase::kDecode)] == Us(10));
  CHECK(b[0].bubble == Us(70));
  CHECK(b[0].idle == Us(50));
  // GPU 1: compute 10, exposed PP 10, bubble 80, idle 50; the four parts add up to the run.
  CHECK(b[1].Exposed(ParallelDim::kPp) == Us(10));
  CHECK(b[1].bubble == Us(80));
  CHECK(b[1].compute + b[1].ExposedTotal() + b[1].bubble + b[1].idle == Us(150));
}

TEST_CASE("Precomputed stretches add to the same totals as the intervals they stand for") {
  GpuTimeAccounting a(1, {0}), b(1, {0});
  a.OnKernel(0, Us(0), Us(10));
  a.OnCollective(0, Us(10), Us(14), ParallelDim::kTp, Phase::kMixed);
  std::array<std::array<Time, kPhases>, kParallelDims> exposed{};
  exposed[static_cast<size_t>(ParallelDim::kTp)][static_cast<size_t>(Phase::kMixed)] = Us(4);
  b.AddPrecomputed(0, Us(10), exposed, Us(4));
  for (GpuTimeAccounting* acc : {&a, &b}) acc->OnReplicaBusy(0, Us(0), Us(14));
  const GpuBreakdown x = a.Finish(Us(20))[0], y = b.Finish(Us(20))[0];
  CHECK(x.compute == y.compute);
  CHECK(x.ExposedTotal() == y.ExposedTotal());
  CHECK(x.bubble == y.bubble);
  CHECK(x.idle == Us(6));
  CHECK(y.idle == Us(6));
}

TEST_CASE("A GPU outside every replica is all idle") {
  GpuTimeAccounting acc(2, {0, -1});
  acc.OnReplicaBusy(0, Us(0), Us(10));
  const std::vector<GpuBreakdown> b = acc.Finish(Us(10));
  CHECK(b[1].replica == -1);
  CHECK(b[1].idle == Us(10));
  CHECK(b[1].bubble == Time::Zero());
}

}  // namespace
}  // namespace wiresim
