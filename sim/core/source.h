// SourceReader: how parsers get the text of files they refer to (a topology's include, a scenario's model), so
// that no part below the command line touches the file system. The command line supplies one that reads files
// (and falls back to the files built into the binary); tests supply one that serves strings.
//
//   class MemoryReader : public SourceReader { ... };   // name -> text, for tests
//   Result<SourceFile> f = reader.Read("dgx-h100.toml", /*relative_to=*/"topologies/cluster.toml");
#pragma once

#include <string>

#include "sim/core/status.h"

namespace wiresim {

struct SourceFile {
  std::string name;  // as it should appear in messages: the path the user gave, or "builtin:NAME"
  std::string text;
};

class SourceReader {
 public:
  virtual ~SourceReader() = default;
  // Reads `path`. A relative path is looked up beside `relative_to` (a SourceFile name, or empty for the
  // working directory). Returns NotFound naming the path when there is no such file.
  virtual Result<SourceFile> Read(const std::string& path, const std::string& relative_to) = 0;
};

}  // namespace wiresim
