// Expert routing: where the routed token copies of an expert-parallel MoE layer go, as expected counts.
#include "sim/parallel/expert_routing.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <catch2/catch.hpp>

namespace wiresim {
namespace {

double Sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

TEST_CASE("Uniform routing: every EP rank receives 1/ep of the copies, the diagonal stays home") {
  const std::vector<double> share = DestinationShares({}, /*experts=*/256, /*top_k=*/8, /*ep=*/32);
  REQUIRE(share.size() == 32);
  for (double s : share) CHECK(s == Approx(1.0 / 32));
  // Two ranks of 128 and 64 tokens, top-8, half the experts each: rank 0 sends 128 x 8 x 1/2 = 512 copies to rank 1.
  const std::vector<int64_t> tokens = {128, 64};
  const std::vector<double> copies = RoutedCopies(tokens, 8, std::vector<double>{0.5, 0.5});
  CHECK(copies == std::vector<double>{0, 512, 256, 0});
}

TEST_CASE("Expert imbalance f puts f/ep of the copies on EP rank 0") {
  const std::vector<double> share = DestinationShares({}, 256, 8, 8, /*expert_imbalance=*/2.0);
  CHECK(share[0] == Approx(2.0 / 8));
  CHECK(share[1] == Approx((1 - 2.0 / 8) / 7));
  CHECK(Sum(share) == Approx(1.0));
}

TEST_CASE("Skewed routing: Zipf shares sum to 1, no expert above 1/k, the same for a seed and not across seeds") {
  ExpertRouting r;
  r.kind = RoutingKind::kSkewed;
  r.skew = 1.2;
  r.seed = 7;
  const std::vector<double> experts = ExpertShares(r, 256, 8);
  CHECK(Sum(experts) == Approx(1.0));
  // Uncapped, the most popular of 256 at exponent 1.2 would take 1 / H(256, 1.2) = 1 / 3.943 = 0.254 of the copies
  // (H the generalised harmonic number), more than a token's k = 8 distinct picks allow: capped at 1/8.
  const double top = *std::max_element(experts.begin(), experts.end());
  CHECK(top == Approx(1.0 / 8));
  CHECK(ExpertShares(r, 256, 8) == experts);
  ExpertRouting other = r;
  other.seed = 8;
  CHECK(ExpertShares(other, 256, 8) != experts);
  // A mild skew caps nothing: shares proportional to 1/rank^s, so the two most popular differ by 2^s.
  r.skew = 0.5;
  std::vector<double> mild = ExpertShares(r, 256, 8);
  std::sort(mild.rbegin(), mild.rend());
  CHECK(mild[0] / mild[1] == Approx(std::pow(2.0, 0.5)));
  const std::vector<double> ranks = DestinationShares(r, 256, 8, 32);
  CHECK(Sum(ranks) == Approx(1.0));
  CHECK(*std::max_element(ranks.begin(), ranks.end()) > 1.0 / 32);
}

TEST_CASE("Routing options out of range are refused with what is expected") {
  ExpertRouting r;
  r.kind = RoutingKind::kSkewed;
  r.skew = 0;
  CHECK_FALSE(ValidateRouting(r, 1.0).ok());
  r.skew = 1;
  CHECK(ValidateRouting(r, 1.0).ok());
  CHECK_FALSE(ValidateRouting(r, 2.0).ok());  // imbalance is the uniform routing's knob
  CHECK_FALSE(ValidateRouting({}, 0.5).ok());
  CHECK(ParseRoutingKind("skewed") == RoutingKind::kSkewed);
  CHECK_FALSE(ParseRoutingKind("zipf").has_value());
}

}  // namespace
}  // namespace wiresim
