#include "sim/parallel/expert_routing.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "sim/core/check.h"
#include "sim/core/random.h"

namespace wiresim {

std::optional<RoutingKind> ParseRoutingKind(std::string_view text) {
  if (text == "uniform") return RoutingKind::kUniform;
  if (text == "skewed") return RoutingKind::kSkewed;
  return std::nullopt;
}

std::string_view ToString(RoutingKind kind) { return kind == RoutingKind::kUniform ? "uniform" : "skewed"; }

Status ValidateRouting(const ExpertRouting& r, double expert_imbalance) {
  if (!(expert_imbalance >= 1.0) || !std::isfinite(expert_imbalance)) {
    return InvalidArgument("expert imbalance must be >= 1 (1 = balanced), got " + std::to_string(expert_imbalance));
  }
  if (r.kind == RoutingKind::kSkewed) {
    if (!(r.skew > 0) || !std::isfinite(r.skew)) {
      return InvalidArgument("skewed routing needs a Zipf exponent > 0, got " + std::to_string(r.skew));
    }
    if (expert_imbalance != 1.0) {
      return InvalidArgument("expert imbalance applies to uniform routing; skewed routing sets the load itself");
    }
  }
  return Status::Ok();
}

std::vector<double> ExpertShares(const ExpertRouting& r, int experts, int top_k) {
  WIRESIM_CHECK(experts > 0 && top_k > 0 && top_k <= experts);
  const size_t e = static_cast<size_t>(experts);
  if (r.kind == RoutingKind::kUniform) return std::vector<double>(e, 1.0 / experts);
  // Popularity order: a Fisher-Yates shuffle from the seed (the project's generator, the same on every platform).
  std::vector<int> order(e);
  std::iota(order.begin(), order.end(), 0);
  RandomStream rng(RandomStreams::StreamSeed(r.seed, "expert-routing"));
  for (size_t i = e - 1; i > 0; --i) {
    std::swap(order[i], order[static_cast<size_t>(rng.UniformInt(0, static_cast<int64_t>(i)))]);
  }
  std::vector<double> weight(e);
  for (size_t rank = 0; rank < e; ++rank) {
    weight[static_cast<size_t>(order[rank])] = 1.0 / std::pow(static_cast<double>(rank + 1), r.skew);
  }
  // A token picks k distinct experts, so no expert receives more than 1/k of the copies: cap, and spread what the
  // capped ones give up over the others in proportion to their weight, until none exceeds the cap.
  const double cap = 1.0 / top_k;
  std::vector<double> share(e, 0.0);
  std::vector<bool> capped(e, false);
  for (;;) {
    double free_weight = 0, left = 1.0;
    for (size_t i = 0; i < e; ++i) {
      if (capped[i]) {
        left -= cap;
      } else {
        free_weight += weight[i];
      }
    }
    bool changed = false;
    for (size_t i = 0; i < e; ++i) {
      if (capped[i]) {
        share[i] = cap;
        continue;
      }
      share[i] = left * weight[i] / free_weight;
      if (share[i] > cap * (1 + 1e-12)) {
        capped[i] = true;
        changed = true;
      }
    }
    if (!changed) break;
  }
  return share;
}

std::vector<double> DestinationShares(const ExpertRouting& r, int experts, int top_k, int ep, double expert_imbalance) {
  WIRESIM_CHECK(ep > 0 && experts % ep == 0);
  const size_t n = static_cast<size_t>(ep);
  std::vector<double> out(n, 0.0);
  if (r.kind == RoutingKind::kUniform && expert_imbalance != 1.0 && ep > 1) {
    const double hot = std::min(expert_imbalance, static_cast<double>(ep)) / ep;
    out.assign(n, (1.0 - hot) / (ep - 1));
    out[0] = hot;
    return out;
  }
  const std::vector<double> share = ExpertShares(r, experts, top_k);
  const size_t per_rank = static_cast<size_t>(experts / ep);
  for (size_t x = 0; x < share.size(); ++x) out[x / per_rank] += share[x];
  return out;
}

namespace {

// C(n, k) as a double (0 outside 0 <= k <= n).
double Choose(int n, int k) {
  if (k < 0 || k > n) return 0;
  k = std::min(k, n - k);
  double c = 1;
  for (int i = 0; i < k; ++i) c = c * (n - i) / (i + 1);
  return c;
}

// C(m - h, k) / C(m, k): the chance none of k distinct picks from m items is one of h of them.
double NoneOf(int m, double h, int k) {
  double miss = 1.0;
  for (int i = 0; i < k && miss > 0; ++i) miss *= std::max(0.0, m - h - i) / (m - i);
  return miss;
}

// DestinationHits under uniform, group-limited routing for the rank holding experts [first, first + count).
double GroupLimitedHit(int experts, int top_k, ExpertGroups g, int first, int count) {
  const int size = experts / g.groups;
  const int m_items = g.picked * size;
  // The rank's experts in each group it overlaps.
  std::vector<int> overlap;
  for (int grp = first / size; grp * size < first + count; ++grp) {
    overlap.push_back(std::min(first + count, (grp + 1) * size) - std::max(first, grp * size));
  }
  const int m = static_cast<int>(overlap.size());
  const double all = Choose(g.groups, g.picked);
  const bool alike = std::all_of(overlap.begin(), overlap.end(), [&](int c) { return c == overlap[0]; });
  if (alike || static_cast<double>(m + 1) * (count + 1) > 1e7) {
    // Every group holds the same number of the rank's experts (the rank lies in one group, or covers whole ones):
    // C(m, t) subsets of t groups with t x that many. (Past the table's size, the mean stands for each.)
    const double per_group = static_cast<double>(count) / m;
    double miss = 0;
    for (int t = 0; t <= std::min(m, g.picked); ++t) {
      miss += Choose(m, t) * Choose(g.groups - m, g.picked - t) / all * NoneOf(m_items, t * per_group, top_k);
    }
    return 1.0 - miss;
  }
  // ways[t][h]: the subsets of the rank's groups with t groups and h of its experts.
  std::vector<std::vector<double>> ways(static_cast<size_t>(m) + 1, std::vector<double>(count + 1, 0.0));
  ways[0][0] = 1;
  for (int c : overlap) {
    for (int t = m - 1; t >= 0; --t) {
      for (int h = count - c; h >= 0; --h) ways[t + 1][h + c] += ways[t][h];
    }
  }
  double miss = 0;
  for (int t = 0; t <= std::min(m, g.picked); ++t) {
    const double rest = Choose(g.groups - m, g.picked - t) / all;  // the other picked groups lie elsewhere
    if (rest <= 0) continue;
    for (int h = 0; h <= count; ++h) {
      if (ways[t][h] > 0) miss += ways[t][h] * rest * NoneOf(m_items, h, top_k);
    }
  }
  return 1.0 - miss;
}

}  // namespace

ExpertGroups ExpertGroupsOf(const ModelSpec& model) {
  return {static_cast<int>(model.moe.expert_groups), static_cast<int>(model.moe.topk_groups)};
}

std::vector<double> DestinationHits(const ExpertRouting& r, int experts, int top_k, int ep, double expert_imbalance,
                                    ExpertGroups groups) {
  WIRESIM_CHECK(ep > 0 && experts % ep == 0 && top_k > 0 && top_k <= experts);
  const int per_rank = experts / ep;
  const size_t n = static_cast<size_t>(ep);
  const bool grouped = groups.groups > 1 && groups.picked < groups.groups;
  if (grouped) {
    WIRESIM_CHECK(groups.picked >= 1 && experts % groups.groups == 0 &&
                  groups.picked * (experts / groups.groups) >= top_k);
  }
  if (r.kind == RoutingKind::kUniform && (expert_imbalance == 1.0 || ep == 1) && grouped) {
    std::vector<double> out(n);
    for (size_t j = 0; j < n; ++j) {
      out[j] = GroupLimitedHit(experts, top_k, groups, static_cast<int>(j) * per_rank, per_rank);
    }
    return out;
  }
  if (r.kind == RoutingKind::kUniform && (expert_imbalance == 1.0 || ep == 1)) {
    return std::vector<double>(n, 1.0 - NoneOf(experts, per_rank, top_k));
  }
  std::vector<double> picked(static_cast<size_t>(experts));  // the chance each expert is among a token's k
  if (r.kind == RoutingKind::kUniform) {
    const std::vector<double> rank = DestinationShares(r, experts, top_k, ep, expert_imbalance);
    for (int x = 0; x < experts; ++x)
      picked[static_cast<size_t>(x)] = rank[static_cast<size_t>(x / per_rank)] / per_rank;
  } else {
    picked = ExpertShares(r, experts, top_k);
  }
  std::vector<double> out(n, 0.0);
  for (size_t j = 0; j < n; ++j) {
    double miss = 1.0;
    for (int x = 0; x < per_rank; ++x) {
      miss *= 1.0 - std::min(1.0, top_k * picked[j * static_cast<size_t>(per_rank) + static_cast<size_t>(x)]);
    }
    out[j] = 1.0 - miss;
  }
  return out;
}

std::vector<double> DomainHits(const ExpertRouting& r, int experts, int top_k, int ep, double expert_imbalance,
                               ExpertGroups groups, std::span<const int> domain_of_rank) {
  WIRESIM_CHECK(static_cast<int>(domain_of_rank.size()) == ep);
  const int domains = ep == 0 ? 0 : *std::max_element(domain_of_rank.begin(), domain_of_rank.end()) + 1;
  const int per_rank = experts / ep;
  const bool uniform = r.kind == RoutingKind::kUniform && (expert_imbalance == 1.0 || ep == 1);
  // The ranks' own hits, which only skew or imbalance combines.
  const std::vector<double> hit =
      uniform ? std::vector<double>{} : DestinationHits(r, experts, top_k, ep, expert_imbalance, groups);
  const bool grouped = groups.groups > 1 && groups.picked < groups.groups;
  std::vector<double> out(static_cast<size_t>(domains), 0.0);
  for (int d = 0; d < domains; ++d) {
    // The set's runs of consecutive ranks: [first, first + count) each.
    std::vector<std::pair<int, int>> runs;
    for (int j = 0; j < ep; ++j) {
      if (domain_of_rank[static_cast<size_t>(j)] != d) continue;
      if (!runs.empty() && runs.back().first + runs.back().second == j) {
        ++runs.back().second;
      } else {
        runs.push_back({j, 1});
      }
    }
    WIRESIM_CHECK(!runs.empty());
    double& o = out[static_cast<size_t>(d)];
    if (uniform && !grouped) {
      int ranks = 0;
      for (const auto& run : runs) ranks += run.second;
      o = 1.0 - NoneOf(experts, static_cast<double>(ranks) * per_rank, top_k);
    } else if (uniform && runs.size() == 1) {
      o = GroupLimitedHit(experts, top_k, groups, runs[0].first * per_rank, runs[0].second * per_rank);
    } else {
      double miss = 1.0;
      for (const auto& run : runs) {
        if (uniform) {
          miss *= 1.0 - GroupLimitedHit(experts, top_k, groups, run.first * per_rank, run.second * per_rank);
        } else {
          for (int j = run.first; j < run.first + run.second; ++j) miss *= 1.0 - hit[static_cast<size_t>(j)];
        }
      }
      o = 1.0 - miss;
    }
  }
  return out;
}

std::vector<double> RoutedCopies(std::span<const int64_t> tokens, int top_k, std::span<const double> share) {
  const size_t n = tokens.size();
  WIRESIM_CHECK(share.size() == n);
  std::vector<double> out(n * n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      if (i != j) out[i * n + j] = static_cast<double>(tokens[i]) * top_k * share[j];
    }
  }
  return out;
}

}  // namespace wiresim
