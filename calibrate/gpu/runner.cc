#include "calibrate/gpu/runner.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <unistd.h>

#include "calibrate/gpu/check.h"
#include "calibrate/gpu/collectives.h"
#include "calibrate/gpu/copy.h"
#include "calibrate/gpu/gemm.h"
#include "calibrate/gpu/provenance.h"
#include "calibrate/table.h"

namespace wiresim::calibrate {
namespace {

std::atomic<bool> g_interrupted{false};
void OnSignal(int) { g_interrupted = true; }

// Rewrites the profile at most once a second, and on demand.
class Saver {
 public:
  Saver(std::string path, bool enabled) : path_(std::move(path)), enabled_(enabled) {}
  void Maybe(const Profile& p) {
    if (std::chrono::steady_clock::now() - last_ >= std::chrono::seconds(1)) Now(p);
  }
  void Now(const Profile& p) {
    if (!enabled_) return;
    WriteProfileFile(path_, p);
    last_ = std::chrono::steady_clock::now();
  }

 private:
  std::string path_;
  bool enabled_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace

std::string ConfigureNcclLogging(std::string* topo_dump_path) {
  const std::string pid = std::to_string(::getpid());
  const std::string dir = std::filesystem::temp_directory_path().string();
  std::string log = dir + "/wiresim-calibrate-nccl-" + pid + ".log";
  if (std::getenv("NCCL_DEBUG") == nullptr) {
    ::setenv("NCCL_DEBUG", "INFO", 1);
    ::setenv("NCCL_DEBUG_SUBSYS", "TUNING", 1);
  }
  if (const char* f = std::getenv("NCCL_DEBUG_FILE")) {
    log = f;
  } else {
    ::setenv("NCCL_DEBUG_FILE", log.c_str(), 1);
  }
  *topo_dump_path = dir + "/wiresim-calibrate-topo-" + pid + ".xml";
  if (const char* t = std::getenv("NCCL_TOPO_DUMP_FILE")) {
    *topo_dump_path = t;
  } else {
    ::setenv("NCCL_TOPO_DUMP_FILE", topo_dump_path->c_str(), 1);
  }
  return log;
}

int ListDevices() {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    std::fprintf(stderr, "wiresim-calibrate devices: no CUDA device visible (%s)\n",
                 err == cudaSuccess ? "0 devices" : cudaGetErrorString(err));
    return 2;
  }
  std::vector<int> devices;
  for (int d = 0; d < count; ++d) devices.push_back(d);
  const Provenance p = CollectProvenance(devices, {}, "");
  std::printf("host %s: driver %s, CUDA driver %s, runtime %s, cuBLAS %s, NCCL %s\n", p.hosts[0].c_str(),
              p.driver_version.c_str(), p.cuda_driver_version.c_str(), p.cuda_runtime_version.c_str(),
              p.cublas_version.c_str(), p.nccl_version.c_str());
  for (const GpuInfo& g : p.gpus) {
    std::printf("GPU%d: %s, sm_%s, %d SMs, %.1f GiB, L2 %lld MiB, %d MHz, PCI %s\n", g.index, g.name.c_str(),
                g.sm.c_str(), g.sm_count, static_cast<double>(g.memory_bytes) / (1 << 30),
                static_cast<long long>(g.l2_bytes >> 20), g.clock_mhz, g.pci_bus_id.c_str());
  }
  return 0;
}

int RunCalibration(const Options& o, MpiSession* mpi) {
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  const bool root = mpi == nullptr || mpi->rank() == 0;
  std::string topo_dump;
  const std::string nccl_log = ConfigureNcclLogging(&topo_dump);

  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    throw CalibrateError("no CUDA device visible on " + std::string(mpi ? "this rank's node" : "this node"));
  }
  std::vector<int> devices;
  if (mpi != nullptr) {
    devices.push_back(mpi->local_rank() % count);
  } else {
    const int use = o.gpus > 0 ? std::min(o.gpus, count) : count;
    for (int d = 0; d < use; ++d) devices.push_back(d);
  }
  CUDA_CHECK(cudaSetDevice(devices[0]));

  Profile profile;
  if (root && !o.fresh && std::filesystem::exists(o.output)) profile = ReadProfileFile(o.output);
  const size_t had = profile.gemm.size() + profile.memory.size() + profile.collectives.size();
  const Provenance here = CollectProvenance(devices, mpi ? mpi->hosts() : std::vector<std::string>{}, o.command_line);
  if (had > 0 && !profile.provenance.gpus.empty() && profile.provenance.gpus[0].name != here.gpus[0].name) {
    throw CalibrateError(o.output + " holds measurements of " + profile.provenance.gpus[0].name + ", this node has " +
                         here.gpus[0].name + ": use another -o, or --fresh");
  }
  const std::string old_xml = profile.provenance.nccl_topo_xml;
  profile.provenance = here;
  profile.provenance.nccl_topo_xml = old_xml;

  // The plan: local groups on one node; under MPI one group of every rank.
  Plan plan = MakePlan(o, mpi ? 0 : static_cast<int>(devices.size()), NvlinkDomainsFromTopo(here.nvidia_smi_topo));
  if (mpi != nullptr && o.nccl) {
    std::vector<int> world(static_cast<size_t>(mpi->size()));
    for (int r = 0; r < mpi->size(); ++r) world[static_cast<size_t>(r)] = r;
    for (const std::string& op : o.ops) {
      CollectiveJob job{op, GpuGroup{"all", world}, {}};
      for (int64_t s : SizeSeries(o.min_bytes, o.max_bytes, o.factor)) {
        const int64_t unit = static_cast<int64_t>(DtypeBytes(o.nccl_dtype)) * mpi->size();
        const int64_t r = s / unit * unit;
        if (r > 0 && (job.sizes.empty() || job.sizes.back() != r)) job.sizes.push_back(r);
      }
      plan.collectives.push_back(job);
    }
  }
  const Plan todo = Remaining(plan, profile, o.nccl_dtype);
  if (root) {
    std::printf(
        "# wiresim-calibrate on %s: %d GPU%s (%s), writing %s\n# %zu measurements planned, %zu already in "
        "the profile\n%s",
        here.hosts[0].c_str(), here.ranks, here.ranks == 1 ? "" : "s", here.gpus[0].name.c_str(), o.output.c_str(),
        todo.measurements(), had, Describe(todo).c_str());
    std::fflush(stdout);
  }
  Saver saver(o.output, root);
  saver.Now(profile);
  size_t done = 0;
  const size_t total = todo.measurements();
  auto progress = [&] {
    ++done;
    if (root && isatty(STDERR_FILENO)) std::fprintf(stderr, "\r[%zu/%zu]", done, total);
  };

  if (root && !todo.gemms.empty()) {
    std::printf("%s", GemmHeader().c_str());
    GemmRunner gemm;
    for (const GemmJob& job : todo.gemms) {
      if (g_interrupted) break;
      GemmEntry e;
      std::string why;
      if (gemm.Measure(job, o, &e, &why)) {
        profile.gemm.push_back(e);
        std::printf("%s", GemmRow(e).c_str());
      } else {
        profile.notes.push_back("GEMM " + std::to_string(job.m) + "x" + std::to_string(job.n) + "x" +
                                std::to_string(job.k) + " " + job.dtype + " skipped: " + why);
      }
      progress();
      saver.Maybe(profile);
    }
    saver.Now(profile);
  }
  if (root && !todo.copies.empty() && !g_interrupted) {
    for (int64_t bytes : todo.copies) {
      MemoryEntry e;
      std::string why;
      if (MeasureCopy(bytes, &e, &why)) {
        profile.memory.push_back(e);
        std::printf("# d2d copy %lld B: %.2f us, %.1f GB/s (read + write)\n", static_cast<long long>(bytes), e.time_us,
                    e.bandwidth_GBps);
      } else {
        profile.notes.push_back("copy of " + std::to_string(bytes) + " B skipped: " + why);
      }
      progress();
    }
    saver.Now(profile);
  }
  if (mpi != nullptr) mpi->Barrier();

  LogTail tuning(nccl_log);
  auto interrupted = [&] { return mpi ? mpi->BroadcastFlag(g_interrupted) : g_interrupted.load(); };
  for (size_t i = 0; i < todo.collectives.size();) {
    // Jobs of one group run on one communicator.
    const GpuGroup group = todo.collectives[i].group;
    size_t j = i;
    while (j < todo.collectives.size() && todo.collectives[j].group.gpus == group.gpus) ++j;
    if (interrupted()) break;
    try {
      std::unique_ptr<Communicator> comm;
      if (mpi != nullptr) {
        comm = mpi->WorldCommunicator(devices[0]);
      } else {
        std::vector<int> group_devices;
        for (int g : group.gpus) group_devices.push_back(devices[static_cast<size_t>(g)]);
        comm = MakeLocalCommunicator(group_devices);
      }
      if (root && profile.provenance.nccl_topo_xml.empty()) profile.provenance.nccl_topo_xml = FileText(topo_dump);
      for (size_t k = i; k < j; ++k) {
        const CollectiveJob& job = todo.collectives[k];
        if (root) {
          std::printf("%s", CollectiveHeader(job.op, o.nccl_dtype, group.gpus, comm->ranks(), comm->nodes()).c_str());
        }
        RunCollectiveSweep(
            *comm, job, group.gpus, o, root ? &tuning : nullptr,
            [&](const CollectiveEntry& e) {
              progress();
              if (!root) return;
              profile.collectives.push_back(e);
              std::printf("%s", CollectiveRow(e).c_str());
              std::fflush(stdout);
              saver.Maybe(profile);
            },
            &profile.notes, interrupted);
      }
    } catch (const SweepAborted& e) {
      if (root) {
        profile.notes.push_back(e.what());
        std::fprintf(stderr, "wiresim-calibrate: %s\n", e.what());
      }
    }
    saver.Now(profile);
    i = j;
  }
  saver.Now(profile);
  if (root) {
    if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\n");
    std::printf("# wrote %s: %zu GEMMs, %zu copies, %zu collective sizes%s\n", o.output.c_str(), profile.gemm.size(),
                profile.memory.size(), profile.collectives.size(),
                g_interrupted ? " (interrupted: run again to continue)" : "");
  }
  return g_interrupted ? 130 : 0;
}

}  // namespace wiresim::calibrate
