// Speculative decoding's configuration and acceptance draws. Expected values are derived in the comments.
#include "sim/serving/speculative.h"

#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "sim/core/random.h"

namespace wiresim {
namespace {

using Catch::Matchers::Contains;

TEST_CASE(
    "A per-token rate gives the per-position rates of its powers and a mean acceptance length of one plus their sum") {
  Result<SpeculativeConfig> c = MakeSpeculativeConfig("mtp", 3, {0.8});
  REQUIRE(c.ok());
  REQUIRE(c->acceptance.size() == 3);
  CHECK(c->acceptance[0] == Approx(0.8));
  CHECK(c->acceptance[1] == Approx(0.64));
  CHECK(c->acceptance[2] == Approx(0.512));
  CHECK(c->MeanAcceptanceLength() == Approx(1 + 0.8 + 0.64 + 0.512));
  CHECK(c->LookaheadTokens() == 3);
  Result<SpeculativeConfig> ngram = MakeSpeculativeConfig("ngram", 4, {0.5, 0.3, 0.2, 0.1});
  REQUIRE(ngram.ok());
  CHECK(ngram->LookaheadTokens() == 0);
  CHECK(ngram->MeanAcceptanceLength() == Approx(2.1));
}

TEST_CASE("Bad speculative settings are refused with what was expected") {
  auto error = [](const char* method, int64_t k, std::vector<double> a) {
    Result<SpeculativeConfig> c = MakeSpeculativeConfig(method, k, a);
    REQUIRE_FALSE(c.ok());
    return c.status().message();
  };
  CHECK_THAT(error("medusa", 2, {0.5}), Contains("expected ngram, eagle, eagle3 or mtp"));
  CHECK_THAT(error("mtp", 0, {0.5}), Contains("expected 1 to 32"));
  CHECK_THAT(error("mtp", 33, {0.5}), Contains("expected 1 to 32"));
  CHECK_THAT(error("mtp", 3, {0.8, 0.6}), Contains("one per-token rate or 3 per-position rates"));
  CHECK_THAT(error("mtp", 2, {0.6, 0.7}), Contains("cannot rise"));
  CHECK_THAT(error("mtp", 1, {1.5}), Contains("in [0, 1]"));
  CHECK_THAT(error("mtp", 1, {std::nan("")}), Contains("in [0, 1]"));
}

TEST_CASE("Acceptance draws have the per-position rates given") {
  // P(at least i + 1 accepted) = acceptance[i]. Over n draws the count of each is binomial: its standard deviation
  // is sqrt(n p (1 - p)); 5 of them bound the check (a false failure about once in 3 million runs).
  const SpeculativeConfig c = *MakeSpeculativeConfig("eagle", 3, {0.75, 0.55, 0.4});
  RandomStream rng(7);
  const int n = 200000;
  std::vector<int> at_least(4, 0);
  for (int i = 0; i < n; ++i) {
    const int64_t a = DrawAccepted(c, 3, rng);
    REQUIRE(a >= 0);
    REQUIRE(a <= 3);
    for (int64_t j = 0; j < a; ++j) ++at_least[static_cast<size_t>(j)];
  }
  for (size_t j = 0; j < 3; ++j) {
    const double p = c.acceptance[j];
    const double sd = std::sqrt(n * p * (1 - p));
    CHECK(std::abs(at_least[j] - n * p) < 5 * sd);
  }
  // Fewer drafts than the configuration's (a budget cut): never more accepted than drafted.
  for (int i = 0; i < 1000; ++i) CHECK(DrawAccepted(c, 1, rng) <= 1);
  // Rates 1 and 0: every draft, none.
  RandomStream r2(1);
  CHECK(DrawAccepted(*MakeSpeculativeConfig("mtp", 2, {1.0}), 2, r2) == 2);
  CHECK(DrawAccepted(*MakeSpeculativeConfig("mtp", 2, {0.0}), 2, r2) == 0);
}

TEST_CASE("Speculative statistics as vLLM's SpecDecodingStats counts them") {
  SpeculativeStats s;
  s.Observe(3, 2);
  s.Observe(3, 0);
  s.Observe(2, 2);
  // 3 drafts, 8 draft tokens, 4 accepted: mean acceptance length 1 + 4 / 3, rate 4 / 8; positions 0 and 1 accepted
  // twice, position 2 never.
  CHECK(s.drafts == 3);
  CHECK(s.draft_tokens == 8);
  CHECK(s.MeanAcceptanceLength() == Approx(1 + 4.0 / 3));
  CHECK(s.AcceptanceRate() == Approx(0.5));
  CHECK(s.accepted_per_position == std::vector<int64_t>{2, 2, 0});
  SpeculativeStats t;
  t.Observe(4, 4);
  s.Add(t);
  CHECK(s.accepted_per_position == std::vector<int64_t>{3, 3, 1, 1});
}

TEST_CASE("The drafter: MTP takes the kind of the target's last layer, n-gram has none") {
  ModelSpec m;
  m.num_layers = 4;
  m.moe.num_experts = 8;
  m.moe.first_k_dense_replace = 1;  // layer 0 dense, layers 1-3 MoE
  m.intermediate_size = 1024;
  const SpeculativeConfig mtp = *MakeSpeculativeConfig("mtp", 2, {0.7});
  CHECK(mtp.Drafter(m).passes == 2);
  CHECK(mtp.Drafter(m).moe);
  // EAGLE's head is a dense layer where the target has a dense MLP width, else MoE.
  const SpeculativeConfig eagle = *MakeSpeculativeConfig("eagle", 2, {0.7});
  CHECK_FALSE(eagle.Drafter(m).moe);
  m.intermediate_size = 0;
  CHECK(eagle.Drafter(m).moe);
  CHECK(MakeSpeculativeConfig("ngram", 2, {0.7})->Drafter(m).passes == 0);
}

}  // namespace
}  // namespace wiresim
