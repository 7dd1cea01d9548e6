#include "sim/app/measured_log.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "sim/collective/nccl_tuning.h"

namespace wiresim::app {

Result<std::vector<int>> GpusForLog(const NcclTestsLog& log, const Topology& topo) {
  if (!log.hosts.empty()) {
    std::vector<std::pair<std::string, int>> per_host;
    for (const std::string& h : log.hosts) {
      if (per_host.empty() || per_host.back().first != h) {
        bool known = false;
        for (auto& [name, count] : per_host)
          if (name == h) {
            ++count;
            known = true;
          }
        if (!known) per_host.emplace_back(h, 1);
      } else {
        ++per_host.back().second;
      }
    }
    if (per_host.size() > topo.hosts().size()) {
      return InvalidArgument("the log ran on " + std::to_string(per_host.size()) + " hosts but " + topo.name() +
                             " has " + std::to_string(topo.hosts().size()) + "; give --gpus");
    }
    std::vector<int> gpus;
    for (size_t h = 0; h < per_host.size(); ++h) {
      const Host& host = topo.hosts()[h];
      if (per_host[h].second > static_cast<int>(host.gpus.size())) {
        return InvalidArgument("the log ran " + std::to_string(per_host[h].second) + " ranks on host '" +
                               per_host[h].first + "' but " + host.name + " has " + std::to_string(host.gpus.size()) +
                               " GPUs; give --gpus");
      }
      for (int i = 0; i < per_host[h].second; ++i)
        gpus.push_back(topo.node(host.gpus[static_cast<size_t>(i)]).gpu_index);
    }
    return gpus;
  }
  if (log.ranks) {
    if (*log.ranks > topo.gpu_count()) return InvalidArgument("the log has more ranks than " + topo.name() + " GPUs");
    std::vector<int> gpus;
    for (int i = 0; i < *log.ranks; ++i) gpus.push_back(i);
    return gpus;
  }
  return InvalidArgument("the log does not list its ranks; give --gpus or --nodes");
}

std::string ModelAsMeasured(const NcclTestsLog& log, const GivenOptions& given, CollectiveParams* params) {
  std::string note;
  if (!given.release && !log.nccl_version.empty()) {
    const Result<NcclVersion> v = ParseNcclVersion(log.nccl_version);
    if (v.ok()) {
      params->SetNcclVersion(*v);
      note += "; NCCL " + v->ToString() + ", the log's";
    } else {
      note += "; the log's NCCL " + log.nccl_version + " is not one wiresim models (2." +
              std::to_string(NcclVersion::kOldestMinor) + " to 2." + std::to_string(NcclVersion::kNewestMinor) +
              "): the newest";
    }
  }
  if (!given.launch && log.graph_launches > 0) {
    params->launch_overhead = Time::Zero();
    note += "; launched as CUDA graphs (-G " + std::to_string(log.graph_launches) + "): no launch per call";
  } else if (!given.launch && log.agg_iters > 1) {
    params->launch_overhead = params->launch_overhead / log.agg_iters;
    note += "; " + std::to_string(log.agg_iters) + " calls per launch (-m)";
  }
  const int64_t per_process = static_cast<int64_t>(log.threads_per_process) * log.gpus_per_thread;
  if (!given.layout && per_process > 1) {
    params->ranks_per_process = static_cast<int>(std::min<int64_t>(per_process, 1 << 20));
    note += "; " + std::to_string(per_process) + " ranks per process (nThread " +
            std::to_string(log.threads_per_process) + " x nGpus " + std::to_string(log.gpus_per_thread) +
            "): P2P direct pointers, Simple rings copy nothing at the end of a loop";
  }
  if (log.blocking) note += "; blocking (-z): each call waits for its completion and a barrier, host time not modelled";
  if (log.gpus_per_thread > 1) {
    const std::string n = std::to_string(log.gpus_per_thread);
    note += "; one thread drove " + n + " GPUs (-g " + n + "): it launches " + n +
            " kernels per call, host time not modelled (a small call reads the slower of the collective and those " +
            "launches)";
  }
  return note;
}

}  // namespace wiresim::app
