#include "calibrate/gpu/device_buffer.h"

#include <cstring>
#include <random>
#include <vector>

#include "calibrate/gpu/check.h"

namespace wiresim::calibrate {

bool DeviceBuffer::Allocate(size_t bytes) {
  if (ptr_ != nullptr) cudaFree(ptr_);
  ptr_ = nullptr;
  bytes_ = 0;
  if (cudaMalloc(&ptr_, bytes) != cudaSuccess) {
    cudaGetLastError();  // clear the out-of-memory error
    ptr_ = nullptr;
    return false;
  }
  bytes_ = bytes;
  return true;
}

DeviceBuffer::~DeviceBuffer() {
  if (ptr_ != nullptr) cudaFree(ptr_);
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    if (ptr_ != nullptr) cudaFree(ptr_);
    ptr_ = other.ptr_;
    bytes_ = other.bytes_;
    other.ptr_ = nullptr;
  }
  return *this;
}

void FillRandom(void* dst, size_t bytes, const std::string& dtype, uint64_t seed) {
  const size_t chunk = std::min<size_t>(bytes, size_t{64} << 20);
  std::vector<uint8_t> host(chunk);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  if (dtype == "bfloat16" || dtype == "half") {
    for (size_t i = 0; i + 1 < chunk; i += 2) {
      const float f = uniform(rng);
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      uint16_t h;
      if (dtype == "bfloat16") {
        h = static_cast<uint16_t>(bits >> 16);
      } else {
        // float -> IEEE half for values in (-1, 1): sign, rebiased exponent, top 10 mantissa bits.
        const uint32_t sign = (bits >> 16) & 0x8000u;
        const int exp = static_cast<int>((bits >> 23) & 0xff) - 127 + 15;
        h = exp <= 0 ? static_cast<uint16_t>(sign)
                     : static_cast<uint16_t>(sign | (static_cast<uint32_t>(exp) << 10) | ((bits >> 13) & 0x3ffu));
      }
      std::memcpy(&host[i], &h, 2);
    }
  } else if (dtype == "float") {
    for (size_t i = 0; i + 3 < chunk; i += 4) {
      const float f = uniform(rng);
      std::memcpy(&host[i], &f, 4);
    }
  } else {
    // One-byte types: any byte but the NaN encodings of e4m3fn (0x7f, 0xff); keep magnitudes small.
    std::uniform_int_distribution<int> byte(0, 255);
    for (size_t i = 0; i < chunk; ++i) {
      uint8_t b = static_cast<uint8_t>(byte(rng)) & 0xbf;  // exponent top bit cleared: |x| < 2
      host[i] = b;
    }
  }
  for (size_t off = 0; off < bytes; off += chunk) {
    CUDA_CHECK(cudaMemcpy(static_cast<uint8_t*>(dst) + off, host.data(), std::min(chunk, bytes - off),
                          cudaMemcpyHostToDevice));
  }
}

}  // namespace wiresim::calibrate
