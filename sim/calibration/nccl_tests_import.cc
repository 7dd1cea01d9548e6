#include "sim/calibration/nccl_tests_import.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <set>
#include <sstream>

#include "sim/collective/collective_op.h"
#include "sim/compute/gpu_spec.h"
#include "sim/core/numeric_field.h"
#include "sim/core/text.h"

namespace wiresim {
namespace {

std::string Fixed(double v, int digits) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(digits);
  out << v;
  return out.str();
}

// Bytes per element of nccl-tests' type names (src/common.cu test_typenames); 0 when unknown.
int TypeBytes(const std::string& type) {
  if (type == "int8" || type == "uint8" || type == "f8e4m3" || type == "f8e5m2") return 1;
  if (type == "half" || type == "bfloat16") return 2;
  if (type == "int32" || type == "uint32" || type == "float") return 4;
  if (type == "int64" || type == "uint64" || type == "double") return 8;
  return 0;
}

// What a log's rows show about its operation besides busbw / algbw; nullopt where they do not say.
struct Signature {
  std::optional<bool> reduces;     // the redop column: "none" or a reduction
  std::optional<bool> rooted;      // the root column: -1 or a rank
  std::optional<bool> total_size;  // size = count x type size x ranks (all-gather, reduce-scatter, all-to-all)
};

Signature SignatureOf(const NcclTestsLog& log, int ranks) {
  Signature s;
  if (log.rows.empty()) return s;
  const NcclTestsRow& row = log.rows.front();
  if (row.redop == "none") {
    s.reduces = false;
  } else if (row.redop == "sum" || row.redop == "prod" || row.redop == "max" || row.redop == "min" ||
             row.redop == "avg") {
    s.reduces = true;
  }
  if (row.root) s.rooted = *row.root >= 0;
  const int bytes = TypeBytes(row.type);
  if (bytes > 0 && row.count > 0 && ranks > 1) {
    const double per_rank = static_cast<double>(row.count) * bytes;
    if (row.size_bytes == per_rank) s.total_size = false;
    if (row.size_bytes == per_rank * ranks) s.total_size = true;
  }
  return s;
}

// How nccl-tests prints each operation (src/*.cu): whether it reduces, has a root, and prints the total size.
Signature SignatureOf(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::kAllReduce:
      return {true, false, false};
    case CollectiveOp::kAllGather:
    case CollectiveOp::kAllToAll:
    case CollectiveOp::kAllToAllV:
      return {false, false, true};
    case CollectiveOp::kReduceScatter:
      return {true, false, true};
    case CollectiveOp::kBroadcast:
      return {false, true, false};
    case CollectiveOp::kReduce:
      return {true, true, false};
    case CollectiveOp::kSendRecv:
    case CollectiveOp::kSend:
      return {false, false, false};
  }
  return {};
}

// The relative tolerance on busbw / algbw: 2%, plus the rounding of two printed decimals at `algbw` GB/s.
double RatioTolerance(double algbw) { return 0.02 + 0.01 / algbw; }

bool RatioFits(CollectiveOp op, int ranks, double ratio, double algbw) {
  const double factor = BusBandwidthFactor(op, ranks);
  return std::fabs(ratio - factor) <= RatioTolerance(algbw) * std::max(factor, 0.05);
}

struct RatioRow {
  double ratio = 0;
  double algbw = 0;
  double size = 0;
};

std::optional<RatioRow> BestRatioRow(const NcclTestsLog& log) {
  std::optional<RatioRow> best;
  for (const NcclTestsRow& row : log.rows) {
    for (const auto* r : {&row.out_of_place, &row.in_place}) {
      if (!*r || !((*r)->algbw_GBps >= 0.5) || !std::isfinite((*r)->busbw_GBps)) continue;
      if (!best || (*r)->algbw_GBps > best->algbw) {
        best = RatioRow{(*r)->busbw_GBps / (*r)->algbw_GBps, (*r)->algbw_GBps, row.size_bytes};
      }
    }
  }
  return best;
}

std::string FactorText(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::kAllReduce:
      return "2(n-1)/n";
    case CollectiveOp::kAllGather:
    case CollectiveOp::kReduceScatter:
    case CollectiveOp::kAllToAll:
    case CollectiveOp::kAllToAllV:
      return "(n-1)/n";
    default:
      return "1";
  }
}

// The operations busbw / algbw (and, for inference, the other columns) allow, in wiresim's order.
std::vector<CollectiveOp> OpsThatFit(const NcclTestsLog& log, int ranks, const RatioRow& r, bool with_signature) {
  const Signature seen = SignatureOf(log, ranks);
  std::vector<CollectiveOp> out;
  for (CollectiveOp op :
       {CollectiveOp::kAllReduce, CollectiveOp::kAllGather, CollectiveOp::kReduceScatter, CollectiveOp::kBroadcast,
        CollectiveOp::kReduce, CollectiveOp::kAllToAll, CollectiveOp::kSendRecv}) {
    if (!RatioFits(op, ranks, r.ratio, r.algbw)) continue;
    if (with_signature) {
      const Signature want = SignatureOf(op);
      if (seen.reduces && *seen.reduces != *want.reduces) continue;
      if (seen.rooted && *seen.rooted != *want.rooted) continue;
      if (seen.total_size && *seen.total_size != *want.total_size) continue;
    }
    out.push_back(op);
  }
  return out;
}

std::string Names(const std::vector<CollectiveOp>& ops) {
  std::string out;
  for (CollectiveOp op : ops) out += (out.empty() ? "" : ", ") + std::string(ToString(op));
  return out;
}

std::string Lower(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '_' || std::isspace(static_cast<unsigned char>(c))) continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// NCCL's function name of an operation (ncclFuncStr, src/enqueue.cc), lowercased; empty for point-to-point.
std::string NcclFunction(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::kAllReduce:
      return "allreduce";
    case CollectiveOp::kAllGather:
      return "allgather";
    case CollectiveOp::kReduceScatter:
      return "reducescatter";
    case CollectiveOp::kBroadcast:
      return "broadcast";
    case CollectiveOp::kReduce:
      return "reduce";
    default:
      return "";
  }
}

// The list of a NCCL_ALGO / NCCL_PROTO value that applies to `function` (into `list`; empty when no part applies),
// read as NCCL's parseList reads it since 2.24 (src/graph/tuning.cc): parts separated by ';' (empty parts skipped),
// each "function:list", except that the first may be a bare list for every function; a part for a function
// replaces what an earlier part set for it, so the last one wins. Function names are ncclFuncStr's (src/init.cc),
// in any case. Like NCCL, refuses a bare list after the first part and an unknown function name.
std::optional<std::string> ListFor(std::string_view name, std::string_view value, const std::string& function,
                                   std::string* list) {
  static constexpr std::string_view kFunctions[] = {"broadcast", "reduce", "allgather", "reducescatter", "allreduce"};
  list->clear();
  bool first = true;
  for (std::string_view part : Split(value, ';')) {
    if (part.empty()) continue;
    const size_t colon = part.find(':');
    if (colon == std::string_view::npos) {
      if (!first) {
        return std::string(name) + "=" + std::string(value) + ": every part after the first must name its function (" +
               "function:list), as NCCL requires; '" + std::string(part) + "' does not";
      }
      *list = std::string(part);
    } else {
      std::string prefix;
      for (char c : part.substr(0, colon)) prefix += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (std::find(std::begin(kFunctions), std::end(kFunctions), prefix) == std::end(kFunctions)) {
        return std::string(name) + "=" + std::string(value) + ": unknown function '" +
               std::string(part.substr(0, colon)) +
               "' (NCCL's are Broadcast, Reduce, AllGather, ReduceScatter, AllReduce)";
      }
      if (prefix == function) *list = std::string(part.substr(colon + 1));
    }
    first = false;
  }
  return std::nullopt;
}

// Drops CollNet names (CollNetDirect, CollNetChain) from an algorithm list; wiresim does not model CollNet.
std::string WithoutCollNet(std::string_view list) {
  const bool exclude = !list.empty() && list[0] == '^';
  if (exclude) list.remove_prefix(1);
  std::string names;
  for (std::string_view name : Split(list, ',')) {
    const std::string lower = Lower(name);
    if (lower.empty() || lower.rfind("collnet", 0) == 0) continue;
    names += (names.empty() ? "" : ",") + std::string(name);
  }
  return (exclude ? "^" : "") + names;
}

}  // namespace

Result<CollectiveOp> NcclTestsLogOperation(const NcclTestsLog& log, const NcclTestsImportOptions& options, int ranks,
                                           std::vector<std::string>* notes) {
  std::optional<CollectiveOp> named, given;
  if (!log.op.empty()) {
    named = ParseCollectiveOp(log.op);
    if (!named) return InvalidArgument(log.source + ": unknown operation '" + log.op + "'");
  }
  if (!options.op.empty()) {
    given = ParseCollectiveOp(options.op);
    if (!given) return InvalidArgument("--op: unknown operation '" + options.op + "'");
  }
  if (named && given && *named != *given) {
    return InvalidArgument(log.source + ": the log is " + log.op + "_perf's, but --op says " + options.op +
                           ": drop --op, or give the right log");
  }
  const std::optional<RatioRow> r = BestRatioRow(log);
  const std::string n = std::to_string(ranks);
  if (named || given) {
    const CollectiveOp op = named ? *named : *given;
    if (r && !RatioFits(op, ranks, r->ratio, r->algbw)) {
      const std::vector<CollectiveOp> fit = OpsThatFit(log, ranks, *r, false);
      return InvalidArgument(
          log.source + ": busbw / algbw is " + Fixed(r->ratio, 3) + " (the row of size " +
          std::to_string(static_cast<long long>(r->size)) + "), but " + std::string(ToString(op)) + " over " + n +
          " ranks gives " + FactorText(op) + " = " + Fixed(BusBandwidthFactor(op, ranks), 3) + " (nccl-tests' bus " +
          "factor): " + (fit.empty() ? "no operation fits " + n + " ranks" : "it fits " + Names(fit)) + "; check " +
          (named ? "the rank count (--ranks)" : "--op and the rank count (--ranks)"));
    }
    return op;
  }
  if (!r) {
    return InvalidArgument(log.source +
                           ": the log does not name its test (all_reduce_perf, ...) and no row has an algbw to tell "
                           "it by: give --op");
  }
  const std::vector<CollectiveOp> fit = OpsThatFit(log, ranks, *r, true);
  if (fit.size() != 1) {
    return InvalidArgument(log.source + ": the log does not name its test, and busbw / algbw = " + Fixed(r->ratio, 3) +
                           " over " + n + " ranks " +
                           (fit.empty() ? "fits no operation" : "fits " + Names(fit) + " alike") + ": give --op");
  }
  if (notes != nullptr) {
    notes->push_back(log.source + ": operation " + std::string(ToString(fit[0])) +
                     ", inferred from busbw / algbw = " + Fixed(r->ratio, 3) + " over " + n + " ranks (" +
                     FactorText(fit[0]) + ") and its redop, root and size columns; give --op to say otherwise");
  }
  return fit[0];
}

std::optional<double> BusToAlgRatio(const NcclTestsLog& log) {
  const auto r = BestRatioRow(log);
  return r ? std::optional<double>(r->ratio) : std::nullopt;
}

std::optional<std::string> ApplyNcclEnvironment(CollectiveOp op, std::string_view nccl_algo,
                                                std::string_view nccl_proto, AlgorithmFilter* filter) {
  const std::string function = NcclFunction(op);
  if (function.empty()) return std::nullopt;
  std::string algo;
  if (auto err = ListFor("NCCL_ALGO", nccl_algo, function, &algo)) return err;
  if (!algo.empty()) {
    const std::string list = WithoutCollNet(algo);
    if (list.empty()) {
      return "NCCL_ALGO=" + std::string(nccl_algo) + " allows only CollNet, which wiresim does not model";
    }
    if (list != "^") {  // "^collnetdirect": everything wiresim models stays allowed
      if (auto err = ParseAlgorithmList(list, filter)) return "NCCL_ALGO=" + std::string(nccl_algo) + ": " + *err;
    }
  }
  if (!nccl_proto.empty()) {
    std::string list;
    if (auto err = ListFor("NCCL_PROTO", nccl_proto, function, &list)) return err;
    if (!list.empty()) {
      if (auto err = ParseProtocolList(list, filter)) return "NCCL_PROTO=" + std::string(nccl_proto) + ": " + *err;
    }
  }
  return std::nullopt;
}

namespace {

// The GPU models a log ran on: wiresim's name where it knows the device ("h100-sxm"), else the driver's.
std::set<std::string> GpuModelsOf(const NcclTestsLog& log) {
  std::set<std::string> models;
  for (const std::string& d : log.devices) {
    const GpuSpec* spec = FindGpuSpecByDeviceName(d);
    models.insert(spec != nullptr ? std::string(spec->name) : d);
  }
  return models;
}

// "NVIDIA H100 80GB HBM3 (h100-sxm)": a log's device names, with the model wiresim reads each as.
std::string DescribeGpus(const NcclTestsLog& log) {
  std::set<std::string> names;
  for (const std::string& d : log.devices) {
    const GpuSpec* spec = FindGpuSpecByDeviceName(d);
    names.insert(spec != nullptr ? d + " (" + std::string(spec->name) + ")" : d);
  }
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// "2.19" of "2.19.3": the release whose tuning constants wiresim models.
std::string Release(const std::string& version) {
  const size_t first = version.find('.');
  const size_t second = first == std::string::npos ? std::string::npos : version.find('.', first + 1);
  return version.substr(0, second);
}

}  // namespace

Result<CalibrationProfile> ImportNcclTestsLogs(const std::vector<NcclTestsLog>& logs,
                                               const NcclTestsImportOptions& options, std::vector<std::string>* notes) {
  // 0 means "not given"; anything else is a rank or node count.
  const NumericRange count_or_unset = WholeUpTo(kMaxRanks, "2^20");
  WIRESIM_RETURN_IF_ERROR(CheckInteger({}, "--ranks", options.ranks, count_or_unset));
  WIRESIM_RETURN_IF_ERROR(CheckInteger({}, "--nodes", options.nodes, count_or_unset));
  CalibrationProfile p;
  p.provenance.tool = "wiresim calibrate import";
  const NcclTestsLog* gpu_log = nullptr;      // the first log that lists its devices
  const NcclTestsLog* version_log = nullptr;  // the first log that names its NCCL version
  for (const NcclTestsLog& log : logs) {
    const int ranks = log.ranks ? *log.ranks : options.ranks;
    if (ranks < 1) return InvalidArgument(log.source + ": the log does not list its ranks: give --ranks");
    if (log.ranks && options.ranks > 0 && *log.ranks != options.ranks) {
      return InvalidArgument(log.source + ": the log lists " + std::to_string(*log.ranks) +
                             " ranks, but --ranks says " + std::to_string(options.ranks) +
                             " (--ranks is for logs that list no devices; drop it, or check the log is the run's)");
    }
    WIRESIM_ASSIGN_OR_RETURN(const CollectiveOp op, NcclTestsLogOperation(log, options, ranks, notes));
    AlgorithmFilter env;
    if (auto err = ApplyNcclEnvironment(op, log.nccl_algo, log.nccl_proto, &env)) {
      return InvalidArgument(log.source + ": " + *err);
    }
    std::set<std::string> hosts(log.hosts.begin(), log.hosts.end());
    const int nodes = options.nodes > 0 ? options.nodes : std::max<int>(1, static_cast<int>(hosts.size()));
    if (ranks % nodes != 0) {
      return InvalidArgument(log.source + ": " + std::to_string(ranks) + " ranks do not split evenly over " +
                             std::to_string(nodes) + " nodes");
    }
    // A profile describes one machine under one NCCL release: its provenance names one GPU model (checked against
    // the topology a fit places it on) and one release (whose tuning constants the fit models).
    if (!log.devices.empty()) {
      if (gpu_log == nullptr) {
        gpu_log = &log;
      } else if (GpuModelsOf(log) != GpuModelsOf(*gpu_log)) {
        return InvalidArgument(log.source + " ran on " + DescribeGpus(log) + " but " + gpu_log->source + " on " +
                               DescribeGpus(*gpu_log) +
                               ": a profile describes one machine; import each machine's logs into its own profile");
      }
    }
    if (!log.nccl_version.empty()) {
      if (version_log == nullptr) {
        version_log = &log;
      } else if (Release(log.nccl_version) != Release(version_log->nccl_version)) {
        return InvalidArgument(log.source + " measured NCCL " + log.nccl_version + " but " + version_log->source +
                               " NCCL " + version_log->nccl_version +
                               ": their tuning differs; import each release's logs into its own profile");
      }
    }
    p.provenance.sources.push_back(log.source);
    if (!log.nccl_version.empty() && p.provenance.nccl_version.empty()) p.provenance.nccl_version = log.nccl_version;
    if (p.provenance.gpu_names.empty()) p.provenance.gpu_names = log.devices;
    if (p.provenance.hosts.empty()) p.provenance.hosts.assign(hosts.begin(), hosts.end());
    p.provenance.ranks = std::max(p.provenance.ranks, ranks);
    p.provenance.nodes = std::max(p.provenance.nodes, nodes);
    for (const NcclTestsRow& row : log.rows) {
      for (bool in_place : {false, true}) {
        const std::optional<NcclTestsResult>& r = in_place ? row.in_place : row.out_of_place;
        if (!r || !(r->time_us > 0) || !(row.size_bytes > 0)) continue;
        MeasuredCollective m;
        m.op = std::string(ToString(op));
        m.dtype = row.type;
        m.redop = row.redop;
        m.ranks = ranks;
        m.nodes = nodes;
        m.size = static_cast<int64_t>(row.size_bytes);
        m.count = row.count;
        m.time_us = r->time_us;
        // Recomputed from the time, which keeps its precision where the log prints 0.00 GB/s.
        m.algbw_GBps = row.size_bytes / (r->time_us * 1e3);
        m.busbw_GBps = m.algbw_GBps * BusBandwidthFactor(op, ranks);
        m.nccl_algo = log.nccl_algo;
        m.nccl_proto = log.nccl_proto;
        m.in_place = in_place;
        m.cuda_graph = log.graph_launches > 0;
        m.calls_per_launch = std::max(1, log.agg_iters);
        m.ranks_per_process = static_cast<int>(std::clamp<int64_t>(
            static_cast<int64_t>(log.threads_per_process) * log.gpus_per_thread, 1, std::max(1, ranks)));
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
