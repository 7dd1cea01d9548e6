// Where the tokens of an expert-parallel MoE layer go: each token picks top-k of E routed experts, the experts
// are spread E / ep per EP rank, and the dispatch all-to-all-v moves, from every rank to every other, the token
// copies routed to the experts the destination holds (the combine moves the results back: the transpose).
// Expected counts, not samples: a run stays deterministic and every layer of a kind costs the same.
//
//   ExpertRouting r;                                       // uniform: every expert equally likely
//   std::vector<double> share = DestinationShares(r, /*experts=*/256, /*top_k=*/8, /*ep=*/32);  // 1/32 each
//   std::vector<double> copies = RoutedCopies({128, 128}, 8, {0.5, 0.5});   // [i * 2 + j], i -> j; diagonal 0
//   std::vector<double> hits = DestinationHits(r, 256, 8, 32);   // a token reaches each rank with p = 0.227
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "sim/core/status.h"
#include "sim/model/model_spec.h"

namespace wiresim {

// How tokens choose experts.
//   kUniform: every expert equally likely (expected counts tokens x k / E per expert).
//   kSkewed: expert popularity follows a Zipf law with exponent `skew` over a seeded random order of the experts
//            (the e-th most popular has weight 1 / e^skew), capped at one copy per token per expert (a token picks
//            k distinct experts) with the excess spread over the others; the EP rank holding the hot experts
//            receives more.
enum class RoutingKind { kUniform, kSkewed };

struct ExpertRouting {
  RoutingKind kind = RoutingKind::kUniform;
  double skew = 1.0;  // kSkewed: the Zipf exponent (> 0)
  uint64_t seed = 0;  // kSkewed: orders the experts by popularity (the run's seed)
};

// "uniform" or "skewed"; nullopt otherwise.
std::optional<RoutingKind> ParseRoutingKind(std::string_view text);
std::string_view ToString(RoutingKind kind);

// Checks ranges: skew > 0 and finite; expert_imbalance >= 1, and not above 1 with skewed routing (which sets the
// load itself).
Status ValidateRouting(const ExpertRouting& routing, double expert_imbalance);

// The expected fraction of one token's k copies that expert e receives (sums to 1 over the experts).
// REQUIRES: ValidateRouting(routing) is OK, 0 < top_k <= experts.
std::vector<double> ExpertShares(const ExpertRouting& routing, int experts, int top_k);

// The fraction of every rank's copies that each EP rank receives: the shares of its experts (EP rank r holds
// experts [r E / ep, (r + 1) E / ep), as vLLM and SGLang place them without a load balancer). REQUIRES: ep divides
// experts. `expert_imbalance` f > 1 (uniform routing only; the coarser knob `--expert-imbalance` sets): EP rank 0
// receives f / ep of every rank's copies and the others share the rest evenly.
std::vector<double> DestinationShares(const ExpertRouting& routing, int experts, int top_k, int ep,
                                      double expert_imbalance = 1.0);

// Group-limited routing (DeepSeek's n_group, topk_group): the experts form `groups` contiguous groups of E / groups
// and a token's k experts lie in `picked` of them. {1, 1}: no limit.
struct ExpertGroups {
  int groups = 1;
  int picked = 1;
};
// The model's (ModelSpec's MoeShape: expert_groups, topk_groups).
ExpertGroups ExpertGroupsOf(const ModelSpec& model);

// The probability that one token has at least one of its k experts on EP rank j: the rows a dispatch that sends a
// token once per destination rank (DeepEP's normal kernels: get_dispatch_layout's is_token_in_rank) sends rank j
// per token. Uniform routing: 1 - C(E - E/ep, k) / C(E, k), the chance none of k distinct experts is one of rank
// j's E / ep. With group-limited routing the token's groups are `picked` of the G, uniformly, and its k experts
// are k of those groups' M = picked x E / G: 1 - sum over the groups T of rank j's that are picked of
// P(T) C(M - h(T), k) / C(M, k), h(T) the rank's experts in T and P(T) = C(G - m, picked - |T|) / C(G, picked)
// for a rank overlapping m groups. Otherwise each expert x is taken with probability min(1, k s_x) (s_x its share
// of the k copies; under expert imbalance the rank's share spread evenly over its experts), independently:
// 1 - prod (1 - k s_x), the group limit left out. Same REQUIRES as DestinationShares; groups divides experts and
// picked x E / groups >= top_k.
std::vector<double> DestinationHits(const ExpertRouting& routing, int experts, int top_k, int ep,
                                    double expert_imbalance = 1.0, ExpertGroups groups = {});

// The probability that one token has at least one of its k experts on some rank of a set of EP ranks, for each
// set: EP rank r belongs to set domain_of_rank[r] (ids 0 .. D-1, every id used). The rows a dispatch that sends a
// token once per destination NVLink domain sends each domain (DeepEP's internode normal kernels:
// get_dispatch_layout's is_token_in_rdma_rank). Under uniform routing a set that is one run of consecutive ranks
// holds the consecutive experts [first, first + e) and is hit as DestinationHits' rank of those e would be, group
// limit included: exact; without groups any set is exact, 1 - C(E - e, k) / C(E, k). A set of several runs under
// group-limited routing takes its runs as independent (1 - prod over runs (1 - hit of the run)); under skew or
// imbalance a set takes its ranks' DestinationHits as independent, which is DestinationHits' own independent-expert
// product over the set's experts. Same REQUIRES as DestinationHits; domain_of_rank.size() == ep.
std::vector<double> DomainHits(const ExpertRouting& routing, int experts, int top_k, int ep, double expert_imbalance,
                               ExpertGroups groups, std::span<const int> domain_of_rank);

// Token copies EP rank i sends to EP rank j (row-major n x n, n = tokens.size()): tokens[i] x k x share[j] for
// i != j; 0 on the diagonal, whose copies stay on their GPU. Multiply by the bytes of one copy for the
// all-to-all-v's matrix.
std::vector<double> RoutedCopies(std::span<const int64_t> tokens, int top_k, std::span<const double> share);

}  // namespace wiresim
