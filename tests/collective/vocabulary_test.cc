// Names, filters and the GPU generation table.
#include <catch2/catch.hpp>

#include "sim/collective/algorithm.h"
#include "sim/collective/gpu_arch.h"

namespace wiresim {
namespace {

TEST_CASE("algorithm and protocol lists read like NCCL_ALGO and NCCL_PROTO") {
  AlgorithmFilter f;
  REQUIRE_FALSE(ParseAlgorithmList("ring,Tree", &f));
  CHECK(f.allows(Algorithm::kRing));
  CHECK(f.allows(Algorithm::kTree));
  CHECK_FALSE(f.allows(Algorithm::kNvls));
  AlgorithmFilter g;
  REQUIRE_FALSE(ParseAlgorithmList("^nvls,nvlstree", &g));
  CHECK_FALSE(g.allows(Algorithm::kNvls));
  CHECK_FALSE(g.allows(Algorithm::kNvlsTree));
  CHECK(g.allows(Algorithm::kRing));
  AlgorithmFilter h;
  REQUIRE_FALSE(ParseProtocolList("^LL", &h));
  CHECK_FALSE(h.allows(Protocol::kLL));
  CHECK(h.allows(Protocol::kLL128));
  AlgorithmFilter bad;
  const auto err = ParseAlgorithmList("ring,butterfly", &bad);
  REQUIRE(err);
  CHECK(err->find("butterfly") != std::string::npos);
}

TEST_CASE("GPU models map to NCCL's generations") {
  CHECK(GpuArchFromModel("h100-sxm").sm == 90);
  CHECK(GpuArchFromModel("H200_SXM").nccl_index() == 2);
  CHECK(GpuArchFromModel("a100-sxm-80gb").generation == GpuGeneration::kAmpere);
  CHECK(GpuArchFromModel("gb200").sm == 100);
  CHECK(GpuArchFromModel("l40s").generation == GpuGeneration::kAda);
  CHECK(GpuArchFromModel("l40s").nccl_index() == 1);  // NCCL's tables treat sm89 as Ampere
  CHECK(GpuArchFromModel("rtx-a6000").sm == 86);
  CHECK(GpuArchFromModel("rtx-4090").sm == 89);
  // RTX PRO 6000 and RTX 5090 are sm120; NCCL's compCapIndex takes every sm >= 100 as Blackwell (3).
  CHECK(GpuArchFromModel("rtx-pro-6000").sm == 120);
  CHECK(GpuArchFromModel("rtx-pro-6000-ws").nccl_index() == 3);
  CHECK(GpuArchFromModel("rtx-5090").generation == GpuGeneration::kBlackwell);
  CHECK(GpuArchFromModel("h100-pcie").sm == 90);
  CHECK(GpuArchFromModel("l4").sm == 89);
  CHECK(GpuArchFromModel("a10").sm == 86);
  CHECK_FALSE(GpuArchFromModel("mystery-9000").known);
}

}  // namespace
}  // namespace wiresim
