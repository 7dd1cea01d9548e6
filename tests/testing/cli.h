// Running the `wiresim` command in process, for end-to-end tests: its exit code and what it printed.
//
//   const CliRun r = RunWiresim({"run", "--requests", "3"});
//   REQUIRE(r.code == app::kExitOk);
#pragma once

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

}  // namespace wiresim::testing
