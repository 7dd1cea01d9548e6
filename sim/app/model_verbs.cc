// `wiresim model show`: a model's shapes, parameters, KV bytes and FLOPs per token; with --plan, what
// model_plan_view.cc shows of the plan (memory per GPU, the KV tokens that fit, the step graph of one iteration).
#include <algorithm>
#include <cstdio>
#include <functional>
#include <iomanip>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string_view>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "sim/app/calibration_input.h"
#include "sim/app/cli.h"
#include "sim/app/model_plan_view.h"
#include "sim/app/number_format.h"
#include "sim/app/options.h"
#include "sim/app/topology_input.h"
#include "sim/app/verbs.h"
#include "sim/collective/collective_timing.h"
#include "sim/compute/roofline.h"
#include "sim/core/numeric_field.h"
#include "sim/core/text.h"
#include "sim/model/model_file.h"
#include "sim/model/parameters.h"
#include "sim/parallel/memory.h"
#include "sim/parallel/step_graph.h"
#include "sim/serving/engine.h"
#include "sim/topology/topology_file.h"

namespace wiresim::app {
namespace po = boost::program_options;
using Json = nlohmann::ordered_json;

namespace {

std::string Billions(int64_t n) { return Fixed(static_cast<double>(n) / 1e9, 2) + " B"; }
std::string Gb(double bytes) { return Fixed(bytes / 1e9, 1); }

std::string Describe(const ModelSpec& m) {
  std::ostringstream s;
  s << "hidden " << m.hidden_size << ", " << m.num_layers << " layers";
  if (m.IsMoe()) s << " (" << m.MoeLayerCount() << " MoE, " << m.num_layers - m.MoeLayerCount() << " dense)";
  if (m.attention == AttentionKind::kMultiLatent) {
    s << ", MLA with " << m.num_attention_heads << " heads (q/k " << m.QkHeadDim() << ", v " << m.VHeadDim()
      << ", latent " << m.mla.kv_lora_rank << " + rope " << m.mla.qk_rope_head_dim << ")";
  } else {
    s << ", " << m.num_attention_heads << " heads / " << m.num_kv_heads << " KV heads x " << m.head_dim;
  }
  if (m.intermediate_size > 0 && m.MoeLayerCount() < m.num_layers) s << ", MLP " << m.intermediate_size;
  if (m.IsMoe()) {
    s << ", " << m.moe.num_experts << " experts (top-" << m.moe.experts_per_token;
    if (m.moe.expert_groups > 1 && m.moe.topk_groups < m.moe.expert_groups) {
      s << " in " << m.moe.topk_groups << " of " << m.moe.expert_groups << " groups";
    }
    s << ") of " << m.moe.expert_intermediate_size;
    if (m.moe.num_shared_experts > 0) s << " + " << m.moe.num_shared_experts << " shared";
  }
  s << ", vocab " << m.vocab_size;
  if (m.tie_word_embeddings) s << " (tied LM head)";
  return s.str();
}

// Everything `model show` prints without a plan.
Json ModelJson(const ModelSpec& m) {
  const ParameterCounts p = CountParameters(m);
  const FlopsPerToken f = CountFlopsPerToken(m);
  Json j;
  j["name"] = m.name;
  j["model_type"] = m.model_type;
  j["source"] = m.source;
  j["shape"] = Describe(m);
  j["dtypes"] = {{"weights", ToString(m.weight_dtype)},
                 {"activations", ToString(m.activation_dtype)},
                 {"kv_cache", ToString(m.kv_cache_dtype)}};
  j["parameters"] = {
      {"total", p.total},         {"active_per_token", p.active},       {"attention", p.attention},
      {"dense_mlp", p.dense_mlp}, {"routed_experts", p.routed_experts}, {"shared_experts", p.shared_experts},
      {"router", p.router},       {"embedding", p.embedding},           {"lm_head", p.lm_head},
      {"norms", p.norms}};
  j["weight_bytes"] = ModelWeightBytes(m);
  j["kv_bytes_per_token"] = m.KvBytesPerToken();
  j["kv_bytes_per_token_per_layer"] = m.KvBytesPerToken() / static_cast<double>(m.num_layers);
  j["flops_per_token"] = {{"linear", f.linear}, {"attention_per_context_token", f.attention_per_context_token}};
  return j;
}

void PrintModel(std::ostream& out, const ModelSpec& m) {
  const ParameterCounts p = CountParameters(m);
  const FlopsPerToken f = CountFlopsPerToken(m);
  out << m.name << (m.model_type.empty() ? "" : " (" + m.model_type + ")") << "  " << m.source << "\n";
  out << "  " << Describe(m) << "\n";
  out << "  types: weights " << ToString(m.weight_dtype) << ", activations " << ToString(m.activation_dtype)
      << ", KV cache " << ToString(m.kv_cache_dtype) << "\n\n";
  out << "Parameters      " << Billions(p.total) << " total, " << Billions(p.active) << " active per token\n";
  out << "  attention " << Billions(p.attention);
  if (p.dense_mlp > 0) out << ", dense MLP " << Billions(p.dense_mlp);
  if (p.routed_experts > 0) out << ", routed experts " << Billions(p.routed_experts);
  if (p.shared_experts > 0) out << ", shared experts " << Billions(p.shared_experts);
  if (p.router > 0) out << ", routers " << Billions(p.router);
  out << ", embedding " << Billions(p.embedding);
  if (p.lm_head > 0) out << ", LM head " << Billions(p.lm_head);
  out << "\n";
  out << "Weights         " << Gb(ModelWeightBytes(m)) << " GB\n";
  out << "KV cache        " << Grouped(static_cast<int64_t>(m.KvBytesPerToken())) << " bytes per token ("
      << Grouped(static_cast<int64_t>(m.KvBytesPerToken() / static_cast<double>(m.num_layers))) << " per layer)\n";
  out << "FLOPs per token " << Fixed(f.linear / 1e9, 1) << " GFLOP in linear layers + "
      << Fixed(f.attention_per_context_token / 1e6, 2) << " MFLOP of attention per token of context\n";
}

Status ApplyDtypes(const ModelShowOptions& o, ModelSpec& m) {
  if (!o.weight_dtype.empty()) {
    std::optional<DataType> t = ParseDataType(o.weight_dtype);
    if (!t) return InvalidArgument("--weight-dtype " + o.weight_dtype + ": expected bf16, fp16, fp8, int8 or int4");
    m.weight_dtype = *t;
  }
  if (!o.kv_dtype.empty() && o.kv_dtype != "auto") {
    std::optional<DataType> t = ParseDataType(o.kv_dtype);
    if (!t) return InvalidArgument("--kv-cache-dtype " + o.kv_dtype + ": expected auto, bf16, fp16 or fp8");
    m.kv_cache_dtype = *t;
  }
  return Status::Ok();
}

// No sequence of the batch may be longer than the model's context (max_position_embeddings, when it has one). The
// error names the item as written in `text` (which ParseBatch has accepted).
Status CheckBatchFitsContext(const std::string& text, const ModelSpec& m) {
  const int64_t limit = m.max_position_embeddings;
  if (limit <= 0) return Status::Ok();
  for (std::string_view item : Split(text, ',')) {
    WIRESIM_ASSIGN_OR_RETURN(BatchShape one, ParseBatch(item));
    int64_t longest = 0;
    for (const PrefillChunk& p : one.prefills) longest = std::max(longest, p.context + p.tokens);
    for (int64_t c : one.decode_contexts) longest = std::max(longest, c);
    if (longest > limit) {
      return InvalidArgument("--batch " + std::string(item) + ": a sequence of " + Grouped(longest) +
                             " tokens is longer than " + m.name + "'s context of " + Grouped(limit) +
                             " tokens (max_position_embeddings)");
    }
  }
  return Status::Ok();
}

}  // namespace

int ModelShow(const Args& args, AppContext& ctx) {
  ModelShowOptions o;
  po::options_description options("options");
  options.add_options()("model", po::value(&o.model)->required(),
                        "MODEL, the first argument (--model is optional): a TOML spec or HF config.json, or a "
                        "shipped name (workloads/models/NAME.toml)")(
      "plan", po::value(&o.plan), "parallel plan: tp=8,pp=2,cp=1,dp=1,ep=1,sp=on (adds memory and the step graph)")(
      "gpu", po::value(&o.gpu)->default_value("h100"), "GPU model for every rank (without --topology)")(
      "topology", po::value(&o.topology),
      "topology file or shipped name: GPUs, their models, and the links collectives are timed on")(
      "placement", po::value(&o.placement)->default_value("packed"), "packed, strided, or GPU indices in rank order")(
      "batch", po::value(&o.batch)->default_value(o.batch),
      "the iteration: prefill=NxTOKENS[@CACHED],decode=NxCONTEXT")("weight-dtype", po::value(&o.weight_dtype),
                                                                   "override the weight type: bf16, fp8, int8, int4")(
      "kv-cache-dtype", po::value(&o.kv_dtype), "override the KV-cache type: auto, bf16, fp8")(
      "gpu-memory-utilization",
      po::value(&o.memory.gpu_memory_utilization)
          ->default_value(o.memory.gpu_memory_utilization, Short(o.memory.gpu_memory_utilization)),
      "fraction of each GPU's memory to use, in (0, 1] (vLLM's and TensorRT-LLM's default 0.9; SGLang's by the GPU "
      "and the plan, docs/engines.md)")(
      "runtime-reserve-GiB", po::value<double>(),
      "memory outside torch per GPU: NCCL and custom all-reduce buffers (default 0.25 GiB, 2.1 with collectives)")(
      "max-num-batched-tokens", po::value<int64_t>(),
      "tokens per step the activation memory is sized for (default: vLLM's for the GPU, 8192 on an H100, 2048 on "
      "an A100 or smaller)")("max-num-seqs", po::value<int64_t>(),
                             "sequences per step the sampler is sized for (default: vLLM's for the GPU, 1024 or 256)")(
      "expert-imbalance", po::value(&o.imbalance)->default_value(o.imbalance, Short(o.imbalance)),
      "the busiest EP rank's routed tokens over the average (>= 1)")(
      "ep-exchange", po::value(&o.ep_exchange)->default_value(o.ep_exchange),
      "auto (the engine's), alltoall (routed copies) or allgather (all-gather + reduce-scatter, as the engine forms "
      "the rows)")("rank", po::value(&o.rank)->default_value(0), "which rank's step graph to print")(
      "calibration", po::value(&o.calibration), "a calibration profile: kernel times from its measured GEMMs")(
      "engine", po::value(&o.engine)->default_value("vllm"),
      "vllm, sglang or trtllm: how the KV cache is budgeted (--gpu-memory-utilization is that engine's fraction) "
      "and the scheduler defaults")("json", "print JSON");
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (auto code = ParseOptions(args, ctx, "model show", "MODEL [--plan tp=8,pp=2 --gpu h100 | --topology T] [--json]",
                               "wiresim model show llama-3.1-70b --plan tp=8 --gpu h100 --batch decode=64x4096",
                               options, positional, vm)) {
    return *code;
  }
  o.json = vm.count("json") > 0;
  o.memory_fraction_given = !vm["gpu-memory-utilization"].defaulted();
  if (vm.count("runtime-reserve-GiB")) {
    const double gib = vm["runtime-reserve-GiB"].as<double>();
    if (!(gib >= 0 && gib <= 1e6)) {
      std::ostringstream given;
      given << gib;
      return ReportError(ctx, "model show",
                         InvalidArgument("--runtime-reserve-GiB " + given.str() + ": expected 0 to 10^6 GiB"));
    }
    o.reserve_gib = gib;
  }
  for (const char* name : {"max-num-seqs", "max-num-batched-tokens"}) {
    if (!vm.count(name)) continue;
    const int64_t v = vm[name].as<int64_t>();
    if (v < 1 || v > (int64_t{1} << 24)) {
      return ReportError(ctx, "model show",
                         InvalidArgument("--" + std::string(name) + " " + std::to_string(v) + ": expected 1 to 2^24"));
    }
    (std::string(name) == "max-num-seqs" ? o.max_num_seqs : o.max_num_batched_tokens) = v;
  }
  if (!o.topology.empty() && !vm["gpu"].defaulted()) {
    return ReportError(ctx, "model show",
                       InvalidArgument("--gpu " + o.gpu + " with --topology " + o.topology +
                                       ": the topology names its GPUs' models; give one or the other"));
  }
  if (o.topology.empty() && FindGpuSpec(o.gpu) == nullptr) {  // checked here too: without --plan it is not used
    return ReportError(
        ctx, "model show",
        InvalidArgument("--gpu " + o.gpu + ": no such GPU (known: " + std::string(KnownGpuNames()) + ")"));
  }
  const double utilization = o.memory.gpu_memory_utilization;
  if (!(utilization > 0 && utilization <= 1)) {
    std::ostringstream given;
    given << utilization;
    return ReportError(ctx, "model show",
                       InvalidArgument("--gpu-memory-utilization " + given.str() +
                                       ": expected a fraction of the GPU's memory, greater than 0 and at most 1"));
  }
  if (Status s = CheckNumber({}, "--expert-imbalance", o.imbalance, kExpertImbalance); !s.ok()) {
    return ReportError(ctx, "model show", s);
  }
  if (auto e = StepGraphOptions::ParseEpExchange(o.ep_exchange, false); !e.ok()) {
    return ReportError(ctx, "model show", InvalidArgument("--ep-exchange: " + e.status().message()));
  }
  auto file = ReadInput(ctx, o.model, InputKind::kModel);
  if (!file.ok()) return ReportError(ctx, "model show", file.status());
  auto model = LoadModel(*file);
  if (!model.ok()) return ReportError(ctx, "model show", model.status());
  if (Status s = ApplyDtypes(o, *model); !s.ok()) return ReportError(ctx, "model show", s);
  if (!vm["batch"].defaulted()) {
    Status s = ParseBatch(o.batch).status();
    if (s.ok()) s = CheckBatchFitsContext(o.batch, *model);
    if (!s.ok()) return ReportError(ctx, "model show", s);
  }
  Json j = ModelJson(*model);
  if (!o.json) PrintModel(ctx.out, *model);
  if (!o.plan.empty()) {
    if (Status s = ShowPlan(ctx, o, *model, o.json ? &j : nullptr); !s.ok()) {
      if (o.json && j.contains("plan")) ctx.out << j.dump(1) << "\n";  // the "does not fit" answer, with its numbers
      return ReportError(ctx, "model show", s);
    }
  }
  if (o.json) ctx.out << j.dump(1) << "\n";
  return kExitOk;
}

}  // namespace wiresim::app
