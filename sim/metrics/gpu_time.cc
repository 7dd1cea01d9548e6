#include "sim/metrics/gpu_time.h"

#include <algorithm>

namespace wiresim {

Time GpuBreakdown::ExposedTotal() const {
  Time t;
  for (const auto& by_phase : exposed)
    for (Time x : by_phase) t += x;
  return t;
}

Time GpuBreakdown::Exposed(ParallelDim dim) const {
  Time t;
  for (Time x : exposed[static_cast<size_t>(dim)]) t += x;
  return t;
}

void ObserverPair::OnKernel(int gpu, Time begin, Time end) {
  if (first_ != nullptr) first_->OnKernel(gpu, begin, end);
  if (second_ != nullptr) second_->OnKernel(gpu, begin, end);
}

void ObserverPair::OnCollective(int gpu, Time started, Time done, ParallelDim dim, Phase phase) {
  if (first_ != nullptr) first_->OnCollective(gpu, started, done, dim, phase);
  if (second_ != nullptr) second_->OnCollective(gpu, started, done, dim, phase);
}

void ObserverPair::OnKernelDetail(int gpu, Time begin, Time end, const OpDetail& op) {
  if (first_ != nullptr) first_->OnKernelDetail(gpu, begin, end, op);
  if (second_ != nullptr) second_->OnKernelDetail(gpu, begin, end, op);
}

void ObserverPair::OnCollectiveDetail(int gpu, Time started, Time done, ParallelDim dim, const OpDetail& op) {
  if (first_ != nullptr) first_->OnCollectiveDetail(gpu, started, done, dim, op);
  if (second_ != nullptr) second_->OnCollectiveDetail(gpu, started, done, dim, op);
}

GpuTimeAccounting::GpuTimeAccounting(int gpus, std::vector<int> replica_of_gpu)
    : gpus_(static_cast<size_t>(gpus)), replica_of_gpu_(std::move(replica_of_gpu)) {
  int replicas = 0;
  for (int r : replica_of_gpu_) replicas = std::max(replicas, r + 1);
  replicas_.resize(static_cast<size_t>(replicas));
}

void GpuTimeAccounting::OnKernel(int gpu, Time begin, Time end) {
  PerGpu& g = gpus_[static_cast<size_t>(gpu)];
  g.compute += end - begin;
  g.kernels.push_back({begin, end});
  // Keep a bounded window: a collective posted now or later cannot overlap kernels that ended long before. The
  // executor reports a collective when it is done, so keep kernels back to the oldest possible posting: a few
  // hundred kernels is ample for any iteration's in-flight collectives.
  while (g.kernels.size() > 4096) g.kernels.pop_front();
}

void GpuTimeAccounting::OnCollective(int gpu, Time started, Time done, ParallelDim dim, Phase phase) {
  PerGpu& g = gpus_[static_cast<size_t>(gpu)];
  const Time span = done - started;
  g.communication += span;
  // Hidden: the parts of [started, done) a kernel covers (kernels of one GPU do not overlap each other).
  Time hidden;
  for (auto it = g.kernels.rbegin(); it != g.kernels.rend(); ++it) {
    if (it->end <= started) break;  // kernels are in start order and do not overlap, so earlier ones end earlier
    const Time b = std::max(it->begin, started), e = std::min(it->end, done);
    if (e > b) hidden += e - b;
  }
  const Time exposed = span - hidden;
  g.exposed[static_cast<size_t>(dim)][static_cast<size_t>(phase)] += exposed;
  g.exposed_total += exposed;
}

void GpuTimeAccounting::AddPrecomputed(int gpu, Time compute,
                                       const std::array<std::array<Time, kPhases>, kParallelDims>& exposed,
                                       Time communication) {
  PerGpu& g = gpus_[static_cast<size_t>(gpu)];
  g.compute += compute;
  g.communication += communication;
  for (size_t d = 0; d < exposed.size(); ++d) {
    for (size_t p = 0; p < exposed[d].size(); ++p) {
      g.exposed[d][p] += exposed[d][p];
      g.exposed_total += exposed[d][p];
    }
  }
}

void GpuTimeAccounting::OnReplicaBusy(int replica, Time begin, Time end) {
  PerReplica& r = replicas_[static_cast<size_t>(replica)];
  const Time from = std::max(begin, r.covered_until);
  if (end > from) r.busy += end - from;
  r.covered_until = std::max(r.covered_until, end);
}

std::vector<GpuBreakdown> GpuTimeAccounting::Finish(Time end) const {
  std::vector<GpuBreakdown> out(gpus_.size());
  for (size_t i = 0; i < gpus_.size(); ++i) {
    const PerGpu& g = gpus_[i];
    GpuBreakdown& b = out[i];
    b.gpu = static_cast<int>(i);
    b.replica = i < replica_of_gpu_.size() ? replica_of_gpu_[i] : -1;
    b.compute = g.compute;
    b.exposed = g.exposed;
    b.communication = g.communication;
    const Time busy = b.replica >= 0 ? replicas_[static_cast<size_t>(b.replica)].busy : Time::Zero();
    const Time active = g.compute + g.exposed_total;
    b.bubble = busy > active ? busy - active : Time::Zero();
    const Time accounted = active + b.bubble;
    b.idle = end > accounted ? end - accounted : Time::Zero();
  }
  return out;
}

}  // namespace wiresim
