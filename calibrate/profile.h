// The calibration profile as wiresim-calibrate writes it (docs/formats/calibration-profile.md, schema version 1):
// provenance, GEMM, memory and collective measurements, and notes. Plain structs, JSON in and out, and the
// presence tests that let an interrupted run resume. The simulator reads the same file with its own reader
// (sim/calibration); the file is the whole contract between the two.
//
//   Profile p = ReadProfileFile("profile.json");          // throws CalibrateError naming the file on bad input
//   if (!p.HasGemm(4096, 4096, 4096, "bfloat16")) { ... measure ...; p.gemm.push_back(entry); }
//   WriteProfileFile("profile.json", p);                  // temporary file, then rename
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace wiresim::calibrate {

inline constexpr int kProfileVersion = 1;
inline constexpr const char* kProfileFormat = "wiresim-calibration-profile";

// An error that ends the command: bad input, a missing file, a failed library call. main() prints it, exits 2.
class CalibrateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct GpuInfo {
  int index = 0;
  std::string host;
  std::string name;
  std::string sm;  // "9.0"
  int sm_count = 0;
  int64_t memory_bytes = 0;
  std::string pci_bus_id;
  int clock_mhz = 0;
  int memory_clock_mhz = 0;
  int64_t l2_bytes = 0;
};

struct Provenance {
  std::string tool;
  std::string command;
  std::string date;
  std::vector<std::string> hosts;
  int nodes = 0;
  int ranks = 0;
  std::string driver_version;
  std::string cuda_runtime_version;
  std::string cuda_driver_version;
  std::string nccl_version;
  std::string cublas_version;
  std::vector<GpuInfo> gpus;
  std::string nvidia_smi_topo;
  std::string nccl_topo_xml;
  std::vector<std::string> sources;
};

struct GemmEntry {
  int64_t m = 0, n = 0, k = 0;
  std::string dtype;
  double time_us = 0, min_us = 0, max_us = 0, p10_us = 0, p90_us = 0;
  int repetitions = 0;
  double tflops = 0;
  std::string label;
};

struct MemoryEntry {
  std::string kind;
  int64_t bytes = 0;
  double time_us = 0;
  double bandwidth_GBps = 0;
};

struct CollectiveEntry {
  std::string op;
  std::string dtype;
  std::string redop;
  std::vector<int> gpus;
  int ranks = 0;
  int nodes = 1;
  int64_t size = 0;
  int64_t count = 0;
  double time_us = 0;
  double algbw_GBps = 0;
  double busbw_GBps = 0;
  std::string algorithm;
  std::string protocol;
  bool in_place = false;
  std::string source;
};

struct Profile {
  Provenance provenance;
  std::vector<GemmEntry> gemm;
  std::vector<MemoryEntry> memory;
  std::vector<CollectiveEntry> collectives;
  std::vector<std::string> notes;

  bool HasGemm(int64_t m, int64_t n, int64_t k, const std::string& dtype) const;
  bool HasMemory(const std::string& kind, int64_t bytes) const;
  bool HasCollective(const std::string& op, const std::string& dtype, const std::vector<int>& gpus, int64_t size,
                     bool in_place) const;
};

nlohmann::json ToJson(const Profile& profile);
// Throws CalibrateError naming `where` and the field on a malformed document or an unknown version.
Profile ProfileFromJson(const nlohmann::json& doc, const std::string& where);

// The same from a profile's text: refuses JSON nested deeper than 512 levels, and numbers out of their fields'
// ranges (docs/formats/numbers.md), each with a CalibrateError naming `where` and the field.
Profile ProfileFromText(const std::string& text, const std::string& where);
Profile ReadProfileFile(const std::string& path);
// Writes through a temporary file in the same directory and a rename: readers never see half a profile.
void WriteProfileFile(const std::string& path, const Profile& profile);

}  // namespace wiresim::calibrate
