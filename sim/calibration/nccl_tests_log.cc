#include "sim/calibration/nccl_tests_log.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>
#include <sstream>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sim/core/numeric_field.h"

namespace wiresim {
namespace {

// The ranges of a row's fields (docs/formats/nccl-tests.md): sizes and counts below 2^40, times positive and below a
// day, a root -1 (none) or a rank, wrong-element counts non-negative. A bandwidth may be "nan" (the -J form writes it
// for a figure it could not form): it is kept as NaN, never used for a time.
constexpr NumericRange kRowBytes{0, false, kMaxMessageBytes, false, "a size in bytes", "2^40, 1 TiB"};
constexpr NumericRange kRoot{-1, false, static_cast<double>(kMaxRanks), true, "a root rank (-1: none)", "2^20"};
constexpr NumericRange kRank = WholeUpTo(kMaxRanks, "2^20");
constexpr NumericRange kWrong{0, false, 9e18, false, "a count of wrong elements or N/A", "9e18"};
constexpr NumericRange kVersionCode = WholeUpTo(999999, "999999");  // NCCL_VERSION_CODE: 22907 is 2.29.7
constexpr NumericRange kIssueCount = WholeUpTo(1000000, "10^6");  // graph launches (-G), aggregated iterations (-m)

Status CheckBandwidth(const SourceLocation& where, const std::string& field, double v) {
  if (std::isnan(v)) return Status::Ok();
  return CheckNumber(where, field, v, kReportedBandwidthGBps);
}

std::vector<std::string> SplitWhitespace(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    size_t j = i;
    while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
    if (j > i) out.emplace_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

bool IsInteger(std::string_view s) {
  if (!s.empty() && s[0] == '-') s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::optional<double> ParseNumber(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

bool IsWord(const std::string& s) { return !s.empty() && !ParseNumber(s).has_value(); }

// "2025-10-01" and "12:34:56": the timestamp -S appends.
bool IsTimestampToken(const std::string& s) {
  if (s.size() == 10 && s[4] == '-' && s[7] == '-') return true;
  if (s.size() == 8 && s[2] == ':' && s[5] == ':') return true;
  return false;
}

// Removes what launchers put before a process's output: "[1,0]<stdout>:" (Open MPI --tag-output) and "0: " (srun
// --label).
std::string_view StripLauncherPrefix(std::string_view line) {
  size_t start = 0;
  while (start < line.size() && std::isspace(static_cast<unsigned char>(line[start]))) ++start;
  std::string_view rest = line.substr(start);
  if (!rest.empty() && rest[0] == '[') {
    const size_t close = rest.find("]<std");
    if (close != std::string_view::npos) {
      const size_t colon = rest.find(':', close);
      if (colon != std::string_view::npos) return rest.substr(colon + 1);
    }
  }
  size_t digits = 0;
  while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
  if (digits > 0 && digits < rest.size() && rest[digits] == ':' && digits + 1 < rest.size() &&
      rest[digits + 1] == ' ') {
    return rest.substr(digits + 2);
  }
  return line;
}

// "all_reduce_perf" (possibly a path, possibly "all_reduce_perf_mpi") -> "all_reduce"; empty if not a test binary.
std::string OpFromBinary(std::string_view token) {
  const size_t slash = token.rfind('/');
  if (slash != std::string_view::npos) token.remove_prefix(slash + 1);
  const size_t perf = token.find("_perf");
  if (perf == std::string_view::npos || perf == 0) return "";
  return std::string(token.substr(0, perf));
}

// 22907 -> "2.29.7" (NCCL_VERSION_CODE since 2.9: major*10000 + minor*100 + patch).
std::string VersionFromCode(int64_t code) {
  if (code <= 0) return "";
  if (code >= 10000)
    return std::to_string(code / 10000) + "." + std::to_string(code / 100 % 100) + "." + std::to_string(code % 100);
  return std::to_string(code / 1000) + "." + std::to_string(code / 100 % 10) + "." + std::to_string(code % 100);
}

// NCCL_ALGO / NCCL_PROTO from a line that shows them: NCCL's "NCCL_ALGO set by environment to ring,tree" (NCCL_DEBUG=
// INFO, src/graph/tuning.cc), or a word "NCCL_ALGO=ring" (an echoed environment, an `mpirun -x` command line, an
// -J `env` entry). Quotes around the value are dropped.
void ReadNcclEnv(std::string_view line, std::string* algo, std::string* proto) {
  for (auto [name, out] : {std::pair<std::string_view, std::string*>{"NCCL_ALGO", algo}, {"NCCL_PROTO", proto}}) {
    const size_t at = line.find(name);
    if (at == std::string_view::npos) continue;
    std::string_view rest = line.substr(at + name.size());
    constexpr std::string_view kSetBy = " set by environment to ";
    if (rest.substr(0, kSetBy.size()) == kSetBy) {
      rest.remove_prefix(kSetBy.size());
    } else if (!rest.empty() && rest[0] == '=') {
      rest.remove_prefix(1);
    } else {
      continue;
    }
    size_t end = 0;
    while (end < rest.size() && !std::isspace(static_cast<unsigned char>(rest[end]))) ++end;
    std::string value(rest.substr(0, end));
    std::erase_if(value, [](char c) { return c == '"' || c == '\''; });
    if (!value.empty()) *out = value;
  }
}

// The line above the column names: "out-of-place   in-place" (with "(+ per-iteration)" under -I).
bool IsGroupTitle(const std::vector<std::string>& tok) {
  bool any = false;
  for (const std::string& t : tok) {
    if (t == "out-of-place" || t == "in-place") {
      any = true;
    } else if (t != "(+" && t != "per-iteration)") {
      return false;
    }
  }
  return any;
}

struct Header {
  bool seen = false;
  bool only_out_of_place = false;  // the group title names out-of-place alone (wiresim's own tables)
  bool root = true;
  int group_width = 4;  // time algbw busbw #wrong, plus i_min i_max i_p99 i_cv% with -I
};

class TextParser {
 public:
  explicit TextParser(const SourceFile& file) : file_(file) { log_.source = file.name; }

  Result<NcclTestsLog> Parse() {
    std::istringstream in(file_.text);
    std::string raw;
    int line_no = 0;
    while (std::getline(in, raw)) {
      ++line_no;
      line_no_ = line_no;
      if (!raw.empty() && raw.back() == '\r') raw.pop_back();
      WIRESIM_RETURN_IF_ERROR(Line(std::string(StripLauncherPrefix(raw)), line_no));
    }
    if (!ranks_.empty()) log_.ranks = static_cast<int>(ranks_.size());
    if (log_.rows.empty()) {
      return InvalidInput({file_.name, 0, 0}, "",
                          "no nccl-tests result rows (expected lines like '  8  2  float  sum  -1  135.8  0.00  0.00  "
                          "0 ...' or -J JSON)");
    }
    return std::move(log_);
  }

 private:
  Status Line(const std::string& line, int line_no) {
    std::vector<std::string> tok = SplitWhitespace(line);
    if (tok.empty()) return Status::Ok();
    if (line.find("NCCL_ALGO") != std::string::npos || line.find("NCCL_PROTO") != std::string::npos) {
      ReadNcclEnv(line, &log_.nccl_algo, &log_.nccl_proto);
    }
    if (tok[0][0] == '#') return Comment(line, tok);
    if (line.find("NCCL INFO") != std::string::npos || line.find("NCCL WARN") != std::string::npos) {
      return Status::Ok();
    }
    if (tok.size() >= 3 && tok[0] == "NCCL" && tok[1] == "version") {
      log_.nccl_version = tok[2].substr(0, tok[2].find('+'));
      return Status::Ok();
    }
    if (log_.op.empty()) {
      for (const std::string& t : tok) {
        const std::string op = OpFromBinary(t);
        if (!op.empty()) {
          log_.op = op;
          break;
        }
      }
    }
    if (tok.size() >= 8 && IsInteger(tok[0]) && IsInteger(tok[1]) && IsWord(tok[2]) && IsWord(tok[3])) {
      return Row(tok, line_no);
    }
    return Status::Ok();
  }

  Status Comment(const std::string& line, std::vector<std::string> tok) {
    if (tok[0] == "#") {
      tok.erase(tok.begin());
    } else {
      tok[0] = tok[0].substr(1);  // "#size"
    }
    if (tok.empty()) return Status::Ok();
    if (line.find("Collective test starting:") != std::string::npos && tok.size() >= 4) {
      log_.op = OpFromBinary(tok.back());
      if (log_.op.empty()) log_.op = tok.back();
    } else if (tok[0] == "nThread") {
      // "nThread 1 nGpus 1 ... warmup iters: 5 iters: 20 agg iters: 1 validation: 1 graph: 0 unalign: 0"
      for (size_t i = 0; i + 1 < tok.size(); ++i) {
        const SourceLocation at{file_.name, line_no_, 0};
        if (tok[i] == "graph:") {
          WIRESIM_ASSIGN_OR_RETURN(const int64_t n, ParseIntegerField(at, "graph", tok[i + 1], kIssueCount));
          log_.graph_launches = static_cast<int>(n);
        } else if (tok[i] == "iters:" && i > 0 && tok[i - 1] == "agg") {
          WIRESIM_ASSIGN_OR_RETURN(const int64_t n, ParseIntegerField(at, "agg iters", tok[i + 1], kIssueCount));
          log_.agg_iters = static_cast<int>(std::max<int64_t>(1, n));
        } else if (tok[i] == "nGpus") {
          WIRESIM_ASSIGN_OR_RETURN(const int64_t n, ParseIntegerField(at, "nGpus", tok[i + 1], kIssueCount));
          log_.gpus_per_thread = static_cast<int>(std::max<int64_t>(1, n));
        } else if (tok[i] == "nThread") {
          WIRESIM_ASSIGN_OR_RETURN(const int64_t n, ParseIntegerField(at, "nThread", tok[i + 1], kIssueCount));
          log_.threads_per_process = static_cast<int>(std::max<int64_t>(1, n));
        }
      }
    } else if (line.find("Blocking Enabled") != std::string::npos) {
      log_.blocking = true;
    } else if (tok.size() >= 3 && tok[0] == "nccl-tests" && tok[1] == "version") {
      log_.tests_version = tok[2];
      // Since nccl-tests 2.17.4: "nccl-headers=22907 nccl-library=22907", the NCCL it ran (ncclGetVersion's code).
      for (size_t i = 3; i < tok.size(); ++i) {
        if (tok[i].rfind("nccl-library=", 0) != 0) continue;
        WIRESIM_ASSIGN_OR_RETURN(const int64_t code, ParseIntegerField({file_.name, line_no_, 0}, "nccl-library",
                                                                       tok[i].substr(13), kVersionCode));
        if (log_.nccl_version.empty()) log_.nccl_version = VersionFromCode(code);
      }
    } else if (tok[0] == "Rank" && tok.size() >= 2 && IsInteger(tok[1])) {
      WIRESIM_ASSIGN_OR_RETURN(const int64_t rank, ParseIntegerField({file_.name, line_no_, 0}, "Rank", tok[1], kRank));
      if (ranks_.insert(static_cast<int>(rank)).second) {
        std::string host, device;
        for (size_t i = 0; i + 1 < tok.size(); ++i)
          if (tok[i] == "on") host = tok[i + 1];
        const size_t bracket = line.find(']');
        if (bracket != std::string::npos) {
          device = line.substr(bracket + 1);
          const size_t b = device.find_first_not_of(' ');
          device = b == std::string::npos ? "" : device.substr(b);
        }
        log_.hosts.push_back(host);
        log_.devices.push_back(device);
      }
    } else if (tok[0] == "size" && tok.size() >= 3 && tok[1] == "count") {
      header_.seen = true;
      header_.root = false;
      header_.group_width = 4;
      for (const std::string& t : tok) {
        if (t == "root") header_.root = true;
        if (t == "i_min") header_.group_width = 8;
        if (t == "cputime") log_.cpu_time = true;
      }
    } else if (IsGroupTitle(tok)) {
      header_.only_out_of_place = std::find(tok.begin(), tok.end(), "in-place") == tok.end();
    } else if (line.find("Avg bus bandwidth") != std::string::npos) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        const auto rest = SplitWhitespace(line.substr(colon + 1));
        // Only shown beside the rows: a figure out of range ("inf") is dropped, not refused.
        const auto v = rest.empty() ? std::nullopt : ParseNumber(rest[0]);
        if (v && std::isfinite(*v) && *v >= 0 && *v <= kMaxBandwidthGBps) log_.average_busbw_GBps = v;
      }
    }
    return Status::Ok();
  }

  Status Row(std::vector<std::string> tok, int line_no) {
    const SourceLocation where{file_.name, line_no, 0};
    while (tok.size() > 4 && IsTimestampToken(tok.back())) tok.pop_back();
    // Columns some tools append after nccl-tests' own (wiresim's algorithm and protocol): words, never "N/A".
    while (tok.size() > 8 && IsWord(tok.back()) && tok.back() != "N/A") tok.pop_back();
    NcclTestsRow row;
    row.line = line_no;
    WIRESIM_ASSIGN_OR_RETURN(row.size_bytes, ParseNumberField(where, "size", tok[0], kRowBytes));
    WIRESIM_ASSIGN_OR_RETURN(row.count, ParseIntegerField(where, "count", tok[1], kElementCount));
    row.type = tok[2];
    row.redop = tok[3];
    size_t rest = tok.size() - 4;
    bool root = false;
    int width = header_.group_width;
    if (header_.seen) {
      root = header_.root;
    } else {
      // No header seen: the root column is there exactly when one token is left over from whole groups.
      root = rest % 4 == 1;
      width = (rest - (root ? 1 : 0)) >= 16 ? 8 : 4;
    }
    size_t at = 4;
    if (root) {
      WIRESIM_ASSIGN_OR_RETURN(const int64_t root_rank, ParseIntegerField(where, "root", tok[at], kRoot));
      row.root = static_cast<int>(root_rank);
      ++at;
      --rest;
    }
    const size_t groups = rest / static_cast<size_t>(width);
    if (rest % static_cast<size_t>(width) != 0 || groups < 1 || groups > 2) {
      return InvalidInput(where, "",
                          "a result row needs size, count, type, redop" + std::string(root ? ", root" : "") +
                              " and one or two groups of " + std::to_string(width) + " numbers (time algbw busbw " +
                              "#wrong" + (width == 8 ? " i_min i_max i_p99 i_cv%" : "") + "); got " +
                              std::to_string(tok.size()) + " fields");
    }
    for (size_t g = 0; g < groups; ++g) {
      NcclTestsResult r;
      const char* names[] = {"time", "algbw", "busbw"};
      double* fields[] = {&r.time_us, &r.algbw_GBps, &r.busbw_GBps};
      for (int k = 0; k < 3; ++k) {
        const std::string& cell = tok[at + static_cast<size_t>(k)];
        if (k == 0) {
          WIRESIM_ASSIGN_OR_RETURN(*fields[k], ParseNumberField(where, names[k], cell, kMeasuredMicroseconds));
          continue;
        }
        const auto v = ParseNumber(cell);
        if (!v) {
          return InvalidInput(where, names[k], "expected a number, got '" + InputExcerpt(cell) + "'");
        }
        WIRESIM_RETURN_IF_ERROR(CheckBandwidth(where, names[k], *v));
        *fields[k] = *v;
      }
      const std::string& wrong = tok[at + 3];
      if (wrong != "N/A") {
        WIRESIM_ASSIGN_OR_RETURN(r.wrong, ParseNumberField(where, "#wrong", wrong, kWrong));
      }
      // With one group only, it is the in-place one (trace replays print a blank out-of-place group), unless the
      // table's title names out-of-place alone.
      const bool oop = groups == 2 ? g == 0 : header_.only_out_of_place;
      (oop ? row.out_of_place : row.in_place) = r;
      at += static_cast<size_t>(width);
    }
    log_.rows.push_back(std::move(row));
    return Status::Ok();
  }

  const SourceFile& file_;
  NcclTestsLog log_;
  Header header_;
  std::set<int> ranks_;
  int line_no_ = 0;
};

using Json = nlohmann::json;

// nccl-tests writes NaN as the string "nan"; null means "not measured".
std::optional<double> JsonNumber(const Json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string() && v.get<std::string>() == "nan") return std::numeric_limits<double>::quiet_NaN();
  return std::nullopt;
}

Result<NcclTestsResult> JsonResult(const Json& j, const SourceFile& file, size_t index, const char* group) {
  const std::string where = "results[" + std::to_string(index) + "]." + group;
  NcclTestsResult r;
  const Json* time = j.contains("time") ? &j["time"] : j.contains("cpu_time") ? &j["cpu_time"] : nullptr;
  const std::optional<double> t = time ? JsonNumber(*time) : std::nullopt;
  const std::optional<double> a = j.contains("alg_bw") ? JsonNumber(j["alg_bw"]) : std::nullopt;
  const std::optional<double> b = j.contains("bus_bw") ? JsonNumber(j["bus_bw"]) : std::nullopt;
  if (!t || !a || !b) {
    return InvalidInput({file.name, 0, 0}, where, "expected numbers 'time' (or 'cpu_time'), 'alg_bw' and 'bus_bw'");
  }
  r.time_us = t.value();
  r.algbw_GBps = a.value();
  r.busbw_GBps = b.value();
  const SourceLocation at{file.name, 0, 0};
  WIRESIM_RETURN_IF_ERROR(CheckNumber(at, where + ".time", r.time_us, kMeasuredMicroseconds));
  WIRESIM_RETURN_IF_ERROR(CheckBandwidth(at, where + ".alg_bw", r.algbw_GBps));
  WIRESIM_RETURN_IF_ERROR(CheckBandwidth(at, where + ".bus_bw", r.busbw_GBps));
  if (j.contains("nwrong")) {
    r.wrong = JsonNumber(j["nwrong"]);
    if (r.wrong) WIRESIM_RETURN_IF_ERROR(CheckNumber(at, where + ".nwrong", *r.wrong, kWrong));
  }
  return r;
}

Result<NcclTestsLog> ParseJson(const SourceFile& file) {
  WIRESIM_RETURN_IF_ERROR(CheckJsonNesting(file.name, file.text));
  Json doc;
  try {
    doc = Json::parse(file.text);
  } catch (const Json::parse_error& e) {
    return InvalidInput({file.name, 0, 0}, "", "not valid JSON: " + InputExcerpt(e.what(), 200));
  } catch (const Json::exception& e) {
    // out_of_range: a number such as 1e400 that no double holds.
    return JsonNumberOutOfRange(file.name, file.text, e.what());
  }
  NcclTestsLog log;
  log.source = file.name;
  log.json = true;
  if (!doc.is_object() || !doc.contains("results") || !doc["results"].is_array()) {
    return InvalidInput({file.name, 0, 0}, "results", "expected the nccl-tests -J object with a 'results' list");
  }
  if (doc.contains("args") && doc["args"].is_array() && !doc["args"].empty() && doc["args"][0].is_string()) {
    log.op = OpFromBinary(doc["args"][0].get<std::string>());
  }
  if (doc.contains("env") && doc["env"].is_array()) {
    for (const Json& e : doc["env"]) {
      if (e.is_string()) ReadNcclEnv(e.get<std::string>(), &log.nccl_algo, &log.nccl_proto);
    }
  }
  if (doc.contains("nccl_version") && doc["nccl_version"].is_number_integer()) {
    log.nccl_version = VersionFromCode(doc["nccl_version"].get<int64_t>());
  }
  const Json* config_object = doc.contains("config") && doc["config"].is_object() ? &doc["config"] : nullptr;
  if (config_object != nullptr) {
    const Json& config = *config_object;
    const SourceLocation at{file.name, 0, 0};
    const auto count = [&](const char* key, int* out, int floor) -> Status {
      if (!config.contains(key)) return Status::Ok();
      const std::optional<int64_t> n = JsonWholeNumber(config[key]);
      if (!n) return InvalidInput(at, std::string("config.") + key, "expected a whole number");
      WIRESIM_RETURN_IF_ERROR(CheckInteger(at, std::string("config.") + key, *n, kIssueCount));
      *out = static_cast<int>(std::max<int64_t>(floor, *n));
      return Status::Ok();
    };
    WIRESIM_RETURN_IF_ERROR(count("graph", &log.graph_launches, 0));
    WIRESIM_RETURN_IF_ERROR(count("aggregated_iterations", &log.agg_iters, 1));
    WIRESIM_RETURN_IF_ERROR(count("ngpus", &log.gpus_per_thread, 1));
    WIRESIM_RETURN_IF_ERROR(count("nthreads", &log.threads_per_process, 1));
    // nccl-tests writes its flags as the strings "true" and "false".
    if (config.contains("blocking_collectives")) {
      const Json& b = config["blocking_collectives"];
      if (b.is_boolean()) {
        log.blocking = b.get<bool>();
      } else if (b.is_string() && (b == "true" || b == "false")) {
        log.blocking = b == "true";
      } else if (const std::optional<int64_t> n = JsonWholeNumber(b)) {
        log.blocking = *n != 0;
      } else {
        return InvalidInput(at, "config.blocking_collectives", "expected \"true\" or \"false\"");
      }
    }
  }
  // nccl-tests writes the device list inside "config"; accept it at the top level too.
  const Json* devices = nullptr;
  if (config_object != nullptr && config_object->contains("devices")) {
    devices = &(*config_object)["devices"];
  } else if (doc.contains("devices")) {
    devices = &doc["devices"];
  }
  if (devices != nullptr && devices->is_array() && !devices->empty()) {
    log.ranks = static_cast<int>(devices->size());
    for (const Json& d : *devices) {
      const bool named = d.is_object() && d.contains("hostname") && d["hostname"].is_string();
      const bool described = d.is_object() && d.contains("device_info") && d["device_info"].is_string();
      log.hosts.push_back(named ? d["hostname"].get<std::string>() : "");
      log.devices.push_back(described ? d["device_info"].get<std::string>() : "");
    }
  }
  if (doc.contains("average_bus_bandwidth") && doc["average_bus_bandwidth"].is_object() &&
      doc["average_bus_bandwidth"].contains("bandwidth")) {
    const auto v = JsonNumber(doc["average_bus_bandwidth"]["bandwidth"]);
    if (v && std::isfinite(*v) && *v >= 0 && *v <= kMaxBandwidthGBps) log.average_busbw_GBps = v;
  }
  const Json& results = doc["results"];
  for (size_t i = 0; i < results.size(); ++i) {
    const Json& r = results[i];
    const std::string where = "results[" + std::to_string(i) + "]";
    if (!r.is_object() || !r.contains("size") || !r["size"].is_number() || !r.contains("count") ||
        !r["count"].is_number()) {
      return InvalidInput({file.name, 0, 0}, where, "expected an object with numbers 'size' and 'count'");
    }
    NcclTestsRow row;
    const SourceLocation at{file.name, 0, 0};
    row.size_bytes = r["size"].get<double>();
    WIRESIM_RETURN_IF_ERROR(CheckNumber(at, where + ".size", row.size_bytes, kRowBytes));
    const std::optional<int64_t> count = JsonWholeNumber(r["count"]);
    if (!count) return InvalidInput(at, where + ".count", "expected a whole number");
    WIRESIM_RETURN_IF_ERROR(CheckInteger(at, where + ".count", *count, kElementCount));
    row.count = *count;
    row.type = r.contains("type") && r["type"].is_string() ? r["type"].get<std::string>() : "";
    row.redop = r.contains("redop") && r["redop"].is_string() ? r["redop"].get<std::string>() : "";
    if (r.contains("root")) {
      if (r["root"].is_number()) {
        const std::optional<int64_t> root = JsonWholeNumber(r["root"]);
        if (!root) return InvalidInput(at, where + ".root", "expected an integer");
        WIRESIM_RETURN_IF_ERROR(CheckInteger(at, where + ".root", *root, kRoot));
        row.root = static_cast<int>(*root);
      } else if (r["root"].is_string()) {
        const auto t = SplitWhitespace(r["root"].get<std::string>());  // "    -1": the %6i text
        if (t.size() != 1) return InvalidInput(at, where + ".root", "expected an integer");
        WIRESIM_ASSIGN_OR_RETURN(const int64_t root, ParseIntegerField(at, where + ".root", t[0], kRoot));
        row.root = static_cast<int>(root);
      }
    }
    for (const char* group : {"out_of_place", "in_place"}) {
      if (!r.contains(group) || r[group].is_null()) continue;
      if (!r[group].is_object()) return InvalidInput({file.name, 0, 0}, where + "." + group, "expected an object");
      WIRESIM_ASSIGN_OR_RETURN(NcclTestsResult res, JsonResult(r[group], file, i, group));
      if (r[group].contains("cpu_time")) log.cpu_time = true;
      (std::string(group) == "out_of_place" ? row.out_of_place : row.in_place) = res;
    }
    log.rows.push_back(std::move(row));
  }
  if (log.rows.empty()) return InvalidInput({file.name, 0, 0}, "results", "is empty");
  return log;
}

}  // namespace

Result<NcclTestsLog> ParseNcclTestsLog(const SourceFile& file) {
  const size_t first = file.text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && file.text[first] == '{') return ParseJson(file);
  return TextParser(file).Parse();
}

}  // namespace wiresim
