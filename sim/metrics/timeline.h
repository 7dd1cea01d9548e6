// Timeline: what a serving run did, as Chrome trace-event JSON (the format Perfetto, ui.perfetto.dev, and
// chrome://tracing open; docs/formats/timeline.md describes the file). It watches the executor as an
// ExecutionObserver (kernels and collectives with their names) and, once the run is over, takes the replicas'
// samples (ServingSeries), the requests' records and any named counter series (link utilisation) a caller has.
// It never steers the run.
//
//   Timeline tl(TimelineOptions{});
//   tl.AddGpu(/*gpu=*/3, /*replica=*/0, "replica 0 / node0/gpu3");
//   replica_options.trace = &tl;  ... run ...
//   tl.AddServingSeries(series);  tl.AddRequests(metrics.records(), run_end);
//   std::string json = tl.ToJson();
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/time.h"
#include "sim/metrics/gpu_time.h"
#include "sim/metrics/request_metrics.h"

namespace wiresim {

// A replica's (one DP rank's) scheduler, sampled when it forms a step and when a step completes.
struct ReplicaSample {
  Time at;
  int replica = 0;
  int dp_rank = 0;
  int64_t batch = 0;    // sequences in the step in flight (0 once none is)
  int64_t running = 0;  // requests admitted and unfinished
  int64_t waiting = 0;  // requests queued, not admitted (preempted ones included)
  int64_t kv_used_blocks = 0;
  int64_t kv_blocks = 0;
};

// What a serving run looked like over time, collected when a timeline or a report asks for it.
struct ServingSeries {
  std::vector<ReplicaSample> samples;  // in simulated-time order
  // Output tokens that reached the clients at each step completion: (time, tokens), in time order.
  std::vector<std::pair<Time, int64_t>> output_tokens;
};

// One named series of counter values, e.g. a link's utilisation; drawn as a counter track.
struct CounterSeries {
  std::string name;                             // "node0/gpu0 -> node0/nvswitch0"
  std::string key;                              // the value's label in the track: "utilisation"
  std::vector<std::pair<Time, double>> points;  // in time order
};

// A link's load over a run, for the report's heat map; filled where the network keeps per-link byte ledgers.
struct LinkLoad {
  std::string from, to;    // the link's endpoints (topology node names)
  double bytes = 0;        // carried over the run, one direction
  double utilisation = 0;  // busy time over the run's duration, in [0, 1]
};

struct TimelineOptions {
  // Keep only what overlaps [window_begin, window_end] (simulated time).
  Time window_begin = Time::Zero();
  Time window_end = Time::Max();
  // At most this many kernel and collective slices; later ones are left out and counted (dropped_slices()).
  int64_t max_slices = 1000000;
};

class Timeline : public ExecutionObserver {
 public:
  explicit Timeline(const TimelineOptions& options) : options_(options) {}
  Timeline(const Timeline&) = delete;
  Timeline& operator=(const Timeline&) = delete;

  // A GPU's process: its label and the replica it serves. Processes sort by (replica, gpu). GPUs never added get
  // no process (their slices are kept under "GPU g").
  void AddGpu(int gpu, int replica, std::string label);

  void OnKernel(int, Time, Time) override {}
  void OnCollective(int, Time, Time, ParallelDim, Phase) override {}
  void OnKernelDetail(int gpu, Time begin, Time end, const OpDetail& op) override;
  void OnCollectiveDetail(int gpu, Time started, Time done, ParallelDim dim, const OpDetail& op) override;

  // Counters per replica: batch size, running and waiting requests, KV-cache blocks in use and their fraction.
  void AddServingSeries(const ServingSeries& series);
  // One async span per request sent: sent -> first token (an instant) -> finished (or run_end, marked unfinished).
  void AddRequests(const std::vector<RequestRecord>& records, Time run_end);
  // Counter tracks on a process of their own (e.g. "links"); series with no points are skipped.
  void AddCounterSeries(const std::string& process, const std::vector<CounterSeries>& series);

  int64_t slices() const { return static_cast<int64_t>(slices_.size()); }
  int64_t dropped_slices() const { return dropped_; }
  // The whole file. Deterministic: the same calls give the same bytes.
  std::string ToJson() const;

 private:
  struct Slice {
    Time begin, end;
    int gpu = 0;
    int track = 0;  // 0: compute, 1 + ParallelDim: that dimension's collectives
    std::string_view name;
    int layer = 0;
    Phase phase = Phase::kMixed;
    double bytes = 0;
  };
  struct Gpu {
    int gpu = 0;
    int replica = -1;
    std::string label;
  };
  struct Counter {
    Time at;
    int pid = 0;
    std::string name;
    std::vector<std::pair<std::string, double>> values;
  };
  struct RequestSpan {
    int64_t id = 0;
    int replica = 0;
    Time sent, first_token, finished;  // first_token Max: none; finished Max: unfinished (drawn to run_end)
    Time end;
    int64_t input_tokens = 0, output_tokens = 0, received = 0;
  };
  bool InWindow(Time begin, Time end) const;
  void Record(const Slice& s);

  TimelineOptions options_;
  std::vector<Gpu> gpus_;
  std::vector<Slice> slices_;
  int64_t dropped_ = 0;
  std::vector<Counter> counters_;
  std::vector<std::string> counter_processes_;  // extra processes for AddCounterSeries, in order added
  std::vector<int> replicas_;                   // replicas with samples, ascending
  std::vector<RequestSpan> requests_;
};

// A time in microseconds, exact to the picosecond, as trace files want it: "1234.5678" (no trailing zeros).
std::string MicrosecondsText(Time t);

}  // namespace wiresim
