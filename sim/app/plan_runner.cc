#include "sim/app/plan_runner.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#ifdef WIRESIM_HAVE_MPI
#include <mpi.h>
#endif

namespace wiresim::app {
namespace {

// Runs the tasks `mine` on `threads` threads; each thread takes the next task not yet taken.
std::vector<std::string> RunOnThreads(const std::vector<size_t>& mine, int threads,
                                      const std::function<std::string(size_t)>& task) {
  std::vector<std::string> out(mine.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t k = next++; k < mine.size(); k = next++) out[k] = task(mine[k]);
  };
  const int n = std::max(1, std::min<int>(threads, static_cast<int>(mine.size())));
  std::vector<std::thread> pool;
  for (int t = 1; t < n; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  return out;
}

class ThreadRunner : public PlanRunner {
 public:
  explicit ThreadRunner(int threads) : threads_(threads) {}
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int threads() const override { return threads_; }
  std::vector<std::string> Run(size_t count, const std::function<std::string(size_t)>& task) override {
    std::vector<size_t> all(count);
    for (size_t i = 0; i < count; ++i) all[i] = i;
    return RunOnThreads(all, threads_, task);
  }

 private:
  int threads_;
};

#ifdef WIRESIM_HAVE_MPI
class MpiRunner : public PlanRunner {
 public:
  MpiRunner(int threads) : threads_(threads) {
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiRunner() override { MPI_Finalize(); }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int threads() const override { return threads_; }

  std::vector<std::string> Run(size_t count, const std::function<std::string(size_t)>& task) override {
    std::vector<size_t> mine;
    for (size_t i = static_cast<size_t>(rank_); i < count; i += static_cast<size_t>(size_)) mine.push_back(i);
    const std::vector<std::string> done = RunOnThreads(mine, threads_, task);
    // Pack this rank's results as (length, bytes)..., gather every rank's pack on every rank.
    std::string pack;
    for (const std::string& s : done) {
      const uint64_t n = s.size();
      pack.append(reinterpret_cast<const char*>(&n), sizeof n);
      pack += s;
    }
    int len = static_cast<int>(pack.size());
    std::vector<int> lens(static_cast<size_t>(size_)), offsets(static_cast<size_t>(size_));
    MPI_Allgather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, MPI_COMM_WORLD);
    int total = 0;
    for (int r = 0; r < size_; ++r) {
      offsets[static_cast<size_t>(r)] = total;
      total += lens[static_cast<size_t>(r)];
    }
    std::string all(static_cast<size_t>(total), '\0');
    MPI_Allgatherv(pack.data(), len, MPI_CHAR, all.data(), lens.data(), offsets.data(), MPI_CHAR, MPI_COMM_WORLD);
    std::vector<std::string> out(count);
    for (int r = 0; r < size_; ++r) {
      size_t at = static_cast<size_t>(offsets[static_cast<size_t>(r)]);
      for (size_t i = static_cast<size_t>(r); i < count; i += static_cast<size_t>(size_)) {
        uint64_t n = 0;
        std::memcpy(&n, all.data() + at, sizeof n);
        at += sizeof n;
        out[i] = all.substr(at, n);
        at += n;
      }
    }
    return out;
  }

 private:
  int threads_;
  int rank_ = 0, size_ = 1;
};
#endif

}  // namespace

std::string PlanRunner::Describe() const {
  const std::string t = std::to_string(threads()) + (threads() == 1 ? " thread" : " threads");
  return size() > 1 ? std::to_string(size()) + " MPI ranks x " + t : t;
}

Result<std::unique_ptr<PlanRunner>> MakePlanRunner(int threads) {
  if (threads <= 0) threads = std::max(1u, std::thread::hardware_concurrency());
  const char* world = std::getenv("OMPI_COMM_WORLD_SIZE");
  const bool under_mpirun = world != nullptr && std::atoi(world) > 1;
  if (under_mpirun) {
#ifdef WIRESIM_HAVE_MPI
    return std::unique_ptr<PlanRunner>(std::make_unique<MpiRunner>(threads));
#else
    return FailedPrecondition(
        "wiresim plan: started by mpirun, but this wiresim was built without MPI (install libopenmpi-dev and "
        "rebuild), so every rank would run the whole search alone");
#endif
  }
  return std::unique_ptr<PlanRunner>(std::make_unique<ThreadRunner>(threads));
}

}  // namespace wiresim::app
