// `wiresim collective` end to end: the table's numbers hold together as nccl-tests defines them, GPU selection
// across nodes, --json, --compare against a log, and errors that exit with code 2.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "sim/app/cli.h"
#include "sim/calibration/nccl_tests_log.h"
#include "tests/testing/cli.h"

namespace wiresim::app {
namespace {

struct Run {
  int code = 0;
  std::string out, err;
};

Run Wiresim(std::vector<std::string> args) {
  std::ostringstream out, err;
  FileSystemReader reader;
  AppContext ctx{out, err, reader, false};
  Run r;
  r.code = Main(args, ctx);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// A --json run's first predicted time, and its whole output; the run must succeed.
std::pair<double, nlohmann::json> FirstRowTime(const std::vector<std::string>& args) {
  const Run r = Wiresim(args);
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  return std::make_pair(j["rows"][0]["time_us"].get<double>(), j);
}

// The first predicted time of `base` run with `extra` appended.
double FirstRowTimeWith(std::vector<std::string> base, const std::vector<std::string>& extra) {
  base.insert(base.end(), extra.begin(), extra.end());
  return FirstRowTime(base).first;
}

const std::string kLog = std::string(WIRESIM_SOURCE_DIR) + "/tests/calibration/data/all_reduce_v2.19_mpi.txt";

TEST_CASE("the table is an nccl-tests table: algbw = size / time, busbw = algbw x 2(n-1)/n") {
  const Run r = Wiresim({"collective", "--topology", "dgx-h100", "-b", "1M", "-e", "4M", "-f", "2"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  // Our own reader takes it back (the table names its single group out-of-place).
  const auto log = ParseNcclTestsLog(SourceFile{"out", r.out});
  REQUIRE(log.ok());
  REQUIRE(log->rows.size() == 3);  // 1, 2 and 4 MiB
  for (const NcclTestsRow& row : log->rows) {
    REQUIRE(row.out_of_place.has_value());
    const NcclTestsResult& x = *row.out_of_place;
    CHECK(row.count * 4 == static_cast<int64_t>(row.size_bytes));  // float
    CHECK(row.root == -1);
    // Time and bandwidths are printed to 2 decimals: compare at that precision (time to 0.005 us in ~30 us).
    CHECK(x.algbw_GBps == Approx(row.size_bytes / (x.time_us * 1e3)).epsilon(5e-4).margin(0.006));
    CHECK(x.busbw_GBps == Approx(x.algbw_GBps * 2 * 7 / 8).margin(0.02));
  }
  CHECK(r.out.find("Ring") != std::string::npos);  // 1 MiB: NCCL's Ring/LL on 8 Hopper GPUs
  CHECK(r.out.find("NVLS") != std::string::npos);  // 2 MiB and up: NVLS
}

TEST_CASE("GPUs across nodes: host:local lists and --nodes name the same GPUs") {
  const Run a = Wiresim({"collective", "--topology", "dgx-h100-2node", "--gpus", "node0:0-7,node1:0-7", "-b", "8M",
                         "-e", "8M", "--json"});
  const Run b =
      Wiresim({"collective", "--topology", "dgx-h100-2node", "--nodes", "2", "-b", "8M", "-e", "8M", "--json"});
  REQUIRE(a.code == 0);
  REQUIRE(b.code == 0);
  const auto ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
  CHECK(ja["ranks"] == 16);
  CHECK(ja["nodes"] == 2);
  CHECK(ja["gpus"] == jb["gpus"]);
  CHECK(ja["rows"][0]["time_us"] == jb["rows"][0]["time_us"]);
  // all-gather: nccl-tests' size is the total buffer, count is per rank: 8 MiB / (4 bytes x 16 ranks).
  const Run ag = Wiresim({"collective", "--topology", "dgx-h100-2node", "--nodes", "2", "--op", "all_gather", "-b",
                          "8M", "-e", "8M", "--json"});
  REQUIRE(ag.code == 0);
  CHECK(nlohmann::json::parse(ag.out)["rows"][0]["count"] == 8 * 1024 * 1024 / 4 / 16);
}

TEST_CASE("the GPU header line gives runs of GPUs as ranges, and an unordered selection as given") {
  const Run halves =
      Wiresim({"collective", "--topology", "dgx-h100-2node", "--gpus", "node0:0-3,node1:0-3", "-b", "1M", "-e", "1M"});
  REQUIRE(halves.code == 0);
  CHECK(halves.out.find("\n# GPUs: 0-3,8-11\n") != std::string::npos);
  // The ranks follow the order given: 9 is rank 0, so the list keeps it first.
  const Run reversed =
      Wiresim({"collective", "--topology", "dgx-h100-2node", "--gpus", "9,8,0", "-b", "1M", "-e", "1M"});
  REQUIRE(reversed.code == 0);
  CHECK(reversed.out.find("\n# GPUs: 9,8,0\n") != std::string::npos);
}

TEST_CASE("comparing with a log puts measured next to predicted") {
  const Run r = Wiresim({"collective", "--topology", "dgx-h100-2node", "--compare", kLog, "--json"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  // The log ran 2 ranks on each of 2 hosts: GPUs 0, 1 of node0 and 0, 1 of node1 (global 8, 9).
  CHECK(j["gpus"] == nlohmann::json::array({0, 1, 8, 9}));
  CHECK(j["op"] == "all_reduce");
  REQUIRE(j["rows"].size() == 4);
  CHECK(j["rows"][0]["measured_time_us"] == Approx(21.5));  // from the fixture's out-of-place column
  // error = predicted busbw / measured busbw - 1, with busbw recomputed from the time.
  const auto& row = j["rows"][2];
  const double measured = row["size"].get<double>() / (row["measured_time_us"].get<double>() * 1e3) * 1.5;
  CHECK(row["error"].get<double>() == Approx(row["busbw_GBps"].get<double>() / measured - 1));
  const Run text = Wiresim({"collective", "--topology", "dgx-h100-2node", "--compare", kLog});
  REQUIRE(text.code == 0);
  CHECK(text.out.find("median |error|") != std::string::npos);
}

TEST_CASE("comparing reads the log's operation as calibrate import does: inferred, or --op checked") {
  // The fixture without the lines that name its test (as nccl-tests before 2.16.7 print it): busbw / algbw =
  // 26.08 / 17.39 = 1.5 over its 4 ranks is all-reduce's 2(n-1)/n, and its redop column says it reduces.
  std::ifstream in(kLog);
  std::ostringstream unnamed;
  for (std::string line; std::getline(in, line);) {
    if (line.find("Collective test") == std::string::npos) unnamed << line << "\n";
  }
  testing::ScratchDir dir("wiresim-compare-op");
  std::ofstream(dir / "old.txt") << unnamed.str();
  const Run inferred = Wiresim({"collective", "--topology", "dgx-h100-2node", "--compare", dir / "old.txt", "--json"});
  INFO(inferred.err);
  REQUIRE(inferred.code == 0);  // was exit 2: "the log does not name its test; give --op"
  CHECK(nlohmann::json::parse(inferred.out)["op"] == "all_reduce");
  CHECK_THAT(inferred.err, Catch::Contains("operation all_reduce, inferred from busbw / algbw = 1.500 over 4 ranks"));
  // A wrong --op was compared quietly as that operation: all-gather's factor over 4 ranks is (n-1)/n = 0.75.
  const Run wrong =
      Wiresim({"collective", "--topology", "dgx-h100-2node", "--compare", dir / "old.txt", "--op", "all_gather"});
  CHECK(wrong.code == kExitBadInput);
  CHECK_THAT(wrong.err, Catch::Contains("but all_gather over 4 ranks gives (n-1)/n = 0.750"));
  // A log that names its test and a --op that names another: refused, as by calibrate import.
  const Run other = Wiresim({"collective", "--topology", "dgx-h100-2node", "--compare", kLog, "--op", "broadcast"});
  CHECK(other.code == kExitBadInput);
  CHECK_THAT(other.err, Catch::Contains("the log is all_reduce_perf's, but --op says broadcast"));
}

TEST_CASE("comparing models the log's NCCL release and how its calls were launched, unless flags say otherwise") {
  // One 8 MiB all-reduce on one DGX H100, as nccl-tests prints it with -G 1 (the iterations captured in a CUDA graph:
  // no launch per call, src/common.cu) and NCCL's own version line.
  const auto write = [](const std::string& name, const std::string& nthread, const std::string& version) {
    const std::string path =
        (std::filesystem::temp_directory_path() / ("wiresim-" + std::to_string(::getpid()) + "-" + name)).string();
    std::ofstream out(path);
    out << "# Collective test starting: all_reduce_perf\n"
        << nthread << "\n"
        << version << "#  Rank  0 Group  0 Pid 1 on h device  0 [0000:00:00] NVIDIA H100 80GB HBM3\n";
    for (int r = 1; r < 8; ++r)
      out << "#  Rank  " << r << " Group  0 Pid 1 on h device  " << r << " [0000:00:00] NVIDIA H100 80GB HBM3\n";
    out << "     8388608       2097152     float     sum      -1   90.00   93.21  163.11      0   90.00   93.21  "
           "163.11      0\n";
    return path;
  };
  const std::string graphed = write("g.txt",
                                    "# nThread 1 nGpus 1 minBytes 8388608 maxBytes 8388608 step: 2(factor) "
                                    "warmup iters: 5 iters: 20 agg iters: 1 validation: 1 graph: 1",
                                    "NCCL version 2.19.3+cuda12.2\n");
  const auto [t, j] = FirstRowTime({"collective", "--topology", "dgx-h100", "--compare", graphed, "--json"});
  CHECK(j["nccl_version"] == "2.19.3");
  CHECK(j["launch_overhead_us"] == 0.0);
  // The same as a prediction told so.
  const auto [plain, pj] = FirstRowTime({"collective", "--topology", "dgx-h100", "-b", "8M", "-e", "8M",
                                         "--nccl-version", "2.19.3", "--launch-us", "0", "--json"});
  CHECK(t == Approx(plain));
  const Run text = Wiresim({"collective", "--topology", "dgx-h100", "--compare", graphed});
  CHECK(text.out.find("(1 rows); NCCL 2.19.3, the log's; launched as CUDA graphs (-G 1): no launch per call") !=
        std::string::npos);
  // Flags win: a given release and launch overhead are kept (5 us more than with none).
  const auto [given, gj] = FirstRowTime({"collective", "--topology", "dgx-h100", "--compare", graphed, "--nccl-version",
                                         "2.19.3", "--launch-us", "5", "--json"});
  CHECK(gj["launch_overhead_us"] == 5.0);
  CHECK(given - t == Approx(5).margin(1e-6));
  // -m 4: four calls in one group, one launch: 5 / 4 us each. A release wiresim does not model: the newest, said.
  const std::string grouped = write("m.txt",
                                    "# nThread 1 nGpus 1 minBytes 8388608 maxBytes 8388608 step: 2(factor) "
                                    "warmup iters: 5 iters: 20 agg iters: 4 validation: 1 graph: 0",
                                    "NCCL version 2.14.3+cuda11.8\n");
  const Run m = Wiresim({"collective", "--topology", "dgx-h100", "--compare", grouped, "--json"});
  REQUIRE(m.code == 0);
  CHECK(nlohmann::json::parse(m.out)["launch_overhead_us"] == 1.25);
  const Run mt = Wiresim({"collective", "--topology", "dgx-h100", "--compare", grouped});
  CHECK(mt.out.find("the log's NCCL 2.14.3 is not one wiresim models (2.18 to 2.30): the newest; 4 calls per launch") !=
        std::string::npos);
  // -g 8: one thread drove the 8 GPUs, launching 8 kernels per call: stated, not modelled (the time is unchanged).
  const std::string one_thread = write("t.txt",
                                       "# nThread 1 nGpus 8 minBytes 8388608 maxBytes 8388608 step: 2(factor) "
                                       "warmup iters: 5 iters: 20 agg iters: 1 validation: 1 graph: 0",
                                       "NCCL version 2.19.3+cuda12.2\n");
  const Run tt = Wiresim({"collective", "--topology", "dgx-h100", "--compare", one_thread});
  CHECK(tt.out.find("; one thread drove 8 GPUs (-g 8): it launches 8 kernels per call, host time not modelled") !=
        std::string::npos);
  const auto [driven, dj] = FirstRowTime({"collective", "--topology", "dgx-h100", "--compare", one_thread, "--json"});
  CHECK(dj["launch_overhead_us"] == 5.0);
  CHECK(driven - t == Approx(5).margin(1e-6));
  std::filesystem::remove(graphed);
  std::filesystem::remove(grouped);
  std::filesystem::remove(one_thread);
}

TEST_CASE("comparing a log whose ranks shared a process models NCCL's direct pointers between them") {
  // nccl-tests -g 8: one process drives the node's 8 GPUs, NCCL connects them by P2P/direct pointer, and a Simple
  // ring all-reduce's loop ends without its copy out of the receive buffer (docs/collectives.md section 5). On 8
  // H100s a ring step of 1 GiB is S/8 over a GPU's 18 NVLinks at NCCL's 20.6 GB/s each, 370.8 GB/s: 362 us; the copy
  // is half a step, 181 us.
  const std::string path =
      (std::filesystem::temp_directory_path() / ("wiresim-" + std::to_string(::getpid()) + "-g8.txt")).string();
  {
    std::ofstream out(path);
    out << "# Collective test starting: all_reduce_perf\n"
        << "# nThread 1 nGpus 8 minBytes 1073741824 maxBytes 1073741824 step: 2(factor) warmup iters: 5 iters: 20 "
           "agg iters: 1 validation: 1 graph: 0\n";
    for (int r = 0; r < 8; ++r)
      out << "#  Rank  " << r << " Group  0 Pid 7 on h device  " << r << " [0000:00:00] NVIDIA H100 80GB HBM3\n";
    out << "  1073741824     268435456     float     sum      -1   5100.0  210.54  368.44      0   5100.0  210.54  "
           "368.44      0\n";
  }
  const auto [shared, sj] =
      FirstRowTime({"collective", "--topology", "dgx-h100", "--algo", "ring", "--compare", path, "--json"});
  CHECK(sj["ranks_per_process"] == 8);
  // The same as a prediction told so, and 181 us faster than one process per GPU.
  const auto [told, tj] = FirstRowTime({"collective", "--topology", "dgx-h100", "--algo", "ring", "-b", "1G", "-e",
                                        "1G", "--ranks-per-process", "8", "--json"});
  CHECK(shared == Approx(told));
  const auto [apart, aj] = FirstRowTime({"collective", "--topology", "dgx-h100", "--algo", "ring", "--compare", path,
                                         "--ranks-per-process", "1", "--json"});
  CHECK(aj["ranks_per_process"] == 1);
  CHECK(apart - shared == Approx(1073741824.0 / 8 / 370.8e9 / 2 * 1e6).epsilon(0.005));
  const Run text = Wiresim({"collective", "--topology", "dgx-h100", "--algo", "ring", "--compare", path});
  CHECK(text.out.find("; 8 ranks per process (nThread 1 x nGpus 8): P2P direct pointers") != std::string::npos);
  CHECK(text.out.find("; 8 ranks per process; channels") != std::string::npos);
  const Run bad = Wiresim({"collective", "--ranks-per-process", "0", "-b", "1M", "-e", "1M"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("--ranks-per-process must be a whole number from 1") != std::string::npos);
  std::filesystem::remove(path);
}

TEST_CASE("comparing reads the JSON nccl-tests -J writes, GPUs taken from its device list") {
  const std::string json =
      std::string(WIRESIM_SOURCE_DIR) + "/tests/data/nccl-tests/two_hosts_2x2_all_reduce_perf.json";
  const Run r = Wiresim({"collective", "--topology", "dgx-h100-2node", "--compare", json, "--json"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["op"] == "all_reduce");  // from args[0], ./build/all_reduce_perf
  // Ranks 0, 1 on host gpu-a and 2, 3 on gpu-b: the first two GPUs of each of the topology's first two hosts.
  CHECK(j["gpus"] == nlohmann::json::array({0, 1, 8, 9}));
  REQUIRE(j["rows"].size() == 3);
  CHECK(j["rows"][0]["size"] == 1048576);
  CHECK(j["rows"][2]["size"] == 16777216);
  // The out-of-place times of the fixture, not the in-place ones next to them.
  CHECK(j["rows"][0]["measured_time_us"] == Approx(52.4));
  CHECK(j["rows"][1]["measured_time_us"] == Approx(118.2));
  CHECK(j["rows"][2]["measured_time_us"] == Approx(401.0));
}

TEST_CASE("the nccl-json format writes nccl-tests' -J layout, which reads back to the same rows") {
  const std::vector<std::string> predict = {
      "collective", "--topology", "dgx-h100-2node", "--gpus", "node0:0-1,node1:2-3", "-b", "1M", "-e", "64M",
      "-f",         "4"};
  std::vector<std::string> as_json = predict;
  as_json.insert(as_json.end(), {"--format", "nccl-json"});
  std::vector<std::string> as_table = predict;
  as_table.push_back("--json");
  const Run written = Wiresim(as_json), table = Wiresim(as_table);
  INFO(written.err);
  REQUIRE(written.code == 0);
  REQUIRE(table.code == 0);
  // nccl-tests' keys and quirks: root as the "%6i" text, an in-place group that was not measured.
  const auto doc = nlohmann::json::parse(written.out);
  CHECK(doc["results"][0]["root"] == "    -1");
  CHECK(doc["results"][0]["in_place"].is_null());
  CHECK(doc["config"]["step_factor"] == 4);
  CHECK(doc["config"]["devices"][3]["hostname"] == "node1");
  CHECK(doc["config"]["devices"][3]["device"] == 3);  // node1:3
  // The project's reader takes it back to the sizes and times of the prediction.
  const auto log = ParseNcclTestsLog(SourceFile{"pred.json", written.out});
  REQUIRE(log.ok());
  CHECK(log->json);
  CHECK(log->ranks == 4);
  CHECK(log->op.empty());  // it names no nccl-tests binary
  const auto rows = nlohmann::json::parse(table.out)["rows"];
  REQUIRE(log->rows.size() == 4);  // 1, 4, 16 and 64 MiB
  REQUIRE(rows.size() == 4);
  for (size_t i = 0; i < rows.size(); ++i) {
    CHECK(log->rows[i].size_bytes == rows[i]["size"].get<double>());
    CHECK(log->rows[i].count == rows[i]["count"].get<int64_t>());
    CHECK(log->rows[i].root == -1);
    REQUIRE(log->rows[i].out_of_place.has_value());
    CHECK(log->rows[i].out_of_place->time_us == rows[i]["time_us"].get<double>());
    CHECK(log->rows[i].out_of_place->busbw_GBps == rows[i]["busbw_GBps"].get<double>());
    CHECK_FALSE(log->rows[i].in_place.has_value());
  }
  // And --compare takes it, with --op and --gpus saying what it ran: predicted against itself, no error.
  const std::string path =
      (std::filesystem::temp_directory_path() / ("wiresim-collective-" + std::to_string(::getpid()) + ".json"))
          .string();
  REQUIRE(WriteFileAtomically(path, written.out).ok());
  const Run compared = Wiresim({"collective", "--topology", "dgx-h100-2node", "--gpus", "node0:0-1,node1:2-3", "--op",
                                "all_reduce", "--compare", path, "--json"});
  INFO(compared.err);
  REQUIRE(compared.code == 0);
  const auto c = nlohmann::json::parse(compared.out);
  REQUIRE(c["rows"].size() == 4);
  for (const auto& row : c["rows"]) CHECK(row["error"].get<double>() == Approx(0).margin(1e-9));
  const Run with_compare = Wiresim({"collective", "--format", "nccl-json", "--gpus", "0-3", "--compare", path});
  CHECK(with_compare.code == 2);
  const Run both = Wiresim({"collective", "--json", "--format", "nccl-json"});
  CHECK(both.code == 2);
  const Run unknown = Wiresim({"collective", "--format", "yaml"});
  CHECK(unknown.code == 2);
  CHECK(unknown.err.find("yaml") != std::string::npos);
  std::filesystem::remove(path);
}

// A stream buffer that keeps what had been written at each flush.
class FlushLog : public std::stringbuf {
 public:
  std::vector<std::string> at_flush;

 protected:
  int sync() override {
    at_flush.push_back(str());
    return 0;
  }
};

TEST_CASE("table rows are printed one by one as they are done, and progress shows on a terminal only") {
  const std::vector<std::string> args = {
      "collective", "--topology", "dgx-h100-2node", "--nodes", "2", "--network", "flow", "-b", "1M", "-e", "16M",
      "-f",         "4"};
  FlushLog out_buf;
  std::ostream out(&out_buf);
  std::ostringstream err;
  FileSystemReader reader;
  AppContext ctx{out, err, reader, /*interactive=*/false};
  REQUIRE(Main(args, ctx) == 0);
  const std::string all = out_buf.str();
  // Three rows (1, 4 and 16 MiB). Each was flushed on its own, before the next was known and before the summary.
  int rows_seen = 0;
  for (const char* size : {"     1048576 ", "     4194304 ", "    16777216 "}) {
    const auto flushed = std::find_if(out_buf.at_flush.begin(), out_buf.at_flush.end(), [&](const std::string& f) {
      return f.find("\n" + std::string(size)) != std::string::npos;
    });
    REQUIRE(flushed != out_buf.at_flush.end());
    CHECK(flushed->find("Avg bus bandwidth") == std::string::npos);
    CHECK(flushed->size() == all.find('\n', all.find("\n" + std::string(size)) + 1) + 1);  // ends with that row
    ++rows_seen;
  }
  CHECK(rows_seen == 3);
  CHECK(err.str().empty());  // not a terminal: no progress text

  // On a terminal the progress line goes to err, erased (\r, clear to the end of line) before every row.
  std::ostringstream tty_out, tty_err;
  AppContext tty{tty_out, tty_err, reader, /*interactive=*/true};
  REQUIRE(Main(args, tty) == 0);
  CHECK(tty_out.str() == all);  // the same table
  CHECK(tty_err.str().find("\r  size 1 of 3 (1048576 B), 0 events") != std::string::npos);
  CHECK(tty_err.str().find("\r\033[K") != std::string::npos);
  CHECK(tty_err.str().ends_with("\r\033[K"));  // nothing left on the line at the end

  std::vector<std::string> quiet = args;
  quiet.push_back("--quiet");
  std::ostringstream q_out, q_err;
  AppContext q{q_out, q_err, reader, /*interactive=*/true};
  REQUIRE(Main(quiet, q) == 0);
  CHECK(q_err.str().empty());
}

TEST_CASE("the flow network gives the closed form's time for a collective alone") {
  // One all-reduce over 4 GPUs with NCCL's choice at 64 MiB (NVLS): every GPU's transfers on its own NVLinks.
  const Run closed = Wiresim({"collective", "--gpus", "0-3", "-b", "64M", "-e", "64M", "--json"});
  const Run flow = Wiresim({"collective", "--gpus", "0-3", "-b", "64M", "-e", "64M", "--json", "--network", "flow"});
  REQUIRE(closed.code == 0);
  REQUIRE(flow.code == 0);
  const double a = nlohmann::json::parse(closed.out)["rows"][0]["time_us"];
  const double b = nlohmann::json::parse(flow.out)["rows"][0]["time_us"];
  CHECK(b == Approx(a).epsilon(1e-6));
}

TEST_CASE("a host interval floors every row, and the buffer size sets the Simple chunk of pipelined algorithms") {
  // 8 B all-reduces take about 10 us on a DGX H100; with a 40 us host interval every row reads 40 us.
  const Run host =
      Wiresim({"collective", "-b", "8", "-e", "64", "--json", "--launch-us", "0", "--call-interval-us", "40"});
  REQUIRE(host.code == 0);
  const auto rows = nlohmann::json::parse(host.out)["rows"];
  REQUIRE(rows.size() == 4);
  for (const auto& r : rows) CHECK(r["time_us"].get<double>() == Approx(40));
  // A tree on two nodes pipelines NCCL_BUFFSIZE / 8 per channel: a larger buffer fills a deeper pipeline longer.
  const std::vector<std::string> tree = {"collective", "--topology", "dgx-h100-2node", "--nodes", "2",   "--algo",
                                         "tree",       "--proto",    "simple",         "-b",      "64M", "-e",
                                         "64M",        "--json"};
  std::vector<std::string> big = tree;
  big.insert(big.end(), {"--buffsize", "16M"});
  const Run a = Wiresim(tree), b = Wiresim(big);
  REQUIRE(a.code == 0);
  REQUIRE(b.code == 0);
  CHECK(nlohmann::json::parse(b.out)["rows"][0]["time_us"].get<double>() >
        nlohmann::json::parse(a.out)["rows"][0]["time_us"].get<double>());
  const Run bad = Wiresim({"collective", "--buffsize", "12"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("--buffsize") != std::string::npos);
}

TEST_CASE("the NCCL release (--nccl-version) sets its constants, and the header and the JSON name it") {
  // NVLSTree's network hop: 14 us in NCCL 2.21 to 2.28, 20.9 us from 2.29 (tuning.cc). Two nodes: one hop down
  // and one up (2 log2(2)), so a forced 1 KiB NVLSTree all-reduce takes 2 x 6.9 us more in 2.29.
  const auto time_us = [](const std::string& version) {
    const auto [t, j] = FirstRowTime({"collective", "--topology", "dgx-h100-2node", "--nodes", "2", "-b", "1K", "-e",
                                      "1K", "--algo", "nvlstree", "--nccl-version", version, "--json"});
    CHECK(j["nccl_version"] == version);
    return t;
  };
  CHECK(time_us("2.29") - time_us("2.28") == Approx(13.8).margin(0.01));
  const Run text = Wiresim({"collective", "--topology", "dgx-h100", "-b", "1M", "-e", "1M"});
  CHECK(text.out.find("; NCCL 2.30.7;") != std::string::npos);
  // The header says when the release runs no NVLS for the group (ncclNvlsInit: 2 GPUs of a node only from 2.28.7).
  const auto two_gpus = [](const char* release) {
    return Wiresim({"collective", "--gpus", "0-1", "--nccl-version", release, "-b", "1M", "-e", "1M"}).out;
  };
  CHECK(two_gpus("2.27.5").find("NVLS 16 (no NVLS here)") != std::string::npos);
  CHECK(two_gpus("2.28.7").find("(no NVLS here)") == std::string::npos);
  // Bad releases and constants name the flag and what was expected.
  const Run old = Wiresim({"collective", "--nccl-version", "2.17", "-b", "1M", "-e", "1M"});
  CHECK(old.code == 2);
  CHECK(old.err.find("--nccl-version: expected an NCCL version from 2.18 to 2.30") != std::string::npos);
  const Run bad = Wiresim({"collective", "--model-constant", "ring_local_copy=x", "-b", "1M", "-e", "1M"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("--model-constant ring_local_copy: expected a number") != std::string::npos);
  // Fitted constants set from the command line (docs/collectives.md section 3), on a 16 MiB NVLS all-reduce on 8
  // GPUs (32 KiB chunks: 4 steps of 4 MiB, each max(6.25 us + 4 MiB x 9/8 / 370.8 GB/s, 4 MiB x 9/8 / 315.18 GB/s)
  // = 18.975 us against the bytes' 14.971 at the sustained rate). No step synchronisation leaves the sustained rate:
  // 4 x 4.004 us off the steps and 1.5 x 4.004 off the fill. No fill takes its 1.5 x 18.975 us off.
  const auto nvls = [](const std::vector<std::string>& extra) {
    return FirstRowTimeWith({"collective", "--topology", "dgx-h100", "-b", "16M", "-e", "16M", "--algo", "nvls", "--json"},
                            extra);
  };
  const double bytes = 4 * 1048576 * 9.0 / 8.0;
  const double step = 6.25 + bytes / 370.8e3, sustained = bytes / (370.8e3 * 0.85);
  CHECK(nvls({}) - nvls({"--model-constant", "nvls_step_sync_us=0"}) == Approx(5.5 * (step - sustained)).margin(0.01));
  CHECK(nvls({}) - nvls({"--model-constant", "nvls_fill_steps=0"}) == Approx(1.5 * step).margin(0.01));
  // NVLSTree's own: on two DGX H100s, 1 GiB keeps the 128 KiB chunk (NVLSTree's smaller chunks start below
  // 4 x 128 operations x 128 KiB = 64 MiB), so 16 MiB a step, 64 steps of 1.75 us added to the bytes' time; the
  // one-node synchronisation does not touch it.
  const auto tree = [](const std::vector<std::string>& extra) {
    return FirstRowTimeWith({"collective", "--topology", "dgx-h100-2node", "--nodes", "2", "-b", "1G", "-e", "1G",
                             "--algo", "nvlstree", "--json"},
                            extra);
  };
  CHECK(tree({}) - tree({"--model-constant", "nvls_tree_step_sync_us=0"}) == Approx(64 * 1.75).margin(0.01));
  CHECK(tree({}) == tree({"--model-constant", "nvls_step_sync_us=0"}));
  // The A100's step factor per protocol: an 8-byte ring all-reduce on 8 A100s has 14 NVLink steps of NCCL's 3.4 us
  // (Simple) or 0.6 us (LL), each x 3 by default; a factor of 1 on one protocol takes 14 x 2 x its step off that
  // protocol alone.
  const auto a100 = [](const char* proto, const std::vector<std::string>& extra) {
    return FirstRowTimeWith({"collective", "--topology", "hgx-a100", "-b", "8", "-e", "8", "--algo", "ring", "--proto",
                             proto, "--json", "--launch-us", "0"},
                            extra);
  };
  const std::vector<std::string> simple_1{"--model-constant", "sm80_nvlink_step_factor_simple=1"};
  const std::vector<std::string> ll_1{"--model-constant", "sm80_nvlink_step_factor_ll=1"};
  CHECK(a100("simple", {}) - a100("simple", simple_1) == Approx(14 * 2 * 3.4).margin(0.01));
  CHECK(a100("ll", {}) == a100("ll", simple_1));
  CHECK(a100("ll", {}) - a100("ll", ll_1) == Approx(14 * 2 * 0.6).margin(0.01));
  CHECK(a100("simple", {}) == a100("simple", ll_1));
  const Run proto = Wiresim({"collective", "--model-constant", "sm80_nvlink_step_factor_ll64=1", "-b", "1M"});
  CHECK(proto.code == 2);
  CHECK(proto.err.find("unknown constant 'sm80_nvlink_step_factor_ll64'") != std::string::npos);
}

TEST_CASE("bad input exits with 2 and says what is wrong") {
  const Run op = Wiresim({"collective", "--op", "all_shuffle"});
  CHECK(op.code == 2);
  CHECK(op.err.find("all_shuffle") != std::string::npos);
  const Run gpus = Wiresim({"collective", "--gpus", "node7:0-3"});
  CHECK(gpus.code == 2);
  CHECK(gpus.err.find("node7") != std::string::npos);
  const Run range = Wiresim({"collective", "--gpus", "0-12"});
  CHECK(range.code == 2);
  CHECK(range.err.find("0-7") != std::string::npos);  // names the GPUs there are
  const Run nvls = Wiresim({"collective", "--topology", "dgx-h100-2node", "--nodes", "2", "--algo", "nvls"});
  CHECK(nvls.code == 2);
  CHECK(nvls.err.find("NVLS") != std::string::npos);
  const Run size = Wiresim({"collective", "-b", "lots"});
  CHECK(size.code == 2);
  CHECK(size.err.find("lots") != std::string::npos);
}

TEST_CASE("collective with an engine: its own kernel per size, NCCL as the engine leaves it for the rest") {
  const Run r = Wiresim({"collective", "--topology", "dgx-h100", "-g", "0-7", "-d", "bfloat16", "-b", "64K", "-e",
                         "128M", "-f", "2048", "--engine", "vllm", "--json"});
  REQUIRE(r.code == 0);
  const auto rows = nlohmann::json::parse(r.out)["rows"];
  REQUIRE(rows.size() == 2);  // 64 KiB, 128 MiB
  // 64 KiB: the custom one-shot kernel, 5.5 us + 65536 x 7 / (0.75 x 450e9) s = 6.859 us (docs/engines.md).
  CHECK(rows[0]["algorithm"] == "custom one-shot");
  CHECK(rows[0]["time_us"].get<double>() == Approx(6.859).epsilon(1e-3));
  // 128 MiB: past symmetric memory's 64 MiB at TP 8 on Hopper, so NCCL (NVLS for vLLM).
  CHECK(rows[1]["algorithm"] == "NVLS");
  // SGLang leaves NCCL without NVLS, and has no symmetric memory: 64 MiB is NCCL's ring.
  const Run s = Wiresim({"collective", "--topology", "dgx-h100", "-g", "0-7", "-d", "bfloat16", "-b", "64M", "-e",
                         "64M", "--engine", "sglang", "--json"});
  REQUIRE(s.code == 0);
  CHECK(nlohmann::json::parse(s.out)["rows"][0]["algorithm"] == "Ring");
  // --engine-kernel forces one: multimem at 1 MiB on 8 GPUs is 8.5 + 4 x 1048576 / 2.8475e12 s + 1048576 x 9/8 /
  // 346.5e9 s = 8.5 + 1.473 + 3.404 = 13.377 us.
  const Run f = Wiresim({"collective", "--topology", "dgx-h100", "-g", "0-7", "-d", "bfloat16", "-b", "1M", "-e", "1M",
                         "--engine", "vllm", "--engine-kernel", "multimem", "--json"});
  REQUIRE(f.code == 0);
  CHECK(nlohmann::json::parse(f.out)["rows"][0]["time_us"].get<double>() == Approx(13.377).epsilon(1e-3));
}

TEST_CASE(
    "collective with an engine, errors: a kernel without an engine, an unknown kernel, symmetric memory without "
    "NVSwitch") {
  const Run no_engine = Wiresim({"collective", "--engine-kernel", "multimem"});
  CHECK(no_engine.code == 2);
  CHECK(no_engine.err.find("--engine-kernel needs --engine") != std::string::npos);
  const Run unknown = Wiresim({"collective", "--engine", "vllm", "--engine-kernel", "oneshot"});
  CHECK(unknown.code == 2);
  CHECK(unknown.err.find("one-shot, two-shot") != std::string::npos);
  const Run bad_engine = Wiresim({"collective", "--engine", "tgi"});
  CHECK(bad_engine.code == 2);
  CHECK(bad_engine.err.find("vllm, sglang or trtllm") != std::string::npos);
  const Run pcie = Wiresim({"collective", "--topology", "pcie-8x-l40s", "-g", "0,1", "-b", "1M", "-e", "1M", "--engine",
                            "vllm", "--engine-kernel", "multimem"});
  CHECK(pcie.code == 2);
  CHECK(pcie.err.find("cannot run it") != std::string::npos);
}

}  // namespace
}  // namespace wiresim::app
