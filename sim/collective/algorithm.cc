#include "sim/collective/algorithm.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "sim/core/text.h"

namespace wiresim {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The names of a comma-separated list, whitespace removed, empty items dropped.
std::vector<std::string> Names(std::string_view s) {
  std::vector<std::string> out;
  for (std::string_view part : Split(s, ',')) {
    std::string item(part);
    std::erase_if(item, [](unsigned char c) { return std::isspace(c); });
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// Shared by the two list parsers: `parse` maps a name to a bit index.
template <typename Parse>
std::optional<std::string> ParseList(std::string_view text, int count, const char* what, Parse parse, uint32_t* mask) {
  bool exclude = false;
  if (!text.empty() && text[0] == '^') {
    exclude = true;
    text.remove_prefix(1);
  }
  uint32_t listed = 0;
  for (const std::string& name : Names(text)) {
    const std::optional<int> bit = parse(name);
    if (!bit) return "unknown " + std::string(what) + " '" + name + "'";
    listed |= 1u << *bit;
  }
  if (listed == 0) return std::string("an empty ") + what + " list";
  const uint32_t all = (1u << count) - 1;
  *mask = exclude ? (all & ~listed) : listed;
  if (*mask == 0) return std::string("every ") + what + " is excluded";
  return std::nullopt;
}

}  // namespace

std::string_view ToString(Algorithm a) {
  switch (a) {
    case Algorithm::kRing:
      return "Ring";
    case Algorithm::kTree:
      return "Tree";
    case Algorithm::kNvls:
      return "NVLS";
    case Algorithm::kNvlsTree:
      return "NVLSTree";
    case Algorithm::kPat:
      return "PAT";
    case Algorithm::kDirect:
      return "Direct";
  }
  return "?";
}

std::string_view ToString(Protocol p) {
  switch (p) {
    case Protocol::kLL:
      return "LL";
    case Protocol::kLL128:
      return "LL128";
    case Protocol::kSimple:
      return "Simple";
  }
  return "?";
}

std::optional<Algorithm> ParseAlgorithm(std::string_view name) {
  const std::string n = Lower(name);
  for (int i = 0; i < kAlgorithmCount; ++i) {
    const Algorithm a = static_cast<Algorithm>(i);
    if (n == Lower(ToString(a))) return a;
  }
  if (n == "nvls_tree" || n == "nvls-tree") return Algorithm::kNvlsTree;
  return std::nullopt;
}

std::optional<Protocol> ParseProtocol(std::string_view name) {
  const std::string n = Lower(name);
  for (int i = 0; i < kProtocolCount; ++i) {
    const Protocol p = static_cast<Protocol>(i);
    if (n == Lower(ToString(p))) return p;
  }
  return std::nullopt;
}

std::optional<std::string> ParseAlgorithmList(std::string_view text, AlgorithmFilter* filter) {
  return ParseList(
      text, kAlgorithmCount, "algorithm",
      [](const std::string& n) -> std::optional<int> {
        const auto a = ParseAlgorithm(n);
        return a ? std::optional<int>(static_cast<int>(*a)) : std::nullopt;
      },
      &filter->algorithms);
}

std::optional<std::string> ParseProtocolList(std::string_view text, AlgorithmFilter* filter) {
  return ParseList(
      text, kProtocolCount, "protocol",
      [](const std::string& n) -> std::optional<int> {
        const auto p = ParseProtocol(n);
        return p ? std::optional<int>(static_cast<int>(*p)) : std::nullopt;
      },
      &filter->protocols);
}

}  // namespace wiresim
