// Entry point of the `wiresim` command: builds the process's context and hands the arguments to cli.cc.
#include <iostream>

#include <unistd.h>

#include "sim/app/cli.h"

int main(int argc, char** argv) {
  wiresim::app::FileSystemReader reader;
  wiresim::app::AppContext ctx{std::cout, std::cerr, reader, ::isatty(STDOUT_FILENO) != 0};
  std::vector<std::string> args(argv + 1, argv + argc);
  return wiresim::app::Main(args, ctx);
}
