// The command line of wiresim-calibrate, parsed into Options (plan.h) without touching a GPU.
//
//   wiresim-calibrate run -o h100.json --model llama-8b.json --model llama-70b.json --tp 1,2,4,8
//   wiresim-calibrate plan --gpus 8 --model llama-8b.json
//   wiresim-calibrate devices
#pragma once

#include <string>
#include <vector>

#include "calibrate/plan.h"

namespace wiresim::calibrate {

// Throws CalibrateError with the message to print; sets verb "help" (and fills `help`) for --help.
Options ParseCommandLine(const std::vector<std::string>& args, std::string* help);

}  // namespace wiresim::calibrate
