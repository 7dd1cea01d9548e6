// Internal to the app: the options of `wiresim model show`, and the part of it that shows a plan (model_plan_view.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/app/verbs.h"
#include "sim/core/status.h"
#include "sim/model/model_spec.h"
#include "sim/parallel/memory.h"

namespace wiresim::app {

struct ModelShowOptions {
  std::string model, plan, gpu = "h100", topology, placement = "packed", batch = "prefill=1x2048,decode=64x2048";
  std::string weight_dtype, kv_dtype;
  std::string engine = "vllm";  // whose KV budget and scheduler defaults size the memory
  MemoryOptions memory;
  bool memory_fraction_given = false;  // --gpu-memory-utilization given (else SGLang's is its own default)
  std::optional<double> reserve_gib;   // unset: DefaultRuntimeReserve(plan)
  // Unset: vLLM's defaults for the GPU of rank 0 (VllmSchedulerDefaults).
  std::optional<int64_t> max_num_seqs, max_num_batched_tokens;
  double imbalance = 1.0;
  std::string ep_exchange = "auto";  // StepGraphOptions::ParseEpExchange; auto: the engine's
  int rank = 0;
  bool json = false;
  std::string calibration;  // a calibration profile: measured GEMMs and HBM bandwidth
};

// The plan part of `model show`: memory, KV capacity and the step graph. Prints it, or fills `j` (under --json).
Status ShowPlan(AppContext& ctx, const ModelShowOptions& o, const ModelSpec& m, nlohmann::ordered_json* j);

}  // namespace wiresim::app
