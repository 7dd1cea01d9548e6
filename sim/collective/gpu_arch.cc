#include "sim/collective/gpu_arch.h"

#include <cctype>
#include <string>

namespace wiresim {

GpuArch GpuArchFromModel(std::string_view model) {
  std::string m;
  for (char c : model) {
    if (c == '_' || c == ' ') c = '-';
    m.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (m.rfind("nvidia-", 0) == 0) m = m.substr(7);
  struct Entry {
    const char* prefix;
    GpuGeneration generation;
    int sm;
  };
  // Longer prefixes first where one is a prefix of another ("a100" before "a10", "gh200" before "h200"...).
  static constexpr Entry kTable[] = {
      {"gb300", GpuGeneration::kBlackwell, 100},
      {"gb200", GpuGeneration::kBlackwell, 100},
      {"b300", GpuGeneration::kBlackwell, 100},
      {"b200", GpuGeneration::kBlackwell, 100},
      {"b100", GpuGeneration::kBlackwell, 100},
      {"rtx-pro-6000", GpuGeneration::kBlackwell, 120},
      {"rtx-5090", GpuGeneration::kBlackwell, 120},
      {"gh200", GpuGeneration::kHopper, 90},
      {"h100", GpuGeneration::kHopper, 90},
      {"h200", GpuGeneration::kHopper, 90},
      {"h800", GpuGeneration::kHopper, 90},
      {"h20", GpuGeneration::kHopper, 90},
      {"rtx-6000-ada", GpuGeneration::kAda, 89},
      {"rtx-4090", GpuGeneration::kAda, 89},
      {"l40", GpuGeneration::kAda, 89},
      {"l4", GpuGeneration::kAda, 89},
      {"a100", GpuGeneration::kAmpere, 80},
      {"a800", GpuGeneration::kAmpere, 80},
      {"a30", GpuGeneration::kAmpere, 80},
      {"rtx-a6000", GpuGeneration::kAmpere, 86},
      {"a6000", GpuGeneration::kAmpere, 86},
      {"rtx-3090", GpuGeneration::kAmpere, 86},
      {"a40", GpuGeneration::kAmpere, 86},
      {"a10", GpuGeneration::kAmpere, 86},
      {"v100", GpuGeneration::kVolta, 70},
  };
  for (const Entry& e : kTable) {
    if (m.rfind(e.prefix, 0) == 0) return GpuArch{e.generation, e.sm, true};
  }
  return GpuArch{GpuGeneration::kAmpere, 80, false};
}

}  // namespace wiresim
