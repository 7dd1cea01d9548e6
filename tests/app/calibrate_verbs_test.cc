// `wiresim calibrate import`, `calibrate fit`, and `--calibration` on collective, compute gemm and model show.
#include <filesystem>
#include <fstream>
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
  // Fitted on another topology: fitted again for this one, and said so.
  Run other = Wiresim({"collective", "--topology", "hgx-h200", "--gpus", "0-7", "-b", "4M", "-e", "4M", "--calibration",
                       dir / "fit.json"});
  REQUIRE(other.code == kExitOk);
  CHECK_THAT(other.out, Contains("fitted now on hgx-h200"));
}

TEST_CASE("Calibration verbs refuse bad input with exit code 2") {
  TempDir dir;
  std::string headless = Log();
  headless.replace(headless.find("# Collective test starting: all_reduce_perf"), 43, "#");
  std::ofstream(dir / "old.txt") << headless;
  Run no_op = Wiresim({"calibrate", "import", dir / "old.txt"});
  CHECK(no_op.code == kExitBadInput);
  CHECK_THAT(no_op.err, Contains("does not name its test"));
  std::ofstream(dir / "bad.json") << R"({"format": "wiresim-calibration-profile", "version": 7})";
  Run bad = Wiresim({"calibrate", "fit", dir / "bad.json"});
  CHECK(bad.code == kExitBadInput);
  CHECK_THAT(bad.err, Contains("bad.json: version"));
  Run missing = Wiresim({"collective", "--calibration", dir / "nowhere.json"});
  CHECK(missing.code == kExitBadInput);
  CHECK_THAT(missing.err, Contains("nowhere.json: no such file"));
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

}  // namespace
}  // namespace wiresim::app
