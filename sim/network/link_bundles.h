// LinkBundles: the links of a topology grouped into bundles that every route seen so far crosses whole, with its
// bytes split in proportion to the links' capacities: the NVLinks from a GPU to its NVSwitches, the uplinks from a
// leaf to every spine, a GPU's PCIe link and the link from its switch to its NIC. For max-min sharing a bundle is one
// link whose capacity is the sum of its members' (each member's constraint is the bundle's, scaled), so a flow
// network that works on bundles does the same work for a 38-link route over a fat tree as for a 6-link one, and
// gives the same rates.
//
// The partition is refined as routes arrive: a route that crosses only part of a bundle, or crosses its links in
// other proportions, splits it, and the caller moves the flows already on it (Split).
//
//   LinkBundles bundles(topo);
//   std::vector<LinkBundles::Part> parts;
//   std::vector<LinkBundles::Split> splits;
//   bundles.Map(*route, &parts, &splits);   // parts: (bundle, the route's share of it); apply splits first
#pragma once

#include <cstdint>
#include <vector>

#include "sim/topology/routing.h"
#include "sim/topology/topology.h"

namespace wiresim {

class LinkBundles {
 public:
  explicit LinkBundles(const Topology& topo);
  LinkBundles(const LinkBundles&) = delete;
  LinkBundles& operator=(const LinkBundles&) = delete;

  // A route's crossing of one bundle: `share` is the sum of its shares over the bundle's links (the fraction of its
  // bytes that crosses the bundle, counted once per link).
  struct Part {
    uint32_t bundle;
    double share;
  };
  // Bundle `from` lost links to bundle `to`: a flow that crossed `from` with weight w now crosses `to` with weight
  // w x fraction (the capacity `to` took from it), and `from` itself with w x its own remaining fraction (an entry
  // with from == to). Entries come grouped by `from`, its own entry first.
  struct Split {
    uint32_t from;
    uint32_t to;
    double fraction;
  };

  // Appends the bundles `route` crosses to `parts`, refining the partition first so that the route crosses each one
  // whole and in proportion to capacity; appends the refinements to `splits`. Links of different kinds never share
  // a bundle (a transfer's efficiency is per link kind).
  void Map(const Route& route, std::vector<Part>* parts, std::vector<Split>* splits);

  // The bundle a link belongs to, or -1 when no route has crossed it yet.
  int64_t bundle_of(LinkId link) const { return bundle_of_[static_cast<size_t>(link)]; }
  size_t count() const { return bundles_.size(); }
  double capacity(uint32_t b) const { return bundles_[b].capacity; }  // bytes per second, over all members
  LinkKind kind(uint32_t b) const { return bundles_[b].kind; }
  const std::vector<LinkId>& links(uint32_t b) const { return bundles_[b].links; }

 private:
  struct Bundle {
    std::vector<LinkId> links;
    double capacity = 0;
    LinkKind kind = LinkKind::kNvLink;
  };
  uint32_t NewBundle(LinkKind kind);
  void Move(LinkId link, uint32_t to);
  // Splits bundle b so that the route's links in it form bundles of one share-per-capacity each.
  void Refine(uint32_t b, const Route& route, std::vector<Split>* splits);

  const Topology& topo_;
  std::vector<int64_t> bundle_of_;
  std::vector<double> link_capacity_;  // bytes per second
  std::vector<Bundle> bundles_;
  // Scratch, per bundle: the stamp of the last Map that touched it, its links on the route, their share and the
  // share per byte per second of the first (all must match).
  std::vector<uint32_t> stamp_;
  std::vector<uint32_t> on_route_;
  std::vector<double> share_;
  std::vector<double> ratio_;
  std::vector<uint8_t> uneven_;
  uint32_t current_ = 0;
  std::vector<uint32_t> touched_;
};

}  // namespace wiresim
