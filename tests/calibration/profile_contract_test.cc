// The calibration profile is the whole contract between wiresim-calibrate (calibrate/, which links nothing from
// sim/) and the simulator: what one writes, the other must read, field for field.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "calibrate/profile.h"
#include "sim/calibration/calibration_profile.h"

namespace wiresim {
namespace {

TEST_CASE("What wiresim-calibrate writes, the simulator reads") {
  calibrate::Profile written;
  written.provenance.tool = "wiresim-calibrate 0.1.0";
  written.provenance.nccl_version = "2.28.9";
  calibrate::GpuInfo gpu;
  gpu.name = "NVIDIA H100 80GB HBM3";
  gpu.sm = "9.0";
  written.provenance.gpus.push_back(gpu);
  calibrate::GemmEntry g;
  g.m = 64;
  g.n = 6144;
  g.k = 4096;
  g.dtype = "bfloat16";
  g.time_us = 21.5;
  g.p10_us = 21.0;
  g.p90_us = 22.5;
  g.repetitions = 120;
  g.label = "qkv";
  written.gemm.push_back(g);
  written.memory.push_back({"d2d_copy", int64_t{1} << 30, 700.0, 3067.6});
  calibrate::CollectiveEntry c;
  c.op = "all_gather";
  c.dtype = "bfloat16";
  c.redop = "none";
  c.gpus = {0, 1, 2, 3};
  c.ranks = 4;
  c.size = 1 << 24;
  c.count = 1 << 21;
  c.time_us = 80;
  c.algbw_GBps = 209.7;
  c.busbw_GBps = 157.3;
  c.algorithm = "Ring";
  c.protocol = "Simple";
  written.collectives.push_back(c);
  const std::string path =
      (std::filesystem::temp_directory_path() / ("wiresim-contract-" + std::to_string(::getpid()) + ".json")).string();
  calibrate::WriteProfileFile(path, written);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::filesystem::remove(path);

  auto read = ParseCalibrationProfile(SourceFile{path, text.str()});
  INFO(read.status().message());
  REQUIRE(read.ok());
  CHECK(read->provenance.nccl_version == "2.28.9");
  CHECK(read->provenance.gpu_names == std::vector<std::string>{"NVIDIA H100 80GB HBM3"});
  REQUIRE(read->gemm.size() == 1);
  CHECK(read->gemm[0].m == 64);
  CHECK(read->gemm[0].dtype == DataType::kBFloat16);
  CHECK(read->gemm[0].time_us == 21.5);
  CHECK(read->gemm[0].label == "qkv");
  REQUIRE(read->memory.size() == 1);
  CHECK(read->memory[0].bandwidth_GBps == 3067.6);
  REQUIRE(read->collectives.size() == 1);
  CHECK(read->collectives[0].gpus == std::vector<int>{0, 1, 2, 3});
  CHECK(read->collectives[0].size == (1 << 24));
  CHECK(read->collectives[0].algorithm == "Ring");

  // And the other way: the simulator's writer (used by calibrate import/fit) is read by the tool on resume.
  const std::string back_path = path + ".back";
  std::ofstream(back_path) << WriteCalibrationProfile(*read);
  const calibrate::Profile resumed = calibrate::ReadProfileFile(back_path);
  std::filesystem::remove(back_path);
  CHECK(resumed.HasGemm(64, 6144, 4096, "bfloat16"));
  CHECK(resumed.HasCollective("all_gather", "bfloat16", {0, 1, 2, 3}, 1 << 24, false));
  CHECK(resumed.HasMemory("d2d_copy", int64_t{1} << 30));
}

}  // namespace
}  // namespace wiresim
