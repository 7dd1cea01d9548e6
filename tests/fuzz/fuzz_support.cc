#include "tests/fuzz/fuzz_support.h"

#include <fstream>
#include <sstream>

namespace wiresim::fuzz {

Result<SourceFile> ShippedFileReader::Read(const std::string& path, const std::string& /*relative_to*/) {
  const size_t slash = path.find_last_of('/');
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty() || base == "." || base == "..") return NotFound(path + ": no such file");
  for (const std::string& candidate :
       {"topologies/" + base, "workloads/models/" + base, "workloads/scenarios/" + base}) {
    std::ifstream in(std::string(WIRESIM_SOURCE_DIR) + "/" + candidate, std::ios::binary);
    if (!in) continue;
    std::ostringstream text;
    text << in.rdbuf();
    return SourceFile{"builtin:" + candidate, text.str()};
  }
  return NotFound(path + ": no such file");
}

}  // namespace wiresim::fuzz
