// Plans: parsing, the validity rules with their messages, and how layers split over pipeline stages.
#include "sim/parallel/plan.h"

#include <catch2/catch.hpp>

#include "tests/model/model_test_util.h"

namespace wiresim {
namespace {

using Catch::Matchers::Contains;
using testing::ShippedModel;

ParallelPlan Plan(const char* text) {
  Result<ParallelPlan> p = ParsePlan(text);
  REQUIRE(p.ok());
  return *p;
}

TEST_CASE("ParsePlan reads any subset of the degrees, sequence parallelism and the CP mode") {
  const ParallelPlan p = Plan("tp=8, pp=2,sp=on");
  CHECK(p.tp == 8);
  CHECK(p.pp == 2);
  CHECK(p.cp == 1);
  CHECK(p.sequence_parallel);
  CHECK(p.WorldSize() == 16);
  CHECK(p.ToString() == "tp=8,pp=2,sp=on");
  CHECK(Plan("cp=4,cp_attention=allgather").cp_attention == CpAttention::kAllGather);
  CHECK_THAT(ParsePlan("tp=0").status().message(), Contains("tp must be a whole number from 1 to 65536"));
  CHECK_THAT(ParsePlan("dp=65537").status().message(), Contains("dp must be a whole number from 1 to 65536"));
  CHECK_THAT(ParsePlan("xp=2").status().message(), Contains("unknown item 'xp'"));
  CHECK_THAT(ParsePlan("tp8").status().message(), Contains("expected items like"));
}

TEST_CASE("ParsePlan bounds the plan's GPUs, and context parallelism's degree and GPUs") {
  // 8 x 65536 x 2 = 2^20 GPUs is the bound; 8 x 65536 x 65536 x 80 = 2.7e12 overflowed an int before.
  CHECK(ParsePlan("tp=8,dp=65536,pp=2").ok());
  CHECK_THAT(ParsePlan("tp=8,dp=65536,pp=3").status().message(),
             Contains("tp x pp x cp x dp = 1572864 GPUs, more than 1048576 (2^20)"));
  CHECK_THAT(ParsePlan("tp=8,dp=65536,cp=65536,pp=80").status().message(), Contains("= 2748779069440 GPUs"));
  // cp up to 64, tp x cp up to 512 (tp alone is not bounded by it).
  CHECK(ParsePlan("tp=8,cp=64").ok());
  CHECK(ParsePlan("tp=64,cp=8").ok());
  CHECK(ParsePlan("tp=1024").ok());
  CHECK_THAT(ParsePlan("cp=65").status().message(), Contains("cp up to 64 and tp x cp up to 512"));
  CHECK_THAT(ParsePlan("tp=16,cp=64").status().message(), Contains("cp up to 64 and tp x cp up to 512"));
}

TEST_CASE("Heads and KV heads vs tp") {
  const ModelSpec llama = ShippedModel("llama-3.1-70b");  // 64 heads, 8 KV heads
  CHECK(ValidatePlan(Plan("tp=8"), llama, 8).ok());
  CHECK(ValidatePlan(Plan("tp=16"), llama, 16).ok());  // 16 is a multiple of 8 KV heads: each replicated twice
  CHECK_THAT(ValidatePlan(Plan("tp=3"), llama, 8).message(),
             Contains("num_attention_heads 64 is not divisible by tp=3"));
  // 12 heads and 6 KV heads: tp=4 divides the heads but neither divides nor is a multiple of the KV heads.
  ModelSpec odd = llama;
  odd.num_attention_heads = 12;
  odd.num_kv_heads = 6;
  odd.intermediate_size = 4096;
  CHECK_THAT(ValidatePlan(Plan("tp=4"), odd, 8).message(), Contains("num_key_value_heads 6 and tp=4"));
}

TEST_CASE("Experts vs ep: ep is 1 or every attention rank of a stage, and divides the experts") {
  const ModelSpec mixtral = ShippedModel("mixtral-8x7b");  // 8 experts
  CHECK(ValidatePlan(Plan("tp=2,dp=4,ep=8"), mixtral, 8).ok());
  CHECK_THAT(ValidatePlan(Plan("tp=8,ep=4"), mixtral, 8).message(), Contains("ep=4 must be 1 or tp x cp x dp = 8"));
  CHECK_THAT(ValidatePlan(Plan("dp=16,ep=16"), mixtral, 16).message(), Contains("8 experts do not divide over ep=16"));
  CHECK_THAT(ValidatePlan(Plan("tp=8,ep=8"), ShippedModel("llama-3.1-8b"), 8).message(), Contains("has no experts"));
}

TEST_CASE("Layers vs pp and world size vs GPUs") {
  const ModelSpec llama = ShippedModel("llama-3.1-70b");
  CHECK_THAT(ValidatePlan(Plan("pp=81"), llama, 0).message(), Contains("pp=81 exceeds the 80 layers"));
  CHECK(ValidatePlan(Plan("tp=8,pp=3"), llama, 24).ok());  // uneven is allowed
  CHECK_THAT(ValidatePlan(Plan("tp=8,pp=2"), llama, 8).message(),
             Contains("needs tp x pp x cp x dp = 16 GPUs but 8 are available"));
}

TEST_CASE("SplitLayers gives the remainder to the stages before the last, as vLLM does") {
  // 80 over 3: 26 each, remainder 2 to stages 1 and 0 (vLLM's partitions[-2] and [-3]).
  const std::vector<StageLayers> s = SplitLayers(80, 3);
  REQUIRE(s.size() == 3);
  CHECK(s[0].count() == 27);
  CHECK(s[1].count() == 27);
  CHECK(s[2].count() == 26);
  CHECK(s[2].end == 80);
  // DeepSeek-V3's 61 layers over 4: 15 each, one more on stage 2.
  const std::vector<StageLayers> d = SplitLayers(61, 4);
  CHECK(d[0].count() == 15);
  CHECK(d[2].count() == 16);
  CHECK(d[3].count() == 15);
}

}  // namespace
}  // namespace wiresim
