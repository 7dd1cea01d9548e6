#include "sim/app/what_if_run.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/app/number_format.h"
#include "sim/compute/straggler.h"
#include "sim/core/text.h"
#include "sim/metrics/request_metrics.h"
#include "sim/parallel/step_graph.h"
#include "sim/topology/degrade.h"
#include "sim/topology/routing.h"

namespace wiresim::app {
namespace {

using Json = nlohmann::ordered_json;

// One name of each form the topology's names take (digits stand for any index), in declaration order:
// "node0/gpu0, node0/nvswitch0, ..., ib/spine0".
std::string NameForms(const Topology& topo) {
  std::set<std::string> seen;
  std::string out;
  for (NodeId id = 0; id < topo.node_count(); ++id) {
    const std::string& name = topo.node(id).spec.name;
    std::string form;
    for (size_t i = 0; i < name.size(); ++i) {
      if (std::isdigit(static_cast<unsigned char>(name[i]))) {
        if (form.empty() || form.back() != '#') form += '#';
      } else {
        form += name[i];
      }
    }
    if (seen.insert(form).second) out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

std::string Unknown(const std::string& where, const std::string& name, const Topology& topo) {
  return where + " " + name + ": '" + name + "' is not an element of " + topo.name() + " (its names are like " +
         NameForms(topo) + ")";
}

// An element, or one link between two elements ("node0/gpu1-node0/nvswitch2"); names may hold '-' themselves, so
// each split is tried.
Result<LinkDegrade> ResolveDegrade(const Topology& topo, const WhatIfDegrade& w) {
  if (std::optional<NodeId> id = topo.FindNode(w.target)) return LinkDegrade{*id, kNoNode, w.factor};
  for (size_t dash = w.target.find('-'); dash != std::string::npos; dash = w.target.find('-', dash + 1)) {
    std::optional<NodeId> a = topo.FindNode(w.target.substr(0, dash));
    std::optional<NodeId> b = topo.FindNode(w.target.substr(dash + 1));
    if (!a || !b) continue;
    if (LinksBetween(topo, *a, *b).empty()) {
      return InvalidArgument(w.where + " " + w.target + ": " + topo.node(*a).spec.name + " and " +
                             topo.node(*b).spec.name + " have no link between them");
    }
    return LinkDegrade{*a, *b, w.factor};
  }
  return NotFound(Unknown(w.where, w.target, topo) + "; one link is ELEMENT-ELEMENT");
}

// A straggler's global GPU index: "node0/gpu3" or "3".
Result<int> ResolveGpu(const Topology& topo, const WhatIfStraggler& w) {
  int index = -1;
  const char* end = w.gpu.data() + w.gpu.size();
  if (auto [p, ec] = std::from_chars(w.gpu.data(), end, index); ec == std::errc() && p == end) {
    if (index >= 0 && index < topo.gpu_count()) return index;
    return NotFound(w.where + " " + w.gpu + ": " + topo.name() + " has GPUs 0 to " +
                    std::to_string(topo.gpu_count() - 1));
  }
  std::optional<NodeId> id = topo.FindNode(w.gpu);
  if (!id) return NotFound(Unknown(w.where, w.gpu, topo));
  if (topo.node(*id).spec.kind != NodeKind::kGpu) {
    return InvalidArgument(w.where + " " + w.gpu + ": '" + w.gpu + "' is a " +
                           std::string(ToString(topo.node(*id).spec.kind)) + ", not a GPU");
  }
  return topo.node(*id).gpu_index;
}

std::string GpuName(const Topology& topo, int gpu) {
  return "GPU " + std::to_string(gpu) + " (" + topo.node(topo.gpu(gpu)).spec.name + ")";
}

// The replica (DP rank, or 0 when DP ranks step together) a global GPU serves, or -1.
int ReplicaOf(const ServingSetup& d, int gpu) {
  const bool coupled = d.plan.ep > 1 && d.plan.dp > 1;
  for (int r = 0; r < d.plan.WorldSize(); ++r) {
    if (d.placement.GpuOf(r) == gpu) return coupled ? 0 : CoordOf(d.plan, r).dp;
  }
  return -1;
}

}  // namespace

Status ApplyLinkWhatIfs(const Scenario& s, std::unique_ptr<Topology>* topo) {
  const WhatIfs& w = s.what_if;
  if (!w.changes_links()) return Status::Ok();
  TopologyChanges changes;
  for (const WhatIfDegrade& d : w.degrade) {
    WIRESIM_ASSIGN_OR_RETURN(LinkDegrade l, ResolveDegrade(**topo, d));
    changes.degrade.push_back(l);
  }
  for (const WhatIfFailure& f : w.fail) {
    std::optional<NodeId> id = (*topo)->FindNode(f.target);
    if (!id) return NotFound(Unknown(f.where, f.target, **topo));
    changes.fail.push_back(*id);
  }
  WIRESIM_ASSIGN_OR_RETURN(Topology variant, ApplyTopologyChanges(**topo, changes));
  *topo = std::make_unique<Topology>(std::move(variant));
  return Status::Ok();
}

Status CheckWhatIfReach(const Scenario& s, const ServingSetup& d) {
  if (s.what_if.fail.empty()) return Status::Ok();
  const Topology& topo = *d.topo;
  for (const WhatIfFailure& f : s.what_if.fail) {
    std::optional<NodeId> id = topo.FindNode(f.target);
    if (!id || topo.node(*id).spec.kind != NodeKind::kGpu) continue;
    const int gpu = topo.node(*id).gpu_index;
    for (int r = 0; r < d.plan.WorldSize(); ++r) {
      if (d.placement.GpuOf(r) != gpu) continue;
      return InvalidArgument(f.where + " " + f.target + ": " + GpuName(topo, gpu) + " failed, but the plan puts rank " +
                             std::to_string(r) + " on it (choose GPUs without it with --gpus)");
    }
  }
  // The groups one iteration makes talk: every collective and pipeline send of a probe batch with a prefill and a
  // decode, per replica.
  BatchShape probe;
  probe.prefills = {{64, 0, true}};
  probe.decode_contexts = {64};
  const bool coupled = d.plan.ep > 1 && d.plan.dp > 1;
  std::set<std::vector<int>> groups;
  for (int r = 0; r < (coupled ? 1 : d.plan.dp); ++r) {
    StepGraphOptions o;
    o.expert_imbalance = s.expert_imbalance;
    o.replica = r;
    WIRESIM_ASSIGN_OR_RETURN(StepGraph g, BuildStepGraph(d.model, d.plan, d.placement, probe, o));
    for (const CollectiveInstance& inst : g.collectives) groups.insert(inst.call.gpus);
  }
  std::string failures;
  for (const WhatIfFailure& f : s.what_if.fail) failures += (failures.empty() ? "" : ", ") + f.where + " " + f.target;
  Router router(topo);
  for (const std::vector<int>& group : groups) {
    for (size_t i = 0; i < group.size(); ++i) {
      for (size_t j = i + 1; j < group.size(); ++j) {
        if (group[i] == group[j] || router.Find(topo.gpu(group[i]), topo.gpu(group[j])) != nullptr) continue;
        return InvalidArgument(GpuName(topo, group[i]) + " can no longer reach " + GpuName(topo, group[j]) +
                               ", which it must talk to (GPUs " + IndexRanges(group) +
                               " meet in a collective), after " + failures);
      }
    }
  }
  return Status::Ok();
}

Status ApplyStragglers(const Scenario& s, ServingSetup& d) {
  // A GPU named more than once runs its factors' product, as one wrapper around its healthy model (wrapping the
  // previous wrapper in the same slot would free the model the new one times through).
  std::map<int, double> factor;  // GPU -> the product of its factors
  for (const WhatIfStraggler& w : s.what_if.straggler) {
    WIRESIM_ASSIGN_OR_RETURN(int gpu, ResolveGpu(*d.topo, w));
    double& product = factor.try_emplace(gpu, 1.0).first->second;
    product *= w.factor;
    if (product > kMaxStragglerFactor) {
      std::ostringstream text;
      text << w.where << " " << w.gpu << ": GPU " << gpu << "'s kernels would take " << product
           << " times as long, more than " << kMaxStragglerFactor << " (its straggler factors multiply)";
      return InvalidArgument(text.str());
    }
  }
  for (const auto& [gpu, f] : factor) {
    const KernelTimeModel* healthy = d.kernel_of_gpu[static_cast<size_t>(gpu)];
    std::unique_ptr<KernelTimeModel>& slow = d.kernel_models["straggler GPU " + std::to_string(gpu)];
    slow = std::make_unique<StragglerKernelTimeModel>(*healthy, f);
    d.kernel_of_gpu[static_cast<size_t>(gpu)] = slow.get();
  }
  return Status::Ok();
}

Result<RunReport> RunHealthy(AppContext& ctx, const Scenario& s, bool progress) {
  Scenario healthy = s;
  healthy.what_if = WhatIfs{};
  WIRESIM_ASSIGN_OR_RETURN(std::unique_ptr<ServingSetup> d, BuildServing(ctx, healthy));
  WIRESIM_ASSIGN_OR_RETURN(ServingOutcome o, RunServing(ctx, *d, progress));
  return MakeReport(d->scenario, *d, o);
}

void AddWhatIfComparison(const Scenario& s, const ServingSetup& d, const RunReport& healthy, RunReport* report) {
  struct Row {
    const char* label;
    const char* key;
  };
  static constexpr Row kRows[] = {
      {"Median TTFT (ms):", "median_ttft_ms"},
      {"P99 TTFT (ms):", "p99_ttft_ms"},
      {"Median TPOT (ms):", "median_tpot_ms"},
      {"P99 TPOT (ms):", "p99_tpot_ms"},
      {"Median ITL (ms):", "median_itl_ms"},
      {"P99 ITL (ms):", "p99_itl_ms"},
      {"Median E2EL (ms):", "median_e2el_ms"},
      {"P99 E2EL (ms):", "p99_e2el_ms"},
      {"Output throughput (tok/s):", "output_throughput"},
  };
  std::ostringstream t;
  PrintSummaryHeader(t, "What-if against healthy (wiresim)");
  t << "What-if: " << s.what_if.Describe() << "\n";
  char buf[160];
  std::snprintf(buf, sizeof buf, "%-27s %11s %11s %9s\n", "", "healthy", "what-if", "change");
  t << buf;
  for (const Row& row : kRows) {
    auto h = healthy.predicted.find(row.key);
    auto w = report->predicted.find(row.key);
    if (h == healthy.predicted.end() || w == report->predicted.end()) continue;
    std::string change = "-";
    if (h->second != 0) {
      const double pct = 100.0 * (w->second - h->second) / h->second;
      change = (pct > -0.05 ? "+" + Fixed(std::fabs(pct), 1) : Fixed(pct, 1)) + "%";
    }
    std::snprintf(buf, sizeof buf, "%-27s %11.2f %11.2f %9s\n", row.label, h->second, w->second, change.c_str());
    t << buf;
  }
  const Topology& topo = *d.topo;
  for (const WhatIfStraggler& w : s.what_if.straggler) {
    Result<int> gpu = ResolveGpu(topo, w);
    if (!gpu.ok()) continue;  // resolved when the deployment was built
    const int replica = ReplicaOf(d, *gpu);
    t << "  straggler " << GpuName(topo, *gpu) << ": ";
    if (replica < 0) {
      t << "serves no replica of the plan (no effect)\n";
    } else if (d.replica_options.compiled) {
      t << "replica " << replica
        << " runs its iterations op by op (compiled iterations time every GPU of a replica alike)\n";
    } else {
      t << "in replica " << replica << "\n";
    }
  }
  for (const WhatIfFailure& f : s.what_if.fail) {
    t << "  failed " << f.target << ": its links are gone; routes, nearest NICs and NVLink domains recomputed\n";
  }
  t << std::string(50, '=') << "\n";
  report->text += t.str();

  Json& j = report->summary;
  Json h = healthy.summary;
  h.erase("wiresim");
  Json what = Json::object();
  Json degrade = Json::array(), fail = Json::array(), straggler = Json::array();
  for (const WhatIfDegrade& x : s.what_if.degrade) degrade.push_back({{"target", x.target}, {"factor", x.factor}});
  for (const WhatIfFailure& x : s.what_if.fail) fail.push_back(x.target);
  for (const WhatIfStraggler& x : s.what_if.straggler) straggler.push_back({{"gpu", x.gpu}, {"factor", x.factor}});
  what["degrade"] = std::move(degrade);
  what["fail"] = std::move(fail);
  what["straggler"] = std::move(straggler);
  j["what_if"] = std::move(what);
  j["healthy"] = std::move(h);
}

}  // namespace wiresim::app
