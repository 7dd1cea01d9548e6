// Collective and network benchmarks. Targets (issue: collectives as NCCL runs them):
//   - the flow network computes at least 1 million flow rates per second on a 1,024-GPU all-to-all;
//   - a full nccl-tests sweep (8 B - 8 GiB, factor 2) predicted with the closed form in under a second on 1,024 GPUs;
//   - a 64 MiB ring all-reduce over 1,024 GPUs played on the flow network (`wiresim collective --network flow`) in
//     under 2 s and 100 MiB (peak_rss_MiB: the process's peak, so run it alone with --benchmark_filter=FlowRing).
//     Measured with
//       /usr/bin/time -v build-release/sim/app/wiresim collective --topology dgx-h100-128node --nodes 128
//         -b 64M -e 64M --network flow --algo ring --proto simple   (one line)
//     on a shared 2-core machine: with the ring stored transfer by transfer (16.8 million) and each played as a flow,
//     36.7 s user + 2.7 s system CPU and 1,394,004 KB peak RSS (RelWithDebInfo build of the same code); with the
//     ring implicit and, alone on the network, timed from its dependencies at its caps (docs/collectives.md,
//     section 3), 0.82-1.32 s user + 0.05 s system (two runs; the machine's load varies it) and 19,940 KB (Release).
//     The printed time is 10010.5 us both ways. This benchmark (Release, alone): 1,475 ms CPU, peak_rss_MiB 19.6.
#include <sstream>

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include "sim/app/app_context.h"
#include "sim/app/cli.h"
#include "sim/collective/collective_model.h"
#include "sim/network/flow_network.h"
#include "sim/topology/topology_file.h"

namespace wiresim {
namespace {

Topology Load(const std::string& name) {
  app::FileSystemReader reader;
  auto file = reader.Read(std::string(WIRESIM_SOURCE_DIR) + "/topologies/" + name + ".toml", "");
  return std::move(LoadTopology(*file, reader)).value();
}

CollectiveCall AllReduce(const Topology& topo) {
  CollectiveCall call;
  call.op = CollectiveOp::kAllReduce;
  for (int i = 0; i < topo.gpu_count(); ++i) call.gpus.push_back(i);
  return call;
}

// What `wiresim collective` does for one sweep, once the topology is loaded: analyse the group and cost every
// algorithm (a fresh model, so no route is cached), then choose and cost 31 sizes.
void Sweep(benchmark::State& state, const std::string& topology) {
  const Topology topo = Load(topology);
  for (auto _ : state) {
    CollectiveModel model(topo);
    auto prepared = std::move(model.Prepare(AllReduce(topo), {})).value();
    double total = 0;
    for (double size = 8; size <= 8589934592.0; size *= 2) total += prepared->Predict(size, {})->time.ToSeconds();
    benchmark::DoNotOptimize(total);
  }
  state.counters["gpus"] = topo.gpu_count();
}

void BM_SweepAllReduce8Gpus(benchmark::State& state) { Sweep(state, "dgx-h100"); }
BENCHMARK(BM_SweepAllReduce8Gpus)->Unit(benchmark::kMillisecond);

void BM_SweepAllReduce1024Gpus(benchmark::State& state) { Sweep(state, "dgx-h100-128node"); }
BENCHMARK(BM_SweepAllReduce1024Gpus)->Unit(benchmark::kMillisecond)->Iterations(3);

// The same with the topology file read and built each time: the whole wait of `wiresim collective` on 1,024 GPUs.
void BM_LoadAndSweepAllReduce1024Gpus(benchmark::State& state) {
  for (auto _ : state) {
    const Topology topo = Load("dgx-h100-128node");
    CollectiveModel model(topo);
    auto prepared = std::move(model.Prepare(AllReduce(topo), {})).value();
    double total = 0;
    for (double size = 8; size <= 8589934592.0; size *= 2) total += prepared->Predict(size, {})->time.ToSeconds();
    benchmark::DoNotOptimize(total);
  }
}
BENCHMARK(BM_LoadAndSweepAllReduce1024Gpus)->Unit(benchmark::kMillisecond)->Iterations(3);

// An all-to-all on the 1,024-GPU cluster, played on the flow network. `peers` per rank, spread across the cluster
// (a sample of the 1,023: the full set repeats the same pattern longer), `window` of them in flight at a time as the
// direct algorithm runs them; `uneven` gives each pair 0.5-1.5 MiB as an MoE dispatch would (so flows end at
// different times and every end re-settles its component), else 1 MiB each.
void FlowAllToAll(benchmark::State& state, int peers, int window, bool uneven) {
  const Topology topo = Load("dgx-h100-128node");
  Router router(topo);
  const int n = topo.gpu_count();
  CollectiveSchedule schedule;
  const uint16_t eff = schedule.AddEfficiency(CollectiveParams::Defaults().KernelEfficiency(GpuGeneration::kHopper));
  for (int i = 0; i < n; ++i) {
    std::vector<uint32_t> sent;
    for (int k = 0; k < peers; ++k) {
      const int j = (i + 1 + k * (n - 1) / peers) % n;
      ScheduledTransfer t;
      t.route = router.Find(topo.gpu(i), topo.gpu(j));
      const double spread = uneven ? 0.5 + ((i * 7919 + k * 104729) % 1000) / 1000.0 : 1.0;
      t.bytes = spread * (1 << 20);
      t.max_rate_GBps = 1e300;
      t.efficiency = eff;
      std::vector<uint32_t> deps;
      if (sent.size() >= static_cast<size_t>(window)) {
        deps.push_back(CollectiveSchedule::Drained(sent[sent.size() - static_cast<size_t>(window)]));
      }
      sent.push_back(schedule.Add(t, deps));
    }
  }
  int64_t updates = 0, settles = 0, flows = 0, events = 0;
  for (auto _ : state) {
    Simulator sim;
    FlowNetwork net(sim, topo);
    ScheduleRun run(sim, net, schedule, nullptr);
    run.Start();
    sim.Run();
    updates += net.stats().rate_updates;
    settles += net.stats().settles;
    flows += net.stats().flows;
    events += static_cast<int64_t>(sim.events_processed());
  }
  const auto rate = [](int64_t x) { return benchmark::Counter(static_cast<double>(x), benchmark::Counter::kIsRate); };
  state.counters["rate_updates_per_s"] = rate(updates);
  state.counters["flows_per_s"] = rate(flows);
  state.counters["events_per_s"] = rate(events);
  state.counters["settles_per_s"] = rate(settles);
}

void BM_FlowAllToAll1024Gpus(benchmark::State& state) { FlowAllToAll(state, 32, 8, false); }
BENCHMARK(BM_FlowAllToAll1024Gpus)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_FlowAllToAllV1024Gpus(benchmark::State& state) { FlowAllToAll(state, 8, 8, true); }
BENCHMARK(BM_FlowAllToAllV1024Gpus)->Unit(benchmark::kMillisecond)->Iterations(3);

// The whole `wiresim collective` invocation, in process.
void BM_FlowRingAllReduce1024Gpus(benchmark::State& state) {
  const std::vector<std::string> args = {
      "collective", "--topology", "dgx-h100-128node", "--nodes", "128",     "-b",    "64M", "-e", "64M",
      "--network",  "flow",       "--algo",           "ring",    "--proto", "simple"};
  int code = 0;
  for (auto _ : state) {
    std::ostringstream out, err;
    app::FileSystemReader reader;
    app::AppContext ctx{out, err, reader};
    code = app::Main(args, ctx);
    benchmark::DoNotOptimize(out.str().size());
  }
  if (code != 0) state.SkipWithError("wiresim collective failed");
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  state.counters["peak_rss_MiB"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
}
BENCHMARK(BM_FlowRingAllReduce1024Gpus)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace wiresim
