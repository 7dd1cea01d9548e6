// The ranks a collective sweep drives. Two kinds: every GPU of a group from this one process (one NCCL
// communicator per GPU, made by ncclCommInitAll), or one GPU per process under MPI (NCCL bootstrapped with a unique
// id broadcast over MPI, as nccl-tests does). The sweep code runs the same either way.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <cuda_runtime.h>
#include <nccl.h>

namespace wiresim::calibrate {

class Communicator {
 public:
  virtual ~Communicator() = default;
  // Ranks in the whole group, and the ones this process drives.
  virtual int ranks() const = 0;
  virtual int local_ranks() const = 0;
  virtual int global_rank(int local) const = 0;
  virtual int device(int local) const = 0;
  virtual ncclComm_t comm(int local) const = 0;
  // Machines the group spans.
  virtual int nodes() const = 0;
  // The mean over all ranks of per-rank values (this process passes its local sum and count).
  virtual double MeanOverRanks(double local_sum, int local_count) const = 0;
  // True in the process that prints and writes.
  virtual bool is_root() const = 0;
  // Aborts every communicator (a hung rank); the object is unusable afterwards.
  virtual void Abort() = 0;
};

// All of `devices`, driven from this process.
std::unique_ptr<Communicator> MakeLocalCommunicator(const std::vector<int>& devices);

// An MPI session, if this process runs under mpirun with more than one rank and wiresim-calibrate was built with
// MPI. Call first thing in main(); nullptr when not under MPI. `error` is set when MPI is needed but missing.
class MpiSession {
 public:
  virtual ~MpiSession() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual int local_rank() const = 0;                  // rank among the processes on this node
  virtual std::vector<std::string> hosts() const = 0;  // host of each rank
  // One communicator over all ranks, each on `device`.
  virtual std::unique_ptr<Communicator> WorldCommunicator(int device) = 0;
  virtual void Barrier() = 0;
  // Rank 0's value of a flag, on every rank.
  virtual bool BroadcastFlag(bool value) = 0;
};
std::unique_ptr<MpiSession> StartMpiIfLaunched(int* argc, char*** argv, std::string* error);

}  // namespace wiresim::calibrate
