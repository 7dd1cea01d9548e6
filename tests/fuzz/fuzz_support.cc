#include "tests/fuzz/fuzz_support.h"

#include "sim/app/embedded_files.h"

namespace wiresim::fuzz {

Result<SourceFile> BuiltinReader::Read(const std::string& path, const std::string& /*relative_to*/) {
  const std::string base = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  for (const std::string& candidate :
       {path, "topologies/" + base, "workloads/models/" + base, "workloads/scenarios/" + base}) {
    if (const app::EmbeddedFile* f = app::FindEmbeddedFile(candidate)) {
      return SourceFile{"builtin:" + candidate, std::string(f->contents)};
    }
  }
  return NotFound(path + ": no such file");
}

}  // namespace wiresim::fuzz
