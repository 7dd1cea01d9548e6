#include "calibrate/tuning_log.h"

#include <cstdio>
#include <map>
#include <regex>
#include <sstream>

namespace wiresim::calibrate {
namespace {

std::string AlgorithmName(const std::string& s) {
  static const char* kByIndex[] = {"Tree", "Ring", "CollNetDirect", "CollNetChain", "NVLS", "NVLSTree", "PAT"};
  if (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0]))) {
    const int i = std::stoi(s);
    return i >= 0 && i < 7 ? kByIndex[i] : s;
  }
  for (const char* name : kByIndex) {
    std::string upper(name), given(s);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (char& c : given) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper == given) return name;
  }
  return s;
}

std::string ProtocolName(const std::string& s) {
  static const char* kByIndex[] = {"LL", "LL128", "Simple"};
  if (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0]))) {
    const int i = std::stoi(s);
    return i >= 0 && i < 3 ? kByIndex[i] : s;
  }
  if (s == "SIMPLE" || s == "simple") return "Simple";
  return s;
}

}  // namespace

std::vector<TuningChoice> ParseTuningLines(const std::string& text) {
  static const std::regex line(
      R"((AllReduce|AllGather|ReduceScatter|Broadcast|Reduce):\s+(\d+)\s+Bytes\s+->\s+Algo\s+(\w+)\s+proto\s+(\w+))");
  std::vector<TuningChoice> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (!std::regex_search(l, m, line)) continue;
    out.push_back(TuningChoice{m[1], std::stoll(m[2]), AlgorithmName(m[3]), ProtocolName(m[4])});
  }
  return out;
}

std::string NcclFunctionName(const std::string& op) {
  if (op == "all_reduce") return "AllReduce";
  if (op == "all_gather") return "AllGather";
  if (op == "reduce_scatter") return "ReduceScatter";
  if (op == "broadcast") return "Broadcast";
  if (op == "reduce") return "Reduce";
  return "";
}

TuningChoice MostFrequent(const std::vector<TuningChoice>& choices, const std::string& function) {
  std::map<std::pair<std::string, std::string>, int> counts;
  TuningChoice best;
  int best_count = 0;
  for (const TuningChoice& c : choices) {
    if (c.function != function) continue;
    const int n = ++counts[{c.algorithm, c.protocol}];
    if (n >= best_count) {
      best_count = n;
      best = c;
    }
  }
  return best;
}

}  // namespace wiresim::calibrate

namespace wiresim::calibrate {

std::string LogTail::ReadNew() {
  std::FILE* f = std::fopen(path_.c_str(), "rb");
  if (f == nullptr) return "";
  std::string text;
  if (std::fseek(f, offset_, SEEK_SET) == 0) {
    char buf[1 << 16];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
  }
  offset_ += static_cast<long>(text.size());
  std::fclose(f);
  return text;
}

}  // namespace wiresim::calibrate
