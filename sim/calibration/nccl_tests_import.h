// nccl-tests logs into a calibration profile: `wiresim calibrate import LOG... -o profile.json`. Every row becomes
// a measured collective with the log's operation, type, rank and node counts; what the log does not say (which GPUs
// of a topology) is settled when the profile is fitted to a topology.
//
// The operation is the test the log names (`all_reduce_perf`), or `--op`; either is checked against what the rows
// show: busbw / algbw is nccl-tests' bus factor of the operation for the rank count (PERFORMANCE.md: 2(n-1)/n for
// all-reduce, (n-1)/n for all-gather, reduce-scatter and all-to-all, 1 for broadcast, reduce and send/recv). A log
// that names no test and gets no `--op` has its operation inferred from that ratio, the redop and root columns and
// size / count, when exactly one operation fits.
//
//   WIRESIM_ASSIGN_OR_RETURN(CalibrationProfile p, ImportNcclTestsLogs(logs, {}));
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sim/calibration/calibration_profile.h"
#include "sim/calibration/nccl_tests_log.h"
#include "sim/collective/algorithm.h"
#include "sim/collective/collective_op.h"

namespace wiresim {

struct NcclTestsImportOptions {
  std::string op;  // for logs that do not name their test (older versions): all_reduce, all_gather, ...
  int ranks = 0;   // for logs that do not list their devices
  int nodes = 0;   // machines; 0: the distinct hosts the log lists (1 when it lists none)
};

// Errors name the log and what is missing (its operation, its rank count) or wrong (an operation its busbw / algbw
// contradicts, an NCCL_ALGO wiresim cannot read). `notes` (may be null) receives a line per inferred operation.
Result<CalibrationProfile> ImportNcclTestsLogs(const std::vector<NcclTestsLog>& logs,
                                               const NcclTestsImportOptions& options,
                                               std::vector<std::string>* notes = nullptr);

// The operation of one log over `ranks` ranks: the test it names, or options.op (both given must agree), checked
// against busbw / algbw; with neither, inferred from that ratio and the redop, root and size columns (a line in
// `notes`, may be null, says so). Errors name the log and what contradicts what.
Result<CollectiveOp> NcclTestsLogOperation(const NcclTestsLog& log, const NcclTestsImportOptions& options, int ranks,
                                           std::vector<std::string>* notes);

// busbw / algbw of a log, from its row with the largest algbw (the most digits); nullopt when no row has an algbw of
// at least 0.5 GB/s.
std::optional<double> BusToAlgRatio(const NcclTestsLog& log);

// What NCCL_ALGO / NCCL_PROTO (as a run set them) let NCCL choose for `op`, into `filter`: NCCL's lists ("ring,tree",
// "^nvls") and, since NCCL 2.24, per-function lists ("allreduce:nvls,ring;allgather:ring"). CollNet names are
// dropped (wiresim does not model CollNet). Send/recv and all-to-all ignore both (NCCL picks no algorithm for
// point-to-point). Returns a message when a value cannot be read; leaves `filter` as is for empty values.
std::optional<std::string> ApplyNcclEnvironment(CollectiveOp op, std::string_view nccl_algo,
                                                std::string_view nccl_proto, AlgorithmFilter* filter);

}  // namespace wiresim
