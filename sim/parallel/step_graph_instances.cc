// Joining the ranks' collective ops into instances, and the checks every built step graph passes.
#include "sim/parallel/step_graph_instances.h"

#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sim/parallel/step_graph_timing.h"

namespace wiresim {
namespace {

// The key that makes the ops of different programs one instance: what the instance is (a send and its receive
// share "pp" or "cp_ring"), its layer, its GPUs in call order, and how many identical ones came before it in the
// program (sequence parallelism gathers twice per layer over the same group).
struct InstanceKey {
  std::string_view what;
  int layer = 0;
  std::vector<int> gpus;
  int occurrence = 0;
  auto operator<=>(const InstanceKey&) const = default;
};

std::string_view MatchName(std::string_view name) {
  if (name == "pp_send" || name == "pp_recv") return "pp";
  if (name == "cp_ring_kv_pass" || name == "cp_ring_kv_recv") return "cp_ring";
  return name;
}

bool IsReceive(std::string_view name) { return name == "pp_recv" || name == "cp_ring_kv_recv"; }

}  // namespace

namespace internal {

// Joins the collective ops of all programs into instances. Fails when an instance is not reached by exactly the
// GPUs its call names (a builder bug, reported rather than left for an executor to hang on).
Status JoinInstances(StepGraph& graph) {
  std::map<int, int> program_of_gpu;
  for (size_t p = 0; p < graph.programs.size(); ++p) program_of_gpu[graph.programs[p].gpu] = static_cast<int>(p);
  std::map<InstanceKey, int> instance_of;
  for (size_t p = 0; p < graph.programs.size(); ++p) {
    std::map<InstanceKey, int> seen;
    for (StepOp& op : graph.programs[p].ops) {
      if (op.kind != StepOp::Kind::kCollective) continue;
      const bool p2p = op.collective.op == CollectiveOp::kSendRecv || op.collective.op == CollectiveOp::kSend;
      InstanceKey key{MatchName(op.name), MatchName(op.name) == "pp" ? 0 : op.layer, op.collective.gpus, 0};
      key.occurrence = seen[key]++;
      auto [it, fresh] = instance_of.try_emplace(key, static_cast<int>(graph.collectives.size()));
      if (fresh) {
        CollectiveInstance inst;
        inst.dim = op.dim;
        inst.phase = op.phase;
        inst.layer = op.layer;
        inst.call = op.collective;
        inst.programs.assign(op.collective.gpus.size(), -1);
        graph.collectives.push_back(std::move(inst));
      }
      CollectiveInstance& inst = graph.collectives[static_cast<size_t>(it->second)];
      if (!p2p || !IsReceive(op.name)) {
        inst.name = op.name;
        inst.layer = op.layer;
      }
      op.instance = it->second;
      const auto pos = std::find(op.collective.gpus.begin(), op.collective.gpus.end(), graph.programs[p].gpu);
      const size_t slot = static_cast<size_t>(pos - op.collective.gpus.begin());
      if (pos == op.collective.gpus.end() || inst.programs[slot] != -1) {
        return Internal("step graph: " + std::string(op.name) + " of layer " + std::to_string(op.layer) +
                        " is posted twice or by a GPU outside its group");
      }
      inst.programs[slot] = static_cast<int>(p);
    }
  }
  for (const CollectiveInstance& inst : graph.collectives) {
    for (size_t i = 0; i < inst.programs.size(); ++i) {
      if (inst.programs[i] >= 0) continue;
      const auto g = program_of_gpu.find(inst.call.gpus[i]);
      return Internal("step graph: " + std::string(inst.name) + " of layer " + std::to_string(inst.layer) +
                      " is never reached by GPU " + std::to_string(inst.call.gpus[i]) +
                      (g == program_of_gpu.end() ? " (not in the replica)" : ""));
    }
  }
  return Status::Ok();
}

}  // namespace internal

Status CheckStepGraph(const StepGraph& graph) {
  // Each instance: its participants' ops, and that each of those refers back to it.
  std::vector<int> posted(graph.collectives.size(), 0);
  for (size_t p = 0; p < graph.programs.size(); ++p) {
    const std::vector<StepOp>& ops = graph.programs[p].ops;
    for (size_t i = 0; i < ops.size(); ++i) {
      const StepOp& op = ops[i];
      for (int32_t d : op.deps) {
        if (d < 0 || static_cast<size_t>(d) >= i) {
          return Internal("step graph: op " + std::to_string(i) + " (" + std::string(op.name) + ") of program " +
                          std::to_string(p) + " depends on op " + std::to_string(d) + ", not an earlier one");
        }
      }
      if (op.kind != StepOp::Kind::kCollective) continue;
      if (op.instance < 0 || static_cast<size_t>(op.instance) >= graph.collectives.size()) {
        return Internal("step graph: " + std::string(op.name) + " of program " + std::to_string(p) +
                        " names no collective instance");
      }
      const CollectiveInstance& inst = graph.collectives[static_cast<size_t>(op.instance)];
      if (std::find(inst.programs.begin(), inst.programs.end(), static_cast<int>(p)) == inst.programs.end()) {
        return Internal("step graph: program " + std::to_string(p) + " posts " + std::string(inst.name) +
                        " but is not one of its participants");
      }
      ++posted[static_cast<size_t>(op.instance)];
    }
  }
  for (size_t c = 0; c < graph.collectives.size(); ++c) {
    if (posted[c] != static_cast<int>(graph.collectives[c].programs.size())) {
      return Internal("step graph: " + std::string(graph.collectives[c].name) + " of layer " +
                      std::to_string(graph.collectives[c].layer) + " has " +
                      std::to_string(graph.collectives[c].programs.size()) + " participants but " +
                      std::to_string(posted[c]) + " ops post it");
    }
  }
  // Run it with every op taking no time: an op is done when its dependencies are; a collective when every
  // participant has posted it. Every op must end up done.
  const StepGraphTiming timing = EvaluateStepGraph(
      graph, [](size_t, const StepOp&) { return Time::Zero(); }, [](size_t) { return Time::Zero(); }, {});
  if (!timing.complete) {
    return Internal("step graph: the programs deadlock: " + timing.stuck);
  }
  return Status::Ok();
}

}  // namespace wiresim
