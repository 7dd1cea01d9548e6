// A topology loaded for a verb: the topology part reads and validates the file; this adds the check that needs the
// other parts, kept here so that topology does not depend on compute: every GPU's model must be one the compute
// catalog has a spec for and the collective part knows the generation of (its NCCL constants come from it). An
// unknown model would otherwise run with another GPU's figures.
//
//   WIRESIM_ASSIGN_OR_RETURN(SourceFile file, ReadInput(ctx, "dgx-h100", InputKind::kTopology));
//   WIRESIM_ASSIGN_OR_RETURN(Topology topo, LoadTopologyForVerb(file, ctx.reader));
#pragma once

#include "sim/core/source.h"
#include "sim/core/status.h"
#include "sim/topology/topology.h"

namespace wiresim::app {

// LoadTopology, then CheckGpuModels.
Result<Topology> LoadTopologyForVerb(const SourceFile& file, SourceReader& reader);

// Errors name the node's file and line, the field `model`, the model given and the names wiresim knows.
Status CheckGpuModels(const Topology& topo);

}  // namespace wiresim::app
