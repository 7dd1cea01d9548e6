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

TEST_CASE("Destination hits: the chance a token has at least one expert on a rank") {
  // Mixtral (top-2 of 8) over 8 ranks of one expert each: a token picks 2 of the 8, so it reaches a rank with
  // probability 2/8 (1 - C(7, 2) / C(8, 2) = 1 - 21/28); over 4 ranks of 2, 1 - C(6, 2) / C(8, 2) = 1 - 15/28.
  for (double h : DestinationHits({}, 8, 2, 8)) CHECK(h == Approx(0.25));
  for (double h : DestinationHits({}, 8, 2, 4)) CHECK(h == Approx(13.0 / 28));
  // One rank holding every expert is always hit; a token with k = E reaches every rank.
  CHECK(DestinationHits({}, 8, 2, 1)[0] == Approx(1.0));
  for (double h : DestinationHits({}, 8, 8, 4)) CHECK(h == Approx(1.0));
  // Expert imbalance 2 over 8 ranks of 32 experts, top-8: each of rank 0's experts is picked with probability
  // 8 x (2/8) / 32 = 1/16, the others' 8 x (6/8 / 7) / 32; a rank is missed when all 32 of its experts are.
  const std::vector<double> hot = DestinationHits({}, 256, 8, 8, 2.0);
  CHECK(hot[0] == Approx(1 - std::pow(1 - 1.0 / 16, 32)));
  CHECK(hot[1] == Approx(1 - std::pow(1 - 8 * (0.75 / 7) / 32, 32)));
  // Skewed routing: a rank of hot experts is reached more often than a rank of cold ones, never more than always.
  ExpertRouting r;
  r.kind = RoutingKind::kSkewed;
  r.skew = 1.0;
  const std::vector<double> skewed = DestinationHits(r, 256, 8, 32);
  const std::vector<double> shares = DestinationShares(r, 256, 8, 32);
  const size_t hottest = static_cast<size_t>(std::max_element(shares.begin(), shares.end()) - shares.begin());
  const size_t coldest = static_cast<size_t>(std::min_element(shares.begin(), shares.end()) - shares.begin());
  CHECK(skewed[hottest] > skewed[coldest]);
  CHECK(*std::max_element(skewed.begin(), skewed.end()) <= 1.0);
}

TEST_CASE("Destination hits under group-limited routing: DeepSeek-V3's 4 of 8 groups") {
  // 256 experts in 8 groups of 32; a token's 8 experts come from 4 groups picked uniformly, i.e. from M = 128.
  const ExpertGroups g{8, 4};
  auto none = [](int m, int h) {  // C(m - h, 8) / C(m, 8)
    double p = 1;
    for (int i = 0; i < 8; ++i) p *= static_cast<double>(m - h - i) / (m - i);
    return p;
  };
  // EP 8: a rank holds one group, picked with probability 4/8; then it is hit unless the 8 experts avoid its 32 of
  // the 128: (1/2) (1 - C(96, 8) / C(128, 8)) = 0.45363, 3.63 rows per token where ungrouped routing sends 5.29.
  for (double h : DestinationHits({}, 256, 8, 8, 1.0, g)) CHECK(h == Approx(0.5 * (1 - none(128, 32))));
  CHECK(8 * DestinationHits({}, 256, 8, 8, 1.0, g)[0] == Approx(3.629).epsilon(1e-3));
  // EP 16: half a group per rank: (1/2) (1 - C(112, 8) / C(128, 8)).
  for (double h : DestinationHits({}, 256, 8, 16, 1.0, g)) CHECK(h == Approx(0.5 * (1 - none(128, 16))));
  // EP 4: two groups per rank, of which 0, 1 or 2 are picked with probabilities C(6,4), 2 C(6,3), C(6,2) over
  // C(8,4) = 15, 40, 15 of 70.
  const double miss4 = 15.0 / 70 + 40.0 / 70 * none(128, 32) + 15.0 / 70 * none(128, 64);
  for (double h : DestinationHits({}, 256, 8, 4, 1.0, g)) CHECK(h == Approx(1 - miss4));
  // Groups that straddle ranks: 60 experts in 3 groups of 20, top-2 from 1 group, over 4 ranks of 15. Rank 1
  // ([15, 30)) holds 5 of group 0 and 10 of group 1: 1/3 (1 - C(15, 2) / C(20, 2)) + 1/3 (1 - C(10, 2) / C(20, 2)).
  const std::vector<double> odd = DestinationHits({}, 60, 2, 4, 1.0, {3, 1});
  CHECK(odd[1] == Approx((1 - 105.0 / 190 + 1 - 45.0 / 190) / 3));
  // Rank 0 ([0, 15)) lies in group 0: 1/3 (1 - C(5, 2) / C(20, 2)).
  CHECK(odd[0] == Approx((1 - 10.0 / 190) / 3));
  // Picking every group is no limit.
  CHECK(DestinationHits({}, 256, 8, 8, 1.0, {8, 8})[0] == Approx(DestinationHits({}, 256, 8, 8)[0]));
}

TEST_CASE("Domain hits: the chance a token reaches any rank of a set of EP ranks (a node)") {
  auto none = [](int m, int h) {  // C(m - h, 8) / C(m, 8)
    double p = 1;
    for (int i = 0; i < 8; ++i) p *= static_cast<double>(m - h - i) / (m - i);
    return p;
  };
  // 256 experts, top-8, EP 16 over two nodes of 8 ranks: a node holds 128 experts and is missed when all 8 of a
  // token's experts lie on the other: 1 - C(128, 8) / C(256, 8) = 0.99651.
  std::vector<int> halves(16, 0);
  std::fill(halves.begin() + 8, halves.end(), 1);
  for (double h : DomainHits({}, 256, 8, 16, 1.0, {}, halves)) CHECK(h == Approx(1 - none(256, 128)));
  CHECK(1 - none(256, 128) == Approx(0.99651).epsilon(1e-4));
  // Without groups only the set's size matters: the even ranks and the odd ranks are hit alike.
  std::vector<int> parity(16);
  for (int j = 0; j < 16; ++j) parity[static_cast<size_t>(j)] = j % 2;
  for (double h : DomainHits({}, 256, 8, 16, 1.0, {}, parity)) CHECK(h == Approx(1 - none(256, 128)));
  // DeepSeek-V3's 4 of 8 groups: a node of 8 consecutive ranks holds 4 whole groups, t of them picked with
  // probability C(4, t) C(4, 4 - t) / C(8, 4) (1, 16, 36, 16, 1 of 70), and is then missed when the token's 8 of the
  // picked 128 experts avoid its 32 t.
  const ExpertGroups g{8, 4};
  double miss = 0;
  const double ways[5] = {1, 16, 36, 16, 1};
  for (int t = 0; t <= 4; ++t) miss += ways[t] / 70 * none(128, 32 * t);
  for (double h : DomainHits({}, 256, 8, 16, 1.0, g, halves)) CHECK(h == Approx(1 - miss));
  // EP 64 over 8 nodes: a node is one group, picked with probability 1/2: as a rank of EP 8 is hit.
  std::vector<int> nodes(64);
  for (int j = 0; j < 64; ++j) nodes[static_cast<size_t>(j)] = j / 8;
  for (double h : DomainHits({}, 256, 8, 64, 1.0, g, nodes)) CHECK(h == Approx(0.5 * (1 - none(128, 32))));
  // Skewed routing: the set takes its ranks' hits as independent, 1 - prod (1 - hit).
  ExpertRouting skewed;
  skewed.kind = RoutingKind::kSkewed;
  skewed.skew = 1.2;
  skewed.seed = 3;
  const std::vector<double> rank = DestinationHits(skewed, 256, 8, 16);
  const std::vector<double> node = DomainHits(skewed, 256, 8, 16, 1.0, {}, halves);
  double first = 1, second = 1;
  for (size_t j = 0; j < 16; ++j) (j < 8 ? first : second) *= 1 - rank[j];
  CHECK(node[0] == Approx(1 - first));
  CHECK(node[1] == Approx(1 - second));
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
