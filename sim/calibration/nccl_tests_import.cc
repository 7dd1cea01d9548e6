#include "sim/calibration/nccl_tests_import.h"

#include <set>

#include "sim/collective/collective_op.h"
#include "sim/core/numeric_field.h"

namespace wiresim {

Result<CalibrationProfile> ImportNcclTestsLogs(const std::vector<NcclTestsLog>& logs,
                                               const NcclTestsImportOptions& options) {
  // 0 means "not given"; anything else is a rank or node count.
  const NumericRange count_or_unset = WholeUpTo(kMaxRanks, "2^20");
  WIRESIM_RETURN_IF_ERROR(CheckInteger({}, "--ranks", options.ranks, count_or_unset));
  WIRESIM_RETURN_IF_ERROR(CheckInteger({}, "--nodes", options.nodes, count_or_unset));
  CalibrationProfile p;
  p.provenance.tool = "wiresim calibrate import";
  for (const NcclTestsLog& log : logs) {
    const std::string op_name = !log.op.empty() ? log.op : options.op;
    if (op_name.empty()) {
      return InvalidArgument(log.source + ": the log does not name its test (all_reduce_perf, ...): give --op");
    }
    const auto op = ParseCollectiveOp(op_name);
    if (!op) return InvalidArgument(log.source + ": unknown operation '" + op_name + "'");
    const int ranks = log.ranks ? *log.ranks : options.ranks;
    if (ranks < 1) return InvalidArgument(log.source + ": the log does not list its ranks: give --ranks");
    std::set<std::string> hosts(log.hosts.begin(), log.hosts.end());
    const int nodes = options.nodes > 0 ? options.nodes : std::max<int>(1, static_cast<int>(hosts.size()));
    if (ranks % nodes != 0) {
      return InvalidArgument(log.source + ": " + std::to_string(ranks) + " ranks do not split evenly over " +
                             std::to_string(nodes) + " nodes");
    }
    p.provenance.sources.push_back(log.source);
    if (!log.nccl_version.empty()) p.provenance.nccl_version = log.nccl_version;
    if (p.provenance.gpu_names.empty()) p.provenance.gpu_names = log.devices;
    if (p.provenance.hosts.empty()) p.provenance.hosts.assign(hosts.begin(), hosts.end());
    p.provenance.ranks = std::max(p.provenance.ranks, ranks);
    p.provenance.nodes = std::max(p.provenance.nodes, nodes);
    for (const NcclTestsRow& row : log.rows) {
      for (bool in_place : {false, true}) {
        const std::optional<NcclTestsResult>& r = in_place ? row.in_place : row.out_of_place;
        if (!r || !(r->time_us > 0) || !(row.size_bytes > 0)) continue;
        MeasuredCollective m;
        m.op = std::string(ToString(*op));
        m.dtype = row.type;
        m.redop = row.redop;
        m.ranks = ranks;
        m.nodes = nodes;
        m.size = static_cast<int64_t>(row.size_bytes);
        m.count = row.count;
        m.time_us = r->time_us;
        // Recomputed from the time, which keeps its precision where the log prints 0.00 GB/s.
        m.algbw_GBps = row.size_bytes / (r->time_us * 1e3);
        m.busbw_GBps = m.algbw_GBps * BusBandwidthFactor(*op, ranks);
        m.in_place = in_place;
        m.source = log.source + (row.line > 0 ? ":" + std::to_string(row.line) : "");
        p.collectives.push_back(std::move(m));
      }
    }
  }
  if (p.collectives.empty()) {
    std::string sources;
    for (const NcclTestsLog& log : logs) sources += (sources.empty() ? "" : ", ") + log.source;
    return InvalidArgument(sources + ": no row has a positive size and a measured time (0 measurements); no profile " +
                           "written");
  }
  return p;
}

}  // namespace wiresim
