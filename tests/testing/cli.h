// Running the `wiresim` command in process, for end-to-end tests: its exit code and what it printed.
//
//   const CliRun r = RunWiresim({"run", "--requests", "3"});
//   REQUIRE(r.code == app::kExitOk);
#pragma once

#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "sim/app/app_context.h"
#include "sim/app/cli.h"

namespace wiresim::testing {

struct CliRun {
  int code = 0;
  std::string out;
  std::string err;
};

inline CliRun RunWiresim(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  app::FileSystemReader reader;
  app::AppContext ctx{out, err, reader};
  CliRun r;
  r.code = app::Main(args, ctx);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// A directory of its own under the system's temporary directory, removed with everything in it at the end of scope.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix)
      : path_(std::filesystem::temp_directory_path() / (prefix + "-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace wiresim::testing
