// wiresim-calibrate: runs on a GPU node. This first version reports what the node offers (GPUs, driver, CUDA and
// NCCL versions); measurement verbs arrive with the calibration profile format.
//
//   wiresim-calibrate devices
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

int Devices() {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    std::fprintf(stderr, "wiresim-calibrate devices: no CUDA device visible (%s)\n",
                 err == cudaSuccess ? "0 devices" : cudaGetErrorString(err));
    return 2;
  }
  int driver = 0, runtime = 0, nccl = 0;
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  ncclGetVersion(&nccl);
  std::printf("driver CUDA %d.%d, runtime CUDA %d.%d, NCCL %d.%d.%d\n", driver / 1000, (driver % 1000) / 10,
              runtime / 1000, (runtime % 1000) / 10, nccl / 10000, (nccl % 10000) / 100, nccl % 100);
  for (int d = 0; d < count; ++d) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, d) != cudaSuccess) continue;
    std::printf("GPU%d: %s, sm_%d%d, %d SMs, %.1f GiB, PCI %04x:%02x:%02x\n", d, p.name, p.major, p.minor,
                p.multiProcessorCount, static_cast<double>(p.totalGlobalMem) / (1 << 30), p.pciDomainID, p.pciBusID,
                p.pciDeviceID);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string verb = argc > 1 ? argv[1] : "";
  if (verb == "--version") {
    std::printf("wiresim-calibrate %s\n", WIRESIM_VERSION);
    return 0;
  }
  if (verb == "devices") return Devices();
  std::fprintf(stderr,
               "usage: wiresim-calibrate devices     list the GPUs, driver, CUDA and NCCL versions of this node\n");
  return verb.empty() || verb == "--help" ? (verb.empty() ? 2 : 0) : 2;
}
