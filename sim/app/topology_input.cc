#include "sim/app/topology_input.h"

#include <string>

#include "sim/collective/gpu_arch.h"
#include "sim/compute/gpu_spec.h"
#include "sim/topology/topology_file.h"

namespace wiresim::app {

Result<Topology> LoadTopologyForVerb(const SourceFile& file, SourceReader& reader) {
  WIRESIM_ASSIGN_OR_RETURN(Topology topo, LoadTopology(file, reader));
  WIRESIM_RETURN_IF_ERROR(CheckGpuModels(topo));
  return topo;
}

Status CheckGpuModels(const Topology& topo) {
  for (NodeId id : topo.gpus()) {
    const NodeSpec& gpu = topo.node(id).spec;
    const std::string known = " (known: " + std::string(KnownGpuNames()) + ")";
    if (gpu.model.empty()) {
      return InvalidInput(gpu.origin, "model", "GPU " + gpu.name + " has no model" + known);
    }
    const GpuSpec* spec = FindGpuSpec(gpu.model);
    if (spec == nullptr) {
      return InvalidInput(
          gpu.origin, "model",
          "GPU " + gpu.name + " has model \"" + gpu.model + "\", which wiresim has no spec for" + known);
    }
    // The catalog takes short names ("4090") the collective part's generation table does not: ask for the full one.
    if (!GpuArchFromModel(gpu.model).known) {
      return InvalidInput(gpu.origin, "model",
                          "GPU " + gpu.name + ": write \"" + std::string(spec->name) + "\" for \"" + gpu.model +
                              "\" (the name the collective part knows the GPU generation of)");
    }
  }
  return Status::Ok();
}

}  // namespace wiresim::app
