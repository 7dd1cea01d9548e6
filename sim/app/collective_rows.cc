// `wiresim collective`'s rows: the table nccl-tests prints, its -J layout, and wiresim's own JSON.
#include "sim/app/collective_rows.h"

#include <cstdio>
#include <iomanip>
#include <map>
#include <sstream>

#include "sim/app/number_format.h"
#include "sim/core/text.h"

namespace wiresim::app {

void PrintCollectiveTableHeader(std::ostream& out, bool compare) {
  out << "#\n";
  if (compare) {
    out << "# " << Right("", 10) << "  " << Right("", 12) << "  " << Right("", 8) << "  " << Right("", 6) << "  "
        << Right("", 6) << "         measured          predicted\n";
    out << "# " << Right("size", 10) << "  " << Right("count", 12) << "  " << Right("type", 8) << "  "
        << Right("redop", 6) << "  " << Right("root", 6) << "  " << Right("time", 7) << "  " << Right("busbw", 6)
        << "  " << Right("time", 7) << "  " << Right("busbw", 6) << "  " << Right("error", 7) << "  algo      proto\n";
    out << "# " << Right("(B)", 10) << "  " << Right("(elements)", 12) << "  " << Right("", 8) << "  " << Right("", 6)
        << "  " << Right("", 6) << "  " << Right("(us)", 7) << "  " << Right("(GB/s)", 6) << "  " << Right("(us)", 7)
        << "  " << Right("(GB/s)", 6) << "  " << Right("(%)", 7) << "\n";
  } else {
    out << "# " << Right("", 10) << "  " << Right("", 12) << "  " << Right("", 8) << "  " << Right("", 6) << "  "
        << Right("", 6) << "           out-of-place\n";
    out << "# " << Right("size", 10) << "  " << Right("count", 12) << "  " << Right("type", 8) << "  "
        << Right("redop", 6) << "  " << Right("root", 6) << "  " << Right("time", 7) << "  " << Right("algbw", 6)
        << "  " << Right("busbw", 6) << "  " << Right("#wrong", 6) << "  algo      proto\n";
    out << "# " << Right("(B)", 10) << "  " << Right("(elements)", 12) << "  " << Right("", 8) << "  " << Right("", 6)
        << "  " << Right("", 6) << "  " << Right("(us)", 7) << "  " << Right("(GB/s)", 6) << "  " << Right("(GB/s)", 6)
        << "\n";
  }
}

void PrintCollectiveRow(std::ostream& out, const CollectiveRow& r, bool compare) {
  std::ostringstream size, count;
  size << std::fixed << std::setprecision(0) << r.size;
  count << r.count;
  out << Right(size.str(), 12) << "  " << Right(count.str(), 12) << "  " << Right(r.type, 8) << "  "
      << Right(r.redop, 6) << "  " << Right(std::to_string(r.root), 6);
  if (compare) {
    const double err = r.measured_busbw > 0 ? (r.busbw / r.measured_busbw - 1) * 100 : 0;
    out << "  " << NcclNumber(r.measured_time_us, 7) << "  " << NcclNumber(r.measured_busbw, 6) << "  "
        << NcclNumber(r.time_us, 7) << "  " << NcclNumber(r.busbw, 6) << "  "
        << (r.measured_busbw > 0 ? NcclNumber(err, 7) : Right("-", 7));
  } else {
    out << "  " << NcclNumber(r.time_us, 7) << "  " << NcclNumber(r.algbw, 6) << "  " << NcclNumber(r.busbw, 6) << "  "
        << Right("N/A", 6);
  }
  if (!r.engine_kernel.empty()) {
    out << "  " << r.engine_kernel << "\n";
    return;
  }
  std::string algo(ToString(r.choice.algorithm));
  out << "  " << algo << std::string(algo.size() < 8 ? 8 - algo.size() : 1, ' ') << "  " << ToString(r.choice.protocol)
      << "\n";
}

nlohmann::ordered_json CollectiveRowJson(const CollectiveRow& r, bool compare) {
  nlohmann::ordered_json j{{"size", r.size},
                           {"count", r.count},
                           {"type", r.type},
                           {"redop", r.redop},
                           {"root", r.root},
                           {"time_us", r.time_us},
                           {"algbw_GBps", r.algbw},
                           {"busbw_GBps", r.busbw},
                           {"algorithm", std::string(ToString(r.choice.algorithm))},
                           {"protocol", std::string(ToString(r.choice.protocol))},
                           {"channels", r.channels},
                           {"nccl_model_us", r.nccl_model_us},
                           {"timed_by", r.timed_by}};
  if (!r.engine_kernel.empty()) {
    j["algorithm"] = r.engine_kernel;
    j["protocol"] = "";
    j["engine_kernel"] = r.engine_kernel;
    j["timed_by"] = "engine";
  }
  if (compare) {
    j["measured_time_us"] = r.measured_time_us;
    j["measured_busbw_GBps"] = r.measured_busbw;
    j["error"] = r.measured_busbw > 0 ? r.busbw / r.measured_busbw - 1 : 0.0;
  }
  return j;
}

nlohmann::ordered_json NcclTestsJson(const Topology& topo, const CollectiveGroup& g,
                                     const std::vector<CollectiveRow>& rows, const Args& args,
                                     const nlohmann::ordered_json& config) {
  nlohmann::ordered_json j;
  j["version"] = 2;
  auto& argv = j["args"] = nlohmann::ordered_json::array({"wiresim", "collective"});
  for (const std::string& a : args) argv.push_back(a);
  j["config"] = config;
  // Each rank's host and its CUDA device index there (the GPU's place in the host's local order).
  std::map<NodeId, std::pair<std::string, int>> place;
  for (const Host& h : topo.hosts())
    for (size_t i = 0; i < h.gpus.size(); ++i) place[h.gpus[i]] = {h.name, static_cast<int>(i)};
  auto& devices = j["config"]["devices"] = nlohmann::ordered_json::array();
  for (int rank = 0; rank < g.ranks(); ++rank) {
    const NodeId node = g.gpu_node(rank);
    const auto it = place.find(node);
    devices.push_back({{"rank", rank},
                       {"hostname", it == place.end() ? topo.name() : it->second.first},
                       {"device", it == place.end() ? topo.node(node).gpu_index : it->second.second},
                       {"device_info", topo.node(node).spec.model}});
  }
  auto& results = j["results"] = nlohmann::ordered_json::array();
  double sum = 0;
  for (const CollectiveRow& r : rows) {
    char root[16];
    std::snprintf(root, sizeof root, "%6i", r.root);
    results.push_back(
        {{"size", static_cast<int64_t>(r.size)},
         {"count", r.count},
         {"type", r.type},
         {"redop", r.redop},
         {"root", root},
         {"out_of_place", {{"time", r.time_us}, {"alg_bw", r.algbw}, {"bus_bw", r.busbw}, {"nwrong", nullptr}}},
         {"in_place", nullptr},
         {"algo", r.engine_kernel.empty() ? std::string(ToString(r.choice.algorithm)) : r.engine_kernel},
         {"proto", r.engine_kernel.empty() ? std::string(ToString(r.choice.protocol)) : std::string()}});
    sum += r.busbw;
  }
  j["average_bus_bandwidth"] = {{"bandwidth", rows.empty() ? 0.0 : sum / static_cast<double>(rows.size())},
                                {"okay", "unchecked"}};
  return j;
}

}  // namespace wiresim::app
