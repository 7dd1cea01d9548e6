// LinkLedger: what a Network's links carried over a run, link by link: the payload bytes (each transfer's bytes x
// its route's share on the link, summed over transfers) and the busy time (how long the link was carrying bytes),
// plus the run's totals of bytes started and delivered, from which Network::CheckConservation tells whether every
// byte that left a sender arrived.
//
//   const LinkLedger& ledger = net.ledger();
//   double b = ledger.bytes(link);   // payload bytes the link carried
//   Time t = ledger.busy(link);      // time it carried them
//   utilisation = b / (capacity x duration); busy fraction = t / duration (docs/metrics.md, "Link utilisation")
#pragma once

#include <cstdint>
#include <vector>

#include "sim/core/time.h"
#include "sim/topology/topology.h"

namespace wiresim {

class LinkLedger {
 public:
  explicit LinkLedger(int64_t links) : bytes_(static_cast<size_t>(links), 0.0), busy_(static_cast<size_t>(links)) {}

  // Payload bytes the link carried (not wire bytes: a protocol's overhead is not counted).
  double bytes(LinkId link) const { return bytes_[static_cast<size_t>(link)]; }
  // Time the link was busy (see the network for what busy means there).
  Time busy(LinkId link) const { return busy_[static_cast<size_t>(link)]; }
  int64_t links() const { return static_cast<int64_t>(bytes_.size()); }

  // Bytes of the transfers started, and of those delivered (whole transfers: a transfer's bytes count once, when it
  // is delivered).
  double bytes_started() const { return bytes_started_; }
  double bytes_delivered() const { return bytes_delivered_; }
  int64_t transfers_started() const { return transfers_started_; }
  int64_t transfers_delivered() const { return transfers_delivered_; }

  // For the networks.
  void AddBytes(LinkId link, double bytes) { bytes_[static_cast<size_t>(link)] += bytes; }
  void AddBusy(LinkId link, Time t) { busy_[static_cast<size_t>(link)] += t; }
  void Started(double bytes, int64_t count = 1) {
    bytes_started_ += bytes * static_cast<double>(count);
    transfers_started_ += count;
  }
  void Delivered(double bytes, int64_t count = 1) {
    bytes_delivered_ += bytes * static_cast<double>(count);
    transfers_delivered_ += count;
  }

 private:
  std::vector<double> bytes_;
  std::vector<Time> busy_;
  double bytes_started_ = 0;
  double bytes_delivered_ = 0;
  int64_t transfers_started_ = 0;
  int64_t transfers_delivered_ = 0;
};

}  // namespace wiresim
