// Speculative decoding as vLLM v1 runs it: each step a running request carries k draft tokens proposed after the
// step before (vllm/v1/spec_decode: n-gram prompt lookup on the host, or a drafter on the GPUs: EAGLE's head or
// DeepSeek's MTP module); the target model computes the new token and the k drafts in one pass (1 + k query rows per
// request), the rejection sampler keeps the longest accepted prefix of the drafts and adds one token of its own, and
// the rejected drafts' KV entries are dropped (the request's computed tokens go back by their number). A step
// therefore emits 1 + a tokens per request, a the drafts accepted. docs/serving.md derives the costs and the
// assumptions; docs/metrics.md defines the acceptance figures.
//
// What a draft is worth is not the simulator's to predict (it depends on the text and on the drafter's training):
// the user gives it as vLLM reports it, per position, or as one per-token rate.
//
//   WIRESIM_ASSIGN_OR_RETURN(SpeculativeConfig c, MakeSpeculativeConfig("mtp", 3, {0.8, 0.6, 0.45}));
//   c.MeanAcceptanceLength();                 // 1 + 0.8 + 0.6 + 0.45 = 2.85
//   int64_t a = DrawAccepted(c, 3, rng);      // 0..3 drafts accepted this step
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "sim/core/random.h"
#include "sim/core/status.h"
#include "sim/model/model_spec.h"
#include "sim/parallel/step_graph.h"

namespace wiresim {

enum class DraftMethod {
  kNgram,  // prompt lookup on the host (vLLM's "ngram"): no GPU work, no lookahead slots
  kEagle,  // an EAGLE head: one dense decoder layer of the target's shape
  kMtp,    // DeepSeek's multi-token prediction module: one decoder layer of the target's last layer's kind
};

std::string_view ToString(DraftMethod method);
// "ngram", "eagle" (also "eagle3"), "mtp"; an error names the accepted ones.
Result<DraftMethod> ParseDraftMethod(std::string_view name);

struct SpeculativeConfig {
  DraftMethod method = DraftMethod::kMtp;
  int num_tokens = 0;  // draft tokens per step (vLLM's num_speculative_tokens); 0: no speculation
  // acceptance[i]: the fraction of steps with drafts whose drafts 0..i are all accepted (vLLM's "Per-position
  // acceptance rate"); non-increasing, each in [0, 1]; num_tokens entries.
  std::vector<double> acceptance;
  std::optional<DataType> draft_weight_dtype;  // the drafter's linear layers' type; unset: the target's

  bool enabled() const { return num_tokens > 0; }
  // 1 + the sum of the per-position rates: the tokens a step emits per request on average (vLLM's "Mean acceptance
  // length", the sampler's own token included).
  double MeanAcceptanceLength() const;
  // KV slots reserved past a request's tokens and drafts for the drafter's next pass (vLLM's num_lookahead_tokens:
  // num_tokens for a drafter on the GPUs, 0 for n-gram and without speculation).
  int64_t LookaheadTokens() const { return method == DraftMethod::kNgram ? 0 : num_tokens; }
  // The drafter as the step graph emits it (no passes for n-gram). MTP's layer has an MoE block when the target's
  // last layer has one; EAGLE's is dense unless the target has no dense MLP.
  DraftModel Drafter(const ModelSpec& model) const;
};

// `acceptance` holds either one entry, a per-token rate r (each draft accepted with probability r given the one
// before it was: position i's rate is r^(i+1)), or num_tokens per-position rates as vLLM logs them. Errors
// (InvalidArgument) name what was expected: num_tokens 1 to kMaxDraftTokens, rates in [0, 1] and non-increasing.
Result<SpeculativeConfig> MakeSpeculativeConfig(std::string_view method, int64_t num_tokens,
                                                const std::vector<double>& acceptance);

// The drafts the target accepts out of `drafts` (<= config.num_tokens): position i is accepted with probability
// acceptance[i] / acceptance[i - 1] given that the ones before it were, so the count's distribution has exactly the
// per-position rates of `config`. Draws one uniform per position it reaches.
int64_t DrawAccepted(const SpeculativeConfig& config, int64_t drafts, RandomStream& rng);

// What vLLM's SpecDecodingStats counts (vllm/v1/spec_decode/metrics.py): per request and step with drafts, one
// draft of num_draft_tokens tokens, num_accepted of them accepted, and each accepted position.
struct SpeculativeStats {
  int64_t drafts = 0;
  int64_t draft_tokens = 0;
  int64_t accepted_tokens = 0;
  std::vector<int64_t> accepted_per_position;

  void Observe(int64_t draft_tokens, int64_t accepted);
  void Add(const SpeculativeStats& other);
  double MeanAcceptanceLength() const;  // 1 + accepted / drafts (1 when there were none)
  double AcceptanceRate() const;        // accepted / draft tokens (0 when there were none)
};

}  // namespace wiresim
