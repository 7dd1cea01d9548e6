// What a calibration run measures, planned without a GPU: message sizes as nccl-tests takes them, the GPU groups
// of a node (the whole node, every pair, every NVLink domain), and the GEMM shapes a model needs at each
// tensor-parallel degree.
//
//   std::vector<int64_t> sizes = SizeSeries(ParseSize("8"), ParseSize("8G"), 2);   // 8 B ... 8 GiB, x2
//   std::vector<GpuGroup> groups = PlanGroups(8, {"all", "pairs"}, {});
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wiresim::calibrate {

// The most values a size series or a list on the command line may hold (4096: a series from 1 byte to 2^40 at
// the smallest useful factor, 1.01, has 2,786), and the largest value in a list (2^24, the bound of a model's
// sizes and a GEMM's dimensions in docs/formats/numbers.md).
inline constexpr int64_t kMaxSeriesLength = 4096;
inline constexpr int kMaxListValue = 1 << 24;

// "8", "64K", "1M", "8G" (powers of 1024, as nccl-tests' -b/-e), up to 1T (2^40). Throws CalibrateError on
// anything else.
int64_t ParseSize(const std::string& text);
// min, min*f, min*f^2, ... up to max inclusive, as nccl-tests -f. Throws CalibrateError unless 0 < min <= max and
// factor > 1, or when that is more than kMaxSeriesLength sizes.
std::vector<int64_t> SizeSeries(int64_t min, int64_t max, double factor);
// "1,2,4,8", "1-4" or a mix, values 0 to kMaxListValue, at most kMaxSeriesLength of them. Throws CalibrateError
// naming `what`.
std::vector<int> ParseIntList(const std::string& text, const std::string& what);
// "a,b,c".
std::vector<std::string> SplitList(const std::string& text);

struct GpuGroup {
  std::string kind;  // "all", "pair", "nvlink"
  std::vector<int> gpus;
};

// GPUs joined by NVLink, from `nvidia-smi topo -m` text: connected components over NV# cells. GPUs in no NVLink
// pair form no domain. Returns an empty list when the text is not a topology matrix.
std::vector<std::vector<int>> NvlinkDomainsFromTopo(const std::string& nvidia_smi_text);

// The groups to sweep on a node of `gpus` GPUs: "all" (every GPU), "pairs" (each pair), "nvlink" (each NVLink
// domain of 2+ GPUs that is not the whole node). Duplicates are dropped. Throws on an unknown kind.
std::vector<GpuGroup> PlanGroups(int gpus, const std::vector<std::string>& kinds,
                                 const std::vector<std::vector<int>>& nvlink_domains);

// "0-7", "0,1", "0-3,5": a compact rendering of a GPU list.
std::string FormatGpus(const std::vector<int>& gpus);

}  // namespace wiresim::calibrate
