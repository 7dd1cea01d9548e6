// Placement: which GPU runs each rank of a plan, and the communication groups that follow (TP, CP, DP, PP, EP) as
// lists of global GPU indices. Ranks are numbered with tp innermost, then cp, dp, and pp outermost, as Megatron
// and vLLM number them; `packed` puts rank r on the r-th GPU given, so a TP group is consecutive GPUs (one
// NVLink domain on an 8-GPU node); `strided` spreads each TP group across the GPUs; an explicit list pins every
// rank. A topology-aware search plugs in as another PlacementPolicy.
//
//   WIRESIM_ASSIGN_OR_RETURN(Placement where, ParsePlacement("packed", plan, /*gpu_count=*/16));
//   ParallelGroups groups = BuildGroups(plan, where);
//   const std::vector<int>& tp0 = groups.Of(ParallelDim::kTp, /*rank=*/0);   // {0, 1, ..., 7}
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/status.h"
#include "sim/parallel/plan.h"

namespace wiresim {

// The parallel dimension a collective belongs to.
enum class ParallelDim { kTp, kCp, kDp, kPp, kEp };
std::string_view ToString(ParallelDim dim);

struct RankCoord {
  int tp = 0;
  int cp = 0;
  int dp = 0;
  int pp = 0;
};
int RankOf(const ParallelPlan& plan, RankCoord coord);
RankCoord CoordOf(const ParallelPlan& plan, int rank);

struct Placement {
  std::vector<int> gpu_of_rank;  // global GPU index per rank
  int GpuOf(int rank) const { return gpu_of_rank[static_cast<size_t>(rank)]; }
};

// Chooses GPUs for a plan's ranks among `gpus` (global indices, in the order the caller prefers).
class PlacementPolicy {
 public:
  virtual ~PlacementPolicy() = default;
  virtual Result<Placement> Place(const ParallelPlan& plan, std::span<const int> gpus) const = 0;
};

// Rank r on gpus[r].
class PackedPlacement : public PlacementPolicy {
 public:
  Result<Placement> Place(const ParallelPlan& plan, std::span<const int> gpus) const override;
};

// TP peers world/tp GPUs apart: rank (tp index t, other ranks' index o) on gpus[t x world/tp + o].
class StridedPlacement : public PlacementPolicy {
 public:
  Result<Placement> Place(const ParallelPlan& plan, std::span<const int> gpus) const override;
};

// "packed", "strided", or an explicit list of GPU indices in rank order ("0,2,4,6,1,3,5,7", ranges "0-7").
// The GPUs are 0 .. gpu_count - 1. Errors name the problem: wrong length, repeats, indices out of range.
Result<Placement> ParsePlacement(std::string_view text, const ParallelPlan& plan, int gpu_count);
// Whether ParsePlacement reads `text` as a list of GPUs (neither "packed", "strided" nor empty).
bool IsPlacementList(std::string_view text);

struct ParallelGroups {
  // One entry per group, each the GPUs of its ranks in rank order. group_of[dim][rank] indexes into groups[dim].
  std::vector<std::vector<int>> groups[5];
  std::vector<int> group_of[5];
  std::vector<int> index_in[5];

  // The GPUs of `rank`'s group along `dim`. EP groups exist only when plan.ep > 1 (then: every rank of a stage).
  const std::vector<int>& Of(ParallelDim dim, int rank) const;
  // The position of `rank` within that group.
  int IndexIn(ParallelDim dim, int rank) const;
};
ParallelGroups BuildGroups(const ParallelPlan& plan, const Placement& placement);

}  // namespace wiresim
