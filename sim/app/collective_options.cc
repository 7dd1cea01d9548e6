#include "sim/app/collective_options.h"

#include <stdexcept>

#include "sim/app/gpu_selection.h"
#include "sim/app/number_format.h"

namespace wiresim::app {
namespace po = boost::program_options;

void CollectiveModelOptions::Add(po::options_description& options) {
  options.add_options()("algo", po::value(&algo_),
                        "allowed algorithms, as NCCL_ALGO: ring,tree,nvls,nvlstree,pat or ^nvls")(
      "proto", po::value(&proto_), "allowed protocols, as NCCL_PROTO: ll,ll128,simple or ^ll")(
      "launch-us", po::value(&launch_us_), "launch overhead per call in microseconds (default 5)")(
      "call-interval-us", po::value(&interval_us_),
      "a host-bound benchmark's time per call in microseconds: no call reads less (default 0: off)")(
      "buffsize", po::value(&buffsize_), "NCCL_BUFFSIZE: the Simple protocol's buffer per channel (default 4M)")(
      "pxn-disable", po::bool_switch(&pxn_disable_),
      "as NCCL_PXN_DISABLE=1: a send between nodes leaves through the sender's own NIC, not the one on the "
      "receiver's rail")(
      "ranks-per-process", po::value(&ranks_per_process_),
      "ranks each process drives, consecutive ranks together (nccl-tests -g N -t T: N x T; default 1, as MPI, "
      "torchrun and serving engines run NCCL)")(
      "nccl-version", po::value(&nccl_version_),
      "the NCCL release to model, 2.18 to 2.30 (its tuning constants and algorithms; default the newest, 2.30.7)")(
      "model-constant", po::value(&constants_)->composing(),
      "NAME=VALUE: set one of the model's fitted constants (nvls_step_sync_us, nvls_fill_steps, "
      "nvls_tree_step_sync_us, nvls_tree_fill_steps, ring_local_copy, sm80_nvlink_step_factor, or per protocol "
      "sm80_nvlink_step_factor_ll, _ll128, _simple, p2p_efficiency); repeatable");
}

namespace {

// The fitted constants a run may set by name (docs/collectives.md says where each default comes from).
Status SetModelConstant(const std::string& text, CollectiveParams* params) {
  const size_t eq = text.find('=');
  const std::string name = text.substr(0, eq);
  const std::string known =
      "nvls_step_sync_us, nvls_fill_steps, nvls_tree_step_sync_us, nvls_tree_fill_steps, ring_local_copy, "
      "sm80_nvlink_step_factor, sm80_nvlink_step_factor_ll, sm80_nvlink_step_factor_ll128, "
      "sm80_nvlink_step_factor_simple or p2p_efficiency";
  if (eq == std::string::npos) return InvalidArgument("--model-constant: expected NAME=VALUE, got '" + text + "'");
  double value = 0;
  try {
    size_t used = 0;
    value = std::stod(text.substr(eq + 1), &used);
    if (used != text.size() - eq - 1) throw std::invalid_argument(text);
  } catch (const std::exception&) {
    return InvalidArgument("--model-constant " + name + ": expected a number, got '" + text.substr(eq + 1) + "'");
  }
  const auto in = [&](double lo, double hi) -> Status {
    if (!(value >= lo && value <= hi)) {
      return InvalidArgument("--model-constant " + name + ": expected a value in [" + Short(lo) + ", " + Short(hi) +
                             "], got " + text.substr(eq + 1));
    }
    return Status();
  };
  if (name == "nvls_step_sync_us") {
    WIRESIM_RETURN_IF_ERROR(in(0, 1000));
    params->nvls_step_sync = Time::FromMicroseconds(value);
  } else if (name == "nvls_fill_steps") {
    WIRESIM_RETURN_IF_ERROR(in(0, 100));
    params->nvls_fill_steps = value;
  } else if (name == "nvls_tree_step_sync_us") {
    WIRESIM_RETURN_IF_ERROR(in(0, 1000));
    params->nvls_tree_step_sync = Time::FromMicroseconds(value);
  } else if (name == "nvls_tree_fill_steps") {
    WIRESIM_RETURN_IF_ERROR(in(0, 100));
    params->nvls_tree_fill_steps = value;
  } else if (name == "ring_local_copy") {
    WIRESIM_RETURN_IF_ERROR(in(0, 10));
    params->ring_local_copy = value;
  } else if (name == "sm80_nvlink_step_factor") {
    WIRESIM_RETURN_IF_ERROR(in(0.1, 100));
    params->sm80_nvlink_step_factor = {value, value, value};
  } else if (name.starts_with("sm80_nvlink_step_factor_")) {
    // One protocol's steps (the array is indexed LL, LL128, Simple).
    const std::string proto = name.substr(std::string("sm80_nvlink_step_factor_").size());
    const int p = proto == "ll" ? 0 : proto == "ll128" ? 1 : proto == "simple" ? 2 : -1;
    if (p < 0) return InvalidArgument("--model-constant: unknown constant '" + name + "' (expected " + known + ")");
    WIRESIM_RETURN_IF_ERROR(in(0.1, 100));
    params->sm80_nvlink_step_factor[static_cast<size_t>(p)] = value;
  } else if (name == "p2p_efficiency") {
    WIRESIM_RETURN_IF_ERROR(in(0.01, 1));
    params->p2p_efficiency = value;
  } else {
    return InvalidArgument("--model-constant: unknown constant '" + name + "' (expected " + known + ")");
  }
  return Status();
}

}  // namespace

Result<CollectiveParams> CollectiveModelOptions::Params(const po::variables_map& vm) const {
  CollectiveParams params = CollectiveParams::Defaults();
  if (vm.count("nccl-version")) {
    auto version = ParseNcclVersion(nccl_version_);
    if (!version.ok()) return InvalidArgument("--nccl-version: " + version.status().message());
    params = CollectiveParams::ForNcclVersion(*version);
  }
  for (const std::string& c : constants_) WIRESIM_RETURN_IF_ERROR(SetModelConstant(c, &params));
  if (pxn_disable_) params.p2p_pxn = false;
  if (vm.count("launch-us")) {
    if (!(launch_us_ >= 0) || launch_us_ > 1e6) return InvalidArgument("--launch-us must be in [0, 1e6]");
    params.launch_overhead = Time::FromMicroseconds(launch_us_);
  }
  if (vm.count("call-interval-us")) {
    if (!(interval_us_ >= 0) || interval_us_ > 1e6) return InvalidArgument("--call-interval-us must be in [0, 1e6]");
    params.call_interval = Time::FromMicroseconds(interval_us_);
  }
  if (vm.count("ranks-per-process")) {
    if (ranks_per_process_ < 1 || ranks_per_process_ > (1 << 20)) {
      return InvalidArgument("--ranks-per-process must be a whole number from 1 to 2^20");
    }
    params.ranks_per_process = ranks_per_process_;
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
