#include "sim/app/collective_options.h"

#include "sim/app/gpu_selection.h"

namespace wiresim::app {
namespace po = boost::program_options;

void CollectiveModelOptions::Add(po::options_description& options) {
  options.add_options()("algo", po::value(&algo_),
                        "allowed algorithms, as NCCL_ALGO: ring,tree,nvls,nvlstree,pat or ^nvls")(
      "proto", po::value(&proto_), "allowed protocols, as NCCL_PROTO: ll,ll128,simple or ^ll")(
      "launch-us", po::value(&launch_us_), "launch overhead per call in microseconds (default 5)")(
      "call-interval-us", po::value(&interval_us_),
      "a host-bound benchmark's time per call in microseconds: no call reads less (default 0: off)")(
      "buffsize", po::value(&buffsize_), "NCCL_BUFFSIZE: the Simple protocol's buffer per channel (default 4M)");
}

Result<CollectiveParams> CollectiveModelOptions::Params(const po::variables_map& vm) const {
  CollectiveParams params = CollectiveParams::Defaults();
  if (vm.count("launch-us")) {
    if (!(launch_us_ >= 0) || launch_us_ > 1e6) return InvalidArgument("--launch-us must be in [0, 1e6]");
    params.launch_overhead = Time::FromMicroseconds(launch_us_);
  }
  if (vm.count("call-interval-us")) {
    if (!(interval_us_ >= 0) || interval_us_ > 1e6) return InvalidArgument("--call-interval-us must be in [0, 1e6]");
    params.call_interval = Time::FromMicroseconds(interval_us_);
  }
  if (vm.count("buffsize")) {
    auto buffsize = ParseByteSize(buffsize_);
    // NCCL splits the buffer into NCCL_STEPS = 8 slots; a slot is the Simple protocol's chunk.
    if (!buffsize.ok() || *buffsize < 64 * 1024 || *buffsize > (1LL << 31)) {
      return InvalidArgument("--buffsize: expected a size from 64K to 2G");
    }
    params.chunk_bytes[static_cast<size_t>(Protocol::kSimple)] = *buffsize / 8;
  }
  return params;
}

Result<AlgorithmFilter> CollectiveModelOptions::Filter(const po::variables_map& vm) const {
  AlgorithmFilter filter;
  if (vm.count("algo")) {
    if (auto err = ParseAlgorithmList(algo_, &filter)) return InvalidArgument("--algo: " + *err);
  }
  if (vm.count("proto")) {
    if (auto err = ParseProtocolList(proto_, &filter)) return InvalidArgument("--proto: " + *err);
  }
  return filter;
}

}  // namespace wiresim::app
