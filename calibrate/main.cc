// wiresim-calibrate: measures a GPU node (GEMMs, memory copies, NCCL collectives) and writes a calibration profile
// the simulator reads. See `wiresim-calibrate --help` and docs/guide/calibrate.md.
#include <cstdio>
#include <string>
#include <vector>

#include "calibrate/gpu/communicator.h"
#include "calibrate/gpu/runner.h"
#include "calibrate/options.h"
#include "calibrate/sweep.h"

int main(int argc, char** argv) {
  using namespace wiresim::calibrate;
  std::string mpi_error;
  std::unique_ptr<MpiSession> mpi = StartMpiIfLaunched(&argc, &argv, &mpi_error);
  try {
    if (!mpi_error.empty()) throw CalibrateError(mpi_error);
    std::string help;
    const Options o = ParseCommandLine(std::vector<std::string>(argv + 1, argv + argc), &help);
    if (o.verb == "help") {
      std::printf("%s", help.c_str());
      return argc > 1 ? 0 : 2;
    }
    if (o.verb == "devices") return ListDevices();
    if (o.verb == "plan") {
      const int gpus = o.gpus > 0 ? o.gpus : 8;
      std::string topo;
      if (!o.topo_file.empty()) {
        std::FILE* f = std::fopen(o.topo_file.c_str(), "r");
        if (f == nullptr) throw CalibrateError(o.topo_file + ": cannot be opened");
        char buf[4096];
        for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) topo.append(buf, n);
        std::fclose(f);
      }
      const Plan plan = MakePlan(o, gpus, NvlinkDomainsFromTopo(topo));
      if (o.json) {
        std::printf("%s", DescribeJson(plan, gpus).c_str());
        return 0;
      }
      std::printf("# plan for %d GPUs: %zu measurements\n%s", gpus, plan.measurements(), Describe(plan).c_str());
      return 0;
    }
    return RunCalibration(o, mpi.get());
  } catch (const CalibrateError& e) {
    std::fprintf(stderr, "wiresim-calibrate: %s\n", e.what());
    return 2;
  }
}
