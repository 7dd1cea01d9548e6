#include "calibrate/gpu/copy.h"

#include <algorithm>
#include <vector>

#include "calibrate/gpu/check.h"
#include "calibrate/gpu/device_buffer.h"

namespace wiresim::calibrate {

bool MeasureCopy(int64_t bytes, MemoryEntry* out, std::string* why) {
  DeviceBuffer src, dst;
  const size_t n = static_cast<size_t>(bytes);
  if (!src.Allocate(n) || !dst.Allocate(n)) {
    *why = "out of memory for two buffers of " + std::to_string(bytes >> 20) + " MiB";
    return false;
  }
  FillRandom(src.get(), n, "float", 3);
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  for (int i = 0; i < 2; ++i) CUDA_CHECK(cudaMemcpyAsync(dst.get(), src.get(), n, cudaMemcpyDeviceToDevice, stream));
  std::vector<cudaEvent_t> marks(11);
  for (auto& e : marks) CUDA_CHECK(cudaEventCreate(&e));
  CUDA_CHECK(cudaEventRecord(marks[0], stream));
  for (size_t i = 1; i < marks.size(); ++i) {
    CUDA_CHECK(cudaMemcpyAsync(dst.get(), src.get(), n, cudaMemcpyDeviceToDevice, stream));
    CUDA_CHECK(cudaEventRecord(marks[i], stream));
  }
  CUDA_CHECK(cudaEventSynchronize(marks.back()));
  std::vector<double> us;
  for (size_t i = 1; i < marks.size(); ++i) {
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, marks[i - 1], marks[i]));
    us.push_back(ms * 1e3);
  }
  for (auto& e : marks) cudaEventDestroy(e);
  cudaStreamDestroy(stream);
  std::sort(us.begin(), us.end());
  out->kind = "d2d_copy";
  out->bytes = bytes;
  out->time_us = us[us.size() / 2];
  out->bandwidth_GBps = 2.0 * static_cast<double>(bytes) / (out->time_us * 1e-6) / 1e9;
  return true;
}

}  // namespace wiresim::calibrate
