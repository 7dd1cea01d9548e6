#include "sim/serving/link_use.h"

#include <algorithm>
#include <utility>

namespace wiresim {

LinkUseAccounting::LinkUseAccounting(const Topology& topo)
    : buckets_(static_cast<size_t>(topo.link_count())),
      bytes_(static_cast<size_t>(topo.link_count()), 0.0),
      busy_(static_cast<size_t>(topo.link_count())),
      busy_until_(static_cast<size_t>(topo.link_count())),
      pending_(static_cast<size_t>(topo.link_count()), 0.0) {}

void LinkUseAccounting::Add(const std::vector<LinkBytes>& per_byte, double scale, Time start, Time duration) {
  const Time end = start + duration;
  const size_t k = BucketIndex(start);
  for (const LinkBytes& lb : per_byte) {
    const auto l = static_cast<size_t>(lb.link);
    bytes_[l] += lb.bytes * scale;
    Bucket(lb.link, lb.bytes * scale, k);
    // Calls start in time order, so the union of busy intervals grows at its end only.
    const Time from = std::max(start, busy_until_[l]);
    if (end > from) {
      busy_[l] += end - from;
      busy_until_[l] = end;
    }
  }
}

void LinkUseAccounting::AddBytes(const std::vector<LinkBytes>& bytes, Time at) {
  if (bytes.empty()) return;
  busy_incomplete_ = true;
  const size_t k = BucketIndex(at);
  for (const LinkBytes& lb : bytes) {
    bytes_[static_cast<size_t>(lb.link)] += lb.bytes;
    Bucket(lb.link, lb.bytes, k);
  }
}

size_t LinkUseAccounting::BucketIndex(Time at) {
  if (static_cast<size_t>(at / bucket_width_) >= kBuckets) {
    FlushPending();
    while (static_cast<size_t>(at / bucket_width_) >= kBuckets) {
      // Twice as wide: bucket k takes old buckets 2k and 2k + 1.
      for (std::vector<double>& b : buckets_) {
        const size_t half = (b.size() + 1) / 2;
        for (size_t k = 0; k < half; ++k) b[k] = b[2 * k] + (2 * k + 1 < b.size() ? b[2 * k + 1] : 0.0);
        b.resize(half);
      }
      bucket_width_ = bucket_width_ + bucket_width_;
    }
    pending_k_ = static_cast<size_t>(at / bucket_width_);
  }
  return static_cast<size_t>(at / bucket_width_);
}

void LinkUseAccounting::Bucket(LinkId link, double bytes, size_t k) {
  if (bytes == 0.0) return;  // so that a link in pending_links_ has a sum above zero
  const auto l = static_cast<size_t>(link);
  if (k != pending_k_) {
    if (k < pending_k_) {  // an earlier bucket than the pending one: straight into it
      std::vector<double>& b = buckets_[l];
      if (b.size() <= k) b.resize(k + 1, 0.0);
      b[k] += bytes;
      return;
    }
    FlushPending();
    pending_k_ = k;
  }
  if (pending_[l] == 0.0) pending_links_.push_back(link);
  pending_[l] += bytes;
}

void LinkUseAccounting::FlushPending() {
  for (LinkId link : pending_links_) {
    const auto l = static_cast<size_t>(link);
    std::vector<double>& b = buckets_[l];
    if (b.size() <= pending_k_) b.resize(pending_k_ + 1, 0.0);
    b[pending_k_] += pending_[l];
    pending_[l] = 0.0;
  }
  pending_links_.clear();
}

std::vector<std::pair<Time, double>> LinkUseAccounting::Series(LinkId link, double capacity_bytes_per_s,
                                                               Time end) const {
  std::vector<std::pair<Time, double>> points;
  const size_t l = static_cast<size_t>(link);
  const size_t count = static_cast<size_t>(end / bucket_width_) + 1;
  const double per_bucket = capacity_bytes_per_s * bucket_width_.ToSeconds();
  for (size_t k = 0; k < count; ++k) {
    double bytes = l < buckets_.size() && k < buckets_[l].size() ? buckets_[l][k] : 0.0;
    if (k == pending_k_ && l < pending_.size()) bytes += pending_[l];
    points.emplace_back(bucket_width_ * static_cast<int64_t>(k), per_bucket > 0 ? bytes / per_bucket : 0.0);
  }
  return points;
}

LinkUseTimer::LinkUseTimer(Simulator& sim, CollectiveTimer& inner, ClosedFormCollectives& closed,
                           LinkUseAccounting& accounting, std::set<std::vector<int>> transfer_groups)
    : sim_(sim),
      inner_(inner),
      closed_(closed),
      accounting_(accounting),
      transfer_groups_(std::move(transfer_groups)) {}

Result<const std::vector<LinkBytes>*> LinkUseTimer::LoadPerByte(const CollectiveCall& call) {
  WIRESIM_ASSIGN_OR_RETURN(PreparedCollective * prepared, closed_.Prepared(call));
  WIRESIM_ASSIGN_OR_RETURN(CollectiveChoice choice, closed_.Choice(call));
  const auto key = std::make_tuple(static_cast<const PreparedCollective*>(prepared), choice.algorithm, choice.protocol);
  auto it = per_byte_.find(key);
  if (it == per_byte_.end()) {
    WIRESIM_ASSIGN_OR_RETURN(const CollectiveLinkLoad* load, closed_.LinkLoad(call));
    std::vector<LinkBytes> scaled = *load;
    for (LinkBytes& lb : scaled) lb.bytes /= call.bytes;
    it = per_byte_.emplace(key, std::move(scaled)).first;
  }
  return &it->second;
}

Status LinkUseTimer::Start(const CollectiveCall& call, std::function<void(size_t)> on_done) {
  if (call.bytes > 0 && call.gpus.size() > 1 && !transfer_groups_.contains(call.gpus)) {
    Result<const std::vector<LinkBytes>*> per_byte = LoadPerByte(call);
    // A call whose expansion is too large to enumerate is timed all the same; it loads no link here.
    if (!per_byte.ok()) return inner_.Start(call, std::move(on_done));
    // The time the closed form gives the call: the engine's own kernel when it runs it, else NCCL's.
    WIRESIM_ASSIGN_OR_RETURN(std::optional<Time> engine, closed_.Overridden(call));
    Time duration;
    if (engine.has_value()) {
      duration = *engine;
    } else {
      WIRESIM_ASSIGN_OR_RETURN(duration, closed_.Duration(call));
    }
    accounting_.Add(**per_byte, call.bytes, sim_.Now(), duration);
  }
  return inner_.Start(call, std::move(on_done));
}

std::vector<LinkUse> LinkUseAccounting::Collect(const Network* net) const {
  std::vector<LinkUse> use;
  for (size_t l = 0; l < bytes_.size(); ++l) {
    const auto id = static_cast<LinkId>(l);
    LinkUse u{id, bytes_[l], busy_[l]};
    if (net != nullptr) {
      u.bytes += net->ledger().bytes(id);
      u.busy += net->ledger().busy(id);
    }
    if (u.bytes > 0) use.push_back(u);
  }
  return use;
}

}  // namespace wiresim
