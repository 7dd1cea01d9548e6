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

TEST_CASE("Llama-3.1-405B on the DGX H100 topology: bf16 exits 2 with the numbers, fp8 fits") {
  const Run bf16 = Wiresim({"model", "show", "llama-3.1-405b", "--plan", "tp=8", "--topology", "dgx-h100"});
  CHECK(bf16.code == kExitBadInput);
  CHECK_THAT(bf16.err, Contains("does not fit") && Contains("needs 104.5 GB") && Contains("72.0 GB is usable"));
  const Run fp8 = Wiresim({"model", "show", "llama-3.1-405b", "--plan", "tp=8", "--topology", "dgx-h100",
                           "--weight-dtype", "fp8", "--json"});
  REQUIRE(fp8.code == kExitOk);
  const nlohmann::json j = nlohmann::json::parse(fp8.out);
  CHECK(j["plan"]["max_kv_tokens"] == 274'224);  // memory_test.cc derives it
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
}

TEST_CASE("compute gemm --csv times each row as the library's roofline does") {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "wiresim-compute-gemm-test";
  std::filesystem::create_directories(dir);
  const std::string in = (dir / "q.csv").string();
  {
    std::ofstream f(in);
    f << "# a comment\nlabel,gpu,m,n,k,dtype\nx,h100,1,8192,8192,bf16\ny,a100,4096,4096,4096,bf16\n";
  }
  const Run r = Wiresim({"compute", "gemm", "--csv", in});
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
  std::filesystem::remove_all(dir);

  const Run bad = Wiresim({"compute", "gemm", "--gpu", "h100", "-m", "0", "-n", "1", "-k", "1"});
  CHECK(bad.code == kExitBadInput);
}

}  // namespace
}  // namespace wiresim::app
