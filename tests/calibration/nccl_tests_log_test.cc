// The nccl-tests reader, on hand-written logs in each layout nccl-tests has printed (tests/calibration/data/).
// Expected values are the ones written in the fixture files.
#include "sim/calibration/nccl_tests_log.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

namespace wiresim {
namespace {

SourceFile Fixture(const std::string& name) {
  std::ifstream in(std::string(WIRESIM_SOURCE_DIR) + "/tests/calibration/data/" + name);
  REQUIRE(in.good());
  std::ostringstream text;
  text << in.rdbuf();
  return SourceFile{name, text.str()};
}

NcclTestsLog Parse(const std::string& name) {
  auto log = ParseNcclTestsLog(Fixture(name));
  INFO(log.status().ToString());
  REQUIRE(log.ok());
  return std::move(log).value();
}

TEST_CASE("a current text log with MPI prefixes and NCCL lines mixed in") {
  const NcclTestsLog log = Parse("all_reduce_v2.19_mpi.txt");
  CHECK_FALSE(log.json);
  CHECK(log.op == "all_reduce");
  CHECK(log.tests_version == "2.19.6");
  CHECK(log.nccl_version == "2.21.5");
  REQUIRE(log.ranks == 4);
  CHECK(log.hosts == std::vector<std::string>{"nodeA", "nodeA", "nodeB", "nodeB"});
  CHECK(log.devices[3] == "NVIDIA H100 80GB HBM3");
  REQUIRE(log.average_busbw_GBps.has_value());
  CHECK(*log.average_busbw_GBps == Approx(6.9912));
  // The NCCL INFO line between rows is not a row: 4 rows.
  REQUIRE(log.rows.size() == 4);
  const NcclTestsRow& first = log.rows[0];
  CHECK(first.size_bytes == 8);
  CHECK(first.count == 2);
  CHECK(first.type == "float");
  CHECK(first.redop == "sum");
  CHECK(first.root == -1);
  CHECK(first.line == 18);  // the fixture's 18th line
  REQUIRE(first.out_of_place.has_value());
  CHECK(first.out_of_place->time_us == Approx(21.5));
  CHECK(first.out_of_place->wrong == 0.0);
  REQUIRE(first.in_place.has_value());
  CHECK(first.in_place->time_us == Approx(20.75));
  const NcclTestsRow& mib = log.rows[2];
  CHECK(mib.out_of_place->algbw_GBps == Approx(17.39));
  CHECK(mib.out_of_place->busbw_GBps == Approx(26.08));
  // getFloatStr falls back to %e when a time does not fit 7 characters.
  CHECK(log.rows[3].out_of_place->time_us == Approx(1.2e5));
  CHECK(log.rows[3].in_place->time_us == Approx(119873));
}

TEST_CASE("a pre-2.13 log: no root column, N/A wrong counts, srun prefixes") {
  const NcclTestsLog log = Parse("all_gather_v2.11_noroot.txt");
  CHECK(log.op.empty());  // old logs do not name the test
  CHECK(log.ranks == 8);
  CHECK(log.devices[0] == "NVIDIA A100-SXM4-80GB");
  REQUIRE(log.rows.size() == 3);
  for (const NcclTestsRow& row : log.rows) {
    CHECK_FALSE(row.root.has_value());
    CHECK_FALSE(row.out_of_place->wrong.has_value());
    CHECK(row.redop == "none");
  }
  CHECK(log.rows[1].size_bytes == 2097152);
  CHECK(log.rows[1].out_of_place->busbw_GBps == Approx(40.78));
  CHECK(log.rows[2].in_place->time_us == Approx(69.9));
}

TEST_CASE("per-iteration columns and a timestamp after the row") {
  const NcclTestsLog log = Parse("alltoall_per_iter_timestamp.txt");
  CHECK(log.op == "alltoall");
  REQUIRE(log.rows.size() == 1);
  const NcclTestsRow& row = log.rows[0];
  CHECK(row.root == -1);
  CHECK(row.out_of_place->time_us == Approx(100.0));
  CHECK(row.out_of_place->busbw_GBps == Approx(73.40));
  // The in-place group starts after the four per-iteration columns of the out-of-place one.
  CHECK(row.in_place->time_us == Approx(101.0));
  CHECK(row.in_place->busbw_GBps == Approx(72.68));
}

TEST_CASE("a blank out-of-place group leaves only the in-place result") {
  const NcclTestsLog log = Parse("alltoallv_trace_replay.txt");
  REQUIRE(log.rows.size() == 1);
  CHECK_FALSE(log.rows[0].out_of_place.has_value());
  REQUIRE(log.rows[0].in_place.has_value());
  CHECK(log.rows[0].in_place->time_us == Approx(55.0));
}

TEST_CASE("rows without a header: the root column is told from the field count") {
  const NcclTestsLog log = Parse("rows_only.txt");
  REQUIRE(log.rows.size() == 2);
  CHECK(log.rows[0].root == -1);
  CHECK(log.rows[0].out_of_place->time_us == Approx(12.0));
  CHECK_FALSE(log.rows[1].root.has_value());
  CHECK(log.rows[1].type == "half");
  CHECK(log.rows[1].out_of_place->time_us == Approx(12.4));
}

TEST_CASE("the -J JSON form") {
  const NcclTestsLog log = Parse("reduce_scatter.json");
  CHECK(log.json);
  CHECK(log.op == "reduce_scatter");
  CHECK(log.nccl_version == "2.27.3");
  CHECK(log.graph_launches == 0);
  CHECK_FALSE(log.blocking);  // "blocking_collectives": "false"
  CHECK(log.ranks == 2);
  CHECK(log.hosts[1] == "h0");
  REQUIRE(log.rows.size() == 2);
  CHECK(log.rows[0].root == -1);  // the padded string "    -1"
  CHECK(log.rows[0].out_of_place->time_us == Approx(20.5));
  CHECK(log.rows[0].out_of_place->wrong == 0.0);
  CHECK_FALSE(log.rows[0].in_place->wrong.has_value());  // null: not checked
  CHECK_FALSE(log.rows[1].out_of_place.has_value());     // null group
  CHECK(std::isnan(log.rows[1].in_place->busbw_GBps));   // "nan"
  CHECK(*log.average_busbw_GBps == Approx(25.83));
}

TEST_CASE("words appended after the numbers are not part of the row") {
  // What `wiresim collective` prints: one out-of-place group, then the algorithm and protocol.
  const SourceFile f{"pred.txt",
                     "#                                   out-of-place\n"
                     "#  size count type redop root time algbw busbw #wrong algo proto\n"
                     "  1048576  262144  float  sum  -1  60.00  17.48  30.58  N/A  Ring  LL\n"};
  const auto log = ParseNcclTestsLog(f);
  REQUIRE(log.ok());
  REQUIRE(log->rows.size() == 1);
  // The title names out-of-place alone, so the single group is that one.
  REQUIRE(log->rows[0].out_of_place.has_value());
  CHECK_FALSE(log->rows[0].in_place.has_value());
  CHECK(log->rows[0].out_of_place->busbw_GBps == Approx(30.58));
}

TEST_CASE("bad input names the file, the line and the field") {
  const SourceFile bad{"bad.txt",
                       "#  size count type redop root time algbw busbw #wrong time algbw busbw #wrong\n"
                       "  8  2  float  sum  -1  12.0  fast  0.00  0  11.0  0.00  0.00  0\n"};
  const auto log = ParseNcclTestsLog(bad);
  REQUIRE_FALSE(log.ok());
  CHECK(log.status().message().find("bad.txt:2") != std::string::npos);
  CHECK(log.status().message().find("algbw") != std::string::npos);

  const auto empty = ParseNcclTestsLog(SourceFile{"empty.txt", "# nothing here\n"});
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.status().message().find("empty.txt") != std::string::npos);

  const auto json = ParseNcclTestsLog(SourceFile{"x.json", "{\"results\": [{\"size\": 8}]}"});
  REQUIRE_FALSE(json.ok());
  CHECK(json.status().message().find("results[0]") != std::string::npos);
}

TEST_CASE("how the calls were issued: CUDA-graph launches, aggregated iterations, blocking") {
  // The nThread line as nccl-tests prints it (src/util.cu): "graph: N" is -G N, "agg iters: M" is -m M; -z prints a
  // "Blocking Enabled" line.
  const std::string row =
      "     1048576        262144     float     sum      -1   30.00   34.95   61.17      0   30.00   34.95   61.17     "
      " 0\n";
  const SourceFile text{
      "g.txt",
      "# nThread 1 nGpus 1 minBytes 1048576 maxBytes 1048576 step: 2(factor) warmup iters: 5 iters: 20 "
      "agg iters: 4 validation: 1 graph: 3\n"
      "# Blocking Enabled: wait for completion and barrier after each collective \n" +
          row};
  const auto log = ParseNcclTestsLog(text);
  REQUIRE(log.ok());
  CHECK(log->graph_launches == 3);
  CHECK(log->agg_iters == 4);
  CHECK(log->blocking);
  CHECK(log->gpus_per_thread == 1);  // "nGpus 1"
  const auto driven = ParseNcclTestsLog(SourceFile{"d.txt", "# nThread 1 nGpus 8 minBytes 8 maxBytes 8\n" + row});
  REQUIRE(driven.ok());
  CHECK(driven->gpus_per_thread == 8);  // -g 8: one thread drives 8 GPUs
  CHECK(driven->threads_per_process == 1);
  const auto threads = ParseNcclTestsLog(SourceFile{"t.txt", "# nThread 2 nGpus 4 minBytes 8 maxBytes 8\n" + row});
  REQUIRE(threads.ok());
  CHECK(threads->threads_per_process == 2);  // -t 2 -g 4: 8 ranks in one process
  CHECK(threads->gpus_per_thread == 4);
  // A log without the line: launched one by one, one call per launch, not blocking.
  const auto plain = ParseNcclTestsLog(SourceFile{"p.txt", row});
  REQUIRE(plain.ok());
  CHECK(plain->graph_launches == 0);
  CHECK(plain->agg_iters == 1);
  CHECK_FALSE(plain->blocking);
  // -J: the same in "config".
  const auto json = ParseNcclTestsLog(SourceFile{
      "g.json",
      "{\"config\": {\"graph\": 2, \"aggregated_iterations\": 1, \"blocking_collectives\": \"true\", "
      "\"nthreads\": 2, \"ngpus\": 4},"
      " \"results\": [{\"size\": 1024, \"count\": 256, \"type\": \"float\", \"redop\": \"sum\", \"root\": -1,"
      " \"out_of_place\": {\"time\": 10.0, \"alg_bw\": 0.1, \"bus_bw\": 0.2, \"nwrong\": 0}, \"in_place\": null}]}"});
  INFO(json.status().ToString());
  REQUIRE(json.ok());
  CHECK(json->graph_launches == 2);
  CHECK(json->blocking);
  CHECK(json->threads_per_process == 2);
  CHECK(json->gpus_per_thread == 4);
  // A count that is not one: the file, the line and the field.
  const auto bad = ParseNcclTestsLog(SourceFile{"b.txt", "# nThread 1 nGpus 1 graph: many\n" + row});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("b.txt:1") != std::string::npos);
  CHECK(bad.status().message().find("graph") != std::string::npos);
  const auto bad_json = ParseNcclTestsLog(
      SourceFile{"b.json", "{\"config\": {\"graph\": -1}, \"results\": [{\"size\": 8, \"count\": 2}]}"});
  REQUIRE_FALSE(bad_json.ok());
  CHECK(bad_json.status().message().find("config.graph") != std::string::npos);
}

TEST_CASE("the NCCL a log ran: the nccl-tests header's library code, or NCCL's own version line") {
  // nccl-tests 2.17.4 and later print NCCL_VERSION_CODE of the headers and of the library (ncclGetVersion):
  // 22703 is 2.27.3 (major x 10000 + minor x 100 + patch).
  const std::string row =
      "     1048576        262144     float     sum      -1   30.00   34.95   61.17      0   30.00   34.95   61.17     "
      " 0\n";
  const auto header = ParseNcclTestsLog(
      SourceFile{"h.txt", "# nccl-tests version 2.17.6 nccl-headers=22800 nccl-library=22703\n" + row});
  REQUIRE(header.ok());
  CHECK(header->nccl_version == "2.27.3");
  // NCCL's own line (NCCL_DEBUG=VERSION or INFO) names the same library.
  const auto line = ParseNcclTestsLog(SourceFile{"n.txt", "NCCL version 2.19.3+cuda12.2\n" + row});
  REQUIRE(line.ok());
  CHECK(line->nccl_version == "2.19.3");
  // Older headers name no library: no version.
  const auto old = ParseNcclTestsLog(SourceFile{"o.txt", "# nccl-tests version 2.13.9\n" + row});
  REQUIRE(old.ok());
  CHECK(old->nccl_version.empty());
  const auto bad =
      ParseNcclTestsLog(SourceFile{"b.txt", "# nccl-tests version 2.17.6 nccl-headers=1 nccl-library=x2\n" + row});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("b.txt:1") != std::string::npos);
  CHECK(bad.status().message().find("nccl-library") != std::string::npos);
}

}  // namespace
}  // namespace wiresim
