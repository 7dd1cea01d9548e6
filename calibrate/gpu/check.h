// Turning CUDA, cuBLASLt and NCCL status codes into CalibrateError, with the call that failed.
#pragma once

#include <string>

#include <cublasLt.h>
#include <cuda_runtime.h>
#include <nccl.h>

#include "calibrate/profile.h"

namespace wiresim::calibrate {

inline void CheckCuda(cudaError_t err, const char* call) {
  if (err != cudaSuccess) throw CalibrateError(std::string(call) + ": " + cudaGetErrorString(err));
}
inline void CheckCublas(cublasStatus_t st, const char* call) {
  if (st != CUBLAS_STATUS_SUCCESS) throw CalibrateError(std::string(call) + ": cuBLAS status " + std::to_string(st));
}
inline void CheckNccl(ncclResult_t r, const char* call) {
  if (r != ncclSuccess && r != ncclInProgress) throw CalibrateError(std::string(call) + ": " + ncclGetErrorString(r));
}

}  // namespace wiresim::calibrate

#define CUDA_CHECK(call) ::wiresim::calibrate::CheckCuda((call), #call)
#define CUBLAS_CHECK(call) ::wiresim::calibrate::CheckCublas((call), #call)
#define NCCL_CHECK(call) ::wiresim::calibrate::CheckNccl((call), #call)
