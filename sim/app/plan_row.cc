#include "sim/app/plan_row.h"

#include <nlohmann/json.hpp>

namespace wiresim::app {

using Json = nlohmann::json;

ParallelPlan WithDp(ParallelPlan p, int dp) {
  const bool ep = p.ep > 1;
  p.dp = dp;
  p.ep = ep ? p.tp * p.cp * dp : 1;
  return p;
}

std::string_view ToString(CandidateFate f) {
  switch (f) {
    case CandidateFate::kSimulated:
      return "simulated";
    case CandidateFate::kInvalid:
      return "invalid";
    case CandidateFate::kPrunedMemory:
      return "pruned: memory";
    case CandidateFate::kPrunedBound:
      return "pruned: SLO bound";
    case CandidateFate::kPrunedObjective:
      return "pruned: objective bound";
    case CandidateFate::kFailed:
      return "failed";
    case CandidateFate::kDuplicate:
      return "same GPUs as another";
    case CandidateFate::kPrunedPlacement:
      return "pruned: placement score";
  }
  return "?";
}

std::string PlanCandidate::PlanLabel() const {
  if (!disaggregated) return plan.ToString();
  return "P " + std::to_string(prefill_replicas) + "x " + prefill.ToString() + " + D " +
         std::to_string(decode_replicas) + "x " + decode.ToString();
}

std::string PlanCandidate::DeploymentKey() const {
  return PlanLabel() + "|" + weight_dtype + "|" + kv_dtype + "|" + std::to_string(max_num_seqs) + "|" +
         std::to_string(max_num_batched_tokens);
}

std::string PlanCandidate::BaseKey() const {
  const std::string plans =
      disaggregated ? "P " + prefill.ToString() + " + D " + decode.ToString() : WithDp(plan, 1).ToString();
  return plans + "|" + placement + "|" + weight_dtype + "|" + kv_dtype + "|" + std::to_string(max_num_seqs) + "|" +
         std::to_string(max_num_batched_tokens);
}

std::string PlanRow::ToJson() const {
  Json j;
  j["plan"] = c.plan.ToString();
  j["placement"] = c.placement;
  j["weight_dtype"] = c.weight_dtype;
  j["kv_dtype"] = c.kv_dtype;
  j["max_num_seqs"] = c.max_num_seqs;
  j["max_num_batched_tokens"] = c.max_num_batched_tokens;
  j["disaggregated"] = c.disaggregated;
  j["prefill_plan"] = c.prefill.ToString();
  j["decode_plan"] = c.decode.ToString();
  j["prefill_replicas"] = c.prefill_replicas;
  j["decode_replicas"] = c.decode_replicas;
  j["gpus"] = c.gpus;
  j["fate"] = static_cast<int>(fate);
  j["why"] = why;
  // Doubles go through their exact text so a row read back compares equal to the one written.
  auto num = [&](const char* key, double v) { j[key] = v; };
  num("tpot_bound_ms", tpot_bound_ms);
  num("prefill_ms_per_token", prefill_ms_per_token);
  num("placement_cost_ms", placement_cost_ms);
  num("ttft_p50_ms", ttft_p50_ms);
  num("ttft_p99_ms", ttft_p99_ms);
  num("tpot_p50_ms", tpot_p50_ms);
  num("tpot_p99_ms", tpot_p99_ms);
  num("e2el_p99_ms", e2el_p99_ms);
  num("output_throughput", output_throughput);
  num("request_throughput", request_throughput);
  num("goodput", goodput);
  num("ranked_goodput", ranked_goodput);
  num("attainment", attainment);
  num("bubble", bubble);
  num("exposed", exposed);
  j["completed"] = completed;
  j["failed"] = failed;
  j["placement_used"] = placement_used;
  j["layout"] = layout;
  j["placement_notes"] = placement_notes;
  j["meets_slo"] = meets_slo;
  j["stopped"] = stopped;
  num("stopped_at_s", stopped_at_s);
  j["missed"] = missed;
  j["met"] = met;
  return j.dump();
}

Result<PlanRow> PlanRow::FromJson(const std::string& text) {
  PlanRow r;
  try {
    const Json j = Json::parse(text);
    auto plan = [&](const char* key) -> Result<ParallelPlan> { return ParsePlan(j.at(key).get<std::string>()); };
    WIRESIM_ASSIGN_OR_RETURN(r.c.plan, plan("plan"));
    WIRESIM_ASSIGN_OR_RETURN(r.c.prefill, plan("prefill_plan"));
    WIRESIM_ASSIGN_OR_RETURN(r.c.decode, plan("decode_plan"));
    r.c.placement = j.at("placement").get<std::string>();
    r.c.weight_dtype = j.at("weight_dtype").get<std::string>();
    r.c.kv_dtype = j.at("kv_dtype").get<std::string>();
    r.c.max_num_seqs = j.at("max_num_seqs").get<int64_t>();
    r.c.max_num_batched_tokens = j.at("max_num_batched_tokens").get<int64_t>();
    r.c.disaggregated = j.at("disaggregated").get<bool>();
    r.c.prefill_replicas = j.at("prefill_replicas").get<int64_t>();
    r.c.decode_replicas = j.at("decode_replicas").get<int64_t>();
    r.c.gpus = j.at("gpus").get<int>();
    r.fate = static_cast<CandidateFate>(j.at("fate").get<int>());
    r.why = j.at("why").get<std::string>();
    r.tpot_bound_ms = j.at("tpot_bound_ms").get<double>();
    r.prefill_ms_per_token = j.at("prefill_ms_per_token").get<double>();
    r.placement_cost_ms = j.at("placement_cost_ms").get<double>();
    r.ttft_p50_ms = j.at("ttft_p50_ms").get<double>();
    r.ttft_p99_ms = j.at("ttft_p99_ms").get<double>();
    r.tpot_p50_ms = j.at("tpot_p50_ms").get<double>();
    r.tpot_p99_ms = j.at("tpot_p99_ms").get<double>();
    r.e2el_p99_ms = j.at("e2el_p99_ms").get<double>();
    r.output_throughput = j.at("output_throughput").get<double>();
    r.request_throughput = j.at("request_throughput").get<double>();
    r.goodput = j.at("goodput").get<double>();
    r.ranked_goodput = j.at("ranked_goodput").get<double>();
    r.attainment = j.at("attainment").get<double>();
    r.bubble = j.at("bubble").get<double>();
    r.exposed = j.at("exposed").get<double>();
    r.completed = j.at("completed").get<int64_t>();
    r.failed = j.at("failed").get<int64_t>();
    r.placement_used = j.at("placement_used").get<std::string>();
    r.layout = j.at("layout").get<std::string>();
    r.placement_notes = j.at("placement_notes").get<std::vector<std::string>>();
    r.meets_slo = j.at("meets_slo").get<bool>();
    r.stopped = j.at("stopped").get<bool>();
    r.stopped_at_s = j.at("stopped_at_s").get<double>();
    r.missed = j.at("missed").get<int64_t>();
    r.met = j.at("met").get<int64_t>();
  } catch (const Json::exception& e) {
    return Internal(std::string("plan search: a result came back unreadable: ") + e.what());
  }
  return r;
}

}  // namespace wiresim::app
