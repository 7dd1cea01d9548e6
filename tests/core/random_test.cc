#include "sim/core/random.h"

#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

namespace wiresim {
namespace {

// Sample mean and variance of n draws.
template <typename Draw>
std::pair<double, double> Moments(int n, Draw draw) {
  double sum = 0, sum2 = 0;
  for (int i = 0; i < n; ++i) {
    const double x = draw();
    sum += x;
    sum2 += x * x;
  }
  const double mean = sum / n;
  return {mean, sum2 / n - mean * mean};
}

TEST_CASE("Streams depend only on (seed, name)") {
  RandomStreams a(7), b(7);
  RandomStream& a_arrivals = a.Get("arrivals");
  // Drawing from another stream first must not shift "arrivals".
  for (int i = 0; i < 10; ++i) b.Get("lengths").NextU64();
  RandomStream& b_arrivals = b.Get("arrivals");
  for (int i = 0; i < 100; ++i) CHECK(a_arrivals.NextU64() == b_arrivals.NextU64());
  CHECK(RandomStreams::StreamSeed(7, "arrivals") != RandomStreams::StreamSeed(7, "lengths"));
  CHECK(RandomStreams::StreamSeed(7, "arrivals") != RandomStreams::StreamSeed(8, "arrivals"));
}

TEST_CASE("The generator is xoshiro256** seeded by SplitMix64") {
  // Reference: SplitMix64 from state 0 gives 0xe220a8397b1dcdaf first (Vigna's splitmix64.c); the first xoshiro256**
  // output is rotl(s[1] * 5, 7) * 9 with s[1] the second SplitMix64 output, 0x6e789e6aa1b965f4.
  RandomStream r(0);
  const uint64_t s1 = 0x6e789e6aa1b965f4ULL;
  const uint64_t x = s1 * 5;
  const uint64_t expected = ((x << 7) | (x >> 57)) * 9;
  CHECK(r.NextU64() == expected);
}

TEST_CASE("Distributions have the moments of their definitions") {
  RandomStream r(123);
  const int n = 200000;
  // Uniform[0,1): mean 1/2, variance 1/12. Standard error of the mean ~ 0.29/sqrt(n) = 6.5e-4.
  auto [um, uv] = Moments(n, [&] { return r.Uniform01(); });
  CHECK(um == Approx(0.5).margin(0.004));
  CHECK(uv == Approx(1.0 / 12).margin(0.002));
  // Exponential(rate 4): mean 1/4, variance 1/16.
  auto [em, ev] = Moments(n, [&] { return r.Exponential(4.0); });
  CHECK(em == Approx(0.25).margin(0.003));
  CHECK(ev == Approx(1.0 / 16).margin(0.002));
  // Normal(3, 2): mean 3, variance 4.
  auto [nm, nv] = Moments(n, [&] { return r.Normal(3.0, 2.0); });
  CHECK(nm == Approx(3.0).margin(0.02));
  CHECK(nv == Approx(4.0).margin(0.06));
  // Gamma(shape k, scale s): mean k s, variance k s^2; both the k >= 1 and the k < 1 branches.
  auto [g1m, g1v] = Moments(n, [&] { return r.Gamma(2.5, 2.0); });
  CHECK(g1m == Approx(5.0).margin(0.05));
  CHECK(g1v == Approx(10.0).margin(0.3));
  auto [g2m, g2v] = Moments(n, [&] { return r.Gamma(0.5, 4.0); });
  CHECK(g2m == Approx(2.0).margin(0.04));
  CHECK(g2v == Approx(8.0).margin(0.4));
}

TEST_CASE("UniformInt covers its closed range evenly") {
  RandomStream r(9);
  std::vector<int> counts(6, 0);
  for (int i = 0; i < 60000; ++i) {
    const int64_t v = r.UniformInt(1, 6);
    REQUIRE(v >= 1);
    REQUIRE(v <= 6);
    ++counts[static_cast<size_t>(v - 1)];
  }
  // Each face ~ Binomial(60000, 1/6): 10000 +- 91 (1 sigma); 5 sigma bound.
  for (int c : counts) CHECK(std::abs(c - 10000) < 460);
  CHECK(r.UniformInt(5, 5) == 5);
}

}  // namespace
}  // namespace wiresim
