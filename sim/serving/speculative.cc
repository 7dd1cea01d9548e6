#include "sim/serving/speculative.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "sim/core/check.h"
#include "sim/parallel/batch.h"

namespace wiresim {
namespace {

std::string Num(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

}  // namespace

std::string_view ToString(DraftMethod method) {
  switch (method) {
    case DraftMethod::kNgram:
      return "ngram";
    case DraftMethod::kEagle:
      return "eagle";
    case DraftMethod::kMtp:
      return "mtp";
  }
  return "?";
}

Result<DraftMethod> ParseDraftMethod(std::string_view name) {
  if (name == "ngram") return DraftMethod::kNgram;
  if (name == "eagle" || name == "eagle3") return DraftMethod::kEagle;
  if (name == "mtp") return DraftMethod::kMtp;
  return InvalidArgument("speculative method '" + std::string(name) + "': expected ngram, eagle, eagle3 or mtp");
}

double SpeculativeConfig::MeanAcceptanceLength() const {
  double length = 1;
  for (double a : acceptance) length += a;
  return length;
}

DraftModel SpeculativeConfig::Drafter(const ModelSpec& model) const {
  DraftModel d;
  if (!enabled() || method == DraftMethod::kNgram) return d;
  d.passes = num_tokens;
  d.weight_dtype = draft_weight_dtype;
  d.moe = method == DraftMethod::kMtp ? model.IsMoeLayer(model.num_layers - 1)
                                      : model.IsMoe() && model.intermediate_size == 0;
  return d;
}

Result<SpeculativeConfig> MakeSpeculativeConfig(std::string_view method, int64_t num_tokens,
                                                const std::vector<double>& acceptance) {
  SpeculativeConfig c;
  WIRESIM_ASSIGN_OR_RETURN(c.method, ParseDraftMethod(method));
  if (num_tokens < 1 || num_tokens > kMaxDraftTokens) {
    return InvalidArgument("num_speculative_tokens: expected 1 to " + std::to_string(kMaxDraftTokens) + ", got " +
                           std::to_string(num_tokens));
  }
  c.num_tokens = static_cast<int>(num_tokens);
  const size_t k = static_cast<size_t>(num_tokens);
  if (acceptance.size() != 1 && acceptance.size() != k) {
    return InvalidArgument("acceptance: expected one per-token rate or " + std::to_string(k) +
                           " per-position rates (one per speculative token), got " + std::to_string(acceptance.size()));
  }
  for (size_t i = 0; i < acceptance.size(); ++i) {
    if (!(acceptance[i] >= 0 && acceptance[i] <= 1)) {
      return InvalidArgument("acceptance[" + std::to_string(i) + "]: expected a rate in [0, 1], got " +
                             Num(acceptance[i]));
    }
    if (i > 0 && acceptance[i] > acceptance[i - 1]) {
      return InvalidArgument("acceptance[" + std::to_string(i) + "] = " + Num(acceptance[i]) + " exceeds acceptance[" +
                             std::to_string(i - 1) + "] = " + Num(acceptance[i - 1]) +
                             ": per-position rates count drafts accepted up to that position, so they cannot rise");
    }
  }
  if (acceptance.size() == 1 && k > 1) {
    double rate = 1;
    for (size_t i = 0; i < k; ++i) c.acceptance.push_back(rate *= acceptance[0]);
  } else {
    c.acceptance = acceptance;
  }
  return c;
}

int64_t DrawAccepted(const SpeculativeConfig& config, int64_t drafts, RandomStream& rng) {
  WIRESIM_CHECK(drafts >= 0 && drafts <= config.num_tokens) << drafts << " drafts";
  int64_t accepted = 0;
  double before = 1;
  while (accepted < drafts) {
    const double rate = config.acceptance[static_cast<size_t>(accepted)];
    if (rate <= 0 || !(rng.Uniform01() * before < rate)) break;
    before = rate;
    ++accepted;
  }
  return accepted;
}

void SpeculativeStats::Observe(int64_t draft, int64_t accepted) {
  ++drafts;
  draft_tokens += draft;
  accepted_tokens += accepted;
  if (static_cast<int64_t>(accepted_per_position.size()) < draft) {
    accepted_per_position.resize(static_cast<size_t>(draft), 0);
  }
  for (int64_t i = 0; i < accepted; ++i) ++accepted_per_position[static_cast<size_t>(i)];
}

void SpeculativeStats::Add(const SpeculativeStats& other) {
  drafts += other.drafts;
  draft_tokens += other.draft_tokens;
  accepted_tokens += other.accepted_tokens;
  if (accepted_per_position.size() < other.accepted_per_position.size()) {
    accepted_per_position.resize(other.accepted_per_position.size(), 0);
  }
  for (size_t i = 0; i < other.accepted_per_position.size(); ++i) {
    accepted_per_position[i] += other.accepted_per_position[i];
  }
}

double SpeculativeStats::MeanAcceptanceLength() const {
  return drafts > 0 ? 1 + static_cast<double>(accepted_tokens) / static_cast<double>(drafts) : 1;
}

double SpeculativeStats::AcceptanceRate() const {
  return draft_tokens > 0 ? static_cast<double>(accepted_tokens) / static_cast<double>(draft_tokens) : 0;
}

}  // namespace wiresim
