#include "sim/collective/collective_timing.h"

#include <algorithm>
#include <functional>
#include <utility>

namespace wiresim {

Time WithCalibration(Time simulated, Time modelled, std::optional<Time> calibrated) {
  if (calibrated && *calibrated > modelled) return simulated + (*calibrated - modelled);
  return simulated;
}

ClosedFormCollectives::ClosedFormCollectives(CollectiveModel& model, const AlgorithmFilter& filter,
                                             const CollectiveCalibration* calibration)
    : model_(model), filter_(filter), calibration_(calibration) {}

namespace {

size_t Mix(size_t h, size_t v) { return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)); }

}  // namespace

size_t ClosedFormCollectives::GroupKeyHash::operator()(const GroupView& k) const {
  size_t h = std::hash<int>()(static_cast<int>(std::get<0>(k)));
  for (int g : std::get<1>(k)) h = Mix(h, std::hash<int>()(g));
  h = Mix(h, std::hash<int>()(std::get<2>(k)));
  for (double d : std::get<3>(k)) h = Mix(h, std::hash<double>()(d));
  return Mix(h, std::get<4>(k) ? 1 : 0);
}

size_t ClosedFormCollectives::GroupKeyHash::operator()(const GroupKey& k) const {
  return (*this)(GroupView{std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k), std::get<4>(k)});
}

bool ClosedFormCollectives::GroupKeyEqual::operator()(const GroupView& a, const GroupKey& b) const {
  return std::get<0>(a) == std::get<0>(b) && std::get<2>(a) == std::get<2>(b) && std::get<4>(a) == std::get<4>(b) &&
         std::ranges::equal(std::get<1>(a), std::get<1>(b)) && std::ranges::equal(std::get<3>(a), std::get<3>(b));
}

size_t ClosedFormCollectives::SizeKeyHash::operator()(const SizeKey& k) const {
  return Mix(std::hash<const void*>()(k.first), std::hash<double>()(k.second));
}

Result<PreparedCollective*> ClosedFormCollectives::Prepared(const CollectiveCall& call) {
  const bool pattern_free = call.op != CollectiveOp::kAllToAllV;
  if (pattern_free && last_prepared_ != nullptr && call.op == last_op_ && call.root == last_root_ &&
      call.own_nic == last_own_nic_ && call.gpus == last_gpus_) {
    return last_prepared_;
  }
  // The matrix of an all-to-all-v is a pattern: normalised to its largest row or column sum (call.bytes), so
  // calls that differ only in scale share one preparation.
  std::vector<double> pattern;
  if (call.op == CollectiveOp::kAllToAllV && call.bytes > 0) {
    pattern.reserve(call.matrix_bytes.size());
    for (double b : call.matrix_bytes) pattern.push_back(b / call.bytes);
  }
  auto it = prepared_.find(GroupView{call.op, call.gpus, call.root, pattern, call.own_nic});
  if (it == prepared_.end()) {
    WIRESIM_ASSIGN_OR_RETURN(std::unique_ptr<PreparedCollective> p, model_.Prepare(call, {}));
    it = prepared_.emplace(GroupKey{call.op, call.gpus, call.root, std::move(pattern), call.own_nic}, std::move(p))
             .first;
  }
  if (pattern_free) {
    last_prepared_ = it->second.get();
    last_op_ = call.op;
    last_root_ = call.root;
    last_own_nic_ = call.own_nic;
    last_gpus_ = call.gpus;
  }
  return it->second.get();
}

Result<CollectiveChoice> ClosedFormCollectives::Choice(const CollectiveCall& call) {
  WIRESIM_ASSIGN_OR_RETURN(PreparedCollective * p, Prepared(call));
  return p->Choose(call.bytes, filter_);
}

Result<Time> ClosedFormCollectives::Duration(const CollectiveCall& call) {
  WIRESIM_ASSIGN_OR_RETURN(PreparedCollective * p, Prepared(call));
  const auto key = std::make_pair(static_cast<const PreparedCollective*>(p), call.bytes);
  if (key == last_duration_key_) return last_duration_;
  if (auto it = durations_.find(key); it != durations_.end()) {
    last_duration_key_ = key;
    last_duration_ = it->second;
    return it->second;
  }
  if (override_ != nullptr) {
    if (std::optional<Time> own = override_->Duration(call, *p)) {
      durations_.emplace(key, *own);
      return *own;
    }
  }
  WIRESIM_ASSIGN_OR_RETURN(Prediction pred, p->Predict(call.bytes, filter_));
  Time t = pred.time;
  if (calibration_ != nullptr) {
    if (std::optional<Time> c = calibration_->Calibrated(*p, pred.choice, call.bytes)) t = *c;
  }
  durations_.emplace(key, t);
  return t;
}

Result<const CollectiveLinkLoad*> ClosedFormCollectives::LinkLoad(const CollectiveCall& call) {
  WIRESIM_ASSIGN_OR_RETURN(PreparedCollective * p, Prepared(call));
  const auto key = std::make_pair(static_cast<const PreparedCollective*>(p), call.bytes);
  if (auto it = loads_.find(key); it != loads_.end()) return it->second.get();
  WIRESIM_ASSIGN_OR_RETURN(CollectiveChoice choice, p->Choose(call.bytes, filter_));
  WIRESIM_ASSIGN_OR_RETURN(CollectiveSchedule schedule, p->Expand(choice, call.bytes));
  // Each hop's bytes, then summed per link in the order they were added (a stable sort keeps it), so the sums are
  // those of a per-link array without one of the topology's size per call.
  std::vector<LinkBytes> hops;
  const auto add = [&](const ScheduledTransfer& t, double times) {
    if (t.route == nullptr || t.bytes <= 0) return;
    for (const RouteHop& hop : t.route->hops) hops.push_back(LinkBytes{hop.link, times * t.bytes * hop.share});
  };
  for (const ScheduledTransfer& t : schedule.transfers) add(t, 1);
  // A ring sends its edges' transfers once per step (its copies cross no link).
  if (schedule.ring) {
    for (const ScheduledTransfer& t : schedule.ring->edges) add(t, schedule.ring->steps);
  }
  std::stable_sort(hops.begin(), hops.end(), [](const LinkBytes& a, const LinkBytes& b) { return a.link < b.link; });
  auto load = std::make_unique<CollectiveLinkLoad>();
  for (size_t i = 0; i < hops.size();) {
    double sum = 0.0;
    size_t j = i;
    for (; j < hops.size() && hops[j].link == hops[i].link; ++j) sum += hops[j].bytes;
    if (sum > 0) load->push_back(LinkBytes{hops[i].link, sum});
    i = j;
  }
  return loads_.emplace(key, std::move(load)).first->second.get();
}

Result<std::optional<Time>> ClosedFormCollectives::Overridden(const CollectiveCall& call) {
  if (override_ == nullptr) return std::optional<Time>();
  WIRESIM_ASSIGN_OR_RETURN(PreparedCollective * p, Prepared(call));
  return override_->Duration(call, *p);
}

Status ClosedFormTimer::Start(const CollectiveCall& call, std::function<void(size_t)> on_done) {
  WIRESIM_ASSIGN_OR_RETURN(Time t, closed_.Duration(call));
  const size_t n = call.gpus.size();
  sim_.ScheduleAfter(t, [on_done = std::move(on_done), n] {
    for (size_t i = 0; i < n; ++i) on_done(i);
  });
  return Status::Ok();
}

struct FlowTimer::Running {
  std::shared_ptr<const CollectiveSchedule> schedule;
  std::unique_ptr<ScheduleRun> run;
};

FlowTimer::~FlowTimer() = default;

Status FlowTimer::Start(const CollectiveCall& call, std::function<void(size_t)> on_done) {
  // The engine's own kernels (inside one NVLink domain) keep their closed form, as do groups nothing else meets.
  WIRESIM_ASSIGN_OR_RETURN(std::optional<Time> own, closed_.Overridden(call));
  if (!own && private_.count(call.gpus) > 0) {
    WIRESIM_ASSIGN_OR_RETURN(Time t, closed_.Duration(call));
    own = t;
  }
  if (own) {
    const size_t n = call.gpus.size();
    sim_.ScheduleAfter(*own, [on_done = std::move(on_done), n] {
      for (size_t i = 0; i < n; ++i) on_done(i);
    });
    return Status::Ok();
  }
  WIRESIM_ASSIGN_OR_RETURN(PreparedCollective * p, closed_.Prepared(call));
  WIRESIM_ASSIGN_OR_RETURN(CollectiveChoice choice, p->Choose(call.bytes, closed_.filter()));
  const auto key = std::make_pair(static_cast<const PreparedCollective*>(p), call.bytes);
  auto it = schedules_.find(key);
  if (it == schedules_.end()) {
    WIRESIM_ASSIGN_OR_RETURN(CollectiveSchedule s, p->Expand(choice, call.bytes));
    it = schedules_.emplace(key, std::make_shared<const CollectiveSchedule>(std::move(s))).first;
  }
  Time extra = Time::Zero();
  if (closed_.calibration() != nullptr) {
    const Time modelled = p->Cost(choice, call.bytes);
    extra = WithCalibration(Time::Zero(), modelled, closed_.calibration()->Calibrated(*p, choice, call.bytes));
  }
  auto running = std::make_shared<Running>();
  running->schedule = it->second;
  const size_t n = call.gpus.size();
  // The run owns itself until its last transfer is delivered; the callback releases it after the event.
  running->run = std::make_unique<ScheduleRun>(
      sim_, net_, *running->schedule, [this, running, on_done = std::move(on_done), n, extra]() mutable {
        sim_.ScheduleAfter(extra, [running, on_done = std::move(on_done), n]() mutable {
          for (size_t i = 0; i < n; ++i) on_done(i);
          running->run.reset();
        });
      });
  running->run->Start();
  return Status::Ok();
}

}  // namespace wiresim
