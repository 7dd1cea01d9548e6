// One function per verb of the `wiresim` command. Each parses its own options (Boost.Program_options), prints to
// ctx.out, and returns an exit code; cli.cc lists them with their one-line summaries.
#pragma once

#include <string>
#include <vector>

#include "sim/app/app_context.h"

namespace wiresim::app {

using Args = std::vector<std::string>;

int Run(const Args& args, AppContext& ctx);
int TopoShow(const Args& args, AppContext& ctx);
int TopoImport(const Args& args, AppContext& ctx);
int ModelShow(const Args& args, AppContext& ctx);
int ComputeGemm(const Args& args, AppContext& ctx);
int ComputeGpus(const Args& args, AppContext& ctx);
int Collective(const Args& args, AppContext& ctx);
int CalibrateImport(const Args& args, AppContext& ctx);
int CalibrateFit(const Args& args, AppContext& ctx);
int Plan(const Args& args, AppContext& ctx);

}  // namespace wiresim::app
