#include "sim/parallel/step_graph_timing.h"

#include <algorithm>
#include <deque>

#include "sim/parallel/step_graph.h"

namespace wiresim {

StepGraphTiming EvaluateStepGraph(const StepGraph& graph, const KernelDuration& kernel_time,
                                  const CollectiveDuration& collective_time, std::span<const Time> program_start,
                                  bool keep_op_times) {
  const size_t programs = graph.programs.size();
  StepGraphTiming out;
  out.program_done.assign(programs, Time::Zero());
  out.collective_start.assign(graph.collectives.size(), Time::Zero());
  // done[p][i]: when op i of program p is done; Time::Max() until known.
  std::vector<std::vector<Time>> done(programs), started(programs);
  std::vector<size_t> next(programs, 0);     // the first op of p not yet processed
  std::vector<Time> compute_free(programs);  // when p's compute stream is free
  std::vector<Time> issued(programs);        // when p issued its last op (ops are issued in program order)
  std::vector<int> arrived(graph.collectives.size(), 0);
  std::vector<Time> posted_max(graph.collectives.size(), Time::Zero());
  for (size_t p = 0; p < programs; ++p) {
    done[p].assign(graph.programs[p].ops.size(), Time::Max());
    if (keep_op_times) started[p].assign(graph.programs[p].ops.size(), Time::Max());
    compute_free[p] = program_start.empty() ? Time::Zero() : program_start[p];
    issued[p] = compute_free[p];
  }
  // The op of each participant that posts each instance.
  std::vector<std::vector<std::pair<size_t, size_t>>> posts(graph.collectives.size());
  for (size_t p = 0; p < programs; ++p) {
    const std::vector<StepOp>& ops = graph.programs[p].ops;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].kind == StepOp::Kind::kCollective) posts[static_cast<size_t>(ops[i].instance)].emplace_back(p, i);
    }
  }
  std::deque<size_t> runnable;
  for (size_t p = 0; p < programs; ++p) runnable.push_back(p);
  while (!runnable.empty()) {
    const size_t p = runnable.front();
    runnable.pop_front();
    const std::vector<StepOp>& ops = graph.programs[p].ops;
    const Time start = program_start.empty() ? Time::Zero() : program_start[p];
    while (next[p] < ops.size()) {
      const StepOp& op = ops[next[p]];
      Time ready = std::max(start, issued[p]);
      bool blocked = false;
      for (int32_t d : op.deps) {
        const Time t = done[p][static_cast<size_t>(d)];
        if (t.IsMax()) {
          blocked = true;
          break;
        }
        ready = std::max(ready, t);
      }
      if (blocked) break;
      issued[p] = ready;
      if (op.kind == StepOp::Kind::kKernel) {
        const Time begin = std::max(ready, compute_free[p]);
        if (keep_op_times) started[p][next[p]] = begin;
        compute_free[p] = begin + kernel_time(p, op);
        done[p][next[p]] = compute_free[p];
      } else {
        const size_t c = static_cast<size_t>(op.instance);
        posted_max[c] = std::max(posted_max[c], ready);
        if (keep_op_times) started[p][next[p]] = ready;
        if (++arrived[c] == static_cast<int>(graph.collectives[c].programs.size())) {
          out.collective_start[c] = posted_max[c];
          const Time end = posted_max[c] + collective_time(c);
          // Every participant's op for this instance is done at `end`; wake the others.
          for (const auto& [q, i] : posts[c]) {
            done[q][i] = end;
            if (q != p) runnable.push_back(q);
          }
        }
      }
      ++next[p];
    }
  }
  if (keep_op_times) {
    out.op_start = std::move(started);
    out.op_done = done;
  }
  out.complete = true;
  for (size_t p = 0; p < programs; ++p) {
    const std::vector<StepOp>& ops = graph.programs[p].ops;
    Time last = program_start.empty() ? Time::Zero() : program_start[p];
    for (size_t i = 0; i < ops.size(); ++i) {
      if (done[p][i].IsMax()) {
        if (out.complete) {
          out.complete = false;
          out.stuck = "program " + std::to_string(p) + " (GPU " + std::to_string(graph.programs[p].gpu) +
                      ") never finishes op " + std::to_string(i) + " (" + std::string(ops[i].name) + ", layer " +
                      std::to_string(ops[i].layer) + ")";
        }
        continue;
      }
      last = std::max(last, done[p][i]);
    }
    out.program_done[p] = last;
  }
  return out;
}

Time ComputeTime(const GpuProgram& program, const KernelTimeModel& model) {
  Time total;
  for (const StepOp& op : program.ops) {
    if (op.kind == StepOp::Kind::kKernel) total += model.KernelTime(op.kernel);
  }
  return total;
}

}  // namespace wiresim
