#include "sim/app/scenario_flags.h"

#include <sstream>
#include <vector>

#include "sim/core/text.h"

namespace wiresim::app {
namespace po = boost::program_options;

namespace {

// The variables map as ApplyScenarioFlags sees it: flags in `skip` count as not given.
struct FilteredFlags {
  const po::variables_map& vm;
  const std::set<std::string>& skip;
  size_t count(const std::string& flag) const { return skip.count(flag) ? 0 : vm.count(flag); }
  const po::variable_value& operator[](const std::string& flag) const { return vm[flag]; }
};

}  // namespace

void AddScenarioOptions(po::options_description& options, const std::set<std::string>& skip) {
  po::options_description all;
  all.add_options()("topology", po::value<std::string>(), "topology file or shipped name")(
      "model", po::value<std::string>(), "model spec, HF config.json, or shipped name")(
      "plan", po::value<std::string>(), "tp=8,pp=2,dp=1,ep=1,cp=1,sp=on")(
      "placement", po::value<std::string>(),
      "packed, strided, auto (topology search), spread (auto, DP replicas on different hosts), or GPU indices in rank "
      "order")("gpus", po::value<std::string>(), "which GPUs of the topology (default: the first ones)")(
      "weight-dtype", po::value<std::string>(), "bf16, fp8, int8, int4")(
      "kv-dtype", po::value<std::string>(), "auto, bf16, fp8")("engine", po::value<std::string>(),
                                                               "vllm, sglang or trtllm")(
      "network", po::value<std::string>(), "analytical (closed forms) or flow (transfers share links)")(
      "calibration", po::value<std::string>(), "a calibration profile")(
      "iterations", po::value<std::string>(), "compiled (fast, exact where it applies) or op-by-op")(
      "nccl-version", po::value<std::string>(), "NCCL release modelled, 2.18 to 2.30 (default: the profile's, newest)")(
      "expert-imbalance", po::value<double>(), "busiest EP rank's tokens over the average (>= 1)")(
      "expert-routing", po::value<std::string>(), "uniform or skewed (Zipf over the experts)")(
      "routing-skew", po::value<double>(), "Zipf exponent of skewed routing (default 1)")(
      "ep-overlap", po::value<std::string>(), "none or two-batch (micro-batches overlap the EP all-to-all)")(
      "ep-exchange", po::value<std::string>(),
      "auto (the engine's), alltoall (DeepEP-style routed copies) or allgather (all-gather + reduce-scatter, as the "
      "engine forms the rows)")("disable-custom-all-reduce",
                                "the engine's custom all-reduce kernel off (vLLM's --disable-custom-all-reduce)")(
      "disable-symm-mem-all-reduce",
      "vLLM's symmetric-memory all-reduce off (VLLM_ALLREDUCE_USE_SYMM_MEM=0; vLLM before v0.10.2)")(
      "enable-nccl-nvls", "NCCL may run NVLink SHARP (SGLang's --enable-nccl-nvls; vLLM's and TRT-LLM's default)")(
      "disable-nccl-nvls", "NCCL runs no NVLink SHARP (NCCL_NVLS_ENABLE=0; SGLang's default)")(
      "disable-nccl-pxn",
      "NCCL_PXN_DISABLE=1: a send between nodes leaves through the sender's own NIC, not the receiver's rail's")(
      "max-num-seqs", po::value<int64_t>(), "scheduler: sequences per step")(
      "max-num-batched-tokens", po::value<int64_t>(), "scheduler: tokens per step")("block-size", po::value<int64_t>(),
                                                                                    "KV block size in tokens")(
      "max-model-len", po::value<int64_t>(), "prompt + output limit (default: the model's context)")(
      "gpu-memory-utilization", po::value<double>(), "fraction of GPU memory vLLM may use")(
      "host-overhead-ms", po::value<double>(), "host time per step (default: the engine's)")(
      "async-scheduling", "the host forms the next step while the GPU runs this one (the engines' default)")(
      "no-async-scheduling", "the GPU waits for the host's whole time between steps (vLLM before v0.14)")(
      "prefix-caching", "enable prefix caching (Mooncake hash_ids)")("no-chunked-prefill", "disable chunked prefill")(
      "router", po::value<std::string>(), "round-robin, least-outstanding or least-kv")(
      "speculative-method", po::value<std::string>(), "speculative decoding's drafter: mtp, eagle, eagle3 or ngram")(
      "num-speculative-tokens", po::value<int64_t>(), "speculative decoding: draft tokens per step (0: off)")(
      "draft-weight-dtype", po::value<std::string>(),
      "speculative decoding: the drafter's weight type (default: the model's)")(
      "acceptance", po::value<std::string>(),
      "speculative decoding: a per-token acceptance rate (0.8) or per-position rates (0.8,0.6,0.45)")(
      "prefill-plan", po::value<std::string>(), "disaggregated: each prefill replica's plan (tp=8,pp=1)")(
      "decode-plan", po::value<std::string>(), "disaggregated: each decode replica's plan")(
      "prefill-replicas", po::value<int64_t>(), "disaggregated: prefill replicas (default 1)")(
      "decode-replicas", po::value<int64_t>(), "disaggregated: decode replicas (default 1)")(
      "kv-transfer", po::value<std::string>(), "disaggregated: after-prefill or layerwise")(
      "requests", po::value<int64_t>(), "number of requests")("duration", po::value<double>(),
                                                              "stop sending after this many seconds")(
      "rate", po::value<std::string>(), "requests per second, or inf")("burstiness", po::value<double>(),
                                                                       "Gamma arrivals' shape (1: Poisson)")(
      "max-concurrency", po::value<int64_t>(), "closed loop: at most this many requests in flight")(
      "input-len", po::value<std::string>(), "prompt lengths: 512, uniform:128-1024, lognormal:M,S, sharegpt-input")(
      "output-len", po::value<std::string>(), "output lengths, same forms")(
      "trace", po::value<std::string>(), "replay a Mooncake JSONL or Azure CSV trace")(
      "time-scale", po::value<double>(), "multiply trace times by this")("seed", po::value<int64_t>(), "random seed")(
      "degrade", po::value<std::vector<std::string>>(),
      "what-if: ELEMENT=F or ELEMENT-ELEMENT=F, links at F of their "
      "rate (repeatable)")("fail", po::value<std::vector<std::string>>(),
                           "what-if: ELEMENT, its links gone (repeatable)")(
      "straggler", po::value<std::vector<std::string>>(), "what-if: GPU=F, its kernels F times as long (repeatable)");
  for (const auto& option : all.options()) {
    if (!skip.count(option->long_name())) options.add(option);
  }
}

Status ApplyScenarioFlags(const po::variables_map& raw, Scenario& s, const std::set<std::string>& skip) {
  const FilteredFlags vm{raw, skip};
  auto str = [&](const char* flag, const char* field, std::string* target) {
    if (!vm.count(flag)) return;
    *target = vm[flag].as<std::string>();
    s.where[field] = std::string("--") + flag;
  };
  auto num = [&](const char* flag, const char* field, double* target) {
    if (!vm.count(flag)) return;
    *target = vm[flag].as<double>();
    s.where[field] = std::string("--") + flag;
  };
  auto whole = [&](const char* flag, const char* field, int64_t* target) {
    if (!vm.count(flag)) return;
    *target = vm[flag].as<int64_t>();
    s.where[field] = std::string("--") + flag;
  };
  // A pair of flags that turn one setting on and off: at most one of them.
  auto on_off = [&](const char* on, const char* off, const char* field, std::optional<bool>* target) -> Status {
    if (vm.count(on) && vm.count(off)) {
      return InvalidArgument(std::string("--") + on + " and --" + off + ": give one of them");
    }
    for (const char* flag : {on, off}) {
      if (!vm.count(flag)) continue;
      *target = flag == on;
      s.where[field] = std::string("--") + flag;
    }
    return Status();
  };
  str("topology", "deployment.topology", &s.topology);
  str("model", "deployment.model", &s.model);
  str("plan", "deployment.plan", &s.plan);
  str("placement", "deployment.placement", &s.placement);
  str("gpus", "deployment.gpus", &s.gpus);
  str("weight-dtype", "deployment.weight_dtype", &s.weight_dtype);
  str("kv-dtype", "deployment.kv_cache_dtype", &s.kv_cache_dtype);
  str("engine", "deployment.engine", &s.engine);
  str("network", "deployment.network", &s.network);
  str("calibration", "deployment.calibration", &s.calibration);
  str("iterations", "deployment.iterations", &s.iterations);
  str("nccl-version", "deployment.nccl_version", &s.nccl_version);
  num("expert-imbalance", "deployment.expert_imbalance", &s.expert_imbalance);
  str("expert-routing", "deployment.expert_routing", &s.expert_routing);
  num("routing-skew", "deployment.routing_skew", &s.routing_skew);
  str("ep-overlap", "deployment.ep_overlap", &s.ep_overlap);
  str("ep-exchange", "deployment.ep_exchange", &s.ep_exchange);
  if (vm.count("disable-custom-all-reduce")) {
    s.custom_all_reduce = false;
    s.where["deployment.custom_all_reduce"] = "--disable-custom-all-reduce";
  }
  if (vm.count("disable-symm-mem-all-reduce")) {
    s.symm_mem_all_reduce = false;
    s.where["deployment.symm_mem_all_reduce"] = "--disable-symm-mem-all-reduce";
  }
  WIRESIM_RETURN_IF_ERROR(on_off("enable-nccl-nvls", "disable-nccl-nvls", "deployment.nccl_nvls", &s.nccl_nvls));
  if (vm.count("disable-nccl-pxn")) {
    s.nccl_pxn = false;
    s.where["deployment.nccl_pxn"] = "--disable-nccl-pxn";
  }
  whole("max-num-seqs", "scheduler.max_num_seqs", &s.max_num_seqs);
  whole("max-num-batched-tokens", "scheduler.max_num_batched_tokens", &s.max_num_batched_tokens);
  whole("block-size", "scheduler.block_size", &s.block_size);
  whole("max-model-len", "scheduler.max_model_len", &s.max_model_len);
  num("gpu-memory-utilization", "scheduler.gpu_memory_utilization", &s.gpu_memory_utilization);
  if (vm.count("gpu-memory-utilization") && !(s.gpu_memory_utilization > 0 && s.gpu_memory_utilization <= 1)) {
    std::ostringstream given;
    given << s.gpu_memory_utilization;
    return InvalidArgument("--gpu-memory-utilization " + given.str() +
                           ": expected a fraction of the GPU's memory, greater than 0 and at most 1");
  }
  str("router", "scheduler.router", &s.router);
  if (vm.count("host-overhead-ms")) {
    s.host_overhead_ms = vm["host-overhead-ms"].as<double>();
    s.where["scheduler.host_overhead_ms"] = "--host-overhead-ms";
  }
  WIRESIM_RETURN_IF_ERROR(
      on_off("async-scheduling", "no-async-scheduling", "scheduler.async_scheduling", &s.async_scheduling));
  if (vm.count("prefix-caching")) {
    s.enable_prefix_caching = true;
    s.where["scheduler.enable_prefix_caching"] = "--prefix-caching";
  }
  if (vm.count("no-chunked-prefill")) {
    s.enable_chunked_prefill = false;
    s.where["scheduler.enable_chunked_prefill"] = "--no-chunked-prefill";
  }
  str("speculative-method", "speculative.method", &s.speculative_method);
  whole("num-speculative-tokens", "speculative.num_speculative_tokens", &s.num_speculative_tokens);
  str("draft-weight-dtype", "speculative.draft_weight_dtype", &s.draft_weight_dtype);
  if (vm.count("acceptance")) {
    const std::string text = vm["acceptance"].as<std::string>();
    s.acceptance.clear();
    for (std::string_view item : Split(text, ',')) {
      double v = 0;
      if (!ParseFiniteNumber(Trim(item), &v)) {
        return InvalidArgument("--acceptance " + text +
                               ": expected a per-token rate (0.8) or per-position rates separated by commas "
                               "(0.8,0.6,0.45)");
      }
      s.acceptance.push_back(v);
    }
    s.where["speculative.acceptance"] = "--acceptance";
  }
  str("prefill-plan", "disaggregation.prefill.plan", &s.prefill_plan);
  str("decode-plan", "disaggregation.decode.plan", &s.decode_plan);
  whole("prefill-replicas", "disaggregation.prefill.replicas", &s.prefill_replicas);
  whole("decode-replicas", "disaggregation.decode.replicas", &s.decode_replicas);
  str("kv-transfer", "disaggregation.kv_transfer", &s.kv_transfer);
  for (const char* flag : {"prefill-plan", "decode-plan", "prefill-replicas", "decode-replicas", "kv-transfer"}) {
    if (vm.count(flag)) s.disaggregated = true;
  }
  whole("requests", "workload.requests", &s.requests);
  num("duration", "workload.duration_s", &s.duration_s);
  if (vm.count("rate")) {
    const std::string r = vm["rate"].as<std::string>();
    s.where["workload.rate"] = "--rate";
    if (r == "inf") {
      s.rate_inf = true;
    } else {
      double v = 0;
      if (!ParseFiniteNumber(r, &v) || !(v > 0)) {
        return InvalidArgument("--rate " + r + ": expected requests per second (a positive number) or inf");
      }
      s.rate = v;
      s.rate_inf = false;
    }
  }
  num("burstiness", "workload.burstiness", &s.burstiness);
  whole("max-concurrency", "workload.max_concurrency", &s.max_concurrency);
  str("input-len", "workload.input_len", &s.input_len);
  str("output-len", "workload.output_len", &s.output_len);
  if (vm.count("trace")) {
    s.trace = vm["trace"].as<std::string>();
    s.where["workload.trace"] = "--trace";
  }
  num("time-scale", "workload.time_scale", &s.time_scale);
  whole("seed", "workload.seed", &s.seed);
  // What-ifs: the flags add to the scenario's [what_if] table.
  auto each = [&](const char* flag, Status (*add)(const std::string&, const std::string&, WhatIfs*)) -> Status {
    if (!vm.count(flag)) return Status::Ok();
    for (const std::string& v : vm[flag].as<std::vector<std::string>>()) {
      WIRESIM_RETURN_IF_ERROR(add(v, std::string("--") + flag, &s.what_if));
    }
    return Status::Ok();
  };
  WIRESIM_RETURN_IF_ERROR(each("degrade", AddDegrade));
  WIRESIM_RETURN_IF_ERROR(each("fail", AddFailure));
  WIRESIM_RETURN_IF_ERROR(each("straggler", AddStraggler));
  return Status::Ok();
}

Status ApplySloFlag(const std::string& text, Scenario& s) {
  for (std::string_view view : Split(text, ',')) {
    const std::string item(view);
    const size_t eq = item.find('=');
    const std::string key = item.substr(0, eq);
    double v = 0;
    const std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (eq == std::string::npos || !ParseFiniteNumber(value, &v) || !(v > 0)) {
      return InvalidArgument("--slo " + text + ": expected ttft=MS,tpot=MS,e2el=MS (positive milliseconds)");
    }
    if (key == "ttft") {
      s.slo_ttft_ms = v;
      s.where["slo.ttft_ms"] = "--slo";
    } else if (key == "tpot") {
      s.slo_tpot_ms = v;
      s.where["slo.tpot_ms"] = "--slo";
    } else if (key == "e2el") {
      s.slo_e2el_ms = v;
      s.where["slo.e2el_ms"] = "--slo";
    } else {
      return InvalidArgument("--slo " + text + ": unknown SLO '" + key + "' (expected ttft, tpot or e2el)");
    }
  }
  return Status::Ok();
}

Result<Scenario> ScenarioFromCommandLine(AppContext& ctx, const po::variables_map& vm, const std::string& scenario_file,
                                         const std::string& slo, const std::set<std::string>& skip) {
  Scenario s;
  bool users_file = false;  // the scenario came from the user, not from wiresim's shipped default
  if (!scenario_file.empty() || !(vm.count("topology") && vm.count("model"))) {
    WIRESIM_ASSIGN_OR_RETURN(SourceFile file,
                             ReadInput(ctx, scenario_file.empty() ? "default" : scenario_file, InputKind::kScenario));
    users_file = !IsShippedFile(file);
    WIRESIM_ASSIGN_OR_RETURN(s, LoadScenario(file));
  } else {
    s.name = "command line";
  }
  WIRESIM_RETURN_IF_ERROR(ApplyScenarioFlags(vm, s, skip));
  // --duration without --requests bounds the run by time alone: a count the user never gave (a shipped scenario's,
  // or the built-in one) would cut it short. A count from the user's own scenario file stays.
  if (vm.count("duration") && !vm.count("requests") && !(users_file && s.where.count("workload.requests"))) {
    s.requests = 0;
    s.where["workload.requests"] = "--duration without --requests (no count)";
  }
  if (!slo.empty()) WIRESIM_RETURN_IF_ERROR(ApplySloFlag(slo, s));
  WIRESIM_RETURN_IF_ERROR(ValidateScenario(s));
  return s;
}

}  // namespace wiresim::app
