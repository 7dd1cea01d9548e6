// Placement of ranks on GPUs and the groups that follow, against hand-drawn rank grids.
#include "sim/parallel/placement.h"

#include <catch2/catch.hpp>

namespace wiresim {
namespace {

using Catch::Matchers::Contains;

ParallelPlan Plan(int tp, int pp, int dp = 1, int cp = 1, int ep = 1) {
  ParallelPlan p;
  p.tp = tp;
  p.pp = pp;
  p.dp = dp;
  p.cp = cp;
  p.ep = ep;
  return p;
}

TEST_CASE("Ranks number tp innermost, then cp, dp, pp") {
  const ParallelPlan p = Plan(4, 2, 2, 2);  // 32 ranks
  // tp 3, cp 1, dp 1, pp 1: ((1 x 2 + 1) x 2 + 1) x 4 + 3 = 31.
  CHECK(RankOf(p, {3, 1, 1, 1}) == 31);
  for (int r = 0; r < p.WorldSize(); ++r) CHECK(RankOf(p, CoordOf(p, r)) == r);
}

TEST_CASE("Packed: TP groups are consecutive GPUs, PP peers a stage apart") {
  const ParallelPlan p = Plan(8, 2);
  Result<Placement> where = ParsePlacement("packed", p, 16);
  REQUIRE(where.ok());
  const ParallelGroups g = BuildGroups(p, *where);
  CHECK(g.Of(ParallelDim::kTp, 9) == std::vector<int>{8, 9, 10, 11, 12, 13, 14, 15});
  CHECK(g.Of(ParallelDim::kPp, 3) == std::vector<int>{3, 11});
  CHECK(g.IndexIn(ParallelDim::kPp, 11) == 1);
}

TEST_CASE("Strided: TP peers world/tp GPUs apart") {
  const ParallelPlan p = Plan(2, 1, 4);  // tp=2, dp=4: 8 ranks; TP peers 8/2 = 4 GPUs apart
  Result<Placement> where = ParsePlacement("strided", p, 8);
  REQUIRE(where.ok());
  CHECK(where->gpu_of_rank == std::vector<int>{0, 4, 1, 5, 2, 6, 3, 7});
  const ParallelGroups g = BuildGroups(p, *where);
  CHECK(g.Of(ParallelDim::kTp, 0) == std::vector<int>{0, 4});
  CHECK(g.Of(ParallelDim::kDp, 0) == std::vector<int>{0, 1, 2, 3});
}

TEST_CASE("EP groups span every rank of a pipeline stage") {
  const ParallelPlan p = Plan(2, 2, 4, 1, 8);
  Result<Placement> where = ParsePlacement("packed", p, 16);
  REQUIRE(where.ok());
  const ParallelGroups g = BuildGroups(p, *where);
  CHECK(g.Of(ParallelDim::kEp, 3) == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(g.Of(ParallelDim::kEp, 12) == std::vector<int>{8, 9, 10, 11, 12, 13, 14, 15});
}

TEST_CASE("Explicit placements: ranges, and errors that say what is wrong") {
  const ParallelPlan p = Plan(4, 2);
  Result<Placement> where = ParsePlacement("0-3,8-11", p, 16);
  REQUIRE(where.ok());
  CHECK(where->gpu_of_rank == std::vector<int>{0, 1, 2, 3, 8, 9, 10, 11});
  CHECK_THAT(ParsePlacement("0-3,3-6", p, 16).status().message(), Contains("GPU 3 appears twice"));
  CHECK_THAT(ParsePlacement("0-7", p, 4).status().message(), Contains("GPU 4 does not exist"));
  CHECK_THAT(ParsePlacement("0-3", p, 16).status().message(), Contains("4 GPUs listed, plan tp=4,pp=2 has 8 ranks"));
  CHECK_THAT(ParsePlacement("packed", p, 4).status().message(), Contains("needs 8 GPUs, 4 given"));
}

}  // namespace
}  // namespace wiresim
