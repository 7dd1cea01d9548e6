#include "sim/collective/collective_op.h"

#include <string>

namespace wiresim {
namespace {

struct OpName {
  CollectiveOp op;
  std::string_view name;
};
constexpr OpName kOps[] = {
    {CollectiveOp::kAllReduce, "all_reduce"},
    {CollectiveOp::kAllGather, "all_gather"},
    {CollectiveOp::kReduceScatter, "reduce_scatter"},
    {CollectiveOp::kBroadcast, "broadcast"},
    {CollectiveOp::kReduce, "reduce"},
    {CollectiveOp::kAllToAll, "alltoall"},
    {CollectiveOp::kAllToAllV, "alltoallv"},
    {CollectiveOp::kSendRecv, "sendrecv"},
    {CollectiveOp::kSend, "send"},
};

}  // namespace

std::string_view ToString(CollectiveOp op) {
  for (const OpName& o : kOps)
    if (o.op == op) return o.name;
  return "?";
}

std::optional<CollectiveOp> ParseCollectiveOp(std::string_view name) {
  std::string n(name);
  if (n.size() > 5 && n.substr(n.size() - 5) == "_perf") n.resize(n.size() - 5);
  if (n == "allreduce") n = "all_reduce";
  if (n == "allgather") n = "all_gather";
  if (n == "reducescatter") n = "reduce_scatter";
  if (n == "all_to_all" || n == "all2all") n = "alltoall";
  if (n == "send_recv" || n == "p2p") n = "sendrecv";
  for (const OpName& o : kOps)
    if (o.name == n) return o.op;
  return std::nullopt;
}

double BusBandwidthFactor(CollectiveOp op, int ranks) {
  const double n = ranks;
  switch (op) {
    case CollectiveOp::kAllReduce:
      return 2.0 * (n - 1) / n;
    case CollectiveOp::kAllGather:
    case CollectiveOp::kReduceScatter:
    case CollectiveOp::kAllToAll:
    case CollectiveOp::kAllToAllV:
      return (n - 1) / n;
    case CollectiveOp::kBroadcast:
    case CollectiveOp::kReduce:
    case CollectiveOp::kSendRecv:
    case CollectiveOp::kSend:
      return 1.0;
  }
  return 1.0;
}

}  // namespace wiresim
