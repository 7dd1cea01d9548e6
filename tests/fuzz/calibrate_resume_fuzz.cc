// Fuzz target: a calibration profile as wiresim-calibrate reads it back to resume an interrupted run
// (calibrate/profile.h, ProfileFromText). A profile that loads is written out as WriteProfileFile writes it, which
// must load again with the same measurements, and a plan's remainder is computed against it as `run` does.
#include <nlohmann/json.hpp>

#include "calibrate/plan.h"
#include "calibrate/profile.h"
#include "tests/fuzz/calibrate_error.h"

namespace wiresim::fuzz {
namespace {

// A small plan (4 GPUs, two token counts, two ops), made once: what Remaining leaves of it depends on the profile.
const calibrate::Plan& SmallPlan() {
  static const calibrate::Plan plan = [] {
    calibrate::Options o;
    o.tokens = {1, 128};
    o.ops = {"all_reduce", "sendrecv"};
    o.max_bytes = 1 << 20;
    o.gemm_grid = true;
    return calibrate::MakePlan(o, 4, {{0, 1, 2, 3}});
  }();
  return plan;
}

void ResumeFrom(const SourceFile& file) {
  ExpectCalibrateErrorOrValue(file, [&] {
    const calibrate::Profile p = calibrate::ProfileFromText(file.text, file.name);
    const std::string written =
        calibrate::ToJson(p).dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    calibrate::Profile back;
    try {
      back = calibrate::ProfileFromText(written, file.name);
    } catch (const calibrate::CalibrateError& e) {
      Fail(std::string("a profile that loaded does not load once written: ") + e.what());
    }
    if (back.gemm.size() != p.gemm.size() || back.memory.size() != p.memory.size() ||
        back.collectives.size() != p.collectives.size()) {
      Fail("a profile written and read back has other measurement counts");
    }
    const calibrate::Plan todo = calibrate::Remaining(SmallPlan(), p, "bfloat16");
    if (todo.measurements() > SmallPlan().measurements()) Fail("more remains of a plan than the plan holds");
  });
}

}  // namespace
}  // namespace wiresim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return wiresim::fuzz::Run(data, size, "calibration.json", wiresim::fuzz::ResumeFrom);
}
