// A block of device memory owned for a scope, and random, finite fill data (never zeros: they hide unwritten
// outputs and can run faster than real data).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <cuda_runtime.h>

namespace wiresim::calibrate {

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  // Allocates on the current device. Returns false (leaving the buffer empty) when memory runs out.
  bool Allocate(size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept : ptr_(other.ptr_), bytes_(other.bytes_) { other.ptr_ = nullptr; }
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* get() const { return ptr_; }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// Fills `bytes` of device memory at `dst` with random finite values of `dtype` ("bfloat16", "half", "float",
// "f8e4m3"...), seeded by `seed`. Generates at most 64 MiB on the host and repeats it.
void FillRandom(void* dst, size_t bytes, const std::string& dtype, uint64_t seed);

}  // namespace wiresim::calibrate
