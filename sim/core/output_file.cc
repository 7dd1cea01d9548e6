#include "sim/core/output_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace wiresim {
namespace {

// Writes all of `contents` to an open descriptor; false with errno set on failure.
bool WriteAll(int fd, std::string_view contents) {
  while (!contents.empty()) {
    const ssize_t n = ::write(fd, contents.data(), contents.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    contents.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string Reason(int err) { return std::strerror(err); }

// Removes ".NAME.wiresim-tmp.PID" files in `dir` whose process no longer runs: what a killed run left behind.
void RemoveStaleTemporaries(const std::filesystem::path& dir, const std::string& prefix) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string pid_text = name.substr(prefix.size());
    if (pid_text.empty() || pid_text.size() > 9 || pid_text.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
    if (pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH) {
      std::error_code ignored;
      fs::remove(it->path(), ignored);
    }
  }
}

}  // namespace

Status CheckOutputPath(const std::string& path, bool directory) {
  namespace fs = std::filesystem;
  if (path.empty()) return InvalidArgument("output path: empty");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (directory && !S_ISDIR(st.st_mode)) return InvalidArgument(path + ": exists and is not a directory");
    if (!directory && S_ISDIR(st.st_mode)) return InvalidArgument(path + ": is a directory, expected a file to write");
    if (!directory && !S_ISREG(st.st_mode)) return Status::Ok();  // a pipe or a device: written in place
  }
  // The nearest existing ancestor must be a directory this process may write in.
  fs::path dir = fs::path(path).parent_path();
  if (directory) dir = fs::path(path);
  while (!dir.empty() && ::stat(dir.c_str(), &st) != 0) dir = dir.parent_path();
  if (dir.empty()) dir = ".";
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return InvalidArgument(path + ": " + dir.string() + " is not a directory");
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return InvalidArgument(path + ": cannot write in " + dir.string() + ": " + Reason(errno));
  }
  return Status::Ok();
}

Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  namespace fs = std::filesystem;
  if (path.empty()) return InvalidArgument("output path: empty");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) return InvalidArgument(path + ": is a directory, expected a file to write");
    // A pipe, a device or a socket: written in place (replacing it would break whoever reads it).
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return InvalidArgument(path + ": cannot open for writing: " + Reason(errno));
    const bool ok = WriteAll(fd, contents);
    const int err = errno;
    ::close(fd);
    if (!ok) return Internal(path + ": write failed: " + Reason(err));
    return Status::Ok();
  }
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return InvalidArgument(path + ": cannot create the directory " + dir.string() + ": " + ec.message());
  const std::string prefix = "." + target.filename().string() + ".wiresim-tmp.";
  RemoveStaleTemporaries(dir, prefix);
  const fs::path temp = dir / (prefix + std::to_string(::getpid()));
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return InvalidArgument(path + ": cannot write in " + dir.string() + ": " + Reason(errno));
  bool ok = WriteAll(fd, contents);
  int err = errno;
  if (ok && ::fsync(fd) != 0 && errno != EINVAL && errno != EROFS) {
    ok = false;
    err = errno;
  }
  ::close(fd);
  if (!ok) {
    fs::remove(temp, ec);
    return Internal(path + ": write failed: " + Reason(err));
  }
  fs::rename(temp, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    return InvalidArgument(path + ": cannot move the finished file into place: " + ec.message());
  }
  return Status::Ok();
}

}  // namespace wiresim
