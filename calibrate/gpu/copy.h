// HBM bandwidth from a large device-to-device copy: bytes read plus bytes written, per second.
#pragma once

#include <string>

#include "calibrate/profile.h"

namespace wiresim::calibrate {

// Copies `bytes` on the current device (2 warm-up copies, then 10 timed). False with `why` when memory runs out.
bool MeasureCopy(int64_t bytes, MemoryEntry* out, std::string* why);

}  // namespace wiresim::calibrate
