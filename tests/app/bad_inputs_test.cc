// Inputs that once aborted, crashed, hung or printed nonsense, one per class (tests/data/bad/), each now refused with
// exit code 2 and a message naming the file and the field or line; and names that are not UTF-8, now escaped so that
// what wiresim writes loads back. The bounds are those of docs/formats/numbers.md.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "sim/app/cli.h"
#include "sim/calibration/calibration_profile.h"
#include "tests/testing/cli.h"

namespace wiresim::app {
namespace {

using Catch::Matchers::Contains;

const std::string kBad = std::string(WIRESIM_SOURCE_DIR) + "/tests/data/bad/";

testing::CliRun Wiresim(const std::vector<std::string>& args) { return testing::RunWiresim(args); }

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs `args` and checks for exit code 2 and every one of `parts` in the message.
void ExpectRefused(const std::vector<std::string>& args, const std::vector<std::string>& parts) {
  const testing::CliRun r = Wiresim(args);
  INFO(args[0] << " " << args[1] << ": " << r.err);
  CHECK(r.code == kExitBadInput);
  for (const std::string& part : parts) CHECK_THAT(r.err, Contains(part));
}

TEST_CASE("topology numbers beyond what Time holds are refused where the file is read") {
  // Line 15: latency_ns = 1e16, above the 1e9 ns (one second) bound.
  const std::string latency = kBad + "topology-latency-1e16.toml";
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"topo", "show", latency}, {"collective", "--topology", latency, "-b", "1M", "-e", "1M"}}) {
    ExpectRefused(args, {"topology-latency-1e16.toml:15", "link.latency_ns",
                         "from 0 to 1000000000 (one second), got 10000000000000000"});
  }
  // Line 14: bandwidth_GBps = 1e-6, below the 0.01 GB/s floor; `collective` used to abort on it.
  const std::string bandwidth = kBad + "topology-bandwidth-1e-6.toml";
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"topo", "show", bandwidth}, {"collective", "--topology", bandwidth, "-b", "1G", "-e", "1G"}}) {
    ExpectRefused(args, {"topology-bandwidth-1e-6.toml:14", "link.bandwidth_GBps", "got 1e-06"});
  }
  ExpectRefused({"topo", "show", kBad + "topology-latency-nan.toml"},
                {"topology-latency-nan.toml:15", "link.latency_ns", "finite", "nan"});
}

TEST_CASE("nvidia-smi cells with over-long numbers are refused, not passed to std::stoi") {
  ExpectRefused(
      {"topo", "import", kBad + "smi-nv-overlong.txt", "--gpu-model", "h100-sxm"},
      {"smi-nv-overlong.txt:2", "row GPU0, column GPU1", "NVLink count from 1 to 64", "got '99999999999999999999'"});
  ExpectRefused({"topo", "import", kBad + "smi-numa-overlong.txt", "--gpu-model", "h100-sxm"},
                {"smi-numa-overlong.txt:2", "row GPU0, NUMA Affinity", "got '99999999999999999999'"});
}

TEST_CASE("topo import bounds --nic-speed-gbps like the bandwidth it becomes") {
  // 0.01 GB/s x 8 = 0.08 Gb/s is the floor.
  ExpectRefused({"topo", "import", kBad + "smi-names-invalid-utf8.txt", "--nic-speed-gbps", "0.001"},
                {"--nic-speed-gbps", "from 0.08", "got 0.001"});
}

TEST_CASE("NCCL XML attributes out of range are refused, naming the element and attribute") {
  ExpectRefused({"topo", "import", kBad + "nccl-speed-nan.xml"}, {"nccl-speed-nan.xml", "<net> speed", "got nan"});
  ExpectRefused({"topo", "import", kBad + "nccl-sm-negative.xml"},
                {"nccl-sm-negative.xml", "<gpu> sm", "SM version from 0", "got -80"});
  // 600 nested <pci> elements opened on line 2: the 513th passes the bound.
  ExpectRefused({"topo", "import", kBad + "nccl-nested-deep.xml"},
                {"nccl-nested-deep.xml:2", "more than 512 levels deep"});
}

TEST_CASE("model sizes are bounded one by one and in their products") {
  // The config's keys one per line after "{": num_hidden_layers is on line 7, hidden_size on line 3.
  ExpectRefused({"model", "show", kBad + "model-layers-1e12.config.json"},
                {"model-layers-1e12.config.json:7", "num_hidden_layers", "got 1000000000000"});
  ExpectRefused({"model", "show", kBad + "model-hidden-2e32.config.json"},
                {"model-hidden-2e32.config.json:3", "hidden_size", "got 4294967296"});
  // 2^64 - 1 is no int64: refused rather than wrapped to -1.
  ExpectRefused({"model", "show", kBad + "model-unsigned-wrap.config.json"},
                {"model-unsigned-wrap.config.json:7", "num_hidden_layers", "expected an integer"});
}

TEST_CASE("JSON that nlohmann refuses with out_of_range, or that nests deeper than 512, is an input error") {
  // Each file holds 1e400 (above a double's 1.8e308) on the line named.
  ExpectRefused({"model", "show", kBad + "model-number-1e400.config.json"},
                {"model-number-1e400.config.json:8:", "the number 1e400 is out of range"});
  // A .toml whose text starts with '{' is read as JSON, and goes the same way.
  ExpectRefused({"model", "show", kBad + "model-brace.toml"}, {"model-brace.toml:8:", "1e400 is out of range"});
  ExpectRefused({"model", "show", kBad + "model-nested-deep.config.json"},
                {"model-nested-deep.config.json:2", "512 levels"});
  // nccl-tests writes its -J file on one line; the second file is the same log indented, 1e400 on line 61.
  ExpectRefused({"calibrate", "import", kBad + "nccl-tests-number-1e400.json"},
                {"nccl-tests-number-1e400.json:1:", "1e400 is out of range"});
  ExpectRefused({"calibrate", "import", kBad + "nccl-tests-number-1e400-indented.json"},
                {"nccl-tests-number-1e400-indented.json:61:", "1e400 is out of range"});
  ExpectRefused({"calibrate", "fit", kBad + "profile-number-1e400.json"},
                {"profile-number-1e400.json:16:", "1e400 is out of range"});
  // The profile's "notes" open 600 arrays on its last line but one.
  const std::string deep = ReadAll(kBad + "profile-nested-deep.json");
  const int notes_line = 1 + static_cast<int>(std::count(deep.begin(), deep.begin() + deep.find("\"notes\""), '\n'));
  ExpectRefused({"calibrate", "fit", kBad + "profile-nested-deep.json"},
                {"profile-nested-deep.json:" + std::to_string(notes_line), "512 levels"});
}

TEST_CASE("75,000 levels of nesting are refused without exhausting the stack") {
  testing::ScratchDir dir("wiresim-bad-inputs");
  const std::string brackets = std::string(75000, '[') + std::string(75000, ']');
  std::ofstream(dir / "deep.config.json") << "{\"hidden_size\": " << brackets << "}\n";
  std::ofstream(dir / "deep-profile.json")
      << "{\"format\": \"wiresim-calibration-profile\", \"notes\": " << brackets << "}\n";
  std::ofstream(dir / "deep-log.json") << "{\"results\": " << brackets << "}\n";
  ExpectRefused({"model", "show", dir / "deep.config.json"}, {"deep.config.json:1", "512 levels"});
  ExpectRefused({"calibrate", "fit", dir / "deep-profile.json"}, {"deep-profile.json:1", "512 levels"});
  ExpectRefused({"calibrate", "import", dir / "deep-log.json"}, {"deep-log.json:1", "512 levels"});
}

TEST_CASE("nccl-tests rows with sizes past 2^40 or times that are not positive are refused with their line") {
  // Ten header lines, a good row on line 11, the bad one on line 12.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"calibrate", "import", kBad + "nccl-tests-size-2e63.txt"},
                                             {"collective", "--compare", kBad + "nccl-tests-size-2e63.txt"}}) {
    ExpectRefused(args, {"nccl-tests-size-2e63.txt:12", "size", "got 9223372036854775808"});
  }
  ExpectRefused({"calibrate", "import", kBad + "nccl-tests-time-inf.txt"},
                {"nccl-tests-time-inf.txt:12", "time", "got inf"});
  // The negative time is what `collective --compare` used to print as a measured time.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"calibrate", "import", kBad + "nccl-tests-time-negative.txt"},
                                             {"collective", "--compare", kBad + "nccl-tests-time-negative.txt"}}) {
    ExpectRefused(args, {"nccl-tests-time-negative.txt:12", "time", "got -30"});
  }
  // Every size 0: no measurement is left, and no profile is written.
  ExpectRefused({"calibrate", "import", kBad + "nccl-tests-zero-size.txt"},
                {"nccl-tests-zero-size.txt", "0 measurements"});
}

TEST_CASE("calibration profiles with counts, bandwidths or types out of range are refused") {
  struct Case {
    const char* file;
    const char* field;
    const char* said;
  };
  for (const Case& c : {Case{"profile-nodes-zero.json", "collectives[0].nodes", "from 1 to 1048576 (2^20), got 0"},
                        Case{"profile-nodes-negative.json", "collectives[0].nodes", "got -1"},
                        Case{"profile-count-negative.json", "collectives[0].count", "got -262144"},
                        Case{"profile-busbw-negative.json", "collectives[0].busbw_GBps", "got -91.8"},
                        Case{"profile-dtype-unknown.json", "collectives[0].dtype", "\"float17\""},
                        Case{"profile-size-2e63.json", "collectives[0].size", "9223372036854775808"},
                        Case{"profile-no-measurements.json", "", "no measurements"}}) {
    ExpectRefused({"calibrate", "fit", kBad + c.file, "--topology", "dgx-h100"}, {c.file, c.field, c.said});
  }
}

TEST_CASE("sizes on the command line are bounded like sizes in files") {
  // 2^62 = 4611686018427387904 bytes, and 4T = 2^42 = 4398046511104: both past 2^40.
  ExpectRefused({"collective", "-b", "4611686018427387904", "-e", "4611686018427387904"},
                {"-b", "got 4611686018427387904", "2^40"});
  ExpectRefused({"collective", "-b", "1M", "-e", "4T"}, {"-e", "got 4398046511104"});
  ExpectRefused({"collective", "-b", "1M", "-e", "1e400"}, {"-e", "1e400"});
  // 1T = 2^40 itself is allowed.
  CHECK(Wiresim({"collective", "-b", "1T", "-e", "1T"}).code == kExitOk);
}

TEST_CASE("arguments holding the option parser's placeholders are refused, not looped on") {
  // Boost.Program_options 1.74 replaces %value%, %canonical_option%, ... in its messages until none is left: an
  // unknown option or a bad value that contains one made it loop forever.
  ExpectRefused({"run", "--foo%canonical_option%"}, {"%canonical_option%", "reserves"});
  ExpectRefused({"run", "--requests", "%value%"}, {"%value%"});
  ExpectRefused({"plan", "--topology", "dgx-h100", "--model", "x%option%"}, {"%option%"});
}

TEST_CASE("calibrate import and --ranks / --nodes refuse counts out of range") {
  const std::string log = std::string(WIRESIM_SOURCE_DIR) + "/tests/calibration/data/rows_only.txt";
  ExpectRefused({"calibrate", "import", log, "--op", "all_reduce", "--ranks", "-8"}, {"--ranks", "got -8"});
  ExpectRefused({"calibrate", "import", log, "--op", "all_reduce", "--ranks", "8", "--nodes", "-1"},
                {"--nodes", "got -1"});
}

TEST_CASE("scenario numbers out of range are refused with the file, the line and the field") {
  // Each bound is docs/formats/scenario.md's; each file sets the one value on the line named.
  ExpectRefused({"run", kBad + "scenario-rate-1e12.toml"},
                {"scenario-rate-1e12.toml:9: workload.rate: expected requests per second",
                 "from 1e-09 to 1000000000 (1e9), got 1000000000000"});
  ExpectRefused({"run", kBad + "scenario-utilization-1.5.toml"},
                {"scenario-utilization-1.5.toml:8: scheduler.gpu_memory_utilization: expected a fraction of GPU "
                 "memory from 0.01 to 1 (all of it), got 1.5"});
  ExpectRefused({"run", kBad + "scenario-requests-negative.toml"},
                {"scenario-requests-negative.toml:8: workload.requests: expected a whole number from 0 to "
                 "1099511627776 (2^40), got -1"});
  ExpectRefused({"run", kBad + "scenario-duration-1e300.toml"},
                {"scenario-duration-1e300.toml:8: workload.duration_s", "to 1000000 (11.6 days), got 1e+300"});
  // 10^7 s passed the check once and then failed Time's own (1e19 ps is past int64): refused where it is given.
  ExpectRefused({"run", "--topology", "dgx-h100", "--model", "llama-3.1-8b", "--duration", "1e7"},
                {"--duration: workload.duration_s: expected seconds (0: no limit) from 0 to 1000000 (11.6 days), got "
                 "10000000"});
  // A length of 2^40 tokens, above the 2^31 of every request length.
  ExpectRefused({"run", kBad + "scenario-input-len-huge.toml"},
                {"scenario-input-len-huge.toml:10", "workload.input_len",
                 "expected a token count from 1 to 2147483648 (2^31), got 1099511627776"});
}

TEST_CASE("trace lengths out of range are refused with the file, the line and the field") {
  // Line 2 asks for 2^32 prompt tokens; line 3 of the CSV for -3 generated tokens.
  ExpectRefused(
      {"run", "--topology", "dgx-h100", "--model", "llama-3.1-8b", "--trace", kBad + "trace-input-length-2e32.jsonl"},
      {"trace-input-length-2e32.jsonl:2: input_length: expected a token count from 1 to 2147483648 (2^31), "
       "got 4294967296"});
  ExpectRefused({"run", "--topology", "dgx-h100", "--model", "llama-3.1-8b", "--input-len",
                 "trace:" + kBad + "trace-generated-negative.csv"},
                {"trace-generated-negative.csv:3: GeneratedTokens: expected a token count from 1 to 2147483648 "
                 "(2^31), got -3"});
}

TEST_CASE("names that are not UTF-8 are escaped, so what wiresim writes loads back") {
  testing::ScratchDir dir("wiresim-bad-names");
  // NIC0's legend name holds 0xFF (never UTF-8), 0x01 and 0x7F (control characters); NIC1's a quote and a backslash.
  // The input's file name, copied into the description, holds 0xFF and 0x01 as well.
  const std::string input = dir / "box\xff\x01.txt";
  std::ofstream(input, std::ios::binary) << ReadAll(kBad + "smi-names-invalid-utf8.txt");
  const testing::CliRun imported =
      Wiresim({"topo", "import", input, "--gpu-model", "h100-sxm", "-o", dir / "box.toml"});
  INFO(imported.err);
  REQUIRE(imported.code == kExitOk);
  const std::string toml = ReadAll(dir / "box.toml");
  CHECK_THAT(toml, Contains("box\xEF\xBF\xBD\\u0001.txt"));  // the description: U+FFFD, then 0x01 as an escape
  CHECK_THAT(toml, Contains("mlx5_\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                            "0"));  // in the comment: 0xFF, 0x01 and 0x7F each a U+FFFD
  CHECK(Wiresim({"topo", "show", dir / "box.toml"}).code == kExitOk);
  // A host name is refused instead: it names the template and host, which allow letters, digits, '_', '-', '.'.
  ExpectRefused({"topo", "import", input, "--gpu-model", "h100-sxm", "--host", "h\xff\x01"},
                {"--host", "not a valid host name"});

  // A host name with 0xFF from an nccl-tests log, written into a profile: U+FFFD, and the profile reads back.
  const testing::CliRun profile =
      Wiresim({"calibrate", "import", kBad + "nccl-tests-host-invalid-utf8.txt", "-o", dir / "profile.json"});
  INFO(profile.err);
  REQUIRE(profile.code == kExitOk);
  auto parsed = ParseCalibrationProfile(SourceFile{"profile.json", ReadAll(dir / "profile.json")});
  REQUIRE(parsed.ok());
  REQUIRE(parsed->provenance.hosts.size() == 2);
  // Sorted by bytes: "h0" (0x68) before U+FFFD (0xEF 0xBF 0xBD).
  CHECK(parsed->provenance.hosts[0] == "h0");
  CHECK(parsed->provenance.hosts[1] == "\xEF\xBF\xBD\x01h1");
}

// vLLM refuses to start when its KV cache cannot hold one max_model_len sequence, which needs ceil(max_model_len / 16)
// blocks (vllm/v1/core/kv_cache_utils.py, check_enough_kv_cache_memory). Llama-3.1-70B at fp8 on one A100 at 0.95
// holds 1397 blocks: max_model_len 22,352 (1397 blocks) starts, 22,353 (1398) and the default 131,072 do not.
TEST_CASE("vLLM's start-up check: the KV cache must hold one max_model_len sequence") {
  const std::vector<std::string> base = {"run",
                                         "--topology",
                                         "dgx-a100",
                                         "--model",
                                         "llama-3.1-70b",
                                         "--plan",
                                         "tp=1",
                                         "--weight-dtype",
                                         "fp8",
                                         "--gpu-memory-utilization",
                                         "0.95",
                                         "--requests",
                                         "2",
                                         "--quiet"};
  const testing::CliRun fits = Wiresim([&] {
    auto a = base;
    a.insert(a.end(), {"--max-model-len", "22352"});
    return a;
  }());
  CHECK(fits.code == 0);
  const testing::CliRun over = Wiresim([&] {
    auto a = base;
    a.insert(a.end(), {"--max-model-len", "22353"});
    return a;
  }());
  CHECK(over.code == 2);
  CHECK_THAT(over.err, Contains("--max-model-len") && Contains("vLLM would refuse to start") &&
                           Contains("one 22353-token sequence needs 1398 KV blocks") && Contains("holds 1397"));
  const testing::CliRun unset = Wiresim(base);
  CHECK(unset.code == 2);
  CHECK_THAT(unset.err, Contains("scheduler.max_model_len (unset: llama-3.1-70b's max_position_embeddings)") &&
                            Contains("at most 22352"));
  // SGLang starts anyway (a request longer than its pool is refused when it comes).
  auto sglang = base;
  sglang.insert(sglang.end(), {"--engine", "sglang"});
  CHECK(Wiresim(sglang).code == 0);
}

}  // namespace
}  // namespace wiresim::app
