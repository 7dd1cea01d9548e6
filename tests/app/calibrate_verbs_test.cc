// `wiresim calibrate import`, `calibrate fit`, and `--calibration` on collective, compute gemm and model show.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "sim/app/cli.h"

namespace wiresim::app {
namespace {

using Catch::Matchers::Contains;

struct Run {
  int code;
  std::string out, err;
};

Run Wiresim(const std::vector<std::string>& args) {
  FileSystemReader reader;
  std::ostringstream out, err;
  AppContext ctx{out, err, reader};
  const int code = Main(args, ctx);
  return {code, out.str(), err.str()};
}

class TempDir {
 public:
  TempDir() : path_(std::filesystem::temp_directory_path() / ("wiresim-cal-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// An 8-rank all_reduce log of our own in nccl-tests' layout: 8 sizes from 1 MiB, four times apart.
std::string Log() {
  std::ostringstream out;
  out << "# Collective test starting: all_reduce_perf\n#\n# Using devices\n";
  for (int r = 0; r < 8; ++r) {
    out << "#  Rank  " << r << " Group  0 Pid   " << 100 + r << " on      box device  " << r
        << " [0000:18:00] NVIDIA H100 80GB HBM3\n";
  }
  out << "#       size         count      type   redop    root     time   algbw   busbw  #wrong     time   algbw   "
         "busbw  #wrong\n";
  double size = 1 << 20;
  for (int i = 0; i < 8; ++i, size *= 4) {
    const double t = 30 + size / 250e3;  // us
    char row[256];
    std::snprintf(row, sizeof row, "%12.0f %13.0f %9s %7s %7d %9.2f %7.2f %7.2f %6s %9.2f %7.2f %7.2f %6s\n", size,
                  size / 4, "float", "sum", -1, t, size / t / 1e3, size / t / 1e3 * 1.75, "0", t, size / t / 1e3,
                  size / t / 1e3 * 1.75, "0");
    out << row;
  }
  return out.str();
}

TEST_CASE("calibrate import and fit, then --calibration gives the measured times back") {
  TempDir dir;
  std::ofstream(dir / "ar.txt") << Log();
  Run imported = Wiresim({"calibrate", "import", dir / "ar.txt", "-o", dir / "p.json"});
  REQUIRE(imported.code == kExitOk);
  CHECK_THAT(imported.err, Contains("16 measurements from 1 log"));  // 8 sizes, out of place and in place
  Run fit = Wiresim({"calibrate", "fit", dir / "p.json", "--topology", "dgx-h100", "-o", dir / "fit.json"});
  REQUIRE(fit.code == kExitOk);
  CHECK_THAT(fit.out, Contains("all_reduce"));
  CHECK_THAT(fit.out, Contains("nvlink"));
  Run cmp = Wiresim({"collective", "--topology", "dgx-h100", "--compare", dir / "ar.txt", "--calibration",
                     dir / "fit.json", "--json"});
  REQUIRE(cmp.code == kExitOk);
  const auto j = nlohmann::json::parse(cmp.out);
  for (const auto& row : j["rows"]) {
    CHECK(row["timed_by"] == "measured");
    CHECK(std::fabs(row["error"].get<double>()) < 1e-3);  // the measured curve at a measured size
  }
  CHECK_THAT(j["calibration"].get<std::string>(), Contains("fitted on dgx-h100"));
  // Fitted on another topology of the same GPU: fitted again for this one, and said so.
  Run other = Wiresim({"collective", "--topology", "dgx-h100-2node", "--gpus", "0-7", "-b", "4M", "-e", "4M",
                       "--calibration", dir / "fit.json"});
  REQUIRE(other.code == kExitOk);
  CHECK_THAT(other.out, Contains("fitted now on dgx-h100-2node"));
}

TEST_CASE("calibrate import reads a log given twice once, and says so") {
  TempDir dir;
  std::ofstream(dir / "ar.txt") << Log();
  std::ofstream(dir / "copy.txt") << Log();
  // 8 sizes, out of place and in place: 16 measurements, not 32 (each would count twice in the fit).
  Run imported = Wiresim({"calibrate", "import", dir / "ar.txt", dir / "copy.txt", "-o", dir / "p.json"});
  REQUIRE(imported.code == kExitOk);
  CHECK_THAT(imported.err, Contains(dir / "copy.txt" + " is the same log as " + dir / "ar.txt"));
  CHECK_THAT(imported.err, Contains("16 measurements from 1 log"));
}

TEST_CASE("A CUDA-graph log calibrates eager calls, and --compare against it gives its own times back") {
  // The same rows, measured as nccl-tests -G 1 measures them (no host launch per call).
  TempDir dir;
  std::ofstream(dir / "g.txt") << "# nThread 1 nGpus 1 minBytes 1048576 maxBytes 17179869184 step: 4(factor) warmup "
                                  "iters: 5 iters: 20 agg iters: 1 validation: 1 graph: 1\n"
                               << Log();
  REQUIRE(Wiresim({"calibrate", "import", dir / "g.txt", "-o", dir / "g.json"}).code == kExitOk);
  Run fit = Wiresim({"calibrate", "fit", dir / "g.json", "--topology", "dgx-h100", "-o", dir / "gf.json"});
  REQUIRE(fit.code == kExitOk);
  CHECK_THAT(fit.out, Contains("launched in CUDA graphs (-G), 5 us of launch added to each"));
  // --compare models the log as run (no launch), and the profile brought every time to one 5 us launch per call:
  // the difference comes off again, so each measured size reads its own time (30 + size / 250e3 us).
  Run cmp = Wiresim(
      {"collective", "--topology", "dgx-h100", "--compare", dir / "g.txt", "--calibration", dir / "gf.json", "--json"});
  REQUIRE(cmp.code == kExitOk);
  const auto j = nlohmann::json::parse(cmp.out);
  for (const auto& row : j["rows"]) {
    CHECK(row["timed_by"] == "measured");
    CHECK(std::fabs(row["error"].get<double>()) < 1e-3);
  }
  // An eager call (the default 5 us launch) on the same machine: the measured kernel time plus the launch.
  Run eager = Wiresim(
      {"collective", "--topology", "dgx-h100", "-b", "1M", "-e", "1M", "--calibration", dir / "gf.json", "--json"});
  REQUIRE(eager.code == kExitOk);
  CHECK(nlohmann::json::parse(eager.out)["rows"][0]["time_us"].get<double>() ==
        Approx(30 + 1048576 / 250e3 + 5).margin(0.01));  // the log prints two decimals
}

TEST_CASE("A log of ranks sharing a process calibrates ranks apart, and --compare against it gives its times back") {
  // The same rows measured as nccl-tests -g 8 runs them: one process, so NCCL's rings wrote into each other's
  // buffers and skipped the copy each loop ends with (docs/collectives.md section 5). Rings only (NCCL_ALGO=Ring).
  TempDir dir;
  std::ofstream(dir / "g8.txt") << "# nThread 1 nGpus 8 minBytes 1048576 maxBytes 17179869184 step: 4(factor) warmup "
                                   "iters: 5 iters: 20 agg iters: 1 validation: 1 graph: 0\n"
                                   "box:100:100 [0] NCCL INFO NCCL_ALGO set by environment to Ring\n"
                                << Log();
  Run imported = Wiresim({"calibrate", "import", dir / "g8.txt", "-o", dir / "g8.json"});
  REQUIRE(imported.code == kExitOk);
  const auto profile = nlohmann::json::parse(std::ifstream(dir / "g8.json"));
  CHECK(profile["collectives"][0]["ranks_per_process"] == 8);
  Run fit = Wiresim({"calibrate", "fit", dir / "g8.json", "--topology", "dgx-h100", "-o", dir / "g8f.json"});
  INFO(fit.err);
  REQUIRE(fit.code == kExitOk);
  CHECK_THAT(fit.out, Contains("8 ranks per process (their rings wrote into each other's buffers)"));
  // One process per GPU (every serving engine): the 16 GiB ring takes the measured time plus the copy, half a step
  // of 16 GiB / 8 over a GPU's 18 NVLinks at NCCL's 20.6 GB/s each (370.8 GB/s): 2895.7 us. Measured: 30 + 16 GiB /
  // 250e3 us.
  Run apart = Wiresim({"collective", "--topology", "dgx-h100", "--algo", "ring", "-b", "16G", "-e", "16G",
                       "--calibration", dir / "g8f.json", "--json"});
  INFO(apart.err);
  REQUIRE(apart.code == kExitOk);
  const auto aj = nlohmann::json::parse(apart.out);
  CHECK(aj["rows"][0]["timed_by"] == "measured");
  const double measured = 30 + 17179869184.0 / 250e3;
  CHECK(aj["rows"][0]["time_us"].get<double>() ==
        Approx(measured + 17179869184.0 / 8 / 370.8e9 / 2 * 1e6).epsilon(0.001));
  // The profile describes ranks apart: fitting it for another layout is refused.
  Run shared_fit = Wiresim({"calibrate", "fit", dir / "g8.json", "--topology", "dgx-h100", "--ranks-per-process", "8"});
  CHECK(shared_fit.code == kExitBadInput);
  CHECK_THAT(shared_fit.err, Contains("a fitted profile describes one process per GPU"));
  // The log compared as it ran (8 ranks per process): its own times again.
  Run cmp = Wiresim({"collective", "--topology", "dgx-h100", "--algo", "ring", "--compare", dir / "g8.txt",
                     "--calibration", dir / "g8f.json", "--json"});
  REQUIRE(cmp.code == kExitOk);
  const auto j = nlohmann::json::parse(cmp.out);
  for (const auto& row : j["rows"]) {
    CHECK(row["timed_by"] == "measured");
    CHECK(std::fabs(row["error"].get<double>()) < 1e-3);
  }
}

TEST_CASE("Calibration verbs refuse bad input with exit code 2") {
  TempDir dir;
  std::string headless = Log();
  headless.replace(headless.find("# Collective test starting: all_reduce_perf"), 43, "#");
  std::ofstream(dir / "old.txt") << headless;
  // The log names no test; busbw = 1.75 x algbw over 8 ranks is all-reduce's 2(n-1)/n, not all-gather's (n-1)/n.
  Run wrong_op = Wiresim({"calibrate", "import", dir / "old.txt", "--op", "all_gather"});
  CHECK(wrong_op.code == kExitBadInput);
  CHECK_THAT(wrong_op.err, Contains("busbw / algbw is 1.750"));
  CHECK_THAT(wrong_op.err, Contains("all_gather over 8 ranks gives (n-1)/n = 0.875"));
  Run no_op = Wiresim({"calibrate", "import", dir / "old.txt", "-o", dir / "old.json"});
  CHECK(no_op.code == kExitOk);
  CHECK_THAT(no_op.err, Contains("operation all_reduce, inferred from busbw / algbw = 1.750 over 8 ranks"));
  std::ofstream(dir / "bad.json") << R"({"format": "wiresim-calibration-profile", "version": 7})";
  Run bad = Wiresim({"calibrate", "fit", dir / "bad.json"});
  CHECK(bad.code == kExitBadInput);
  CHECK_THAT(bad.err, Contains("bad.json: version"));
  Run missing = Wiresim({"collective", "--calibration", dir / "nowhere.json"});
  CHECK(missing.code == kExitBadInput);
  CHECK_THAT(missing.err, Contains("nowhere.json: no such file"));
}

TEST_CASE("collective --calibration models the profile's NCCL release unless --nccl-version names another") {
  TempDir dir;
  std::ofstream(dir / "p.json") << R"({"format": "wiresim-calibration-profile", "version": 1,
    "provenance": {"nccl_version": "2.20.5", "gpus": [{"name": "NVIDIA H100 80GB HBM3"}]},
    "gemm": [{"m": 16, "n": 8192, "k": 8192, "dtype": "bfloat16", "time_us": 70.0}]})";
  Run profile = Wiresim(
      {"collective", "--topology", "dgx-h100", "-b", "1M", "-e", "1M", "--calibration", dir / "p.json", "--json"});
  REQUIRE(profile.code == kExitOk);
  const auto j = nlohmann::json::parse(profile.out);
  CHECK(j["nccl_version"] == "2.20.5");
  // NCCL 2.20 ranks NVLS first from 512 KiB on one 8x H100 node (docs/collectives.md section 6), 2.21 on from 2 MiB.
  CHECK(j["rows"][0]["algorithm"] == "NVLS");
  Run flag = Wiresim({"collective", "--topology", "dgx-h100", "-b", "1M", "-e", "1M", "--calibration", dir / "p.json",
                      "--nccl-version", "2.30"});
  REQUIRE(flag.code == kExitOk);
  CHECK_THAT(flag.out,
             Contains("; NCCL 2.30;") &&
                 Contains("NCCL 2.30 (--nccl-version); the calibration profile was measured with NCCL 2.20.5"));
}

TEST_CASE("calibrate fit fits against the profile's NCCL release, and a run on another release fits again") {
  TempDir dir;
  std::ofstream(dir / "ar.txt") << "NCCL version 2.20.5+cuda12.3\n" << Log();
  REQUIRE(Wiresim({"calibrate", "import", dir / "ar.txt", "-o", dir / "p.json"}).code == kExitOk);
  // The corrections are relative to a release's model (its choices, latencies and bytes terms), so fit uses the
  // release a run with this profile models: the profile's, 2.20.5, not the newest.
  Run fit = Wiresim({"calibrate", "fit", dir / "p.json", "--topology", "dgx-h100", "-o", dir / "f.json"});
  REQUIRE(fit.code == kExitOk);
  CHECK_THAT(fit.out, Contains("GEMMs; NCCL 2.20.5 (the calibration profile's)"));
  std::ifstream in(dir / "f.json");
  const auto written = nlohmann::json::parse(in);
  CHECK(written["fitted"]["nccl_version"] == "2.20.5");
  // A run of the same release takes the stored fit; a run told to model 2.27 fits again against 2.27.
  Run same =
      Wiresim({"collective", "--topology", "dgx-h100", "-b", "64M", "-e", "64M", "--calibration", dir / "f.json"});
  REQUIRE(same.code == kExitOk);
  CHECK_THAT(same.out, Contains("f.json: fitted on dgx-h100,"));
  Run other = Wiresim({"collective", "--topology", "dgx-h100", "-b", "64M", "-e", "64M", "--calibration",
                       dir / "f.json", "--nccl-version", "2.27"});
  REQUIRE(other.code == kExitOk);
  CHECK_THAT(other.out, Contains("fitted now on dgx-h100") &&
                            Contains("its stored fit was made against NCCL 2.20.5, this run models 2.27"));
  // --nccl-version given to the fit wins, and is recorded.
  Run given = Wiresim({"calibrate", "fit", dir / "p.json", "--topology", "dgx-h100", "--nccl-version", "2.27.3"});
  REQUIRE(given.code == kExitOk);
  CHECK_THAT(given.out,
             Contains("NCCL 2.27.3 (--nccl-version); the calibration profile was measured with NCCL 2.20.5"));
}

TEST_CASE("Measured GEMMs time the shapes they measured") {
  TempDir dir;
  // One shape measured at three token counts on an H100.
  std::ofstream(dir / "g.json") << R"({"format": "wiresim-calibration-profile", "version": 1,
    "provenance": {"gpus": [{"name": "NVIDIA H100 80GB HBM3"}]},
    "gemm": [{"m": 16, "n": 8192, "k": 8192, "dtype": "bfloat16", "time_us": 70.0},
             {"m": 64, "n": 8192, "k": 8192, "dtype": "bfloat16", "time_us": 72.0},
             {"m": 256, "n": 8192, "k": 8192, "dtype": "bfloat16", "time_us": 90.0}]})";
  Run measured = Wiresim({"compute", "gemm", "--gpu", "h100", "-m", "64", "-n", "8192", "-k", "8192", "--calibration",
                          dir / "g.json", "--json"});
  REQUIRE(measured.code == kExitOk);
  const auto j = nlohmann::json::parse(measured.out);
  CHECK(j["time_us"].get<double>() == Approx(72.0));
  CHECK_THAT(j["timed_by"].get<std::string>(), Contains("measured GEMMs"));
  // The same profile on another GPU does not apply, and says so.
  Run other = Wiresim({"compute", "gemm", "--gpu", "a100", "-m", "64", "-n", "8192", "-k", "8192", "--calibration",
                       dir / "g.json", "--json"});
  REQUIRE(other.code == kExitOk);
  CHECK_THAT(nlohmann::json::parse(other.out)["timed_by"].get<std::string>(), Contains("not applied"));
}

// Log() with `line` before its table and the device name replaced by `gpu`.
std::string LogWith(const std::string& line, const std::string& gpu = "NVIDIA H100 80GB HBM3") {
  std::string text = line + Log();
  for (size_t at = text.find("NVIDIA H100 80GB HBM3"); at != std::string::npos;
       at = text.find("NVIDIA H100 80GB HBM3", at + gpu.size())) {
    text.replace(at, 21, gpu);
  }
  return text;
}

TEST_CASE("calibrate fit says what it fitted to what, and a log run under NCCL_ALGO=Ring is fitted as Ring") {
  TempDir dir;
  std::ofstream(dir / "ring.txt") << LogWith("box:1:1 [0] NCCL INFO NCCL_ALGO set by environment to Ring\n");
  REQUIRE(Wiresim({"calibrate", "import", dir / "ring.txt", "-o", dir / "p.json"}).code == kExitOk);
  Run fit = Wiresim({"calibrate", "fit", dir / "p.json", "--topology", "dgx-h100", "-o", dir / "fit.json"});
  REQUIRE(fit.code == kExitOk);
  CHECK_THAT(fit.out, Contains("# fitted " + dir / "ring.txt" +
                               ": all_reduce over 8 ranks on 1 node (nvlink), 8 sizes, under NCCL_ALGO=Ring (the "
                               "log's): Ring / LL,LL128,Simple ->"));
  CHECK(fit.out.find("NVLS/") == std::string::npos);
  // Forced to Ring, the prediction is the measurement (the Ring curve); NCCL free to choose, it is not.
  Run ring = Wiresim({"collective", "--topology", "dgx-h100", "--compare", dir / "ring.txt", "--calibration",
                      dir / "fit.json", "--algo", "ring", "--json"});
  REQUIRE(ring.code == kExitOk);
  const auto ring_rows = nlohmann::json::parse(ring.out)["rows"];
  REQUIRE(ring_rows.size() == 8);
  for (const auto& row : ring_rows) CHECK(row["timed_by"] == "measured");
  Run free = Wiresim({"collective", "--topology", "dgx-h100", "--compare", dir / "ring.txt", "--calibration",
                      dir / "fit.json", "--json"});
  REQUIRE(free.code == kExitOk);
  const auto free_rows = nlohmann::json::parse(free.out)["rows"];
  REQUIRE(free_rows.size() == 8);
  for (const auto& row : free_rows) CHECK(row["timed_by"] != "measured");
}

TEST_CASE("A log with in-place results only is fitted from them, and calibrate fit says so") {
  TempDir dir;
  // Log()'s rows with the out-of-place group dropped: one group, which nccl-tests' layout makes the in-place one.
  std::istringstream in(Log());
  std::string text, line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') {
      std::istringstream row(line);
      std::vector<std::string> f{std::istream_iterator<std::string>(row), std::istream_iterator<std::string>()};
      line = f[0] + " " + f[1] + " " + f[2] + " " + f[3] + " " + f[4] + " " + f[9] + " " + f[10] + " " + f[11] + " " +
             f[12];
    }
    text += line + "\n";
  }
  std::ofstream(dir / "inplace.txt") << text;
  Run imported = Wiresim({"calibrate", "import", dir / "inplace.txt", "-o", dir / "p.json"});
  REQUIRE(imported.code == kExitOk);
  CHECK_THAT(imported.err, Contains("8 measurements from 1 log"));
  Run fit = Wiresim({"calibrate", "fit", dir / "p.json", "--topology", "dgx-h100"});
  REQUIRE(fit.code == kExitOk);
  CHECK_THAT(fit.out, Contains("8 collective measurements"));
  CHECK_THAT(fit.out, Contains("8 sizes, in place (the log has no out-of-place results)"));
}

TEST_CASE("A profile of another GPU model is refused with exit 2 unless calibrate fit --allow-other-gpu") {
  TempDir dir;
  std::ofstream(dir / "h200.txt") << LogWith("", "NVIDIA H200");
  REQUIRE(Wiresim({"calibrate", "import", dir / "h200.txt", "-o", dir / "p.json"}).code == kExitOk);
  Run fit = Wiresim({"calibrate", "fit", dir / "p.json", "--topology", "pcie-8x-l40s"});
  CHECK(fit.code == kExitBadInput);
  CHECK_THAT(fit.err, Contains("measured NVIDIA H200 (h200-sxm), but pcie-8x-l40s has l40s GPUs"));
  Run use =
      Wiresim({"collective", "--topology", "pcie-8x-l40s", "-b", "1G", "-e", "1G", "--calibration", dir / "p.json"});
  CHECK(use.code == kExitBadInput);
  CHECK_THAT(use.err, Contains("--allow-other-gpu"));
  // Fitted for the H200 machine, then given with the L40S box: still refused.
  REQUIRE(Wiresim({"calibrate", "fit", dir / "p.json", "--topology", "hgx-h200", "-o", dir / "h200fit.json"}).code ==
          kExitOk);
  CHECK(Wiresim({"collective", "--topology", "pcie-8x-l40s", "--calibration", dir / "h200fit.json"}).code ==
        kExitBadInput);
  // Asked for: fitted, said so, and then applied.
  Run allowed = Wiresim(
      {"calibrate", "fit", dir / "p.json", "--topology", "pcie-8x-l40s", "--allow-other-gpu", "-o", dir / "l40s.json"});
  REQUIRE(allowed.code == kExitOk);
  CHECK_THAT(allowed.out, Contains("--allow-other-gpu: " + dir / "p.json" + " measured NVIDIA H200"));
  Run applied =
      Wiresim({"collective", "--topology", "pcie-8x-l40s", "-b", "1G", "-e", "1G", "--calibration", dir / "l40s.json"});
  CHECK(applied.code == kExitOk);
}

}  // namespace
}  // namespace wiresim::app
