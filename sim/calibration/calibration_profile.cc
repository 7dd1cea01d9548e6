#include "sim/calibration/calibration_profile.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "sim/core/numeric_field.h"

namespace wiresim {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr const char* kFormat = "wiresim-calibration-profile";

// GEMM dimensions and repetition counts; a gpus list holds GPU indices.
constexpr NumericRange kGemmDimension{1,     false, static_cast<double>(kMaxModelDimension), true, "a whole number",
                                      "2^24"};
constexpr NumericRange kRepetitions = WholeUpTo(int64_t{1} << 31, "2^31");
constexpr NumericRange kGpuIndex = WholeUpTo(kMaxRanks, "2^20");
constexpr NumericRange kProvenanceCount = WholeUpTo(kMaxRanks, "2^20");
// A copy moves at least a byte.
constexpr NumericRange kCopyBytes{1, false, kMaxMessageBytes, true, "a size in bytes", "2^40, 1 TiB"};
constexpr NumericRange kCollectiveBytes{1, false, kMaxMessageBytes, true, "a size in bytes", "2^40, 1 TiB"};
// nccl-tests -m: calls grouped into one launch.
constexpr NumericRange kCallsPerLaunch{1, false, 1e6, true, "a whole number", "10^6"};
constexpr NumericRange kRanksPerProcess{1, false, 1 << 20, true, "a whole number", "2^20"};

// nccl-tests' type names (nccl-tests src/common.cu, test_typenames) that DataType does not model; a measurement of one
// is kept, but no other name is.
constexpr std::string_view kOtherNcclTypes[] = {"uint8", "uint32", "int64", "uint64"};

// A JSON value as a message quotes it: scalars cut to 40 characters, containers by kind.
std::string Describe(const json& v) {
  if (v.is_object()) return "an object";
  if (v.is_array()) return "an array";
  return InputExcerpt(v.dump(-1, ' ', false, json::error_handler_t::replace));
}

// Typed reads of optional fields; the first type error is kept and reported.
class Fields {
 public:
  explicit Fields(std::string file) : file_(std::move(file)) {}

  template <typename T>
  T Get(const json& obj, const std::string& path, const char* key, T fallback) {
    if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return fallback;
    try {
      return obj[key].get<T>();
    } catch (const json::exception&) {
      Fail(path + key, "has the wrong type: " + Describe(obj[key]));
      return fallback;
    }
  }
  // A number in `range`, or `fallback` when absent (the fallback is not checked).
  double Number(const json& obj, const std::string& path, const char* key, double fallback, const NumericRange& range) {
    if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return fallback;
    const json& v = obj[key];
    if (!v.is_number()) {
      Fail(path + key, "has the wrong type: expected a number, got " + Describe(v));
      return fallback;
    }
    Check(CheckNumber(SourceLocation{file_, 0, 0}, path + key, v.get<double>(), range));
    return v.get<double>();
  }
  // A whole number in `range`, or `fallback` when absent.
  int64_t Integer(const json& obj, const std::string& path, const char* key, int64_t fallback,
                  const NumericRange& range) {
    if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return fallback;
    return Integer(obj[key], path + key, range, fallback);
  }
  int64_t Integer(const json& v, const std::string& field, const NumericRange& range, int64_t fallback) {
    const std::optional<int64_t> i = JsonWholeNumber(v);
    if (!i) {
      Fail(field,
           std::string(v.is_number() ? "" : "has the wrong type: ") + "expected a whole number, got " + Describe(v));
      return fallback;
    }
    Check(CheckInteger(SourceLocation{file_, 0, 0}, field, *i, range));
    return error_.ok() ? *i : fallback;
  }
  void Check(const Status& s) {
    if (error_.ok()) error_ = s;
  }
  const json& Array(const json& obj, const char* key) {
    static const json empty = json::array();
    if (!obj.is_object() || !obj.contains(key)) return empty;
    if (!obj[key].is_array()) {
      if (error_.ok()) error_ = InvalidInput(SourceLocation{file_, 0, 0}, key, "expected an array");
      return empty;
    }
    return obj[key];
  }
  void Fail(const std::string& field, const std::string& message) {
    if (error_.ok()) error_ = InvalidInput(SourceLocation{file_, 0, 0}, field, message);
  }
  const Status& error() const { return error_; }

 private:
  std::string file_;
  Status error_;
};

}  // namespace

Result<CalibrationProfile> ParseCalibrationProfile(const SourceFile& file) {
  WIRESIM_RETURN_IF_ERROR(CheckJsonNesting(file.name, file.text));
  json doc;
  try {
    doc = json::parse(file.text);
  } catch (const json::parse_error& e) {
    return InvalidInput(SourceLocation{file.name, 0, 0}, "",
                        "not valid JSON at byte " + std::to_string(e.byte) + " (a calibration profile is JSON)");
  } catch (const json::exception& e) {
    // out_of_range: a number such as 1e400 that no double holds.
    return JsonNumberOutOfRange(file.name, file.text, e.what());
  }
  Fields f(file.name);
  if (!doc.is_object()) return InvalidInput(SourceLocation{file.name, 0, 0}, "", "expected a JSON object");
  const std::string format = f.Get<std::string>(doc, "", "format", "");
  if (format != kFormat) {
    return InvalidInput(SourceLocation{file.name, 0, 0}, "format",
                        "expected \"" + std::string(kFormat) + "\", got \"" + format + "\"");
  }
  const int64_t version = f.Integer(doc, "", "version", 0, WholeUpTo(1 << 20));
  if (version != kCalibrationProfileVersion) {
    return InvalidInput(SourceLocation{file.name, 0, 0}, "version",
                        "this wiresim reads version " + std::to_string(kCalibrationProfileVersion) +
                            ", the file is version " + std::to_string(version));
  }
  CalibrationProfile p;
  p.source = file.name;
  if (doc.contains("provenance")) {
    const json& v = doc["provenance"];
    const std::string at = "provenance.";
    ProfileProvenance& pv = p.provenance;
    pv.tool = f.Get<std::string>(v, at, "tool", "");
    pv.command = f.Get<std::string>(v, at, "command", "");
    pv.date = f.Get<std::string>(v, at, "date", "");
    pv.hosts = f.Get<std::vector<std::string>>(v, at, "hosts", {});
    pv.nodes = static_cast<int>(f.Integer(v, at, "nodes", 0, kProvenanceCount));
    pv.ranks = static_cast<int>(f.Integer(v, at, "ranks", 0, kProvenanceCount));
    pv.driver_version = f.Get<std::string>(v, at, "driver_version", "");
    pv.cuda_runtime_version = f.Get<std::string>(v, at, "cuda_runtime_version", "");
    pv.cuda_driver_version = f.Get<std::string>(v, at, "cuda_driver_version", "");
    pv.nccl_version = f.Get<std::string>(v, at, "nccl_version", "");
    pv.cublas_version = f.Get<std::string>(v, at, "cublas_version", "");
    pv.nvidia_smi_topo = f.Get<std::string>(v, at, "nvidia_smi_topo", "");
    pv.nccl_topo_xml = f.Get<std::string>(v, at, "nccl_topo_xml", "");
    pv.sources = f.Get<std::vector<std::string>>(v, at, "sources", {});
    int i = 0;
    for (const json& g : f.Array(v, "gpus")) {
      const std::string gat = at + "gpus[" + std::to_string(i++) + "].";
      pv.gpu_names.push_back(f.Get<std::string>(g, gat, "name", ""));
      pv.gpu_sms.push_back(f.Get<std::string>(g, gat, "sm", ""));
    }
  }
  int i = 0;
  for (const json& g : f.Array(doc, "gemm")) {
    const std::string at = "gemm[" + std::to_string(i++) + "].";
    MeasuredGemm e;
    e.m = f.Integer(g, at, "m", 0, kGemmDimension);
    e.n = f.Integer(g, at, "n", 0, kGemmDimension);
    e.k = f.Integer(g, at, "k", 0, kGemmDimension);
    const std::string dtype = f.Get<std::string>(g, at, "dtype", "");
    e.time_us = f.Number(g, at, "time_us", 0, kMeasuredMicroseconds);
    e.p10_us = f.Number(g, at, "p10_us", e.time_us, kMeasuredMicroseconds);
    e.p90_us = f.Number(g, at, "p90_us", e.time_us, kMeasuredMicroseconds);
    e.repetitions = static_cast<int>(f.Integer(g, at, "repetitions", 0, kRepetitions));
    e.label = f.Get<std::string>(g, at, "label", "");
    auto type = ParseDataType(dtype);
    if (!type) f.Fail(at + "dtype", "unknown data type \"" + dtype + "\"");
    if (e.m < 1 || e.n < 1 || e.k < 1) f.Fail(at + "m", "m, n and k must be positive integers");
    if (!(e.time_us > 0)) f.Fail(at + "time_us", "must be a positive number of microseconds");
    if (type) e.dtype = *type;
    p.gemm.push_back(e);
  }
  i = 0;
  for (const json& m : f.Array(doc, "memory")) {
    const std::string at = "memory[" + std::to_string(i++) + "].";
    MeasuredCopy e;
    e.kind = f.Get<std::string>(m, at, "kind", "");
    e.bytes = f.Integer(m, at, "bytes", 0, kCopyBytes);
    e.time_us = f.Number(m, at, "time_us", 0, kMeasuredMicroseconds);
    e.bandwidth_GBps = f.Number(m, at, "bandwidth_GBps", 0, kReportedBandwidthGBps);
    if (e.bytes < 1 || !(e.time_us > 0)) f.Fail(at + "bytes", "bytes and time_us must be positive");
    p.memory.push_back(e);
  }
  i = 0;
  for (const json& c : f.Array(doc, "collectives")) {
    const std::string at = "collectives[" + std::to_string(i++) + "].";
    MeasuredCollective e;
    e.op = f.Get<std::string>(c, at, "op", "");
    e.dtype = f.Get<std::string>(c, at, "dtype", "");
    e.redop = f.Get<std::string>(c, at, "redop", "");
    int j = 0;
    for (const json& gpu : f.Array(c, "gpus")) {
      e.gpus.push_back(static_cast<int>(f.Integer(gpu, at + "gpus[" + std::to_string(j++) + "]", kGpuIndex, 0)));
    }
    e.ranks = static_cast<int>(f.Integer(c, at, "ranks", static_cast<int64_t>(e.gpus.size()), kRankCount));
    e.nodes = static_cast<int>(f.Integer(c, at, "nodes", 1, kRankCount));
    e.size = f.Integer(c, at, "size", 0, kCollectiveBytes);
    e.count = f.Integer(c, at, "count", 0, kElementCount);
    e.time_us = f.Number(c, at, "time_us", 0, kMeasuredMicroseconds);
    e.algbw_GBps = f.Number(c, at, "algbw_GBps", 0, kReportedBandwidthGBps);
    e.busbw_GBps = f.Number(c, at, "busbw_GBps", 0, kReportedBandwidthGBps);
    e.algorithm = f.Get<std::string>(c, at, "algorithm", "");
    e.protocol = f.Get<std::string>(c, at, "protocol", "");
    e.nccl_algo = f.Get<std::string>(c, at, "nccl_algo", "");
    e.nccl_proto = f.Get<std::string>(c, at, "nccl_proto", "");
    e.in_place = f.Get<bool>(c, at, "in_place", false);
    e.cuda_graph = f.Get<bool>(c, at, "cuda_graph", false);
    e.calls_per_launch = static_cast<int>(f.Integer(c, at, "calls_per_launch", 1, kCallsPerLaunch));
    e.ranks_per_process = static_cast<int>(f.Integer(c, at, "ranks_per_process", 1, kRanksPerProcess));
    e.source = f.Get<std::string>(c, at, "source", "");
    if (e.op.empty()) f.Fail(at + "op", "is required");
    if (!e.dtype.empty() && !ParseDataType(e.dtype) &&
        std::find(std::begin(kOtherNcclTypes), std::end(kOtherNcclTypes), e.dtype) == std::end(kOtherNcclTypes)) {
      f.Fail(at + "dtype", "unknown data type \"" + InputExcerpt(e.dtype) + "\" (expected an nccl-tests type name)");
    }
    if (e.nodes > e.ranks) {
      f.Fail(at + "nodes", std::to_string(e.nodes) + " nodes for " + std::to_string(e.ranks) + " ranks");
    }
    if (e.ranks < 1) f.Fail(at + "ranks", "must be at least 1 (or give gpus)");
    if (!(e.size > 0) || !(e.time_us > 0)) f.Fail(at + "size", "size and time_us must be positive");
    p.collectives.push_back(e);
  }
  p.notes = f.Get<std::vector<std::string>>(doc, "", "notes", {});
  if (doc.contains("fitted")) p.fitted_json = doc["fitted"].dump();
  if (!f.error().ok()) return f.error();
  if (p.gemm.empty() && p.memory.empty() && p.collectives.empty()) {
    return InvalidInput(SourceLocation{file.name, 0, 0}, "",
                        "the profile has no measurements (gemm, memory or collectives); nothing can be fitted");
  }
  return p;
}

std::string WriteCalibrationProfile(const CalibrationProfile& p) {
  ojson doc;
  doc["format"] = kFormat;
  doc["version"] = kCalibrationProfileVersion;
  const ProfileProvenance& v = p.provenance;
  ojson gpus = ojson::array();
  for (size_t i = 0; i < v.gpu_names.size(); ++i) {
    gpus.push_back(ojson{{"index", i}, {"name", v.gpu_names[i]}, {"sm", i < v.gpu_sms.size() ? v.gpu_sms[i] : ""}});
  }
  doc["provenance"] = ojson{{"tool", v.tool},
                            {"command", v.command},
                            {"date", v.date},
                            {"hosts", v.hosts},
                            {"nodes", v.nodes},
                            {"ranks", v.ranks},
                            {"driver_version", v.driver_version},
                            {"cuda_runtime_version", v.cuda_runtime_version},
                            {"cuda_driver_version", v.cuda_driver_version},
                            {"nccl_version", v.nccl_version},
                            {"cublas_version", v.cublas_version},
                            {"gpus", gpus},
                            {"nvidia_smi_topo", v.nvidia_smi_topo},
                            {"nccl_topo_xml", v.nccl_topo_xml},
                            {"sources", v.sources}};
  ojson gemm = ojson::array();
  for (const MeasuredGemm& e : p.gemm) {
    ojson j{{"m", e.m},
            {"n", e.n},
            {"k", e.k},
            {"dtype", std::string(ToString(e.dtype))},
            {"time_us", e.time_us},
            {"p10_us", e.p10_us},
            {"p90_us", e.p90_us},
            {"repetitions", e.repetitions}};
    if (!e.label.empty()) j["label"] = e.label;
    gemm.push_back(std::move(j));
  }
  doc["gemm"] = std::move(gemm);
  ojson memory = ojson::array();
  for (const MeasuredCopy& e : p.memory) {
    memory.push_back(
        ojson{{"kind", e.kind}, {"bytes", e.bytes}, {"time_us", e.time_us}, {"bandwidth_GBps", e.bandwidth_GBps}});
  }
  doc["memory"] = std::move(memory);
  ojson collectives = ojson::array();
  for (const MeasuredCollective& e : p.collectives) {
    ojson j{{"op", e.op},
            {"dtype", e.dtype},
            {"redop", e.redop},
            {"gpus", e.gpus},
            {"ranks", e.ranks},
            {"nodes", e.nodes},
            {"size", e.size},
            {"count", e.count},
            {"time_us", e.time_us},
            {"algbw_GBps", e.algbw_GBps},
            {"busbw_GBps", e.busbw_GBps}};
    if (!e.algorithm.empty()) j["algorithm"] = e.algorithm;
    if (!e.protocol.empty()) j["protocol"] = e.protocol;
    if (!e.nccl_algo.empty()) j["nccl_algo"] = e.nccl_algo;
    if (!e.nccl_proto.empty()) j["nccl_proto"] = e.nccl_proto;
    j["in_place"] = e.in_place;
    if (e.cuda_graph) j["cuda_graph"] = true;
    if (e.calls_per_launch != 1) j["calls_per_launch"] = e.calls_per_launch;
    if (e.ranks_per_process != 1) j["ranks_per_process"] = e.ranks_per_process;
    j["source"] = e.source;
    collectives.push_back(std::move(j));
  }
  doc["collectives"] = std::move(collectives);
  doc["notes"] = p.notes;
  if (!p.fitted_json.empty()) doc["fitted"] = ojson::parse(p.fitted_json);
  // Names copied from logs (host names, device names) may hold invalid UTF-8: written as U+FFFD rather than refused.
  return doc.dump(1, ' ', false, ojson::error_handler_t::replace) + "\n";
}

}  // namespace wiresim
