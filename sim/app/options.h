// Option parsing shared by the verbs: Boost.Program_options with the project's help and error conventions.
//
//   po::options_description options("options");
//   options.add_options()("json", "print JSON");
//   po::variables_map vm;
//   if (auto code = ParseOptions(args, ctx, "topo show", "[TOPOLOGY]", "wiresim topo show dgx-h100", options,
//                                positional, vm)) return *code;
#pragma once

#include <optional>
#include <string>

#include <boost/program_options.hpp>

#include "sim/app/app_context.h"
#include "sim/app/verbs.h"

namespace wiresim::app {

// Parses `args` against `options` (+ positionals), printing help when asked. Returns an exit code to stop with,
// or nullopt to go on.
std::optional<int> ParseOptions(const Args& args, AppContext& ctx, const std::string& verb, const std::string& usage,
                                const std::string& example, boost::program_options::options_description& options,
                                const boost::program_options::positional_options_description& positional,
                                boost::program_options::variables_map& vm);

}  // namespace wiresim::app
