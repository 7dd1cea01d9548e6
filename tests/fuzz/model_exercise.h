// Uses a model that loaded the way `wiresim model show` does: parameters, weight bytes, KV bytes and FLOPs.
#pragma once

#include "sim/model/model_file.h"
#include "sim/model/parameters.h"
#include "tests/fuzz/fuzz_support.h"

namespace wiresim::fuzz {

inline void LoadAndExerciseModel(const SourceFile& file) {
  Result<ModelSpec> model = LoadModel(file);
  if (!model.ok()) return CheckStatus(model.status(), file);
  (void)CountParameters(*model);
  (void)ModelWeightBytes(*model);
  (void)model->KvBytesPerToken();
  (void)CountFlopsPerToken(*model);
}

}  // namespace wiresim::fuzz
