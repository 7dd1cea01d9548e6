// The collective part of a calibration: corrections to the collective model's closed form, fitted to measured
// sweeps (nccl-tests logs, wiresim-calibrate runs). For each (operation, link class, algorithm, protocol) the fit
// finds, relative to the model's own split of a choice's time into a latency part L and a bytes part B(S),
//
//     t(S) = launch + a * L + B(S) * w(log2 S)
//
// Measured curves come first: a call whose shape was measured gets the measured time, interpolated between the
// measured sizes. The fitted corrections cover everything else.
//
// launch: the per-call overhead; a: how much slower (or faster) each step is than NCCL's constants say; w: how much
// slower the bytes move than the model's link efficiencies say, as a curve over message size (piecewise linear in
// log2 S between knots every factor of 4, constant beyond the measured sizes). That curve is what the model cannot
// know in advance: the ramp from small to large messages on this machine. A second set of entries pools every
// operation of a (link class, algorithm, protocol), for operations that were not measured.
//
//   WIRESIM_ASSIGN_OR_RETURN(CollectiveCorrection c, FitCollectiveCorrection(model, sweeps, {}));
//   std::optional<Time> t = c.Apply(prepared, choice, bytes);   // nullopt: nothing measured applies
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/collective/collective_model.h"
#include "sim/core/status.h"

namespace wiresim {

// What paces a group: NVLink inside one node, PCIe (or a CPU link) inside one node, or the network across nodes.
enum class LinkClass { kNvlink, kPcie, kNetwork };
std::string_view ToString(LinkClass c);
std::optional<LinkClass> ParseLinkClass(std::string_view name);
LinkClass LinkClassOf(const CollectiveGroup& group);

struct CorrectionEntry {
  std::optional<CollectiveOp> op;  // nullopt: pooled over operations
  LinkClass link = LinkClass::kNvlink;
  CollectiveChoice choice;
  double launch_us = 0;
  double latency_scale = 1;
  std::vector<double> knots_log2;       // log2 of the size, ascending
  std::vector<double> bandwidth_scale;  // w at each knot
  int points = 0;
  double median_abs_error = 0;  // in-sample, relative to measured time
  std::vector<std::string> sources;

  // w at log2 size `x`: linear between knots, the end values beyond them.
  double BandwidthScale(double x) const;
  // The corrected time from the model's parts.
  double Microseconds(double latency_us, double bytes_us, double bytes) const;
};

// A measured time curve of one group shape: used as is (log-log interpolation between measured sizes) for a call
// of the same operation, rank count, node count and link class, within the measured sizes.
struct MeasuredCurve {
  CollectiveOp op = CollectiveOp::kAllReduce;
  LinkClass link = LinkClass::kNvlink;
  int ranks = 0;
  int nodes = 1;
  std::vector<double> bytes;    // ascending
  std::vector<double> time_us;  // measured, one per size
  std::string source;
  // What NCCL could choose from where it was measured: the curve stands for calls under the same filter only.
  AlgorithmFilter filter;

  // The interpolated time, or nullopt outside [bytes.front(), bytes.back()].
  std::optional<double> Microseconds(double size) const;
};

// Where a calibrated time came from.
enum class CalibrationSource { kNone, kMeasuredCurve, kFittedCorrection };
std::string_view ToString(CalibrationSource s);

struct CollectiveCorrection {
  std::vector<CorrectionEntry> entries;
  std::vector<MeasuredCurve> curves;
  // The algorithms and protocols the measured machine let NCCL choose from: curves record what NCCL chose under it.
  AlgorithmFilter measured_filter;
  // The launch per call every measured time was brought to before the fit (the fit's model's launch overhead, 5 us
  // by default): curves and corrections time calls launched so. A call whose model launches otherwise (--launch-us,
  // --compare of a CUDA-graph log) gets the difference.
  double launch_reference_us = 5;

  // The most specific entry for this operation, link class and choice: same operation first, then pooled.
  const CorrectionEntry* Find(CollectiveOp op, LinkClass link, CollectiveChoice choice) const;
  // The corrected time of `choice` for `bytes` (nccl-tests size) on `prepared`; nullopt when no entry applies.
  std::optional<Time> Apply(const PreparedCollective& prepared, CollectiveChoice choice, double bytes) const;
  // The measured curve for this call's shape, when one covers `bytes` and was measured under `filter`.
  const MeasuredCurve* FindCurve(const PreparedCollective& prepared, double bytes, const AlgorithmFilter& filter) const;
  // The calibrated time: a measured curve when one applies (and NCCL's choice is as free as it was where the curve was
  // measured: a curve records what NCCL chose there), else a fitted correction, else nothing. `source` says which.
  std::optional<Time> Calibrated(const PreparedCollective& prepared, CollectiveChoice choice, double bytes,
                                 const AlgorithmFilter& filter, CalibrationSource* source) const;
  // What `prepared`'s model launches a call with, less launch_reference_us.
  double LaunchShiftUs(const PreparedCollective& prepared) const;
  // What `prepared`'s ranks per process save on `choice` against one process per GPU, as the model has it (a
  // negative shift; 0 when they do not share processes): measured curves describe ranks apart.
  double ProcessShiftUs(const PreparedCollective& prepared, CollectiveChoice choice, double bytes) const;
};

// One measured sweep: an operation over a group of GPUs of the topology at several sizes.
struct MeasuredSweep {
  CollectiveOp op = CollectiveOp::kAllReduce;
  std::vector<int> gpus;
  struct Point {
    double bytes = 0;
    double time_us = 0;
    std::optional<CollectiveChoice> choice;  // what NCCL ran, when recorded
  };
  std::vector<Point> points;
  std::string source;
  // What NCCL could choose from when it was measured, when the measurement says (the log's NCCL_ALGO / NCCL_PROTO);
  // nullopt: the fit's own filter (`calibrate fit --algo/--proto`).
  std::optional<AlgorithmFilter> filter;
  std::string filter_note;  // where `filter` came from, for the report: "NCCL_ALGO=ring in the log"
  bool in_place = false;    // the sweep is nccl-tests' in-place columns (the log has no out-of-place ones)
  // How many of the model's launches each measured call carries: 1 launched one by one, 1/M for M calls per launch
  // (nccl-tests -m M), 0 in CUDA graphs (-G). The fit adds the rest of the model's launch back to each time, so that
  // the profile describes calls launched as the simulator launches them.
  double launches_per_call = 1;
  std::string launch_note;  // how the measurement launched, for the report: "in CUDA graphs (the log's -G)"
  // How many ranks each measured process drove (nccl-tests nThread x nGpus). Where several ranks shared a process,
  // NCCL's rings wrote straight into each other's buffers (CollectiveParams::ranks_per_process); the fit adds what
  // the model says one process per GPU costs more, so that the profile describes ranks apart, as serving runs them.
  int ranks_per_process = 1;
};

// What one sweep was fitted as: its shape, the filter its points were chosen under, and how many points went to each
// algorithm and protocol. `calibrate fit` prints one line per sweep.
struct SweepFit {
  std::string source;
  CollectiveOp op = CollectiveOp::kAllReduce;
  int ranks = 0, nodes = 1;
  LinkClass link = LinkClass::kNvlink;
  int points = 0;
  bool in_place = false;
  AlgorithmFilter filter;
  std::string filter_note;  // empty: NCCL chose freely
  std::string launch_note;  // empty: one launch per call; else how it launched and the launch time added back
  std::string process_note;  // empty: one process per GPU; else the shared process and the time added back
  int recorded = 0;         // points whose choice the measurement recorded (NCCL's TUNING lines)
  std::vector<std::pair<std::string, int>> choices;  // "Ring/LL128" -> points, in order of first use

  std::string ToString() const;
};

// Fits entries to the sweeps on `model`'s topology. Points whose recorded choice cannot run here use the model's
// own choice, under the sweep's filter (what its log says NCCL_ALGO / NCCL_PROTO allowed) or else `filter` (what the
// user says the measured machine allowed). Errors: a sweep whose GPUs the topology does not have; a filter that
// leaves a point no choice.
// `report` (may be null) receives one SweepFit per sweep.
Result<CollectiveCorrection> FitCollectiveCorrection(CollectiveModel& model, const std::vector<MeasuredSweep>& sweeps,
                                                     const AlgorithmFilter& filter = {},
                                                     std::vector<SweepFit>* report = nullptr);

}  // namespace wiresim
