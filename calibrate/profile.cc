#include "calibrate/profile.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/core/numeric_field.h"
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

// A GEMM time or rate written beside a measurement: derived from it, so only bounded, never checked against it.
// 10^9 TFLOP/s is 10^5 times a B200's dense FP4 rate (10 PFLOP/s, NVIDIA's B200 datasheet).
constexpr NumericRange kReportedTflops{0, false, 1e9, false, "a rate in TFLOP/s", "1e9"};
// A size in bytes read as an integer (memory sizes, copy and message sizes): 0 to 2^40.
constexpr NumericRange kWholeBytes{0, false, kMaxMessageBytes, true, "a size in bytes", "2^40, 1 TiB"};
// A GEMM dimension, as `compute gemm --csv` bounds it (docs/formats/numbers.md).
constexpr NumericRange kGemmDimension{1,     false, static_cast<double>(kMaxModelDimension), true, "a whole number",
                                      "2^24"};

// Typed access with errors that say where: "profile.json: collectives[3].size: expected an integer". Numbers go
// through the shared bounds (sim/core/numeric_field.h) and come back in range or not at all.
class Reader {
 public:
  explicit Reader(std::string where) : where_(std::move(where)) {}

  template <typename T>
  T Get(const nlohmann::json& obj, const std::string& path, const char* key, T fallback) const {
    if (!obj.contains(key) || obj[key].is_null()) return fallback;
    try {
      return obj[key].get<T>();
    } catch (const nlohmann::json::exception&) {
      throw CalibrateError(where_ + ": " + path + key + ": has the wrong type (" + Excerpt(obj[key]) + ")");
    }
  }
  // A whole number in `range`; `fallback` when the key is absent or null.
  int64_t Integer(const nlohmann::json& obj, const std::string& path, const char* key, int64_t fallback,
                  const NumericRange& range) const {
    if (!obj.contains(key) || obj[key].is_null()) return fallback;
    const std::optional<int64_t> v = JsonWholeNumber(obj[key]);
    if (!v && obj[key].is_number()) {
      // A fraction, or a whole number of 2^63 and more: out of every integer range, said as the range says it.
      Throw(CheckNumber(SourceLocation{where_, 0, 0}, path + key, obj[key].get<double>(), range));
    }
    if (!v) {
      throw CalibrateError(where_ + ": " + path + key + ": expected an integer, got " + Excerpt(obj[key]));
    }
    Throw(CheckInteger(SourceLocation{where_, 0, 0}, path + key, *v, range));
    return *v;
  }
  // A finite number in `range`; `fallback` when the key is absent or null.
  double Number(const nlohmann::json& obj, const std::string& path, const char* key, double fallback,
                const NumericRange& range) const {
    if (!obj.contains(key) || obj[key].is_null()) return fallback;
    if (!obj[key].is_number()) {
      throw CalibrateError(where_ + ": " + path + key + ": expected a number, got " + Excerpt(obj[key]));
    }
    const double v = obj[key].get<double>();
    Throw(CheckNumber(SourceLocation{where_, 0, 0}, path + key, v, range));
    return v;
  }
  const nlohmann::json& Array(const nlohmann::json& obj, const char* key) const {
    static const nlohmann::json empty = nlohmann::json::array();
    if (!obj.contains(key)) return empty;
    if (!obj[key].is_array()) throw CalibrateError(where_ + ": " + key + ": expected an array");
    return obj[key];
  }
  const std::string& where() const { return where_; }

 private:
  static void Throw(const Status& s) {
    if (!s.ok()) throw CalibrateError(s.message());
  }
  // A value quoted in a message: at most 40 bytes, bytes that are not UTF-8 replaced (dump() would throw on them).
  static std::string Excerpt(const nlohmann::json& v) {
    return InputExcerpt(v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }

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
  const int version = static_cast<int>(r.Integer(doc, "", "version", 0, WholeUpTo(1 << 20)));
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
    p.provenance.nodes = static_cast<int>(r.Integer(v, at, "nodes", 0, WholeUpTo(kMaxRanks, "2^20")));
    p.provenance.ranks = static_cast<int>(r.Integer(v, at, "ranks", 0, WholeUpTo(kMaxRanks, "2^20")));
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
      info.index = static_cast<int>(r.Integer(g, gat, "index", 0, WholeUpTo(kMaxRanks, "2^20")));
      info.host = r.Get<std::string>(g, gat, "host", "");
      info.name = r.Get<std::string>(g, gat, "name", "");
      info.sm = r.Get<std::string>(g, gat, "sm", "");
      info.sm_count = static_cast<int>(r.Integer(g, gat, "sm_count", 0, WholeUpTo(kMaxRanks, "2^20")));
      info.memory_bytes = r.Integer(g, gat, "memory_bytes", 0, kWholeBytes);
      info.pci_bus_id = r.Get<std::string>(g, gat, "pci_bus_id", "");
      info.clock_mhz = static_cast<int>(r.Integer(g, gat, "clock_mhz", 0, WholeUpTo(kMaxRanks, "2^20")));
      info.memory_clock_mhz = static_cast<int>(r.Integer(g, gat, "memory_clock_mhz", 0, WholeUpTo(kMaxRanks, "2^20")));
      info.l2_bytes = r.Integer(g, gat, "l2_bytes", 0, kWholeBytes);
      p.provenance.gpus.push_back(info);
    }
  }
  int i = 0;
  for (const auto& g : r.Array(doc, "gemm")) {
    const std::string at = "gemm[" + std::to_string(i++) + "].";
    GemmEntry e;
    e.m = r.Integer(g, at, "m", 0, kGemmDimension);
    e.n = r.Integer(g, at, "n", 0, kGemmDimension);
    e.k = r.Integer(g, at, "k", 0, kGemmDimension);
    e.dtype = r.Get<std::string>(g, at, "dtype", "");
    e.time_us = r.Number(g, at, "time_us", 0, kMeasuredMicroseconds);
    e.min_us = r.Number(g, at, "min_us", e.time_us, kMeasuredMicroseconds);
    e.max_us = r.Number(g, at, "max_us", e.time_us, kMeasuredMicroseconds);
    e.p10_us = r.Number(g, at, "p10_us", e.time_us, kMeasuredMicroseconds);
    e.p90_us = r.Number(g, at, "p90_us", e.time_us, kMeasuredMicroseconds);
    e.repetitions = static_cast<int>(r.Integer(g, at, "repetitions", 0, WholeUpTo(INT32_MAX, "2^31 - 1")));
    e.tflops = r.Number(g, at, "tflops", 0, kReportedTflops);
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
    e.bytes = r.Integer(m, at, "bytes", 0, kWholeBytes);
    e.time_us = r.Number(m, at, "time_us", 0, kMeasuredMicroseconds);
    e.bandwidth_GBps = r.Number(m, at, "bandwidth_GBps", 0, kReportedBandwidthGBps);
    if (e.kind.empty() || e.bytes <= 0 || e.time_us <= 0) {
      throw CalibrateError(where + ": " + at.substr(0, at.size() - 1) + ": needs a kind, positive bytes and time_us");
    }
    p.memory.push_back(e);
  }
  i = 0;
  for (const auto& c : r.Array(doc, "collectives")) {
    const std::string at = "collectives[" + std::to_string(i++) + "].";
    CollectiveEntry e;
    e.op = r.Get<std::string>(c, at, "op", "");
    e.dtype = r.Get<std::string>(c, at, "dtype", "");
    e.redop = r.Get<std::string>(c, at, "redop", "");
    for (const auto& gpu : r.Array(c, "gpus")) {
      const std::optional<int64_t> index = JsonWholeNumber(gpu);
      if (!index || *index < 0 || *index >= kMaxRanks) {
        throw CalibrateError(where + ": " + at + "gpus: expected GPU indices from 0 to " +
                             std::to_string(kMaxRanks - 1) + ", got " +
                             InputExcerpt(gpu.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
      }
      e.gpus.push_back(static_cast<int>(*index));
    }
    e.ranks =
        static_cast<int>(r.Integer(c, at, "ranks", static_cast<int64_t>(e.gpus.size()), WholeUpTo(kMaxRanks, "2^20")));
    e.nodes = static_cast<int>(r.Integer(c, at, "nodes", 1, kRankCount));
    e.size = r.Integer(c, at, "size", 0, kWholeBytes);
    e.count = r.Integer(c, at, "count", 0, kElementCount);
    e.time_us = r.Number(c, at, "time_us", 0, kMeasuredMicroseconds);
    e.algbw_GBps = r.Number(c, at, "algbw_GBps", 0, kReportedBandwidthGBps);
    e.busbw_GBps = r.Number(c, at, "busbw_GBps", 0, kReportedBandwidthGBps);
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

Profile ProfileFromText(const std::string& text, const std::string& where) {
  // Nesting is bounded before parsing, so that neither the parser nor the destructor of a 75,000-level document can
  // exhaust the stack.
  if (const Status nesting = CheckJsonNesting(where, text); !nesting.ok()) throw CalibrateError(nesting.message());
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw CalibrateError(where + ": not valid JSON (" + std::string(e.what()) + ")");
  } catch (const nlohmann::json::exception& e) {
    // out_of_range: a number such as 1e400 that no double holds.
    throw CalibrateError(JsonNumberOutOfRange(where, text, e.what()).message());
  }
  return ProfileFromJson(doc, where);
}

Profile ReadProfileFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CalibrateError(path + ": cannot be opened");
  std::ostringstream text;
  text << in.rdbuf();
  return ProfileFromText(text.str(), path);
}

void WriteProfileFile(const std::string& path, const Profile& profile) {
  const Status written =
      WriteFileAtomically(path, ToJson(profile).dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  if (!written.ok()) throw CalibrateError(written.message());
}

}  // namespace wiresim::calibrate
