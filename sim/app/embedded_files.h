// The files built into the wiresim binary: shipped topologies, model specs and scenarios, by their path in the
// source tree ("topologies/dgx-h100.toml"). They let `wiresim run` and `wiresim topo show dgx-h100` work from any
// directory; a file of the same path on disk, when given explicitly, is read instead.
#pragma once

#include <span>
#include <string_view>

namespace wiresim::app {

struct EmbeddedFile {
  std::string_view path;
  std::string_view contents;
};

std::span<const EmbeddedFile> EmbeddedFiles();
// nullptr when no file has that path.
const EmbeddedFile* FindEmbeddedFile(std::string_view path);

}  // namespace wiresim::app
