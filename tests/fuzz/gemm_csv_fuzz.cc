// Fuzz target: the CSV of GEMMs that `wiresim compute gemm --csv FILE` times (its reader lives in
// sim/app/compute_verbs.cc), run through the command in process with the input served as the file. The command must
// end with exit 0, or exit 2 and a message naming the file.
#include <sstream>

#include "sim/app/app_context.h"
#include "sim/app/cli.h"
#include "tests/fuzz/fuzz_support.h"

namespace wiresim::fuzz {
namespace {

// Serves the fuzzed input as `input.name`, the built-in files otherwise.
class InputReader : public SourceReader {
 public:
  explicit InputReader(const SourceFile& input) : input_(input) {}
  Result<SourceFile> Read(const std::string& path, const std::string& relative_to) override {
    if (path == input_.name) return input_;
    return builtin_.Read(path, relative_to);
  }

 private:
  const SourceFile& input_;
  ShippedFileReader builtin_;
};

void TimeGemms(const SourceFile& file) {
  InputReader reader(file);
  for (bool json : {false, true}) {
    std::ostringstream out, err;
    app::AppContext ctx{out, err, reader};
    std::vector<std::string> args = {"compute", "gemm", "--csv", file.name};
    if (json) args.push_back("--json");
    const int code = app::Main(args, ctx);
    if (code == app::kExitOk) continue;
    if (code != app::kExitBadInput) Fail("exit " + std::to_string(code) + ": " + err.str());
    if (err.str().find(file.name) == std::string::npos) Fail("an error that does not name the file: " + err.str());
    return;
  }
}

}  // namespace
}  // namespace wiresim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return wiresim::fuzz::Run(data, size, "gemms.csv", wiresim::fuzz::TimeGemms);
}
