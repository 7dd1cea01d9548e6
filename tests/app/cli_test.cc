// The `wiresim` command end to end: exit codes, messages naming file and line, JSON that parses, outputs written
// whole or not at all.
#include "sim/app/cli.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/testing/memory_reader.h"

namespace wiresim::app {
namespace {

using Catch::Matchers::Contains;

struct Run {
  int code;
  std::string out;
  std::string err;
};

Run Wiresim(const std::vector<std::string>& args, SourceReader& reader) {
  std::ostringstream out, err;
  AppContext ctx{out, err, reader};
  const int code = Main(args, ctx);
  return {code, out.str(), err.str()};
}

Run Wiresim(const std::vector<std::string>& args) {
  FileSystemReader reader;
  return Wiresim(args, reader);
}

TEST_CASE("No arguments prints the verbs and exits 2, --help exits 0") {
  Run none = Wiresim({});
  CHECK(none.code == kExitBadInput);
  CHECK_THAT(none.out, Contains("topo show"));
  CHECK(Wiresim({"--help"}).code == kExitOk);
  CHECK(Wiresim({"topo", "show", "--help"}).code == kExitOk);
  CHECK_THAT(Wiresim({"topo", "show", "--help"}).out, Contains("example:"));
}

TEST_CASE("Unknown verbs and verbs not built yet say so and exit 2") {
  Run unknown = Wiresim({"frobnicate"});
  CHECK(unknown.code == kExitBadInput);
  CHECK_THAT(unknown.err, Contains("unknown verb 'frobnicate'"));
  Run group = Wiresim({"topo"});
  CHECK(group.code == kExitBadInput);
  CHECK_THAT(group.err, Contains("wiresim topo show"));
  Run bad_option = Wiresim({"topo", "show", "--colour"});
  CHECK(bad_option.code == kExitBadInput);
}

TEST_CASE("topo show reads shipped topologies by name from the binary") {
  Run r = Wiresim({"topo", "show", "dgx-h100"});
  REQUIRE(r.code == kExitOk);
  CHECK_THAT(r.out, Contains("NV18"));
  CHECK_THAT(r.out, Contains("450/0.60"));  // 18 x 25 GB/s, two NVLink hops of 0.3 us
  Run missing = Wiresim({"topo", "show", "dgx-h999"});
  CHECK(missing.code == kExitBadInput);
  CHECK_THAT(missing.err, Contains("dgx-h999: no such file"));
  CHECK_THAT(missing.err, Contains("dgx-h100-2node"));  // lists what is shipped
}

TEST_CASE("topo show --json carries the matrices") {
  Run r = Wiresim({"topo", "show", "dgx-h100-2node", "--json"});
  REQUIRE(r.code == kExitOk);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["gpus"].size() == 16);
  CHECK(j["devices"].size() == 32);  // 16 GPUs + 16 NICs
  CHECK(j["class"][0][8] == "NET");
  CHECK(j["bandwidth_GBps"][0][8].get<double>() == Approx(50.0));
  CHECK(j["class"][0][1] == "NV18");
  CHECK(j["gpus"][3]["rail"] == 3);
}

TEST_CASE("Bad topology input exits 2 with file, line and field") {
  testing::MemoryReader reader;
  reader.Add("bad.toml",
             "[[node]]\nname = \"gpu\"\nkind = \"gpu\"\ncount = 2\n[[link]]\nfrom = \"gpu0\"\nto = \"gpu1\"\n"
             "kind = \"nvlink\"\nbandwidth_GBps = -3\n");
  Run r = Wiresim({"topo", "show", "bad.toml"}, reader);
  CHECK(r.code == kExitBadInput);
  // The bound of docs/formats/numbers.md: 0.01 to 10^6 GB/s.
  CHECK_THAT(r.err, Contains("wiresim topo show: bad.toml:9: link.bandwidth_GBps: expected a bandwidth in GB/s from "
                             "0.01 to 1000000 (1 PB/s), got -3"));
  CHECK(r.out.empty());
}

TEST_CASE("topo import writes a loadable topology, whole or not at all") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("wiresim-cli-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string out = (dir / "node.toml").string();
  const std::string fixture = std::string(WIRESIM_SOURCE_DIR) + "/tests/data/topology/smi_nvswitch_tabs.txt";
  Run r = Wiresim({"topo", "import", fixture, "-o", out});
  REQUIRE(r.code == kExitOk);
  CHECK(fs::exists(out));
  for (const auto& entry : fs::directory_iterator(dir)) CHECK(entry.path().filename() == "node.toml");  // no temp
  Run show = Wiresim({"topo", "show", out});
  REQUIRE(show.code == kExitOk);
  CHECK_THAT(show.out, Contains("NV18"));
  // A failed import leaves no file behind.
  const std::string bad_out = (dir / "bad.toml").string();
  std::ofstream(dir / "not-a-matrix.txt") << "hello\n";
  Run bad = Wiresim({"topo", "import", (dir / "not-a-matrix.txt").string(), "-o", bad_out});
  CHECK(bad.code == kExitBadInput);
  CHECK_THAT(bad.err, Contains("not-a-matrix.txt:1: not `nvidia-smi topo -m` output"));
  CHECK_FALSE(fs::exists(bad_out));
  fs::remove_all(dir);
}

TEST_CASE("Same input, same bytes") {
  CHECK(Wiresim({"topo", "show", "dgx-h100-2node", "--json"}).out ==
        Wiresim({"topo", "show", "dgx-h100-2node", "--json"}).out);
}

}  // namespace
}  // namespace wiresim::app
