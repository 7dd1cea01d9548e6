// AppContext: what a command needs from the outside world, gathered in one place so the verbs can be tested
// without a terminal or a file system: where to print, how to read input files, and how to write outputs (to a
// temporary name, then renamed, so an interrupted run never leaves a half-written file).
//
//   AppContext ctx = AppContext::ForProcess();
//   WIRESIM_ASSIGN_OR_RETURN(SourceFile f, ReadInput(ctx, "dgx-h100", InputKind::kTopology));
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <string_view>

#include "sim/core/output_file.h"  // WriteFileAtomically, used by every verb that writes a file
#include "sim/core/source.h"
#include "sim/core/status.h"

namespace wiresim::app {

// Reads files from disk; when a path does not exist there, from the files built into the binary (by their path
// in the source tree, or relative to the built-in file that refers to them).
class FileSystemReader : public SourceReader {
 public:
  // An input read whole is at most 1 GiB: far above any topology, model, profile, log or result file (a trace is
  // streamed line by line instead, sim/serving/trace.cc), and a bound for a file that never ends (/dev/zero, a
  // stream) or a wrong one, which would otherwise fill memory. Past it: an error naming the file, exit 2.
  static constexpr size_t kMaxInputBytes = size_t{1} << 30;

  explicit FileSystemReader(size_t max_bytes = kMaxInputBytes) : max_bytes_(max_bytes) {}
  Result<SourceFile> Read(const std::string& path, const std::string& relative_to) override;

 private:
  size_t max_bytes_;
};

struct AppContext {
  std::ostream& out;
  std::ostream& err;
  SourceReader& reader;
  bool interactive = false;  // stdout is a terminal: progress lines are welcome
};

// What kind of input a name refers to; decides where a bare name ("dgx-h100") is looked up.
enum class InputKind { kTopology, kModel, kScenario, kOther };

// Whether `file` is one of the files shipped inside wiresim ("builtin:topologies/dgx-h100.toml"), not the user's.
bool IsShippedFile(const SourceFile& file);

// Reads a command-line input: a path, or the name of a shipped file ("dgx-h100" finds topologies/dgx-h100.toml).
Result<SourceFile> ReadInput(AppContext& ctx, const std::string& arg, InputKind kind);

}  // namespace wiresim::app
