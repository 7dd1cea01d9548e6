// The placement search tests' helpers: a plan from its text, GPU ranges, the search's placement REQUIREd to succeed,
// a placement's TP groups and its score.
#pragma once

#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "sim/parallel/placement_search.h"

namespace wiresim::testing {

inline ParallelPlan Plan(const std::string& text) {
  Result<ParallelPlan> p = ParsePlan(text);
  REQUIRE(p.ok());
  return *p;
}

inline std::vector<int> Range(int n) {
  std::vector<int> v;
  for (int i = 0; i < n; ++i) v.push_back(i);
  return v;
}

inline Placement Auto(const Topology& topo, const ModelSpec& m, const ParallelPlan& plan, const std::vector<int>& gpus,
                      PlacementScore* score = nullptr) {
  Result<Placement> p = AutoPlacement(topo, m, plan, gpus, score);
  INFO(p.status().message());
  REQUIRE(p.ok());
  return *p;
}

// The TP groups of a placement, each as a sorted set of GPUs.
inline std::set<std::set<int>> TpGroups(const ParallelPlan& plan, const Placement& where) {
  std::set<std::set<int>> out;
  for (const std::vector<int>& g : BuildGroups(plan, where).groups[0]) out.insert(std::set<int>(g.begin(), g.end()));
  return out;
}

inline double Score(const Topology& topo, const ModelSpec& m, const ParallelPlan& plan,
                    const std::vector<int>& gpu_of_rank) {
  Placement p;
  p.gpu_of_rank = gpu_of_rank;
  return ScorePlacement(topo, m, plan, p).cost_seconds;
}

}  // namespace wiresim::testing
