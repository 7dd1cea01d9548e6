// Built when Open MPI was not found: single-node runs only, and a clear message if launched under mpirun.
#include <cstdlib>

#include "calibrate/gpu/communicator.h"

namespace wiresim::calibrate {

std::unique_ptr<MpiSession> StartMpiIfLaunched(int*, char***, std::string* error) {
  const char* size = std::getenv("OMPI_COMM_WORLD_SIZE");
  if (size == nullptr) size = std::getenv("PMI_SIZE");
  if (size != nullptr && std::atoi(size) > 1) {
    *error =
        "launched under mpirun, but this wiresim-calibrate was built without MPI (install libopenmpi-dev "
        "and rebuild) ";
  }
  return nullptr;
}

}  // namespace wiresim::calibrate
