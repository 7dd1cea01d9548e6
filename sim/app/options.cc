#include "sim/app/options.h"

#include <ostream>

#include "sim/app/cli.h"

namespace wiresim::app {
namespace po = boost::program_options;

std::optional<int> ParseOptions(const Args& args, AppContext& ctx, const std::string& verb, const std::string& usage,
                                const std::string& example, po::options_description& options,
                                const po::positional_options_description& positional, po::variables_map& vm) {
  options.add_options()("help,h", "show this help");
  // Boost.Program_options (1.74) builds its error messages by replacing placeholders such as %value% in a loop
  // until none is left, so an argument that itself contains one never finishes: refuse those first.
  for (const std::string& a : args) {
    for (const char* token : {"%canonical_option%", "%option%", "%value%", "%prefix%", "%original_token%"}) {
      if (a.find(token) != std::string::npos) {
        ctx.err << "wiresim " << verb << ": the argument '" << a << "' contains " << token
                << ", which the option parser reserves; rename the file or value\n";
        return kExitBadInput;
      }
    }
  }
  try {
    po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
    if (vm.count("help")) {
      ctx.out << "usage: wiresim " << verb << " " << usage << "\n\n" << options << "\nexample:\n  " << example << "\n";
      return kExitOk;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    ctx.err << "wiresim " << verb << ": " << e.what() << " (wiresim " << verb << " --help)\n";
    return kExitBadInput;
  }
  return std::nullopt;
}

}  // namespace wiresim::app
