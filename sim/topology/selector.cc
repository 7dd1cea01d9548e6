#include "sim/topology/selector.h"

#include <cctype>

#include "sim/core/text.h"

namespace wiresim::internal {

std::optional<Selector> Selector::Parse(std::string_view text, std::string* error) {
  Selector sel;
  sel.text_ = std::string(text);
  if (text.empty()) {
    *error = "empty selector";
    return std::nullopt;
  }
  for (std::string_view part : Split(text, '/')) {
    Segment seg;
    if (part.empty()) {
      *error = "empty segment in '" + std::string(text) + "'";
      return std::nullopt;
    }
    if (part == "*") {
      seg.any_name = true;
      sel.segments_.push_back(seg);
      continue;
    }
    const size_t open = part.find('[');
    if (open == std::string_view::npos) {
      if (part.find(']') != std::string_view::npos) {
        *error = "unbalanced ']' in '" + std::string(text) + "'";
        return std::nullopt;
      }
      seg.base = std::string(part);
      sel.segments_.push_back(seg);
      continue;
    }
    if (part.back() != ']' || open == 0) {
      *error = "expected name[indices] in '" + std::string(text) + "'";
      return std::nullopt;
    }
    seg.base = std::string(part.substr(0, open));
    seg.indexed = true;
    const std::string_view list = part.substr(open + 1, part.size() - open - 2);
    if (list == "*") {
      seg.any_index = true;
    } else {
      for (std::string_view item : Split(list, ',')) {
        const size_t dash = item.find('-');
        long lo = 0, hi = 0;
        const bool ok = dash == std::string_view::npos ? (ParseWholeNumber(item, &lo) && (hi = lo, true))
                                                       : (ParseWholeNumber(item.substr(0, dash), &lo) &&
                                                          ParseWholeNumber(item.substr(dash + 1), &hi));
        if (!ok || hi < lo) {
          *error = "bad index list '[" + std::string(list) + "]' in '" + std::string(text) +
                   "' (expected *, N, N-M or a comma-separated list of them)";
          return std::nullopt;
        }
        seg.ranges.emplace_back(lo, hi);
      }
    }
    sel.segments_.push_back(seg);
  }
  return sel;
}

bool Selector::SegmentMatches(const Segment& seg, std::string_view part) {
  if (seg.any_name) return true;
  if (!seg.indexed) return part == seg.base;
  if (part.size() <= seg.base.size() || part.substr(0, seg.base.size()) != seg.base) return false;
  const std::string_view digits = part.substr(seg.base.size());
  for (char c : digits)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  if (digits.size() > 1 && digits[0] == '0') return false;
  long index = 0;
  if (!ParseWholeNumber(digits, &index)) return false;
  if (seg.any_index) return true;
  for (const auto& [lo, hi] : seg.ranges)
    if (index >= lo && index <= hi) return true;
  return false;
}

bool Selector::Matches(std::string_view name) const {
  size_t start = 0;
  for (size_t i = 0; i < segments_.size(); ++i) {
    const size_t pos = name.find('/', start);
    const bool last = i + 1 == segments_.size();
    if (last != (pos == std::string_view::npos)) return false;
    const std::string_view part = name.substr(start, last ? std::string_view::npos : pos - start);
    if (!SegmentMatches(segments_[i], part)) return false;
    start = pos + 1;
  }
  return true;
}

}  // namespace wiresim::internal
