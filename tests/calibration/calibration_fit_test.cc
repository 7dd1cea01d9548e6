// Calibration: the robust solver, the collective correction recovering known parameters, nccl-tests import,
// profiles, and the GEMM and memory figures a profile yields.
#include <cmath>

#include <catch2/catch.hpp>

#include "sim/calibration/calibration_profile.h"
#include "sim/calibration/collective_correction.h"
#include "sim/calibration/fitted_calibration.h"
#include "sim/calibration/nccl_tests_import.h"
#include "sim/calibration/robust_fit.h"
#include "sim/topology/topology_file.h"
#include "tests/testing/topology.h"

namespace wiresim {
namespace {

using Catch::Matchers::Contains;

TEST_CASE("The robust solver recovers a line through an outlier") {
  // y = 3 + 2x at x = 0..19, with y(7) = 1000: plain least squares would tilt; Huber weights leave it out.
  LinearProblem p(2);
  for (int x = 0; x < 20; ++x) p.AddRow({1.0, static_cast<double>(x)}, x == 7 ? 1000.0 : 3.0 + 2.0 * x, 1.0);
  auto fit = SolveRobust(p);
  REQUIRE(fit.ok());
  CHECK(fit->coefficients[0] == Approx(3.0).margin(0.05));
  CHECK(fit->coefficients[1] == Approx(2.0).margin(0.01));
  CHECK(fit->down_weighted >= 1);
}

TEST_CASE("The solver refuses an underdetermined system and obeys priors") {
  LinearProblem p(2);
  p.AddRow({1.0, 1.0}, 2.0, 1.0);  // one equation, two unknowns
  CHECK_FALSE(SolveRobust(p).ok());
  p.AddPrior(0, 0.5, 1.0);  // pins the first: 0.5 + x1 = 2 -> x1 = 1.5
  auto fit = SolveRobust(p);
  REQUIRE(fit.ok());
  CHECK(fit->coefficients[1] == Approx(1.5).margin(1e-6));
}

Topology Dgx() { return testing::ShippedTopology("dgx-h100"); }

// The model's all-reduce over the 8 GPUs of `model`'s topology (a DGX H100 here).
std::unique_ptr<PreparedCollective> EightGpuAllReduce(CollectiveModel& model) {
  CollectiveCall call;
  call.op = CollectiveOp::kAllReduce;
  call.gpus = {0, 1, 2, 3, 4, 5, 6, 7};
  auto prepared = model.Prepare(call, {});
  REQUIRE(prepared.ok());
  return std::move(prepared).value();
}

TEST_CASE("A collective correction recovers the parameters that made a sweep") {
  // A synthetic machine: every ring/Simple all-reduce on the DGX H100 costs 12 us of launch, twice the model's step
  // latency, and moves its bytes 1.5x slower than the model says: t = 12 + 2 L + 1.5 B. The fit must find those.
  Topology topo = Dgx();
  CollectiveModel model(topo);
  CollectiveCall call;
  call.op = CollectiveOp::kAllReduce;
  call.gpus = {0, 1, 2, 3, 4, 5, 6, 7};
  auto prepared = model.Prepare(call, {});
  REQUIRE(prepared.ok());
  const CollectiveChoice ring{Algorithm::kRing, Protocol::kSimple};
  const double launch = model.params().launch_overhead.ToMicroseconds();
  MeasuredSweep sweep;
  sweep.op = CollectiveOp::kAllReduce;
  sweep.gpus = call.gpus;
  sweep.source = "synthetic";
  for (double bytes = 1 << 16; bytes <= (1u << 31); bytes *= 2) {
    const double zero = (*prepared)->Cost(ring, 0).ToMicroseconds();
    const double latency = zero - launch;
    const double b = (*prepared)->Cost(ring, bytes).ToMicroseconds() - zero;
    sweep.points.push_back({bytes, 12 + 2 * latency + 1.5 * b, ring});
  }
  auto correction = FitCollectiveCorrection(model, {sweep});
  REQUIRE(correction.ok());
  const CorrectionEntry* e = correction->Find(CollectiveOp::kAllReduce, LinkClass::kNvlink, ring);
  REQUIRE(e != nullptr);
  REQUIRE(e->op.has_value());
  for (double w : e->bandwidth_scale) CHECK(w == Approx(1.5).epsilon(0.01));
  // Launch and latency scale are told apart only through their priors within one group, but their sum is exact.
  const double latency = (*prepared)->Cost(ring, 0).ToMicroseconds() - launch;
  CHECK(e->launch_us + e->latency_scale * latency == Approx(12 + 2 * latency).epsilon(0.01));
  // Applied: a size between the measured ones comes out as the synthetic machine's time.
  const double bytes = 3.0 * (1 << 20);
  const double expected =
      12 + 2 * latency +
      1.5 * ((*prepared)->Cost(ring, bytes).ToMicroseconds() - (*prepared)->Cost(ring, 0).ToMicroseconds());
  auto t = correction->Apply(**prepared, ring, bytes);
  REQUIRE(t.has_value());
  CHECK(t->ToMicroseconds() == Approx(expected).epsilon(0.01));
  // A choice nothing measured keeps the model's own time.
  CHECK_FALSE(correction->Apply(**prepared, {Algorithm::kNvls, Protocol::kSimple}, bytes).has_value());
}

// A small nccl-tests log in the v2.19 layout, written for this test (2 ranks on one host).
const char* kLog = R"(# nccl-tests version 2.19.6 nccl-headers=22907 nccl-library=22907
# Collective test starting: all_reduce_perf
# nThread 1 nGpus 1 minBytes 1048576 maxBytes 4194304 step: 2(factor) warmup iters: 5 iters: 20 agg iters: 1 validation: 1 graph: 0
#
# Using devices
#  Rank  0 Group  0 Pid   1001 on     box-a device  0 [0000:18:00] NVIDIA H100 80GB HBM3
#  Rank  1 Group  0 Pid   1002 on     box-a device  1 [0000:2a:00] NVIDIA H100 80GB HBM3
#
#                                                              out-of-place                       in-place
#       size         count      type   redop    root     time   algbw   busbw  #wrong     time   algbw   busbw  #wrong
#        (B)    (elements)                               (us)  (GB/s)  (GB/s)             (us)  (GB/s)  (GB/s)
     1048576        262144     float     sum      -1    10.00  104.86  104.86       0    11.00   95.33   95.33       0
     2097152        524288     float     sum      -1    16.00  131.07  131.07       0    17.00  123.36  123.36       0
     4194304       1048576     float     sum      -1    28.00  149.80  149.80       0    29.00  144.63  144.63       0
# Out of bounds values : 0 OK
# Avg bus bandwidth    : 124.84
#
# Collective test concluded: all_reduce_perf
)";

TEST_CASE("nccl-tests logs become profile measurements") {
  auto log = ParseNcclTestsLog(SourceFile{"ar.txt", kLog});
  REQUIRE(log.ok());
  auto profile = ImportNcclTestsLogs({*log}, {});
  REQUIRE(profile.ok());
  REQUIRE(profile->collectives.size() == 6);  // 3 rows, out of place and in place
  const MeasuredCollective& m = profile->collectives[0];
  CHECK(m.op == "all_reduce");
  CHECK(m.ranks == 2);
  CHECK(m.nodes == 1);
  CHECK(m.size == 1048576);
  CHECK(m.time_us == 10.0);
  // busbw recomputed from the time: 1048576 B / 10 us = 104.86 GB/s, x 2(n-1)/n = 1 for two ranks.
  CHECK(m.busbw_GBps == Approx(104.8576));
  CHECK(profile->collectives[1].in_place);
  CHECK(profile->provenance.gpu_names.size() == 2);
  // Through the file and back.
  auto again = ParseCalibrationProfile(SourceFile{"p.json", WriteCalibrationProfile(*profile)});
  REQUIRE(again.ok());
  CHECK(again->collectives.size() == 6);
  CHECK(again->collectives[2].time_us == 16.0);
}

SourceFile Fixture(const std::string& name) { return testing::ReadSourceFile("tests/calibration/data/" + name); }

TEST_CASE("Both layouts of the shipped nccl-tests samples import") {
  // The 2x8 layout (no version or "test starting" lines, two hosts in the device list, narrow #wrong header).
  auto two_hosts = ParseNcclTestsLog(Fixture("all_reduce_2x4_v2.1x_two_hosts.txt"));
  REQUIRE(two_hosts.ok());
  NcclTestsImportOptions op;
  op.op = "all_reduce";
  auto p = ImportNcclTestsLogs({*two_hosts}, op);
  REQUIRE(p.ok());
  REQUIRE(p->collectives.size() == 6);
  CHECK(p->collectives[0].ranks == 8);
  CHECK(p->collectives[0].nodes == 2);  // fixture-a and fixture-b
  CHECK(p->collectives[4].size == 16777216);
  CHECK(p->collectives[4].time_us == 700.1);
  // The single-size layout with an "NCCL version" line and [0x00] PCI ids.
  auto single = ParseNcclTestsLog(Fixture("all_reduce_8gpu_single_size_nccl_version.txt"));
  REQUIRE(single.ok());
  auto q = ImportNcclTestsLogs({*single}, op);
  REQUIRE(q.ok());
  REQUIRE(q->collectives.size() == 2);
  CHECK(q->provenance.nccl_version == "2.21.5");
  CHECK(q->provenance.gpu_names.front() == "NVIDIA H200");
  // 4294967296 B in 16000 us: algbw 268.44 GB/s, busbw x 2(8-1)/8 = 469.76.
  CHECK(q->collectives[0].busbw_GBps == Approx(469.76).epsilon(1e-4));
}

TEST_CASE("Imports and profiles say what is wrong with them") {
  std::string headless = kLog;
  headless.replace(headless.find("# Collective test starting: all_reduce_perf"), 43, "#");
  auto log = ParseNcclTestsLog(SourceFile{"old.txt", headless});
  REQUIRE(log.ok());
  // Not named, but 2 ranks, busbw = algbw (2(2-1)/2 = 1), a reduction and no root: an all-reduce.
  auto inferred = ImportNcclTestsLogs({*log}, {});
  REQUIRE(inferred.ok());
  CHECK(inferred->collectives[0].op == "all_reduce");
  // Rows too small to print an algbw (0.02 GB/s) tell nothing: --op is needed.
  auto tiny = ParseNcclTestsLog(Fixture("rows_only.txt"));
  REQUIRE(tiny.ok());
  NcclTestsImportOptions two_ranks;
  two_ranks.ranks = 2;
  auto missing_op = ImportNcclTestsLogs({*tiny}, two_ranks);
  REQUIRE_FALSE(missing_op.ok());
  CHECK_THAT(missing_op.status().message(), Contains("the log does not name its test"));
  CHECK_THAT(missing_op.status().message(), Contains("give --op"));
  NcclTestsImportOptions with_op;
  with_op.op = "all_reduce";
  CHECK(ImportNcclTestsLogs({*log}, with_op).ok());
  // --ranks is for logs that list no devices: one that contradicts the log's 2 listed ranks is refused, not ignored.
  NcclTestsImportOptions eight_ranks;
  eight_ranks.ranks = 8;
  auto contradicted = ImportNcclTestsLogs({*log}, eight_ranks);
  REQUIRE_FALSE(contradicted.ok());
  CHECK_THAT(contradicted.status().message(), Contains("old.txt: the log lists 2 ranks, but --ranks says 8"));
  CHECK(ImportNcclTestsLogs({*log}, two_ranks).ok());

  auto bad_version =
      ParseCalibrationProfile(SourceFile{"v2.json", R"({"format": "wiresim-calibration-profile", "version": 2})"});
  REQUIRE_FALSE(bad_version.ok());
  CHECK_THAT(bad_version.status().message(), Contains("v2.json: version: this wiresim reads version 1"));
  auto bad_field = ParseCalibrationProfile(SourceFile{
      "f.json",
      R"({"format": "wiresim-calibration-profile", "version": 1, "collectives": [{"op": "all_reduce", "ranks": 8, "size": "big", "time_us": 3}]})"});
  REQUIRE_FALSE(bad_field.ok());
  CHECK_THAT(bad_field.status().message(), Contains("f.json: collectives[0].size: has the wrong type"));
  auto bad_gemm = ParseCalibrationProfile(SourceFile{
      "g.json",
      R"({"format": "wiresim-calibration-profile", "version": 1, "gemm": [{"m": 8, "n": 8, "k": 8, "dtype": "bf17", "time_us": 3}]})"});
  REQUIRE_FALSE(bad_gemm.ok());
  CHECK_THAT(bad_gemm.status().message(), Contains("gemm[0].dtype: unknown data type \"bf17\""));
  auto truncated = ParseCalibrationProfile(SourceFile{"t.json", R"({"format": "wiresim-cal)"});
  REQUIRE_FALSE(truncated.ok());
  CHECK_THAT(truncated.status().message(), Contains("t.json: not valid JSON"));
}

TEST_CASE("A profile's GEMMs become a table, its copies an HBM bandwidth") {
  CalibrationProfile p;
  p.source = "p.json";
  for (int64_t m : {1, 16, 256}) {
    MeasuredGemm g;
    g.m = m;
    g.n = 4096;
    g.k = 4096;
    g.time_us = 10.0 + static_cast<double>(m);  // log-log interpolation is exact at measured m
    p.gemm.push_back(g);
  }
  auto table = GemmTableOf(p);
  REQUIRE(table.ok());
  CHECK(table->shape_count() == 1);
  CHECK(table->Lookup(16, 4096, 4096, DataType::kBFloat16)->ToMicroseconds() == Approx(26.0));
  // The median of the copies of 256 MiB and more: 2800, 2900, 3000 -> 2900; the small one does not count.
  p.memory = {{"d2d_copy", 64 << 20, 1, 1000},
              {"d2d_copy", int64_t{256} << 20, 1, 3000},
              {"d2d_copy", int64_t{1} << 30, 1, 2800},
              {"d2d_copy", int64_t{4} << 30, 1, 2900}};
  CHECK(*MeasuredHbmBandwidth(p) == Approx(2900));
  CHECK_FALSE(GemmTableOf(CalibrationProfile{}).ok());
}

TEST_CASE("Fitted corrections survive the file") {
  Topology topo = Dgx();
  CalibrationProfile p;
  p.source = "p.json";
  for (double bytes = 1 << 20; bytes <= (1 << 28); bytes *= 4) {
    MeasuredCollective m;
    m.op = "all_reduce";
    m.dtype = "float";
    m.ranks = 8;
    m.size = static_cast<int64_t>(bytes);
    m.time_us = 20 + bytes / 400e3;
    p.collectives.push_back(m);
  }
  auto fitted = FitCalibration(p, topo, {}, "test");
  REQUIRE(fitted.ok());
  REQUIRE_FALSE(fitted->collective.entries.empty());
  auto back = FittedFromJson(ToJson(*fitted), "p.json");
  REQUIRE(back.ok());
  REQUIRE(back->collective.entries.size() == fitted->collective.entries.size());
  CHECK(back->collective.entries[0].bandwidth_scale == fitted->collective.entries[0].bandwidth_scale);
  CHECK(back->topology == "dgx-h100");
  // The release the corrections are relative to: the model's (FitOptions::params, the newest by default).
  CHECK(back->nccl_version == NcclVersion::Newest().ToString());
  auto bad = FittedFromJson(R"({"collective": {"entries": [{"link": "carrier-pigeon"}]}})", "x.json");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Contains("fitted.collective.entries[0].link"));
  auto bad_release = FittedFromJson(R"({"nccl_version": "two point nineteen"})", "x.json");
  REQUIRE_FALSE(bad_release.ok());
  CHECK_THAT(bad_release.status().message(), Contains("fitted.nccl_version"));
}

TEST_CASE("Measured curves: exact at measured sizes, log-log between, nothing outside") {
  MeasuredCurve c;
  c.bytes = {1 << 20, 4 << 20};
  c.time_us = {100, 400};
  CHECK(*c.Microseconds(1 << 20) == Approx(100));
  CHECK(*c.Microseconds(4 << 20) == Approx(400));
  // Between: t = 100 x (S / 1 MiB)^1 on a log-log line through (1 MiB, 100) and (4 MiB, 400): 200 at 2 MiB.
  CHECK(*c.Microseconds(2 << 20) == Approx(200));
  CHECK_FALSE(c.Microseconds(8 << 20).has_value());
  CHECK_FALSE(c.Microseconds(1 << 19).has_value());
}

TEST_CASE("A measured curve takes precedence where it applies, fitted corrections elsewhere") {
  // Four sizes of an 8-GPU all-reduce, measured at 10x the model's time: the curve gives the measured times back;
  // a 4-GPU group (not measured) gets the fitted correction; a forced algorithm skips the curve.
  Topology topo = Dgx();
  CollectiveModel model(topo);
  CollectiveCall call;
  call.op = CollectiveOp::kAllReduce;
  call.gpus = {0, 1, 2, 3, 4, 5, 6, 7};
  auto eight = model.Prepare(call, {});
  REQUIRE(eight.ok());
  MeasuredSweep sweep;
  sweep.op = CollectiveOp::kAllReduce;
  sweep.gpus = call.gpus;
  sweep.source = "x";
  for (double bytes : {1e6, 4e6, 16e6, 64e6}) {
    auto p = (*eight)->Predict(bytes, {});
    sweep.points.push_back({bytes, 10 * p->time.ToMicroseconds(), std::nullopt});
  }
  auto fit = FitCollectiveCorrection(model, {sweep});
  REQUIRE(fit.ok());
  REQUIRE(fit->curves.size() == 1);
  CHECK(fit->curves[0].ranks == 8);
  CalibrationSource source;
  auto choice = (*eight)->Choose(4e6, {});
  auto t = fit->Calibrated(**eight, *choice, 4e6, {}, &source);
  REQUIRE(t.has_value());
  CHECK(source == CalibrationSource::kMeasuredCurve);
  CHECK(t->ToMicroseconds() == Approx(sweep.points[1].time_us));
  AlgorithmFilter ring_only;
  REQUIRE_FALSE(ParseAlgorithmList("ring", &ring_only));
  fit->Calibrated(**eight, {Algorithm::kRing, Protocol::kSimple}, 4e6, ring_only, &source);
  CHECK(source != CalibrationSource::kMeasuredCurve);
  call.gpus = {0, 1, 2, 3};
  auto four = model.Prepare(call, {});
  REQUIRE(four.ok());
  auto choice4 = (*four)->Choose(16e6, {});
  fit->Calibrated(**four, *choice4, 16e6, {}, &source);
  CHECK(source != CalibrationSource::kMeasuredCurve);
}

TEST_CASE("Fitted corrections need three sizes, a few sizes give a constant") {
  Topology topo = Dgx();
  CollectiveModel model(topo);
  const CollectiveChoice ring{Algorithm::kRing, Protocol::kSimple};
  MeasuredSweep sweep;
  sweep.op = CollectiveOp::kAllReduce;
  sweep.gpus = {0, 1, 2, 3, 4, 5, 6, 7};
  sweep.points = {{64e6, 500, ring}, {256e6, 1500, ring}};
  auto two = FitCollectiveCorrection(model, {sweep});
  REQUIRE(two.ok());
  CHECK(two->entries.empty());  // two sizes: the model's own figures stand
  sweep.points.push_back({1024e6, 5500, ring});
  sweep.points.push_back({4096e6, 21000, ring});
  auto four = FitCollectiveCorrection(model, {sweep});
  REQUIRE(four.ok());
  REQUIRE_FALSE(four->entries.empty());
  // Four sizes over 2^26 .. 2^32: at most 4 / 2 = 2 knots.
  CHECK(four->entries[0].knots_log2.size() <= 2);
}

// An nccl-tests log written for these tests: `ranks` ranks on one host, no test name, rows at 1, 4 and 16 MiB whose
// busbw is algbw x `factor`, with the given redop and root, and `size` the per-rank buffer times `size_ranks`.
std::string Headless(int ranks, double factor, const std::string& redop, int root, int size_ranks,
                     const std::string& extra = "") {
  std::string out = extra + "# Using devices\n";
  for (int r = 0; r < ranks; ++r) {
    out += "#  Rank " + std::to_string(r) + " Group  0 Pid  " + std::to_string(100 + r) + " on box device " +
           std::to_string(r) + " [0000:18:00] NVIDIA H100 80GB HBM3\n";
  }
  out +=
      "#       size         count      type   redop    root     time   algbw   busbw  #wrong     time   algbw   "
      "busbw  #wrong\n";
  for (double count : {262144.0, 1048576.0, 4194304.0}) {
    const double size = count * 4 * size_ranks;
    const double t = 20 + size / 100e3;  // us
    char row[256];
    std::snprintf(row, sizeof row, "%12.0f %12.0f float %s %d %.2f %.2f %.2f 0 %.2f %.2f %.2f 0\n", size, count,
                  redop.c_str(), root, t, size / t / 1e3, size / t / 1e3 * factor, t, size / t / 1e3,
                  size / t / 1e3 * factor);
    out += row;
  }
  return out;
}

Result<CalibrationProfile> Import(const std::string& text, const std::string& op = "",
                                  std::vector<std::string>* notes = nullptr) {
  auto log = ParseNcclTestsLog(SourceFile{"log.txt", text});
  REQUIRE(log.ok());
  NcclTestsImportOptions options;
  options.op = op;
  return ImportNcclTestsLogs({*log}, options, notes);
}

TEST_CASE("Import checks --op against busbw / algbw and the rank count") {
  // 8 ranks, busbw = 1.75 x algbw = 2(8-1)/8: all-reduce's bus factor (nccl-tests PERFORMANCE.md).
  const std::string all_reduce = Headless(8, 1.75, "sum", -1, 1);
  auto wrong = Import(all_reduce, "all_gather");
  REQUIRE_FALSE(wrong.ok());
  // all_gather over 8 ranks: (n-1)/n = 0.875.
  CHECK_THAT(wrong.status().message(), Contains("log.txt: busbw / algbw is 1.750"));
  CHECK_THAT(wrong.status().message(), Contains("all_gather over 8 ranks gives (n-1)/n = 0.875"));
  CHECK_THAT(wrong.status().message(), Contains("it fits all_reduce"));
  auto broadcast = Import(all_reduce, "broadcast");  // factor 1
  REQUIRE_FALSE(broadcast.ok());
  CHECK_THAT(broadcast.status().message(), Contains("broadcast over 8 ranks gives 1 = 1.000"));
  auto right = Import(all_reduce, "all_reduce");
  REQUIRE(right.ok());
  CHECK(right->collectives[0].op == "all_reduce");
  // A log that names its test and an --op that says otherwise.
  auto named = Import("# Collective test starting: all_reduce_perf\n" + all_reduce, "reduce_scatter");
  REQUIRE_FALSE(named.ok());
  CHECK_THAT(named.status().message(), Contains("the log is all_reduce_perf's, but --op says reduce_scatter"));
  // The log's own test is checked too: busbw 0.875 x algbw under an all_reduce_perf title does not fit 8 ranks.
  auto inconsistent = Import("# Collective test starting: all_reduce_perf\n" + Headless(8, 0.875, "sum", -1, 1));
  REQUIRE_FALSE(inconsistent.ok());
  CHECK_THAT(inconsistent.status().message(), Contains("check the rank count"));
}

TEST_CASE("Import infers the operation of a log that does not name it, or asks for --op") {
  std::vector<std::string> notes;
  // 8 ranks: all-reduce 2(n-1)/n = 1.75; reduce-scatter (n-1)/n = 0.875 with a reduction and the total size; a
  // broadcast 1 with a root and no reduction.
  auto ar = Import(Headless(8, 1.75, "sum", -1, 1), "", &notes);
  REQUIRE(ar.ok());
  CHECK(ar->collectives[0].op == "all_reduce");
  REQUIRE(notes.size() == 1);
  CHECK_THAT(notes[0], Contains("operation all_reduce, inferred from busbw / algbw = 1.750 over 8 ranks (2(n-1)/n)"));
  auto rs = Import(Headless(8, 0.875, "sum", -1, 8));
  REQUIRE(rs.ok());
  CHECK(rs->collectives[0].op == "reduce_scatter");
  auto bc = Import(Headless(8, 1.0, "none", 0, 1));
  REQUIRE(bc.ok());
  CHECK(bc->collectives[0].op == "broadcast");
  // All-gather and all-to-all print alike ((n-1)/n, no reduction, no root, the total size): ask.
  auto ag = Import(Headless(8, 0.875, "none", -1, 8));
  REQUIRE_FALSE(ag.ok());
  CHECK_THAT(ag.status().message(), Contains("busbw / algbw = 0.875 over 8 ranks fits all_gather, alltoall alike: "
                                             "give --op"));
  // Two ranks: all-reduce's 2(2-1)/2 = 1 is also broadcast's, reduce's and send/recv's; the redop (sum) and root
  // (-1) leave all-reduce alone.
  auto two = Import(Headless(2, 1.0, "sum", -1, 1));
  REQUIRE(two.ok());
  CHECK(two->collectives[0].op == "all_reduce");
}

TEST_CASE("NCCL_ALGO / NCCL_PROTO are read from the log, in NCCL's list forms") {
  // NCCL's own INFO line (src/graph/tuning.cc) and an echoed environment.
  auto text = ParseNcclTestsLog(
      SourceFile{"t.txt", "node:1:1 [0] NCCL INFO NCCL_ALGO set by environment to Ring\n# NCCL_PROTO=\"Simple\"\n" +
                              Headless(8, 1.75, "sum", -1, 1)});
  REQUIRE(text.ok());
  CHECK(text->nccl_algo == "Ring");
  CHECK(text->nccl_proto == "Simple");
  // The -J env list.
  auto json = ParseNcclTestsLog(SourceFile{
      "j.json", R"({"args": ["all_reduce_perf"], "env": ["HOME=/root", "NCCL_ALGO=allreduce:tree;allgather:ring"],
                   "results": [{"size": 1048576, "count": 262144, "type": "float", "redop": "sum", "root": "    -1",
                                "out_of_place": {"time": 20.0, "alg_bw": 52.43, "bus_bw": 91.75, "nwrong": 0}}]})"});
  REQUIRE(json.ok());
  CHECK(json->nccl_algo == "allreduce:tree;allgather:ring");
  CHECK(json->nccl_proto.empty());
  auto bit = [](Algorithm a) { return 1u << static_cast<int>(a); };
  AlgorithmFilter f;
  REQUIRE_FALSE(ApplyNcclEnvironment(CollectiveOp::kAllReduce, "ring,tree", "", &f));
  CHECK(f.algorithms == (bit(Algorithm::kRing) | bit(Algorithm::kTree)));
  // Per function (NCCL 2.24 and later): each operation its own list; a function not named stays free.
  AlgorithmFilter ar, ag, bc;
  REQUIRE_FALSE(ApplyNcclEnvironment(CollectiveOp::kAllReduce, "allreduce:tree;allgather:ring", "", &ar));
  REQUIRE_FALSE(ApplyNcclEnvironment(CollectiveOp::kAllGather, "allreduce:tree;allgather:ring", "", &ag));
  REQUIRE_FALSE(ApplyNcclEnvironment(CollectiveOp::kBroadcast, "allreduce:tree;allgather:ring", "", &bc));
  CHECK(ar.algorithms == bit(Algorithm::kTree));
  CHECK(ag.algorithms == bit(Algorithm::kRing));
  CHECK(bc.algorithms == AlgorithmFilter{}.algorithms);
  // CollNet is not modelled: dropped from a list, and a list of CollNet alone is an error.
  AlgorithmFilter excl;
  REQUIRE_FALSE(ApplyNcclEnvironment(CollectiveOp::kAllReduce, "^CollNetDirect,NVLS", "LL128,Simple", &excl));
  CHECK(excl.algorithms == (AlgorithmFilter{}.algorithms & ~bit(Algorithm::kNvls)));
  CHECK(excl.protocols == ((1u << static_cast<int>(Protocol::kLL128)) | (1u << static_cast<int>(Protocol::kSimple))));
  AlgorithmFilter collnet;
  auto err = ApplyNcclEnvironment(CollectiveOp::kAllReduce, "collnetdirect", "", &collnet);
  REQUIRE(err.has_value());
  CHECK_THAT(*err, Contains("allows only CollNet"));
  // Point to point: NCCL picks no algorithm, so neither variable restricts it.
  AlgorithmFilter p2p;
  REQUIRE_FALSE(ApplyNcclEnvironment(CollectiveOp::kAllToAll, "ring", "simple", &p2p));
  CHECK(p2p.algorithms == AlgorithmFilter{}.algorithms);
}

TEST_CASE("Per-function NCCL_ALGO / NCCL_PROTO read as NCCL 2.24+'s parseList reads them") {
  // NCCL's parseList (src/graph/tuning.cc, v2.24.3-1 to v2.30.7-1): ';' separates parts, each "function:list"
  // except that the first may be a bare list for every function; a later part for a function replaces an earlier
  // one; a bare list after the first part and an unknown function name are refused.
  auto bit = [](Algorithm a) { return 1u << static_cast<int>(a); };
  auto pbit = [](Protocol p) { return 1u << static_cast<int>(p); };
  // The ml-engineering 4-node H200 run set NCCL_ALGO=allreduce:ring (NCCL 2.27.7,
  // ../shared/refdata/stas00_mlengineering_collective_and_matmul_measurements.md section 6); as NCCL's INFO line:
  auto log =
      ParseNcclTestsLog(SourceFile{"r.txt", "h:1:1 [0] NCCL INFO NCCL_ALGO set by environment to allreduce:ring\n" +
                                                Headless(8, 1.75, "sum", -1, 1)});
  REQUIRE(log.ok());
  CHECK(log->nccl_algo == "allreduce:ring");
  AlgorithmFilter ring_ar, ring_ag;
  REQUIRE_FALSE(ApplyNcclEnvironment(CollectiveOp::kAllReduce, log->nccl_algo, "", &ring_ar));
  REQUIRE_FALSE(ApplyNcclEnvironment(CollectiveOp::kAllGather, log->nccl_algo, "", &ring_ag));
  CHECK(ring_ar.algorithms == bit(Algorithm::kRing));
  CHECK(ring_ag.algorithms == AlgorithmFilter{}.algorithms);  // all-gather not named: NCCL's default
  // A bare first list for every function, then one function's own: ring everywhere but all-reduce.
  AlgorithmFilter ar, ag, bc;
  REQUIRE_FALSE(ApplyNcclEnvironment(CollectiveOp::kAllReduce, "ring;allreduce:tree", "", &ar));
  REQUIRE_FALSE(ApplyNcclEnvironment(CollectiveOp::kAllGather, "ring;allreduce:tree", "", &ag));
  REQUIRE_FALSE(ApplyNcclEnvironment(CollectiveOp::kBroadcast, "ring;allreduce:tree", "", &bc));
  CHECK(ar.algorithms == bit(Algorithm::kTree));
  CHECK(ag.algorithms == bit(Algorithm::kRing));
  CHECK(bc.algorithms == bit(Algorithm::kRing));
  // The last part for a function wins; names in any case (ncclFuncStr spells AllReduce).
  AlgorithmFilter last;
  REQUIRE_FALSE(ApplyNcclEnvironment(CollectiveOp::kAllReduce, "AllReduce:NVLS,Ring;allreduce:tree", "", &last));
  CHECK(last.algorithms == bit(Algorithm::kTree));
  // NCCL's own example (the comment above parseList): NCCL_PROTO="^LL128;allreduce:LL128" is LL128 alone for
  // all-reduce and everything but LL128 for the others.
  AlgorithmFilter par, pag;
  REQUIRE_FALSE(ApplyNcclEnvironment(CollectiveOp::kAllReduce, "", "^LL128;allreduce:LL128", &par));
  REQUIRE_FALSE(ApplyNcclEnvironment(CollectiveOp::kAllGather, "", "^LL128;allreduce:LL128", &pag));
  CHECK(par.protocols == pbit(Protocol::kLL128));
  CHECK(pag.protocols == (pbit(Protocol::kLL) | pbit(Protocol::kSimple)));
  // What NCCL refuses (ncclInvalidUsage) is an error naming the variable and the part.
  AlgorithmFilter bad;
  auto bare_later = ApplyNcclEnvironment(CollectiveOp::kAllGather, "allreduce:tree;ring", "", &bad);
  REQUIRE(bare_later.has_value());
  CHECK_THAT(*bare_later, Contains("NCCL_ALGO=allreduce:tree;ring") && Contains("must name its function"));
  auto unknown = ApplyNcclEnvironment(CollectiveOp::kAllReduce, "allredcue:ring", "", &bad);
  REQUIRE(unknown.has_value());
  CHECK_THAT(*unknown, Contains("unknown function 'allredcue'"));
  auto unknown_proto = ApplyNcclEnvironment(CollectiveOp::kAllReduce, "", "sendrecv:simple", &bad);
  REQUIRE(unknown_proto.has_value());
  CHECK_THAT(*unknown_proto, Contains("NCCL_PROTO=sendrecv:simple") && Contains("unknown function"));
}

TEST_CASE("The NCCL release a run models: the given one, else the profile's, else the newest") {
  CalibrationProfile p;
  p.provenance.nccl_version = "2.21.5";
  auto from_profile = ChooseNcclVersion("", "--nccl-version", &p);
  REQUIRE(from_profile.ok());
  CHECK(from_profile->version == NcclVersion{2, 21, 5});
  CHECK(from_profile->note == "NCCL 2.21.5 (the calibration profile's)");
  // The flag wins, and a different minor version is stated; the same minor version is no mismatch (the constants
  // change with the minor version, nccl_tuning.h).
  auto given = ChooseNcclVersion("2.27", "--nccl-version", &p);
  REQUIRE(given.ok());
  CHECK(given->version.minor == 27);
  CHECK(given->note == "NCCL 2.27 (--nccl-version); the calibration profile was measured with NCCL 2.21.5");
  auto same = ChooseNcclVersion("2.21.3", "--nccl-version", &p);
  REQUIRE(same.ok());
  CHECK(same->note == "NCCL 2.21.3 (--nccl-version)");
  // Neither: the newest. A profile release outside 2.18-2.30 is said, and the newest used.
  auto none = ChooseNcclVersion("", "--nccl-version", nullptr);
  REQUIRE(none.ok());
  CHECK(none->version == NcclVersion::Newest());
  p.provenance.nccl_version = "2.17.1";
  auto unknown = ChooseNcclVersion("", "--nccl-version", &p);
  REQUIRE(unknown.ok());
  CHECK(unknown->version == NcclVersion::Newest());
  CHECK_THAT(unknown->note, Contains("NCCL 2.17.1 is not one wiresim models"));
  auto bad = ChooseNcclVersion("2.x", "deployment.nccl_version", &p);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Contains("deployment.nccl_version: expected an NCCL version"));
}

// An 8-GPU all-reduce profile at 1 MiB .. 1 GiB, t = 20 us + S / 100 GB/s, measured under `nccl_algo`.
// One measured 8-rank float all-reduce of `bytes`, from line log2(bytes) of ar.txt.
MeasuredCollective AllReduceRow(double bytes, double time_us) {
  MeasuredCollective m;
  m.op = "all_reduce";
  m.dtype = "float";
  m.ranks = 8;
  m.size = static_cast<int64_t>(bytes);
  m.time_us = time_us;
  m.source = "ar.txt:" + std::to_string(static_cast<int>(std::log2(bytes)));
  return m;
}

CalibrationProfile AllReduceProfile(const std::string& nccl_algo, bool in_place_only = false) {
  CalibrationProfile p;
  p.source = "p.json";
  for (double bytes = 1 << 20; bytes <= (1 << 30); bytes *= 4) {
    for (bool in_place : {false, true}) {
      if (in_place_only && !in_place) continue;
      MeasuredCollective m = AllReduceRow(bytes, (in_place ? 21 : 20) + bytes / 100e3);
      m.in_place = in_place;
      m.nccl_algo = nccl_algo;
      p.collectives.push_back(m);
    }
  }
  return p;
}

TEST_CASE("A log measured under NCCL_ALGO=Ring is fitted as Ring, and its curve serves runs forced to Ring") {
  Topology topo = Dgx();
  auto fitted = FitCalibration(AllReduceProfile("Ring"), topo, {}, "test");
  REQUIRE(fitted.ok());
  REQUIRE(fitted->sweeps.size() == 1);
  const SweepFit& s = fitted->sweeps[0];
  CHECK(s.points == 6);  // 1, 4, 16, 64, 256 MiB and 1 GiB, out of place
  CHECK_FALSE(s.in_place);
  CHECK(s.filter.algorithms == 1u << static_cast<int>(Algorithm::kRing));
  for (const auto& [choice, n] : s.choices) CHECK(choice.rfind("Ring/", 0) == 0);
  CHECK_THAT(s.ToString(), Contains("ar.txt: all_reduce over 8 ranks on 1 node (nvlink), 6 sizes, under NCCL_ALGO=Ring "
                                    "(the log's): Ring / LL,LL128,Simple ->"));
  for (const CorrectionEntry& e : fitted->collective.entries) CHECK(e.choice.algorithm == Algorithm::kRing);
  // The curve stands for calls under the same filter: a run forced to Ring gets the measured 64 MiB time back
  // (20 + 67108864 / 100e3 = 691.09 us); a run with NCCL free to choose does not.
  REQUIRE(fitted->collective.curves.size() == 1);
  CollectiveModel model(topo);
  const std::unique_ptr<PreparedCollective> prepared = EightGpuAllReduce(model);
  AlgorithmFilter ring;
  REQUIRE_FALSE(ParseAlgorithmList("ring", &ring));
  CalibrationSource source;
  auto t = fitted->collective.Calibrated(*prepared, *prepared->Choose(64 << 20, ring), 64 << 20, ring, &source);
  REQUIRE(t.has_value());
  CHECK(source == CalibrationSource::kMeasuredCurve);
  CHECK(t->ToMicroseconds() == Approx(20 + 67108864 / 100e3));
  fitted->collective.Calibrated(*prepared, *prepared->Choose(64 << 20, {}), 64 << 20, {}, &source);
  CHECK(source != CalibrationSource::kMeasuredCurve);
  // Through the file: the curve keeps its filter.
  auto back = FittedFromJson(ToJson(*fitted), "p.json");
  REQUIRE(back.ok());
  CHECK(back->collective.curves[0].filter.algorithms == ring.algorithms);
  // The same log without the line: NCCL chose freely, and the fit says so.
  auto free = FitCalibration(AllReduceProfile(""), topo, {}, "test");
  REQUIRE(free.ok());
  CHECK_THAT(free->sweeps[0].ToString(), Contains("NCCL choosing freely"));
  // --algo given to the fit, the log silent: the points are chosen under it, and it says so.
  FitOptions given;
  given.filter = ring;
  auto forced = FitCalibration(AllReduceProfile(""), topo, given, "test");
  REQUIRE(forced.ok());
  CHECK_THAT(forced->sweeps[0].ToString(), Contains("under the filter given (--algo/--proto): Ring / "));
}

TEST_CASE("A log with in-place results only is fitted from them, and says so") {
  Topology topo = Dgx();
  auto fitted = FitCalibration(AllReduceProfile("", true), topo, {}, "test");
  REQUIRE(fitted.ok());
  REQUIRE(fitted->sweeps.size() == 1);
  CHECK(fitted->sweeps[0].in_place);
  CHECK(fitted->sweeps[0].points == 6);
  CHECK(fitted->collective_measurements == 6);
  CHECK_THAT(fitted->sweeps[0].ToString(), Contains("in place (the log has no out-of-place results)"));
  CHECK_FALSE(fitted->collective.curves.empty());
  // With both, the out-of-place results are the measurement (as before): 6 points, not 12.
  auto both = FitCalibration(AllReduceProfile(""), topo, {}, "test");
  REQUIRE(both.ok());
  CHECK(both->collective_measurements == 6);
  CHECK_FALSE(both->sweeps[0].in_place);
}

// A machine that is the model itself, measured as nccl-tests -G (CUDA graphs) or -m M (M calls per launch) measures
// it: each call carries none, or 1/M, of the model's launch (CollectiveParams::launch_overhead, 5 us).
CalibrationProfile ModelMeasuredAs(const PreparedCollective& prepared, bool cuda_graph, int calls_per_launch) {
  const double launch = prepared.params().launch_overhead.ToMicroseconds();
  const double carried = cuda_graph ? 0.0 : launch / calls_per_launch;
  CalibrationProfile p;
  p.source = "p.json";
  for (double bytes = 8192; bytes <= (1 << 30); bytes *= 4) {
    MeasuredCollective m = AllReduceRow(bytes, prepared.Predict(bytes, {})->time.ToMicroseconds() - launch + carried);
    m.cuda_graph = cuda_graph;
    m.calls_per_launch = calls_per_launch;
    p.collectives.push_back(m);
  }
  return p;
}

TEST_CASE("A log measured in CUDA graphs or several calls per launch is fitted as calls launched one by one") {
  Topology topo = Dgx();
  CollectiveModel model(topo);
  const std::unique_ptr<PreparedCollective> prepared = EightGpuAllReduce(model);
  struct Case {
    bool graph;
    int m;
    const char* note;
  };
  for (const Case& c : {Case{true, 1, "launched in CUDA graphs (-G), 5 us of launch added to each"},
                        Case{false, 4, "launched 4 calls at a time (-m 4), 3.75 us of launch added to each"},
                        Case{false, 1, nullptr}}) {
    CAPTURE(c.graph, c.m);
    auto fitted = FitCalibration(ModelMeasuredAs(*prepared, c.graph, c.m), topo, {}, "test");
    REQUIRE(fitted.ok());
    REQUIRE(fitted->sweeps.size() == 1);
    if (c.note != nullptr) {
      CHECK_THAT(fitted->sweeps[0].ToString(), Contains(c.note));
    } else {
      CHECK_THAT(fitted->sweeps[0].ToString(), !Contains("launch"));
    }
    // The machine is the model: calibrated, a call launched as the simulator launches it (one launch each) takes
    // the model's own time, launch included: the measured curve at its sizes (8 KiB x 4^k), and the fitted corrections.
    for (double bytes : {32768.0, 2097152.0, 134217728.0}) {
      CAPTURE(bytes);
      const CollectiveChoice choice = *prepared->Choose(bytes, {});
      CalibrationSource source;
      auto t = fitted->collective.Calibrated(*prepared, choice, bytes, {}, &source);
      REQUIRE(t.has_value());
      CHECK(source == CalibrationSource::kMeasuredCurve);
      const double model_us = prepared->Predict(bytes, {})->time.ToMicroseconds();
      CHECK(t->ToMicroseconds() == Approx(model_us).epsilon(0.02));
      // The fitted corrections too (for groups no curve measured): launch and scales back at the model's.
      auto corrected = fitted->collective.Apply(*prepared, choice, bytes);
      REQUIRE(corrected.has_value());
      CHECK(corrected->ToMicroseconds() == Approx(model_us).epsilon(0.02));
    }
  }
  // A call the run launches otherwise (here with no launch: --launch-us 0, or a CUDA-graph log under --compare) gets
  // the difference from the 5 us every measured time was brought to: the model's own kernel time.
  auto eager_fit = FitCalibration(ModelMeasuredAs(*prepared, false, 1), topo, {}, "test");
  REQUIRE(eager_fit.ok());
  CHECK(eager_fit->collective.launch_reference_us == 5.0);
  CollectiveParams no_launch = CollectiveParams::Defaults();
  no_launch.launch_overhead = Time::Zero();
  CollectiveModel kernel_model(topo, no_launch);
  const std::unique_ptr<PreparedCollective> kernel = EightGpuAllReduce(kernel_model);
  for (double bytes : {32768.0, 134217728.0}) {
    CalibrationSource source;
    auto t = eager_fit->collective.Calibrated(*kernel, *kernel->Choose(bytes, {}), bytes, {}, &source);
    REQUIRE(t.has_value());
    CHECK(t->ToMicroseconds() == Approx(kernel->Predict(bytes, {})->time.ToMicroseconds()).epsilon(0.02));
  }
  // The reference is the fit's model's launch, and it stays with the fit.
  FitOptions short_launch;
  short_launch.params.launch_overhead = Time::FromMicroseconds(2.5);
  auto short_fit = FitCalibration(ModelMeasuredAs(*prepared, false, 1), topo, short_launch, "test");
  REQUIRE(short_fit.ok());
  auto reread = FittedFromJson(ToJson(*short_fit), "p.json");
  REQUIRE(reread.ok());
  CHECK(reread->collective.launch_reference_us == 2.5);

  // Through the file: the launch mode stays with each measurement.
  CalibrationProfile graph = ModelMeasuredAs(*prepared, false, 4);
  graph.collectives[0].cuda_graph = true;
  auto back = ParseCalibrationProfile(SourceFile{"p.json", WriteCalibrationProfile(graph)});
  REQUIRE(back.ok());
  CHECK(back->collectives[0].cuda_graph);
  CHECK(back->collectives[0].calls_per_launch == 4);
  CHECK_FALSE(back->collectives[1].cuda_graph);
  // A count of calls per launch below one is refused, naming the field.
  std::string text = WriteCalibrationProfile(graph);
  const size_t at = text.find("\"calls_per_launch\": 4");
  REQUIRE(at != std::string::npos);
  text.replace(at, std::string("\"calls_per_launch\": 4").size(), "\"calls_per_launch\": 0");
  auto bad = ParseCalibrationProfile(SourceFile{"p.json", text});
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Contains("collectives[0].calls_per_launch"));
}

TEST_CASE("Import records a log's CUDA-graph launches and calls per launch") {
  std::string text = kLog;
  const std::string flags = "agg iters: 1 validation: 1 graph: 0";
  for (const auto& [agg, graph] : {std::pair{1, 1}, std::pair{8, 0}}) {
    std::string t = text;
    t.replace(t.find(flags), flags.size(),
              "agg iters: " + std::to_string(agg) + " validation: 1 graph: " + std::to_string(graph));
    auto log = ParseNcclTestsLog(SourceFile{"ar.txt", t});
    REQUIRE(log.ok());
    auto profile = ImportNcclTestsLogs({*log}, {});
    REQUIRE(profile.ok());
    for (const MeasuredCollective& m : profile->collectives) {
      CHECK(m.cuda_graph == (graph > 0));
      CHECK(m.calls_per_launch == agg);
    }
  }
}

TEST_CASE("Import refuses logs of two GPU models or two NCCL releases in one profile") {
  // kLog: 2 H100s, nccl-tests built against NCCL 2.29.7 (nccl-library=22907). The same log on L40S GPUs, or under
  // NCCL 2.19.3, describes another machine or another tuning: one profile cannot hold both (its provenance names one
  // GPU model, checked against the topology, and one release, whose constants the fit models).
  auto h100 = ParseNcclTestsLog(SourceFile{"h100.txt", kLog});
  REQUIRE(h100.ok());
  auto replace_all = [](std::string text, const std::string& from, const std::string& to) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
      text.replace(at, from.size(), to);
    return text;
  };
  auto l40s = ParseNcclTestsLog(SourceFile{"l40s.txt", replace_all(kLog, "NVIDIA H100 80GB HBM3", "NVIDIA L40S")});
  REQUIRE(l40s.ok());
  auto mixed = ImportNcclTestsLogs({*h100, *l40s}, {});
  REQUIRE_FALSE(mixed.ok());
  CHECK_THAT(mixed.status().message(), Contains("l40s.txt ran on NVIDIA L40S (l40s) but h100.txt on NVIDIA H100 80GB "
                                                "HBM3 (h100-sxm)"));
  auto older = ParseNcclTestsLog(SourceFile{"old.txt", replace_all(kLog, "22907", "21903")});
  REQUIRE(older.ok());
  REQUIRE(older->nccl_version == "2.19.3");
  auto releases = ImportNcclTestsLogs({*h100, *older}, {});
  REQUIRE_FALSE(releases.ok());
  CHECK_THAT(releases.status().message(), Contains("old.txt measured NCCL 2.19.3 but h100.txt NCCL 2.29.7"));
  // The same machine and release twice is one profile; a patch release apart too (2.29.7 and 2.29.2).
  auto patch = ParseNcclTestsLog(SourceFile{"patch.txt", replace_all(kLog, "22907", "22902")});
  REQUIRE(patch.ok());
  auto same = ImportNcclTestsLogs({*h100, *patch}, {});
  REQUIRE(same.ok());
  CHECK(same->provenance.nccl_version == "2.29.7");
}

TEST_CASE("A profile of another GPU model is refused unless allowed") {
  CalibrationProfile p = AllReduceProfile("");
  p.provenance.gpu_names.assign(8, "NVIDIA H200");
  Topology l40s = testing::ShippedTopology("pcie-8x-l40s");
  auto refused = FitCalibration(p, l40s, {}, "test");
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.status().message(), Contains("p.json measured NVIDIA H200 (h200-sxm), but pcie-8x-l40s has l40s"));
  CHECK_THAT(refused.status().message(), Contains("--allow-other-gpu"));
  FitOptions allow;
  allow.allow_other_gpu = true;
  auto allowed = FitCalibration(p, l40s, allow, "test");
  REQUIRE(allowed.ok());
  CHECK(allowed->other_gpu);
  auto back = FittedFromJson(ToJson(*allowed), "p.json");
  REQUIRE(back.ok());
  CHECK(back->other_gpu);
  // On its own GPU model it fits, and a profile that names no GPU cannot be checked.
  auto h200 = FitCalibration(p, testing::ShippedTopology("hgx-h200"), {}, "test");
  REQUIRE(h200.ok());
  CHECK_FALSE(h200->other_gpu);
  CHECK(FitCalibration(AllReduceProfile(""), l40s, {}, "test").ok());
  // Without collectives there is nothing to misplace: GEMMs apply only on their own GPU model anyway.
  CalibrationProfile no_collectives = p;
  no_collectives.collectives.clear();
  CHECK(FitCalibration(no_collectives, l40s, {}, "test").ok());
}

}  // namespace
}  // namespace wiresim
