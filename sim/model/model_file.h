// Reading a model: a TOML file with the field names HF config.json uses (workloads/models/*.toml), or a HF
// config.json exactly as published. Both go through the same rules: MoE aliases (num_local_experts,
// n_routed_experts, num_experts), moe_intermediate_size, explicit head_dim, a text_config wrapper, dtype or
// torch_dtype, and quantization_config for the weight type. docs/formats/model.md is the reference.
//
//   WIRESIM_ASSIGN_OR_RETURN(SourceFile file, reader.Read("workloads/models/llama-3.1-70b.toml", ""));
//   WIRESIM_ASSIGN_OR_RETURN(ModelSpec model, LoadModel(file));
//
// A TOML file rejects keys it does not know (a typo is an error); a config.json ignores keys that do not change
// shapes or bytes (rope_theta, bos_token_id, ...), since HF configs carry many.
#pragma once

#include "sim/core/source.h"
#include "sim/core/status.h"
#include "sim/model/model_spec.h"

namespace wiresim {

Result<ModelSpec> ParseModelToml(const SourceFile& file);
Result<ModelSpec> ParseHfConfigJson(const SourceFile& file);
// JSON when the name ends in .json or the text starts with '{', else TOML.
Result<ModelSpec> LoadModel(const SourceFile& file);

// Checks the rules a spec must satisfy whatever its origin (heads divisible by KV heads, top-k <= experts, ...).
// `where` prefixes the messages (a file name).
Status ValidateModel(const ModelSpec& model, const std::string& where);

}  // namespace wiresim
