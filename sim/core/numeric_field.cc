#include "sim/core/numeric_field.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "sim/core/text.h"

namespace wiresim {
namespace {

// A bound or a value as a message shows it: whole numbers below 1e19 in full (2^63 shows as 9223372036854775808),
// others in %g form.
std::string Format(double v) {
  char buf[64];
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e19) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%g", v);
  }
  return buf;
}

std::string Expected(const NumericRange& r) {
  std::string out = "expected " + std::string(r.what);
  out += r.min_exclusive ? " above " + Format(r.min) + " and up to " : " from " + Format(r.min) + " to ";
  out += Format(r.max);
  if (r.max_note[0] != '\0') out += " (" + std::string(r.max_note) + ")";
  return out;
}

bool InRange(double v, const NumericRange& r) {
  if (!std::isfinite(v)) return false;
  if (r.min_exclusive ? !(v > r.min) : !(v >= r.min)) return false;
  if (!(v <= r.max)) return false;
  return !r.whole || v == std::floor(v);
}

}  // namespace

Status CheckNumber(const SourceLocation& where, std::string_view field, double value, const NumericRange& range) {
  if (InRange(value, range)) return Status::Ok();
  return InvalidInput(where, std::string(field), Expected(range) + ", got " + Format(value));
}

Status CheckInteger(const SourceLocation& where, std::string_view field, int64_t value, const NumericRange& range) {
  // Compared as integers where the bound is exact (every bound here is below 2^53).
  const bool low =
      range.min_exclusive ? value <= static_cast<int64_t>(range.min) : value < static_cast<int64_t>(range.min);
  const bool high = static_cast<double>(value) > range.max;
  if (!low && !high) return Status::Ok();
  return InvalidInput(where, std::string(field), Expected(range) + ", got " + std::to_string(value));
}

Result<double> ParseNumberField(const SourceLocation& where, std::string_view field, std::string_view text,
                                const NumericRange& range) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (end != text.data() + text.size() || text.empty()) {
    return InvalidInput(where, std::string(field), Expected(range) + ", got '" + InputExcerpt(text) + "'");
  }
  if (ec == std::errc::result_out_of_range) {
    // Too large or too small for a double: either way outside every range, but say which.
    return InvalidInput(where, std::string(field),
                        Expected(range) + ", got '" + InputExcerpt(text) + "' (out of a double's range)");
  }
  WIRESIM_RETURN_IF_ERROR(CheckNumber(where, field, v, range));
  return v;
}

Result<int64_t> ParseIntegerField(const SourceLocation& where, std::string_view field, std::string_view text,
                                  const NumericRange& range) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return InvalidInput(where, std::string(field), Expected(range) + ", got '" + InputExcerpt(text) + "'");
  }
  WIRESIM_RETURN_IF_ERROR(CheckInteger(where, field, v, range));
  return v;
}

Result<int64_t> CheckedProduct(const SourceLocation& where, std::string_view field,
                               std::initializer_list<int64_t> factors, int64_t max) {
  int64_t product = 1;
  std::string shown;
  bool overflow = false;
  for (int64_t f : factors) {
    shown += (shown.empty() ? "" : " x ") + std::to_string(f);
    if (f < 0 || __builtin_mul_overflow(product, f, &product)) overflow = true;
  }
  if (overflow || product > max) {
    return InvalidInput(where, std::string(field),
                        shown + " is more than " + std::to_string(max) + " (" + Format(static_cast<double>(max)) +
                            "), the most wiresim represents; check the sizes");
  }
  return product;
}

Status CheckJsonNesting(const std::string& file, std::string_view text) {
  int line = 1;
  if (JsonNestingDepth(text, kMaxNestingDepth, &line) <= kMaxNestingDepth) return Status::Ok();
  return InvalidInput(SourceLocation{file, line, 0}, "",
                      "JSON nests objects and arrays more than " + std::to_string(kMaxNestingDepth) + " levels deep");
}

Status JsonNumberOutOfRange(const std::string& file, std::string_view text, std::string_view what) {
  // nlohmann's message: "[json.exception.out_of_range.406] number overflow parsing '1e400'".
  std::string_view token;
  const size_t first = what.find("parsing '");
  const size_t last = what.rfind('\'');
  if (first != std::string_view::npos && last > first + 9) token = what.substr(first + 9, last - first - 9);
  if (token.empty()) {
    return InvalidInput(SourceLocation{file, 0, 0}, "", "a JSON value out of range: " + InputExcerpt(what, 200));
  }
  // The numbers of the text, strings skipped: a number is a maximal run of the characters JSON numbers use.
  const auto number_char = [](char c) {
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
  };
  int found = 0;
  ScanJsonOutsideStrings(text, [&](size_t i, int line) {
    if (!number_char(text[i])) return i + 1;
    size_t end = i;
    while (end < text.size() && number_char(text[end])) ++end;
    if (text.substr(i, end - i) != token) return end;
    found = line;
    return text.size();
  });
  return InvalidInput(SourceLocation{file, found, 0}, "",
                      "the number " + InputExcerpt(token) + " is out of range (no double holds it)");
}

std::string InputExcerpt(std::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  return std::string(text.substr(0, max)) + "...";
}

}  // namespace wiresim
