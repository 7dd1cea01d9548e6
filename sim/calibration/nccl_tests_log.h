// The output of NVIDIA's nccl-tests (all_reduce_perf, all_gather_perf, ...) as plain structs: the project's one
// reader of it. `wiresim collective --compare` diffs predictions against it; calibration builds its importer on it.
//
// Reads every form users have (docs/formats/nccl-tests.md):
//   - text from any version: rows split on whitespace; with or without the `root` column (before nccl-tests 2.13)
//     and the `#wrong` column (`N/A` when checking is off); numbers as getFloatStr prints them (47535, 1652.2,
//     1.2e+05); the -I per-iteration columns; the -S timestamp; a blank out-of-place group; `cputime` headers;
//     MPI prefixes such as `[1,0]<stdout>:` or `0: `; NCCL INFO/WARN lines and `NCCL version` lines mixed in;
//     words appended after the numbers (the algorithm and protocol `wiresim collective` prints); the NCCL_ALGO and
//     NCCL_PROTO the run set, where the log shows them;
//   - the JSON that `-J file.json` writes (nccl-tests 2.17.3 and later).
//
//   WIRESIM_ASSIGN_OR_RETURN(NcclTestsLog log, ParseNcclTestsLog(file));
//   for (const NcclTestsRow& row : log.rows) use(row.size_bytes, row.out_of_place->busbw_GBps);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/core/source.h"
#include "sim/core/status.h"

namespace wiresim {

// One placement group of a row (out-of-place or in-place).
struct NcclTestsResult {
  double time_us = 0;  // average time per iteration (CPU time when the log's header says `cputime`)
  double algbw_GBps = 0;
  double busbw_GBps = 0;
  std::optional<double> wrong;  // wrong elements; nullopt when not checked (`N/A`, JSON null)
};

struct NcclTestsRow {
  double size_bytes = 0;    // as printed: the per-rank buffer, or the total for all-gather / reduce-scatter
  int64_t count = 0;        // elements, per rank
  std::string type;         // "float", "bfloat16", ...
  std::string redop;        // "sum", "none", ...
  std::optional<int> root;  // -1 for rootless collectives; absent in logs from before the root column
  std::optional<NcclTestsResult> out_of_place;  // absent when the log prints a blank group (trace replay)
  std::optional<NcclTestsResult> in_place;
  int line = 0;  // 1-based line of the row in the file (0 for JSON)
};

struct NcclTestsLog {
  std::string source;                // file name, for messages
  bool json = false;                 // read from -J JSON
  std::string op;                    // "all_reduce" (the binary name without _perf); empty when the log does not say
  std::optional<int> ranks;          // from the device list, when printed
  std::vector<std::string> hosts;    // host of each rank, in rank order, when printed
  std::vector<std::string> devices;  // device name of each rank ("NVIDIA H100 80GB HBM3"), when printed
  std::string nccl_version;          // "2.19.3" when known
  std::string tests_version;         // "2.19.6" when known
  bool cpu_time = false;             // times are CPU times (-C 1)
  // How the calls were issued (the `nThread` header line, or -J's "config"): the iterations captured in a CUDA graph
  // launched this many times (-G; 0: launched one by one), calls per launch group (-m), and whether each call waited
  // for its completion and a barrier before the next (-z, "Blocking Enabled").
  int graph_launches = 0;
  int agg_iters = 1;
  bool blocking = false;
  int gpus_per_thread = 1;                   // -g: GPUs each thread drives ("nGpus" on the nThread line)
  int threads_per_process = 1;               // -t: threads each process runs ("nThread"); ranks per process: t x g
  std::optional<double> average_busbw_GBps;  // the log's own "Avg bus bandwidth"
  // NCCL_ALGO / NCCL_PROTO as the run set them, when the log says: NCCL's own "NCCL_ALGO set by environment to X"
  // INFO line, a `NCCL_ALGO=X` word (an echoed environment, `mpirun -x NCCL_ALGO=X`), or the -J `env` list. Empty
  // when the log does not say (NCCL chose freely, or nobody recorded it).
  std::string nccl_algo;
  std::string nccl_proto;
  std::vector<NcclTestsRow> rows;
};

// Text or JSON, told apart by the first non-blank character. Errors name the file, line and what was expected.
// A log without any result row is an error.
Result<NcclTestsLog> ParseNcclTestsLog(const SourceFile& file);

}  // namespace wiresim
