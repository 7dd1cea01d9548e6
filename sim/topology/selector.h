// Selectors: how topology files name groups of nodes. A selector is a '/'-separated path whose segments are an
// exact name, `*` (any name), or `base[list]` where list is `*` or comma-separated indices and ranges, matching
// base0, base1, ...:
//
//   "gpu[*]"            every gpuN
//   "nvswitch[0-1]"     nvswitch0 and nvswitch1
//   "node[0,2]/nic[*]"  every NIC of hosts node0 and node2
//   "*/gpu[3]"          gpu3 of every host
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wiresim::internal {

class Selector {
 public:
  // nullopt (with `error` set) when the text is not a selector.
  static std::optional<Selector> Parse(std::string_view text, std::string* error);

  // True if `name` (a full '/'-separated node name) matches.
  bool Matches(std::string_view name) const;
  const std::string& text() const { return text_; }

 private:
  struct Segment {
    std::string base;
    bool any_name = false;                      // "*"
    bool indexed = false;                       // base[...]
    bool any_index = false;                     // base[*]
    std::vector<std::pair<long, long>> ranges;  // inclusive
  };
  static bool SegmentMatches(const Segment& seg, std::string_view part);

  std::string text_;
  std::vector<Segment> segments_;
};

}  // namespace wiresim::internal
