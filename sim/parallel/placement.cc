#include "sim/parallel/placement.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "sim/core/index_list.h"

namespace wiresim {
namespace {

Status CheckEnough(const ParallelPlan& plan, std::span<const int> gpus) {
  if (static_cast<int>(gpus.size()) < plan.WorldSize()) {
    return InvalidArgument("placement: plan " + plan.ToString() + " needs " + std::to_string(plan.WorldSize()) +
                           " GPUs, " + std::to_string(gpus.size()) + " given");
  }
  return Status::Ok();
}

size_t Dim(ParallelDim d) { return static_cast<size_t>(d); }

}  // namespace

std::string_view ToString(ParallelDim dim) {
  switch (dim) {
    case ParallelDim::kTp:
      return "TP";
    case ParallelDim::kCp:
      return "CP";
    case ParallelDim::kDp:
      return "DP";
    case ParallelDim::kPp:
      return "PP";
    case ParallelDim::kEp:
      return "EP";
  }
  return "?";
}

int RankOf(const ParallelPlan& p, RankCoord c) { return ((c.pp * p.dp + c.dp) * p.cp + c.cp) * p.tp + c.tp; }

RankCoord CoordOf(const ParallelPlan& p, int rank) {
  RankCoord c;
  c.tp = rank % p.tp;
  rank /= p.tp;
  c.cp = rank % p.cp;
  rank /= p.cp;
  c.dp = rank % p.dp;
  c.pp = rank / p.dp;
  return c;
}

Result<Placement> PackedPlacement::Place(const ParallelPlan& plan, std::span<const int> gpus) const {
  WIRESIM_RETURN_IF_ERROR(CheckEnough(plan, gpus));
  Placement out;
  out.gpu_of_rank.assign(gpus.begin(), gpus.begin() + plan.WorldSize());
  return out;
}

Result<Placement> StridedPlacement::Place(const ParallelPlan& plan, std::span<const int> gpus) const {
  WIRESIM_RETURN_IF_ERROR(CheckEnough(plan, gpus));
  const int world = plan.WorldSize();
  const int others = world / plan.tp;
  Placement out;
  out.gpu_of_rank.resize(static_cast<size_t>(world));
  for (int r = 0; r < world; ++r) {
    out.gpu_of_rank[static_cast<size_t>(r)] = gpus[static_cast<size_t>((r % plan.tp) * others + r / plan.tp)];
  }
  return out;
}

bool IsPlacementList(std::string_view text) { return !text.empty() && text != "packed" && text != "strided"; }

Result<Placement> ParsePlacement(std::string_view text, const ParallelPlan& plan, int gpu_count) {
  std::vector<int> all(static_cast<size_t>(gpu_count));
  for (int i = 0; i < gpu_count; ++i) all[static_cast<size_t>(i)] = i;
  if (!IsPlacementList(text)) {
    return text == "strided" ? StridedPlacement().Place(plan, all) : PackedPlacement().Place(plan, all);
  }
  auto listed = ParseIndexList(text);
  if (!listed.ok()) {
    return InvalidArgument("placement: " + listed.status().message() + " (expected packed, strided or a list of GPUs)");
  }
  Placement out;
  std::set<int> seen;
  for (int g : *listed) {
    if (g >= gpu_count) {
      return InvalidArgument("placement: GPU " + std::to_string(g) + " does not exist (GPUs 0-" +
                             std::to_string(gpu_count - 1) + ")");
    }
    if (!seen.insert(g).second) return InvalidArgument("placement: GPU " + std::to_string(g) + " appears twice");
    out.gpu_of_rank.push_back(g);
  }
  if (static_cast<int>(out.gpu_of_rank.size()) != plan.WorldSize()) {
    return InvalidArgument("placement: " + std::to_string(out.gpu_of_rank.size()) + " GPUs listed, plan " +
                           plan.ToString() + " has " + std::to_string(plan.WorldSize()) + " ranks");
  }
  return out;
}

const std::vector<int>& ParallelGroups::Of(ParallelDim dim, int rank) const {
  const std::vector<int>& index = group_of[Dim(dim)];
  WIRESIM_CHECK(static_cast<size_t>(rank) < index.size()) << ToString(dim) << " group of rank " << rank;
  return groups[Dim(dim)][static_cast<size_t>(index[static_cast<size_t>(rank)])];
}

int ParallelGroups::IndexIn(ParallelDim dim, int rank) const {
  (void)Of(dim, rank);
  return index_in[Dim(dim)][static_cast<size_t>(rank)];
}

ParallelGroups BuildGroups(const ParallelPlan& plan, const Placement& placement) {
  ParallelGroups g;
  const int world = plan.WorldSize();
  for (ParallelDim dim : {ParallelDim::kTp, ParallelDim::kCp, ParallelDim::kDp, ParallelDim::kPp, ParallelDim::kEp}) {
    if (dim == ParallelDim::kEp && plan.ep == 1) continue;
    auto& groups = g.groups[Dim(dim)];
    auto& of = g.group_of[Dim(dim)];
    auto& index_in = g.index_in[Dim(dim)];
    of.assign(static_cast<size_t>(world), -1);
    index_in.assign(static_cast<size_t>(world), -1);
    for (int r = 0; r < world; ++r) {
      if (of[static_cast<size_t>(r)] >= 0) continue;
      // The members: r with its coordinate along `dim` running over all values (EP: every rank of r's stage).
      const RankCoord base = CoordOf(plan, r);
      std::vector<int> ranks;
      if (dim == ParallelDim::kEp) {
        for (int i = 0; i < plan.GpusPerStage(); ++i) ranks.push_back(base.pp * plan.GpusPerStage() + i);
      } else {
        const int size = dim == ParallelDim::kTp   ? plan.tp
                         : dim == ParallelDim::kCp ? plan.cp
                         : dim == ParallelDim::kDp ? plan.dp
                                                   : plan.pp;
        for (int v = 0; v < size; ++v) {
          RankCoord c = base;
          (dim == ParallelDim::kTp ? c.tp : dim == ParallelDim::kCp ? c.cp : dim == ParallelDim::kDp ? c.dp : c.pp) = v;
          ranks.push_back(RankOf(plan, c));
        }
      }
      std::vector<int> gpus;
      for (size_t i = 0; i < ranks.size(); ++i) {
        of[static_cast<size_t>(ranks[i])] = static_cast<int>(groups.size());
        index_in[static_cast<size_t>(ranks[i])] = static_cast<int>(i);
        gpus.push_back(placement.GpuOf(ranks[i]));
      }
      groups.push_back(std::move(gpus));
    }
  }
  return g;
}

}  // namespace wiresim
