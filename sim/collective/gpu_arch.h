// The GPU generation NCCL's tables are indexed by, from the GPU model a topology names. Collective does not depend
// on compute, so this small mapping lives here (docs/collectives.md lists it).
//
//   GpuArch a = GpuArchFromModel("h100-sxm");   // {kHopper, 90}
#pragma once

#include <string_view>

namespace wiresim {

enum class GpuGeneration { kVolta, kAmpere, kAda, kHopper, kBlackwell };

struct GpuArch {
  GpuGeneration generation = GpuGeneration::kAmpere;
  int sm = 80;        // compute capability x 10
  bool known = true;  // false: the model string was not recognised and these are the defaults (Ampere, sm80)

  // NCCL's compCapIndex: 0 Volta, 1 Ampere (sm80-89, Ada included), 2 Hopper, 3 Blackwell.
  int nccl_index() const { return sm >= 100 ? 3 : sm >= 90 ? 2 : sm >= 80 ? 1 : 0; }
};

// Case-insensitive, by prefix: "v100" Volta sm70; "a100", "a800", "a30" Ampere sm80; "a10", "a40", "a6000",
// "rtx-a6000", "rtx-3090" Ampere sm86; "l40", "l40s", "l4", "rtx-4090", "rtx-6000-ada" Ada sm89; "h100", "h200",
// "h800", "h20", "gh200" Hopper sm90; "b100", "b200", "b300", "gb200", "gb300" Blackwell sm100; "rtx-pro-6000",
// "rtx-5090" Blackwell sm120 (NCCL's Blackwell index: compCapIndex is 3 from sm100 up).
GpuArch GpuArchFromModel(std::string_view model);

}  // namespace wiresim
