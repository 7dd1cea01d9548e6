// Output files: a regular file is replaced whole (temporary and rename); a named pipe is written into and stays a
// pipe; "-" is standard output; a directory that cannot be written is refused with exit 2, the target and the
// system's reason named; a temporary left by a killed run is cleaned up by the next write.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/app/app_context.h"
#include "sim/app/cli.h"
#include "sim/core/output_file.h"
#include "tests/testing/cli.h"

namespace wiresim::app {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_CASE("A regular output file is replaced whole and no temporary is left beside it") {
  testing::ScratchDir dir("wiresim-output-regular");
  const std::string path = dir / "out.toml";
  REQUIRE(WriteFileAtomically(path, "old contents that are longer\n").ok());
  REQUIRE(WriteFileAtomically(path, "new\n").ok());
  CHECK(Slurp(path) == "new\n");
  int entries = 0;
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path())) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 1);
}

TEST_CASE("Output to a named pipe (-o PIPE) writes into the pipe and leaves it a pipe") {
  testing::ScratchDir dir("wiresim-output-fifo");
  const std::string fifo = dir / "pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // A reader on the other end, as a shell's `wiresim ... -o pipe & cat pipe` would have.
  std::string received;
  std::thread reader([&] {
    std::ifstream in(fifo, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    received = s.str();
  });
  const testing::CliRun r = testing::RunWiresim(
      {"topo", "import", std::string(WIRESIM_SOURCE_DIR) + "/tests/data/topology/smi_dgx_h100.txt", "-o", fifo});
  reader.join();
  INFO(r.err);
  CHECK(r.code == kExitOk);
  struct stat st {};
  REQUIRE(::stat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  // What came through the pipe is the topology the command prints with no -o.
  const testing::CliRun printed = testing::RunWiresim(
      {"topo", "import", std::string(WIRESIM_SOURCE_DIR) + "/tests/data/topology/smi_dgx_h100.txt"});
  CHECK(received == printed.out);
  CHECK(!received.empty());
}

TEST_CASE("Output to - (-o -) is standard output") {
  const testing::CliRun dash = testing::RunWiresim(
      {"topo", "import", std::string(WIRESIM_SOURCE_DIR) + "/tests/data/topology/smi_dgx_h100.txt", "-o", "-"});
  const testing::CliRun none = testing::RunWiresim(
      {"topo", "import", std::string(WIRESIM_SOURCE_DIR) + "/tests/data/topology/smi_dgx_h100.txt"});
  CHECK(dash.code == kExitOk);
  CHECK(dash.out == none.out);
  CHECK(!fs::exists("-"));
}

TEST_CASE("An unwritable directory is exit 2 naming the target and the reason") {
  if (::geteuid() == 0) {
    // root writes anywhere; a path under a regular file cannot be created by anyone.
    testing::ScratchDir dir("wiresim-output-unwritable");
    const std::string blocker = dir / "file";
    REQUIRE(WriteFileAtomically(blocker, "x").ok());
    const std::string target = blocker + "/sub/out.toml";
    const testing::CliRun r = testing::RunWiresim(
        {"topo", "import", std::string(WIRESIM_SOURCE_DIR) + "/tests/data/topology/smi_dgx_h100.txt", "-o", target});
    CHECK(r.code == kExitBadInput);
    CHECK_THAT(r.err, Catch::Matchers::Contains(target));
    CHECK_THAT(r.err, Catch::Matchers::Contains("Not a directory"));
    return;
  }
  testing::ScratchDir dir("wiresim-output-unwritable");
  const std::string locked = dir / "locked";
  fs::create_directories(locked);
  fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
  const std::string target = locked + "/out.toml";
  const testing::CliRun r = testing::RunWiresim(
      {"topo", "import", std::string(WIRESIM_SOURCE_DIR) + "/tests/data/topology/smi_dgx_h100.txt", "-o", target});
  fs::permissions(locked, fs::perms::owner_all);
  CHECK(r.code == kExitBadInput);
  CHECK_THAT(r.err, Catch::Matchers::Contains(target));
  CHECK_THAT(r.err, Catch::Matchers::Contains("Permission denied"));
}

TEST_CASE("Outputs a run could not write are refused before it runs, and nothing is created") {
  testing::ScratchDir dir("wiresim-output-early");
  const std::string file = dir / "file";
  REQUIRE(WriteFileAtomically(file, "x").ok());
  fs::create_directories(dir / "folder");
  CHECK(CheckOutputPath(dir / "new/deeper/out.json").ok());  // would be created
  CHECK(CheckOutputPath(dir / "new/out", /*directory=*/true).ok());
  CHECK(CheckOutputPath("/dev/null").ok());  // a device: written in place
  CHECK_FALSE(CheckOutputPath("").ok());
  CHECK_THAT(CheckOutputPath(dir / "folder").message(), Catch::Matchers::Contains("is a directory"));
  CHECK_THAT(CheckOutputPath(file, /*directory=*/true).message(),
             Catch::Matchers::Contains("exists and is not a directory"));
  CHECK_THAT(CheckOutputPath(file + "/sub/out.json").message(),
             Catch::Matchers::Contains(file + " is not a directory"));
  CHECK_FALSE(fs::exists(dir / "new"));  // checking creates nothing
  // A run given such a path stops before it simulates: exit 2, the flag named, no other output written.
  const std::vector<std::string> base = {"run",    "--topology", "dgx-h100",   "--model", "llama-3.2-1b",
                                         "--plan", "tp=1",       "--requests", "2",       "--quiet"};
  for (const auto& [flag, path] : std::vector<std::pair<std::string, std::string>>{
           {"--out", file}, {"--timeline", dir / "folder"}, {"--report", file + "/r.html"}}) {
    std::vector<std::string> args = base;
    args.insert(args.end(), {"--out", dir / "result", flag, path});
    if (flag == "--out") args.erase(args.end() - 4, args.end() - 2);
    const testing::CliRun r = testing::RunWiresim(args);
    INFO(flag << " " << path);
    CHECK(r.code == kExitBadInput);
    CHECK_THAT(r.err, Catch::Matchers::StartsWith("wiresim run: " + flag + " "));
    CHECK(r.out.empty());
    CHECK_FALSE(fs::exists(dir / "result"));
  }
  const testing::CliRun plan = testing::RunWiresim(
      {"plan", "--topology", "dgx-h100", "--model", "llama-3.2-1b", "--requests", "2", "--out", file});
  CHECK(plan.code == kExitBadInput);
  CHECK_THAT(plan.err, Catch::Matchers::Contains("--out " + file + ": exists and is not a directory"));
}

TEST_CASE("A temporary left by a killed run is removed by the next write to the same target") {
  testing::ScratchDir dir("wiresim-output-stale");
  const std::string path = dir / "summary.json";
  // A child process that exits at once: its pid is free afterwards, as a killed run's would be.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  REQUIRE(child > 0);
  int status = 0;
  ::waitpid(child, &status, 0);
  const std::string stale = dir / (".summary.json.wiresim-tmp." + std::to_string(child));
  { std::ofstream(stale) << "half a file"; }
  // Another target's temporary, and a running process's (ours), are not touched.
  const std::string other = dir / (".other.json.wiresim-tmp." + std::to_string(child));
  { std::ofstream(other) << "x"; }
  REQUIRE(WriteFileAtomically(path, "{}\n").ok());
  CHECK(!fs::exists(stale));
  CHECK(fs::exists(other));
  CHECK(Slurp(path) == "{}\n");
}

}  // namespace
}  // namespace wiresim::app
