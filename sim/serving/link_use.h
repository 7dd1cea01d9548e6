// Which links a serving run loaded, and how much: payload bytes and busy time per directed link, over the run.
//
// Two sources add up. Collectives that run as transfers on the run's Network (flows, KV-cache moves) are counted
// by the network's own LinkLedger. Collectives timed by their closed form never become transfers, so LinkUseTimer
// sits in front of the run's CollectiveTimer and, for each of those it starts, adds the bytes NCCL's chosen
// algorithm puts on each link (ClosedFormCollectives::LinkLoad) and marks those links busy for the collective's
// duration (overlapping collectives on one link count once: the union of their intervals).
//
//   LinkUseAccounting use(topo);
//   LinkUseTimer timer(sim, inner, closed, use, /*transfer_groups=*/shared);
//   ... the run uses `timer` as its CollectiveTimer; compiled iterations add their bodies' bytes to `use` ...
//   std::vector<LinkUse> links = use.Collect(network);   // network may be null
#pragma once

#include <functional>
#include <map>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "sim/collective/collective_timing.h"
#include "sim/core/simulator.h"
#include "sim/network/network.h"
#include "sim/topology/topology.h"

namespace wiresim {

struct LinkUse {
  LinkId link = -1;
  double bytes = 0;  // payload bytes carried
  Time busy;         // time it carried any traffic
};

// What the run counted itself (closed-form collectives, compiled iterations' bodies), link by link.
class LinkUseAccounting {
 public:
  explicit LinkUseAccounting(const Topology& topo);
  // `bytes` on each link, busy from `start` for `duration` (overlaps on a link count once; starts come in time order).
  void Add(const std::vector<LinkBytes>& per_byte, double scale, Time start, Time duration);
  // Bytes only, at `at`: a compiled iteration's body, whose collectives' own intervals the compiled form does not
  // keep.
  void AddBytes(const std::vector<LinkBytes>& bytes, Time at);
  // Every link that carried bytes, by link id: what was counted here plus `net`'s ledger (null: none).
  std::vector<LinkUse> Collect(const Network* net) const;
  // Whether some bytes came without their busy time (AddBytes): busy fractions are then incomplete.
  bool busy_incomplete() const { return busy_incomplete_; }

  // A link's utilisation over time from what was counted here (not the network's flows): one point per time bucket
  // at its start, bytes in the bucket / (capacity x the bucket's width). Buckets are 1 ms wide and double (adjacent
  // pairs merged) whenever the run outgrows kBuckets of them. Bytes count in the bucket where their collective
  // started (a compiled iteration's, where it was launched). `end`: the run's end (the last point's bucket).
  std::vector<std::pair<Time, double>> Series(LinkId link, double capacity_bytes_per_s, Time end) const;
  static constexpr size_t kBuckets = 512;

 private:
  // The bucket `at` falls in, widening the buckets first if the run has outgrown kBuckets of them.
  size_t BucketIndex(Time at);
  void Bucket(LinkId link, double bytes, size_t k);
  // Moves the pending bucket's sums into buckets_.
  void FlushPending();
  Time bucket_width_ = Time::Milliseconds(1);
  std::vector<std::vector<double>> buckets_;  // by link: a vector, since every collective adds to many links
  bool busy_incomplete_ = false;
  std::vector<double> bytes_;
  std::vector<Time> busy_;
  std::vector<Time> busy_until_;
  // The bucket calls are adding to now, dense over links (buckets_ is per link and scattered in memory: adding to
  // it call by call missed the cache on almost every link); moved into buckets_ when calls reach a later bucket.
  size_t pending_k_ = 0;
  std::vector<double> pending_;
  std::vector<LinkId> pending_links_;  // the links with a sum in pending_, in the order they got it
};

class LinkUseTimer : public CollectiveTimer {
 public:
  // `transfer_groups`: the groups (GPUs in call order) whose calls `inner` runs as transfers on the network, which
  // counts them itself; every other call is counted into `accounting` (not owned).
  LinkUseTimer(Simulator& sim, CollectiveTimer& inner, ClosedFormCollectives& closed, LinkUseAccounting& accounting,
               std::set<std::vector<int>> transfer_groups);

  Status Start(const CollectiveCall& call, std::function<void(size_t)> on_done) override;

 private:
  // The load of a call per byte of its size, cached by group (and all-to-all-v matrix) and NCCL's choice: a
  // choice's transfers scale with the size (every algorithm moves a fixed multiple of it over fixed routes).
  Result<const std::vector<LinkBytes>*> LoadPerByte(const CollectiveCall& call);

  Simulator& sim_;
  CollectiveTimer& inner_;
  ClosedFormCollectives& closed_;
  LinkUseAccounting& accounting_;
  std::set<std::vector<int>> transfer_groups_;
  std::map<std::tuple<const PreparedCollective*, Algorithm, Protocol>, std::vector<LinkBytes>> per_byte_;
};

}  // namespace wiresim
