#include "calibrate/table.h"

#include <cstdio>

#include "calibrate/sweep.h"

namespace wiresim::calibrate {

std::string CollectiveHeader(const std::string& op, const std::string& dtype, const std::vector<int>& gpus, int ranks,
                             int nodes) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "# %s %s over GPUs %s (%d ranks, %d node%s)\n"
                "#%11s %13s %9s %7s %7s %8s %7s %7s  %-6s %s\n"
                "#%11s %13s %9s %7s %7s %8s %7s %7s\n",
                op.c_str(), dtype.c_str(), FormatGpus(gpus).c_str(), ranks, nodes, nodes == 1 ? "" : "s", "size",
                "count", "type", "redop", "root", "time", "algbw", "busbw", "algo", "proto", "(B)", "(elements)", "",
                "", "", "(us)", "(GB/s)", "(GB/s)");
  return buf;
}

std::string CollectiveRow(const CollectiveEntry& e) {
  char buf[256];
  const bool rooted = e.op == "broadcast" || e.op == "reduce";
  std::snprintf(buf, sizeof buf, "%12lld %13lld %9s %7s %7d %8.2f %7.2f %7.2f  %-6s %s\n",
                static_cast<long long>(e.size), static_cast<long long>(e.count), e.dtype.c_str(),
                e.redop.empty() ? "none" : e.redop.c_str(), rooted ? 0 : -1, e.time_us, e.algbw_GBps, e.busbw_GBps,
                e.algorithm.empty() ? "-" : e.algorithm.c_str(), e.protocol.empty() ? "-" : e.protocol.c_str());
  return buf;
}

std::string GemmHeader() {
  char buf[256];
  std::snprintf(buf, sizeof buf, "#%7s %7s %7s %9s %10s %10s %10s %8s  %s\n", "m", "n", "k", "dtype", "time(us)",
                "p10(us)", "p90(us)", "TFLOP/s", "layer");
  return buf;
}

std::string GemmRow(const GemmEntry& e) {
  char buf[384];
  std::snprintf(buf, sizeof buf, "%8lld %7lld %7lld %9s %10.2f %10.2f %10.2f %8.1f  %s\n", static_cast<long long>(e.m),
                static_cast<long long>(e.n), static_cast<long long>(e.k), e.dtype.c_str(), e.time_us, e.p10_us,
                e.p90_us, e.tflops, e.label.c_str());
  return buf;
}

}  // namespace wiresim::calibrate
