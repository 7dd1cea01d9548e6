#include "sim/app/disaggregation_report.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "sim/app/number_format.h"
#include "sim/core/text.h"
#include "sim/metrics/request_metrics.h"

namespace wiresim::app {
namespace {

struct RoleTime {
  std::vector<int> gpus;
  double compute = 0, exposed = 0, idle = 0;  // mean per GPU, seconds
};

RoleTime TimeOf(const ServingRole& role, const ServingOutcome& o) {
  RoleTime t;
  for (const Placement& p : role.replicas) {
    for (int g : p.gpu_of_rank) t.gpus.push_back(g);
  }
  for (int g : t.gpus) {
    const GpuBreakdown& b = o.gpus[static_cast<size_t>(g)];
    t.compute += b.compute.ToSeconds();
    t.exposed += b.ExposedTotal().ToSeconds();
    t.idle += b.idle.ToSeconds();
  }
  const double n = static_cast<double>(std::max<size_t>(t.gpus.size(), 1));
  t.compute /= n;
  t.exposed /= n;
  t.idle /= n;
  return t;
}

struct TransferStats {
  double mean_ms = 0, p50_ms = 0, p99_ms = 0, mean_mb = 0;
};

TransferStats StatsOf(const std::vector<KvTransferRecord>& records) {
  TransferStats s;
  if (records.empty()) return s;
  std::vector<double> ms;
  for (const KvTransferRecord& r : records) {
    ms.push_back(1000.0 * r.duration().ToSeconds());
    s.mean_mb += r.bytes / 1e6;
  }
  std::sort(ms.begin(), ms.end());
  double total = 0;
  for (double v : ms) total += v;
  s.mean_ms = total / static_cast<double>(ms.size());
  s.p50_ms = Percentile(ms, 50);
  s.p99_ms = Percentile(ms, 99);
  s.mean_mb /= static_cast<double>(records.size());
  return s;
}

// A count in the block's "{:<40} {:<10}" layout.
void PrintCount(std::ostream& out, const std::string& label, int64_t value) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%-40s %-10lld\n", label.c_str(), static_cast<long long>(value));
  out << buf;
}

}  // namespace

void PrintDisaggregation(std::ostream& out, const ServingSetup& d, const ServingOutcome& o) {
  const DisaggregationSetup& pd = *d.disaggregation;
  const double run_s = o.run.end.ToSeconds();
  auto pct = [&](double seconds) { return run_s > 0 ? 100.0 * seconds / run_s : 0.0; };
  const TransferStats t = StatsOf(o.kv_transfers);
  PrintSummaryHeader(out, "KV transfer, prefill to decode (" + std::string(ToString(pd.mode)) + ")");
  PrintCount(out, "Transfers:", static_cast<int64_t>(o.kv_transfers.size()));
  PrintSummaryLine(out, "Mean KV per request (MB):", t.mean_mb);
  PrintSummaryLine(out, "Mean KV transfer time (ms):", t.mean_ms);
  PrintSummaryLine(out, "Median KV transfer time (ms):", t.p50_ms);
  PrintSummaryLine(out, "P99 KV transfer time (ms):", t.p99_ms);
  for (const ServingRole* role : {&pd.prefill, &pd.decode}) {
    const RoleTime r = TimeOf(*role, o);
    std::string title = role->name;
    title[0] = static_cast<char>(title[0] - 'a' + 'A');
    PrintSummaryHeader(out, title + ": " + std::to_string(role->replicas.size()) + " x " + role->plan.ToString() +
                                " on GPUs " + IndexRanges(r.gpus));
    PrintCount(out, "KV blocks per replica:", role->kv_blocks);
    PrintSummaryLine(out, "Compute (%):", pct(r.compute));
    PrintSummaryLine(out, "Exposed collectives (%):", pct(r.exposed));
    PrintSummaryLine(out, "Idle (%):", pct(r.idle));
  }
}

nlohmann::ordered_json DisaggregationJson(const ServingSetup& d, const ServingOutcome& o) {
  const DisaggregationSetup& pd = *d.disaggregation;
  const double run_s = o.run.end.ToSeconds();
  auto frac = [&](double seconds) { return run_s > 0 ? seconds / run_s : 0.0; };
  nlohmann::ordered_json j;
  j["kv_transfer"] = std::string(ToString(pd.mode));
  for (const ServingRole* role : {&pd.prefill, &pd.decode}) {
    const RoleTime r = TimeOf(*role, o);
    j[role->name] = {
        {"plan", role->plan.ToString()},
        {"replicas", role->replicas.size()},
        {"gpus", r.gpus},
        {"replica_gpus",
         [&] {  // each replica's GPUs in rank order
           nlohmann::ordered_json a = nlohmann::ordered_json::array();
           for (const Placement& p : role->replicas) a.push_back(p.gpu_of_rank);
           return a;
         }()},
        {"kv_blocks_per_replica", role->kv_blocks},
        {"gpu_time_fraction",
         {{"compute", frac(r.compute)}, {"exposed_collectives", frac(r.exposed)}, {"idle", frac(r.idle)}}}};
  }
  const TransferStats t = StatsOf(o.kv_transfers);
  j["kv_transfers"] = o.kv_transfers.size();
  j["mean_kv_transfer_bytes"] = t.mean_mb * 1e6;
  j["mean_kv_transfer_ms"] = t.mean_ms;
  j["median_kv_transfer_ms"] = t.p50_ms;
  j["p99_kv_transfer_ms"] = t.p99_ms;
  return j;
}

}  // namespace wiresim::app
