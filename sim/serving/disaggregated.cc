#include "sim/serving/disaggregated.h"

#include <algorithm>
#include <utility>

#include "sim/core/check.h"

namespace wiresim {

std::string_view ToString(KvTransferMode mode) {
  return mode == KvTransferMode::kLayerwise ? "layerwise" : "after_prefill";
}

std::optional<KvTransferMode> ParseKvTransferMode(std::string_view text) {
  if (text == "after_prefill" || text == "after-prefill") return KvTransferMode::kAfterPrefill;
  if (text == "layerwise") return KvTransferMode::kLayerwise;
  return std::nullopt;
}

Disaggregation::Disaggregation(Simulator& sim, Network& net, Router& router, const Topology& topo,
                               std::vector<Replica*> prefill, std::vector<Replica*> decode,
                               std::vector<std::vector<KvTransferLayout>> layouts, const DisaggregationOptions& options)
    : sim_(sim),
      net_(net),
      topo_(topo),
      prefill_(std::move(prefill)),
      decode_(std::move(decode)),
      layouts_(std::move(layouts)),
      options_(options) {
  WIRESIM_CHECK(!prefill_.empty() && !decode_.empty());
  WIRESIM_CHECK_EQ(layouts_.size(), prefill_.size());
  for (const Replica* r : decode_) WIRESIM_CHECK_EQ(r->dp_ranks(), 1);
  incoming_.assign(decode_.size(), 0);
  pairs_.resize(prefill_.size());
  for (size_t p = 0; p < prefill_.size(); ++p) {
    WIRESIM_CHECK_EQ(layouts_[p].size(), decode_.size());
    for (size_t d = 0; d < decode_.size(); ++d) {
      std::vector<PairRoute> routes;
      for (KvPairShare& s : PairShares(layouts_[p][d])) {
        PairRoute pr;
        pr.route = router.Find(topo.gpu(s.src_gpu), topo.gpu(s.dst_gpu));
        WIRESIM_CHECK(pr.route != nullptr) << "GPU " << s.src_gpu << " cannot reach GPU " << s.dst_gpu;
        TransferRequest probe;
        probe.route = pr.route;
        probe.efficiency = options_.efficiency;
        pr.rate = UncontendedRate(probe, topo);
        pr.share = std::move(s);
        routes.push_back(std::move(pr));
      }
      pairs_[p].push_back(std::move(routes));
    }
  }
}

Status Disaggregation::Fits(const Request& request) const { return decode_.front()->scheduler(0).Fits(request); }

void Disaggregation::OnSent(const Request& request, int replica, int dp_rank) {
  Pending& p = pending_[request.id];
  p.request = request;
  p.prefill_dp = dp_rank;
  p.record.request_id = request.id;
  p.record.prefill_replica = replica;
}

void Disaggregation::OnPrefillScheduled(int, int, const SchedulerStep& step) {
  // The step that samples a prompt's (only) token holds its last chunk; it launches one host overhead from now.
  const Time launch = sim_.Now() + options_.prefill_host_overhead;
  for (const ScheduledSequence& s : step.sequences) {
    if (!s.samples) continue;
    auto it = pending_.find(s.request_id);
    if (it != pending_.end()) it->second.launched = launch;
  }
}

int Disaggregation::PickDecode() {
  const size_t n = decode_.size();
  if (options_.decode_router == RouterPolicy::kRoundRobin || n == 1) {
    const size_t d = next_decode_ % n;
    next_decode_ = (next_decode_ + 1) % n;
    return static_cast<int>(d);
  }
  // Least loaded, a transfer under way counting as an outstanding request (ties: the lowest index).
  auto load = [&](size_t d) { return decode_[d]->outstanding(0) + incoming_[d]; };
  size_t best = 0;
  for (size_t d = 1; d < n; ++d) {
    if (options_.decode_router == RouterPolicy::kLeastKvUsage) {
      const double a = decode_[d]->kv_usage(0), b = decode_[best]->kv_usage(0);
      if (a < b || (a == b && load(d) < load(best))) best = d;
    } else if (load(d) < load(best)) {
      best = d;
    }
  }
  return static_cast<int>(best);
}

void Disaggregation::OnPrefillDone(int replica, int, int64_t request_id) {
  auto it = pending_.find(request_id);
  WIRESIM_CHECK(it != pending_.end()) << "request " << request_id << " was not sent to a prefill replica";
  Pending& p = it->second;
  const Time end = sim_.Now();
  const int d = PickDecode();
  ++incoming_[static_cast<size_t>(d)];
  p.record.decode_replica = d;
  p.record.prefill_done = end;
  const std::vector<PairRoute>& pairs = pairs_[static_cast<size_t>(replica)][static_cast<size_t>(d)];
  const double layers =
      static_cast<double>(layouts_[static_cast<size_t>(replica)][static_cast<size_t>(d)].layers.size());
  const double tokens = static_cast<double>(p.request.input_tokens);
  const double t0 = std::min(p.launched, end).ToSeconds();
  const double t1 = end.ToSeconds();
  p.undrained = p.undelivered = static_cast<int>(pairs.size());
  for (const PairRoute& pr : pairs) {
    const double per_layer = tokens * pr.share.bytes_per_token;
    const double n = static_cast<double>(pr.share.layers.size());
    double bytes = per_layer * n;
    p.record.bytes += bytes;
    if (options_.mode == KvTransferMode::kLayerwise) {
      // Layer l is ready at r_l = t0 + (l + 1) c, c = (t1 - t0) / L; on its pair the layers go one after another,
      // x = per_layer / rate each, so the pair's last byte leaves at f = max_k (r_{l_k} + (n - k) x). What is
      // left to send at t1 is (f - t1) x rate.
      const double c = (t1 - t0) / layers;
      const double x = per_layer / pr.rate;
      double f = t1;
      for (size_t k = 0; k < pr.share.layers.size(); ++k) {
        const double ready = t0 + static_cast<double>(pr.share.layers[k] + 1) * c;
        f = std::max(f, ready + (n - static_cast<double>(k)) * x);
      }
      bytes = std::min(bytes, (f - t1) * pr.rate);
    }
    TransferRequest req;
    req.route = pr.route;
    req.bytes = bytes;
    req.efficiency = options_.efficiency;
    net_.Transfer(req, {.on_drained = [this, request_id] { Drained(request_id); },
                        .on_delivered = [this, request_id] { Delivered(request_id); }});
  }
}

void Disaggregation::Drained(int64_t id) {
  Pending& p = pending_.at(id);
  if (--p.undrained == 0) {
    prefill_[static_cast<size_t>(p.record.prefill_replica)]->ReleaseHeld(id, p.prefill_dp);
  }
  if (p.undrained == 0 && p.undelivered == 0) pending_.erase(id);
}

void Disaggregation::Delivered(int64_t id) {
  Pending& p = pending_.at(id);
  if (--p.undelivered > 0) return;
  p.record.landed = sim_.Now();
  transfers_.push_back(p.record);
  const size_t d = static_cast<size_t>(p.record.decode_replica);
  --incoming_[d];
  // The decode instance recomputes the prompt's last token to sample the first output token (vLLM's scheduler,
  // _update_waiting_for_remote_kv: num_computed_tokens is one short of the prompt when all of it was received).
  Status s = decode_[d]->AddTransferred(p.request, 0, p.request.input_tokens - 1);
  if (!s.ok() && error_.ok()) {
    error_ = s;
    sim_.Stop();
  }
  if (p.undrained == 0) pending_.erase(id);
}

}  // namespace wiresim
