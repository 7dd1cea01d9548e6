// Time: a point in simulated time, or a span of it, as a whole number of picoseconds in an int64 (about 106 days
// of range). Every clock in wiresim is a Time; rates (bytes per second, FLOP/s) are doubles, and a duration
// computed from a rate is rounded up to the next picosecond, so an event never fires before its work is done.
//
//   Time t = Time::Microseconds(3) + Time::Nanoseconds(250);   // 3.25 us
//   Time copy = Time::FromSecondsCeil(bytes / bytes_per_second);
//   std::string s = t.ToString();                               // "3.250 us"
//
// Arithmetic that would overflow is a programmer error and fails a check; Time::Max() is the one sentinel
// ("never") and is only compared against, never added to.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <limits>
#include <string>

namespace wiresim {

class Time {
 public:
  constexpr Time() = default;  // zero

  static constexpr Time Picoseconds(int64_t n) { return Time(n); }
  static constexpr Time Nanoseconds(int64_t n) { return Time(Scale(n, kPerNanosecond)); }
  static constexpr Time Microseconds(int64_t n) { return Time(Scale(n, kPerMicrosecond)); }
  static constexpr Time Milliseconds(int64_t n) { return Time(Scale(n, kPerMillisecond)); }
  static constexpr Time Seconds(int64_t n) { return Time(Scale(n, kPerSecond)); }
  static constexpr Time Zero() { return Time(0); }
  // "Never": later than any reachable time.
  static constexpr Time Max() { return Time(std::numeric_limits<int64_t>::max()); }

  // From a duration in seconds, rounded up to the next picosecond. REQUIRES: FitsSeconds(seconds).
  static Time FromSecondsCeil(double seconds);
  // Whether FromSecondsCeil takes `seconds`: finite, >= 0 and, rounded up to picoseconds, below 9.2e18 ps (about
  // 9.2e6 s, 106 days). For callers that derive a time from unbounded inputs and must refuse, not abort.
  static bool FitsSeconds(double seconds);
  // From floating microseconds / nanoseconds, rounded to the nearest picosecond (for inputs and tests).
  static Time FromMicroseconds(double us);
  static Time FromNanoseconds(double ns);

  constexpr int64_t picoseconds() const { return ps_; }
  double ToSeconds() const { return static_cast<double>(ps_) * 1e-12; }
  double ToMilliseconds() const { return static_cast<double>(ps_) * 1e-9; }
  double ToMicroseconds() const { return static_cast<double>(ps_) * 1e-6; }
  double ToNanoseconds() const { return static_cast<double>(ps_) * 1e-3; }
  constexpr bool IsMax() const { return ps_ == std::numeric_limits<int64_t>::max(); }

  // A human-readable value with a unit chosen so the number is in [1, 1000): "812 ps", "3.250 us", "1.204 s".
  std::string ToString() const;

  // Checked: arithmetic on Time::Max() or past int64's range aborts with a message (inline: the event loop's hot
  // path adds times).
  friend Time operator+(Time a, Time b) {
    int64_t out = 0;
    if (a.IsMax() || b.IsMax()) [[unlikely]] MaxFailure("+");
    if (__builtin_add_overflow(a.ps_, b.ps_, &out)) [[unlikely]] OverflowFailure("+");
    return Time(out);
  }
  friend Time operator-(Time a, Time b) {
    int64_t out = 0;
    if (a.IsMax() || b.IsMax()) [[unlikely]] MaxFailure("-");
    if (__builtin_sub_overflow(a.ps_, b.ps_, &out)) [[unlikely]] OverflowFailure("-");
    return Time(out);
  }
  friend Time operator*(Time a, int64_t k) {
    int64_t out = 0;
    if (a.IsMax()) [[unlikely]] MaxFailure("*");
    if (__builtin_mul_overflow(a.ps_, k, &out)) [[unlikely]] OverflowFailure("*");
    return Time(out);
  }
  friend Time operator*(int64_t k, Time a) { return a * k; }
  friend constexpr Time operator/(Time a, int64_t k) { return Time(a.ps_ / k); }
  friend constexpr int64_t operator/(Time a, Time b) { return a.ps_ / b.ps_; }
  Time& operator+=(Time b) { return *this = *this + b; }
  Time& operator-=(Time b) { return *this = *this - b; }

  friend constexpr bool operator==(Time a, Time b) { return a.ps_ == b.ps_; }
  friend constexpr auto operator<=>(Time a, Time b) { return a.ps_ <=> b.ps_; }

 private:
  static constexpr int64_t kPerNanosecond = 1000;
  static constexpr int64_t kPerMicrosecond = 1000 * kPerNanosecond;
  static constexpr int64_t kPerMillisecond = 1000 * kPerMicrosecond;
  static constexpr int64_t kPerSecond = 1000 * kPerMillisecond;

  constexpr explicit Time(int64_t ps) : ps_(ps) {}
  // n * unit, failing to compile in constant expressions (and failing a check at run time) on overflow.
  static constexpr int64_t Scale(int64_t n, int64_t unit) {
    int64_t out = 0;
    if (__builtin_mul_overflow(n, unit, &out)) OverflowFailure("factory");
    return out;
  }
  [[noreturn]] static void OverflowFailure(const char* what);
  [[noreturn]] static void MaxFailure(const char* what);

  int64_t ps_ = 0;
};

std::ostream& operator<<(std::ostream& os, Time t);

}  // namespace wiresim
