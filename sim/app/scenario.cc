#include "sim/app/scenario.h"

#include <cmath>
#include <optional>
#include <vector>

#include "sim/collective/nccl_tuning.h"
#include "sim/config/toml_reader.h"
#include "sim/core/numeric_field.h"
#include "sim/serving/speculative.h"

namespace wiresim::app {
namespace {

using config::TableReader;

// Remembers where a field was read from.
void Note(Scenario& s, const TableReader& t, const std::string& table, std::string_view key) {
  if (!t.Has(key)) return;
  const SourceLocation at = t.Where(key);
  s.where[table + "." + std::string(key)] = at.ToString();
}

Status ReadString(Scenario& s, TableReader& t, const std::string& table, std::string_view key, std::string* out) {
  WIRESIM_ASSIGN_OR_RETURN(std::optional<std::string> v, t.OptionalString(key));
  if (v) *out = *v;
  Note(s, t, table, key);
  return Status::Ok();
}

// Types only here: ValidateScenario checks every value's range once, whether a file or a flag set it.
Status ReadInt(Scenario& s, TableReader& t, const std::string& table, std::string_view key, int64_t* out) {
  WIRESIM_ASSIGN_OR_RETURN(std::optional<int64_t> v, t.OptionalInt(key));
  if (v) *out = *v;
  Note(s, t, table, key);
  return Status::Ok();
}

Status ReadNumber(Scenario& s, TableReader& t, const std::string& table, std::string_view key, double* out) {
  WIRESIM_ASSIGN_OR_RETURN(std::optional<double> v, t.OptionalNumber(key));
  if (v) *out = *v;
  Note(s, t, table, key);
  return Status::Ok();
}

Status ReadBool(Scenario& s, TableReader& t, const std::string& table, std::string_view key, bool* out) {
  WIRESIM_ASSIGN_OR_RETURN(std::optional<bool> v, t.OptionalBool(key));
  if (v) *out = *v;
  Note(s, t, table, key);
  return Status::Ok();
}

// [disaggregation]: kv_transfer, and the inline tables prefill = { plan, replicas } and decode = { ... }.
Status ReadDisaggregation(TableReader& top, Scenario& s) {
  WIRESIM_ASSIGN_OR_RETURN(std::optional<TableReader> pd, top.Table("disaggregation"));
  if (!pd) return Status::Ok();
  TableReader& t = *pd;
  WIRESIM_RETURN_IF_ERROR(t.CheckKeys({"prefill", "decode", "kv_transfer"}));
  s.disaggregated = true;
  WIRESIM_RETURN_IF_ERROR(ReadString(s, t, "disaggregation", "kv_transfer", &s.kv_transfer));
  for (const char* role : {"prefill", "decode"}) {
    WIRESIM_ASSIGN_OR_RETURN(std::optional<TableReader> r, t.Table(role));
    if (!r) return t.Error(role, std::string("expected ") + role + " = { plan = \"tp=8\", replicas = 1 }");
    WIRESIM_RETURN_IF_ERROR(r->CheckKeys({"plan", "replicas"}));
    const std::string name = std::string("disaggregation.") + role;
    const bool prefill = std::string(role) == "prefill";
    WIRESIM_RETURN_IF_ERROR(ReadString(s, *r, name, "plan", prefill ? &s.prefill_plan : &s.decode_plan));
    WIRESIM_RETURN_IF_ERROR(ReadInt(s, *r, name, "replicas", prefill ? &s.prefill_replicas : &s.decode_replicas));
  }
  return Status::Ok();
}

// The ranges of the scenario's numbers, checked with the shared helper (sim/core/numeric_field.h) so a value out of
// range is refused as every reader refuses one: "s.toml:12: workload.rate: expected ..., got ...".
constexpr NumericRange kRequestCount{0, false, 1099511627776.0, true, "a whole number", "2^40"};
constexpr NumericRange kSeed{0, false, 9223372036854775807.0, true, "a whole number", ""};
constexpr NumericRange kRoutingSkew{1e-6, false, 100, false, "a Zipf exponent", ""};
constexpr NumericRange kMaxNumSeqs{1, false, 1 << 20, true, "a whole number", "2^20"};
constexpr NumericRange kBatchedTokens{1, false, 1 << 24, true, "a whole number", "2^24"};
constexpr NumericRange kBlockSize{1, false, 1 << 16, true, "a whole number", "2^16"};
constexpr NumericRange kMaxModelLen{0, false, 1 << 30, true, "a whole number (0: the model's)", "2^30"};
constexpr NumericRange kMemoryFraction{0.01, false, 1.0, false, "a fraction of GPU memory", "all of it"};
constexpr NumericRange kReserveGib{0, false, 1e6, false, "GiB", "1e6"};
constexpr NumericRange kHostOverheadMs{0, false, 1e5, false, "milliseconds per step", "100 s"};
constexpr NumericRange kReplicas{1, false, 4096, true, "a whole number", ""};
constexpr NumericRange kHashBlockTokens{1, false, 1 << 24, true, "a whole number of tokens", "2^24"};
// 10^6 s (11.6 days): a run holds 4.6e6 s (Simulator::kHorizon), and it goes on past the last arrival until every
// request in flight finishes. (10^7 s, the bound before, passed this check and then failed Time's own.)
constexpr NumericRange kDurationS{0, false, 1e6, false, "seconds (0: no limit)", "11.6 days"};
constexpr NumericRange kRate{1e-9, false, 1e9, false, "requests per second (or \"inf\")", "1e9"};
constexpr NumericRange kBurstiness{1e-6, false, 1e6, false, "a Gamma shape (1: Poisson)", "1e6"};
constexpr NumericRange kTimeScale{1e-9, false, 1e9, false, "a factor", "1e9"};
constexpr NumericRange kPercentile{0, false, 100, false, "a percentile", ""};
constexpr NumericRange kSloMs{0, false, 1e9, false, "milliseconds", "about 11 days"};

constexpr NumericRange kSpeculativeTokens{0, false, kMaxDraftTokens, true, "a whole number of drafts (0: off)", ""};

// A TOML number (an integer read as one); nullopt for anything else.
std::optional<double> NumberOf(const toml::node& n) {
  return n.is_integer() ? std::optional<double>(static_cast<double>(*n.value<int64_t>())) : n.value<double>();
}

// The numbers of a TOML array; nullopt when an element is not a number.
std::optional<std::vector<double>> NumbersOf(const toml::array& a) {
  std::vector<double> out;
  for (const toml::node& n : a) {
    const std::optional<double> v = NumberOf(n);
    if (!v) return std::nullopt;
    out.push_back(*v);
  }
  return out;
}

// Where `field` was given ("s.toml:12", "--rate") as the location of a shared check, or the scenario's name when
// it holds its default.
SourceLocation LocationOf(const Scenario& s, const std::string& field) {
  const auto it = s.where.find(field);
  return SourceLocation{it == s.where.end() ? s.name : it->second, 0, 0};
}

std::string FieldOf(const Scenario& s, const std::string& field) {
  return s.where.count(field) != 0 ? field : field + " (default)";
}

}  // namespace

Status ValidateScenario(const Scenario& s) {
  auto whole = [&](const char* field, int64_t v, const NumericRange& range) {
    return CheckInteger(LocationOf(s, field), FieldOf(s, field), v, range);
  };
  auto number = [&](const char* field, double v, const NumericRange& range) {
    return CheckNumber(LocationOf(s, field), FieldOf(s, field), v, range);
  };
  WIRESIM_RETURN_IF_ERROR(number("deployment.expert_imbalance", s.expert_imbalance, kExpertImbalance));
  WIRESIM_RETURN_IF_ERROR(number("deployment.routing_skew", s.routing_skew, kRoutingSkew));
  if (s.expert_routing != "uniform" && s.expert_routing != "skewed") {
    return InvalidArgument(s.At("deployment.expert_routing") + ": expected uniform or skewed, got '" +
                           s.expert_routing + "'");
  }
  if (s.expert_routing == "skewed" && s.expert_imbalance != 1.0) {
    return InvalidArgument(s.At("deployment.expert_imbalance") +
                           ": applies to uniform routing; skewed routing sets the load (use routing_skew)");
  }
  if (!s.nccl_version.empty()) {
    Result<NcclVersion> v = ParseNcclVersion(s.nccl_version);
    if (!v.ok()) return InvalidArgument(s.At("deployment.nccl_version") + ": " + v.status().message());
  }
  if (s.ep_overlap != "none" && s.ep_overlap != "two-batch") {
    return InvalidArgument(s.At("deployment.ep_overlap") + ": expected none or two-batch, got '" + s.ep_overlap + "'");
  }
  if (Result<StepGraphOptions::EpExchange> e = StepGraphOptions::ParseEpExchange(s.ep_exchange, false); !e.ok()) {
    return InvalidArgument(s.At("deployment.ep_exchange") + ": " + e.status().message());
  }
  if (s.disaggregated && !s.what_if.empty()) {
    // The what-ifs' reachability check covers one plan's groups, not the prefill and decode replicas' transfers.
    return InvalidArgument(s.At("what_if") +
                           ": what-ifs apply to aggregated deployments; this one is disaggregated ([disaggregation])");
  }
  WIRESIM_RETURN_IF_ERROR(whole("scheduler.max_num_seqs", s.max_num_seqs, kMaxNumSeqs));
  WIRESIM_RETURN_IF_ERROR(whole("scheduler.max_num_batched_tokens", s.max_num_batched_tokens, kBatchedTokens));
  WIRESIM_RETURN_IF_ERROR(whole("scheduler.block_size", s.block_size, kBlockSize));
  WIRESIM_RETURN_IF_ERROR(whole("scheduler.max_model_len", s.max_model_len, kMaxModelLen));
  WIRESIM_RETURN_IF_ERROR(number("scheduler.gpu_memory_utilization", s.gpu_memory_utilization, kMemoryFraction));
  if (s.runtime_reserve_gib) {
    WIRESIM_RETURN_IF_ERROR(number("scheduler.runtime_reserve_gib", *s.runtime_reserve_gib, kReserveGib));
  }
  if (s.host_overhead_ms) {
    WIRESIM_RETURN_IF_ERROR(number("scheduler.host_overhead_ms", *s.host_overhead_ms, kHostOverheadMs));
  }
  WIRESIM_RETURN_IF_ERROR(whole("speculative.num_speculative_tokens", s.num_speculative_tokens, kSpeculativeTokens));
  if (s.num_speculative_tokens > 0) {
    Result<DraftMethod> method = ParseDraftMethod(s.speculative_method);
    if (!method.ok()) return InvalidArgument(s.At("speculative.method") + ": " + method.status().message());
    // The method and the count are good: what is left to refuse is the acceptance.
    Result<SpeculativeConfig> spec =
        MakeSpeculativeConfig(s.speculative_method, s.num_speculative_tokens, s.acceptance);
    if (!spec.ok()) return InvalidArgument(s.At("speculative.acceptance") + ": " + spec.status().message());
  } else if (s.where.count("speculative.acceptance") != 0) {
    return InvalidArgument(s.At("speculative.acceptance") +
                           ": given, but speculative decoding is off (num_speculative_tokens is 0)");
  }
  WIRESIM_RETURN_IF_ERROR(whole("disaggregation.prefill.replicas", s.prefill_replicas, kReplicas));
  WIRESIM_RETURN_IF_ERROR(whole("disaggregation.decode.replicas", s.decode_replicas, kReplicas));
  WIRESIM_RETURN_IF_ERROR(whole("workload.requests", s.requests, kRequestCount));
  WIRESIM_RETURN_IF_ERROR(whole("workload.max_concurrency", s.max_concurrency, kRequestCount));
  WIRESIM_RETURN_IF_ERROR(whole("workload.seed", s.seed, kSeed));
  WIRESIM_RETURN_IF_ERROR(whole("workload.hash_block_tokens", s.hash_block_tokens, kHashBlockTokens));
  WIRESIM_RETURN_IF_ERROR(number("workload.duration_s", s.duration_s, kDurationS));
  if (!s.rate_inf) WIRESIM_RETURN_IF_ERROR(number("workload.rate", s.rate, kRate));
  WIRESIM_RETURN_IF_ERROR(number("workload.burstiness", s.burstiness, kBurstiness));
  WIRESIM_RETURN_IF_ERROR(number("workload.time_scale", s.time_scale, kTimeScale));
  for (double p : s.percentiles) WIRESIM_RETURN_IF_ERROR(number("report.percentiles", p, kPercentile));
  WIRESIM_RETURN_IF_ERROR(number("slo.ttft_ms", s.slo_ttft_ms, kSloMs));
  WIRESIM_RETURN_IF_ERROR(number("slo.tpot_ms", s.slo_tpot_ms, kSloMs));
  WIRESIM_RETURN_IF_ERROR(number("slo.e2el_ms", s.slo_e2el_ms, kSloMs));
  return Status::Ok();
}

std::string Scenario::At(const std::string& field) const {
  auto it = where.find(field);
  if (it == where.end()) return name + " (" + field + ", default)";
  return it->second + " (" + field + ")";
}

Result<Scenario> LoadScenario(const SourceFile& file) {
  WIRESIM_ASSIGN_OR_RETURN(toml::table doc, config::ParseToml(file));
  TableReader top(doc, file.name, "");
  WIRESIM_RETURN_IF_ERROR(top.CheckKeys(
      {"name", "deployment", "disaggregation", "scheduler", "speculative", "workload", "slo", "report", "what_if"}));
  Scenario s;
  s.name = file.name;
  WIRESIM_ASSIGN_OR_RETURN(std::optional<std::string> title, top.OptionalString("name"));
  (void)title;
  WIRESIM_ASSIGN_OR_RETURN(std::optional<TableReader> dep, top.Table("deployment"));
  if (!dep) return top.Error("deployment", "a scenario needs a [deployment] table (topology, model, plan)");
  {
    TableReader& t = *dep;
    WIRESIM_RETURN_IF_ERROR(t.CheckKeys({"topology",         "model",          "plan",
                                         "placement",        "gpus",           "weight_dtype",
                                         "kv_cache_dtype",   "engine",         "network",
                                         "calibration",      "iterations",     "nccl_version",
                                         "expert_imbalance", "expert_routing", "routing_skew",
                                         "ep_overlap",       "ep_exchange",    "custom_all_reduce",
                                         "nccl_nvls",        "nccl_pxn",       "symm_mem_all_reduce"}));
    const std::string d = "deployment";
    WIRESIM_ASSIGN_OR_RETURN(s.topology, t.String("topology"));
    Note(s, t, d, "topology");
    WIRESIM_ASSIGN_OR_RETURN(s.model, t.String("model"));
    Note(s, t, d, "model");
    WIRESIM_RETURN_IF_ERROR(ReadString(s, t, d, "plan", &s.plan));
    WIRESIM_RETURN_IF_ERROR(ReadString(s, t, d, "placement", &s.placement));
    WIRESIM_RETURN_IF_ERROR(ReadString(s, t, d, "gpus", &s.gpus));
    WIRESIM_RETURN_IF_ERROR(ReadString(s, t, d, "weight_dtype", &s.weight_dtype));
    WIRESIM_RETURN_IF_ERROR(ReadString(s, t, d, "kv_cache_dtype", &s.kv_cache_dtype));
    WIRESIM_RETURN_IF_ERROR(ReadString(s, t, d, "engine", &s.engine));
    WIRESIM_RETURN_IF_ERROR(ReadString(s, t, d, "network", &s.network));
    WIRESIM_RETURN_IF_ERROR(ReadString(s, t, d, "calibration", &s.calibration));
    WIRESIM_RETURN_IF_ERROR(ReadString(s, t, d, "iterations", &s.iterations));
    WIRESIM_RETURN_IF_ERROR(ReadString(s, t, d, "nccl_version", &s.nccl_version));
    WIRESIM_RETURN_IF_ERROR(ReadNumber(s, t, d, "expert_imbalance", &s.expert_imbalance));
    WIRESIM_RETURN_IF_ERROR(ReadString(s, t, d, "expert_routing", &s.expert_routing));
    WIRESIM_RETURN_IF_ERROR(ReadNumber(s, t, d, "routing_skew", &s.routing_skew));
    WIRESIM_RETURN_IF_ERROR(ReadString(s, t, d, "ep_overlap", &s.ep_overlap));
    WIRESIM_RETURN_IF_ERROR(ReadString(s, t, d, "ep_exchange", &s.ep_exchange));
    WIRESIM_RETURN_IF_ERROR(ReadBool(s, t, d, "custom_all_reduce", &s.custom_all_reduce));
    WIRESIM_RETURN_IF_ERROR(ReadBool(s, t, d, "symm_mem_all_reduce", &s.symm_mem_all_reduce));
    WIRESIM_RETURN_IF_ERROR(ReadBool(s, t, d, "nccl_pxn", &s.nccl_pxn));
    if (t.Has("nccl_nvls")) {
      bool nvls = true;
      WIRESIM_RETURN_IF_ERROR(ReadBool(s, t, d, "nccl_nvls", &nvls));
      s.nccl_nvls = nvls;
    }
  }
  WIRESIM_RETURN_IF_ERROR(ReadDisaggregation(top, s));
  WIRESIM_ASSIGN_OR_RETURN(std::optional<TableReader> sch, top.Table("scheduler"));
  if (sch) {
    TableReader& t = *sch;
    WIRESIM_RETURN_IF_ERROR(t.CheckKeys({"max_num_seqs", "max_num_batched_tokens", "block_size", "max_model_len",
                                         "enable_chunked_prefill", "enable_prefix_caching", "gpu_memory_utilization",
                                         "runtime_reserve_gib", "host_overhead_ms", "async_scheduling", "router"}));
    const std::string d = "scheduler";
    WIRESIM_RETURN_IF_ERROR(ReadInt(s, t, d, "max_num_seqs", &s.max_num_seqs));
    WIRESIM_RETURN_IF_ERROR(ReadInt(s, t, d, "max_num_batched_tokens", &s.max_num_batched_tokens));
    WIRESIM_RETURN_IF_ERROR(ReadInt(s, t, d, "block_size", &s.block_size));
    WIRESIM_RETURN_IF_ERROR(ReadInt(s, t, d, "max_model_len", &s.max_model_len));
    WIRESIM_RETURN_IF_ERROR(ReadBool(s, t, d, "enable_chunked_prefill", &s.enable_chunked_prefill));
    WIRESIM_RETURN_IF_ERROR(ReadBool(s, t, d, "enable_prefix_caching", &s.enable_prefix_caching));
    WIRESIM_RETURN_IF_ERROR(ReadNumber(s, t, d, "gpu_memory_utilization", &s.gpu_memory_utilization));
    if (t.Has("runtime_reserve_gib")) {
      double reserve = 0;
      WIRESIM_RETURN_IF_ERROR(ReadNumber(s, t, d, "runtime_reserve_gib", &reserve));
      s.runtime_reserve_gib = reserve;
    }
    double host = 0;
    if (t.Has("host_overhead_ms")) {
      WIRESIM_RETURN_IF_ERROR(ReadNumber(s, t, d, "host_overhead_ms", &host));
      s.host_overhead_ms = host;
    }
    if (t.Has("async_scheduling")) {
      bool overlap = true;
      WIRESIM_RETURN_IF_ERROR(ReadBool(s, t, d, "async_scheduling", &overlap));
      s.async_scheduling = overlap;
    }
    WIRESIM_RETURN_IF_ERROR(ReadString(s, t, d, "router", &s.router));
  }
  WIRESIM_ASSIGN_OR_RETURN(std::optional<TableReader> spec, top.Table("speculative"));
  if (spec) {
    TableReader& t = *spec;
    WIRESIM_RETURN_IF_ERROR(t.CheckKeys({"method", "num_speculative_tokens", "acceptance", "draft_weight_dtype"}));
    const std::string d = "speculative";
    WIRESIM_RETURN_IF_ERROR(ReadString(s, t, d, "method", &s.speculative_method));
    WIRESIM_RETURN_IF_ERROR(ReadInt(s, t, d, "num_speculative_tokens", &s.num_speculative_tokens));
    WIRESIM_RETURN_IF_ERROR(ReadString(s, t, d, "draft_weight_dtype", &s.draft_weight_dtype));
    if (t.Has("acceptance")) {
      const toml::node* n = t.table().get("acceptance");
      std::optional<std::vector<double>> rates;
      if (const toml::array* a = n->as_array()) {
        rates = NumbersOf(*a);
      } else if (const std::optional<double> x = NumberOf(*n)) {
        rates = std::vector<double>{*x};
      }
      if (!rates) {
        return t.Error("acceptance",
                       "expected a per-token rate (0.8) or per-position rates ([0.8, 0.6, 0.45]), each in [0, 1]");
      }
      s.acceptance = std::move(*rates);
      Note(s, t, d, "acceptance");
      t.Accept("acceptance");
    }
  }
  WIRESIM_ASSIGN_OR_RETURN(std::optional<TableReader> wl, top.Table("workload"));
  if (wl) {
    TableReader& t = *wl;
    WIRESIM_RETURN_IF_ERROR(
        t.CheckKeys({"requests", "duration_s", "rate", "burstiness", "max_concurrency", "input_len", "output_len",
                     "trace", "trace_format", "time_scale", "seed", "hash_block_tokens"}));
    const std::string d = "workload";
    WIRESIM_RETURN_IF_ERROR(ReadInt(s, t, d, "requests", &s.requests));
    WIRESIM_RETURN_IF_ERROR(ReadNumber(s, t, d, "duration_s", &s.duration_s));
    if (t.Has("rate")) {
      WIRESIM_ASSIGN_OR_RETURN(std::optional<std::string> text, [&]() -> Result<std::optional<std::string>> {
        if (t.table().get("rate")->is_string()) return t.OptionalString("rate");
        return std::optional<std::string>();
      }());
      if (text) {
        if (*text != "inf") return t.Error("rate", "expected requests per second, or \"inf\" (all at once)");
        s.rate_inf = true;
        Note(s, t, d, "rate");
      } else {
        WIRESIM_RETURN_IF_ERROR(ReadNumber(s, t, d, "rate", &s.rate));
      }
    }
    WIRESIM_RETURN_IF_ERROR(ReadNumber(s, t, d, "burstiness", &s.burstiness));
    WIRESIM_RETURN_IF_ERROR(ReadInt(s, t, d, "max_concurrency", &s.max_concurrency));
    WIRESIM_RETURN_IF_ERROR(ReadString(s, t, d, "input_len", &s.input_len));
    WIRESIM_RETURN_IF_ERROR(ReadString(s, t, d, "output_len", &s.output_len));
    WIRESIM_RETURN_IF_ERROR(ReadString(s, t, d, "trace", &s.trace));
    WIRESIM_RETURN_IF_ERROR(ReadString(s, t, d, "trace_format", &s.trace_format));
    WIRESIM_RETURN_IF_ERROR(ReadNumber(s, t, d, "time_scale", &s.time_scale));
    WIRESIM_RETURN_IF_ERROR(ReadInt(s, t, d, "seed", &s.seed));
    WIRESIM_RETURN_IF_ERROR(ReadInt(s, t, d, "hash_block_tokens", &s.hash_block_tokens));
  }
  WIRESIM_ASSIGN_OR_RETURN(std::optional<TableReader> slo, top.Table("slo"));
  if (slo) {
    TableReader& t = *slo;
    WIRESIM_RETURN_IF_ERROR(t.CheckKeys({"ttft_ms", "tpot_ms", "e2el_ms"}));
    WIRESIM_RETURN_IF_ERROR(ReadNumber(s, t, "slo", "ttft_ms", &s.slo_ttft_ms));
    WIRESIM_RETURN_IF_ERROR(ReadNumber(s, t, "slo", "tpot_ms", &s.slo_tpot_ms));
    WIRESIM_RETURN_IF_ERROR(ReadNumber(s, t, "slo", "e2el_ms", &s.slo_e2el_ms));
  }
  WIRESIM_ASSIGN_OR_RETURN(std::optional<TableReader> rep, top.Table("report"));
  if (rep) {
    TableReader& t = *rep;
    WIRESIM_RETURN_IF_ERROR(t.CheckKeys({"percentiles"}));
    if (const toml::array* a = t.table().get_as<toml::array>("percentiles")) {
      std::optional<std::vector<double>> p = NumbersOf(*a);
      if (!p) return t.Error("percentiles", "expected numbers from 0 to 100");
      s.percentiles = std::move(*p);
      Note(s, t, "report", "percentiles");
    } else if (t.Has("percentiles")) {
      return t.Error("percentiles", "expected an array of numbers, e.g. [50, 90, 99]");
    }
    t.Accept("percentiles");
  }
  WIRESIM_ASSIGN_OR_RETURN(std::optional<TableReader> what_if, top.Table("what_if"));
  if (what_if) WIRESIM_RETURN_IF_ERROR(ReadWhatIfTable(*what_if, &s.what_if));
  return s;
}

}  // namespace wiresim::app
