#include "sim/core/time.h"

#include <cstdlib>

#include <cmath>
#include <cstdio>
#include <ostream>

#include "sim/core/check.h"

namespace wiresim {

void Time::OverflowFailure(const char* what) {
  WIRESIM_CHECK(false) << "Time overflow in " << what;
  __builtin_unreachable();
}

bool Time::FitsSeconds(double seconds) {
  return std::isfinite(seconds) && seconds >= 0 && std::ceil(seconds * 1e12) < 9.2e18;
}

Time Time::FromSecondsCeil(double seconds) {
  WIRESIM_CHECK(std::isfinite(seconds) && seconds >= 0) << "duration " << seconds << " s";
  WIRESIM_CHECK(FitsSeconds(seconds)) << "duration " << seconds << " s overflows Time";
  return Time(static_cast<int64_t>(std::ceil(seconds * 1e12)));
}

Time Time::FromMicroseconds(double us) {
  WIRESIM_CHECK(std::isfinite(us) && std::fabs(us) < 9.2e12) << "duration " << us << " us";
  return Time(static_cast<int64_t>(std::llround(us * 1e6)));
}

Time Time::FromNanoseconds(double ns) {
  WIRESIM_CHECK(std::isfinite(ns) && std::fabs(ns) < 9.2e15) << "duration " << ns << " ns";
  return Time(static_cast<int64_t>(std::llround(ns * 1e3)));
}

void Time::MaxFailure(const char* what) {
  WIRESIM_CHECK(false) << "arithmetic on Time::Max() (" << what << ")";
  std::abort();
}

std::string Time::ToString() const {
  if (IsMax()) return "never";
  const double ps = static_cast<double>(ps_);
  const double mag = std::fabs(ps);
  char buf[64];
  if (mag < 1e3) {
    std::snprintf(buf, sizeof buf, "%lld ps", static_cast<long long>(ps_));
  } else if (mag < 1e6) {
    std::snprintf(buf, sizeof buf, "%.3f ns", ps * 1e-3);
  } else if (mag < 1e9) {
    std::snprintf(buf, sizeof buf, "%.3f us", ps * 1e-6);
  } else if (mag < 1e12) {
    std::snprintf(buf, sizeof buf, "%.3f ms", ps * 1e-9);
  } else {
    std::snprintf(buf, sizeof buf, "%.3f s", ps * 1e-12);
  }
  return buf;
}

std::ostream& operator<<(std::ostream& os, Time t) { return os << t.ToString(); }

}  // namespace wiresim
