#include "calibrate/gpu/check.h"
#include "calibrate/gpu/communicator.h"

namespace wiresim::calibrate {
namespace {

class LocalCommunicator : public Communicator {
 public:
  explicit LocalCommunicator(const std::vector<int>& devices) : devices_(devices), comms_(devices.size()) {
    NCCL_CHECK(ncclCommInitAll(comms_.data(), static_cast<int>(devices.size()), devices.data()));
  }
  ~LocalCommunicator() override {
    for (ncclComm_t c : comms_)
      if (c != nullptr) ncclCommDestroy(c);
  }
  int ranks() const override { return static_cast<int>(devices_.size()); }
  int local_ranks() const override { return ranks(); }
  int global_rank(int local) const override { return local; }
  int device(int local) const override { return devices_[static_cast<size_t>(local)]; }
  ncclComm_t comm(int local) const override { return comms_[static_cast<size_t>(local)]; }
  int nodes() const override { return 1; }
  double MeanOverRanks(double local_sum, int local_count) const override { return local_sum / local_count; }
  bool is_root() const override { return true; }
  void Abort() override {
    for (ncclComm_t& c : comms_) {
      if (c != nullptr) ncclCommAbort(c);
      c = nullptr;
    }
  }

 private:
  std::vector<int> devices_;
  std::vector<ncclComm_t> comms_;
};

}  // namespace

std::unique_ptr<Communicator> MakeLocalCommunicator(const std::vector<int>& devices) {
  return std::make_unique<LocalCommunicator>(devices);
}

}  // namespace wiresim::calibrate
