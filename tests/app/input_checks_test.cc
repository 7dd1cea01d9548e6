// Values the verbs used to accept and get wrong, each now an error (exit 2) naming the field or flag; machine-readable
// output where a verb printed a table or nothing; and --help for the verb groups.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "sim/app/cli.h"
#include "sim/compute/gpu_spec.h"
#include "tests/testing/cli.h"

namespace wiresim::app {
namespace {

using Catch::Matchers::Contains;

using Run = testing::CliRun;

Run Wiresim(const std::vector<std::string>& args) { return testing::RunWiresim(args); }

struct TempDir : testing::ScratchDir {
  TempDir() : ScratchDir("wiresim-checks") {}
};

// Two GPUs joined by an NVLink bridge under one CPU; `model` is the GPU model on line 8.
std::string Workstation(const std::string& model) {
  return "name = \"ws\"\n"
         "\n"
         "[[template]]\n"
         "name = \"box\"\n"
         "  [[template.node]]\n"
         "  name = \"gpu\"\n"
         "  kind = \"gpu\"\n"
         "  model = \"" +
         model +
         "\"\n"
         "  count = 2\n"
         "  [[template.node]]\n"
         "  name = \"cpu\"\n"
         "  kind = \"cpu\"\n"
         "  [[template.link]]\n"
         "  from = \"gpu0\"\n"
         "  to = \"gpu1\"\n"
         "  preset = \"nvlink-bridge-a6000\"\n"
         "  [[template.link]]\n"
         "  from = \"gpu[*]\"\n"
         "  to = \"cpu\"\n"
         "  preset = \"pcie4x16\"\n"
         "\n"
         "[[host]]\n"
         "template = \"box\"\n"
         "name = \"ws\"\n";
}

TEST_CASE("An input read whole is bounded, and a directory is not a file") {
  TempDir dir;
  const std::string path = dir / "sixteen.txt";
  std::ofstream(path) << "0123456789abcdef";  // 16 bytes
  FileSystemReader sixteen(16);
  auto exact = sixteen.Read(path, "");
  REQUIRE(exact.ok());
  CHECK(exact->text == "0123456789abcdef");
  FileSystemReader fifteen(15);
  auto over = fifteen.Read(path, "");
  REQUIRE_FALSE(over.ok());
  CHECK(over.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(over.status().message(), Contains(path + ": longer than 15 bytes"));
  // A file that never ends stops at the bound (here 1 MiB; wiresim's own is 1 GiB) instead of filling memory.
  FileSystemReader mebibyte(size_t{1} << 20);
  auto endless = mebibyte.Read("/dev/zero", "");
  REQUIRE_FALSE(endless.ok());
  CHECK_THAT(endless.status().message(), Contains("/dev/zero: longer than 1 MiB"));
  auto folder = sixteen.Read(dir / "", "");
  REQUIRE_FALSE(folder.ok());
  CHECK(folder.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(folder.status().message(), Contains("a directory, expected a file"));
  // On the command line: exit 2 with the message, where before a directory read as an internal error (exit 1).
  const Run r = Wiresim({"topo", "show", dir / ""});
  CHECK(r.code == kExitBadInput);
  CHECK_THAT(r.err, Contains("a directory, expected a file"));
}

TEST_CASE("A placement listing GPUs names the topology's GPUs without --gpus, positions in --gpus with it") {
  const std::vector<std::string> base = {"run",    "--topology", "dgx-h100",   "--model", "llama-3.1-8b",
                                         "--plan", "tp=2",       "--requests", "2",       "--quiet"};
  auto first_line = [&](std::vector<std::string> more) {
    std::vector<std::string> a = base;
    a.insert(a.end(), more.begin(), more.end());
    const Run r = Wiresim(a);
    INFO(r.err);
    REQUIRE(r.code == kExitOk);
    return r.out.substr(0, r.out.find('\n'));
  };
  // Refused before ("GPU 5 does not exist (GPUs 0-1)": the default selection was the first tp x pp GPUs).
  CHECK_THAT(first_line({"--placement", "0,5"}), Contains("tp=2 on GPUs 0,5,"));
  CHECK_THAT(first_line({"--placement", "0,1", "--gpus", "4-7"}), Contains("tp=2 on GPUs 4-5,"));
  const Run past = Wiresim(
      {"run", "--topology", "dgx-h100", "--model", "llama-3.1-8b", "--plan", "tp=2", "--placement", "0,8", "--quiet"});
  CHECK(past.code == kExitBadInput);
  CHECK_THAT(past.err, Contains("GPU 8 does not exist (GPUs 0-7)"));
}

TEST_CASE("A GPU model wiresim has no spec for is refused where a topology is loaded") {
  TempDir dir;
  std::ofstream(dir / "typo.toml") << Workstation("h100-sxn");
  std::ofstream(dir / "good.toml") << Workstation("rtx-a6000");
  for (const std::vector<std::string>& verb : std::vector<std::vector<std::string>>{
           {"topo", "show", dir / "typo.toml"},
           {"collective", "--topology", dir / "typo.toml", "-b", "1M", "-e", "1M"},
           {"model", "show", "llama-3.1-8b", "--plan", "tp=2", "--topology", dir / "typo.toml"}}) {
    const Run r = Wiresim(verb);
    CHECK(r.code == kExitBadInput);
    CHECK_THAT(r.err,
               Contains("typo.toml:") && Contains("model") && Contains("\"h100-sxn\"") && Contains("known: h100-sxm"));
  }
  CHECK(Wiresim({"topo", "show", dir / "good.toml"}).code == kExitOk);
  // A short name the catalog takes but the collective part's generation table does not: asked for in full.
  std::ofstream(dir / "short.toml") << Workstation("4090");
  const Run short_name = Wiresim({"topo", "show", dir / "short.toml"});
  CHECK(short_name.code == kExitBadInput);
  CHECK_THAT(short_name.err, Contains("model") && Contains("write \"rtx-4090\""));
}

TEST_CASE("Every GPU in the catalog is taken by name where a topology is loaded") {
  // The compute catalog and the collective part's generation table are two lists: a catalog name the generation
  // table did not know would be refused by every verb.
  TempDir dir;
  for (const GpuSpec& g : GpuCatalog()) {
    INFO(g.name);
    std::ofstream(dir / "box.toml") << Workstation(std::string(g.name));
    CHECK(Wiresim({"topo", "show", dir / "box.toml"}).code == kExitOk);
  }
}

TEST_CASE("topo import refuses an unknown --gpu-model and writes the catalog's name for a known one") {
  TempDir dir;
  // Our own two-GPU box: an NVLink bridge, one NUMA node.
  std::ofstream(dir / "smi.txt") << "\tGPU0\tGPU1\tCPU Affinity\tNUMA Affinity\n"
                                    "GPU0\t X \tNV4\t0-15\t0\n"
                                    "GPU1\tNV4\t X \t0-15\t0\n";
  const Run typo = Wiresim({"topo", "import", dir / "smi.txt", "--gpu-model", "h100-sxn"});
  CHECK(typo.code == kExitBadInput);
  CHECK_THAT(typo.err, Contains("--gpu-model h100-sxn") && Contains("known:"));
  const Run alias = Wiresim({"topo", "import", dir / "smi.txt", "--gpu-model", "a6000"});
  REQUIRE(alias.code == kExitOk);
  CHECK_THAT(alias.out, Contains("model = \"rtx-a6000\""));
}

TEST_CASE("nvidia-smi GPUs that are all SYS to each other stay GPUs, on the sockets their NUMA affinity names") {
  TempDir dir;
  // Four PCIe GPUs printed SYS to each other, two per NUMA node (as some AMD servers print them), no NVLink.
  std::ofstream(dir / "sys.txt") << "\tGPU0\tGPU1\tGPU2\tGPU3\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID\n"
                                    "GPU0\t X \tSYS\tSYS\tSYS\t0-15\t0\t\tN/A\n"
                                    "GPU1\tSYS\t X \tSYS\tSYS\t0-15\t0\t\tN/A\n"
                                    "GPU2\tSYS\tSYS\t X \tSYS\t16-31\t1\t\tN/A\n"
                                    "GPU3\tSYS\tSYS\tSYS\t X \t16-31\t1\t\tN/A\n";
  // Nothing names the GPU model and no NVLink count suggests one: refused rather than written blank.
  const Run blank = Wiresim({"topo", "import", dir / "sys.txt"});
  CHECK(blank.code == kExitBadInput);
  CHECK_THAT(blank.err, Contains("does not name the GPU model") && Contains("--gpu-model"));
  const Run r = Wiresim({"topo", "import", dir / "sys.txt", "--gpu-model", "rtx-4090", "-o", dir / "sys.toml"});
  REQUIRE(r.code == kExitOk);
  CHECK_THAT(r.err, !Contains("WARNING"));  // the SYS pairs within a NUMA node are explained, not mismatches
  const Run shown = Wiresim({"topo", "show", dir / "sys.toml", "--json"});
  REQUIRE(shown.code == kExitOk);
  CHECK_THAT(Wiresim({"topo", "show", dir / "sys.toml"}).out, Contains("4 GPUs (4x rtx-4090)") && Contains("2 CPUs"));
  const auto j = nlohmann::json::parse(shown.out);
  // GPU0-GPU2 cross sockets: still SYS; GPU0-GPU1 share NUMA node 0's socket.
  CHECK(j["class"][0][2] == "SYS");
  CHECK(j["class"][0][1] != "SYS");
  // A bad affinity cell is an error naming the column.
  std::ofstream(dir / "bad.txt") << "\tGPU0\tGPU1\tCPU Affinity\tNUMA Affinity\n"
                                    "GPU0\t X \tSYS\t0-15\tzero\n"
                                    "GPU1\tSYS\t X \t0-15\t0\n";
  const Run bad = Wiresim({"topo", "import", dir / "bad.txt", "--gpu-model", "l40s"});
  CHECK(bad.code == kExitBadInput);
  CHECK_THAT(bad.err, Contains("bad.txt:2") && Contains("NUMA Affinity") && Contains("'zero'"));
}

TEST_CASE("Every GPU model a shipped topology or an importer writes has a spec") {
  // azure-nc96ads-a100-v4 names a100-pcie-80gb (the NCCL XML importer's name for PCI id 0x20b5), h100-nvl-4gpu-pairs
  // h100-nvl: both used to be refused by model show.
  for (const char* topology : {"azure-nc96ads-a100-v4", "h100-nvl-4gpu-pairs"}) {
    const Run r = Wiresim({"model", "show", "llama-3.1-8b", "--plan", "tp=2", "--topology", topology, "--json"});
    CHECK(r.code == kExitOk);
  }
  const Run gpus = Wiresim({"compute", "gpus", "--json"});
  REQUIRE(gpus.code == kExitOk);
  bool pcie = false;
  for (const auto& g : nlohmann::json::parse(gpus.out)) {
    if (g["name"] != "a100-pcie-80gb") continue;
    pcie = true;
    CHECK(g["memory_bandwidth"] == 1.935e12);  // the A100 80GB PCIe datasheet's 1,935 GB/s, not the SXM's 2,039
  }
  CHECK(pcie);
  CHECK(Wiresim({"compute", "gemm", "--gpu", "NVIDIA A100 80GB PCIe", "-m", "8", "-n", "8", "-k", "8"}).code ==
        kExitOk);
}

TEST_CASE(
    "model show refuses --gpu with --topology, a memory fraction not above 0 and at most 1, and a batch past the "
    "context") {
  const Run both =
      Wiresim({"model", "show", "llama-3.1-8b", "--plan", "tp=8", "--gpu", "h200", "--topology", "dgx-h100"});
  CHECK(both.code == kExitBadInput);
  CHECK_THAT(both.err, Contains("--gpu h200 with --topology dgx-h100"));
  for (const char* fraction : {"1.5", "0", "-0.2"}) {
    const Run r = Wiresim({"model", "show", "llama-3.1-8b", "--plan", "tp=1", "--gpu-memory-utilization", fraction});
    CHECK(r.code == kExitBadInput);
    CHECK_THAT(r.err, Contains(std::string("--gpu-memory-utilization ") + fraction) && Contains("at most 1"));
  }
  CHECK(Wiresim({"model", "show", "llama-3.1-8b", "--plan", "tp=1", "--gpu-memory-utilization", "1"}).code == kExitOk);
  // Llama 3.1's context is 131,072 tokens (max_position_embeddings).
  const Run longer =
      Wiresim({"model", "show", "llama-3.1-8b", "--plan", "tp=1", "--batch", "prefill=1x2048,decode=4x200000"});
  CHECK(longer.code == kExitBadInput);
  CHECK_THAT(longer.err, Contains("--batch decode=4x200000") && Contains("131,072"));
  const Run cached = Wiresim({"model", "show", "llama-3.1-8b", "--batch", "prefill=1x4096@130000"});
  CHECK(cached.code == kExitBadInput);
  CHECK_THAT(cached.err, Contains("--batch prefill=1x4096@130000") && Contains("134,096 tokens"));
  CHECK(Wiresim({"model", "show", "llama-3.1-8b", "--plan", "tp=1", "--batch", "decode=4x131072"}).code == kExitOk);
}

TEST_CASE("run refuses a --gpu-memory-utilization not above 0 and at most 1") {
  const Run r = Wiresim({"run", "--topology", "dgx-h100", "--model", "llama-3.1-8b", "--plan", "tp=1",
                         "--gpu-memory-utilization", "1.5", "--requests", "1", "--quiet"});
  CHECK(r.code == kExitBadInput);
  CHECK_THAT(r.err, Contains("--gpu-memory-utilization 1.5") && Contains("at most 1"));
}

TEST_CASE("run refuses unknown EP routing and overlap words, a skew <= 0, and an imbalance with skewed routing") {
  auto run = [](std::vector<std::string> extra) {
    std::vector<std::string> args = {"run",    "--topology", "dgx-h100",   "--model", "mixtral-8x7b",
                                     "--plan", "dp=8,ep=8",  "--requests", "1",       "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Wiresim(args);
  };
  const Run overlap = run({"--ep-overlap", "three"});
  CHECK(overlap.code == kExitBadInput);
  CHECK_THAT(overlap.err, Contains("--ep-overlap (deployment.ep_overlap)") && Contains("none or two-batch"));
  const Run exchange = run({"--ep-exchange", "deepep"});
  CHECK(exchange.code == kExitBadInput);
  CHECK_THAT(exchange.err, Contains("--ep-exchange (deployment.ep_exchange)") &&
                               Contains("auto, alltoall or allgather, got 'deepep'"));
  const Run routing = run({"--expert-routing", "zipf"});
  CHECK(routing.code == kExitBadInput);
  CHECK_THAT(routing.err, Contains("--expert-routing") && Contains("uniform or skewed"));
  const Run skew = run({"--expert-routing", "skewed", "--routing-skew", "0"});
  CHECK(skew.code == kExitBadInput);
  CHECK_THAT(skew.err,
             Contains("--routing-skew: deployment.routing_skew: expected a Zipf exponent from 1e-06 to 100, got 0"));
  const Run both = run({"--expert-routing", "skewed", "--expert-imbalance", "2"});
  CHECK(both.code == kExitBadInput);
  CHECK_THAT(both.err, Contains("--expert-imbalance") && Contains("uniform routing"));
}

TEST_CASE("collective takes -f or -i, not both, as nccl-tests") {
  const Run both = Wiresim({"collective", "-b", "1M", "-e", "8M", "-f", "2", "-i", "1M"});
  CHECK(both.code == kExitBadInput);
  CHECK_THAT(both.err, Contains("-f/--stepfactor") && Contains("-i/--stepbytes"));
  const Run step = Wiresim({"collective", "-b", "1M", "-e", "3M", "-i", "1M", "--json"});
  REQUIRE(step.code == kExitOk);
  CHECK(nlohmann::json::parse(step.out)["rows"].size() == 3);  // 1M, 2M, 3M
}

TEST_CASE("model show --json answers a plan that does not fit with its numbers, still exit 2") {
  // Llama-3.1-405B in bf16 on one DGX H100 at tp=8: 98.69 GiB needed of 71.27 GiB usable per GPU (model_verbs_test).
  const Run r = Wiresim({"model", "show", "llama-3.1-405b", "--plan", "tp=8", "--topology", "dgx-h100", "--json"});
  CHECK(r.code == kExitBadInput);
  CHECK_THAT(r.err, Contains("does not fit"));
  const auto j = nlohmann::json::parse(r.out);
  const auto& plan = j["plan"];
  CHECK(plan["fits"] == false);
  CHECK_THAT(plan["reason"].get<std::string>(), Contains("does not fit"));
  constexpr double kGiB = 1024.0 * 1024 * 1024;
  CHECK(plan["usable_bytes"].get<double>() == Approx(0.9 * 79.19 * kGiB));
  CHECK(plan["needed_bytes"].get<double>() / kGiB == Approx(98.69).margin(0.005));
  REQUIRE(plan["gpus"].size() == 8);
  const auto& g = plan["gpus"][0];
  CHECK(
      g["needed_bytes"].get<double>() ==
      Approx(g["weight_bytes"].get<double>() + g["activation_bytes"].get<double>() + g["reserve_bytes"].get<double>()));
  // Under each engine's budget the answer has its numbers too: SGLang needs the weights of its static fraction
  // ((79.19 GiB - the 2.1 GiB reserve) x SGLang's default at TP 8 on this GPU: 79.19 GiB = 81090.56 MiB, reserved
  // 512 + 1.5 x 8192 + 2 x 512 + 8 / 8 x 1024 = 14848 MiB, (81090.56 - 14848) / 81090.56 = 0.8169 -> 0.817),
  // TensorRT-LLM weights, activations and reserve of the whole GPU.
  for (const char* engine : {"sglang", "trtllm"}) {
    INFO(engine);
    const Run e = Wiresim(
        {"model", "show", "llama-3.1-405b", "--plan", "tp=8", "--topology", "dgx-h100", "--engine", engine, "--json"});
    CHECK(e.code == kExitBadInput);
    const auto ej = nlohmann::json::parse(e.out);
    const auto& ep = ej["plan"];
    REQUIRE(ep["gpus"].size() == 8);
    const auto& eg = ep["gpus"][0];
    const double weights = eg["weight_bytes"].get<double>();
    const bool sglang = std::string(engine) == "sglang";
    CHECK(ep["usable_bytes"].get<double>() == Approx(sglang ? (79.19 - 2.1) * 0.817 * kGiB : 79.19 * kGiB));
    CHECK(eg["needed_bytes"].get<double>() ==
          Approx(sglang ? weights
                        : weights + eg["activation_bytes"].get<double>() + eg["reserve_bytes"].get<double>()));
  }
  // A plan that fits says so.
  const Run fits = Wiresim({"model", "show", "llama-3.1-8b", "--plan", "tp=1", "--json"});
  REQUIRE(fits.code == kExitOk);
  CHECK(nlohmann::json::parse(fits.out)["plan"]["fits"] == true);
}

TEST_CASE("compute gemm --csv --json prints one JSON object per row") {
  TempDir dir;
  std::ofstream(dir / "g.csv") << "# two shapes\ngpu,m,n,k\nh100,64,8192,8192\na100,1,4096,4096\n";
  const Run csv = Wiresim({"compute", "gemm", "--csv", dir / "g.csv"});
  REQUIRE(csv.code == kExitOk);
  CHECK_THAT(csv.out, Contains("gpu,m,n,k,predicted_us"));
  const Run r = Wiresim({"compute", "gemm", "--csv", dir / "g.csv", "--json"});
  REQUIRE(r.code == kExitOk);
  const auto j = nlohmann::json::parse(r.out);
  REQUIRE(j.size() == 2);
  CHECK(j[0]["gpu"] == "h100");
  CHECK(j[0]["line"] == 3);
  CHECK(j[1]["k"] == 4096);
  CHECK(j[1]["predicted_us"].get<double>() > 0);
}

TEST_CASE("calibrate fit on a profile with too few sizes says nothing was fitted, writes nothing, exit 2") {
  TempDir dir;
  std::ostringstream log;
  log << "# Collective test starting: all_reduce_perf\n#\n# Using devices\n";
  for (int r = 0; r < 8; ++r) {
    log << "#  Rank  " << r << " Group  0 Pid   " << 100 + r << " on      box device  " << r
        << " [0000:18:00] NVIDIA H100 80GB HBM3\n";
  }
  log << "#       size         count      type   redop    root     time   algbw   busbw  #wrong     time   algbw   "
         "busbw  #wrong\n"
         "     1048576        262144     float     sum      -1     34.19   30.67   53.67      0     34.10   30.75   "
         "53.81      0\n"
         "     4194304       1048576     float     sum      -1     46.78   89.66  156.91      0     46.70   89.81   "
         "157.17      0\n";
  std::ofstream(dir / "two.txt") << log.str();
  REQUIRE(Wiresim({"calibrate", "import", dir / "two.txt", "-o", dir / "p.json"}).code == kExitOk);
  const Run fit = Wiresim({"calibrate", "fit", dir / "p.json", "--topology", "dgx-h100", "-o", dir / "fit.json"});
  CHECK(fit.code == kExitBadInput);
  CHECK_THAT(fit.err, Contains("nothing was fitted") && Contains("3 sizes"));
  CHECK_THAT(fit.err, !Contains("wrote"));
  CHECK(!std::filesystem::exists(dir / "fit.json"));
}

TEST_CASE("Help of a verb group (--help) lists its verbs and exits 0, double defaults print as written") {
  for (const char* group : {"topo", "model", "compute", "calibrate"}) {
    const Run r = Wiresim({group, "--help"});
    CHECK(r.code == kExitOk);
    CHECK_THAT(r.out, Contains(std::string("wiresim ") + group + " "));
  }
  CHECK_THAT(Wiresim({"topo", "--help"}).out, Contains("topo show") && Contains("topo import"));
  CHECK(Wiresim({"topo"}).code == kExitBadInput);  // a group word alone is still an incomplete command
  const Run help = Wiresim({"model", "show", "--help"});
  REQUIRE(help.code == kExitOk);
  CHECK_THAT(help.out, Contains("(=0.9)") && Contains("(=1)"));
  CHECK_THAT(help.out, !Contains("0.9000"));
  CHECK_THAT(help.out, Contains("MODEL, the first argument"));
}

}  // namespace
}  // namespace wiresim::app
