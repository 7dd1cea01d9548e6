#include "sim/app/gpu_selection.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>

#include "sim/core/index_list.h"
#include "sim/core/numeric_field.h"
#include "sim/core/text.h"

namespace wiresim::app {

Result<std::vector<int>> ParseGpuSelection(const std::string& text, const Topology& topo) {
  std::vector<int> gpus;
  std::set<int> seen;
  const Host* host = nullptr;
  for (std::string_view part : Split(text, ',')) {
    std::string item(part);
    std::erase_if(item, [](unsigned char c) { return std::isspace(c); });
    if (item.empty()) return InvalidArgument("--gpus '" + text + "': empty item");
    const size_t colon = item.find(':');
    if (colon != std::string::npos) {
      const std::string name = item.substr(0, colon);
      host = nullptr;
      for (const Host& h : topo.hosts())
        if (h.name == name) host = &h;
      if (host == nullptr) {
        std::string names;
        for (const Host& h : topo.hosts()) names += (names.empty() ? "" : ", ") + h.name;
        if (topo.hosts().size() > 8) names = topo.hosts().front().name + " ... " + topo.hosts().back().name;
        return InvalidArgument("--gpus: no host '" + name + "' in " + topo.name() + " (hosts: " + names + ")");
      }
      item = item.substr(colon + 1);
    }
    auto indices = ParseIndexList(item);
    if (!indices.ok()) return InvalidArgument("--gpus: " + indices.status().message());
    for (int i : *indices) {
      int global = i;
      if (host != nullptr) {
        if (i >= static_cast<int>(host->gpus.size())) {
          return InvalidArgument("--gpus: host '" + host->name + "' has GPUs 0-" +
                                 std::to_string(host->gpus.size() - 1) + ", not " + std::to_string(i));
        }
        global = topo.node(host->gpus[static_cast<size_t>(i)]).gpu_index;
      } else if (i >= topo.gpu_count()) {
        return InvalidArgument("--gpus: " + topo.name() + " has GPUs 0-" + std::to_string(topo.gpu_count() - 1) +
                               ", not " + std::to_string(i));
      }
      if (!seen.insert(global).second) return InvalidArgument("--gpus: GPU " + std::to_string(global) + " twice");
      gpus.push_back(global);
    }
  }
  return gpus;
}

Result<std::vector<int>> FirstNodes(int nodes, const Topology& topo) {
  if (nodes < 1) return InvalidArgument("--nodes must be at least 1");
  if (nodes > static_cast<int>(topo.hosts().size())) {
    return InvalidArgument("--nodes " + std::to_string(nodes) + ": " + topo.name() + " has " +
                           std::to_string(topo.hosts().size()) + " hosts");
  }
  std::vector<int> gpus;
  for (int h = 0; h < nodes; ++h)
    for (NodeId g : topo.hosts()[static_cast<size_t>(h)].gpus) gpus.push_back(topo.node(g).gpu_index);
  if (gpus.empty()) return InvalidArgument("--nodes: those hosts have no GPUs");
  return gpus;
}

Result<double> ParseByteSize(const std::string& text) {
  if (text.empty()) return InvalidArgument("empty size");
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  std::string suffix(end);
  double scale = 1;
  if (suffix == "K" || suffix == "k")
    scale = 1024.0;
  else if (suffix == "M" || suffix == "m")
    scale = 1024.0 * 1024;
  else if (suffix == "G" || suffix == "g")
    scale = 1024.0 * 1024 * 1024;
  else if (suffix == "T" || suffix == "t")
    scale = 1024.0 * 1024 * 1024 * 1024;
  else if (!suffix.empty())
    return InvalidArgument("'" + text + "' is not a size (a number with K, M, G or T)");
  v *= scale;
  if (Status s = CheckNumber({}, "", v, kMessageBytes); !s.ok()) {
    return InvalidArgument("'" + InputExcerpt(text) + "': " + s.message());
  }
  return std::floor(v);
}

Result<std::vector<int>> ParseIntList(const std::string& text, const std::string& what) {
  auto list = ParseIndexList(text);
  if (!list.ok()) return InvalidArgument(what + ": " + list.status().message());
  return list;
}

}  // namespace wiresim::app
