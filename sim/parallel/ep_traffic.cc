#include "sim/parallel/ep_traffic.h"

#include <algorithm>
#include <cmath>

#include "sim/parallel/expert_routing.h"

namespace wiresim {
namespace internal {
namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The tokens one rank contributes to the dispatch for a batch: its CP share, and 1/tp of that where its TP group
// splits the tokens (all of them in vLLM's layout, GathersOverDpGroup).
int64_t DispatchedTokens(const BatchShape& b, const ParallelPlan& p, const StepGraphOptions& o) {
  const int64_t tokens = CeilDiv(b.Tokens(), p.cp);
  return p.tp > 1 && !GathersOverDpGroup(p, o.ep_exchange) ? CeilDiv(tokens, p.tp) : tokens;
}

}  // namespace

const EpTraffic::Matrix& EpTraffic::MatrixOf(const std::vector<int>& ep, int mb, bool combine, int top_k) const {
  const auto key = std::make_tuple(ep.front(), mb, combine);
  auto it = matrices_.find(key);
  if (it != matrices_.end()) return it->second;
  const size_t n = ep.size();
  std::vector<int64_t> tokens(n);
  for (size_t i = 0; i < n; ++i) tokens[i] = tokens_of_gpu[static_cast<size_t>(ep[i])][static_cast<size_t>(mb)];
  const double per_copy = combine ? combine_bytes : dispatch_bytes;
  // Rows rank i sends rank j: its copies routed there, or (once per destination rank) its tokens x the chance a
  // token has an expert there.
  std::vector<double> copies;
  if (Extends(mb)) {
    // Each EP rank's domain (dense ids in order of first appearance), its index among the domain's ranks, and the
    // ranks of each domain in EP order.
    std::vector<int> domain(n), local(n);
    std::vector<std::vector<size_t>> members;
    std::map<int, int> dense;
    for (size_t i = 0; i < n; ++i) {
      const size_t gpu = static_cast<size_t>(ep[i]);
      const int id = gpu < domain_of_gpu.size() ? domain_of_gpu[gpu] : -1;
      int d = static_cast<int>(members.size());
      if (id >= 0) {
        auto [at, added] = dense.emplace(id, d);
        d = at->second;
        if (added) members.emplace_back();
      } else {
        members.emplace_back();
      }
      domain[i] = d;
      local[i] = static_cast<int>(members[static_cast<size_t>(d)].size());
      members[static_cast<size_t>(d)].push_back(i);
    }
    copies.assign(n * n, 0.0);
    const bool forwards = members.size() > 1 && members.size() < n;
    std::vector<double> domain_hit;
    if (forwards) {
      domain_hit = DomainHits(routing, experts, top_k, static_cast<int>(n), expert_imbalance, groups, domain);
    }
    for (size_t i = 0; i < n; ++i) {
      const double t = static_cast<double>(tokens[i]);
      for (size_t d = 0; d < members.size(); ++d) {
        const std::vector<size_t>& m = members[d];
        if (!forwards || static_cast<int>(d) == domain[i]) {
          for (size_t j : m) {
            if (j != i) copies[i * n + j] += t * hit[j];
          }
          continue;
        }
        const size_t f = m[static_cast<size_t>(local[i]) % m.size()];
        copies[i * n + f] += t * domain_hit[d];
        for (size_t j : m) {
          if (j != f) copies[f * n + j] += t * hit[j];
        }
      }
    }
  } else {
    copies = RoutedCopies(tokens, top_k, share);
  }
  Matrix m;
  m.bytes.resize(n * n);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      m.bytes[i * n + j] = per_copy * (combine ? copies[j * n + i] : copies[i * n + j]);
      if (i != j && m.bytes[i * n + j] != m.bytes[n > 1 ? 1 : 0]) m.even = false;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    double row = 0, col = 0;
    for (size_t j = 0; j < n; ++j) {
      row += m.bytes[i * n + j];
      col += m.bytes[j * n + i];
    }
    m.largest = std::max({m.largest, row, col});
  }
  return matrices_.emplace(key, std::move(m)).first->second;
}

const EpTraffic::Gathered& EpTraffic::GatheredOf(const std::vector<int>& group, int mb) const {
  const auto key = std::make_pair(group.front(), mb);
  auto it = gathered_.find(key);
  if (it != gathered_.end()) return it->second;
  int64_t sum = 0, most = 0;
  for (int gpu : group) {
    const int64_t t = tokens_of_gpu[static_cast<size_t>(gpu)][static_cast<size_t>(mb)];
    sum += t;
    most = std::max(most, t);
  }
  const int64_t padded = most * static_cast<int64_t>(group.size());
  Gathered g;
  g.sum_len = sum_len && (Extends(mb) || 2 * sum < padded);
  g.rows = g.sum_len ? sum : padded;
  return gathered_.emplace(key, g).first->second;
}

EpTraffic BuildEpTraffic(const ModelSpec& model, const ParallelPlan& plan, const Placement& placement,
                         const StepGraphOptions& options, const std::vector<int>& ranks,
                         const std::vector<const BatchShape*>& batches, int gpus) {
  EpTraffic traffic;
  if (plan.ep <= 1 || !model.IsMoe()) return traffic;
  traffic.tokens_of_gpu.assign(static_cast<size_t>(gpus), {0, 0, 0, 0});
  traffic.sum_len = options.ep_gather.sum_len;
  for (size_t i = 0; i < ranks.size(); ++i) {
    std::array<int64_t, 4>& t = traffic.tokens_of_gpu[static_cast<size_t>(placement.GpuOf(ranks[i]))];
    t[0] = DispatchedTokens(*batches[i], plan, options);
    if (!batches[i]->prefills.empty()) traffic.any_prefill = true;
    if (options.draft.passes > 1) {
      t[EpTraffic::kLaterDraftPasses] = DispatchedTokens(DraftPassBatch(*batches[i], 1), plan, options);
    }
    if (options.two_batch_overlap) {
      const std::array<BatchShape, 2> halves = SplitInTwo(*batches[i]);
      t[1] = DispatchedTokens(halves[0], plan, options);
      t[2] = DispatchedTokens(halves[1], plan, options);
    }
  }
  traffic.share = DestinationShares(options.routing, static_cast<int>(model.moe.num_experts),
                                    static_cast<int>(model.moe.experts_per_token), plan.ep, options.expert_imbalance);
  traffic.hit = DestinationHits(options.routing, static_cast<int>(model.moe.num_experts),
                                static_cast<int>(model.moe.experts_per_token), plan.ep, options.expert_imbalance,
                                ExpertGroupsOf(model));
  traffic.domain_of_gpu = options.gpu_domain;
  traffic.routing = options.routing;
  traffic.experts = static_cast<int>(model.moe.num_experts);
  traffic.expert_imbalance = options.expert_imbalance;
  traffic.groups = ExpertGroupsOf(model);
  // Dispatch in what the expert GEMMs read: with 8-bit experts (fp8 W8A8), 1 byte per element plus one fp32 scale
  // per 128 elements (DeepEP's FP8 dispatch: per-token, per-128-channel scales; its README and
  // refdata/deepseek_deepep_ep_alltoall_measurements.md: "FP8 dispatch, BF16 combine"); else the activation type.
  // Combine returns the expert outputs at the activation type.
  const DataType w = model.weight_dtype;
  const double h = static_cast<double>(model.hidden_size), a = BytesPerElement(model.activation_dtype);
  const bool fp8 = w == DataType::kFloat8E4M3 || w == DataType::kFloat8E5M2 || w == DataType::kInt8;
  traffic.dispatch_bytes = fp8 ? h + std::ceil(h / 128.0) * 4.0 : h * a;
  traffic.combine_bytes = h * a;
  if (options.ep_exchange == StepGraphOptions::EpExchange::kAllGather) {
    // Per token: the hidden state at the activation type, and its top-k weights (fp32) and expert ids (int32) where
    // the router runs before the gather.
    traffic.dispatch_bytes = h * a;
    if (options.ep_gather.routing) traffic.dispatch_bytes += static_cast<double>(model.moe.experts_per_token) * 8.0;
  }
  return traffic;
}

}  // namespace internal
}  // namespace wiresim
