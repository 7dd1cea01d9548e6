#include "sim/core/index_list.h"

#include <string>

#include "sim/core/text.h"

namespace wiresim {

Result<std::vector<int>> ParseIndexList(std::string_view text) {
  std::vector<int> out;
  for (std::string_view item : Split(text, ',')) {
    item = Trim(item);
    const size_t dash = item.find('-');
    int lo = 0, hi = 0;
    const bool ok = dash == std::string_view::npos
                        ? ParseWholeNumber(item, &lo) && (hi = lo, true)
                        : ParseWholeNumber(item.substr(0, dash), &lo) && ParseWholeNumber(item.substr(dash + 1), &hi);
    if (!ok || hi < lo) return InvalidArgument("'" + std::string(item) + "' is not an index or a range like 0-7");
    for (int i = lo; i <= hi; ++i) out.push_back(i);
  }
  return out;
}

}  // namespace wiresim
