// Lists of indices as users write them on command lines and in plans: "0-7", "0,2,4", "0-3,8-11".
//
//   WIRESIM_ASSIGN_OR_RETURN(std::vector<int> gpus, ParseIndexList("0-3,8-11"));   // 0 1 2 3 8 9 10 11
#pragma once

#include <string_view>
#include <vector>

#include "sim/core/status.h"

namespace wiresim {

// Comma-separated non-negative indices and inclusive ranges, in the order written (duplicates kept). Errors quote
// the item that is not an index or range; callers add which option it was.
Result<std::vector<int>> ParseIndexList(std::string_view text);

}  // namespace wiresim
