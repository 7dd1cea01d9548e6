// The algorithms and protocols NCCL runs collectives with, by NCCL's names, and the filters `--algo`/`--proto`
// (like NCCL_ALGO / NCCL_PROTO) use to force or exclude them.
//
//   AlgorithmFilter f = *ParseAlgorithmFilter("ring,tree");   // only these
//   AlgorithmFilter g = *ParseAlgorithmFilter("^nvls");       // all but NVLS
//   bool ok = f.allows(Algorithm::kRing);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wiresim {

enum class Algorithm {
  kRing,      // ring of all ranks; across nodes, node-contiguous with one NIC (rail) per channel group
  kTree,      // NCCL's double binary tree: a chain inside each node, two binary trees across nodes
  kNvls,      // NVLink SHARP: the NVSwitch reduces and multicasts (Hopper and later, one NVLink domain)
  kNvlsTree,  // NVLS inside each node, binary trees across nodes
  kPat,       // parallel aggregated trees: log-step all-gather / reduce-scatter (one GPU per node)
  kDirect,    // point to point to every peer: all-to-all(v), send/recv
};
inline constexpr int kAlgorithmCount = 6;

enum class Protocol {
  kLL,      // 8-byte data + 8-byte flag stores: lowest latency, half the bandwidth
  kLL128,   // 120 data bytes per 128-byte line: NVLink-class latency at near full bandwidth
  kSimple,  // bulk copies with a handshake per chunk: full bandwidth, highest latency
};
inline constexpr int kProtocolCount = 3;

// NCCL's spelling: "Ring", "Tree", "NVLS", "NVLSTree", "PAT", "Direct"; "LL", "LL128", "Simple".
std::string_view ToString(Algorithm a);
std::string_view ToString(Protocol p);
// Case-insensitive; also accepts "nvls_tree".
std::optional<Algorithm> ParseAlgorithm(std::string_view name);
std::optional<Protocol> ParseProtocol(std::string_view name);

// Which algorithms and protocols may be chosen. The text form is NCCL_ALGO's: a comma-separated list to allow, or
// a list prefixed with '^' to exclude.
struct AlgorithmFilter {
  uint32_t algorithms = (1u << kAlgorithmCount) - 1;
  uint32_t protocols = (1u << kProtocolCount) - 1;

  bool allows(Algorithm a) const { return (algorithms >> static_cast<int>(a)) & 1u; }
  bool allows(Protocol p) const { return (protocols >> static_cast<int>(p)) & 1u; }
};

// Parses an algorithm list into filter->algorithms; on failure returns a message naming the unknown name.
std::optional<std::string> ParseAlgorithmList(std::string_view text, AlgorithmFilter* filter);
std::optional<std::string> ParseProtocolList(std::string_view text, AlgorithmFilter* filter);

}  // namespace wiresim
