// Status and Result<T>: how parsing, validation and I/O report failure. A Status is either OK or carries a code
// and a message that names where the problem is (file, line, field) and what was expected, so the command line can
// print it as is and exit with code 2.
//
//   Result<Topology> topo = LoadTopology(text, "cluster.toml");
//   if (!topo.ok()) return topo.status();         // "cluster.toml:12: link.bandwidth_GBps: must be > 0, got -5"
//   Topology t = std::move(topo).value();
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "sim/core/check.h"

namespace wiresim {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the input is malformed or violates a rule: unknown key, bad value, dangling reference
  kNotFound,            // a named file, model, GPU or node does not exist
  kFailedPrecondition,  // the input is well-formed but cannot be used: a plan that does not fit in memory
  kUnimplemented,       // asked for something wiresim does not do (yet)
  kInternal,            // I/O failure or something that should not happen
};

// Where in an input a problem sits. Any part may be empty (line 0 means unknown).
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;

  // "file:line:column", omitting what is unknown.
  std::string ToString() const;
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // The message with "where: " prepended, for adding context while an error travels up.
  Status WithContext(const std::string& where) const;

  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// "file:line: field: message" in the form every input error uses. `field` may be empty.
Status InvalidInput(const SourceLocation& where, const std::string& field, const std::string& message);
Status InvalidArgument(std::string message);
Status NotFound(std::string message);
Status FailedPrecondition(std::string message);
Status Unimplemented(std::string message);
Status Internal(std::string message);

// A value or the Status saying why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}        // NOLINT: implicit like absl::StatusOr
  Result(Status status) : state_(std::move(status)) {  // NOLINT
    WIRESIM_CHECK(!std::get<Status>(state_).ok()) << "a Result cannot hold an OK status without a value";
  }

  bool ok() const { return std::holds_alternative<T>(state_); }
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(state_); }

  // REQUIRES: ok()
  const T& value() const& {
    CheckOk();
    return std::get<T>(state_);
  }
  T& value() & {
    CheckOk();
    return std::get<T>(state_);
  }
  T&& value() && {
    CheckOk();
    return std::get<T>(std::move(state_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  void CheckOk() const { WIRESIM_CHECK(ok()) << "value() of a failed Result: " << std::get<Status>(state_).ToString(); }
  std::variant<T, Status> state_;
};

}  // namespace wiresim

// Returns from the enclosing function when `expr` (a Status) is not OK.
#define WIRESIM_RETURN_IF_ERROR(expr) \
  do {                                \
    ::wiresim::Status _st = (expr);   \
    if (!_st.ok()) return _st;        \
  } while (0)

#define WIRESIM_CONCAT_INNER(a, b) a##b
#define WIRESIM_CONCAT(a, b) WIRESIM_CONCAT_INNER(a, b)

// Declares `lhs` from a Result, or returns its Status from the enclosing function.
#define WIRESIM_ASSIGN_OR_RETURN(lhs, expr) WIRESIM_ASSIGN_OR_RETURN_IMPL(WIRESIM_CONCAT(_result_, __LINE__), lhs, expr)
#define WIRESIM_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
