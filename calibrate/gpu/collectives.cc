#include "calibrate/gpu/collectives.h"

#include <chrono>
#include <thread>

#include "calibrate/gpu/check.h"
#include "calibrate/gpu/device_buffer.h"
#include "calibrate/sweep.h"

namespace wiresim::calibrate {
namespace {

ncclDataType_t NcclType(const std::string& dtype) {
  if (dtype == "float") return ncclFloat32;
  if (dtype == "half") return ncclFloat16;
  if (dtype == "bfloat16") return ncclBfloat16;
  if (dtype == "double") return ncclFloat64;
  if (dtype == "int32") return ncclInt32;
  if (dtype == "int8") return ncclInt8;
  if (dtype == "f8e4m3") return ncclFloat8e4m3;
  throw CalibrateError("dtype '" + dtype + "' has no NCCL type here");
}

// Bytes each rank's send and receive buffers need for a collective of nccl-tests size `size` over `ranks`.
std::pair<size_t, size_t> BufferBytes(const std::string& op, int64_t size, int ranks) {
  const size_t s = static_cast<size_t>(size);
  if (op == "all_gather") return {s / static_cast<size_t>(ranks), s};
  if (op == "reduce_scatter") return {s, s / static_cast<size_t>(ranks)};
  return {s, s};
}

struct Rank {
  int device = 0;
  ncclComm_t comm = nullptr;
  int rank = 0;
  cudaStream_t stream = nullptr;
  DeviceBuffer send, recv;
  cudaEvent_t start = nullptr, stop = nullptr;
};

}  // namespace

void RunCollectiveSweep(Communicator& comm, const CollectiveJob& job, const std::vector<int>& gpus, const Options& o,
                        LogTail* tuning, const std::function<void(const CollectiveEntry&)>& record,
                        std::vector<std::string>* notes, const std::function<bool()>& interrupted) {
  const int ranks = comm.ranks();
  const ncclDataType_t type = NcclType(o.nccl_dtype);
  const int dt = DtypeBytes(o.nccl_dtype);
  std::vector<Rank> local(static_cast<size_t>(comm.local_ranks()));
  for (size_t l = 0; l < local.size(); ++l) {
    Rank& r = local[l];
    r.device = comm.device(static_cast<int>(l));
    r.comm = comm.comm(static_cast<int>(l));
    r.rank = comm.global_rank(static_cast<int>(l));
    CUDA_CHECK(cudaSetDevice(r.device));
    CUDA_CHECK(cudaStreamCreateWithFlags(&r.stream, cudaStreamNonBlocking));
    CUDA_CHECK(cudaEventCreate(&r.start));
    CUDA_CHECK(cudaEventCreate(&r.stop));
  }
  auto cleanup = [&] {
    for (Rank& r : local) {
      cudaSetDevice(r.device);
      if (r.start) cudaEventDestroy(r.start);
      if (r.stop) cudaEventDestroy(r.stop);
      if (r.stream) cudaStreamDestroy(r.stream);
      r.send = DeviceBuffer();
      r.recv = DeviceBuffer();
    }
  };

  // Buffers for the largest size that fits; larger sizes are skipped with a note.
  std::vector<int64_t> sizes = job.sizes;
  while (!sizes.empty()) {
    const auto [sb, rb] = BufferBytes(job.op, sizes.back(), ranks);
    bool ok = true;
    for (Rank& r : local) {
      CUDA_CHECK(cudaSetDevice(r.device));
      ok = ok && r.send.Allocate(sb) && r.recv.Allocate(rb);
    }
    if (ok) {
      for (Rank& r : local) {
        CUDA_CHECK(cudaSetDevice(r.device));
        FillRandom(r.send.get(), sb, o.nccl_dtype, 7 + static_cast<uint64_t>(r.rank));
      }
      break;
    }
    notes->push_back(job.op + " " + std::to_string(sizes.back()) + " B on GPUs " + FormatGpus(gpus) +
                     " skipped: out of memory");
    sizes.pop_back();
  }

  auto launch = [&](int64_t size) {
    NCCL_CHECK(ncclGroupStart());
    for (Rank& r : local) {
      const size_t count = static_cast<size_t>(size / dt);
      const size_t per_rank = count / static_cast<size_t>(ranks);
      void* s = r.send.get();
      void* d = r.recv.get();
      if (job.op == "all_reduce") {
        NCCL_CHECK(ncclAllReduce(s, d, count, type, ncclSum, r.comm, r.stream));
      } else if (job.op == "all_gather") {
        NCCL_CHECK(ncclAllGather(s, d, per_rank, type, r.comm, r.stream));
      } else if (job.op == "reduce_scatter") {
        NCCL_CHECK(ncclReduceScatter(s, d, per_rank, type, ncclSum, r.comm, r.stream));
      } else if (job.op == "broadcast") {
        NCCL_CHECK(ncclBroadcast(s, d, count, type, 0, r.comm, r.stream));
      } else if (job.op == "alltoall") {
        const size_t chunk = per_rank * static_cast<size_t>(dt);
        for (int p = 0; p < ranks; ++p) {
          NCCL_CHECK(
              ncclSend(static_cast<char*>(s) + static_cast<size_t>(p) * chunk, per_rank, type, p, r.comm, r.stream));
          NCCL_CHECK(
              ncclRecv(static_cast<char*>(d) + static_cast<size_t>(p) * chunk, per_rank, type, p, r.comm, r.stream));
        }
      } else if (job.op == "sendrecv") {
        NCCL_CHECK(ncclSend(s, count, type, (r.rank + 1) % ranks, r.comm, r.stream));
        NCCL_CHECK(ncclRecv(d, count, type, (r.rank + ranks - 1) % ranks, r.comm, r.stream));
      }
    }
    NCCL_CHECK(ncclGroupEnd());
  };

  // Waits for every local stream; aborts the communicator on an NCCL error or after the timeout.
  auto wait = [&](const char* what, int64_t size) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.timeout_s);
    while (true) {
      bool done = true;
      for (Rank& r : local) {
        const cudaError_t e = cudaStreamQuery(r.stream);
        if (e == cudaErrorNotReady) {
          done = false;
        } else if (e != cudaSuccess) {
          comm.Abort();
          throw SweepAborted(job.op + " " + std::to_string(size) + " B: " + cudaGetErrorString(e));
        }
        ncclResult_t async = ncclSuccess;
        if (r.comm != nullptr && ncclCommGetAsyncError(r.comm, &async) == ncclSuccess && async != ncclSuccess &&
            async != ncclInProgress) {
          comm.Abort();
          throw SweepAborted(job.op + " " + std::to_string(size) + " B: NCCL error: " + ncclGetErrorString(async));
        }
      }
      if (done) return;
      if (std::chrono::steady_clock::now() > deadline) {
        comm.Abort();
        throw SweepAborted(job.op + " " + std::to_string(size) + " B on GPUs " + FormatGpus(gpus) + ": " + what +
                           " did not finish within " + std::to_string(static_cast<int>(o.timeout_s)) +
                           " s; communicator aborted (a hung rank?)");
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  };

  try {
    for (int64_t size : sizes) {
      if (interrupted()) break;
      for (int w = 0; w < o.warmup; ++w) launch(size);
      wait("warm-up", size);
      if (tuning != nullptr) tuning->ReadNew();  // drop what warm-up logged
      for (Rank& r : local) CUDA_CHECK(cudaEventRecord(r.start, r.stream));
      for (int i = 0; i < o.iters; ++i) launch(size);
      for (Rank& r : local) CUDA_CHECK(cudaEventRecord(r.stop, r.stream));
      wait("timing", size);
      double sum_us = 0;
      for (Rank& r : local) {
        float ms = 0;
        CUDA_CHECK(cudaEventElapsedTime(&ms, r.start, r.stop));
        sum_us += ms * 1e3 / o.iters;
      }
      CollectiveEntry e;
      e.op = job.op;
      e.dtype = o.nccl_dtype;
      e.redop = job.op == "all_reduce" || job.op == "reduce_scatter" || job.op == "reduce" ? "sum" : "none";
      e.gpus = gpus;
      e.ranks = ranks;
      e.nodes = comm.nodes();
      e.size = size;
      e.count = NcclTestsCount(job.op, size, dt, ranks);
      e.time_us = comm.MeanOverRanks(sum_us, static_cast<int>(local.size()));
      e.algbw_GBps = static_cast<double>(size) / e.time_us / 1e3;
      e.busbw_GBps = e.algbw_GBps * BusFactor(job.op, ranks);
      e.source = "wiresim-calibrate";
      if (tuning != nullptr) {
        const TuningChoice c = MostFrequent(ParseTuningLines(tuning->ReadNew()), NcclFunctionName(job.op));
        e.algorithm = c.algorithm;
        e.protocol = c.protocol;
      }
      record(e);
    }
  } catch (...) {
    cleanup();
    throw;
  }
  cleanup();
}

}  // namespace wiresim::calibrate
