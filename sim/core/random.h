// Seeded random streams. A run owns one RandomStreams built from its seed; each part asks for a stream by name
// ("arrivals", "lengths", "expert-routing"), and the stream's sequence depends only on (seed, name). Adding a new
// stream or drawing more from one never changes what another stream draws, so results stay comparable when a
// scenario grows. Generator and distributions are implemented here (xoshiro256**, inverse-CDF and Marsaglia-Tsang
// sampling) rather than taken from <random>, whose distributions differ between standard libraries.
//
//   RandomStreams streams(/*seed=*/42);
//   RandomStream& arrivals = streams.Get("arrivals");
//   double gap_s = arrivals.Exponential(/*rate=*/10.0);
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace wiresim {

class RandomStream {
 public:
  explicit RandomStream(uint64_t seed);

  uint64_t NextU64();
  // Uniform in [0, 1), 53 random bits.
  double Uniform01();
  // Uniform in [lo, hi). REQUIRES: lo < hi.
  double Uniform(double lo, double hi);
  // Uniform integer in [lo, hi], without modulo bias. REQUIRES: lo <= hi.
  int64_t UniformInt(int64_t lo, int64_t hi);
  // Exponential with the given rate (mean 1/rate). REQUIRES: rate > 0.
  double Exponential(double rate);
  // Normal(mean, stddev) by Box-Muller. REQUIRES: stddev >= 0.
  double Normal(double mean, double stddev);
  // exp(Normal(mu, sigma)).
  double LogNormal(double mu, double sigma);
  // Gamma(shape, scale), mean shape*scale. REQUIRES: shape > 0, scale > 0.
  double Gamma(double shape, double scale);
  bool Bernoulli(double p);

 private:
  uint64_t s_[4];
  bool has_spare_normal_ = false;
  double spare_normal_ = 0;
};

class RandomStreams {
 public:
  explicit RandomStreams(uint64_t seed) : seed_(seed) {}
  RandomStreams(const RandomStreams&) = delete;
  RandomStreams& operator=(const RandomStreams&) = delete;

  // The stream with this name, created on first use. The reference stays valid for the life of this object.
  RandomStream& Get(std::string_view name);
  uint64_t seed() const { return seed_; }

  // The seed of the stream `name` under run seed `seed` (stable across platforms and releases).
  static uint64_t StreamSeed(uint64_t seed, std::string_view name);

 private:
  uint64_t seed_;
  std::map<std::string, std::unique_ptr<RandomStream>, std::less<>> streams_;
};

}  // namespace wiresim
