#include "sim/calibration/collective_correction.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "sim/calibration/robust_fit.h"

namespace wiresim {

std::string_view ToString(LinkClass c) {
  switch (c) {
    case LinkClass::kNvlink:
      return "nvlink";
    case LinkClass::kPcie:
      return "pcie";
    case LinkClass::kNetwork:
      return "network";
  }
  return "?";
}

std::optional<LinkClass> ParseLinkClass(std::string_view name) {
  for (LinkClass c : {LinkClass::kNvlink, LinkClass::kPcie, LinkClass::kNetwork})
    if (ToString(c) == name) return c;
  return std::nullopt;
}

LinkClass LinkClassOf(const CollectiveGroup& group) {
  if (group.nodes() > 1) return LinkClass::kNetwork;
  return group.nvlink_intra() ? LinkClass::kNvlink : LinkClass::kPcie;
}

std::string_view ToString(CalibrationSource s) {
  switch (s) {
    case CalibrationSource::kNone:
      return "model";
    case CalibrationSource::kMeasuredCurve:
      return "measured";
    case CalibrationSource::kFittedCorrection:
      return "fitted";
  }
  return "?";
}

namespace {

// "Ring,Tree / LL,LL128,Simple": what a filter allows.
std::string Allowed(const AlgorithmFilter& f) {
  std::string algorithms, protocols;
  for (int i = 0; i < kAlgorithmCount; ++i) {
    const Algorithm a = static_cast<Algorithm>(i);
    if (f.allows(a)) algorithms += (algorithms.empty() ? "" : ",") + std::string(ToString(a));
  }
  for (int i = 0; i < kProtocolCount; ++i) {
    const Protocol p = static_cast<Protocol>(i);
    if (f.allows(p)) protocols += (protocols.empty() ? "" : ",") + std::string(ToString(p));
  }
  return algorithms + " / " + protocols;
}

}  // namespace

std::string SweepFit::ToString() const {
  std::string out =
      source + ": " + std::string(wiresim::ToString(op)) + " over " + std::to_string(ranks) + " ranks on " +
      std::to_string(nodes) + " node" + (nodes == 1 ? "" : "s") + " (" + std::string(wiresim::ToString(link)) + "), " +
      std::to_string(points) + " sizes" + (in_place ? ", in place (the log has no out-of-place results)" : "") +
      (launch_note.empty() ? "" : ", " + launch_note) + (process_note.empty() ? "" : ", " + process_note) + ", " +
      (filter_note.empty() ? "NCCL choosing freely" : "under " + filter_note + ": " + Allowed(filter)) + " ->";
  for (const auto& [choice, n] : choices) out += " " + choice + " x" + std::to_string(n);
  if (recorded > 0) out += " (" + std::to_string(recorded) + " as recorded)";
  return out;
}

std::optional<double> MeasuredCurve::Microseconds(double size) const {
  if (bytes.empty() || size < bytes.front() * (1 - 1e-9) || size > bytes.back() * (1 + 1e-9)) return std::nullopt;
  const auto hi = std::lower_bound(bytes.begin(), bytes.end(), size * (1 - 1e-9));
  const size_t j = static_cast<size_t>(hi - bytes.begin());
  if (j == 0 || bytes[j] <= size * (1 + 1e-9)) return time_us[j];
  // Log-log between the neighbours: time is close to a power of size between two measured sizes.
  const double f = std::log(size / bytes[j - 1]) / std::log(bytes[j] / bytes[j - 1]);
  return std::exp(std::log(time_us[j - 1]) * (1 - f) + std::log(time_us[j]) * f);
}

double CorrectionEntry::BandwidthScale(double x) const {
  if (bandwidth_scale.empty()) return 1.0;
  if (x <= knots_log2.front()) return bandwidth_scale.front();
  if (x >= knots_log2.back()) return bandwidth_scale.back();
  const auto hi = std::upper_bound(knots_log2.begin(), knots_log2.end(), x);
  const size_t j = static_cast<size_t>(hi - knots_log2.begin());
  const double f = (x - knots_log2[j - 1]) / (knots_log2[j] - knots_log2[j - 1]);
  return bandwidth_scale[j - 1] * (1 - f) + bandwidth_scale[j] * f;
}

double CorrectionEntry::Microseconds(double latency_us, double bytes_us, double bytes) const {
  return launch_us + latency_scale * latency_us + bytes_us * BandwidthScale(std::log2(std::max(bytes, 1.0)));
}

const CorrectionEntry* CollectiveCorrection::Find(CollectiveOp op, LinkClass link, CollectiveChoice choice) const {
  const CorrectionEntry* pooled = nullptr;
  for (const CorrectionEntry& e : entries) {
    if (e.link != link || !(e.choice == choice)) continue;
    if (e.op == op) return &e;
    if (!e.op && pooled == nullptr) pooled = &e;
  }
  return pooled;
}

const MeasuredCurve* CollectiveCorrection::FindCurve(const PreparedCollective& prepared, double bytes,
                                                     const AlgorithmFilter& filter) const {
  const CollectiveGroup& g = prepared.group();
  const LinkClass link = LinkClassOf(g);
  for (const MeasuredCurve& c : curves) {
    if (c.op == prepared.op() && c.link == link && c.ranks == g.ranks() && c.nodes == g.nodes() &&
        c.filter.algorithms == filter.algorithms && c.filter.protocols == filter.protocols && c.Microseconds(bytes)) {
      return &c;
    }
  }
  return nullptr;
}

double CollectiveCorrection::LaunchShiftUs(const PreparedCollective& prepared) const {
  return prepared.params().launch_overhead.ToMicroseconds() - launch_reference_us;
}

double CollectiveCorrection::ProcessShiftUs(const PreparedCollective& prepared, CollectiveChoice choice,
                                            double bytes) const {
  // The fit described one process per GPU.
  return (prepared.Cost(choice, bytes) - prepared.CostRanksApart(choice, bytes)).ToMicroseconds();
}

std::optional<Time> CollectiveCorrection::Calibrated(const PreparedCollective& prepared, CollectiveChoice choice,
                                                     double bytes, const AlgorithmFilter& filter,
                                                     CalibrationSource* source) const {
  *source = CalibrationSource::kNone;
  if (const MeasuredCurve* c = FindCurve(prepared, bytes, filter)) {
    *source = CalibrationSource::kMeasuredCurve;
    return Time::FromMicroseconds(
        std::max(0.0, *c->Microseconds(bytes) + LaunchShiftUs(prepared) + ProcessShiftUs(prepared, choice, bytes)));
  }
  if (auto t = Apply(prepared, choice, bytes)) {
    *source = CalibrationSource::kFittedCorrection;
    return t;
  }
  return std::nullopt;
}

namespace {

// The model's parts of a choice's time, in microseconds: latency (no launch) and bytes.
struct Parts {
  double latency_us = 0;
  double bytes_us = 0;
};

Parts PartsOf(const PreparedCollective& p, CollectiveChoice c, double bytes) {
  const double launch = p.params().launch_overhead.ToMicroseconds();
  const double at_zero = p.Cost(c, 0).ToMicroseconds();
  return Parts{at_zero - launch, p.Cost(c, bytes).ToMicroseconds() - at_zero};
}

struct FitPoint {
  double bytes;
  double time_us;
  Parts parts;
  std::string source;
};

// Knots every factor of 4 spanning the points' sizes, spread further apart until there are at least two points per
// knot: a curve needs more evidence than a constant. One knot makes the bytes correction a constant.
std::vector<double> Knots(const std::vector<FitPoint>& points) {
  double lo = 1e300, hi = -1e300;
  for (const FitPoint& p : points) {
    const double x = std::log2(std::max(p.bytes, 1.0));
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  const size_t max_knots = std::max<size_t>(1, points.size() / 2);
  for (double step = 2;; step *= 2) {
    const double first = step * std::floor(lo / step);
    const double last = std::max(first + step, step * std::ceil(hi / step));
    std::vector<double> knots;
    for (double x = first; x <= last + 1e-9; x += step) knots.push_back(x);
    if (knots.size() <= max_knots) return knots;
    if (max_knots == 1) return {0.5 * (lo + hi)};
  }
}

// Fewer measured sizes than this for a key, and the model's own figures stand: two points cannot tell a launch cost,
// a step latency and a bandwidth apart.
constexpr size_t kMinPointsPerEntry = 3;

Result<CorrectionEntry> FitEntry(const std::vector<FitPoint>& points, double default_launch_us) {
  CorrectionEntry e;
  e.knots_log2 = Knots(points);
  const int k = static_cast<int>(e.knots_log2.size());
  // Columns: launch (us), latency scale, w at each knot.
  LinearProblem problem(2 + k);
  for (const FitPoint& p : points) {
    std::vector<double> x(static_cast<size_t>(2 + k), 0.0);
    x[0] = 1.0;
    x[1] = p.parts.latency_us;
    // Hat functions over log2 size.
    const double s = std::log2(std::max(p.bytes, 1.0));
    if (k == 1 || s <= e.knots_log2.front()) {
      x[2] = p.parts.bytes_us;
    } else if (s >= e.knots_log2.back()) {
      x[static_cast<size_t>(1 + k)] = p.parts.bytes_us;
    } else {
      const size_t j =
          static_cast<size_t>(std::upper_bound(e.knots_log2.begin(), e.knots_log2.end(), s) - e.knots_log2.begin());
      const double f = (s - e.knots_log2[j - 1]) / (e.knots_log2[j] - e.knots_log2[j - 1]);
      x[2 + j - 1] = p.parts.bytes_us * (1 - f);
      x[2 + j] = p.parts.bytes_us * f;
    }
    problem.AddRow(x, p.time_us, 1.0 / p.time_us);  // relative error
  }
  // Weak priors towards the uncorrected model keep the fit defined where the data say little: the launch cost and
  // the latency scale are hard to tell apart within one group; a knot with no nearby size follows its neighbours.
  problem.AddPrior(0, default_launch_us, 0.0005);
  problem.AddPrior(1, 1.0, 0.005);
  for (int j = 0; j + 1 < k; ++j) problem.AddTie(2 + j, 3 + j, 0.05);
  for (int j = 0; j < k; ++j) problem.AddPrior(2 + j, 1.0, 0.0002);
  WIRESIM_ASSIGN_OR_RETURN(RobustFit fit, SolveRobust(problem));
  e.launch_us = fit.coefficients[0];
  e.latency_scale = fit.coefficients[1];
  e.bandwidth_scale.assign(fit.coefficients.begin() + 2, fit.coefficients.end());
  e.points = static_cast<int>(points.size());
  e.median_abs_error = fit.median_abs_residual;
  std::set<std::string> sources;
  for (const FitPoint& p : points) sources.insert(p.source);
  e.sources.assign(sources.begin(), sources.end());
  return e;
}

}  // namespace

std::optional<Time> CollectiveCorrection::Apply(const PreparedCollective& prepared, CollectiveChoice choice,
                                                double bytes) const {
  const CorrectionEntry* e = Find(prepared.op(), LinkClassOf(prepared.group()), choice);
  if (e == nullptr) return std::nullopt;
  if (prepared.group().ranks() == 1) return prepared.Cost(choice, bytes);
  const Parts parts = PartsOf(prepared, choice, bytes);
  const double us = e->Microseconds(parts.latency_us, parts.bytes_us, bytes) + LaunchShiftUs(prepared);
  return Time::FromMicroseconds(std::max(us, 0.0));
}

Result<CollectiveCorrection> FitCollectiveCorrection(CollectiveModel& model, const std::vector<MeasuredSweep>& sweeps,
                                                     const AlgorithmFilter& filter, std::vector<SweepFit>* report) {
  // Group the points by key; the key order (a std::map) makes the output deterministic.
  using Key = std::tuple<int, int, int, int>;  // op (-1 pooled), link, algorithm, protocol
  std::map<Key, std::vector<FitPoint>> groups;
  // Measured curves by shape and filter: (op, link, ranks, nodes, algorithms, protocols) -> size -> times (several
  // sweeps may measure one size).
  using Shape = std::tuple<int, int, int, int, uint32_t, uint32_t>;
  std::map<Shape, std::map<double, std::vector<double>>> shapes;
  std::map<Shape, std::set<std::string>> shape_sources;
  const double default_launch = model.params().launch_overhead.ToMicroseconds();
  for (const MeasuredSweep& sweep : sweeps) {
    CollectiveCall call;
    call.op = sweep.op;
    call.gpus = sweep.gpus;
    auto prepared = model.Prepare(call, {});
    if (!prepared.ok()) return prepared.status().WithContext(sweep.source);
    const PreparedCollective& p = **prepared;
    const LinkClass link = LinkClassOf(p.group());
    const AlgorithmFilter& chooser = sweep.filter ? *sweep.filter : filter;
    const Shape shape{static_cast<int>(sweep.op), static_cast<int>(link), p.group().ranks(),
                      p.group().nodes(),          chooser.algorithms,     chooser.protocols};
    shape_sources[shape].insert(sweep.source);
    SweepFit fit;
    fit.source = sweep.source;
    fit.op = sweep.op;
    fit.ranks = p.group().ranks();
    fit.nodes = p.group().nodes();
    fit.link = link;
    fit.in_place = sweep.in_place;
    fit.filter = chooser;
    // The measured times as the model launches calls (one launch each): a measurement in CUDA graphs, or of several
    // calls per launch, left out some of the launch; the model's own launch makes up the difference.
    const double launch_added = default_launch * (1 - std::clamp(sweep.launches_per_call, 0.0, 1.0));
    if (!sweep.launch_note.empty()) {
      std::ostringstream note;
      note << sweep.launch_note << ", " << std::setprecision(3) << launch_added << " us of launch added to each";
      fit.launch_note = note.str();
    }
    // Ranks that shared a process wrote into each other's buffers; the model of ranks apart (one process per GPU, as
    // the simulator runs them) says how much longer each point would have taken.
    std::unique_ptr<CollectiveModel> shared_model;
    std::unique_ptr<PreparedCollective> shared;
    if (sweep.ranks_per_process != model.params().ranks_per_process) {
      CollectiveParams params = model.params();
      params.ranks_per_process = sweep.ranks_per_process;
      shared_model = std::make_unique<CollectiveModel>(model.topology(), params);
      auto prepared_shared = shared_model->Prepare(call, {});
      if (!prepared_shared.ok()) return prepared_shared.status().WithContext(sweep.source);
      shared = std::move(prepared_shared).value();
    }
    double process_added_max = 0;
    const AlgorithmFilter all;
    if (sweep.filter) {
      fit.filter_note = sweep.filter_note;
    } else if (filter.algorithms != all.algorithms || filter.protocols != all.protocols) {
      fit.filter_note = "the filter given (--algo/--proto)";
    }
    for (const MeasuredSweep::Point& point : sweep.points) {
      if (!(point.time_us > 0) || !(point.bytes > 0)) continue;
      double time_us = point.time_us + launch_added;
      CollectiveChoice choice;
      if (point.choice && p.Usable(*point.choice)) {
        choice = *point.choice;
        ++fit.recorded;
      } else {
        auto chosen = p.Choose(point.bytes, chooser);
        if (!chosen.ok()) return chosen.status().WithContext(sweep.source);
        choice = *chosen;
      }
      if (shared != nullptr) {
        const double added = (p.Cost(choice, point.bytes) - shared->Cost(choice, point.bytes)).ToMicroseconds();
        time_us += added;
        process_added_max = std::max(process_added_max, added);
      }
      shapes[shape][point.bytes].push_back(time_us);
      const FitPoint fp{point.bytes, time_us, PartsOf(p, choice, point.bytes), sweep.source};
      const int a = static_cast<int>(choice.algorithm), pr = static_cast<int>(choice.protocol);
      groups[{static_cast<int>(sweep.op), static_cast<int>(link), a, pr}].push_back(fp);
      groups[{-1, static_cast<int>(link), a, pr}].push_back(fp);
      ++fit.points;
      const std::string name = std::string(ToString(choice.algorithm)) + "/" + std::string(ToString(choice.protocol));
      auto it = std::find_if(fit.choices.begin(), fit.choices.end(), [&](const auto& c) { return c.first == name; });
      if (it == fit.choices.end()) {
        fit.choices.emplace_back(name, 1);
      } else {
        ++it->second;
      }
    }
    if (shared != nullptr) {
      std::ostringstream note;
      note << sweep.ranks_per_process << " ranks per process (their rings wrote into each other's buffers), up to "
           << std::setprecision(3) << process_added_max << " us added to each as with one process per GPU";
      fit.process_note = note.str();
    }
    if (report != nullptr) report->push_back(std::move(fit));
  }
  CollectiveCorrection out;
  out.measured_filter = filter;
  out.launch_reference_us = default_launch;
  for (const auto& [key, points] : groups) {
    if (points.size() < kMinPointsPerEntry) continue;
    auto entry = FitEntry(points, default_launch);
    if (!entry.ok()) continue;  // too little to fit: the model's own figures stand for this key
    const auto [op, link, algorithm, protocol] = key;
    if (op >= 0) entry->op = static_cast<CollectiveOp>(op);
    entry->link = static_cast<LinkClass>(link);
    entry->choice = CollectiveChoice{static_cast<Algorithm>(algorithm), static_cast<Protocol>(protocol)};
    out.entries.push_back(std::move(entry).value());
  }
  for (const auto& [shape, by_size] : shapes) {
    MeasuredCurve c;
    const auto [op, link, ranks, nodes, algorithms, protocols] = shape;
    c.op = static_cast<CollectiveOp>(op);
    c.link = static_cast<LinkClass>(link);
    c.ranks = ranks;
    c.nodes = nodes;
    c.filter.algorithms = algorithms;
    c.filter.protocols = protocols;
    for (const auto& [bytes, times] : by_size) {
      double log_sum = 0;  // repeated sizes: geometric mean
      for (double t : times) log_sum += std::log(t);
      c.bytes.push_back(bytes);
      c.time_us.push_back(std::exp(log_sum / static_cast<double>(times.size())));
    }
    for (const std::string& s : shape_sources[shape]) c.source += (c.source.empty() ? "" : ", ") + s;
    out.curves.push_back(std::move(c));
  }
  return out;
}

}  // namespace wiresim
