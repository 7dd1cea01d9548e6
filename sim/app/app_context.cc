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

// "1 GiB", "64 KiB", or bytes: a power-of-two size as a reader would write it.
std::string ByteSize(size_t bytes) {
  if (bytes >= (size_t{1} << 30) && bytes % (size_t{1} << 30) == 0) return std::to_string(bytes >> 30) + " GiB";
  if (bytes >= (size_t{1} << 20) && bytes % (size_t{1} << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= (size_t{1} << 10) && bytes % (size_t{1} << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace

bool IsShippedFile(const SourceFile& file) { return file.name.rfind(kBuiltinPrefix, 0) == 0; }

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
    std::error_code ec;
    if (fs::is_directory(disk_path, ec)) return InvalidArgument(disk_path + ": a directory, expected a file");
    std::ifstream in(disk_path, std::ios::binary);
    if (in) {
      std::string text;
      std::vector<char> chunk(size_t{1} << 16);
      while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || in.gcount() > 0) {
        const size_t got = static_cast<size_t>(in.gcount());
        if (text.size() + got > max_bytes_) {
          return InvalidArgument(disk_path + ": longer than " + ByteSize(max_bytes_) +
                                 ", more than any input wiresim reads whole (a stream that never ends, or not the "
                                 "file meant?)");
        }
        text.append(chunk.data(), got);
      }
      if (in.bad()) return Internal(disk_path + ": read error");
      return SourceFile{disk_path, std::move(text)};
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

}  // namespace wiresim::app
