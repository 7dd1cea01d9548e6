// DraftModel: the drafter of speculative decoding as the step graph runs it and the memory plan holds it.
#pragma once

#include <optional>

#include "sim/core/dtype.h"

namespace wiresim {

// Speculative decoding's drafter as vLLM's EagleProposer runs it (vllm/v1/spec_decode/eagle.py, propose): after the
// target model and its sampling, on the last pipeline stage, `passes` forward passes of one decoder layer: the first
// over every row of the batch (the drafter's own KV cache follows the target's), each later one over one token per
// sequence (DraftPassBatch); each pass projects the token's embedding and the hidden state (2h -> h: MTP's eh_proj,
// EAGLE's fc), runs the layer, and picks its draft token greedily from the LM head's logits of one row per sequence.
struct DraftModel {
  int passes = 0;    // draft tokens per step (num_speculative_tokens); 0: no drafter in the graph
  bool moe = false;  // the layer has an MoE block (DeepSeek's MTP module), else a dense MLP
  // The drafter's linear layers' stored type when it is not the target's (a quantized checkpoint often keeps its MTP
  // layer in bf16: NVIDIA's nvfp4 DeepSeek-R1 does).
  std::optional<DataType> weight_dtype;
};

}  // namespace wiresim
