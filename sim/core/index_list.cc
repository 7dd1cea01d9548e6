#include "sim/core/index_list.h"

#include <charconv>
#include <string>

namespace wiresim {
namespace {

bool ParseIndex(std::string_view s, int* out) {
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size() && !s.empty() && *out >= 0;
}

}  // namespace

Result<std::vector<int>> ParseIndexList(std::string_view text) {
  std::vector<int> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    const size_t dash = item.find('-');
    int lo = 0, hi = 0;
    const bool ok = dash == std::string_view::npos
                        ? ParseIndex(item, &lo) && (hi = lo, true)
                        : ParseIndex(item.substr(0, dash), &lo) && ParseIndex(item.substr(dash + 1), &hi);
    if (!ok || hi < lo) return InvalidArgument("'" + std::string(item) + "' is not an index or a range like 0-7");
    for (int i = lo; i <= hi; ++i) out.push_back(i);
    start = comma + 1;
  }
  return out;
}

}  // namespace wiresim
