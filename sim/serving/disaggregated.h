// Disaggregated serving: prefill replicas and decode replicas, each with its own plan and GPUs, as vLLM's
// disaggregated prefill (NixlConnector) runs them. A request's prefill runs on a prefill replica as a request for
// one token (max_tokens = 1; that token is not the user's); its KV cache then moves over the run's Network to a
// decode replica, which admits the request when the KV has landed (its blocks taken from the decode replica's pool
// then, or the request waits in its queue), recomputes the prompt's last token to sample the first output token,
// and decodes the rest. The prefill replica keeps the request's blocks until its transfers have drained.
//
// When the KV moves:
//   after_prefill  every (sending GPU, receiving GPU) pair sends its whole share when the prefill step ends.
//   layerwise      layer l's KV is sent as soon as layer l of the prefill step is done, one layer after another
//                  on each pair. Layers are taken to finish evenly over the step (layer l of L at
//                  t0 + (l + 1)/L x (t1 - t0), t0 the step's launch, t1 its end). The part a pair sends while the
//                  step runs is timed at the pair's uncontended rate; what is left at t1 goes on the network.
//
//   Disaggregation pd(sim, net, router, topo, prefill, decode, layouts, options);
//   ServingRunOptions o;  o.handoff = &pd;
//   ServingRun run(sim, source, prefill, o, metrics);   // decode replicas report as replicas P, P+1, ...
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sim/core/simulator.h"
#include "sim/network/network.h"
#include "sim/serving/kv_transfer.h"
#include "sim/serving/replica.h"
#include "sim/serving/serving_run.h"
#include "sim/topology/routing.h"

namespace wiresim {

enum class KvTransferMode { kAfterPrefill, kLayerwise };
std::string_view ToString(KvTransferMode mode);  // "after_prefill", "layerwise"
// "after_prefill" (or "after-prefill") and "layerwise"; nullopt otherwise.
std::optional<KvTransferMode> ParseKvTransferMode(std::string_view text);

struct DisaggregationOptions {
  KvTransferMode mode = KvTransferMode::kAfterPrefill;
  RouterPolicy decode_router = RouterPolicy::kRoundRobin;  // among decode replicas, counting transfers under way
  Time prefill_host_overhead;  // a prefill step launches this long after it is formed (ReplicaOptions)
  LinkEfficiency efficiency;   // of the KV transfers on each kind of link (default: the datasheet rate)
};

// One request's KV transfer.
struct KvTransferRecord {
  int64_t request_id = 0;
  int prefill_replica = 0;
  int decode_replica = 0;  // 0-based among the decode replicas
  double bytes = 0;        // KV bytes moved (every pair together)
  Time prefill_done;       // the end of the prefill step that finished its prompt
  Time landed;             // every byte delivered at the decode replica
  Time duration() const { return landed - prefill_done; }
};

class Disaggregation : public PrefillHandoff {
 public:
  // layouts[p][d]: what prefill replica p sends to decode replica d. `net`, `router`, `topo` and the replicas must
  // outlive this object. REQUIRES: every decode replica has one DP rank.
  Disaggregation(Simulator& sim, Network& net, Router& router, const Topology& topo, std::vector<Replica*> prefill,
                 std::vector<Replica*> decode, std::vector<std::vector<KvTransferLayout>> layouts,
                 const DisaggregationOptions& options);
  Disaggregation(const Disaggregation&) = delete;
  Disaggregation& operator=(const Disaggregation&) = delete;

  Status Fits(const Request& request) const override;
  void OnSent(const Request& request, int replica, int dp_rank) override;
  void OnPrefillScheduled(int replica, int dp_rank, const SchedulerStep& step) override;
  void OnPrefillDone(int replica, int dp_rank, int64_t request_id) override;

  // Every finished transfer, in the order they landed.
  const std::vector<KvTransferRecord>& transfers() const { return transfers_; }
  // The first error met inside an event (a decode replica refused a request); the simulator was stopped.
  const Status& error() const { return error_; }

 private:
  struct Pending {
    Request request;
    int prefill_dp = 0;
    Time launched;  // launch of the step that holds the prompt's last chunk
    KvTransferRecord record;
    int undrained = 0;
    int undelivered = 0;
  };
  struct PairRoute {
    KvPairShare share;
    const Route* route = nullptr;
    double rate = 0;  // uncontended, bytes per second
  };
  int PickDecode();
  void Drained(int64_t id);
  void Delivered(int64_t id);

  Simulator& sim_;
  Network& net_;
  const Topology& topo_;
  std::vector<Replica*> prefill_;
  std::vector<Replica*> decode_;
  std::vector<std::vector<std::vector<PairRoute>>> pairs_;  // [p][d]
  std::vector<std::vector<KvTransferLayout>> layouts_;
  DisaggregationOptions options_;
  std::vector<int64_t> incoming_;  // per decode replica: transfers under way to it
  size_t next_decode_ = 0;
  std::unordered_map<int64_t, Pending> pending_;  // by request id; looked up, never iterated
  std::vector<KvTransferRecord> transfers_;
  Status error_;
};

}  // namespace wiresim
