#include "sim/parallel/batch.h"

#include "sim/core/text.h"

namespace wiresim {

std::string_view ToString(Phase phase) {
  switch (phase) {
    case Phase::kPrefill:
      return "prefill";
    case Phase::kDecode:
      return "decode";
    case Phase::kMixed:
      return "mixed";
  }
  return "?";
}

int64_t BatchShape::Tokens() const {
  int64_t n = DecodeRows() + padding;
  for (const PrefillChunk& c : prefills) n += c.tokens;
  return n;
}

int64_t BatchShape::DecodeRows() const {
  int64_t n = static_cast<int64_t>(decode_contexts.size());
  for (int64_t q : decode_queries) n += q - 1;
  return n;
}

int64_t BatchShape::LogitRows() const {
  int64_t n = DecodeRows();
  for (const PrefillChunk& c : prefills) n += c.last ? 1 : 0;
  return n;
}

int64_t BatchShape::KvCacheTokens(int64_t block_size) const {
  auto blocks = [&](int64_t tokens) { return (tokens + block_size - 1) / block_size * block_size; };
  int64_t total = 0;
  for (int64_t c : decode_contexts) total += blocks(c);
  for (const PrefillChunk& p : prefills) total += blocks(p.context + p.tokens);
  return total;
}

Phase BatchShape::phase() const {
  if (decode_contexts.empty()) return Phase::kPrefill;
  if (prefills.empty()) return Phase::kDecode;
  return Phase::kMixed;
}

std::string BatchShape::ToString() const {
  // Runs of equal items, in first-appearance order.
  std::string out;
  auto add = [&out](const std::string& item) { out += (out.empty() ? "" : ",") + item; };
  for (size_t i = 0; i < prefills.size();) {
    size_t j = i;
    while (j < prefills.size() && prefills[j].tokens == prefills[i].tokens &&
           prefills[j].context == prefills[i].context)
      ++j;
    add("prefill=" + std::to_string(j - i) + "x" + std::to_string(prefills[i].tokens) +
        (prefills[i].context > 0 ? "@" + std::to_string(prefills[i].context) : ""));
    i = j;
  }
  for (size_t i = 0; i < decode_contexts.size();) {
    size_t j = i;
    while (j < decode_contexts.size() && decode_contexts[j] == decode_contexts[i] && Queries(j) == Queries(i)) ++j;
    add("decode=" + std::to_string(j - i) + "x" + std::to_string(decode_contexts[i]) +
        (Queries(i) > 1 ? "+" + std::to_string(Queries(i) - 1) : ""));
    i = j;
  }
  if (padding > 0) add("pad=" + std::to_string(padding));
  return out;
}

Result<BatchShape> ParseBatch(std::string_view text) {
  BatchShape b;
  int64_t rows = 0, context_tokens = 0;  // over the items so far: tokens computed, tokens of context
  const std::string expected =
      "expected prefill=NxTOKENS[@CACHED] or decode=NxCONTEXT[+DRAFTS], e.g. prefill=1x2048,decode=64x1024";
  for (std::string_view item : Split(text, ',')) {
    if (item.empty()) continue;
    if (item.substr(0, 4) == "pad=") {
      if (!ParseWholeNumber(item.substr(4), &b.padding) || b.padding < 0 || b.padding > kMaxBatchSequences) {
        return InvalidArgument("batch: '" + std::string(item) + "': expected pad=N (padding rows, N from 0 to " +
                               std::to_string(kMaxBatchSequences) + ")");
      }
      continue;
    }
    const size_t eq = item.find('='), x = item.find('x');
    if (eq == std::string_view::npos || x == std::string_view::npos || x < eq) {
      return InvalidArgument("batch: '" + std::string(item) + "': " + expected);
    }
    const std::string_view kind = item.substr(0, eq);
    int64_t n = 0, size = 0, cached = 0, drafts = 0;
    std::string_view rest = item.substr(x + 1);
    const size_t plus = rest.find('+');
    if (plus != std::string_view::npos) {
      if (!ParseWholeNumber(rest.substr(plus + 1), &drafts) || drafts < 1 || drafts > kMaxDraftTokens) {
        return InvalidArgument("batch: '" + std::string(item) +
                               "': expected decode=NxCONTEXT+DRAFTS with DRAFTS 1 to " +
                               std::to_string(kMaxDraftTokens));
      }
      rest = rest.substr(0, plus);
    }
    const size_t at = rest.find('@');
    const bool ok = ParseWholeNumber(item.substr(eq + 1, x - eq - 1), &n) &&
                    ParseWholeNumber(rest.substr(0, at), &size) &&
                    (at == std::string_view::npos || ParseWholeNumber(rest.substr(at + 1), &cached));
    if (!ok || n < 1 || size < 1) return InvalidArgument("batch: '" + std::string(item) + "': " + expected);
    // Bounded item by item before anything is stored, then over the batch: N sequences of SIZE (+ CACHED) tokens.
    const int64_t sequences = static_cast<int64_t>(b.prefills.size() + b.decode_contexts.size());
    if (n > kMaxBatchSequences - sequences) {
      return InvalidArgument("batch: '" + std::string(item) + "': more than " + std::to_string(kMaxBatchSequences) +
                             " (2^20) sequences in one batch");
    }
    if (size > kMaxBatchContext || cached > kMaxBatchContext || size + cached > kMaxBatchContext / n ||
        context_tokens + n * (size + cached) > kMaxBatchContext) {
      return InvalidArgument("batch: '" + std::string(item) + "': more than " + std::to_string(kMaxBatchContext) +
                             " (2^31) tokens of context over the batch");
    }
    context_tokens += n * (size + cached);
    const int64_t item_rows = kind == "prefill" ? n * size : n * (1 + drafts);
    if (item_rows > kMaxBatchRows - rows) {
      return InvalidArgument("batch: '" + std::string(item) + "': more than " + std::to_string(kMaxBatchRows) +
                             " (2^24) tokens computed in one batch");
    }
    rows += item_rows;
    if (kind == "prefill" && plus == std::string_view::npos) {
      for (int64_t i = 0; i < n; ++i) b.prefills.push_back({size, cached, true});
    } else if (kind == "decode" && at == std::string_view::npos) {
      if (drafts > 0 && size <= drafts) {
        return InvalidArgument("batch: '" + std::string(item) + "': the context counts the " + std::to_string(drafts) +
                               " draft tokens and the new one, so it must exceed " + std::to_string(drafts));
      }
      if (drafts > 0 && b.decode_queries.empty()) b.decode_queries.assign(b.decode_contexts.size(), 1);
      for (int64_t i = 0; i < n; ++i) {
        b.decode_contexts.push_back(size);
        if (drafts > 0 || !b.decode_queries.empty()) b.decode_queries.push_back(1 + drafts);
      }
    } else {
      return InvalidArgument("batch: '" + std::string(item) + "': " + expected);
    }
  }
  if (b.empty()) return InvalidArgument("batch: empty; " + expected);
  return b;
}

}  // namespace wiresim
