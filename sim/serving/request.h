// Request: one user request as the serving simulation sees it: when it is sent, how long its prompt is, how many
// tokens it asks for, and (from a Mooncake trace) the hashes of its prompt's blocks, which prefix caching keys on.
// RequestSource hands requests over one at a time in arrival order, so a million-request trace or an endless
// synthetic stream never sits in memory whole.
//
//   std::unique_ptr<RequestSource> src = ...;   // MakeSyntheticSource(...) or OpenTrace(...), workload.h
//   while (true) {
//     WIRESIM_ASSIGN_OR_RETURN(std::optional<Request> r, src->Next());
//     if (!r) break;
//     ... r->arrival, r->input_tokens, r->output_tokens ...
//   }
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "sim/core/status.h"
#include "sim/core/time.h"

namespace wiresim {

struct Request {
  int64_t id = 0;          // 0, 1, 2, ... in arrival order
  Time arrival;            // when the client sends it (from the start of the run)
  int64_t input_tokens = 0;   // prompt length, >= 1
  int64_t output_tokens = 0;  // tokens generated, >= 1 (the first comes out of the prefill)
  // Mooncake's hash_ids: hash_ids[i] names the content of prompt tokens [i x B, (i + 1) x B), B = the trace's
  // hash block size (512 in Mooncake's traces). Two requests whose first k hashes agree share that prefix. Empty:
  // the prompt shares nothing.
  std::vector<int64_t> hash_ids;
};

class RequestSource {
 public:
  virtual ~RequestSource() = default;
  // The next request, in nondecreasing arrival order; nullopt when there are no more. An error (a broken trace
  // line) names the file and line, and ends the source.
  virtual Result<std::optional<Request>> Next() = 0;
};

}  // namespace wiresim
