// The collective model's options, shared by the verbs that run it (`collective`, `calibrate fit`): a calibration
// is fitted against a model, so fitting and predicting take the same options.
//
//   CollectiveModelOptions m;  m.Add(options);   ...parse...   WIRESIM_ASSIGN_OR_RETURN(params, m.Params(vm));
#pragma once

#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "sim/collective/algorithm.h"
#include "sim/collective/collective_params.h"
#include "sim/core/status.h"

namespace wiresim::app {

class CollectiveModelOptions {
 public:
  // --launch-us, --call-interval-us, --buffsize, --ranks-per-process, --algo, --proto, --nccl-version,
  // --model-constant, --pxn-disable.
  void Add(boost::program_options::options_description& options);
  // The parameters and the algorithm filter the options give; errors name the option.
  Result<CollectiveParams> Params(const boost::program_options::variables_map& vm) const;
  Result<AlgorithmFilter> Filter(const boost::program_options::variables_map& vm) const;

 private:
  double launch_us_ = -1;
  double interval_us_ = 0;
  std::string buffsize_;
  int ranks_per_process_ = 1;
  std::string algo_;
  std::string proto_;
  std::string nccl_version_;
  std::vector<std::string> constants_;
  bool pxn_disable_ = false;
};

}  // namespace wiresim::app
