#include "calibrate/profile.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/core/output_file.h"

namespace wiresim::calibrate {

using json = nlohmann::ordered_json;

bool Profile::HasGemm(int64_t m, int64_t n, int64_t k, const std::string& dtype) const {
  for (const GemmEntry& e : gemm)
    if (e.m == m && e.n == n && e.k == k && e.dtype == dtype) return true;
  return false;
}

bool Profile::HasMemory(const std::string& kind, int64_t bytes) const {
  for (const MemoryEntry& e : memory)
    if (e.kind == kind && e.bytes == bytes) return true;
  return false;
}

bool Profile::HasCollective(const std::string& op, const std::string& dtype, const std::vector<int>& gpus, int64_t size,
                            bool in_place) const {
  for (const CollectiveEntry& e : collectives)
    if (e.op == op && e.dtype == dtype && e.gpus == gpus && e.size == size && e.in_place == in_place) return true;
  return false;
}

nlohmann::json ToJson(const Profile& p) {
  json doc;
  doc["format"] = kProfileFormat;
  doc["version"] = kProfileVersion;
  const Provenance& v = p.provenance;
  json prov{{"tool", v.tool},
            {"command", v.command},
            {"date", v.date},
            {"hosts", v.hosts},
            {"nodes", v.nodes},
            {"ranks", v.ranks},
            {"driver_version", v.driver_version},
            {"cuda_runtime_version", v.cuda_runtime_version},
            {"cuda_driver_version", v.cuda_driver_version},
            {"nccl_version", v.nccl_version},
            {"cublas_version", v.cublas_version}};
  json gpus = json::array();
  for (const GpuInfo& g : v.gpus) {
    gpus.push_back(json{{"index", g.index},
                        {"host", g.host},
                        {"name", g.name},
                        {"sm", g.sm},
                        {"sm_count", g.sm_count},
                        {"memory_bytes", g.memory_bytes},
                        {"pci_bus_id", g.pci_bus_id},
                        {"clock_mhz", g.clock_mhz},
                        {"memory_clock_mhz", g.memory_clock_mhz},
                        {"l2_bytes", g.l2_bytes}});
  }
  prov["gpus"] = std::move(gpus);
  prov["nvidia_smi_topo"] = v.nvidia_smi_topo;
  prov["nccl_topo_xml"] = v.nccl_topo_xml;
  prov["sources"] = v.sources;
  doc["provenance"] = std::move(prov);

  json gemm = json::array();
  for (const GemmEntry& e : p.gemm) {
    json j{{"m", e.m},
           {"n", e.n},
           {"k", e.k},
           {"dtype", e.dtype},
           {"time_us", e.time_us},
           {"min_us", e.min_us},
           {"max_us", e.max_us},
           {"p10_us", e.p10_us},
           {"p90_us", e.p90_us},
           {"repetitions", e.repetitions},
           {"tflops", e.tflops}};
    if (!e.label.empty()) j["label"] = e.label;
    gemm.push_back(std::move(j));
  }
  doc["gemm"] = std::move(gemm);
  json memory = json::array();
  for (const MemoryEntry& e : p.memory) {
    memory.push_back(
        json{{"kind", e.kind}, {"bytes", e.bytes}, {"time_us", e.time_us}, {"bandwidth_GBps", e.bandwidth_GBps}});
  }
  doc["memory"] = std::move(memory);
  json collectives = json::array();
  for (const CollectiveEntry& e : p.collectives) {
    json j{{"op", e.op},
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
    j["in_place"] = e.in_place;
    j["source"] = e.source;
    collectives.push_back(std::move(j));
  }
  doc["collectives"] = std::move(collectives);
  doc["notes"] = p.notes;
  return nlohmann::json(doc);
}

namespace {

// Typed access with errors that say where: "profile.json: collectives[3].size: expected an integer".
class Reader {
 public:
  explicit Reader(std::string where) : where_(std::move(where)) {}

  template <typename T>
  T Get(const nlohmann::json& obj, const std::string& path, const char* key, T fallback) const {
    if (!obj.contains(key) || obj[key].is_null()) return fallback;
    try {
      return obj[key].get<T>();
    } catch (const nlohmann::json::exception&) {
      throw CalibrateError(where_ + ": " + path + key + ": has the wrong type (" + obj[key].dump() + ")");
    }
  }
  const nlohmann::json& Array(const nlohmann::json& obj, const char* key) const {
    static const nlohmann::json empty = nlohmann::json::array();
    if (!obj.contains(key)) return empty;
    if (!obj[key].is_array()) throw CalibrateError(where_ + ": " + key + ": expected an array");
    return obj[key];
  }
  const std::string& where() const { return where_; }

 private:
  std::string where_;
};

}  // namespace

Profile ProfileFromJson(const nlohmann::json& doc, const std::string& where) {
  Reader r(where);
  if (!doc.is_object()) throw CalibrateError(where + ": expected a JSON object");
  const std::string format = r.Get<std::string>(doc, "", "format", "");
  if (format != kProfileFormat) {
    throw CalibrateError(where + ": format: expected \"" + std::string(kProfileFormat) + "\", got \"" + format + "\"");
  }
  const int version = r.Get<int>(doc, "", "version", 0);
  if (version != kProfileVersion) {
    throw CalibrateError(where + ": version: this build reads version " + std::to_string(kProfileVersion) +
                         ", the file is version " + std::to_string(version));
  }
  Profile p;
  if (doc.contains("provenance")) {
    const auto& v = doc["provenance"];
    const std::string at = "provenance.";
    p.provenance.tool = r.Get<std::string>(v, at, "tool", "");
    p.provenance.command = r.Get<std::string>(v, at, "command", "");
    p.provenance.date = r.Get<std::string>(v, at, "date", "");
    p.provenance.hosts = r.Get<std::vector<std::string>>(v, at, "hosts", {});
    p.provenance.nodes = r.Get<int>(v, at, "nodes", 0);
    p.provenance.ranks = r.Get<int>(v, at, "ranks", 0);
    p.provenance.driver_version = r.Get<std::string>(v, at, "driver_version", "");
    p.provenance.cuda_runtime_version = r.Get<std::string>(v, at, "cuda_runtime_version", "");
    p.provenance.cuda_driver_version = r.Get<std::string>(v, at, "cuda_driver_version", "");
    p.provenance.nccl_version = r.Get<std::string>(v, at, "nccl_version", "");
    p.provenance.cublas_version = r.Get<std::string>(v, at, "cublas_version", "");
    p.provenance.nvidia_smi_topo = r.Get<std::string>(v, at, "nvidia_smi_topo", "");
    p.provenance.nccl_topo_xml = r.Get<std::string>(v, at, "nccl_topo_xml", "");
    p.provenance.sources = r.Get<std::vector<std::string>>(v, at, "sources", {});
    int i = 0;
    for (const auto& g : r.Array(v, "gpus")) {
      const std::string gat = at + "gpus[" + std::to_string(i++) + "].";
      GpuInfo info;
      info.index = r.Get<int>(g, gat, "index", 0);
      info.host = r.Get<std::string>(g, gat, "host", "");
      info.name = r.Get<std::string>(g, gat, "name", "");
      info.sm = r.Get<std::string>(g, gat, "sm", "");
      info.sm_count = r.Get<int>(g, gat, "sm_count", 0);
      info.memory_bytes = r.Get<int64_t>(g, gat, "memory_bytes", 0);
      info.pci_bus_id = r.Get<std::string>(g, gat, "pci_bus_id", "");
      info.clock_mhz = r.Get<int>(g, gat, "clock_mhz", 0);
      info.memory_clock_mhz = r.Get<int>(g, gat, "memory_clock_mhz", 0);
      info.l2_bytes = r.Get<int64_t>(g, gat, "l2_bytes", 0);
      p.provenance.gpus.push_back(info);
    }
  }
  int i = 0;
  for (const auto& g : r.Array(doc, "gemm")) {
    const std::string at = "gemm[" + std::to_string(i++) + "].";
    GemmEntry e;
    e.m = r.Get<int64_t>(g, at, "m", 0);
    e.n = r.Get<int64_t>(g, at, "n", 0);
    e.k = r.Get<int64_t>(g, at, "k", 0);
    e.dtype = r.Get<std::string>(g, at, "dtype", "");
    e.time_us = r.Get<double>(g, at, "time_us", 0);
    e.min_us = r.Get<double>(g, at, "min_us", e.time_us);
    e.max_us = r.Get<double>(g, at, "max_us", e.time_us);
    e.p10_us = r.Get<double>(g, at, "p10_us", e.time_us);
    e.p90_us = r.Get<double>(g, at, "p90_us", e.time_us);
    e.repetitions = r.Get<int>(g, at, "repetitions", 0);
    e.tflops = r.Get<double>(g, at, "tflops", 0);
    e.label = r.Get<std::string>(g, at, "label", "");
    if (e.m <= 0 || e.n <= 0 || e.k <= 0 || e.time_us <= 0 || e.dtype.empty()) {
      throw CalibrateError(where + ": " + at.substr(0, at.size() - 1) +
                           ": needs positive m, n, k and time_us, and a dtype");
    }
    p.gemm.push_back(e);
  }
  i = 0;
  for (const auto& m : r.Array(doc, "memory")) {
    const std::string at = "memory[" + std::to_string(i++) + "].";
    MemoryEntry e;
    e.kind = r.Get<std::string>(m, at, "kind", "");
    e.bytes = r.Get<int64_t>(m, at, "bytes", 0);
    e.time_us = r.Get<double>(m, at, "time_us", 0);
    e.bandwidth_GBps = r.Get<double>(m, at, "bandwidth_GBps", 0);
    p.memory.push_back(e);
  }
  i = 0;
  for (const auto& c : r.Array(doc, "collectives")) {
    const std::string at = "collectives[" + std::to_string(i++) + "].";
    CollectiveEntry e;
    e.op = r.Get<std::string>(c, at, "op", "");
    e.dtype = r.Get<std::string>(c, at, "dtype", "");
    e.redop = r.Get<std::string>(c, at, "redop", "");
    e.gpus = r.Get<std::vector<int>>(c, at, "gpus", {});
    e.ranks = r.Get<int>(c, at, "ranks", static_cast<int>(e.gpus.size()));
    e.nodes = r.Get<int>(c, at, "nodes", 1);
    e.size = r.Get<int64_t>(c, at, "size", 0);
    e.count = r.Get<int64_t>(c, at, "count", 0);
    e.time_us = r.Get<double>(c, at, "time_us", 0);
    e.algbw_GBps = r.Get<double>(c, at, "algbw_GBps", 0);
    e.busbw_GBps = r.Get<double>(c, at, "busbw_GBps", 0);
    e.algorithm = r.Get<std::string>(c, at, "algorithm", "");
    e.protocol = r.Get<std::string>(c, at, "protocol", "");
    e.in_place = r.Get<bool>(c, at, "in_place", false);
    e.source = r.Get<std::string>(c, at, "source", "");
    if (e.op.empty() || e.size <= 0 || e.time_us <= 0 || e.ranks <= 0) {
      throw CalibrateError(where + ": " + at.substr(0, at.size() - 1) + ": needs an op, ranks, size and time_us");
    }
    p.collectives.push_back(e);
  }
  p.notes = r.Get<std::vector<std::string>>(doc, "", "notes", {});
  return p;
}

Profile ReadProfileFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw CalibrateError(path + ": cannot be opened");
  nlohmann::json doc;
  try {
    in >> doc;
  } catch (const nlohmann::json::parse_error& e) {
    throw CalibrateError(path + ": not valid JSON (" + std::string(e.what()) + ")");
  }
  return ProfileFromJson(doc, path);
}

void WriteProfileFile(const std::string& path, const Profile& profile) {
  const Status written =
      WriteFileAtomically(path, ToJson(profile).dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  if (!written.ok()) throw CalibrateError(written.message());
}

}  // namespace wiresim::calibrate
