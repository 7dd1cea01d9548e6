#include "calibrate/sweep.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <numeric>
#include <set>
#include <sstream>
#include <string_view>

#include "calibrate/profile.h"
#include "sim/core/numeric_field.h"

namespace wiresim::calibrate {

namespace {

// Hand-written matchers rather than std::regex, whose libstdc++ implementation recurses once per character and can
// exhaust the stack on a long argument or line.
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The digits of `s` from `*at` (at least one), advancing `*at`.
bool Digits(const std::string& s, size_t* at, std::string* out) {
  const size_t from = *at;
  while (*at < s.size() && IsDigit(s[*at])) ++*at;
  *out = s.substr(from, *at - from);
  return *at > from;
}

// "GPU" followed by one or more digits, nothing else.
bool IsGpuName(const std::string& s) {
  return s.size() > 3 && s.compare(0, 3, "GPU") == 0 && std::all_of(s.begin() + 3, s.end(), IsDigit);
}

}  // namespace

int64_t ParseSize(const std::string& text) {
  // \s* DIGITS \s* [KMGT]? [Bb]? \s*, the unit letter in either case.
  size_t at = 0;
  std::string digits;
  char unit = ' ';
  while (at < text.size() && IsSpace(text[at])) ++at;
  bool ok = Digits(text, &at, &digits);
  while (at < text.size() && IsSpace(text[at])) ++at;
  if (at < text.size() && std::string_view("KkMmGgTt").find(text[at]) != std::string_view::npos) {
    unit = static_cast<char>(std::toupper(static_cast<unsigned char>(text[at++])));
  }
  if (at < text.size() && (text[at] == 'B' || text[at] == 'b')) ++at;
  while (at < text.size() && IsSpace(text[at])) ++at;
  if (!ok || at != text.size()) {
    throw CalibrateError("size '" + text + "': expected a number of bytes with an optional K, M, G or T");
  }
  const int shift = unit == 'K' ? 10 : unit == 'M' ? 20 : unit == 'G' ? 30 : unit == 'T' ? 40 : 0;
  // Sizes are bounded as the simulator bounds them (docs/formats/numbers.md): 2^40 bytes, above any GPU's memory.
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() ||
      value > (static_cast<int64_t>(kMaxMessageBytes) >> shift)) {
    throw CalibrateError("size '" + text + "': expected at most 1T (2^40 bytes)");
  }
  return value << shift;
}

std::vector<int64_t> SizeSeries(int64_t min, int64_t max, double factor) {
  if (min <= 0 || max < min) throw CalibrateError("sizes: need 0 < min <= max");
  if (!(factor > 1.0)) throw CalibrateError("sizes: the step factor must be above 1");
  // The number of sizes, 1 + log(max / min) / log(factor), bounded before the series is made.
  const double steps = std::log(static_cast<double>(max) / static_cast<double>(min)) / std::log(factor);
  if (!(steps < kMaxSeriesLength)) {
    throw CalibrateError("sizes: " + std::to_string(min) + " to " + std::to_string(max) + " by a factor of " +
                         std::to_string(factor) + " is more than " + std::to_string(kMaxSeriesLength) +
                         " sizes; raise the step factor");
  }
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
  auto number = [&](const std::string& digits, const std::string& item) {
    int v = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc() || end != digits.data() + digits.size() || v > kMaxListValue) {
      throw CalibrateError(what + ": '" + item + "': expected numbers up to " + std::to_string(kMaxListValue) +
                           " (2^24)");
    }
    return v;
  };
  for (const std::string& item : SplitList(text)) {
    // DIGITS or DIGITS-DIGITS.
    size_t at = 0;
    std::string first, second;
    bool ok = Digits(item, &at, &first);
    const bool is_range = ok && at < item.size() && item[at] == '-';
    if (is_range) {
      ++at;
      ok = Digits(item, &at, &second);
    }
    if (!ok || at != item.size()) {
      throw CalibrateError(what + ": '" + item + "' is not an integer or a range like 0-7");
    }
    const int lo = number(first, item);
    const int hi = is_range ? number(second, item) : lo;
    if (hi < lo) throw CalibrateError(what + ": empty range '" + item + "'");
    if (static_cast<int64_t>(out.size()) + (hi - lo) >= kMaxSeriesLength) {
      throw CalibrateError(what + ": more than " + std::to_string(kMaxSeriesLength) + " values");
    }
    for (int i = lo; i <= hi; ++i) out.push_back(i);
  }
  if (out.empty()) throw CalibrateError(what + ": empty list");
  return out;
}

std::vector<std::vector<int>> NvlinkDomainsFromTopo(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::vector<std::string> t;
    for (std::string tok; ls >> tok;) t.push_back(tok);
    if (t.empty()) continue;
    if (columns.empty()) {
      auto first = std::find(t.begin(), t.end(), "GPU0");
      if (first == t.end()) continue;
      for (auto it = first; it != t.end() && IsGpuName(*it); ++it) columns.push_back(*it);
      continue;
    }
    if (!IsGpuName(t[0])) {
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
  std::set<std::vector<int>> seen;  // a set, not a scan of `out`: 576 GPUs have 165,600 pairs
  auto add = [&](const std::string& kind, std::vector<int> members) {
    if (!seen.insert(members).second) return;
    out.push_back(GpuGroup{kind, std::move(members)});
  };
  std::set<std::string> done;
  for (const std::string& kind : kinds) {
    if (!done.insert(kind).second) continue;  // a kind named twice adds nothing
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
