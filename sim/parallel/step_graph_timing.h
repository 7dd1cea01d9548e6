// Timing a step graph without a Simulator: with every kernel's and every collective's duration known up front
// (closed forms, no shared links), an iteration is a longest-path problem over the graph. EvaluateStepGraph
// computes it with exactly the executor's rules (sim/serving/iteration_run.h): a program issues its ops in order,
// each once its dependencies are done; a kernel starts when issued and the previous kernel of its program has left
// the compute stream; a collective starts when every participant has posted (issued) it and ends for all of them
// one duration later.
// The serving part uses it to compile an iteration shape once; CheckStepGraph uses it with zero durations to
// prove the graph cannot deadlock.
//
//   StepGraphTiming t = EvaluateStepGraph(graph, kernel_time, collective_time, {});
//   Time iteration = *std::max_element(t.program_done.begin(), t.program_done.end());
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "sim/core/time.h"

namespace wiresim {

struct StepGraph;
struct StepOp;

struct StepGraphTiming {
  bool complete = false;               // every op of every program was done
  std::string stuck;                   // when not: the first program that waits, and for what
  std::vector<Time> program_done;      // per program: when its last op is done (its start when it has none)
  std::vector<Time> collective_start;  // per instance: when every participant had posted it
  // Per program and op, when asked for: a kernel's start, a collective's posting (its dependencies done), and
  // when each was done.
  std::vector<std::vector<Time>> op_start, op_done;
};

using KernelDuration = std::function<Time(size_t program, const StepOp& op)>;
using CollectiveDuration = std::function<Time(size_t instance)>;

// `program_start[p]` is when program p may start (empty: all at zero).
StepGraphTiming EvaluateStepGraph(const StepGraph& graph, const KernelDuration& kernel_time,
                                  const CollectiveDuration& collective_time, std::span<const Time> program_start,
                                  bool keep_op_times = false);

}  // namespace wiresim
