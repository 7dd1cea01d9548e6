// What-ifs of a serving scenario: links that run slower, elements that failed, GPUs that straggle. Given by a
// scenario's [what_if] table (docs/formats/scenario.md) or by `wiresim run --degrade/--fail/--straggler`; each
// remembers where it was given, so errors in resolving it against the topology name that place. They stay names and
// numbers here; what_if_run.h applies them to a deployment.
//
//   WhatIfs w;
//   WIRESIM_RETURN_IF_ERROR(AddDegrade("node1/nic3=0.5", "--degrade", &w));
//   WIRESIM_RETURN_IF_ERROR(AddFailure("node0/nic2", "--fail", &w));
//   WIRESIM_RETURN_IF_ERROR(AddStraggler("node0/gpu3=1.3", "--straggler", &w));
#pragma once

#include <string>
#include <vector>

#include "sim/config/toml_reader.h"
#include "sim/core/status.h"

namespace wiresim::app {

struct WhatIfDegrade {
  std::string target;  // an element ("node1/nic3"), or one link between two ("node0/gpu1-node0/nvswitch2")
  double factor = 1;   // in (0, 1]: the fraction of the link rate left
  std::string where;   // "--degrade" or "FILE:LINE"
};

struct WhatIfFailure {
  std::string target;  // an element: every link of it is gone
  std::string where;
};

// The most times as long a straggler's kernels may take (the product, for a GPU named more than once): a GPU a
// thousand times slower than its peers is one to take out of the plan, and the bound keeps the run's times within
// what a simulation represents.
inline constexpr double kMaxStragglerFactor = 1000;

struct WhatIfStraggler {
  std::string gpu;    // "node0/gpu3", or a global GPU index ("3")
  double factor = 1;  // 1 to kMaxStragglerFactor: its kernels take this many times as long
  std::string where;
};

struct WhatIfs {
  std::vector<WhatIfDegrade> degrade;
  std::vector<WhatIfFailure> fail;
  std::vector<WhatIfStraggler> straggler;

  bool empty() const { return degrade.empty() && fail.empty() && straggler.empty(); }
  bool changes_links() const { return !degrade.empty() || !fail.empty(); }
  // "degrade node1/nic3=0.5; fail node0/nic2; straggler node0/gpu3=1.3", in the order given.
  std::string Describe() const;
};

// "TARGET=FACTOR" for --degrade and --straggler, "TARGET" for --fail. `where` names the flag or file line for
// messages. Errors: a missing or non-numeric factor, a factor out of range.
Status AddDegrade(const std::string& text, const std::string& where, WhatIfs* w);
Status AddFailure(const std::string& text, const std::string& where, WhatIfs* w);
Status AddStraggler(const std::string& text, const std::string& where, WhatIfs* w);

// The scenario file's [what_if] table: degrade = { "TARGET" = FACTOR, ... }, fail = ["TARGET", ...],
// straggler = { "GPU" = FACTOR, ... }. Keys of a TOML table come in name order.
Status ReadWhatIfTable(config::TableReader& table, WhatIfs* w);

}  // namespace wiresim::app
