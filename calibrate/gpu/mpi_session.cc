// Multi-node runs under Open MPI: one process per GPU; NCCL bootstrapped from rank 0's unique id.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <mpi.h>
#include <unistd.h>

#include "calibrate/gpu/check.h"
#include "calibrate/gpu/communicator.h"

namespace wiresim::calibrate {
namespace {

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator(int rank, int size, int device, int nodes)
      : rank_(rank), size_(size), device_(device), nodes_(nodes) {
    ncclUniqueId id;
    if (rank == 0) NCCL_CHECK(ncclGetUniqueId(&id));
    MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, MPI_COMM_WORLD);
    CUDA_CHECK(cudaSetDevice(device));
    NCCL_CHECK(ncclCommInitRank(&comm_, size, id, rank));
  }
  ~MpiCommunicator() override {
    if (comm_ != nullptr) ncclCommDestroy(comm_);
  }
  int ranks() const override { return size_; }
  int local_ranks() const override { return 1; }
  int global_rank(int) const override { return rank_; }
  int device(int) const override { return device_; }
  ncclComm_t comm(int) const override { return comm_; }
  int nodes() const override { return nodes_; }
  double MeanOverRanks(double local_sum, int local_count) const override {
    double sums[2] = {local_sum, static_cast<double>(local_count)}, total[2];
    MPI_Allreduce(sums, total, 2, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    return total[0] / total[1];
  }
  bool is_root() const override { return rank_ == 0; }
  void Abort() override {
    if (comm_ != nullptr) ncclCommAbort(comm_);
    comm_ = nullptr;
  }

 private:
  int rank_, size_, device_, nodes_;
  ncclComm_t comm_ = nullptr;
};

class OpenMpiSession : public MpiSession {
 public:
  OpenMpiSession() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    char name[MPI_MAX_PROCESSOR_NAME] = {};
    int len = 0;
    MPI_Get_processor_name(name, &len);
    std::vector<char> all(static_cast<size_t>(size_) * MPI_MAX_PROCESSOR_NAME);
    MPI_Allgather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(), MPI_MAX_PROCESSOR_NAME, MPI_CHAR, MPI_COMM_WORLD);
    for (int r = 0; r < size_; ++r) hosts_.emplace_back(&all[static_cast<size_t>(r) * MPI_MAX_PROCESSOR_NAME]);
    for (int r = 0; r < rank_; ++r)
      if (hosts_[static_cast<size_t>(r)] == hosts_[static_cast<size_t>(rank_)]) ++local_rank_;
  }
  ~OpenMpiSession() override { MPI_Finalize(); }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  std::vector<std::string> hosts() const override { return hosts_; }
  std::unique_ptr<Communicator> WorldCommunicator(int device) override {
    std::vector<std::string> distinct;
    for (const auto& h : hosts_)
      if (std::find(distinct.begin(), distinct.end(), h) == distinct.end()) distinct.push_back(h);
    return std::make_unique<MpiCommunicator>(rank_, size_, device, static_cast<int>(distinct.size()));
  }
  void Barrier() override { MPI_Barrier(MPI_COMM_WORLD); }
  bool BroadcastFlag(bool value) override {
    int v = value ? 1 : 0;
    MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return v != 0;
  }

 private:
  int rank_ = 0, size_ = 1, local_rank_ = 0;
  std::vector<std::string> hosts_;
};

}  // namespace

std::unique_ptr<MpiSession> StartMpiIfLaunched(int* argc, char*** argv, std::string* /*error*/) {
  const char* size = std::getenv("OMPI_COMM_WORLD_SIZE");
  if (size == nullptr) size = std::getenv("PMI_SIZE");
  if (size == nullptr || std::atoi(size) <= 1) return nullptr;
  MPI_Init(argc, argv);
  return std::make_unique<OpenMpiSession>();
}

}  // namespace wiresim::calibrate
