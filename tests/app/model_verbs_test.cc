// `wiresim model show` and `wiresim compute gemm` end to end: exit codes, the published figures in the JSON, and
// the 405B-on-one-node case from the command line.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "sim/app/cli.h"
#include "sim/compute/roofline.h"

namespace wiresim::app {
namespace {

using Catch::Matchers::Contains;

struct Run {
  int code = 0;
  std::string out;
  std::string err;
};

Run Wiresim(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  FileSystemReader reader;
  AppContext ctx{out, err, reader};
  Run r;
  r.code = Main(args, ctx);
  r.out = out.str();
  r.err = err.str();
  return r;
}

TEST_CASE("model show --json carries the published parameter and KV figures") {
  const Run r = Wiresim({"model", "show", "llama-3.1-70b", "--json"});
  REQUIRE(r.code == kExitOk);
  const nlohmann::json j = nlohmann::json::parse(r.out);
  CHECK(j["parameters"]["total"] == 70'553'706'496);  // 70.6B (parameters_test.cc derives it)
  CHECK(j["kv_bytes_per_token"] == 327'680.0);
  const Run ds = Wiresim({"model", "show", "deepseek-v3", "--json"});
  REQUIRE(ds.code == kExitOk);
  const nlohmann::json d = nlohmann::json::parse(ds.out);
  CHECK(d["kv_bytes_per_token"] == 70'272.0);
  CHECK(d["dtypes"]["weights"] == "f8e4m3");
}

TEST_CASE("model show reads a HF config.json given by path") {
  const Run r =
      Wiresim({"model", "show", std::string(WIRESIM_SOURCE_DIR) + "/tests/data/hf/qwen3-moe-style.config.json"});
  REQUIRE(r.code == kExitOk);
  CHECK_THAT(r.out, Contains("128 experts (top-8) of 1536"));
}

// model show sizes the activations by vLLM's defaults for the GPU: on an H100, 8192 tokens and 1024 sequences. The
// sampler's pass is then the peak: 8192 x 16384 x 2 + 1024 x 128,256 x 15 = 2,238,447,616 B = 2.08 GiB; with the
// weights (94.50 GiB, memory_test.cc) and the 2.10 GiB reserve, 98.69 GiB against 71.27 GiB usable. At fp8 the
// weights are 51,264,782,336 B and 71.271 GiB - 47.74 - 2.08 - 2.10 leaves 321,920 tokens of 64,512 B.
TEST_CASE("Llama-3.1-405B on the DGX H100 topology: bf16 exits 2 with the numbers, fp8 fits") {
  const Run bf16 = Wiresim({"model", "show", "llama-3.1-405b", "--plan", "tp=8", "--topology", "dgx-h100"});
  CHECK(bf16.code == kExitBadInput);
  CHECK_THAT(bf16.err, Contains("does not fit") && Contains("needs 98.69 GiB") && Contains("71.27 GiB is usable"));
  const Run fp8 = Wiresim({"model", "show", "llama-3.1-405b", "--plan", "tp=8", "--topology", "dgx-h100",
                           "--weight-dtype", "fp8", "--json"});
  REQUIRE(fp8.code == kExitOk);
  const nlohmann::json j = nlohmann::json::parse(fp8.out);
  CHECK(j["plan"]["max_kv_tokens"] == 321'920);
  CHECK(j["plan"]["hardware"] == "8x h100-sxm (dgx-h100)");
}

TEST_CASE("model show rejects plans and options with a message") {
  const Run heads = Wiresim({"model", "show", "llama-3.1-70b", "--plan", "tp=3"});
  CHECK(heads.code == kExitBadInput);
  CHECK_THAT(heads.err, Contains("not divisible by tp=3"));
  const Run gpus = Wiresim({"model", "show", "llama-3.1-70b", "--plan", "tp=8,pp=2", "--topology", "dgx-h100"});
  CHECK(gpus.code == kExitBadInput);
  CHECK_THAT(gpus.err, Contains("needs tp x pp x cp x dp = 16 GPUs but 8 are available"));
  const Run gpu = Wiresim({"model", "show", "llama-3.1-70b", "--plan", "tp=8", "--gpu", "mi300x"});
  CHECK(gpu.code == kExitBadInput);
  CHECK_THAT(gpu.err, Contains("no such GPU"));
  // Without --plan the GPU is not used, and was not checked: an unknown one is refused all the same, before any output.
  const Run unused = Wiresim({"model", "show", "llama-3.1-70b", "--gpu", "mi300x"});
  CHECK(unused.code == kExitBadInput);
  CHECK_THAT(unused.err, Contains("--gpu mi300x: no such GPU"));
  CHECK(unused.out.empty());
}

// A file written to its own temporary directory, removed with it.
struct TempFile {
  TempFile(const std::string& dir_name, const std::string& file_name, const std::string& text)
      : dir(std::filesystem::temp_directory_path() / dir_name), path((dir / file_name).string()) {
    std::filesystem::create_directories(dir);
    std::ofstream(path) << text;
  }
  ~TempFile() { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
  std::string path;
};

TEST_CASE("compute gemm --csv times each row as the library's roofline does") {
  const TempFile in("wiresim-compute-gemm-test", "q.csv",
                    "# a comment\nlabel,gpu,m,n,k,dtype\nx,h100,1,8192,8192,bf16\ny,a100,4096,4096,4096,bf16\n");
  const Run r = Wiresim({"compute", "gemm", "--csv", in.path});
  REQUIRE(r.code == kExitOk);
  std::istringstream lines(r.out);
  std::string comment, header, x, y;
  std::getline(lines, comment);
  std::getline(lines, header);
  std::getline(lines, x);
  std::getline(lines, y);
  CHECK(header == "label,gpu,m,n,k,dtype,predicted_us");
  const double x_us = RooflineModel(*FindGpuSpec("h100"))
                          .KernelTime(GemmKernel(1, 8192, 8192, DataType::kBFloat16, DataType::kBFloat16))
                          .ToMicroseconds();
  CHECK(std::stod(x.substr(x.rfind(',') + 1)) == Approx(x_us).epsilon(1e-4));
  CHECK(y.rfind("y,a100,4096,4096,4096,bf16,", 0) == 0);

  const Run bad = Wiresim({"compute", "gemm", "--gpu", "h100", "-m", "0", "-n", "1", "-k", "1"});
  CHECK(bad.code == kExitBadInput);
}

TEST_CASE("compute gemm refuses a GEMM whose time no simulation holds, naming the row") {
  // Each dimension within its bound of 2^24, their product not: 2 x 2^96 FLOPs take ~2e14 s on an H100, past the
  // 9.2e6 s (int64 picoseconds) of a simulated time. Exit 2 and the file and line, never an abort.
  const TempFile in("wiresim-compute-gemm-huge", "huge.csv",
                    "gpu,m,n,k,batch\nh100,64,8192,8192,1\nh100,16777216,16777216,16777216,16777216\n");
  const Run csv = Wiresim({"compute", "gemm", "--csv", in.path});
  CHECK(csv.code == kExitBadInput);
  CHECK_THAT(csv.err, Contains(in.path + ":3: the GEMM 16777216x16777216x16777216 (batch 16777216) would take"));
  CHECK_THAT(csv.err, Contains("past the longest time a simulation represents"));

  const std::string d = "16777216";
  const Run one = Wiresim({"compute", "gemm", "--gpu", "h100", "-m", d, "-n", d, "-k", d, "--batch", d});
  CHECK(one.code == kExitBadInput);
  CHECK_THAT(one.err, Contains("would take"));
  // A dimension past 2^24 is refused by its flag, as the CSV refuses it by its column.
  const Run wide = Wiresim({"compute", "gemm", "--gpu", "h100", "-m", "9223372036854775807", "-n", "1", "-k", "1"});
  CHECK(wide.code == kExitBadInput);
  CHECK_THAT(wide.err, Contains("-m: expected a whole number from 1 to 16777216"));
}

TEST_CASE("model show refuses a batch whose kernels no simulation can time, naming the batch") {
  // A made-up model whose sizes are each within bounds: one KV head of 2^19 dimensions over 32 layers (8.6 GB of
  // weights: it fits an H100). Its causal prefill of one 2^24-token prompt attends over L(L+1)/2 = 1.4e14 pairs, at
  // 2 x heads x (qk + v dims) = 2 x 2^20 FLOPs a pair: 2.95e20 FLOPs a layer, 9.4e21 over 32. At the roofline's
  // attention rate on an H100 (989 TFLOP/s x 0.637 at long contexts) that is 1.5e7 s, past Time's 9.2e6 s (and
  // past the half of it an iteration's kernels may take). Exit 2, not an overflow abort.
  const TempFile model("wiresim-model-show-huge", "huge.toml",
                       "name = \"huge-attn\"\nmodel_type = \"llama\"\nhidden_size = 64\nnum_hidden_layers = 32\n"
                       "num_attention_heads = 1\nnum_key_value_heads = 1\nhead_dim = 524288\n"
                       "intermediate_size = 64\nvocab_size = 64\nmax_position_embeddings = 16777216\n");
  const Run r =
      Wiresim({"model", "show", model.path, "--plan", "tp=1", "--gpu", "h100", "--batch", "prefill=1x16777216"});
  CHECK(r.code == kExitBadInput);
  CHECK_THAT(r.err, Contains("--batch prefill=1x16777216: GPU 0's kernels would take"));
  CHECK_THAT(r.err, Contains("past the longest time a simulation represents"));
  // A short prompt of the same model times as usual.
  CHECK(Wiresim({"model", "show", model.path, "--plan", "tp=1", "--gpu", "h100", "--batch", "prefill=1x2048"}).code ==
        kExitOk);
}

TEST_CASE("model show says when a batch's KV context is more than the KV cache holds") {
  auto show = [](const std::string& batch) {
    const Run r =
        Wiresim({"model", "show", "llama-3.1-8b", "--plan", "tp=1", "--gpu", "h100", "--batch", batch, "--json"});
    INFO(r.err);
    REQUIRE(r.code == kExitOk);
    return nlohmann::json::parse(r.out);
  };
  // Context in whole blocks of 16: a 17-token sequence holds 2 blocks, 32 tokens; a chunk of 100 tokens after 28
  // cached ones holds 128.
  const nlohmann::json small = show("decode=1x17,prefill=1x100@28");
  CHECK(small["step_graph"]["batch_kv_tokens"] == 32 + 128);
  CHECK(small["step_graph"]["batch_fits_kv_cache"] == true);
  // Llama-3.1-8B on one H100 caches a few 131,072-token contexts (plan.max_kv_tokens): n of them fit while
  // n x 131,072 is at most that.
  const int64_t cache = small["plan"]["max_kv_tokens"].get<int64_t>();
  const int64_t fit = cache / 131072;
  REQUIRE(fit >= 1);
  const nlohmann::json in = show("decode=" + std::to_string(fit) + "x131072");
  CHECK(in["step_graph"]["batch_kv_tokens"] == fit * 131072);
  CHECK(in["step_graph"]["batch_fits_kv_cache"] == true);
  const nlohmann::json out = show("decode=" + std::to_string(fit + 1) + "x131072");
  CHECK(out["step_graph"]["batch_fits_kv_cache"] == false);
  const Run text = Wiresim({"model", "show", "llama-3.1-8b", "--plan", "tp=1", "--gpu", "h100", "--batch",
                            "decode=" + std::to_string(fit + 1) + "x131072"});
  CHECK_THAT(text.out, Contains("the KV cache holds: no scheduler runs it at once"));
}

TEST_CASE("model show bounds --expert-imbalance as run does: 1 to 1e6") {
  for (const char* bad : {"0.5", "1e300", "nan"}) {
    const Run r =
        Wiresim({"model", "show", "deepseek-v3", "--plan", "dp=8,ep=8", "--gpu", "h200", "--expert-imbalance", bad});
    CHECK(r.code == kExitBadInput);
    CHECK_THAT(r.err, Contains("--expert-imbalance: expected a factor"));
  }
}

// The `collective` verb's closed-form kernel time (no host launch, as inside a serving step:
// CollectiveParams::InServingStep), in us, for one size of `op` over GPUs 0-7 of a DGX H100.
double CollectiveVerbMicroseconds(const std::string& op, double bytes) {
  const std::string size = std::to_string(static_cast<int64_t>(bytes));
  const Run r = Wiresim({"collective", "--topology", "dgx-h100", "--gpus", "0-7", "--op", op, "-b", size, "-e", size,
                         "--launch-us", "0", "--json"});
  REQUIRE(r.code == kExitOk);
  const nlohmann::json j = nlohmann::json::parse(r.out);
  REQUIRE(j["rows"].size() == 1);
  REQUIRE(j["rows"][0]["size"].get<double>() == bytes);
  return j["rows"][0]["time_us"].get<double>();
}

TEST_CASE("model show on a topology times each collective and the iteration with communication") {
  // Llama-3.1-70B, tp=8 on one DGX H100, 64 decodes: hidden 8192 in bf16, so every TP all-reduce carries
  // 64 x 8192 x 2 = 1,048,576 bytes: one after the vocab-parallel embedding, two in each of the 80 layers. The
  // logits of the 128,256-token vocabulary are gathered over TP: 64 x 128,256 x 2 = 16,416,768 bytes in all.
  const Run r = Wiresim({"model", "show", "llama-3.1-70b", "--plan", "tp=8", "--topology", "dgx-h100", "--batch",
                         "decode=64x1024", "--json"});
  REQUIRE(r.code == kExitOk);
  const nlohmann::json sg = nlohmann::json::parse(r.out)["step_graph"];
  const double all_reduce_us = CollectiveVerbMicroseconds("all_reduce", 64 * 8192 * 2);
  const double all_gather_us = CollectiveVerbMicroseconds("all_gather", 64 * 128256 * 2);
  int collective_rows = 0;
  for (const nlohmann::json& row : sg["rows"]) {
    if (row["kind"] != "collective") continue;
    ++collective_rows;
    INFO(row.dump());
    REQUIRE(row.contains("time_us"));
    CHECK_FALSE(row["algorithm"].get<std::string>().empty());
    CHECK_FALSE(row["protocol"].get<std::string>().empty());
    const bool gather = row["collective"] == "all_gather";
    CHECK(row["bytes"].get<double>() == (gather ? 64.0 * 128256 * 2 : 64.0 * 8192 * 2));
    CHECK(row["time_us"].get<double>() == Approx(gather ? all_gather_us : all_reduce_us).epsilon(1e-9));
  }
  CHECK(collective_rows == 4);  // the embedding's, layer 0's two, the logits'
  CHECK(sg["collectives"]["TP"]["calls"] == 162);
  // Every rank runs the same program and each kernel waits for the all-reduce before it (blocking TP), so the
  // iteration is the kernels back to back plus every collective in full: nothing overlaps.
  const double compute_us = sg["compute_time_us"].get<double>();
  const double expected_us = compute_us + 161 * all_reduce_us + all_gather_us;
  CHECK(sg["iteration_time_us"].get<double>() == Approx(expected_us).epsilon(1e-9));
  CHECK(sg["exposed_communication_us"].get<double>() == Approx(expected_us - compute_us).epsilon(1e-9));

  // The text says the same, and without a topology says the collectives are not timed.
  const Run text = Wiresim(
      {"model", "show", "llama-3.1-70b", "--plan", "tp=8", "--topology", "dgx-h100", "--batch", "decode=64x1024"});
  REQUIRE(text.code == kExitOk);
  CHECK_THAT(text.out, Contains("Iteration time with communication: ") && Contains("exposed communication"));
  const Run bare = Wiresim({"model", "show", "llama-3.1-70b", "--plan", "tp=8", "--batch", "decode=64x1024"});
  REQUIRE(bare.code == kExitOk);
  CHECK_THAT(bare.out, Contains("collectives are not timed without --topology"));
  CHECK_THAT(bare.out, !Contains("Iteration time with communication"));
}

}  // namespace
}  // namespace wiresim::app
