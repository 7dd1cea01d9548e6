// Fuzz target: what `wiresim-calibrate plan` reads: its command line (calibrate/options.h: sizes, lists, counts)
// and the `nvidia-smi topo -m` text of --topo, whose NV# cells give the NVLink domains (calibrate/sweep.h). The
// input is the arguments, one a line, then a line "---" and the topology text. --model files are not opened (the
// calibrate_model target reads those); the plan is made and printed as `plan` and `plan --json` print it.
#include <string>
#include <vector>

#include "calibrate/options.h"
#include "calibrate/plan.h"
#include "calibrate/sweep.h"
#include "tests/fuzz/calibrate_error.h"

namespace wiresim::fuzz {
namespace {

void Plan(const SourceFile& file) {
  std::vector<std::string> args;
  std::string topo;
  size_t at = 0;
  while (at < file.text.size()) {
    const size_t end = std::min(file.text.find('\n', at), file.text.size());
    const std::string line = file.text.substr(at, end - at);
    at = end + 1;
    if (line == "---") {
      if (at < file.text.size()) topo = file.text.substr(at);
      break;
    }
    args.push_back(line);
  }
  // Messages about the command line name the flag, not a file: any message is a refusal here.
  try {
    std::string help;
    calibrate::Options o = calibrate::ParseCommandLine(args, &help);
    if (o.verb == "help") return;
    o.models.clear();
    const int gpus = o.gpus > 0 ? o.gpus : 8;
    const std::vector<std::vector<int>> domains = calibrate::NvlinkDomainsFromTopo(topo);
    for (const std::vector<int>& d : domains) {
      for (int g : d) {
        if (g < 0) Fail("a negative GPU index in an NVLink domain");
      }
    }
    const calibrate::Plan plan = calibrate::MakePlan(o, gpus, domains);
    (void)calibrate::Describe(plan);
    (void)calibrate::DescribeJson(plan, gpus);
  } catch (const calibrate::CalibrateError& e) {
    if (std::string(e.what()).empty()) Fail("an error without a message");
  }
}

}  // namespace
}  // namespace wiresim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return wiresim::fuzz::Run(data, size, "plan-args", wiresim::fuzz::Plan);
}
