// The step graph's collectives against their closed forms, and its GEMM shapes against the per-shard shapes the
// measured tables use (FORMATS.md section 6; Vidur's Llama-70B shard shapes).
#include "sim/parallel/step_graph.h"

#include <algorithm>
#include <map>

#include <catch2/catch.hpp>

#include "tests/model/model_test_util.h"
#include "tests/parallel/step_graph_test_util.h"

namespace wiresim {
namespace {

using testing::ShippedModel;

using Built = testing::BuiltGraph;

Built Build(const ModelSpec& m, const char* plan_text, const char* batch_text, StepGraphOptions options = {}) {
  return testing::BuildGraph(m, plan_text, batch_text, options);
}

std::vector<const StepOp*> Find(const GpuProgram& program, std::string_view name, int layer) {
  std::vector<const StepOp*> out;
  for (const StepOp& op : program.ops)
    if (op.name == name && op.layer == layer) out.push_back(&op);
  return out;
}

// Collectives of one program by name: count and bytes summed over decoder layers [first, end).
std::map<std::string_view, std::pair<int, double>> LayerCollectives(const GpuProgram& program, int first, int end) {
  std::map<std::string_view, std::pair<int, double>> out;
  for (const StepOp& op : program.ops) {
    if (op.kind != StepOp::Kind::kCollective || op.layer < first || op.layer >= end) continue;
    out[op.name].first += 1;
    out[op.name].second += op.collective.bytes;
  }
  return out;
}

// DeepSeek-V3 at tp = 1: every rank's 58 MoE layers (3-60) each dispatch and combine these many bytes, and no TP
// all-reduce runs (attention is data-parallel).
void CheckDeepSeekExchanges(const Built& b, double dispatch, double combine) {
  for (const GpuProgram& g : b.graph.programs) {
    const auto c = LayerCollectives(g, 0, 61);
    CHECK(c.at("ep_dispatch").first == 58);
    CHECK(c.at("ep_dispatch").second == Approx(58 * dispatch));
    CHECK(c.at("ep_combine").second == Approx(58 * combine));
    CHECK(c.count("tp_all_reduce") == 0);
  }
}

TEST_CASE("TP all-reduce: tokens x hidden x 2 bytes, twice per layer, over the TP group") {
  const ModelSpec m = ShippedModel("llama-3.1-70b");
  const Built b = Build(m, "tp=8", "prefill=1x2048,decode=64x1024");
  REQUIRE(b.graph.programs.size() == 8);
  const GpuProgram& gpu0 = b.graph.programs[0];
  const double tokens = 2048 + 64;
  const double per_call = tokens * 8192 * 2;  // bf16
  const auto c = LayerCollectives(gpu0, 0, 80);
  REQUIRE(c.size() == 1);
  CHECK(c.at("tp_all_reduce").first == 2 * 80);
  CHECK(c.at("tp_all_reduce").second == 2 * 80 * per_call);
  const std::vector<const StepOp*> layer5 = Find(gpu0, "tp_all_reduce", 5);
  REQUIRE(layer5.size() == 2);
  CHECK(layer5[0]->collective.op == CollectiveOp::kAllReduce);
  CHECK(layer5[0]->collective.gpus == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(layer5[0]->dim == ParallelDim::kTp);
  // The vocab-parallel embedding adds one more before the first layer.
  CHECK(Find(gpu0, "tp_all_reduce", -1).size() == 1);
}

TEST_CASE("Sequence parallelism turns each all-reduce into a reduce-scatter and an all-gather of the same size") {
  const ModelSpec m = ShippedModel("llama-3.1-70b");
  const Built b = Build(m, "tp=8,sp=on", "prefill=1x4096");
  const auto c = LayerCollectives(b.graph.programs[3], 0, 80);
  const double per_call = 4096.0 * 8192 * 2;
  CHECK(c.count("tp_all_reduce") == 0);
  CHECK(c.at("tp_reduce_scatter").first == 2 * 80);
  CHECK(c.at("tp_reduce_scatter").second == 2 * 80 * per_call);
  CHECK(c.at("sp_all_gather").first == 2 * 80);
  CHECK(c.at("sp_all_gather").second == 2 * 80 * per_call);
  // Norms run on 1/8 of the tokens: 4 x 512 x 8192 x 2 bytes (residual add + RMSNorm, read and write both).
  CHECK(Find(b.graph.programs[3], "input_layernorm", 0)[0]->kernel.bytes == 4.0 * 512 * 8192 * 2);
}

TEST_CASE("GEMM shapes per TP shard match Vidur's Llama-70B shards") {
  const ModelSpec m = ShippedModel("llama-3.1-70b");
  const Built b = Build(m, "tp=4", "decode=32x512");
  const GpuProgram& g = b.graph.programs[0];
  // (K, N) per shard at tp: qkv (8192, 10240/tp), o (8192/tp, 8192), gate+up (8192, 57344/tp), down (28672/tp, 8192).
  const KernelShape qkv = Find(g, "qkv_proj", 0)[0]->kernel;
  CHECK((qkv.m == 32 && qkv.k == 8192 && qkv.n == 10240 / 4));
  const KernelShape o = Find(g, "o_proj", 0)[0]->kernel;
  CHECK((o.k == 8192 / 4 && o.n == 8192));
  const KernelShape up = Find(g, "gate_up_proj", 0)[0]->kernel;
  CHECK((up.k == 8192 && up.n == 57344 / 4));
  const KernelShape down = Find(g, "down_proj", 0)[0]->kernel;
  CHECK((down.k == 28672 / 4 && down.n == 8192));
  // Decode attention reads each sequence's KV of this GPU's 2 KV heads: 32 x 512 x (2 x 2 x 128 x 2) bytes.
  const KernelShape attn = Find(g, "attention_decode", 0)[0]->kernel;
  CHECK(attn.bytes == 32.0 * 512 * (2 * 2 * 128 * 2) + 32.0 * 16 * 256 * 2);
}

TEST_CASE("EP dispatch and combine: tokens x top-k copies per rank, fp8 out and bf16 back, on MoE layers only") {
  const ModelSpec m = ShippedModel("deepseek-v3");  // top-8, hidden 7168, 256 experts, layers 3-60 MoE, fp8 weights
  // A decode step (DeepEP's low-latency kernels: a row per expert copy).
  const Built b = Build(m, "dp=8,ep=8", "decode=1024x100");
  REQUIRE(b.graph.programs.size() == 8);  // the DP ranks step together
  // Dispatch at 1 byte per element plus one fp32 scale per 128 (7168 / 128 = 56 scales), combine at bf16 (DeepEP's
  // README: FP8 dispatch, BF16 combine; refdata/deepseek_deepep_ep_alltoall_measurements.md). Every rank has the
  // same tokens and routing is uniform: a plain all-to-all of a rank's copies, its own slot included.
  const double dispatch_per_rank = 1024.0 * 8 * (7168 + 56 * 4);
  const double combine_per_rank = 1024.0 * 8 * 7168 * 2;
  CheckDeepSeekExchanges(b, dispatch_per_rank, combine_per_rank);
  const std::vector<const StepOp*> dispatch = Find(b.graph.programs[0], "ep_dispatch", 3);
  REQUIRE(dispatch.size() == 1);
  CHECK(dispatch[0]->collective.op == CollectiveOp::kAllToAll);
  CHECK(dispatch[0]->collective.gpus.size() == 8);
  CHECK(Find(b.graph.programs[0], "ep_dispatch", 2).empty());  // dense layer
  // Each GPU holds 256 / 8 = 32 experts and receives 8 x 1024 x 8 / 8 = 8192 rows: 256 per expert.
  const KernelShape experts = Find(b.graph.programs[5], "experts_gate_up", 10)[0]->kernel;
  CHECK(experts.batch == 32);
  CHECK(experts.m == 256);
  CHECK(experts.n == 2 * 2048);
}

TEST_CASE("EP all-to-all in a step that prefills: a token sent once to each rank holding one of its experts") {
  const ModelSpec m = ShippedModel("deepseek-v3");
  const Built b = Build(m, "dp=8,ep=8", "prefill=1x1024");
  // DeepEP's normal kernels (SGLang's auto mode when a rank extends) send a token to each rank its experts are on
  // (is_token_in_rank). DeepSeek-V3 routes a token into 4 of its 8 groups of 32 experts, and at EP 8 a rank holds
  // one group: it is picked with probability 4/8, and then missed only if the token's 8 experts avoid its 32 of the
  // 4 groups' 128, C(96, 8) / C(128, 8). So each rank sends 1024 x (1/2)(1 - C(96, 8) / C(128, 8)) = 1024 x 0.45363
  // rows to every other rank, 3.63 per token in all where the decode step above sends 8 copies (5.29 without the
  // group limit).
  double miss = 1;
  for (int i = 0; i < 8; ++i) miss *= (96.0 - i) / (128.0 - i);
  const double hit = 0.5 * (1 - miss);
  const double rows = 1024.0 * hit;
  CHECK(hit == Approx(0.45363).epsilon(1e-4));
  CheckDeepSeekExchanges(b, 8 * rows * 7392, 8 * rows * 7168 * 2);
  // Without the group limit: 1 - C(224, 8) / C(256, 8) = 0.66183 per rank.
  ModelSpec ungrouped = m;
  ungrouped.moe.expert_groups = ungrouped.moe.topk_groups = 1;
  double miss_all = 1;
  for (int i = 0; i < 8; ++i) miss_all *= (224.0 - i) / (256.0 - i);
  CHECK(1 - miss_all == Approx(0.66183).epsilon(1e-4));
  const Built u = Build(ungrouped, "dp=8,ep=8", "prefill=1x1024");
  CheckDeepSeekExchanges(u, 8 * 1024.0 * (1 - miss_all) * 7392, 8 * 1024.0 * (1 - miss_all) * 7168 * 2);
  CHECK(Find(b.graph.programs[1], "ep_dispatch", 3)[0]->collective.op == CollectiveOp::kAllToAll);
  // The experts still compute every copy: 256 rows per expert, as in decode.
  CHECK(Find(b.graph.programs[5], "experts_gate_up", 10)[0]->kernel.m == 256);
}

TEST_CASE("EP all-to-all across nodes in a prefill step: once per node over the network, forwarded over NVLink") {
  // DeepEP's internode normal kernels: a token goes once to each other node holding one of its experts, to the rank
  // there with the sender's index in its own node, which forwards it over NVLink to each rank of that node it
  // reaches. DeepSeek-V3 (4 of 8 groups of 32 experts) at EP 16 on two nodes of 8.
  const ModelSpec m = ShippedModel("deepseek-v3");
  StepGraphOptions o;
  o.gpu_domain.assign(16, 0);
  std::fill(o.gpu_domain.begin() + 8, o.gpu_domain.end(), 1);
  const Built b = Build(m, "dp=16,ep=16", "prefill=1x1024", o);
  auto none = [](int items, int h) {  // C(items - h, 8) / C(items, 8)
    double p = 1;
    for (int i = 0; i < 8; ++i) p *= static_cast<double>(items - h - i) / (items - i);
    return p;
  };
  // A rank (16 experts, half a group) is hit when its group is picked (1/2) and the token's 8 experts do not all
  // avoid its 16 of the picked 128. A node (4 whole groups) is missed when none of its groups is picked (1 of 70)
  // or the 8 experts avoid its 32 t of the 128 when t are: sum over t of C(4, t) C(4, 4 - t) / 70 C(128 - 32 t, 8) /
  // C(128, 8).
  const double rank_hit = 0.5 * (1 - none(128, 16));
  const double ways[5] = {1, 16, 36, 16, 1};
  double node_miss = 0;
  for (int t = 0; t <= 4; ++t) node_miss += ways[t] / 70 * none(128, 32 * t);
  const double node_hit = 1 - node_miss;
  const StepOp& dispatch = *Find(b.graph.programs[0], "ep_dispatch", 3)[0];
  const StepOp& combine = *Find(b.graph.programs[0], "ep_combine", 3)[0];
  REQUIRE(dispatch.collective.op == CollectiveOp::kAllToAllV);
  const std::vector<double>& d = dispatch.collective.matrix_bytes;
  const std::vector<double>& c = combine.collective.matrix_bytes;
  REQUIRE(d.size() == 256);
  const double t = 1024, copy = 7392;  // fp8 rows with a scale per 128 elements
  for (size_t i = 0; i < 16; ++i) {
    const size_t node = i / 8, local = i % 8;
    for (size_t j = 0; j < 16; ++j) {
      double expected = 0;
      if (j / 8 == node && j != i) {
        // Its own token to a rank of its node, and the other node's rank of its index's tokens it forwards.
        expected = 2 * t * rank_hit;
      } else if (j / 8 != node && j % 8 == local) {
        expected = t * node_hit;  // one row per token over the network
      }
      CHECK(d[i * 16 + j] == Approx(expected * copy).margin(1e-6));
      // The combine is the transpose at bf16: the forwarder reduces its node's rows before the one network row.
      CHECK(c[j * 16 + i] == Approx(expected * 7168 * 2).margin(1e-6));
    }
  }
  // A network row per node a token reaches rather than per rank: 0.96 rows cross where 8 x 0.33 did.
  CHECK(node_hit == Approx(0.96292).epsilon(1e-4));
  CHECK(8 * rank_hit == Approx(2.66968).epsilon(1e-4));
  // A decode step sends a row per copy, as DeepEP's low-latency kernels do, whatever the nodes, each put from the
  // sender's own NIC (no PXN relay); the prefill's network rows already leave on the sender's rail.
  const Built decode = Build(m, "dp=16,ep=16", "decode=64x1000", o);
  CHECK(Find(decode.graph.programs[0], "ep_dispatch", 3)[0]->collective.op == CollectiveOp::kAllToAll);
  CHECK(Find(decode.graph.programs[0], "ep_dispatch", 3)[0]->collective.own_nic);
  CHECK(Find(decode.graph.programs[0], "ep_combine", 3)[0]->collective.own_nic);
  CHECK_FALSE(dispatch.collective.own_nic);
  // One node: no forwarding, every rank's rows straight to it.
  StepGraphOptions one = o;
  one.gpu_domain.assign(16, 0);
  const Built flat = Build(m, "dp=16,ep=16", "prefill=1x1024", one);
  CHECK(Find(flat.graph.programs[0], "ep_dispatch", 3)[0]->collective.op == CollectiveOp::kAllToAll);
  CHECK(Find(flat.graph.programs[0], "ep_dispatch", 3)[0]->collective.bytes == Approx(16 * t * rank_hit * copy));
}

TEST_CASE("Uniform routing with uneven DP batches: an all-to-all-v whose rows are each rank's off-rank copies") {
  const ModelSpec m = ShippedModel("deepseek-v3");
  StepGraphOptions o;
  std::vector<int64_t> tokens;
  for (int r = 0; r < 8; ++r) {
    BatchShape b;
    b.decode_contexts.assign(static_cast<size_t>(16 * (r + 1)), 500);  // DP rank r decodes 16 (r + 1) sequences
    o.dp_batches.push_back(b);
    tokens.push_back(16 * (r + 1));
  }
  const Built b = Build(m, "dp=8,ep=8", "decode=1x1", o);
  const StepOp& dispatch = *Find(b.graph.programs[0], "ep_dispatch", 3)[0];
  const StepOp& combine = *Find(b.graph.programs[0], "ep_combine", 3)[0];
  REQUIRE(dispatch.collective.op == CollectiveOp::kAllToAllV);
  REQUIRE(combine.collective.op == CollectiveOp::kAllToAllV);
  const std::vector<double>& d = dispatch.collective.matrix_bytes;
  const std::vector<double>& c = combine.collective.matrix_bytes;
  REQUIRE(d.size() == 64);
  // Row i of the dispatch: T_i tokens x 8 copies x 7392 bytes x 7/8 (the experts of the 7 other ranks: 224 of
  // 256); each entry T_i x 8 x 1/8 x 7392. The combine sends the results back: entry (i, j) = T_j x 8 x 1/8 x 14336.
  int64_t all = 0;
  for (int64_t t : tokens) all += t;
  for (size_t i = 0; i < 8; ++i) {
    double row = 0, combine_row = 0;
    for (size_t j = 0; j < 8; ++j) {
      row += d[i * 8 + j];
      combine_row += c[i * 8 + j];
      if (i != j) CHECK(d[i * 8 + j] == Approx(static_cast<double>(tokens[i]) * 7392));
    }
    CHECK(d[i * 8 + i] == 0);
    CHECK(row == Approx(static_cast<double>(tokens[i]) * 8 * 7392 * 7 / 8));
    CHECK(combine_row == Approx(static_cast<double>(all - tokens[i]) * 14336));
  }
  // Size: the largest row or column sum. Columns of the dispatch: (all - T_j) x 7392, at most (576 - 16) x 7392;
  // rows: T_i x 7 x 7392, at most 128 x 7 = 896 x 7392. The busiest sender wins.
  CHECK(dispatch.collective.bytes == Approx(896.0 * 7392));
  // Every GPU's experts get 1/8 of all 576 x 8 copies: 576 rows over its 32 experts, 18 each.
  CHECK(Find(b.graph.programs[3], "experts_gate_up", 3)[0]->kernel.m == 18);
}

TEST_CASE("vLLM's EP exchange: an all-gather of every rank's tokens and a reduce-scatter of the expert outputs") {
  const ModelSpec m =
      ShippedModel("deepseek-v3");  // top-8, hidden 7168, layers 3-60 MoE, fp8 weights, bf16 activations
  StepGraphOptions o;
  o.ep_exchange = StepGraphOptions::EpExchange::kAllGather;
  const Built b = Build(m, "dp=8,ep=8", "prefill=1x1024", o);
  // vLLM's AgRsAll2AllManager gathers each rank's hidden states at the activation type (7168 x 2 bytes) with their
  // top-8 weights (fp32) and ids (int32), 8 x 8 bytes: 14,400 bytes per token, 8 ranks x 1024 tokens in all. Not
  // fp8: the gather comes before the experts quantize. The combine reduce-scatters every gathered token's partial
  // output, 8 x 1024 x 7168 x 2 bytes.
  const double gather = 8.0 * 1024 * (7168 * 2 + 8 * 8);
  const double scatter = 8.0 * 1024 * 7168 * 2;
  CheckDeepSeekExchanges(b, gather, scatter);
  const StepOp& dispatch = *Find(b.graph.programs[2], "ep_dispatch", 3)[0];
  const StepOp& combine = *Find(b.graph.programs[2], "ep_combine", 3)[0];
  CHECK(dispatch.collective.op == CollectiveOp::kAllGather);
  CHECK(combine.collective.op == CollectiveOp::kReduceScatter);
  CHECK(dispatch.collective.gpus.size() == 8);
  // The experts compute what an all-to-all would have sent them: 8 x 1024 x 8 / 8 = 8192 rows over 32 experts.
  CHECK(Find(b.graph.programs[5], "experts_gate_up", 10)[0]->kernel.m == 256);
}

TEST_CASE("vLLM's EP exchange with uneven DP batches: every rank gathers as many rows as the largest batch") {
  const ModelSpec m = ShippedModel("deepseek-v3");
  StepGraphOptions o;
  o.ep_exchange = StepGraphOptions::EpExchange::kAllGather;
  for (int r = 0; r < 8; ++r) {
    BatchShape b;
    b.decode_contexts.assign(static_cast<size_t>(16 * (r + 1)), 500);  // DP rank r decodes 16 (r + 1) sequences
    o.dp_batches.push_back(b);
  }
  const Built b = Build(m, "dp=8,ep=8", "decode=1x1", o);
  // vLLM pads every DP rank to the most tokens of any (128 here) before the MoE collectives.
  CHECK(Find(b.graph.programs[0], "ep_dispatch", 3)[0]->collective.bytes == 8.0 * 128 * (7168 * 2 + 8 * 8));
  CHECK(Find(b.graph.programs[7], "ep_combine", 3)[0]->collective.bytes == 8.0 * 128 * 7168 * 2);
  // The experts still see only the real tokens: 576 x 8 copies over 8 x 32 experts, 18 rows each.
  CHECK(Find(b.graph.programs[3], "experts_gate_up", 3)[0]->kernel.m == 18);
}

TEST_CASE("SGLang's EP exchange: hidden states alone, all-gathered in decode, all-reduced when a rank prefills") {
  const ModelSpec m = ShippedModel("deepseek-v3");
  StepGraphOptions o;
  o.ep_exchange = StepGraphOptions::EpExchange::kAllGather;
  o.ep_gather.routing = false;  // SGLang routes the gathered rows itself
  o.ep_gather.sum_len = true;
  // Decode, every DP rank 64 tokens (MAX_LEN: 2 x 512 >= 64 x 8): an all-gather of 8 x 64 rows of 7168 x 2 bytes
  // (no top-k weights or ids) and a reduce-scatter of the same; the router runs on all 512 gathered rows.
  const Built decode = Build(m, "dp=8,ep=8", "decode=64x1024", o);
  CheckDeepSeekExchanges(decode, 8.0 * 64 * 7168 * 2, 8.0 * 64 * 7168 * 2);
  const GpuProgram& rank4 = decode.graph.programs[4];
  CHECK(Find(rank4, "ep_dispatch", 3)[0]->collective.op == CollectiveOp::kAllGather);
  CHECK(Find(rank4, "ep_combine", 3)[0]->collective.op == CollectiveOp::kReduceScatter);
  CHECK(Find(rank4, "router", 3)[0]->kernel.m == 512);
  // One DP rank prefills 448 tokens, the other seven decode 8 each (SUM_LEN): every rank's rows end to end,
  // 448 + 7 x 8 = 504 of them, all-reduced (7168 x 2 bytes each) for the dispatch and again for the combine; the
  // router sees the 504. vLLM's padded gather would move 8 x 448 rows.
  o.dp_batches.clear();
  BatchShape prefill;
  prefill.prefills.push_back({448, 0});
  o.dp_batches.push_back(prefill);
  for (int r = 1; r < 8; ++r) {
    BatchShape d;
    d.decode_contexts.assign(8, 500);
    o.dp_batches.push_back(d);
  }
  const Built mixed = Build(m, "dp=8,ep=8", "decode=1x1", o);
  CheckDeepSeekExchanges(mixed, 504.0 * 7168 * 2, 504.0 * 7168 * 2);
  CHECK(Find(mixed.graph.programs[6], "ep_dispatch", 3)[0]->collective.op == CollectiveOp::kAllReduce);
  CHECK(Find(mixed.graph.programs[6], "ep_combine", 3)[0]->collective.op == CollectiveOp::kAllReduce);
  CHECK(Find(mixed.graph.programs[6], "router", 3)[0]->kernel.m == 504);
  // Decode only but uneven, one rank 128 tokens and seven 8 (2 x 184 < 8 x 128: SUM_LEN again).
  o.dp_batches[0] = BatchShape{};
  o.dp_batches[0].decode_contexts.assign(128, 500);
  const Built uneven = Build(m, "dp=8,ep=8", "decode=1x1", o);
  CheckDeepSeekExchanges(uneven, 184.0 * 7168 * 2, 184.0 * 7168 * 2);
  // Four ranks 64 and four 16 (2 x 320 >= 8 x 64): MAX_LEN, padded to 64.
  for (int r = 0; r < 8; ++r) {
    o.dp_batches[static_cast<size_t>(r)] = BatchShape{};
    o.dp_batches[static_cast<size_t>(r)].decode_contexts.assign(r < 4 ? 64 : 16, 500);
  }
  const Built even = Build(m, "dp=8,ep=8", "decode=1x1", o);
  CheckDeepSeekExchanges(even, 8.0 * 64 * 7168 * 2, 8.0 * 64 * 7168 * 2);
}

TEST_CASE("SGLang's gather layout: dense MLPs and shared experts run split over the EP group on the gathered rows") {
  const ModelSpec m = ShippedModel("deepseek-v3");  // layers 0-2 dense (18432 wide), one shared expert of 2048
  StepGraphOptions o;
  o.ep_exchange = StepGraphOptions::EpExchange::kAllGather;
  o.ep_gather.routing = false;
  o.ep_gather.sum_len = true;
  o.ep_gather.mlps_over_group = true;
  const Built b = Build(m, "dp=8,ep=8", "decode=64x1024", o);
  const GpuProgram& rank2 = b.graph.programs[2];
  // A dense layer gathers the 8 ranks' 64 tokens (8 x 64 x 7168 x 2 bytes), runs its MLP on the 512 rows at
  // 18432 / 8 = 2304 columns, and reduce-scatters the same bytes back.
  const auto dense = LayerCollectives(rank2, 1, 2);
  CHECK(dense.at("mlp_gather").second == 8.0 * 64 * 7168 * 2);
  CHECK(dense.at("mlp_reduce_scatter").second == 8.0 * 64 * 7168 * 2);
  const KernelShape up = Find(rank2, "gate_up_proj", 1)[0]->kernel;
  CHECK((up.m == 512 && up.n == 2 * 2304));
  // An MoE layer's shared expert: the 512 gathered rows at 2048 / 8 = 256 columns, before the combine.
  const std::vector<const StepOp*> shared = Find(rank2, "shared_gate_up", 3);
  REQUIRE(shared.size() == 1);
  CHECK((shared[0]->kernel.m == 512 && shared[0]->kernel.n == 2 * 256));
  const StepOp* combine = Find(rank2, "ep_combine", 3)[0];
  CHECK(shared[0] < combine);
  // With TP inside each DP rank the graph keeps vLLM's layout: no gather around the dense MLPs.
  const Built tp2 = Build(ShippedModel("deepseek-v3"), "tp=2,dp=4,ep=8", "decode=64x1024", o);
  CHECK(LayerCollectives(tp2.graph.programs[0], 1, 2).count("mlp_gather") == 0);
}

TEST_CASE("vLLM's EP exchange with TP inside each DP rank: a gather over the DP group, then a TP all-reduce") {
  const ModelSpec m = ShippedModel("mixtral-8x7b");  // top-2 of 8 experts, hidden 4096, 32 MoE layers, bf16
  StepGraphOptions o;
  o.ep_exchange = StepGraphOptions::EpExchange::kAllGather;
  // tp=2, dp=4, ep=8: the two TP ranks of a DP rank hold the same 64 tokens, so vLLM gathers over the DP group (the
  // 4 ranks of one TP index): 4 x 64 x (4096 x 2 + 2 x 8) bytes; reduce-scatters 4 x 64 x 4096 x 2 back; and the TP
  // all-reduce sums the two TP ranks' experts (64 x 4096 x 2 bytes), after attention's all-reduce of the same size.
  const Built b = Build(m, "tp=2,dp=4,ep=8", "decode=64x1024", o);
  const GpuProgram& rank1 = b.graph.programs[1];
  const auto c = LayerCollectives(rank1, 0, 32);
  CHECK(c.at("ep_dispatch").second == 32 * 4.0 * 64 * (4096 * 2 + 2 * 8));
  CHECK(c.at("ep_combine").second == 32 * 4.0 * 64 * 4096 * 2);
  CHECK(c.at("tp_all_reduce").first == 2 * 32);
  CHECK(c.at("tp_all_reduce").second == 2 * 32 * 64.0 * 4096 * 2);
  CHECK(c.count("tp_all_gather") == 0);
  CHECK(c.count("tp_reduce_scatter") == 0);
  const StepOp& dispatch = *Find(rank1, "ep_dispatch", 0)[0];
  REQUIRE(dispatch.collective.gpus.size() == 4);
  for (int gpu : dispatch.collective.gpus) CHECK(CoordOf(b.plan, gpu).tp == CoordOf(b.plan, 1).tp);
  CHECK(dispatch.dim == ParallelDim::kEp);
  // Every rank's one expert gets 4 x 64 tokens x 2 copies / 8 experts = 64 rows; the router sees all 64 tokens.
  CHECK(Find(rank1, "experts_gate_up", 0)[0]->kernel.m == 64);
  CHECK(Find(rank1, "router", 0)[0]->kernel.m == 64);

  // tp = ep (one DP rank): nothing to gather; the experts run on the tokens every rank has and one TP all-reduce sums
  // them, as vLLM runs --tensor-parallel-size 8 --enable-expert-parallel.
  const Built tp8 = Build(m, "tp=8,ep=8", "decode=64x1024", o);
  const auto t = LayerCollectives(tp8.graph.programs[0], 0, 32);
  CHECK(t.count("ep_dispatch") == 0);
  CHECK(t.count("ep_combine") == 0);
  CHECK(t.at("tp_all_reduce").second == 2 * 32 * 64.0 * 4096 * 2);
  CHECK(Find(tp8.graph.programs[0], "experts_gate_up", 0)[0]->kernel.m == 64 * 2 / 8);
}

TEST_CASE("vLLM's EP exchange with TP: shared experts split over TP like a dense MLP") {
  const ModelSpec m = ShippedModel("deepseek-v3");  // one shared expert of 2048
  StepGraphOptions o;
  o.ep_exchange = StepGraphOptions::EpExchange::kAllGather;
  const Built b = Build(m, "tp=8,ep=8", "decode=32x1024", o);
  // 32 tokens through a gate-up of 2 x 2048 / 8 columns (the all-to-all layout instead runs 32 / 8 = 4 tokens
  // through the whole 2 x 2048).
  const KernelShape shared = Find(b.graph.programs[0], "shared_gate_up", 3)[0]->kernel;
  CHECK((shared.m == 32 && shared.n == 2 * 2048 / 8));
  const Built a2a = Build(m, "tp=8,ep=8", "decode=32x1024");
  const KernelShape whole = Find(a2a.graph.programs[0], "shared_gate_up", 3)[0]->kernel;
  CHECK((whole.m == 4 && whole.n == 2 * 2048));
  // Without EP (tp=8, experts split over TP) the exchange changes nothing: the shared expert is split once.
  const Built no_ep = Build(m, "tp=8", "decode=32x1024", o);
  const KernelShape tp_shared = Find(no_ep.graph.programs[0], "shared_gate_up", 3)[0]->kernel;
  CHECK((tp_shared.m == 32 && tp_shared.n == 2 * 2048 / 8));
}

TEST_CASE("The EP exchange's words: auto follows the engine, anything else is refused") {
  using E = StepGraphOptions::EpExchange;
  CHECK(*StepGraphOptions::ParseEpExchange("allgather", false) == E::kAllGather);
  CHECK(*StepGraphOptions::ParseEpExchange("alltoall", true) == E::kAllToAll);
  CHECK(*StepGraphOptions::ParseEpExchange("auto", true) == E::kAllGather);
  CHECK(*StepGraphOptions::ParseEpExchange("auto", false) == E::kAllToAll);
  const Result<E> bad = StepGraphOptions::ParseEpExchange("deepep", false);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "expected auto, alltoall or allgather, got 'deepep'");
}

TEST_CASE("Expert imbalance: the busiest EP rank receives f times the average") {
  const ModelSpec m = ShippedModel("deepseek-v3");
  StepGraphOptions options;
  options.expert_imbalance = 2.0;
  const Built b = Build(m, "dp=8,ep=8", "decode=1024x100", options);
  const double per_rank = 1024.0 * 8 * 7392;  // a rank's copies at fp8 + scales
  const StepOp& dispatch = *Find(b.graph.programs[0], "ep_dispatch", 3)[0];
  CHECK(dispatch.collective.op == CollectiveOp::kAllToAllV);
  // Rank 0 gets 2/8 of every other rank's copies: its column sums to 7 x per_rank x 2/8 = 1.75 per_rank, more than
  // any row (at most per_rank x (1 - 0.75/7)).
  CHECK(dispatch.collective.bytes == Approx(1.75 * per_rank));
  double row = 0;
  for (int j = 0; j < 8; ++j) row += dispatch.collective.matrix_bytes[static_cast<size_t>(j)];
  CHECK(row == Approx(per_rank * (1 - 2.0 / 8)));                              // rank 0 keeps its own 2/8 at home
  CHECK(Find(b.graph.programs[0], "experts_gate_up", 3)[0]->kernel.m == 512);  // twice the balanced 256
}

TEST_CASE("A small decode batch reads the weights of the experts its tokens chose, not all of them") {
  const ModelSpec m = ShippedModel("mixtral-8x7b");  // top-2 of 8
  // One token picks exactly 2 experts: E (1 - (1 - k/E)^1) = 8 x 2/8 = 2 busy experts of 1 row each.
  const KernelShape one = Find(Build(m, "tp=1", "decode=1x100").graph.programs[0], "experts_gate_up", 0)[0]->kernel;
  CHECK(one.batch == 2);
  CHECK(one.m == 1);
  // 4 tokens: 8 x (1 - (3/4)^4) = 5.47 -> 6 busy experts sharing 8 rows: 2 rows each (padded).
  const KernelShape four = Find(Build(m, "tp=1", "decode=4x100").graph.programs[0], "experts_gate_up", 0)[0]->kernel;
  CHECK(four.batch == 6);
  CHECK(four.m == 2);
}

TEST_CASE("Pipeline stages send hidden state and residual to the same TP rank of the next stage") {
  const ModelSpec m = ShippedModel("llama-3.1-70b");
  const Built b = Build(m, "tp=8,pp=2", "decode=128x2048");
  const GpuProgram& first = b.graph.programs[2];    // stage 0, TP rank 2
  const GpuProgram& second = b.graph.programs[10];  // stage 1, TP rank 2
  const double bytes = 2.0 * 128 * 8192 * 2;
  const StepOp& send = first.ops.back();
  CHECK(send.name == "pp_send");
  CHECK(send.collective.gpus == std::vector<int>{2, 10});
  CHECK(send.collective.bytes == bytes);
  CHECK(second.ops.front().name == "pp_recv");
  CHECK(second.ops.front().collective.gpus == std::vector<int>{2, 10});
  // 40 layers each; only the last stage computes logits.
  CHECK(LayerCollectives(first, 0, 80).at("tp_all_reduce").first == 2 * 40);
  CHECK(Find(first, "lm_head", 80).empty());
  CHECK(Find(second, "lm_head", 80).size() == 1);
}

TEST_CASE("Context parallelism: ring passes of the prefill KV, cp - 1 hops of each rank's share") {
  const ModelSpec m = ShippedModel("llama-3.1-8b");  // 8 KV heads x 128, 32 layers
  const Built b = Build(m, "cp=4", "prefill=1x8192");
  const auto c = LayerCollectives(b.graph.programs[1], 0, 32);
  // Each rank's share: 8192 / 4 positions x (2 x 8 x 128 x 2) bytes = 2048 x 4096 per hop; 3 hops per layer.
  CHECK(c.at("cp_ring_kv_pass").first == 3 * 32);
  CHECK(c.at("cp_ring_kv_pass").second == 3 * 32 * 2048.0 * 4096);
  const StepOp& hop = *Find(b.graph.programs[1], "cp_ring_kv_pass", 0)[0];
  CHECK(hop.collective.gpus == std::vector<int>{1, 2});
  // Its GEMMs see a quarter of the tokens.
  CHECK(Find(b.graph.programs[1], "qkv_proj", 0)[0]->kernel.m == 2048);
}

TEST_CASE("Dense models: DP ranks are independent replicas, the graph holds the one asked for") {
  const ModelSpec m = ShippedModel("llama-3.1-8b");
  StepGraphOptions options;
  options.replica = 1;
  const Built b = Build(m, "tp=2,dp=2", "decode=8x100", options);
  REQUIRE(b.graph.programs.size() == 2);
  CHECK(b.graph.programs[0].gpu == 2);
  CHECK(b.graph.programs[1].gpu == 3);
}

}  // namespace
}  // namespace wiresim

namespace wiresim {
namespace {

using testing::ShippedModel;

int Count(const GpuProgram& program, std::string_view name) {
  int n = 0;
  for (const StepOp& op : program.ops) n += op.name == name ? 1 : 0;
  return n;
}

std::vector<const StepOp*> Named(const GpuProgram& program, std::string_view name) {
  std::vector<const StepOp*> out;
  for (const StepOp& op : program.ops)
    if (op.name == name) out.push_back(&op);
  return out;
}

TEST_CASE("Speculative decoding: the target verifies every draft, the drafter runs one layer per draft token") {
  const ModelSpec m = ShippedModel("llama-3.1-70b");  // 80 layers, hidden 8192, vocab 128256, 64 heads, 8 KV heads
  StepGraphOptions o;
  o.draft.passes = 3;  // an EAGLE head: a dense layer
  // 4 decodes, each its new token and 3 drafts (context 1000, the 4 included), and a 100-token last chunk.
  const testing::BuiltGraph b = testing::BuildGraph(m, "tp=2", "decode=4x1000+3,prefill=1x100", o);
  const GpuProgram& g = b.graph.programs[0];
  // The target: 4 x 4 + 100 = 116 rows through every GEMM; logits for every decode query and the chunk's last
  // token: 17 rows, 128256 / 2 columns on each TP rank.
  const std::vector<const StepOp*> lm_head = Named(g, "lm_head");
  REQUIRE(lm_head.size() == 1);
  CHECK(lm_head[0]->kernel.m == 17);
  CHECK(lm_head[0]->kernel.n == 128256 / 2);
  // Its decode attention: 4 queries over 1000 keys each: 4 x 1000 - 6 pairs per sequence, 32 query heads per rank,
  // 2 x (128 + 128) FLOPs per pair and head.
  const std::vector<const StepOp*> attention = Named(g, "attention_decode");
  REQUIRE(attention.size() == 80 + 1);  // every target layer and the drafter's first pass
  CHECK(attention[0]->kernel.flops == 4 * 2.0 * 32 * 256 * (4 * 1000 - 6));
  CHECK(attention[80]->kernel.flops == attention[0]->kernel.flops);  // the first pass sees the target's batch
  // The drafter: 3 passes, each the input projection (2h -> h), one layer, and the LM head over one row per
  // sequence (5: the decodes and the chunk). The first over every row of the batch (116), the others over one per
  // sequence (5), each one position further.
  const std::vector<const StepOp*> proj = Named(g, "draft_input_proj");
  REQUIRE(proj.size() == 3);
  CHECK(proj[0]->kernel.m == 116);
  CHECK(proj[0]->kernel.k == 2 * 8192);
  CHECK(proj[1]->kernel.m == 5);
  CHECK(proj[2]->kernel.m == 5);
  for (const StepOp* op : Named(g, "draft_lm_head")) CHECK(op->kernel.m == 5);
  CHECK(Count(g, "draft_lm_head") == 3);
  CHECK(Count(g, "draft_logits_all_gather") == 3);
  // Passes 2 and 3: one query per sequence over its context after the step plus 1 and 2: the decodes' 1001 and
  // 1002, the chunk's 101 and 102.
  const std::vector<const StepOp*> later = Named(g, "draft_attention_decode");
  REQUIRE(later.size() == 2);
  CHECK(later[0]->kernel.flops == 2.0 * 32 * 256 * (4 * 1001 + 101));
  CHECK(later[1]->kernel.flops == 2.0 * 32 * 256 * (4 * 1002 + 102));
  // The drafter's ops run once per iteration, with the head: layer num_layers. Its TP all-reduces: two per pass.
  for (const StepOp* op : later) CHECK(op->layer == 80);
  int reduces = 0;
  for (const StepOp& op : g.ops) reduces += op.name == "tp_all_reduce" && op.layer == 80 ? 1 : 0;
  CHECK(reduces == 2 * 3);
  REQUIRE(CheckStepGraph(b.graph).ok());
}

TEST_CASE(
    "Speculative decoding: DeepSeek's MTP layer is an MoE layer, its later passes dispatch one token per "
    "sequence") {
  const ModelSpec m = ShippedModel("deepseek-v3");  // top-8, hidden 7168, fp8 experts
  StepGraphOptions o;
  o.draft.passes = 2;
  o.draft.moe = true;
  // Attention-DP over 8 ranks, each with 2 decodes verifying one draft (2 rows each): 4 rows per rank.
  const testing::BuiltGraph b = testing::BuildGraph(m, "dp=8,ep=8", "decode=2x500+1", o);
  REQUIRE(CheckStepGraph(b.graph).ok());
  const double per_copy = 7168 + 56 * 4;  // fp8 dispatch with its scales
  // The drafter's layer at the target's fp8 unless given its own type; its input projection is unquantized (bf16).
  CHECK(Named(b.graph.programs[0], "experts_gate_up")[58]->kernel.weight_dtype == DataType::kFloat8E4M3);
  CHECK(Named(b.graph.programs[0], "draft_input_proj")[0]->kernel.weight_dtype == DataType::kBFloat16);
  StepGraphOptions bf16 = o;
  bf16.draft.weight_dtype = DataType::kBFloat16;
  const testing::BuiltGraph c = testing::BuildGraph(m, "dp=8,ep=8", "decode=2x500+1", bf16);
  const std::vector<const StepOp*> experts = Named(c.graph.programs[0], "experts_gate_up");
  REQUIRE(experts.size() == 58 + 2);
  CHECK(experts[57]->kernel.weight_dtype == DataType::kFloat8E4M3);  // the target's last MoE layer
  CHECK(experts[58]->kernel.weight_dtype == DataType::kBFloat16);    // the drafter's
  CHECK(experts[58]->kernel.dtype == DataType::kBFloat16);
  for (const GpuProgram& g : b.graph.programs) {
    const std::vector<const StepOp*> dispatch = Named(g, "ep_dispatch");
    // 58 target MoE layers and the drafter's 2 passes.
    REQUIRE(dispatch.size() == 58 + 2);
    // A plain all-to-all of a rank's copies (its own slot included): the target and the first pass 4 rows x 8
    // copies, the second pass 2 rows (one per sequence) x 8.
    CHECK(dispatch[57]->collective.bytes == 4 * 8 * per_copy);
    CHECK(dispatch[58]->collective.bytes == 4 * 8 * per_copy);
    CHECK(dispatch[59]->collective.bytes == 2 * 8 * per_copy);
  }
}

TEST_CASE("Speculative decoding: a drafter with pipeline or context parallelism is refused") {
  const ModelSpec m = ShippedModel("llama-3.1-8b");
  Result<ParallelPlan> plan = ParsePlan("tp=2,pp=2");
  REQUIRE(plan.ok());
  Result<Placement> where = ParsePlacement("packed", *plan, 4);
  StepGraphOptions o;
  o.draft.passes = 1;
  Result<StepGraph> g = BuildStepGraph(m, *plan, *where, *ParseBatch("decode=2x100+1"), o);
  REQUIRE_FALSE(g.ok());
  CHECK_THAT(g.status().message(), Catch::Matchers::Contains("not modelled"));
}

}  // namespace
}  // namespace wiresim
