// A calibration profile as the simulator reads and writes it (docs/formats/calibration-profile.md, version 1):
// measured GEMMs, memory copies and collectives with their provenance, plus the parameters `wiresim calibrate fit`
// adds. wiresim-calibrate writes the same file with its own code; the file is the contract between the two.
//
//   WIRESIM_ASSIGN_OR_RETURN(CalibrationProfile p, ParseCalibrationProfile(file));
//   for (const MeasuredCollective& c : p.collectives) ...
//   std::string json = WriteCalibrationProfile(p);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/core/dtype.h"
#include "sim/core/source.h"
#include "sim/core/status.h"
#include "sim/core/time.h"

namespace wiresim {

inline constexpr int kCalibrationProfileVersion = 1;

struct ProfileProvenance {
  std::string tool, command, date;
  std::vector<std::string> hosts;
  int nodes = 0, ranks = 0;
  std::string driver_version, cuda_runtime_version, cuda_driver_version, nccl_version, cublas_version;
  std::vector<std::string> gpu_names;  // per GPU, as the driver names it
  std::vector<std::string> gpu_sms;    // "9.0"
  std::string nvidia_smi_topo;
  std::string nccl_topo_xml;
  std::vector<std::string> sources;
};

struct MeasuredGemm {
  int64_t m = 0, n = 0, k = 0;
  DataType dtype = DataType::kBFloat16;
  double time_us = 0;
  double p10_us = 0, p90_us = 0;
  int repetitions = 0;
  std::string label;
};

struct MeasuredCopy {
  std::string kind;
  int64_t bytes = 0;
  double time_us = 0;
  double bandwidth_GBps = 0;
};

struct MeasuredCollective {
  std::string op;     // nccl-tests name: all_reduce, all_gather, ...
  std::string dtype;  // float, bfloat16, ...
  std::string redop;
  std::vector<int> gpus;
  int ranks = 0;
  int nodes = 1;
  int64_t size = 0;  // nccl-tests' size column, bytes
  int64_t count = 0;
  double time_us = 0;
  double algbw_GBps = 0;
  double busbw_GBps = 0;
  std::string algorithm;
  std::string protocol;
  // What the run let NCCL choose from, as its NCCL_ALGO / NCCL_PROTO said ("ring", "^nvls"); empty: not restricted,
  // or not recorded.
  std::string nccl_algo;
  std::string nccl_proto;
  bool in_place = false;
  // How the measurement launched its calls (nccl-tests -G and -m): in CUDA graphs (no host launch per call), or
  // calls_per_launch calls grouped into one launch (one launch's cost shared by them). Default: one launch per call.
  bool cuda_graph = false;
  int calls_per_launch = 1;
  // How many ranks each process of the measurement drove (nccl-tests nThread x nGpus; 1: one process per GPU). Ranks
  // of one process write into each other's buffers (CollectiveParams::ranks_per_process), which the fit takes out.
  int ranks_per_process = 1;
  std::string source;
};

struct CalibrationProfile {
  std::string source;  // the file it came from, for messages
  ProfileProvenance provenance;
  std::vector<MeasuredGemm> gemm;
  std::vector<MeasuredCopy> memory;
  std::vector<MeasuredCollective> collectives;
  std::vector<std::string> notes;
  // The `fitted` section as JSON text, kept verbatim for the parts that read it (empty when absent).
  std::string fitted_json;
};

// Errors name the file and the JSON path of the problem ("profile.json: collectives[3].size: expected a number").
Result<CalibrationProfile> ParseCalibrationProfile(const SourceFile& file);
std::string WriteCalibrationProfile(const CalibrationProfile& profile);

}  // namespace wiresim
