// The `wiresim` command: verbs, their help, and the mapping of errors to exit codes (0 success, 2 bad input or a
// failed run, 1 an internal error). main() only calls Main(); tests call it with their own context.
//
//   AppContext ctx{out, err, reader};
//   int code = Main({"topo", "show", "dgx-h100"}, ctx);
#pragma once

#include <string>
#include <vector>

#include "sim/app/app_context.h"

namespace wiresim::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInternal = 1;
inline constexpr int kExitBadInput = 2;

// Runs the command line `args` (without the program name).
int Main(const std::vector<std::string>& args, AppContext& ctx);

// Prints a Status as "wiresim VERB: message" and returns its exit code.
int ReportError(AppContext& ctx, const std::string& verb, const Status& status);

}  // namespace wiresim::app
