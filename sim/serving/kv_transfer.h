// Where a request's KV cache goes when a disaggregated deployment moves it from a prefill replica to a decode
// replica: for every layer, which GPU of the prefill replica sends which share to which GPU of the decode replica.
// A layer's KV is held by the pipeline stage that runs the layer, split over its TP ranks by KV head (each rank
// holds kv_heads / tp heads, or one head replicated over tp / kv_heads ranks; MLA's latent is whole on every rank).
// Each decode rank receives the heads it holds; a head several prefill ranks hold comes from one of them, picked by
// the decode rank's TP index so the senders share the work.
//
//   KvTransferLayout l = LayoutKvTransfer(llama70b, prefill_plan, prefill_gpus, decode_plan, decode_gpus);
//   // tp=8 -> tp=8: per layer 8 pieces, GPU i -> GPU 8 + i, 2 x 1 x 128 x 2 = 512 bytes per token each
#pragma once

#include <cstdint>
#include <vector>

#include "sim/model/model_spec.h"
#include "sim/parallel/placement.h"
#include "sim/parallel/plan.h"

namespace wiresim {

struct KvPiece {
  int src_gpu = 0;  // global GPU index of the prefill rank that sends
  int dst_gpu = 0;  // of the decode rank that receives
  double bytes_per_token = 0;
};

struct KvTransferLayout {
  std::vector<std::vector<KvPiece>> layers;  // by model layer; pieces in (src, dst) order
  // Every layer's pieces summed: the model's KV bytes per token when each head is sent once.
  double BytesPerToken() const;
};

// The layout between one replica of each role. Each plan's ranks are (tp, pp) with cp = dp = 1; `gpus` lists the
// replica's GPUs by rank (Placement::gpu_of_rank). REQUIRES: ValidatePlan accepted both plans for `model`.
KvTransferLayout LayoutKvTransfer(const ModelSpec& model, const ParallelPlan& prefill,
                                  const std::vector<int>& prefill_gpus, const ParallelPlan& decode,
                                  const std::vector<int>& decode_gpus);

// The pieces that one sending and receiving GPU pair carries: the layers in order and the bytes per token of each.
struct KvPairShare {
  int src_gpu = 0;
  int dst_gpu = 0;
  std::vector<int64_t> layers;  // ascending
  double bytes_per_token = 0;   // per layer (the same for every layer of the pair)
};
std::vector<KvPairShare> PairShares(const KvTransferLayout& layout);

}  // namespace wiresim
