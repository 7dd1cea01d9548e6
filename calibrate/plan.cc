#include "calibrate/plan.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "calibrate/model_shapes.h"

namespace wiresim::calibrate {

size_t Plan::measurements() const {
  size_t n = gemms.size() + copies.size();
  for (const CollectiveJob& c : collectives) n += c.sizes.size();
  return n;
}

int DtypeBytes(const std::string& dtype) {
  static const std::map<std::string, int> kBytes = {{"double", 8},   {"float", 4},  {"int32", 4},  {"half", 2},
                                                    {"bfloat16", 2}, {"f8e4m3", 1}, {"f8e5m2", 1}, {"int8", 1}};
  auto it = kBytes.find(dtype);
  if (it == kBytes.end()) throw CalibrateError("dtype '" + dtype + "': expected float, half, bfloat16, f8e4m3, ...");
  return it->second;
}

double BusFactor(const std::string& op, int ranks) {
  const double n = ranks;
  if (op == "all_reduce") return 2 * (n - 1) / n;
  if (op == "all_gather" || op == "reduce_scatter" || op == "alltoall") return (n - 1) / n;
  return 1.0;
}

int64_t NcclTestsCount(const std::string& op, int64_t size, int dtype_bytes, int ranks) {
  // all-gather and reduce-scatter: size is the whole buffer, count is per rank.
  if (op == "all_gather" || op == "reduce_scatter") return size / dtype_bytes / ranks;
  return size / dtype_bytes;
}

namespace {

// A plan of a million measurements takes days on a node (a collective size alone runs warm-up and 20 timed
// iterations); a larger one is a mistake in the options, refused before it fills memory.
constexpr size_t kMaxPlanMeasurements = 1'000'000;

void CheckPlanSize(size_t measurements) {
  if (measurements > kMaxPlanMeasurements) {
    throw CalibrateError(
        "the plan holds more than 1000000 measurements; narrow --tokens, --tp, --gpus or --groups, "
        "or raise --stepfactor");
  }
}

}  // namespace

Plan MakePlan(const Options& o, int gpus, const std::vector<std::vector<int>>& nvlink_domains) {
  Plan plan;
  if (o.gemm) {
    std::set<std::tuple<int64_t, int64_t, int64_t, std::string>> seen;
    auto add = [&](int64_t m, int64_t n, int64_t k, const std::string& dtype, const std::string& label) {
      if (m <= 0 || n <= 0 || k <= 0) return;
      if (seen.emplace(m, n, k, dtype).second) {
        plan.gemms.push_back(GemmJob{m, n, k, dtype, label});
        CheckPlanSize(plan.gemms.size());
      }
    };
    for (const std::string& path : o.models) {
      const ModelShape model = ReadModelShape(path);
      for (int tp : o.tp) {
        for (const LinearShape& layer : LinearLayers(model, tp)) {
          for (int64_t tokens : o.tokens) {
            // Tokens one expert sees on average: tokens x top_k / experts (at least one).
            const int64_t m = layer.expert ? std::max<int64_t>(1, tokens * model.top_k / model.experts) : tokens;
            for (const std::string& dtype : o.gemm_dtypes) {
              add(m, layer.n, layer.k, dtype, model.name + " tp=" + std::to_string(tp) + " " + layer.layer);
            }
          }
        }
      }
    }
    if (o.gemm_grid || o.models.empty()) {
      for (int64_t m : o.tokens)
        for (int64_t n : {1024, 4096, 8192, 16384})
          for (int64_t k : {1024, 4096, 8192, 16384})
            for (const std::string& dtype : o.gemm_dtypes) add(m, n, k, dtype, "grid");
    }
  }
  if (o.memory) plan.copies = o.copy_bytes;
  if (o.nccl && gpus >= 2) {
    DtypeBytes(o.nccl_dtype);  // validates
    static const std::set<std::string> kOps = {"all_reduce", "all_gather", "reduce_scatter",
                                               "alltoall",   "broadcast",  "sendrecv"};
    for (const std::string& op : o.ops) {
      if (!kOps.count(op)) {
        throw CalibrateError("--ops: unknown operation '" + op +
                             "' (expected all_reduce, all_gather, reduce_scatter, alltoall, broadcast, sendrecv)");
      }
    }
    size_t collective_sizes = 0;
    for (const GpuGroup& group : PlanGroups(gpus, o.groups, nvlink_domains)) {
      const bool pair = group.kind == "pair";
      for (const std::string& op : o.ops) {
        // Pairs measure what pairs are for: point to point and the two-rank all-reduce.
        if (pair && op != "all_reduce" && op != "sendrecv") continue;
        const int64_t max = pair ? std::min(o.max_bytes, o.pair_max_bytes) : o.max_bytes;
        std::vector<int64_t> sizes;
        for (int64_t s : SizeSeries(o.min_bytes, max, o.factor)) {
          // A size must split evenly into elements per rank (nccl-tests rounds the same way).
          const int64_t unit = static_cast<int64_t>(DtypeBytes(o.nccl_dtype)) * static_cast<int64_t>(group.gpus.size());
          const bool per_rank = op == "all_gather" || op == "reduce_scatter" || op == "alltoall";
          const int64_t rounded = per_rank ? s / unit * unit : s / DtypeBytes(o.nccl_dtype) * DtypeBytes(o.nccl_dtype);
          if (rounded > 0 && (sizes.empty() || sizes.back() != rounded)) sizes.push_back(rounded);
        }
        collective_sizes += sizes.size();
        // Each sweep counts too, so that sweeps left empty (no size divides evenly) cannot go on without end.
        CheckPlanSize(plan.gemms.size() + plan.copies.size() + collective_sizes + plan.collectives.size());
        plan.collectives.push_back(CollectiveJob{op, group, sizes});
      }
    }
  }
  return plan;
}

Plan Remaining(const Plan& plan, const Profile& profile, const std::string& nccl_dtype) {
  Plan todo;
  for (const GemmJob& g : plan.gemms)
    if (!profile.HasGemm(g.m, g.n, g.k, g.dtype)) todo.gemms.push_back(g);
  for (int64_t bytes : plan.copies)
    if (!profile.HasMemory("d2d_copy", bytes)) todo.copies.push_back(bytes);
  for (const CollectiveJob& c : plan.collectives) {
    CollectiveJob left{c.op, c.group, {}};
    for (int64_t s : c.sizes)
      if (!profile.HasCollective(c.op, nccl_dtype, c.group.gpus, s, false)) left.sizes.push_back(s);
    if (!left.sizes.empty()) todo.collectives.push_back(left);
  }
  return todo;
}

std::string Describe(const Plan& plan) {
  std::ostringstream out;
  std::map<std::string, size_t> by_dtype;
  for (const GemmJob& g : plan.gemms) ++by_dtype[g.dtype];
  out << "GEMM: " << plan.gemms.size() << " shapes";
  for (const auto& [dtype, n] : by_dtype) out << ", " << n << " " << dtype;
  out << "\nmemory: " << plan.copies.size() << " device-to-device copies\n";
  size_t sizes = 0;
  std::map<std::string, size_t> groups;
  for (const CollectiveJob& c : plan.collectives) {
    sizes += c.sizes.size();
    ++groups[c.group.kind + " " + FormatGpus(c.group.gpus)];
  }
  out << "NCCL: " << plan.collectives.size() << " sweeps, " << sizes << " sizes, over " << groups.size()
      << " GPU groups";
  size_t shown = 0;
  for (const auto& [g, n] : groups) {
    if (shown++ == 6) {
      out << ", ...";
      break;
    }
    out << (shown == 1 ? ": " : ", ") << g;
  }
  out << "\n";
  return out.str();
}

std::string DescribeJson(const Plan& plan, int gpus) {
  nlohmann::ordered_json j;
  j["gpus"] = gpus;
  j["measurements"] = plan.measurements();
  nlohmann::ordered_json gemms = nlohmann::ordered_json::array();
  for (const GemmJob& g : plan.gemms) {
    gemms.push_back({{"m", g.m}, {"n", g.n}, {"k", g.k}, {"dtype", g.dtype}, {"label", g.label}});
  }
  j["gemms"] = std::move(gemms);
  j["copies"] = plan.copies;
  nlohmann::ordered_json collectives = nlohmann::ordered_json::array();
  for (const CollectiveJob& c : plan.collectives) {
    collectives.push_back({{"op", c.op}, {"group", c.group.kind}, {"gpus", c.group.gpus}, {"sizes", c.sizes}});
  }
  j["collectives"] = std::move(collectives);
  return j.dump(1) + "\n";
}

}  // namespace wiresim::calibrate
