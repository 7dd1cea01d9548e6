#include "sim/serving/iteration_run.h"

#include <algorithm>
#include <utility>

namespace wiresim {

void GpuQueues::Acquire(int gpu, std::function<void()> start) {
  PerGpu& g = gpus_[static_cast<size_t>(gpu)];
  if (!g.busy) {
    g.busy = true;
    start();
    return;
  }
  g.waiting.push_back(std::move(start));
}

void GpuQueues::Release(int gpu) {
  PerGpu& g = gpus_[static_cast<size_t>(gpu)];
  if (g.waiting.empty()) {
    g.busy = false;
    return;
  }
  std::function<void()> next = std::move(g.waiting.front());
  g.waiting.pop_front();
  next();
}

IterationRun::IterationRun(Simulator& sim, GpuQueues& gpus, CollectiveTimer& timer, KernelDuration kernel_time,
                           ExecutionObserver* observer, std::shared_ptr<const StepGraph> graph,
                           std::function<void()> on_done, std::function<void(size_t)> on_program_done,
                           Status* error)
    : sim_(sim),
      gpus_(gpus),
      timer_(timer),
      kernel_time_(std::move(kernel_time)),
      observer_(observer),
      graph_(std::move(graph)),
      on_done_(std::move(on_done)),
      on_program_done_(std::move(on_program_done)),
      error_(error) {
  const StepGraph& g = *graph_;
  programs_.resize(g.programs.size());
  size_t ops = 0;
  for (size_t p = 0; p < g.programs.size(); ++p) {
    programs_[p].first_op = ops;
    ops += g.programs[p].ops.size();
  }
  done_.assign(ops, 0);
  arrived_.assign(g.collectives.size(), 0);
  started_.resize(g.collectives.size());
  first_post_.resize(g.collectives.size());
  size_t posts = 0;
  for (size_t c = 0; c < g.collectives.size(); ++c) {
    first_post_[c] = posts;
    posts += g.collectives[c].programs.size();
  }
  posts_.resize(posts);
  for (size_t p = 0; p < g.programs.size(); ++p) {
    const std::vector<StepOp>& program_ops = g.programs[p].ops;
    for (size_t i = 0; i < program_ops.size(); ++i) {
      if (program_ops[i].kind != StepOp::Kind::kCollective) continue;
      const auto c = static_cast<size_t>(program_ops[i].instance);
      const CollectiveInstance& inst = g.collectives[c];
      const size_t slot = static_cast<size_t>(
          std::find(inst.programs.begin(), inst.programs.end(), static_cast<int>(p)) - inst.programs.begin());
      posts_[first_post_[c] + slot] = {static_cast<uint32_t>(p), static_cast<uint32_t>(i)};
    }
  }
  programs_left_ = g.programs.size();
}

void IterationRun::Start() {
  if (programs_left_ == 0) {
    sim_.ScheduleAfter(Time::Zero(), [this] { on_done_(); });
    return;
  }
  for (size_t p = 0; p < graph_->programs.size(); ++p) {
    gpus_.Acquire(graph_->programs[p].gpu, [this, p] { StartProgram(p); });
  }
}

void IterationRun::StartProgram(size_t p) {
  ProgramState& s = programs_[p];
  s.compute_free = sim_.Now();
  if (graph_->programs[p].ops.empty()) {
    // Nothing to run: done at once (after the caller's event, like any other completion).
    sim_.ScheduleAfter(Time::Zero(), [this, p] { FinishProgram(p); });
    return;
  }
  Advance(p);
}

void IterationRun::Advance(size_t p) {
  ProgramState& s = programs_[p];
  const std::vector<StepOp>& ops = graph_->programs[p].ops;
  while (s.next < ops.size()) {
    const StepOp& op = ops[s.next];
    for (int32_t d : op.deps) {
      if (!done_[s.first_op + static_cast<size_t>(d)]) return;
    }
    const size_t i = s.next++;
    if (op.kind == StepOp::Kind::kKernel) {
      const Time begin = std::max(sim_.Now(), s.compute_free);
      s.compute_free = begin + kernel_time_(p, op);
      if (observer_ != nullptr) {
        const int gpu = graph_->programs[p].gpu;
        observer_->OnKernel(gpu, begin, s.compute_free);
        observer_->OnKernelDetail(gpu, begin, s.compute_free, OpDetail{op.name, op.layer, op.phase, 0});
      }
      // (p, i) in one word: a two-word capture is kept inside the std::function, with no allocation per kernel.
      const uint64_t program_op = (static_cast<uint64_t>(p) << 32) | static_cast<uint64_t>(i);
      sim_.Schedule(s.compute_free, [this, program_op] { OpDone(program_op >> 32, program_op & 0xffffffffu); });
    } else {
      Post(p, i);
    }
  }
}

void IterationRun::Post(size_t p, size_t op) {
  const size_t c = static_cast<size_t>(graph_->programs[p].ops[op].instance);
  const CollectiveInstance& inst = graph_->collectives[c];
  if (++arrived_[c] < static_cast<int>(inst.programs.size())) return;
  started_[c] = sim_.Now();
  // Two words captured ([this, c]): kept inside the std::function, with no allocation per collective.
  const Status started = timer_.Start(inst.call, [this, c](size_t participant) {
    const auto [q, i] = posts_[first_post_[c] + participant];
    if (observer_ != nullptr) {
      const Time start = started_[c];
      const CollectiveInstance& done = graph_->collectives[c];
      observer_->OnCollective(graph_->programs[q].gpu, start, sim_.Now(), done.dim, done.phase);
      observer_->OnCollectiveDetail(graph_->programs[q].gpu, start, sim_.Now(), done.dim,
                                    OpDetail{done.name, done.layer, done.phase, done.call.bytes});
    }
    OpDone(q, i);
  });
  if (!started.ok()) Fail(started);
}

void IterationRun::OpDone(size_t p, size_t op) {
  ProgramState& s = programs_[p];
  done_[s.first_op + op] = 1;
  ++s.done_count;
  if (s.done_count == graph_->programs[p].ops.size()) {
    FinishProgram(p);
    return;
  }
  Advance(p);
}

void IterationRun::FinishProgram(size_t p) {
  --programs_left_;
  gpus_.Release(graph_->programs[p].gpu);
  if (on_program_done_) on_program_done_(p);
  if (programs_left_ == 0) on_done_();
}

void IterationRun::Fail(const Status& s) {
  if (error_ != nullptr && error_->ok()) *error_ = s;
  sim_.Stop();
}

}  // namespace wiresim
