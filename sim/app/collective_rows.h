// `wiresim collective`'s rows, one per size: the table nccl-tests prints (plus the algorithm and protocol chosen),
// the layout nccl-tests' -J writes, and wiresim's own JSON; with --compare, beside the measured log's row.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/app/verbs.h"
#include "sim/collective/collective_group.h"
#include "sim/collective/collective_model.h"
#include "sim/topology/topology.h"

namespace wiresim::app {

struct CollectiveRow {
  double size = 0;
  int64_t count = 0;
  std::string type;
  std::string redop;
  int root = -1;
  CollectiveChoice choice;
  int channels = 0;
  double time_us = 0;
  double algbw = 0;
  double busbw = 0;
  double nccl_model_us = 0;
  std::string timed_by = "model";  // what timed this row: model, or with --calibration measured or fitted
  std::string engine_kernel;       // --engine: the engine's own kernel that ran it; empty: NCCL
  // --compare only.
  bool measured = false;
  double measured_time_us = 0;
  double measured_busbw = 0;
};

// The table's three header lines, with the measured columns under --compare.
void PrintCollectiveTableHeader(std::ostream& out, bool compare);
void PrintCollectiveRow(std::ostream& out, const CollectiveRow& r, bool compare);
nlohmann::ordered_json CollectiveRowJson(const CollectiveRow& r, bool compare);

// The prediction in the layout nccl-tests' -J writes (docs/formats/nccl-tests.md), with its keys and quirks (root as
// the "%6i" text), so tools that read measured runs read predicted ones too. Only what a prediction has is written:
// no times of day, environment, NCCL version, iteration counts or in-place group. `args` is wiresim's command line,
// so the file names no nccl-tests binary. The algorithm and protocol ride along in each result as "algo" and "proto".
// `g`: the ranks' GPUs on `topo`.
nlohmann::ordered_json NcclTestsJson(const Topology& topo, const CollectiveGroup& g,
                                     const std::vector<CollectiveRow>& rows, const Args& args,
                                     const nlohmann::ordered_json& config);

}  // namespace wiresim::app
