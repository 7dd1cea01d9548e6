// Topology benchmarks: loading the 128-node (1,024-GPU) DGX H100 cluster and routing every GPU pair.
// Target (issue: foundation): both together under 1 s on one core.
#include <benchmark/benchmark.h>

#include "sim/app/app_context.h"
#include "sim/topology/path_matrix.h"
#include "sim/topology/topology_file.h"

namespace wiresim {
namespace {

const char* kCluster = WIRESIM_SOURCE_DIR "/topologies/dgx-h100-128node.toml";

Topology LoadCluster() {
  app::FileSystemReader reader;
  auto file = reader.Read(kCluster, "");
  auto topo = LoadTopology(*file, reader);
  return std::move(topo).value();
}

// Parse the TOML, expand 128 hosts and the fabric, build the graph, check every GPU reaches every other.
void BM_Load128NodeCluster(benchmark::State& state) {
  for (auto _ : state) {
    Topology topo = LoadCluster();
    benchmark::DoNotOptimize(topo.node_count());
  }
}
BENCHMARK(BM_Load128NodeCluster)->Unit(benchmark::kMillisecond);

// Routes (all equal-cost paths, byte shares, bandwidth, latency, nvidia-smi class) for all 1024 x 1023 pairs.
void BM_RouteAllGpuPairs128Node(benchmark::State& state) {
  Topology topo = LoadCluster();
  const std::vector<NodeId> gpus(topo.gpus().begin(), topo.gpus().end());
  for (auto _ : state) {
    PathMatrix m = ComputePathMatrix(topo, gpus);
    benchmark::DoNotOptimize(m.cells.data());
  }
  state.counters["pairs"] = static_cast<double>(gpus.size() * (gpus.size() - 1));
}
BENCHMARK(BM_RouteAllGpuPairs128Node)->Unit(benchmark::kMillisecond);

// The whole job a user waits for: load and route everything.
void BM_LoadAndRouteAll128Node(benchmark::State& state) {
  for (auto _ : state) {
    Topology topo = LoadCluster();
    const std::vector<NodeId> gpus(topo.gpus().begin(), topo.gpus().end());
    PathMatrix m = ComputePathMatrix(topo, gpus);
    benchmark::DoNotOptimize(m.cells.data());
  }
}
BENCHMARK(BM_LoadAndRouteAll128Node)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace wiresim
