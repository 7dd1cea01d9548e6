#include "calibrate/gpu/gemm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "calibrate/gpu/check.h"
#include "calibrate/gpu/device_buffer.h"

namespace wiresim::calibrate {

struct GemmRunner::Impl {
  cublasLtHandle_t handle = nullptr;
  cudaStream_t stream = nullptr;
  DeviceBuffer workspace;
  DeviceBuffer scales;  // two floats of 1.0: the fp8 input scales
  int sm = 0;
  size_t l2 = 0;
};

namespace {

constexpr size_t kWorkspace = size_t{32} << 20;

cudaDataType_t InputType(const std::string& dtype) {
  if (dtype == "f8e4m3") return CUDA_R_8F_E4M3;
  if (dtype == "half") return CUDA_R_16F;
  return CUDA_R_16BF;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const double pos = p * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

}  // namespace

GemmRunner::GemmRunner() : impl_(new Impl) {
  int device = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  int major = 0, minor = 0, l2 = 0;
  CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device));
  CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device));
  impl_->sm = major * 10 + minor;
  impl_->l2 = static_cast<size_t>(l2);
  CUBLAS_CHECK(cublasLtCreate(&impl_->handle));
  CUDA_CHECK(cudaStreamCreateWithFlags(&impl_->stream, cudaStreamNonBlocking));
  if (!impl_->workspace.Allocate(kWorkspace) || !impl_->scales.Allocate(2 * sizeof(float))) {
    throw CalibrateError("cannot allocate the cuBLASLt workspace");
  }
  const float ones[2] = {1.0f, 1.0f};
  CUDA_CHECK(cudaMemcpy(impl_->scales.get(), ones, sizeof ones, cudaMemcpyHostToDevice));
}

GemmRunner::~GemmRunner() {
  if (impl_->stream) cudaStreamDestroy(impl_->stream);
  if (impl_->handle) cublasLtDestroy(impl_->handle);
  delete impl_;
}

bool GemmRunner::Measure(const GemmJob& job, const Options& options, GemmEntry* out, std::string* why) {
  const bool fp8 = job.dtype == "f8e4m3";
  if (fp8 && impl_->sm < 89) {
    *why = "fp8 GEMMs need sm_89 or later; this GPU is sm_" + std::to_string(impl_->sm);
    return false;
  }
  if (fp8 && (job.k % 16 != 0 || job.n % 16 != 0)) {
    *why = "fp8 GEMMs need n and k multiples of 16";
    return false;
  }
  const size_t in_bytes = fp8 ? 1 : 2;
  const size_t a_bytes = static_cast<size_t>(job.m * job.k) * in_bytes;  // activations [m x k]
  const size_t b_bytes = static_cast<size_t>(job.n * job.k) * in_bytes;  // weights [n x k]
  const size_t c_bytes = static_cast<size_t>(job.m * job.n) * 2;         // bf16 output
  const size_t set_bytes = a_bytes + b_bytes + c_bytes;
  size_t free_bytes = 0, total = 0;
  CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
  // Enough sets that cycling through them overflows the L2 cache three times over, within half the free memory.
  size_t sets = std::clamp<size_t>((3 * impl_->l2 + set_bytes - 1) / set_bytes, 1, 32);
  sets = std::min(sets, std::max<size_t>(1, free_bytes / 2 / set_bytes));
  if (set_bytes > free_bytes / 2) {
    *why = "out of memory (" + std::to_string(set_bytes >> 20) + " MiB per operand set)";
    return false;
  }
  std::vector<DeviceBuffer> a(sets), b(sets), c(sets);
  for (size_t s = 0; s < sets; ++s) {
    if (!a[s].Allocate(a_bytes) || !b[s].Allocate(b_bytes) || !c[s].Allocate(c_bytes)) {
      *why = "out of memory";
      return false;
    }
    if (s == 0) {
      FillRandom(a[0].get(), a_bytes, job.dtype, 1);
      FillRandom(b[0].get(), b_bytes, job.dtype, 2);
    } else {
      CUDA_CHECK(cudaMemcpy(a[s].get(), a[0].get(), a_bytes, cudaMemcpyDeviceToDevice));
      CUDA_CHECK(cudaMemcpy(b[s].get(), b[0].get(), b_bytes, cudaMemcpyDeviceToDevice));
    }
  }

  // Column-major cuBLASLt view: D[n x m] = op(W)[n x k] x X[k x m], with W stored k x n (TRANSA = T) and X stored
  // k x m: the row-major y[m x n] = x[m x k] W[n x k]^T of a linear layer.
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t la = nullptr, lb = nullptr, lc = nullptr;
  cublasLtMatmulPreference_t pref = nullptr;
  CUBLAS_CHECK(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
  CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
  CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
  if (fp8) {
    const float* scale = static_cast<const float*>(impl_->scales.get());
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &scale, sizeof scale));
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &scale, sizeof scale));
  }
  const cudaDataType_t in = InputType(job.dtype);
  CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&la, in, static_cast<uint64_t>(job.k), static_cast<uint64_t>(job.n), job.k));
  CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&lb, in, static_cast<uint64_t>(job.k), static_cast<uint64_t>(job.m), job.k));
  CUBLAS_CHECK(
      cublasLtMatrixLayoutCreate(&lc, CUDA_R_16BF, static_cast<uint64_t>(job.n), static_cast<uint64_t>(job.m), job.n));
  CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  const uint64_t ws = kWorkspace;
  CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws));
  cublasLtMatmulHeuristicResult_t heuristic{};
  int found = 0;
  const cublasStatus_t hs =
      cublasLtMatmulAlgoGetHeuristic(impl_->handle, desc, la, lb, lc, lc, pref, 1, &heuristic, &found);
  auto cleanup = [&] {
    cublasLtMatmulPreferenceDestroy(pref);
    cublasLtMatrixLayoutDestroy(la);
    cublasLtMatrixLayoutDestroy(lb);
    cublasLtMatrixLayoutDestroy(lc);
    cublasLtMatmulDescDestroy(desc);
  };
  if (hs != CUBLAS_STATUS_SUCCESS || found == 0) {
    cleanup();
    *why = "cuBLASLt offers no algorithm for this shape and type";
    return false;
  }
  const float alpha = 1.0f, beta = 0.0f;
  auto run = [&](size_t s) {
    CUBLAS_CHECK(cublasLtMatmul(impl_->handle, desc, &alpha, b[s].get(), la, a[s].get(), lb, &beta, c[s].get(), lc,
                                c[s].get(), lc, &heuristic.algo, impl_->workspace.get(), kWorkspace, impl_->stream));
  };

  cudaEvent_t t0, t1;
  CUDA_CHECK(cudaEventCreate(&t0));
  CUDA_CHECK(cudaEventCreate(&t1));
  // Warm-up: at least 5 runs and one pass over the sets; its duration sizes the timed part.
  const size_t warm = std::max<size_t>(5, sets);
  CUDA_CHECK(cudaEventRecord(t0, impl_->stream));
  for (size_t i = 0; i < warm; ++i) run(i % sets);
  CUDA_CHECK(cudaEventRecord(t1, impl_->stream));
  CUDA_CHECK(cudaEventSynchronize(t1));
  float warm_ms = 0;
  CUDA_CHECK(cudaEventElapsedTime(&warm_ms, t0, t1));
  const double each_s = std::max(1e-7, warm_ms * 1e-3 / static_cast<double>(warm));
  const int reps =
      static_cast<int>(std::clamp(options.gemm_seconds / each_s, static_cast<double>(options.gemm_min_reps), 2000.0));
  std::vector<cudaEvent_t> marks(static_cast<size_t>(reps) + 1);
  for (auto& e : marks) CUDA_CHECK(cudaEventCreate(&e));
  CUDA_CHECK(cudaEventRecord(marks[0], impl_->stream));
  for (int r = 0; r < reps; ++r) {
    run(static_cast<size_t>(r) % sets);
    CUDA_CHECK(cudaEventRecord(marks[static_cast<size_t>(r) + 1], impl_->stream));
  }
  CUDA_CHECK(cudaEventSynchronize(marks.back()));
  std::vector<double> us(static_cast<size_t>(reps));
  for (int r = 0; r < reps; ++r) {
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, marks[static_cast<size_t>(r)], marks[static_cast<size_t>(r) + 1]));
    us[static_cast<size_t>(r)] = ms * 1e3;
  }
  for (auto& e : marks) cudaEventDestroy(e);
  cudaEventDestroy(t0);
  cudaEventDestroy(t1);
  cleanup();

  out->m = job.m;
  out->n = job.n;
  out->k = job.k;
  out->dtype = job.dtype;
  out->label = job.label;
  out->repetitions = reps;
  out->time_us = Percentile(us, 0.5);
  out->p10_us = Percentile(us, 0.1);
  out->p90_us = Percentile(us, 0.9);
  out->min_us = *std::min_element(us.begin(), us.end());
  out->max_us = *std::max_element(us.begin(), us.end());
  out->tflops = 2.0 * static_cast<double>(job.m) * static_cast<double>(job.n) * static_cast<double>(job.k) /
                (out->time_us * 1e-6) / 1e12;
  return true;
}

}  // namespace wiresim::calibrate
