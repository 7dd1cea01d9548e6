#include "sim/core/status.h"

namespace wiresim {

std::string SourceLocation::ToString() const {
  std::string out = file;
  if (line > 0) {
    out += (out.empty() ? "line " : ":") + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  return out;
}

Status Status::WithContext(const std::string& where) const {
  if (ok()) return *this;
  return Status(code_, where + ": " + message_);
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return message_;
}

Status InvalidInput(const SourceLocation& where, const std::string& field, const std::string& message) {
  std::string text = where.ToString();
  if (!field.empty()) text += (text.empty() ? "" : ": ") + field;
  text += (text.empty() ? "" : ": ") + message;
  return Status(StatusCode::kInvalidArgument, text);
}
Status InvalidArgument(std::string message) { return Status(StatusCode::kInvalidArgument, std::move(message)); }
Status NotFound(std::string message) { return Status(StatusCode::kNotFound, std::move(message)); }
Status FailedPrecondition(std::string message) { return Status(StatusCode::kFailedPrecondition, std::move(message)); }
Status Unimplemented(std::string message) { return Status(StatusCode::kUnimplemented, std::move(message)); }
Status Internal(std::string message) { return Status(StatusCode::kInternal, std::move(message)); }

}  // namespace wiresim
