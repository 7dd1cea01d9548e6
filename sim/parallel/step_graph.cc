#include "sim/parallel/step_graph.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "sim/parallel/ep_traffic.h"
#include "sim/parallel/shard.h"
#include "sim/parallel/step_graph_instances.h"
#include "sim/parallel/step_graph_options.h"

namespace wiresim {
namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

void SortUnique(std::vector<int32_t>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

// Builds the program of one rank. Token counts follow the batch through the layer: `tokens` is what this rank's
// GEMMs see (its CP share of the DP rank's batch, every TP rank the same), and the norms see 1/tp of it under
// sequence parallelism.
class RankProgramBuilder {
 public:
  RankProgramBuilder(const ModelSpec& m, const ParallelPlan& p, const ParallelGroups& groups,
                     const Placement& placement, const BatchShape& batch, const StepGraphOptions& o,
                     const internal::EpTraffic& ep, int rank)
      : m_(m),
        p_(p),
        groups_(groups),
        placement_(placement),
        batch_(batch),
        o_(o),
        ep_(ep),
        s_(LocalShapesOf(m, p)),
        rank_(rank),
        coord_(CoordOf(p, rank)),
        a_(BytesPerElement(m.activation_dtype)),
        h_(m.hidden_size),
        tokens_(CeilDiv(batch.Tokens(), p.cp)),
        phase_(batch.phase()),
        attention_(m, p) {
    SetWeightType(m.weight_dtype);
    cur_ = &batch_;
    if (o_.two_batch_overlap && p_.ep > 1) halves_ = SplitInTwo(batch_);
  }

  GpuProgram Build() {
    GpuProgram program;
    program.rank = rank_;
    program.gpu = placement_.GpuOf(rank_);
    program.coord = coord_;
    ops_ = &program.ops;
    ops_->reserve(static_cast<size_t>(32 * (o_.one_layer_per_kind ? 2 : m_.num_layers / p_.pp + 2)));
    const std::vector<StageLayers> stages = SplitLayers(m_.num_layers, p_.pp);
    const StageLayers& stage = stages[static_cast<size_t>(coord_.pp)];
    const bool first = coord_.pp == 0, last = coord_.pp == p_.pp - 1;
    if (first) {
      Embedding();
    } else {
      PipelineTransfer(/*receive=*/true);
    }
    bool dense_seen = false, moe_seen = false;
    for (int64_t l = stage.first; l < stage.end; ++l) {
      if (o_.one_layer_per_kind) {
        bool& seen = m_.IsMoeLayer(static_cast<int>(l)) ? moe_seen : dense_seen;
        if (seen) continue;
        seen = true;
      }
      Layer(static_cast<int>(l));
    }
    if (last) {
      Head();
      Drafter();
    } else {
      PipelineTransfer(/*receive=*/false);
    }
    return program;
  }

 private:
  // --- emitting -------------------------------------------------------------------------------------------------
  void Kernel(std::string_view name, const KernelShape& shape, Phase phase) {
    if (shape.kind == KernelKind::kGemm || shape.kind == KernelKind::kGroupedGemm) {
      if (shape.m == 0) return;
    } else if (shape.flops == 0 && shape.bytes == 0) {
      return;
    }
    StepOp op;
    op.kind = StepOp::Kind::kKernel;
    op.stream = Stream::kCompute;
    op.name = name;
    op.layer = layer_;
    op.phase = phase;
    op.kernel = shape;
    Push(std::move(op));
  }

  // Appends an op after the op before it (or after every op of the group that just ended). Returns its index.
  int Push(StepOp op) {
    if (!after_.empty()) {
      op.deps = std::move(after_);
      after_.clear();
    } else if (!ops_->empty()) {
      op.deps = {static_cast<int32_t>(ops_->size() - 1)};
    }
    ops_->push_back(std::move(op));
    return static_cast<int>(ops_->size() - 1);
  }
  void Kernel(std::string_view name, const KernelShape& shape) { Kernel(name, shape, phase_); }

  // Returns the op's index, or -1 when there is nothing to send (a group of one, or no bytes).
  int Collective(std::string_view name, CollectiveOp op, ParallelDim dim, std::vector<int> gpus, double bytes,
                 Phase phase) {
    if (gpus.size() < 2 || bytes <= 0) return -1;
    if (split_ && comm_tail_ >= 0) {
      // One communication stream: after the collective before it, whichever micro-batch posted that.
      if (after_.empty() && !ops_->empty()) after_ = {static_cast<int32_t>(ops_->size() - 1)};
      after_.push_back(comm_tail_);
      SortUnique(&after_);
    }
    StepOp s;
    s.kind = StepOp::Kind::kCollective;
    s.stream = Stream::kCommunication;
    s.name = name;
    s.layer = layer_;
    s.phase = phase;
    s.dim = dim;
    s.collective.op = op;
    s.collective.gpus = std::move(gpus);
    s.collective.bytes = bytes;
    s.collective.dtype = m_.activation_dtype;
    const int index = Push(std::move(s));
    if (split_) comm_tail_ = index;
    return index;
  }
  const std::vector<int>& Group(ParallelDim dim) const { return groups_.Of(dim, rank_); }

  // A linear layer of this GPU's shard: y[tokens, n] = x[tokens, k] W.
  KernelShape Linear(int64_t tokens, int64_t n, int64_t k) const {
    return GemmKernel(tokens, n, k, linear_dtype_, weight_dtype_);
  }

  // The stored type of the linear layers being emitted (the target's, or the drafter's own). They compute in it when
  // it has a tensor-core path (fp8, int8: W8A8), else in the activation type with weights dequantized on load (int4
  // weight-only).
  void SetWeightType(DataType w) {
    weight_dtype_ = w;
    linear_dtype_ =
        (w == DataType::kInt4 || w == DataType::kBFloat16 || w == DataType::kFloat16 || w == DataType::kFloat32)
            ? m_.activation_dtype
            : w;
  }
  KernelShape Unquantized(int64_t tokens, int64_t n, int64_t k) const {
    return GemmKernel(tokens, n, k, m_.activation_dtype, m_.activation_dtype);
  }
  KernelShape Bytes(double elements) const { return MemoryBoundKernel(elements * a_); }

  bool SequenceParallel() const { return p_.sequence_parallel && p_.tp > 1; }
  bool Gathers() const { return o_.ep_exchange == StepGraphOptions::EpExchange::kAllGather; }
  bool GathersOverDp() const { return GathersOverDpGroup(p_, o_.ep_exchange); }
  // SGLang's FULL-mode MLPs (EpGatherFormat::mlps_over_group): with one GPU per DP rank, the shared experts and the
  // dense layers' MLPs run split over the EP group on the gathered rows.
  bool MlpsOverGroup() const {
    return Gathers() && o_.ep_gather.mlps_over_group && p_.ep > 1 && p_.tp == 1 && p_.cp == 1 && m_.IsMoe() &&
           Group(ParallelDim::kEp).size() > 1;
  }
  // ep > 1 with tp > 1: attention's output is reduce-scattered so each TP rank exchanges 1/tp of the tokens, and
  // all-gathered back after the MoE; in vLLM's layout (GathersOverDp) it stays an all-reduce.
  bool SplitsTokensOverTp() const { return p_.ep > 1 && p_.tp > 1 && !GathersOverDp(); }
  // Tokens of the residual stream on this rank: all of its share, or 1/tp of it under sequence parallelism.
  int64_t ResidualTokens() const { return SequenceParallel() ? CeilDiv(tokens_, p_.tp) : tokens_; }

  // The TP reduction after a row-parallel layer: all-reduce, or reduce-scatter under sequence parallelism (and
  // before an expert-parallel MoE block, whose dispatch starts from 1/tp of the tokens).
  void TpReduce(bool scatter) {
    if (p_.tp == 1) return;
    const double bytes = static_cast<double>(tokens_ * h_) * a_;
    if (scatter) {
      Collective("tp_reduce_scatter", CollectiveOp::kReduceScatter, ParallelDim::kTp, Group(ParallelDim::kTp), bytes,
                 phase_);
    } else {
      Collective("tp_all_reduce", CollectiveOp::kAllReduce, ParallelDim::kTp, Group(ParallelDim::kTp), bytes, phase_);
    }
  }
  void TpGather(std::string_view name) {
    if (p_.tp == 1) return;
    Collective(name, CollectiveOp::kAllGather, ParallelDim::kTp, Group(ParallelDim::kTp),
               static_cast<double>(tokens_ * h_) * a_, phase_);
  }

  // --- model parts ----------------------------------------------------------------------------------------------
  void Embedding() {
    layer_ = -1;
    // Vocab-parallel lookup: each rank reads its rows (zeros elsewhere), then the TP group sums.
    Kernel("embedding", Bytes(2.0 * static_cast<double>(tokens_ * h_)));
    TpReduce(SequenceParallel());
  }

  void PipelineTransfer(bool receive) {
    Join();
    layer_ = receive ? -1 : static_cast<int>(m_.num_layers);
    const std::vector<int>& pp = Group(ParallelDim::kPp);
    const int me = groups_.IndexIn(ParallelDim::kPp, rank_);
    const int peer = receive ? pp[static_cast<size_t>(me - 1)] : pp[static_cast<size_t>(me + 1)];
    const int self = pp[static_cast<size_t>(me)];
    // Hidden state and residual (vLLM's IntermediateTensors for Llama-style models).
    const double bytes = 2.0 * static_cast<double>(ResidualTokens() * h_) * a_;
    Collective(receive ? "pp_recv" : "pp_send", CollectiveOp::kSend, ParallelDim::kPp,
               receive ? std::vector<int>{peer, self} : std::vector<int>{self, peer}, bytes, phase_);
  }

  void Layer(int layer) { Layer(layer, m_.IsMoeLayer(layer), /*overlap=*/true); }

  // A decoder layer whose ops carry `layer`, with an MoE block or a dense MLP; `overlap`: as two micro-batches
  // under two-batch overlap.
  void Layer(int layer, bool moe, bool overlap) {
    const bool ep_moe = moe && p_.ep > 1;
    if (ep_moe && o_.two_batch_overlap && overlap) {
      OverlappedLayer(layer);
      return;
    }
    Join();
    layer_ = layer;
    // Fused residual add + RMSNorm: reads and writes the hidden state and the residual.
    Kernel("input_layernorm", Bytes(4.0 * static_cast<double>(ResidualTokens() * h_)));
    if (SequenceParallel()) TpGather("sp_all_gather");
    if (m_.attention == AttentionKind::kMultiLatent) {
      LatentAttention();
    } else {
      MultiHeadAttention();
    }
    TpReduce(SequenceParallel() || (ep_moe && SplitsTokensOverTp()));
    const int64_t norm_tokens = ep_moe && SplitsTokensOverTp() ? CeilDiv(tokens_, p_.tp) : ResidualTokens();
    Kernel("post_attention_layernorm", Bytes(4.0 * static_cast<double>(norm_tokens * h_)));
    if (!moe && MlpsOverGroup()) {
      // The dense MLP on every rank's rows: gathered, split over the group, reduce-scattered back.
      EpGather("mlp_gather", /*combine=*/false);
      GatedMlp("gate_up_proj", "silu_and_mul", "down_proj", GatheredRows(), CeilDiv(m_.intermediate_size, p_.ep));
      EpGather("mlp_reduce_scatter", /*combine=*/true);
    } else if (!moe) {
      if (SequenceParallel()) TpGather("sp_all_gather");
      DenseMlp();
      TpReduce(SequenceParallel());
    } else if (!ep_moe) {
      if (SequenceParallel()) TpGather("sp_all_gather");
      TensorParallelMoe();
      TpReduce(SequenceParallel());
    } else {
      ExpertParallelMoe();
      AfterExpertParallelMoe();
    }
  }

  // Context parallelism around a prefill: the KV of every chunk's positions passes around the CP ring (cp - 1
  // hops of this rank's share), or is all-gathered at once.
  void CpPrefillExchange(double kv_bytes_per_token) {
    if (p_.cp == 1 || cur_->prefills.empty()) return;
    int64_t positions = 0;
    for (const PrefillChunk& c : cur_->prefills) positions += c.tokens + c.context;
    const std::vector<int>& cp = Group(ParallelDim::kCp);
    if (p_.cp_attention == CpAttention::kAllGather) {
      Collective("cp_kv_all_gather", CollectiveOp::kAllGather, ParallelDim::kCp, cp,
                 static_cast<double>(positions) * kv_bytes_per_token, Phase::kPrefill);
      return;
    }
    const int me = groups_.IndexIn(ParallelDim::kCp, rank_);
    const int self = cp[static_cast<size_t>(me)];
    const int next = cp[static_cast<size_t>((me + 1) % p_.cp)];
    const int prev = cp[static_cast<size_t>((me + p_.cp - 1) % p_.cp)];
    const double share = static_cast<double>(CeilDiv(positions, p_.cp)) * kv_bytes_per_token;
    // Each hop sends this rank's current block to the next rank and receives the previous rank's, posted together
    // (one NCCL group, so the ring cannot deadlock); the next hop, and attention, wait for both.
    for (int hop = 1; hop < p_.cp; ++hop) {
      std::vector<int32_t> group_deps = after_;
      if (group_deps.empty() && !ops_->empty()) group_deps = {static_cast<int32_t>(ops_->size() - 1)};
      after_ = group_deps;
      const int send = Collective("cp_ring_kv_pass", CollectiveOp::kSendRecv, ParallelDim::kCp, {self, next}, share,
                                  Phase::kPrefill);
      after_ = group_deps;
      const int recv = Collective("cp_ring_kv_recv", CollectiveOp::kSendRecv, ParallelDim::kCp, {prev, self}, share,
                                  Phase::kPrefill);
      after_.clear();
      if (send >= 0) after_.push_back(static_cast<int32_t>(send));
      if (recv >= 0) after_.push_back(static_cast<int32_t>(recv));
      if (after_.empty()) after_ = group_deps;
    }
  }

  // Prefill attention of this rank: with CP, 1/cp of the queries of every chunk against all of its positions.
  void PrefillAttention() {
    if (cur_->prefills.empty()) return;
    Kernel("attention_prefill", attention_.Prefill(*cur_), Phase::kPrefill);
  }

  // Decode attention: with CP, every rank holds 1/cp of each sequence's KV: the decode queries are gathered over
  // CP first and the partial outputs reduce-scattered back.
  void DecodeAttention(int64_t q_width, int64_t out_width) {
    if (cur_->decode_contexts.empty()) return;
    const double decodes = static_cast<double>(cur_->DecodeRows());
    const std::vector<int>& cp = p_.cp > 1 ? Group(ParallelDim::kCp) : empty_;
    Collective("cp_query_all_gather", CollectiveOp::kAllGather, ParallelDim::kCp, cp,
               decodes * static_cast<double>(s_.q_heads * q_width) * a_, Phase::kDecode);
    Kernel(later_draft_pass_ ? "draft_attention_decode" : "attention_decode", attention_.Decode(*cur_), Phase::kDecode);
    Collective("cp_output_reduce_scatter", CollectiveOp::kReduceScatter, ParallelDim::kCp, cp,
               decodes * static_cast<double>(s_.q_heads * out_width) * a_, Phase::kDecode);
  }

  void MultiHeadAttention() {
    const int64_t hd = m_.head_dim;
    const double t = static_cast<double>(tokens_);
    Kernel("qkv_proj", Linear(tokens_, (s_.q_heads + 2 * s_.kv_heads) * hd, h_));
    Kernel("rotary_embedding", Bytes(2.0 * t * static_cast<double>((s_.q_heads + s_.kv_heads) * hd)));
    // K and V into the paged cache, at the cache's type.
    Kernel("kv_cache_write",
           MemoryBoundKernel(t * (static_cast<double>(2 * s_.kv_heads * hd) * a_ + s_.kv_bytes_per_token_layer)));
    CpPrefillExchange(s_.kv_bytes_per_token_layer);
    PrefillAttention();
    DecodeAttention(hd, hd);
    Kernel("o_proj", Linear(tokens_, h_, s_.q_heads * hd));
  }

  // MLA as vLLM runs it: latent projections replicated on every TP rank; prefill up-projects the cached latent of
  // every position (kv_b_proj) and runs ordinary attention; decode absorbs W_UK and W_UV into the query and output
  // (per-head batched GEMMs) and attends over the latent itself.
  void LatentAttention() {
    const MlaShape& l = m_.mla;
    const int64_t qk = l.qk_nope_head_dim + l.qk_rope_head_dim;
    const int64_t latent = l.kv_lora_rank + l.qk_rope_head_dim;
    const double t = static_cast<double>(tokens_);
    if (l.q_lora_rank > 0) {
      Kernel("fused_qkv_a_proj", Linear(tokens_, l.q_lora_rank + latent, h_));
      Kernel("q_a_layernorm", Bytes(2.0 * t * static_cast<double>(l.q_lora_rank)));
      Kernel("q_b_proj", Linear(tokens_, s_.q_heads * qk, l.q_lora_rank));
    } else {
      Kernel("q_proj", Linear(tokens_, s_.q_heads * qk, h_));
      Kernel("kv_a_proj_with_mqa", Linear(tokens_, latent, h_));
    }
    Kernel("kv_a_layernorm", Bytes(2.0 * t * static_cast<double>(l.kv_lora_rank)));
    Kernel("rotary_embedding", Bytes(2.0 * t * static_cast<double>((s_.q_heads + 1) * l.qk_rope_head_dim)));
    Kernel("kv_cache_write", MemoryBoundKernel(t * (static_cast<double>(latent) * a_ + s_.kv_bytes_per_token_layer)));
    CpPrefillExchange(s_.kv_bytes_per_token_layer);
    if (!cur_->prefills.empty()) {
      int64_t positions = 0;
      for (const PrefillChunk& c : cur_->prefills) positions += c.tokens + c.context;
      Kernel("kv_b_proj", Linear(positions, s_.q_heads * (l.qk_nope_head_dim + l.v_head_dim), l.kv_lora_rank),
             Phase::kPrefill);
      PrefillAttention();
    }
    if (!cur_->decode_contexts.empty()) {
      const int64_t decodes = cur_->DecodeRows();
      Kernel(
          "mla_q_absorb",
          GemmKernel(decodes, l.kv_lora_rank, l.qk_nope_head_dim, m_.activation_dtype, m_.activation_dtype, s_.q_heads),
          Phase::kDecode);
      DecodeAttention(latent, l.kv_lora_rank);
      Kernel("mla_v_absorb",
             GemmKernel(decodes, l.v_head_dim, l.kv_lora_rank, m_.activation_dtype, m_.activation_dtype, s_.q_heads),
             Phase::kDecode);
    }
    Kernel("o_proj", Linear(tokens_, h_, s_.q_heads * l.v_head_dim));
  }

  void GatedMlp(std::string_view up, std::string_view act, std::string_view down, int64_t tokens, int64_t width) {
    Kernel(up, Linear(tokens, 2 * width, h_));
    Kernel(act, Bytes(3.0 * static_cast<double>(tokens * width)));  // silu(gate) * up: read 2 widths, write 1
    Kernel(down, Linear(tokens, h_, width));
  }

  void DenseMlp() { GatedMlp("gate_up_proj", "silu_and_mul", "down_proj", tokens_, s_.dense_width); }

  void Router(int64_t tokens) {
    Kernel("router", Unquantized(tokens, m_.moe.num_experts, h_));
    Kernel("topk_softmax", MemoryBoundKernel(static_cast<double>(tokens * m_.moe.num_experts) * 4));
  }

  // Routed experts of this GPU: `rows` token copies over its `experts` experts, when `tokens` distinct tokens
  // each chose top-k of all experts. With uniform routing an expert escapes one token with probability
  // 1 - k/E, so E_local x (1 - (1 - k/E)^tokens) experts are busy and only their weights are read: small decode
  // batches touch a fraction of the experts.
  void Experts(int64_t experts, double rows, int64_t tokens) {
    const double k = static_cast<double>(m_.moe.experts_per_token), e = static_cast<double>(m_.moe.num_experts);
    const double busy_fraction = 1.0 - std::pow(1.0 - k / e, static_cast<double>(tokens));
    const int64_t busy = std::clamp<int64_t>(
        static_cast<int64_t>(std::ceil(static_cast<double>(experts) * busy_fraction - 1e-9)), 1, experts);
    const int64_t per_expert = static_cast<int64_t>(std::ceil(rows / static_cast<double>(busy) - 1e-9));
    const double padded_rows = static_cast<double>(busy * per_expert);
    const DataType w = weight_dtype_;
    Kernel("moe_permute", Bytes(2.0 * rows * static_cast<double>(h_)));
    Kernel("experts_gate_up", GroupedGemmKernel(busy, per_expert, 2 * s_.expert_width, h_, linear_dtype_, w));
    Kernel("experts_silu_and_mul", Bytes(3.0 * padded_rows * static_cast<double>(s_.expert_width)));
    Kernel("experts_down", GroupedGemmKernel(busy, per_expert, h_, s_.expert_width, linear_dtype_, w));
    Kernel("moe_unpermute", Bytes(2.0 * rows * static_cast<double>(h_)));
  }

  void SharedExperts(int64_t tokens) {
    if (s_.shared_width == 0) return;
    // vLLM's layout splits the shared experts over TP like a dense MLP (their output joins the TP all-reduce);
    // SGLang's over the EP group (their output joins the combine).
    const int64_t width = MlpsOverGroup()   ? CeilDiv(s_.shared_width, p_.ep)
                          : GathersOverDp() ? CeilDiv(s_.shared_width, p_.tp)
                                            : s_.shared_width;
    GatedMlp("shared_gate_up", "shared_silu_and_mul", "shared_down", tokens, width);
  }

  // ep = 1: every GPU of the TP group holds a 1/tp slice of every expert and sees all tokens.
  void TensorParallelMoe() {
    Router(tokens_);
    SharedExperts(tokens_);
    Experts(m_.moe.num_experts, static_cast<double>(tokens_ * m_.moe.experts_per_token), tokens_);
  }

  // ep > 1: this rank dispatches its 1/tp share of the tokens (top-k copies each) to the GPUs holding the chosen
  // experts, computes the tokens sent to its own experts, and sends the results back.
  // With a gather that carries no routing (SGLang's), every rank routes the gathered rows.
  void ExpertParallelMoe() {
    const bool routes_gathered = Gathers() && !o_.ep_gather.routing && TokenGroup().size() > 1;
    if (!routes_gathered) Router(Dispatched());
    EpAllToAll("ep_dispatch", /*combine=*/false);
    if (routes_gathered) Router(GatheredRows());
    RoutedExperts();
    if (MlpsOverGroup()) SharedExperts(GatheredRows());
    EpAllToAll("ep_combine", /*combine=*/true);
    if (!MlpsOverGroup()) SharedExperts(Dispatched());
  }

  // Back to every TP rank holding the whole hidden state: the TP all-gather of the 1/tp shares, or in vLLM's layout
  // the TP all-reduce of the experts' partial outputs (each TP rank's experts are different ones).
  void AfterExpertParallelMoe() {
    if (GathersOverDp()) {
      TpReduce(false);
    } else if (!SequenceParallel()) {
      TpGather("tp_all_gather");
    }
  }

  int64_t Dispatched() const { return p_.tp > 1 && !GathersOverDp() ? CeilDiv(tokens_, p_.tp) : tokens_; }

  // The ranks whose tokens this rank's experts serve: the EP group, or in vLLM's layout its DP group (the TP ranks
  // of one DP rank hold the same tokens).
  const std::vector<int>& TokenGroup() const { return Group(GathersOverDp() ? ParallelDim::kDp : ParallelDim::kEp); }

  // This GPU's experts for the copies routed to them: its share of every EP rank's copies (its own included).
  void RoutedExperts() {
    const size_t me = static_cast<size_t>(groups_.IndexIn(ParallelDim::kEp, rank_));
    int64_t all = 0;
    for (int gpu : TokenGroup()) all += ep_.tokens_of_gpu[static_cast<size_t>(gpu)][static_cast<size_t>(mb_)];
    const double rows = ep_.share[me] * static_cast<double>(all * m_.moe.experts_per_token);
    if (rows <= 0) return;
    Experts(s_.experts, rows, all);
  }

  // Dispatch (or combine, its transpose) of the micro-batch being emitted as an all-to-all-v over the EP group:
  // entry (i, j) = copies EP rank i routes to rank j's experts x the bytes of one copy; `bytes` is the largest row
  // or column sum, as nccl-tests reports alltoallv. When every entry is the same (uniform routing, equal batches)
  // it is the plain all-to-all it then is (size: a rank's copies x bytes, its own slot included).
  void EpAllToAll(std::string_view name, bool combine) {
    const std::vector<int>& ep = Group(ParallelDim::kEp);
    const size_t n = ep.size();
    if (Gathers()) {
      EpGather(name, combine);
      return;
    }
    const internal::EpTraffic::Matrix& m = EpMatrix(ep, combine);
    const size_t before = ops_->size();
    if (m.even) {
      Collective(name, CollectiveOp::kAllToAll, ParallelDim::kEp, ep, n > 1 ? m.bytes[1] * static_cast<double>(n) : 0.0,
                 phase_);
    } else {
      Collective(name, CollectiveOp::kAllToAllV, ParallelDim::kEp, ep, m.largest, phase_);
      if (ops_->size() > before) ops_->back().collective.matrix_bytes = m.bytes;
    }
    // A row per copy (decode; the low-latency kernels) is put from the sender's own NIC straight to the receiving
    // GPU's (DeepEP's internode_ll.cu: nvshmemi_ibgda_put_nbi_warp to dst_rank unless an NVLink pointer reaches it),
    // with no PXN relay; a prefill's rows cross on the sender's rail already (EpTraffic::MatrixOf).
    if (ops_->size() > before && !ep_.Extends(mb_)) ops_->back().collective.own_nic = true;
  }

  // The all-gather exchange (StepGraphOptions::EpExchange::kAllGather): every rank of the token group contributes
  // the most tokens of any (the engines pad the DP ranks to it) to an all-gather of `n` x rows x bytes per token;
  // the combine reduce-scatters `n` x rows x the activation's bytes per token. In SGLang's SUM_LEN mode both are
  // all-reduces of every rank's own rows laid end to end (EpTraffic::GatheredOf).
  void EpGather(std::string_view name, bool combine) {
    const std::vector<int>& group = TokenGroup();
    if (group.size() < 2) return;  // tp = ep: every rank already holds every token
    const internal::EpTraffic::Gathered& g = ep_.GatheredOf(group, mb_);
    const CollectiveOp op = g.sum_len ? CollectiveOp::kAllReduce
                            : combine ? CollectiveOp::kReduceScatter
                                      : CollectiveOp::kAllGather;
    // Reported as EP traffic whichever ranks it joins.
    Collective(name, op, ParallelDim::kEp, group,
               static_cast<double>(g.rows) * (combine ? ep_.combine_bytes : ep_.dispatch_bytes), phase_);
  }

  // The rows of the gathered buffer of the micro-batch being emitted.
  int64_t GatheredRows() const { return ep_.GatheredOf(TokenGroup(), mb_).rows; }

  const internal::EpTraffic::Matrix& EpMatrix(const std::vector<int>& ep, bool combine) const {
    return ep_.MatrixOf(ep, mb_, combine, static_cast<int>(m_.moe.experts_per_token));
  }

  // --- two-batch overlap ------------------------------------------------------------------------------------------
  // Emits `emit` for micro-batch `x` (0 = A, 1 = B): its ops start after that micro-batch's last op.
  template <typename Emit>
  void As(int x, Emit emit) {
    const size_t ux = static_cast<size_t>(x);
    cur_ = &halves_[ux];
    tokens_ = CeilDiv(cur_->Tokens(), p_.cp);
    mb_ = x + 1;
    after_ = mb_after_[ux];
    const size_t before = ops_->size();
    emit();
    if (ops_->size() > before) mb_after_[ux] = {static_cast<int32_t>(ops_->size() - 1)};
    after_.clear();
    cur_ = &batch_;
    tokens_ = CeilDiv(batch_.Tokens(), p_.cp);
    mb_ = 0;
  }

  // An MoE layer as two micro-batches (StepGraphOptions::two_batch_overlap gives the order and why).
  void OverlappedLayer(int layer) {
    if (!split_) {
      // Both micro-batches start from where the whole batch is.
      std::vector<int32_t> start = after_;
      if (start.empty() && !ops_->empty()) start = {static_cast<int32_t>(ops_->size() - 1)};
      after_.clear();
      mb_after_ = {start, start};
      comm_tail_ = -1;
      split_ = true;
    }
    layer_ = layer;
    auto pre = [&] {
      Kernel("input_layernorm", Bytes(4.0 * static_cast<double>(ResidualTokens() * h_)));
      if (SequenceParallel()) TpGather("sp_all_gather");
      if (m_.attention == AttentionKind::kMultiLatent) {
        LatentAttention();
      } else {
        MultiHeadAttention();
      }
      TpReduce(SplitsTokensOverTp());
      Kernel("post_attention_layernorm", Bytes(4.0 * static_cast<double>(Dispatched() * h_)));
      Router(Dispatched());
    };
    auto experts = [&] {
      SharedExperts(MlpsOverGroup() ? GatheredRows() : Dispatched());
      RoutedExperts();
    };
    auto gather = [&] { AfterExpertParallelMoe(); };
    As(0, pre);
    As(0, [&] { EpAllToAll("ep_dispatch", false); });
    As(1, pre);
    As(1, [&] { EpAllToAll("ep_dispatch", false); });
    As(0, experts);
    As(0, [&] { EpAllToAll("ep_combine", true); });
    As(0, gather);
    As(1, experts);
    As(1, [&] { EpAllToAll("ep_combine", true); });
    As(1, gather);
  }

  // Ends a split: the next op waits for both micro-batches.
  void Join() {
    if (!split_) return;
    after_ = mb_after_[0];
    after_.insert(after_.end(), mb_after_[1].begin(), mb_after_[1].end());
    SortUnique(&after_);
    split_ = false;
    comm_tail_ = -1;
  }

  void Head() {
    Join();
    layer_ = static_cast<int>(m_.num_layers);
    Kernel("final_norm", Bytes(4.0 * static_cast<double>(ResidualTokens() * h_)));
    if (SequenceParallel()) TpGather("sp_all_gather");
    const int64_t sampling = CeilDiv(cur_->LogitRows(), p_.cp);
    if (sampling == 0) return;
    Kernel("lm_head", Unquantized(sampling, s_.vocab, h_));
    if (p_.tp > 1) {
      Collective("logits_all_gather", CollectiveOp::kAllGather, ParallelDim::kTp, Group(ParallelDim::kTp),
                 static_cast<double>(sampling * s_.vocab * p_.tp) * a_, phase_);
    }
    // fp32 softmax over the vocabulary: read the logits, write and read the probabilities.
    Kernel("sampler", MemoryBoundKernel(3.0 * static_cast<double>(sampling * m_.vocab_size) * 4));
  }

  // Speculative decoding's drafter (StepGraphOptions::draft), after the target's head on the last stage. Its ops
  // carry the head's layer (num_layers): they run once per iteration.
  void Drafter() {
    const DraftModel& d = o_.draft;
    if (d.passes == 0) return;
    const int64_t sequences = static_cast<int64_t>(batch_.prefills.size() + batch_.decode_contexts.size());
    SetWeightType(d.weight_dtype.value_or(m_.weight_dtype));
    for (int pass = 0; pass < d.passes; ++pass) {
      draft_ = pass == 0 ? batch_ : DraftPassBatch(batch_, pass);
      cur_ = &draft_;
      tokens_ = CeilDiv(draft_.Tokens(), p_.cp);
      later_draft_pass_ = pass > 0;
      mb_ = pass > 0 ? internal::EpTraffic::kLaterDraftPasses : 0;
      // The drafter's input: the token's embedding and the target's hidden state, normed and projected 2h -> h
      // (MTP's enorm, hnorm and eh_proj; EAGLE's fc): a plain, replicated and unquantized nn.Linear in vLLM
      // (model_executor/models/deepseek_mtp.py), as the memory plan holds it.
      Kernel("draft_input_norms", Bytes(4.0 * static_cast<double>(tokens_ * h_)));
      Kernel("draft_input_proj", Unquantized(tokens_, h_, 2 * h_));
      Layer(static_cast<int>(m_.num_layers), d.moe, /*overlap=*/false);
      Kernel("draft_norm", Bytes(4.0 * static_cast<double>(ResidualTokens() * h_)));
      if (SequenceParallel()) TpGather("sp_all_gather");
      // One row per sequence: the logits of its last position, and the greedy pick of the next draft token.
      const int64_t rows = CeilDiv(sequences, p_.cp);
      Kernel("draft_lm_head", Unquantized(rows, s_.vocab, h_));
      if (p_.tp > 1) {
        Collective("draft_logits_all_gather", CollectiveOp::kAllGather, ParallelDim::kTp, Group(ParallelDim::kTp),
                   static_cast<double>(rows * s_.vocab * p_.tp) * a_, phase_);
      }
      Kernel("draft_argmax", MemoryBoundKernel(static_cast<double>(rows * m_.vocab_size) * a_));
    }
    later_draft_pass_ = false;
    SetWeightType(m_.weight_dtype);
    mb_ = 0;
    cur_ = &batch_;
    tokens_ = CeilDiv(batch_.Tokens(), p_.cp);
  }

  const ModelSpec& m_;
  const ParallelPlan& p_;
  const ParallelGroups& groups_;
  const Placement& placement_;
  const BatchShape& batch_;
  const StepGraphOptions& o_;
  const internal::EpTraffic& ep_;
  const LocalShapes s_;
  const int rank_;
  const RankCoord coord_;
  const double a_;   // activation bytes per element
  const int64_t h_;  // hidden size
  int64_t tokens_;   // this rank's tokens (its CP share) of the batch or micro-batch being emitted
  const Phase phase_;
  DataType weight_dtype_ = DataType::kBFloat16;
  DataType linear_dtype_ = DataType::kBFloat16;
  std::vector<StepOp>* ops_ = nullptr;
  std::vector<int32_t> after_;  // dependencies of the next op when they are not simply the op before it
  // Two-batch overlap: the micro-batches, which one is being emitted (0 the whole batch, 1 A, 2 B), whether the
  // program is split into them, each one's last op, and the last collective on the communication stream.
  const BatchShape* cur_ = nullptr;
  std::array<BatchShape, 2> halves_;
  int mb_ = 0;  // the micro-batch index of internal::EpTraffic::tokens_of_gpu
  bool split_ = false;
  std::array<std::vector<int32_t>, 2> mb_after_;
  int comm_tail_ = -1;
  int layer_ = -1;
  BatchShape draft_;               // the drafter's batch of the pass being emitted
  bool later_draft_pass_ = false;  // emitting a drafter pass after the first
  const LayerAttentionShapes attention_;
  const std::vector<int> empty_;
};

}  // namespace

Result<StepGraph> BuildStepGraph(const ModelSpec& model, const ParallelPlan& plan, const Placement& placement,
                                 const BatchShape& batch, const StepGraphOptions& options) {
  WIRESIM_RETURN_IF_ERROR(internal::CheckStepGraphInputs(plan, batch, options));
  const bool coupled = plan.ep > 1;  // experts over the DP ranks: they step together
  std::optional<ParallelGroups> built;
  if (options.groups == nullptr) built = BuildGroups(plan, placement);
  const ParallelGroups& groups = options.groups != nullptr ? *options.groups : *built;
  StepGraph graph;
  graph.batch = batch;
  graph.phase = batch.phase();
  // An idle DP rank of a coupled group still joins every MoE collective, with a one-token dummy batch (as vLLM's
  // data-parallel engine runs a dummy forward pass when it has no requests).
  BatchShape dummy;
  dummy.decode_contexts = {1};
  std::vector<int> ranks;
  std::vector<const BatchShape*> batches;
  int gpus = 0;
  for (int r = 0; r < plan.WorldSize(); ++r) {
    const int dp = CoordOf(plan, r).dp;
    if (!coupled && dp != options.replica) continue;
    const BatchShape* b = &batch;
    if (!options.dp_batches.empty()) b = &options.dp_batches[static_cast<size_t>(dp)];
    if (b->empty()) b = &dummy;
    ranks.push_back(r);
    batches.push_back(b);
    gpus = std::max(gpus, placement.GpuOf(r) + 1);
  }
  const internal::EpTraffic traffic = internal::BuildEpTraffic(model, plan, placement, options, ranks, batches, gpus);
  for (size_t i = 0; i < ranks.size(); ++i) {
    graph.programs.push_back(
        RankProgramBuilder(model, plan, groups, placement, *batches[i], options, traffic, ranks[i]).Build());
  }
  WIRESIM_RETURN_IF_ERROR(internal::JoinInstances(graph));
  return graph;
}

}  // namespace wiresim
