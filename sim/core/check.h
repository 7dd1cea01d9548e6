// Checks for programmer errors: conditions that can only fail if wiresim itself has a bug. A failed check prints
// where and why to stderr and aborts. Bad input is never a check; it is a Status (see status.h).
//
//   WIRESIM_CHECK(queue_.size() > 0) << "pop from an empty queue";
//   WIRESIM_CHECK_GE(at, now_) << "event scheduled in the past";
#pragma once

#include <sstream>

namespace wiresim::internal {

// Collects the message of a failed check and aborts when destroyed.
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  [[noreturn]] ~CheckFailure();
  CheckFailure(const CheckFailure&) = delete;
  CheckFailure& operator=(const CheckFailure&) = delete;

  template <typename T>
  CheckFailure& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }

 private:
  std::ostringstream stream_;
};

// Lets the macro below be an expression that swallows the stream in the passing case.
struct CheckVoidify {
  void operator&(const CheckFailure&) {}
};

}  // namespace wiresim::internal

#define WIRESIM_CHECK(condition) \
  (condition)                    \
      ? (void)0                  \
      : ::wiresim::internal::CheckVoidify() & ::wiresim::internal::CheckFailure(__FILE__, __LINE__, #condition)

#define WIRESIM_CHECK_OP(a, op, b) WIRESIM_CHECK((a)op(b)) << "(" << (a) << " vs " << (b) << ") "
#define WIRESIM_CHECK_EQ(a, b) WIRESIM_CHECK_OP(a, ==, b)
#define WIRESIM_CHECK_NE(a, b) WIRESIM_CHECK_OP(a, !=, b)
#define WIRESIM_CHECK_LT(a, b) WIRESIM_CHECK_OP(a, <, b)
#define WIRESIM_CHECK_LE(a, b) WIRESIM_CHECK_OP(a, <=, b)
#define WIRESIM_CHECK_GT(a, b) WIRESIM_CHECK_OP(a, >, b)
#define WIRESIM_CHECK_GE(a, b) WIRESIM_CHECK_OP(a, >=, b)
