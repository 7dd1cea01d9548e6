#include "sim/app/number_format.h"

#include <cstdio>
#include <sstream>

namespace wiresim::app {

std::string NcclNumber(double value, int width) {
  char buf[64];
  for (int decimals = 2; decimals >= 0; --decimals) {
    const int len = std::snprintf(buf, sizeof(buf), "%*.*f", width, decimals, value);
    if (len <= width) return buf;
  }
  std::snprintf(buf, sizeof(buf), "%*.*e", width, width >= 7 ? 1 : 0, value);
  return buf;
}

std::string Fixed(double v, int decimals) {
  char buf[384];  // DBL_MAX in %.f is 309 digits
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

std::string Right(const std::string& text, int width) {
  if (static_cast<int>(text.size()) >= width) return text;
  return std::string(static_cast<size_t>(width) - text.size(), ' ') + text;
}

std::string Short(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

std::string Pad(const std::string& text, size_t width) {
  return text.size() >= width ? text + " " : text + std::string(width - text.size(), ' ');
}

std::string Grouped(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (v < 0 ? "-" : "") + out;
}

std::string Gib(double bytes) { return Fixed(bytes / (1024.0 * 1024 * 1024), 2); }

}  // namespace wiresim::app
