#include "sim/serving/kv_transfer.h"

#include <map>
#include <utility>

#include "sim/core/check.h"
#include "sim/core/dtype.h"

namespace wiresim {
namespace {

// The KV "units" a rank of a `tp`-way group holds, of `units` in all: a contiguous run when tp <= units, else the
// one unit it shares with tp / units - 1 other ranks.
std::pair<int64_t, int64_t> UnitsOf(int64_t units, int tp, int rank) {
  if (tp <= units) {
    const int64_t per = units / tp;
    return {rank * per, (rank + 1) * per};
  }
  const int64_t u = rank / (tp / units);
  return {u, u + 1};
}

// The prefill TP rank that sends unit `u` to decode TP rank `dst_rank`.
int SenderOf(int64_t units, int tp, int64_t u, int dst_rank) {
  if (tp <= units) return static_cast<int>(u / (units / tp));
  const int holders = static_cast<int>(tp / units);
  return static_cast<int>(u) * holders + dst_rank % holders;
}

int StageOf(const std::vector<StageLayers>& stages, int64_t layer) {
  for (size_t s = 0; s < stages.size(); ++s) {
    if (layer < stages[s].end) return static_cast<int>(s);
  }
  return static_cast<int>(stages.size()) - 1;
}

}  // namespace

double KvTransferLayout::BytesPerToken() const {
  double total = 0;
  for (const std::vector<KvPiece>& layer : layers) {
    for (const KvPiece& p : layer) total += p.bytes_per_token;
  }
  return total;
}

KvTransferLayout LayoutKvTransfer(const ModelSpec& model, const ParallelPlan& prefill,
                                  const std::vector<int>& prefill_gpus, const ParallelPlan& decode,
                                  const std::vector<int>& decode_gpus) {
  WIRESIM_CHECK_EQ(prefill.cp * prefill.dp, 1);
  WIRESIM_CHECK_EQ(decode.cp * decode.dp, 1);
  WIRESIM_CHECK_EQ(static_cast<int>(prefill_gpus.size()), prefill.WorldSize());
  WIRESIM_CHECK_EQ(static_cast<int>(decode_gpus.size()), decode.WorldSize());
  const bool mla = model.attention == AttentionKind::kMultiLatent;
  const int64_t units = mla ? 1 : model.num_kv_heads;
  const double unit_bytes = static_cast<double>(model.KvElementsPerTokenPerLayer()) *
                            BytesPerElement(model.kv_cache_dtype) / static_cast<double>(units);
  const std::vector<StageLayers> pstages = SplitLayers(model.num_layers, prefill.pp);
  const std::vector<StageLayers> dstages = SplitLayers(model.num_layers, decode.pp);
  KvTransferLayout out;
  out.layers.resize(static_cast<size_t>(model.num_layers));
  for (int64_t l = 0; l < model.num_layers; ++l) {
    const int ps = StageOf(pstages, l);
    const int ds = StageOf(dstages, l);
    std::map<std::pair<int, int>, double> bytes;  // (src, dst) -> bytes per token
    for (int j = 0; j < decode.tp; ++j) {
      const int dst = decode_gpus[static_cast<size_t>(RankOf(decode, RankCoord{j, 0, 0, ds}))];
      const auto [first, end] = UnitsOf(units, decode.tp, j);
      for (int64_t u = first; u < end; ++u) {
        const int i = SenderOf(units, prefill.tp, u, j);
        const int src = prefill_gpus[static_cast<size_t>(RankOf(prefill, RankCoord{i, 0, 0, ps}))];
        bytes[{src, dst}] += unit_bytes;
      }
    }
    for (const auto& [pair, b] : bytes)
      out.layers[static_cast<size_t>(l)].push_back(KvPiece{pair.first, pair.second, b});
  }
  return out;
}

std::vector<KvPairShare> PairShares(const KvTransferLayout& layout) {
  std::map<std::pair<int, int>, KvPairShare> pairs;
  for (size_t l = 0; l < layout.layers.size(); ++l) {
    for (const KvPiece& p : layout.layers[l]) {
      KvPairShare& s = pairs[{p.src_gpu, p.dst_gpu}];
      s.src_gpu = p.src_gpu;
      s.dst_gpu = p.dst_gpu;
      s.layers.push_back(static_cast<int64_t>(l));
      s.bytes_per_token = p.bytes_per_token;
    }
  }
  std::vector<KvPairShare> out;
  for (auto& [key, s] : pairs) out.push_back(std::move(s));
  return out;
}

}  // namespace wiresim
