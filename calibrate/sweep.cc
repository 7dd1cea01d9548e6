#include "calibrate/sweep.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numeric>
#include <regex>
#include <sstream>

#include "calibrate/profile.h"

namespace wiresim::calibrate {

int64_t ParseSize(const std::string& text) {
  static const std::regex pattern("\\s*([0-9]+)\\s*([KkMmGgTt]?)[Bb]?\\s*");
  std::smatch m;
  if (!std::regex_match(text, m, pattern)) {
    throw CalibrateError("size '" + text + "': expected a number of bytes with an optional K, M, G or T");
  }
  int64_t value = std::stoll(m[1]);
  const char unit = m[2].length() ? static_cast<char>(std::toupper(m[2].str()[0])) : ' ';
  const int shift = unit == 'K' ? 10 : unit == 'M' ? 20 : unit == 'G' ? 30 : unit == 'T' ? 40 : 0;
  if (value > (INT64_MAX >> shift)) throw CalibrateError("size '" + text + "' is too large");
  return value << shift;
}

std::vector<int64_t> SizeSeries(int64_t min, int64_t max, double factor) {
  if (min <= 0 || max < min) throw CalibrateError("sizes: need 0 < min <= max");
  if (!(factor > 1.0)) throw CalibrateError("sizes: the step factor must be above 1");
  std::vector<int64_t> out;
  for (double s = static_cast<double>(min); s <= static_cast<double>(max) * (1 + 1e-12); s *= factor) {
    out.push_back(static_cast<int64_t>(std::llround(s)));
  }
  return out;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::vector<int> ParseIntList(const std::string& text, const std::string& what) {
  std::vector<int> out;
  static const std::regex range("([0-9]+)(-([0-9]+))?");
  for (const std::string& item : SplitList(text)) {
    std::smatch m;
    if (!std::regex_match(item, m, range)) {
      throw CalibrateError(what + ": '" + item + "' is not an integer or a range like 0-7");
    }
    const int lo = std::stoi(m[1]);
    const int hi = m[3].matched ? std::stoi(m[3]) : lo;
    if (hi < lo) throw CalibrateError(what + ": empty range '" + item + "'");
    for (int i = lo; i <= hi; ++i) out.push_back(i);
  }
  if (out.empty()) throw CalibrateError(what + ": empty list");
  return out;
}

std::vector<std::vector<int>> NvlinkDomainsFromTopo(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  static const std::regex gpu("GPU([0-9]+)");
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::vector<std::string> t;
    for (std::string tok; ls >> tok;) t.push_back(tok);
    if (t.empty()) continue;
    if (columns.empty()) {
      auto first = std::find(t.begin(), t.end(), "GPU0");
      if (first == t.end()) continue;
      for (auto it = first; it != t.end() && std::regex_match(*it, gpu); ++it) columns.push_back(*it);
      continue;
    }
    if (!std::regex_match(t[0], gpu)) {
      if (t[0] == "Legend:") break;
      continue;
    }
    rows.emplace_back(t.begin() + 1, t.end());
  }
  const size_t n = std::min(columns.size(), rows.size());
  std::vector<int> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](int x) {
    while (parent[static_cast<size_t>(x)] != x) x = parent[static_cast<size_t>(x)];
    return x;
  };
  std::vector<bool> linked(n, false);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n && j < rows[i].size(); ++j) {
      if (i != j && rows[i][j].rfind("NV", 0) == 0) {
        parent[static_cast<size_t>(find(static_cast<int>(i)))] = find(static_cast<int>(j));
        linked[i] = linked[j] = true;
      }
    }
  }
  std::vector<std::vector<int>> domains;
  std::vector<int> slot(n, -1);
  for (size_t i = 0; i < n; ++i) {
    if (!linked[i]) continue;
    const int root = find(static_cast<int>(i));
    if (slot[static_cast<size_t>(root)] < 0) {
      slot[static_cast<size_t>(root)] = static_cast<int>(domains.size());
      domains.emplace_back();
    }
    domains[static_cast<size_t>(slot[static_cast<size_t>(root)])].push_back(static_cast<int>(i));
  }
  return domains;
}

std::vector<GpuGroup> PlanGroups(int gpus, const std::vector<std::string>& kinds,
                                 const std::vector<std::vector<int>>& nvlink_domains) {
  std::vector<GpuGroup> out;
  auto add = [&](const std::string& kind, std::vector<int> members) {
    for (const GpuGroup& g : out)
      if (g.gpus == members) return;
    out.push_back(GpuGroup{kind, std::move(members)});
  };
  for (const std::string& kind : kinds) {
    if (kind == "all") {
      if (gpus >= 2) {
        std::vector<int> all(static_cast<size_t>(gpus));
        std::iota(all.begin(), all.end(), 0);
        add("all", all);
      }
    } else if (kind == "pairs") {
      for (int a = 0; a < gpus; ++a)
        for (int b = a + 1; b < gpus; ++b) add("pair", {a, b});
    } else if (kind == "nvlink") {
      for (const auto& d : nvlink_domains)
        if (d.size() >= 2 && static_cast<int>(d.size()) < gpus) add("nvlink", d);
    } else {
      throw CalibrateError("--groups: unknown group kind '" + kind + "' (expected all, pairs or nvlink)");
    }
  }
  return out;
}

std::string FormatGpus(const std::vector<int>& gpus) {
  std::string out;
  for (size_t i = 0; i < gpus.size();) {
    size_t j = i;
    while (j + 1 < gpus.size() && gpus[j + 1] == gpus[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += std::to_string(gpus[i]);
    if (j > i) out += "-" + std::to_string(gpus[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace wiresim::calibrate
