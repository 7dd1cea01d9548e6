// IterationRun: one iteration of one replica played on the Simulator, op by op. Each GPU runs one program at a
// time (GpuQueues: a pipeline stage's GPUs take the next micro-batch when they are done with the last, as a vLLM
// worker does); within a program a kernel starts when its dependencies are done and the previous kernel has left
// the compute stream; a collective starts when every participant has posted it, and each participant goes on
// when its own part is done (CollectiveTimer). These are exactly EvaluateStepGraph's rules, so where nothing is
// shared the two agree to the picosecond (a test holds them to it).
//
//   GpuQueues gpus(sim, topo.gpu_count());
//   IterationRun run(sim, gpus, timer, kernel_time, &observer, graph, [&] { ... all programs done ... });
//   run.Start();
//   sim.Run();
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "sim/collective/collective_timing.h"
#include "sim/core/simulator.h"
#include "sim/core/status.h"
#include "sim/metrics/gpu_time.h"
#include "sim/parallel/step_graph.h"

namespace wiresim {

// Which GPUs are running a program, and who waits for each.
class GpuQueues {
 public:
  explicit GpuQueues(int gpus) : gpus_(static_cast<size_t>(gpus)) {}
  GpuQueues(const GpuQueues&) = delete;
  GpuQueues& operator=(const GpuQueues&) = delete;

  // Runs `start` now if `gpu` is free (and marks it busy), else when the programs queued before it are done.
  void Acquire(int gpu, std::function<void()> start);
  // The GPU's program is done: the next queued one starts (in the same event).
  void Release(int gpu);
  bool busy(int gpu) const { return gpus_[static_cast<size_t>(gpu)].busy; }

 private:
  struct PerGpu {
    bool busy = false;
    std::deque<std::function<void()>> waiting;
  };
  std::vector<PerGpu> gpus_;
};

class IterationRun {
 public:
  // `graph` must pass CheckStepGraph and outlive the run. `observer` may be null. `on_done` runs (as an event)
  // once every program is done; `on_program_done(p)` (may be empty) as each is. The first collective the timer
  // refuses is kept in *error (if not null) and stops the simulator.
  IterationRun(Simulator& sim, GpuQueues& gpus, CollectiveTimer& timer, KernelDuration kernel_time,
               ExecutionObserver* observer, std::shared_ptr<const StepGraph> graph, std::function<void()> on_done,
               std::function<void(size_t program)> on_program_done = {}, Status* error = nullptr);
  IterationRun(const IterationRun&) = delete;
  IterationRun& operator=(const IterationRun&) = delete;

  // Queues every program on its GPU.
  void Start();
  bool done() const { return programs_left_ == 0; }
  const StepGraph& graph() const { return *graph_; }

 private:
  void StartProgram(size_t p);
  void Advance(size_t p);   // processes every op of p whose dependencies are done
  void OpDone(size_t p, size_t op);
  void FinishProgram(size_t p);  // its GPU goes to the next queued program
  void Post(size_t p, size_t op);
  void Fail(const Status& s);

  Simulator& sim_;
  GpuQueues& gpus_;
  CollectiveTimer& timer_;
  KernelDuration kernel_time_;
  ExecutionObserver* observer_;
  std::shared_ptr<const StepGraph> graph_;
  std::function<void()> on_done_;
  std::function<void(size_t)> on_program_done_;
  Status* error_;

  struct ProgramState {
    size_t next = 0;          // the first op not yet started or posted
    size_t done_count = 0;
    size_t first_op = 0;      // where its ops start in done_
    Time compute_free;        // when the compute stream is free
  };
  // Flat, so that an iteration (constructed per step) allocates a handful of arrays rather than a few per program
  // and per collective.
  std::vector<ProgramState> programs_;
  std::vector<uint8_t> done_;              // per program, per op (from ProgramState::first_op)
  std::vector<int> arrived_;               // per instance
  std::vector<Time> started_;              // per instance: when it started
  std::vector<size_t> first_post_;         // per instance: where its participants start in posts_
  std::vector<std::pair<uint32_t, uint32_t>> posts_;  // per instance, per participant: (program, op)
  size_t programs_left_ = 0;
};

}  // namespace wiresim
