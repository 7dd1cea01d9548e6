#include "sim/calibration/calibration_profile.h"

#include <nlohmann/json.hpp>

namespace wiresim {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr const char* kFormat = "wiresim-calibration-profile";

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
      if (error_.ok()) {
        error_ = InvalidInput(SourceLocation{file_, 0, 0}, path + key, "has the wrong type: " + obj[key].dump());
      }
      return fallback;
    }
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
  json doc;
  try {
    doc = json::parse(file.text);
  } catch (const json::parse_error& e) {
    return InvalidInput(SourceLocation{file.name, 0, 0}, "",
                        "not valid JSON at byte " + std::to_string(e.byte) + " (a calibration profile is JSON)");
  }
  Fields f(file.name);
  if (!doc.is_object()) return InvalidInput(SourceLocation{file.name, 0, 0}, "", "expected a JSON object");
  const std::string format = f.Get<std::string>(doc, "", "format", "");
  if (format != kFormat) {
    return InvalidInput(SourceLocation{file.name, 0, 0}, "format",
                        "expected \"" + std::string(kFormat) + "\", got \"" + format + "\"");
  }
  const int version = f.Get<int>(doc, "", "version", 0);
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
    pv.nodes = f.Get<int>(v, at, "nodes", 0);
    pv.ranks = f.Get<int>(v, at, "ranks", 0);
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
    e.m = f.Get<int64_t>(g, at, "m", 0);
    e.n = f.Get<int64_t>(g, at, "n", 0);
    e.k = f.Get<int64_t>(g, at, "k", 0);
    const std::string dtype = f.Get<std::string>(g, at, "dtype", "");
    e.time_us = f.Get<double>(g, at, "time_us", 0);
    e.p10_us = f.Get<double>(g, at, "p10_us", e.time_us);
    e.p90_us = f.Get<double>(g, at, "p90_us", e.time_us);
    e.repetitions = f.Get<int>(g, at, "repetitions", 0);
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
    e.bytes = f.Get<int64_t>(m, at, "bytes", 0);
    e.time_us = f.Get<double>(m, at, "time_us", 0);
    e.bandwidth_GBps = f.Get<double>(m, at, "bandwidth_GBps", 0);
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
    e.gpus = f.Get<std::vector<int>>(c, at, "gpus", {});
    e.ranks = f.Get<int>(c, at, "ranks", static_cast<int>(e.gpus.size()));
    e.nodes = f.Get<int>(c, at, "nodes", 1);
    e.size = f.Get<int64_t>(c, at, "size", 0);
    e.count = f.Get<int64_t>(c, at, "count", 0);
    e.time_us = f.Get<double>(c, at, "time_us", 0);
    e.algbw_GBps = f.Get<double>(c, at, "algbw_GBps", 0);
    e.busbw_GBps = f.Get<double>(c, at, "busbw_GBps", 0);
    e.algorithm = f.Get<std::string>(c, at, "algorithm", "");
    e.protocol = f.Get<std::string>(c, at, "protocol", "");
    e.nccl_algo = f.Get<std::string>(c, at, "nccl_algo", "");
    e.nccl_proto = f.Get<std::string>(c, at, "nccl_proto", "");
    e.in_place = f.Get<bool>(c, at, "in_place", false);
    e.source = f.Get<std::string>(c, at, "source", "");
    if (e.op.empty()) f.Fail(at + "op", "is required");
    if (e.ranks < 1) f.Fail(at + "ranks", "must be at least 1 (or give gpus)");
    if (!(e.size > 0) || !(e.time_us > 0)) f.Fail(at + "size", "size and time_us must be positive");
    p.collectives.push_back(e);
  }
  p.notes = f.Get<std::vector<std::string>>(doc, "", "notes", {});
  if (doc.contains("fitted")) p.fitted_json = doc["fitted"].dump();
  if (!f.error().ok()) return f.error();
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
    j["source"] = e.source;
    collectives.push_back(std::move(j));
  }
  doc["collectives"] = std::move(collectives);
  doc["notes"] = p.notes;
  if (!p.fitted_json.empty()) doc["fitted"] = ojson::parse(p.fitted_json);
  return doc.dump(1) + "\n";
}

}  // namespace wiresim
