// What every fuzz target shares: the input as a SourceFile, a reader that serves only the shipped files (whatever
// an include names), and the rules a reader must keep on any input.
//
//   extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
//     return wiresim::fuzz::Run(data, size, "fuzz.toml", [](const wiresim::SourceFile& file) {
//       wiresim::fuzz::ExpectError(wiresim::ParseModelToml(file), file);
//     });
//   }
//
// The rules: a reader returns a value or a Status whose message names the file; it never lets an exception out
// (caught here, printed and turned into abort() so that libFuzzer and the replay driver report it) and never fails
// a check (which aborts by itself).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "sim/core/source.h"
#include "sim/core/status.h"

namespace wiresim::fuzz {

// Prints `what` and aborts: a finding.
[[noreturn]] inline void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz finding: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// A failed Status must say what is wrong and name the file it read (`file.name`).
inline void CheckStatus(const Status& status, const SourceFile& file) {
  if (status.ok()) return;
  if (status.message().empty()) Fail("an error without a message");
  if (status.message().find(file.name) == std::string::npos) {
    Fail("an error that does not name the file \"" + file.name + "\": " + status.message());
  }
}

// Runs `body` on the input as a file called `name`; an exception that escapes is a finding.
template <typename Body>
int Run(const uint8_t* data, size_t size, const char* name, Body&& body) {
  const SourceFile file{name, std::string(reinterpret_cast<const char*>(data), size)};
  try {
    body(file);
  } catch (const std::exception& e) {
    Fail(std::string("an exception escaped: ") + e.what());
  } catch (...) {
    Fail("an exception that is not a std::exception escaped");
  }
  return 0;
}

// Serves the shipped files (topologies/, workloads/ of the source tree) by path or by bare file name, as the
// command line serves its built-in copies of them to an include; everything else is NotFound, so no input makes a
// target open another file.
class ShippedFileReader : public SourceReader {
 public:
  Result<SourceFile> Read(const std::string& path, const std::string& relative_to) override;
};

}  // namespace wiresim::fuzz
