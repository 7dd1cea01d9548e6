#include "sim/app/app_context.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/app/embedded_files.h"

namespace wiresim::app {
namespace {

constexpr std::string_view kBuiltinPrefix = "builtin:";

std::string Normalize(const std::filesystem::path& p) { return p.lexically_normal().generic_string(); }

}  // namespace

const EmbeddedFile* FindEmbeddedFile(std::string_view path) {
  for (const EmbeddedFile& f : EmbeddedFiles())
    if (f.path == path) return &f;
  return nullptr;
}

Result<SourceFile> FileSystemReader::Read(const std::string& path, const std::string& relative_to) {
  namespace fs = std::filesystem;
  const bool from_builtin = relative_to.rfind(kBuiltinPrefix, 0) == 0;
  std::string disk_path = path;
  std::string builtin_path = path.rfind(kBuiltinPrefix, 0) == 0 ? path.substr(kBuiltinPrefix.size()) : path;
  if (!relative_to.empty() && fs::path(path).is_relative()) {
    const std::string base = from_builtin ? relative_to.substr(kBuiltinPrefix.size()) : relative_to;
    const fs::path dir = fs::path(base).parent_path();
    disk_path = Normalize(dir / path);
    builtin_path = Normalize(dir / path);
  }
  if (!from_builtin && path.rfind(kBuiltinPrefix, 0) != 0) {
    std::ifstream in(disk_path, std::ios::binary);
    if (in) {
      std::ostringstream text;
      text << in.rdbuf();
      if (in.bad()) return Internal(disk_path + ": read error");
      return SourceFile{disk_path, text.str()};
    }
    if (fs::exists(disk_path)) return Internal(disk_path + ": cannot be opened");
  }
  // Built-in files: by the resolved path, by the path as written, then among the shipped directories (so a
  // user's own cluster file can include "dgx-h100.toml" without a copy of it beside it).
  std::vector<std::string> candidates = {builtin_path, path};
  for (const char* dir : {"topologies/", "workloads/models/", "workloads/scenarios/"}) {
    candidates.push_back(dir + fs::path(path).filename().string());
  }
  for (const std::string& candidate : candidates) {
    if (const EmbeddedFile* f = FindEmbeddedFile(candidate)) {
      return SourceFile{std::string(kBuiltinPrefix) + candidate, std::string(f->contents)};
    }
  }
  return NotFound(disk_path + ": no such file");
}

Result<SourceFile> ReadInput(AppContext& ctx, const std::string& arg, InputKind kind) {
  auto direct = ctx.reader.Read(arg, "");
  if (direct.ok() || direct.status().code() != StatusCode::kNotFound) return direct;
  // A bare name: look among the shipped files of that kind.
  const char* dir = kind == InputKind::kTopology   ? "topologies/"
                    : kind == InputKind::kModel    ? "workloads/models/"
                    : kind == InputKind::kScenario ? "workloads/scenarios/"
                                                   : nullptr;
  if (dir != nullptr && arg.find('/') == std::string::npos) {
    for (const char* ext : {".toml", ".json", ""}) {
      auto named = ctx.reader.Read(std::string(kBuiltinPrefix) + dir + arg + ext, "");
      if (named.ok()) return named;
    }
    std::string known;
    for (const EmbeddedFile& f : EmbeddedFiles()) {
      if (f.path.rfind(dir, 0) != 0) continue;
      std::string name(f.path.substr(std::string_view(dir).size()));
      name = name.substr(0, name.rfind('.'));
      known += (known.empty() ? "" : ", ") + name;
    }
    return NotFound(arg + ": no such file" +
                    (known.empty() ? "" : ", and no shipped one of that name (shipped: " + known + ")"));
  }
  return direct;
}

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

}  // namespace wiresim::app
