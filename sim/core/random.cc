#include "sim/core/random.h"

#include <cmath>

#include "sim/core/check.h"

namespace wiresim {
namespace {

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

constexpr double kTwoPi = 6.283185307179586476925286766559;

}  // namespace

RandomStream::RandomStream(uint64_t seed) {
  uint64_t state = seed;
  for (uint64_t& word : s_) word = SplitMix64(state);
}

uint64_t RandomStream::NextU64() {
  // xoshiro256** (Blackman and Vigna, 2018).
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

double RandomStream::Uniform01() { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }

double RandomStream::Uniform(double lo, double hi) {
  WIRESIM_CHECK(lo < hi) << "Uniform(" << lo << ", " << hi << ")";
  return lo + (hi - lo) * Uniform01();
}

int64_t RandomStream::UniformInt(int64_t lo, int64_t hi) {
  WIRESIM_CHECK(lo <= hi) << "UniformInt(" << lo << ", " << hi << ")";
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1;
  if (span == 0) return static_cast<int64_t>(NextU64());  // the full 64-bit range
  // Rejection sampling: drop the top partial block so every value is equally likely.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % span;
  uint64_t x;
  do {
    x = NextU64();
  } while (x >= limit);
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + x % span);
}

double RandomStream::Exponential(double rate) {
  WIRESIM_CHECK(rate > 0) << "Exponential rate " << rate;
  return -std::log1p(-Uniform01()) / rate;
}

double RandomStream::Normal(double mean, double stddev) {
  WIRESIM_CHECK(stddev >= 0) << "Normal stddev " << stddev;
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return mean + stddev * spare_normal_;
  }
  const double u1 = 1.0 - Uniform01();  // (0, 1]
  const double u2 = Uniform01();
  const double r = std::sqrt(-2.0 * std::log(u1));
  spare_normal_ = r * std::sin(kTwoPi * u2);
  has_spare_normal_ = true;
  return mean + stddev * r * std::cos(kTwoPi * u2);
}

double RandomStream::LogNormal(double mu, double sigma) { return std::exp(Normal(mu, sigma)); }

double RandomStream::Gamma(double shape, double scale) {
  WIRESIM_CHECK(shape > 0 && scale > 0) << "Gamma(" << shape << ", " << scale << ")";
  if (shape < 1.0) {
    // Boost the shape by one and scale back (Marsaglia and Tsang, 2000, section 6).
    const double u = 1.0 - Uniform01();
    return Gamma(shape + 1.0, scale) * std::pow(u, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    double x, v;
    do {
      x = Normal(0.0, 1.0);
      v = 1.0 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = 1.0 - Uniform01();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v * scale;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v * scale;
  }
}

bool RandomStream::Bernoulli(double p) { return Uniform01() < p; }

uint64_t RandomStreams::StreamSeed(uint64_t seed, std::string_view name) {
  // FNV-1a over the name, mixed with the run seed through SplitMix64.
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : name) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  uint64_t state = seed ^ Rotl(h, 17);
  return SplitMix64(state) ^ h;
}

RandomStream& RandomStreams::Get(std::string_view name) {
  auto it = streams_.find(name);
  if (it == streams_.end()) {
    it = streams_.emplace(std::string(name), std::make_unique<RandomStream>(StreamSeed(seed_, name))).first;
  }
  return *it->second;
}

}  // namespace wiresim
