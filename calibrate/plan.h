// The calibration plan: the GEMMs, copies and collectives one run measures, from the command line's options and the
// node's GPU count, and what of it remains given a profile that already holds some (resume). Planning needs no GPU:
// `wiresim-calibrate plan` prints it anywhere.
//
//   Options o = ParseCommandLine(args);            // options.h
//   Plan plan = MakePlan(o, /*gpus=*/8, domains);
//   Plan todo = Remaining(plan, existing_profile);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "calibrate/profile.h"
#include "calibrate/sweep.h"

namespace wiresim::calibrate {

struct Options {
  std::string verb;  // "run", "plan", "devices"
  std::string output = "calibration.json";
  bool fresh = false;  // ignore what the output file already holds
  bool gemm = true, memory = true, nccl = true;
  std::vector<std::string> models;  // config.json / .toml files whose linear layers to measure
  std::vector<int> tp = {1, 2, 4, 8};
  std::vector<int64_t> tokens = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192};
  bool gemm_grid = false;  // also a square-ish grid, model or not
  std::vector<std::string> gemm_dtypes = {"bfloat16", "f8e4m3"};
  std::vector<std::string> ops = {"all_reduce", "all_gather", "reduce_scatter", "alltoall", "broadcast", "sendrecv"};
  std::string nccl_dtype = "bfloat16";
  int64_t min_bytes = 8;
  int64_t max_bytes = int64_t{1} << 30;
  double factor = 2;
  int64_t pair_max_bytes = int64_t{256} << 20;  // pairs stop here: 28 pairs on 8 GPUs add up
  std::vector<std::string> groups = {"all", "pairs", "nvlink"};
  std::vector<int64_t> copy_bytes = {int64_t{64} << 20, int64_t{256} << 20, int64_t{1} << 30, int64_t{4} << 30};
  int warmup = 5;
  int iters = 20;
  int gemm_min_reps = 20;
  double gemm_seconds = 0.2;  // time budget per GEMM shape, after warm-up
  double timeout_s = 300;     // per collective sweep; a hung rank is aborted after it
  int gpus = 0;               // 0: every visible GPU (plan: how many to plan for)
  std::string topo_file;      // plan: `nvidia-smi topo -m` text giving the NVLink domains
  bool json = false;          // plan: print the plan as JSON (DescribeJson)
  std::string command_line;
};

struct GemmJob {
  int64_t m = 0, n = 0, k = 0;
  std::string dtype;
  std::string label;
};

struct CollectiveJob {
  std::string op;
  GpuGroup group;
  std::vector<int64_t> sizes;
};

struct Plan {
  std::vector<GemmJob> gemms;
  std::vector<int64_t> copies;
  std::vector<CollectiveJob> collectives;
  size_t measurements() const;
};

// Throws CalibrateError on an impossible request (a tp that does not divide a model's heads, an unknown op...).
Plan MakePlan(const Options& options, int gpus, const std::vector<std::vector<int>>& nvlink_domains);
// The part of `plan` whose results `profile` does not hold yet.
Plan Remaining(const Plan& plan, const Profile& profile, const std::string& nccl_dtype);
// A few lines per section for --dry-run and progress.
std::string Describe(const Plan& plan);
// `plan --json`: every measurement of the plan for `gpus` GPUs: {"gpus", "measurements", "gemms": [{m, n, k, dtype,
// label}], "copies": [bytes], "collectives": [{op, group, gpus, sizes}]}.
std::string DescribeJson(const Plan& plan, int gpus);

// nccl-tests' conventions for a measured size (docs/formats/calibration-profile.md): element count for `size`
// bytes of `dtype_bytes` elements over `ranks`, and the bus-bandwidth factor.
int64_t NcclTestsCount(const std::string& op, int64_t size, int dtype_bytes, int ranks);
double BusFactor(const std::string& op, int ranks);
int DtypeBytes(const std::string& dtype);  // throws on an unknown dtype

}  // namespace wiresim::calibrate
