// A serving scenario: what `wiresim run` simulates. Read from a TOML file (workloads/scenarios/*.toml; the format
// is docs/formats/scenario.md) and overridden field by field by the command line, it stays plain text and numbers
// until the run resolves it against the topology and the model; every field remembers where it was given (file and
// line, or the flag), so an error in resolving it names that place.
//
//   WIRESIM_ASSIGN_OR_RETURN(Scenario s, LoadScenario(file));   // or Scenario::Defaults()
//   s.Set("deployment.plan", "tp=4,dp=2", "--plan");
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/app/what_if.h"
#include "sim/core/source.h"
#include "sim/core/status.h"

namespace wiresim::app {

struct Scenario {
  std::string name;  // the file it came from, or "command line"
  // [deployment]
  std::string topology, model, plan = "tp=1", placement = "packed", gpus, weight_dtype, kv_cache_dtype = "auto";
  std::string engine = "vllm", network = "analytical", calibration, iterations = "compiled";
  std::string nccl_version;  // empty: the calibration profile's, else the newest (docs/collectives.md section 6)
  double expert_imbalance = 1.0;
  // false: the engine's custom all-reduce kernel is off (vLLM's
  // --disable-custom-all-reduce; docs/engines.md).
  bool custom_all_reduce = true;
  // Whether NCCL may run NVLink SHARP (NVLS, NVLSTree); unset: the engine's default (off for SGLang, which sets
  // NCCL_NVLS_ENABLE from its --enable-nccl-nvls; docs/engines.md).
  std::optional<bool> nccl_nvls;
  // false: NCCL_PXN_DISABLE=1, point-to-point sends between nodes leave through the sender's own NIC instead of the
  // one on the receiver's rail (docs/collectives.md, point-to-point routes between nodes).
  bool nccl_pxn = true;
  // false: vLLM's symmetric-memory all-reduce off (VLLM_ALLREDUCE_USE_SYMM_MEM=0, and vLLM before v0.10.2): the
  // custom kernel keeps its 8 MiB limit and NCCL takes the rest (docs/engines.md).
  bool symm_mem_all_reduce = true;
  // [disaggregation]: prefill and decode on separate replicas (docs/serving.md); off unless the table or a flag
  // names it.
  bool disaggregated = false;
  std::string prefill_plan = "tp=1", decode_plan = "tp=1", kv_transfer = "after_prefill";
  int64_t prefill_replicas = 1, decode_replicas = 1;
  // Expert parallelism: routing "uniform" or "skewed" (Zipf exponent routing_skew); ep_overlap "none" or
  // "two-batch" (two micro-batches overlap each other's dispatch/combine; docs/serving.md).
  std::string expert_routing = "uniform", ep_overlap = "none";
  // ep_exchange "auto" (the engine's own, EngineGathersExperts: all-gathers, TensorRT-LLM's all-to-all on a
  // multi-node NVLink system), "alltoall" or "allgather" (StepGraphOptions::EpExchange).
  std::string ep_exchange = "auto";
  double routing_skew = 1.0;
  // [scheduler]
  int64_t max_num_seqs = 256, max_num_batched_tokens = 8192, block_size = 16, max_model_len = 0;
  bool enable_chunked_prefill = true, enable_prefix_caching = false;
  double gpu_memory_utilization = 0.9;
  std::optional<double> runtime_reserve_gib;  // unset: DefaultRuntimeReserve(plan) (docs/models.md)
  std::optional<double> host_overhead_ms;     // unset: the engine's default
  // Host work for the next step overlapped with the step in flight (vLLM's async scheduling); unset: the engine's
  // default (on for all three).
  std::optional<bool> async_scheduling;
  std::string router = "round-robin";
  // [speculative]: speculative decoding, off unless num_speculative_tokens > 0 (docs/serving.md). acceptance: one
  // per-token rate, or one per-position rate per draft token as vLLM logs them.
  std::string speculative_method = "mtp";
  int64_t num_speculative_tokens = 0;
  std::vector<double> acceptance;
  std::string draft_weight_dtype;  // the drafter's weight type; empty: the target's
  // [workload]
  int64_t requests = 1000, max_concurrency = 0, seed = 0, hash_block_tokens = 512;
  double duration_s = 0, rate = 1.0, burstiness = 1.0, time_scale = 1.0;
  bool rate_inf = false;
  std::string input_len = "sharegpt-input", output_len = "sharegpt-output", trace, trace_format = "auto";
  // [slo]
  double slo_ttft_ms = 0, slo_tpot_ms = 0, slo_e2el_ms = 0;
  // [report]
  std::vector<double> percentiles = {50, 90, 99};
  // [what_if]: degraded and failed links, straggling GPUs (empty: a healthy run).
  WhatIfs what_if;

  // Where each field was given ("default.toml:7" or "--plan"), by its dotted name.
  std::map<std::string, std::string> where;
  // "NAME (FIELD)" for messages: where the field came from.
  std::string At(const std::string& field) const;
};

// Checks every field's value after the file and the flags have set it: counts, rates, fractions and times in the
// ranges a run can represent. Errors name where the field was given (file and line, or the flag).
Status ValidateScenario(const Scenario& s);

// Reads a scenario file. Unknown tables and keys are errors naming file, line and field; so are values of the
// wrong type. Ranges are ValidateScenario's, once the flags have had their say (its errors name the file and line a
// value came from).
Result<Scenario> LoadScenario(const SourceFile& file);

}  // namespace wiresim::app
