// What wiresim-calibrate does without a GPU: sizes, groups, model shapes, plans, resume, the profile file, and
// reading NCCL's tuning lines.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "calibrate/model_shapes.h"
#include "calibrate/options.h"
#include "calibrate/plan.h"
#include "calibrate/profile.h"
#include "calibrate/sweep.h"
#include "calibrate/table.h"
#include "calibrate/tuning_log.h"

namespace wiresim::calibrate {
namespace {

using Catch::Matchers::Contains;
const std::string kData = std::string(WIRESIM_SOURCE_DIR) + "/tests/data/calibrate/";

TEST_CASE("Sizes as nccl-tests takes them") {
  CHECK(ParseSize("8") == 8);
  CHECK(ParseSize("64K") == 65536);
  CHECK(ParseSize("1M") == 1048576);
  CHECK(ParseSize("8G") == 8589934592LL);
  CHECK_THROWS_WITH(ParseSize("8X"), Contains("expected a number of bytes"));
  // 8 B to 8 GiB doubling: 2^3 .. 2^33 is 31 sizes, as nccl-tests -b 8 -e 8G -f 2 prints.
  const auto s = SizeSeries(8, ParseSize("8G"), 2);
  CHECK(s.size() == 31);
  CHECK(s.front() == 8);
  CHECK(s.back() == 8589934592LL);
  CHECK(ParseIntList("1,2,4-6", "x") == std::vector<int>{1, 2, 4, 5, 6});
  CHECK_THROWS_WITH(ParseIntList("3-1", "--tp"), Contains("--tp: empty range"));
}

TEST_CASE("GPU groups: the node, every pair, every NVLink domain") {
  // 8 GPUs: 1 whole-node group + C(8,2) = 28 pairs.
  CHECK(PlanGroups(8, {"all", "pairs"}, {}).size() == 29);
  // Two islands of 4 from an nvidia-smi matrix; the whole node is not an NVLink domain.
  const std::string topo =
      "\tGPU0\tGPU1\tGPU2\tGPU3\tCPU Affinity\n"
      "GPU0\t X \tNV4\tSYS\tSYS\t0-7\n"
      "GPU1\tNV4\t X \tSYS\tSYS\t0-7\n"
      "GPU2\tSYS\tSYS\t X \tNV4\t8-15\n"
      "GPU3\tSYS\tSYS\tNV4\t X \t8-15\n";
  const auto domains = NvlinkDomainsFromTopo(topo);
  REQUIRE(domains.size() == 2);
  CHECK(domains[1] == std::vector<int>{2, 3});
  const auto groups = PlanGroups(4, {"all", "nvlink", "pairs"}, domains);
  // all, two NVLink pairs (which are also pairs: not repeated), and the other 4 pairs: 1 + 2 + 4.
  CHECK(groups.size() == 7);
  CHECK(groups[1].kind == "nvlink");
  CHECK(FormatGpus({0, 1, 2, 3, 5, 7, 8}) == "0-3,5,7-8");
  CHECK_THROWS_WITH(PlanGroups(4, {"ring"}, {}), Contains("unknown group kind 'ring'"));
}

TEST_CASE("Linear layers of a Llama-shaped model at each tensor-parallel degree") {
  const ModelShape m = ReadModelShape(kData + "llama8b_config.json");
  // tp = 1: qkv n = (32 + 2 x 8) x 128 = 6144; o k = 32 x 128 = 4096; gate_up n = 2 x 14336; lm_head n = 128256.
  auto tp1 = LinearLayers(m, 1);
  REQUIRE(tp1.size() == 5);
  CHECK(tp1[0].layer == "qkv");
  CHECK(tp1[0].n == 6144);
  CHECK(tp1[0].k == 4096);
  CHECK(tp1[1].k == 4096);
  CHECK(tp1[2].n == 28672);
  CHECK(tp1[3].k == 14336);
  CHECK(tp1[4].n == 128256);
  // tp = 8: 4 query heads and 1 KV head per GPU: (4 + 2) x 128 = 768; down k = 14336 / 8 = 1792.
  auto tp8 = LinearLayers(m, 8);
  CHECK(tp8[0].n == 768);
  CHECK(tp8[3].k == 1792);
  CHECK(tp8[4].n == 16032);
  // tp = 16 exceeds the 8 KV heads: they replicate, one per GPU: (2 + 2) x 128.
  CHECK(LinearLayers(m, 16)[0].n == 512);
  CHECK_THROWS_WITH(LinearLayers(m, 3), Contains("does not divide the 32 attention heads"));
}

TEST_CASE("Linear layers of an MLA + MoE model") {
  const ModelShape m = ReadModelShape(kData + "moe_mla_config.json");
  auto layers = LinearLayers(m, 8);
  // fused q_a + kv_a: 1536 + (512 + 64) = 2112 x 7168; q_b: 16 heads x (128 + 64) = 3072;
  // kv_b: 16 x (128 + 128) = 4096; per-head absorption in decode: q (nope 128 -> latent 512), v (512 -> 128);
  // o: k = 16 x 128 = 2048; dense MLP (first 3 layers) 2 x 18432 / 8 = 4608; router 256 experts x 7168;
  // expert gate_up 2 x 2048 / 8 = 512; shared expert 2 x 1 x 2048 / 8 = 512; lm_head 129280 / 8 = 16160.
  std::map<std::string, std::pair<int64_t, int64_t>> by_name;
  for (const auto& l : layers) by_name[l.layer] = {l.n, l.k};
  CHECK(by_name["fused_qkv_a"] == std::make_pair<int64_t, int64_t>(2112, 7168));
  CHECK(by_name.count("q_a") == 0);
  CHECK(by_name.count("kv_a") == 0);
  CHECK(by_name["q_b"].first == 3072);
  CHECK(by_name["kv_b"].first == 4096);
  CHECK(by_name["mla_q_absorb"] == std::make_pair<int64_t, int64_t>(512, 128));
  CHECK(by_name["mla_v_absorb"] == std::make_pair<int64_t, int64_t>(128, 512));
  CHECK(by_name["router"] == std::make_pair<int64_t, int64_t>(256, 7168));
  CHECK(by_name["o"].second == 2048);
  CHECK(by_name["gate_up"].first == 4608);
  CHECK(by_name["expert_gate_up"].first == 512);
  CHECK(by_name["shared_gate_up"].first == 512);
  CHECK(by_name["lm_head"].first == 16160);
}

Options Parse(std::vector<std::string> args) {
  std::string help;
  return ParseCommandLine(args, &help);
}

TEST_CASE("A plan from the command line, and what a profile leaves of it") {
  Options o = Parse({"run", "--model", kData + "llama8b_config.json", "--tp", "1,2", "--tokens", "1,64",
                     "--gemm-dtypes", "bfloat16", "-b", "1K", "-e", "1M", "--ops", "all_reduce,all_gather", "--groups",
                     "all,pairs", "--copy-bytes", "64M"});
  Plan plan = MakePlan(o, 4, {});
  // GEMMs: 5 layers x 2 tp degrees x 2 token counts = 20 (every layer's n or k changes with tp: no duplicates).
  CHECK(plan.gemms.size() == 20);
  CHECK(plan.copies.size() == 1);
  // Collectives: the 4-GPU group runs both ops; 6 pairs run only all_reduce (pairs skip all_gather): 2 + 6 sweeps.
  CHECK(plan.collectives.size() == 8);
  // 1 KiB .. 1 MiB doubling: 11 sizes.
  CHECK(plan.collectives[0].sizes.size() == 11);
  // Resume: a profile holding the first GEMM and one collective size is left out of what remains.
  Profile done;
  GemmEntry g;
  g.m = plan.gemms[0].m;
  g.n = plan.gemms[0].n;
  g.k = plan.gemms[0].k;
  g.dtype = "bfloat16";
  g.time_us = 10;
  done.gemm.push_back(g);
  CollectiveEntry c;
  c.op = "all_reduce";
  c.dtype = o.nccl_dtype;
  c.gpus = plan.collectives[0].group.gpus;
  c.size = 1024;
  done.collectives.push_back(c);
  Plan left = Remaining(plan, done, o.nccl_dtype);
  CHECK(left.gemms.size() == 19);
  CHECK(left.measurements() == plan.measurements() - 2);
  CHECK_THAT(Describe(plan), Contains("GEMM: 20 shapes"));
}

TEST_CASE("plan --json lists every measurement of the plan") {
  const Options o = Parse({"plan",
                           "--json",
                           "--tp",
                           "1",
                           "--tokens",
                           "1,64",
                           "--gemm-dtypes",
                           "bfloat16",
                           "--model",
                           kData + "llama8b_config.json",
                           "-b",
                           "1K",
                           "-e",
                           "4K",
                           "--ops",
                           "all_reduce",
                           "--groups",
                           "all",
                           "--copy-bytes",
                           "64M"});
  CHECK(o.json);
  const Plan plan = MakePlan(o, 2, {});
  const auto j = nlohmann::json::parse(DescribeJson(plan, 2));
  CHECK(j["gpus"] == 2);
  CHECK(j["measurements"] == plan.measurements());
  CHECK(j["gemms"].size() == plan.gemms.size());
  CHECK(j["copies"] == std::vector<int64_t>{64 << 20});
  REQUIRE(j["collectives"].size() == 1);
  CHECK(j["collectives"][0]["op"] == "all_reduce");
  CHECK(j["collectives"][0]["sizes"] == std::vector<int64_t>{1024, 2048, 4096});
  // Only plan prints JSON; run writes its profile.
  CHECK_THROWS_WITH(Parse({"run", "--json"}), Contains("--json: only `plan`"));
}

TEST_CASE("Help (--help) prints double defaults as written") {
  std::string help;
  ParseCommandLine({"--help"}, &help);
  CHECK_THAT(help, Contains("(=0.2)") && Contains("(=300)") && Contains("(=2)"));
  CHECK_THAT(help, !Contains("0.2000"));
}

TEST_CASE("Bad command lines are refused with the reason") {
  CHECK_THROWS_WITH(Parse({"measure"}), Contains("unknown verb 'measure'"));
  CHECK_THROWS_WITH(Parse({"run", "--gemm-dtypes", "int3"}), Contains("--gemm-dtypes: 'int3'"));
  CHECK_THROWS_WITH(Parse({"run", "-b", "2G", "-e", "1G"}), Contains("--minbytes is larger"));
  CHECK_THROWS_WITH(Parse({"run", "--colour"}), Contains("(wiresim-calibrate --help)"));
  CHECK_THROWS_WITH(MakePlan(Parse({"run", "--ops", "all_dance"}), 8, {}), Contains("unknown operation 'all_dance'"));
  CHECK(Parse({"--help"}).verb == "help");
}

TEST_CASE("nccl-tests count and bus bandwidth conventions") {
  // all_gather of a 1 MiB total over 8 ranks of float: 2^20 / 4 / 8 = 32768 elements per rank.
  CHECK(NcclTestsCount("all_gather", 1 << 20, 4, 8) == 32768);
  CHECK(NcclTestsCount("all_reduce", 1 << 20, 4, 8) == 262144);
  CHECK(BusFactor("all_reduce", 8) == Approx(1.75));
  CHECK(BusFactor("alltoall", 8) == Approx(0.875));
  CHECK(BusFactor("sendrecv", 2) == 1.0);
}

TEST_CASE("The profile file round-trips, resumes, and rejects what it cannot read") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("wiresim-profile-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "p.json").string();
  Profile p;
  p.provenance.tool = "wiresim-calibrate test";
  GpuInfo gpu;
  gpu.name = "NVIDIA H100 80GB HBM3";
  gpu.sm = "9.0";
  gpu.sm_count = 132;
  p.provenance.gpus.push_back(gpu);
  GemmEntry g;
  g.m = 64;
  g.n = 6144;
  g.k = 4096;
  g.dtype = "bfloat16";
  g.time_us = 21.5;
  // Every time must be above 0, as the simulator reads it (docs/formats/numbers.md): the spread of the repetitions.
  g.min_us = 21.0;
  g.max_us = 23.0;
  g.p10_us = 21.2;
  g.p90_us = 22.4;
  g.repetitions = 100;
  g.label = "qkv";
  p.gemm.push_back(g);
  CollectiveEntry c;
  c.op = "all_reduce";
  c.dtype = "bfloat16";
  c.redop = "sum";
  c.gpus = {0, 1, 2, 3, 4, 5, 6, 7};
  c.ranks = 8;
  c.size = 1 << 20;
  c.count = 1 << 19;
  c.time_us = 20;
  c.algbw_GBps = 52.4288;
  c.busbw_GBps = 91.75;
  c.algorithm = "NVLS";
  c.protocol = "Simple";
  p.collectives.push_back(c);
  p.notes.push_back("note");
  WriteProfileFile(path, p);
  for (const auto& entry : fs::directory_iterator(dir)) CHECK(entry.path().filename() == "p.json");  // no temp left
  const Profile back = ReadProfileFile(path);
  CHECK(back.provenance.gpus[0].name == "NVIDIA H100 80GB HBM3");
  CHECK(back.HasGemm(64, 6144, 4096, "bfloat16"));
  CHECK_FALSE(back.HasGemm(64, 6144, 4096, "f8e4m3"));
  CHECK(back.HasCollective("all_reduce", "bfloat16", c.gpus, 1 << 20, false));
  CHECK(back.collectives[0].algorithm == "NVLS");
  CHECK(ToJson(back) == ToJson(p));

  std::ofstream(dir / "v9.json") << R"({"format": "wiresim-calibration-profile", "version": 9})";
  CHECK_THROWS_WITH(ReadProfileFile((dir / "v9.json").string()), Contains("reads version 1, the file is version 9"));
  std::ofstream(dir / "bad.json") << R"({"format": "wiresim-calibration-profile", "version": 1,
    "gemm": [{"m": 1, "n": 2, "k": "three", "dtype": "bfloat16", "time_us": 1}]})";
  CHECK_THROWS_WITH(ReadProfileFile((dir / "bad.json").string()),
                    Contains("gemm[0].k: expected an integer, got \"three\""));
  std::ofstream(dir / "trunc.json") << R"({"format": "wiresim-calib)";
  CHECK_THROWS_WITH(ReadProfileFile((dir / "trunc.json").string()), Contains("not valid JSON"));
  fs::remove_all(dir);
}

TEST_CASE("NCCL's per-call tuning lines give the algorithm and protocol") {
  const std::string log =
      "host:123:456 [0] NCCL INFO AllReduce: 1048576 Bytes -> Algo RING proto LL128 channel{Lo..Hi}={0..31}\n"
      "host:123:456 [0] NCCL INFO AllReduce: 1048576 Bytes -> Algo NVLS proto SIMPLE channel{Lo..Hi}={0..15}\n"
      "host:123:456 [0] NCCL INFO AllReduce: 1048576 Bytes -> Algo NVLS proto SIMPLE channel{Lo..Hi}={0..15}\n"
      "host:123:456 [0] NCCL INFO AllGather: 65536 Bytes -> Algo 1 proto 0 time 12.5\n"
      "host:123:456 [0] NCCL INFO comm 0x55 rank 0 nRanks 8 nNodes 1 localRanks 8 localRank 0 MNNVL 0\n";
  const auto choices = ParseTuningLines(log);
  REQUIRE(choices.size() == 4);
  CHECK(choices[0].algorithm == "Ring");
  CHECK(choices[0].protocol == "LL128");
  CHECK(choices[3].algorithm == "Ring");  // numbered form: algorithm 1 is Ring, protocol 0 is LL
  CHECK(choices[3].protocol == "LL");
  const TuningChoice most = MostFrequent(choices, "AllReduce");
  CHECK(most.algorithm == "NVLS");
  CHECK(most.protocol == "Simple");
  CHECK(MostFrequent(choices, "Broadcast").algorithm.empty());
}

TEST_CASE("Bad profiles and model configs are refused with the file and field, never with another exception") {
  const std::string bad = std::string(WIRESIM_SOURCE_DIR) + "/tests/data/bad/";
  // 1e400 is on line 16; the size 2^63 (line 14) is above 2^40; "notes" open 600 arrays (512 is the bound).
  CHECK_THROWS_WITH(ReadProfileFile(bad + "profile-number-1e400.json"),
                    Contains("profile-number-1e400.json:16: the number 1e400 is out of range"));
  CHECK_THROWS_WITH(ReadProfileFile(bad + "profile-size-2e63.json"),
                    Contains("collectives[0].size: expected a size in bytes from 0 to 1099511627776 (2^40, 1 TiB), "
                             "got 9223372036854775808"));
  CHECK_THROWS_WITH(ReadProfileFile(bad + "profile-nested-deep.json"), Contains("512 levels"));
  CHECK_THROWS_AS(ReadProfileFile(bad + "profile-number-1e400.json"), CalibrateError);
  // hidden_size 2^32 (line 3), above a model size's 2^24; the same bytes as TOML name the line.
  CHECK_THROWS_WITH(ReadModelShape(bad + "model-hidden-2e32.config.json"),
                    Contains("model-hidden-2e32.config.json: hidden_size: expected a whole number from 0 to 16777216 "
                             "(2^24), got 4294967296"));
  CHECK_THROWS_WITH(
      ModelShapeFromText("hidden_size = 4096\nvocab_size = 4294967296\n", "m.toml"),
      Contains("m.toml:2: vocab_size: expected a whole number from 0 to 16777216 (2^24), got 4294967296"));
  CHECK_THROWS_WITH(ModelShapeFromText("{\"hidden_size\": 4096.5}", "m.json"),
                    Contains("m.json: hidden_size: expected a whole number from 0 to 16777216 (2^24), got 4096.5"));
  CHECK_THROWS_WITH(ModelShapeFromText("{\n\"hidden_size\":\n 1e400}", "m.json"),
                    Contains("m.json:3: the number 1e400 is out of range"));
}

TEST_CASE("Tuning lines with numbers too long for an int are read without throwing") {
  // An algorithm index past INT_MAX is no index: kept as written. A size past 2^63 - 1 is no size: not a tuning line.
  const auto choices = ParseTuningLines(
      "AllReduce: 1024 Bytes -> Algo 99999999999 proto 77777777777\n"
      "AllReduce: 99999999999999999999 Bytes -> Algo RING proto LL\n"
      "x Broadcast:\t8\tBytes  ->  Algo tree proto simple\r\n");
  REQUIRE(choices.size() == 2);
  CHECK(choices[0].bytes == 1024);
  CHECK(choices[0].algorithm == "99999999999");
  CHECK(choices[0].protocol == "77777777777");
  CHECK(choices[1].function == "Broadcast");
  CHECK(choices[1].bytes == 8);
  CHECK(choices[1].algorithm == "Tree");
  CHECK(choices[1].protocol == "Simple");
}

TEST_CASE("Collective rows split into nccl-tests' columns") {
  CollectiveEntry e;
  e.op = "all_reduce";
  e.dtype = "float";
  e.redop = "sum";
  e.size = 8589934592LL;
  e.count = 2147483648LL;
  e.time_us = 31517;
  e.algbw_GBps = 272.55;
  e.busbw_GBps = 476.96;
  std::istringstream row(CollectiveRow(e));
  std::vector<std::string> t;
  for (std::string s; row >> s;) t.push_back(s);
  // size count type redop root time algbw busbw: the first 8 whitespace-separated fields, as nccl-tests prints.
  REQUIRE(t.size() >= 8);
  CHECK(t[0] == "8589934592");
  CHECK(t[1] == "2147483648");
  CHECK(t[2] == "float");
  CHECK(t[3] == "sum");
  CHECK(t[4] == "-1");
  CHECK(t[7] == "476.96");
}

TEST_CASE("A profile written to a named pipe goes into the pipe, which stays a pipe") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("wiresim-calib-fifo-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string fifo = (dir / "profile.pipe").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  Profile p;
  p.notes.push_back("through a pipe");
  std::string received;
  std::thread reader([&] {
    std::ifstream in(fifo, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    received = s.str();
  });
  WriteProfileFile(fifo, p);
  reader.join();
  struct stat st {};
  REQUIRE(::stat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  // What came through is the profile itself: it parses back to the same document.
  CHECK(ToJson(ProfileFromJson(nlohmann::json::parse(received), "pipe")) == ToJson(p));
  fs::remove_all(dir);
}

TEST_CASE("A host name that is not UTF-8 does not stop a profile being written") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("wiresim-calib-utf8-" + std::to_string(::getpid()));
  const std::string path = (dir / "p.json").string();
  Profile p;
  p.provenance.hosts.push_back(std::string("node\xff\xfe", 6));
  REQUIRE_NOTHROW(WriteProfileFile(path, p));
  // The bytes that are not UTF-8 come back as U+FFFD (EF BF BD), one per invalid byte.
  CHECK(ReadProfileFile(path).provenance.hosts.at(0) == "node\xEF\xBF\xBD\xEF\xBF\xBD");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace wiresim::calibrate
