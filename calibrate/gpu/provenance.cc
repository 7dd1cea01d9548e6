#include "calibrate/gpu/provenance.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "calibrate/gpu/check.h"

namespace wiresim::calibrate {

std::string CommandOutput(const std::string& command) {
  std::FILE* p = ::popen((command + " 2>/dev/null").c_str(), "r");
  if (p == nullptr) return "";
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  return ::pclose(p) == 0 ? out : "";
}

std::string FileText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

namespace {

std::string Version(int v, int major_div, int minor_div) {
  return std::to_string(v / major_div) + "." + std::to_string((v % major_div) / minor_div);
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Provenance CollectProvenance(const std::vector<int>& devices, const std::vector<std::string>& hosts,
                             const std::string& command) {
  Provenance p;
  p.tool = std::string("wiresim-calibrate ") + WIRESIM_VERSION;
  p.command = command;
  char date[32];
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &utc);
  p.date = date;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  p.hosts = hosts.empty() ? std::vector<std::string>{host} : hosts;
  int driver = 0, runtime = 0, nccl = 0;
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  ncclGetVersion(&nccl);
  p.cuda_driver_version = Version(driver, 1000, 10);
  p.cuda_runtime_version = Version(runtime, 1000, 10);
  p.nccl_version =
      std::to_string(nccl / 10000) + "." + std::to_string((nccl % 10000) / 100) + "." + std::to_string(nccl % 100);
  const size_t cublas = cublasLtGetVersion();
  p.cublas_version = std::to_string(cublas / 10000) + "." + std::to_string((cublas % 10000) / 100) + "." +
                     std::to_string(cublas % 100);
  p.driver_version = Trim(CommandOutput("nvidia-smi --query-gpu=driver_version --format=csv,noheader -i 0"));
  p.nvidia_smi_topo = CommandOutput("nvidia-smi topo -m");
  for (int d : devices) {
    cudaDeviceProp prop{};
    CUDA_CHECK(cudaGetDeviceProperties(&prop, d));
    GpuInfo g;
    g.index = d;
    g.host = host;
    g.name = prop.name;
    g.sm = std::to_string(prop.major) + "." + std::to_string(prop.minor);
    g.sm_count = prop.multiProcessorCount;
    g.memory_bytes = static_cast<int64_t>(prop.totalGlobalMem);
    char bus[32];
    std::snprintf(bus, sizeof bus, "%04x:%02x:%02x.0", prop.pciDomainID, prop.pciBusID, prop.pciDeviceID);
    g.pci_bus_id = bus;
    int khz = 0;
    if (cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, d) == cudaSuccess) g.clock_mhz = khz / 1000;
    if (cudaDeviceGetAttribute(&khz, cudaDevAttrMemoryClockRate, d) == cudaSuccess) g.memory_clock_mhz = khz / 1000;
    g.l2_bytes = prop.l2CacheSize;
    p.gpus.push_back(g);
  }
  p.ranks = static_cast<int>(hosts.empty() ? devices.size() : hosts.size());
  std::vector<std::string> distinct;
  for (const auto& h : p.hosts)
    if (std::find(distinct.begin(), distinct.end(), h) == distinct.end()) distinct.push_back(h);
  p.nodes = static_cast<int>(distinct.size());
  return p;
}

}  // namespace wiresim::calibrate
