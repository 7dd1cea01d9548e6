// Where `wiresim plan` runs its tasks: threads on this machine, and, when the process was started by mpirun (Open
// MPI), every rank of the job. Tasks are dealt out by index (task i to rank i mod size), each rank runs its share on
// its threads, and every rank gets every result back in task order, so each goes on with the same list and rank 0
// prints the same ranking a single process would.
//
//   std::unique_ptr<PlanRunner> runner = MakePlanRunner(/*threads=*/0);   // 0: every core
//   if (runner->rank() == 0) print(...);
#pragma once

#include <memory>
#include <string>

#include "sim/app/plan_search.h"

namespace wiresim::app {

class PlanRunner : public TaskRunner {
 public:
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual int threads() const = 0;
  // "4 threads" or "2 MPI ranks x 4 threads".
  std::string Describe() const;
};

// MPI when the environment says mpirun started this process (OMPI_COMM_WORLD_SIZE) and the build has MPI; threads
// only otherwise. `threads` 0: the machine's cores (std::thread::hardware_concurrency). Errors: started by mpirun
// but built without MPI.
Result<std::unique_ptr<PlanRunner>> MakePlanRunner(int threads);

}  // namespace wiresim::app
