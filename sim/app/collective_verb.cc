// `wiresim collective`: predicts an NCCL collective over a set of GPUs of a topology and prints it as the table
// nccl-tests prints (plus the algorithm and protocol chosen per row), as JSON, or side by side with a measured
// nccl-tests log (--compare).
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <memory>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/app/calibration_input.h"
#include "sim/app/cli.h"
#include "sim/app/collective_options.h"
#include "sim/app/collective_progress.h"
#include "sim/app/collective_rows.h"
#include "sim/app/gpu_selection.h"
#include "sim/app/measured_log.h"
#include "sim/app/number_format.h"
#include "sim/app/options.h"
#include "sim/app/topology_input.h"
#include "sim/app/verbs.h"
#include "sim/calibration/nccl_tests_import.h"
#include "sim/calibration/nccl_tests_log.h"
#include "sim/collective/collective_model.h"
#include "sim/core/statistics.h"
#include "sim/core/text.h"
#include "sim/network/analytical_network.h"
#include "sim/network/flow_network.h"
#include "sim/serving/engine.h"
#include "sim/topology/topology_file.h"

namespace wiresim::app {
namespace po = boost::program_options;

namespace {

constexpr const char* kVerb = "collective";

struct Setup {
  std::unique_ptr<Topology> topo;
  std::unique_ptr<CollectiveModel> model;
  std::unique_ptr<PreparedCollective> prepared;
  CollectiveOp op = CollectiveOp::kAllReduce;
  std::vector<int> gpus;
  int root = 0;
  AlgorithmFilter filter;
  std::string network = "closed";
  CollectiveProgress* progress = nullptr;                               // told how a simulated size advances
  uint64_t events = 0;                                                  // the events the last simulated size ran
  std::optional<LoadedCalibration> calibration;                         // --calibration
  std::unique_ptr<FittedCollectiveCalibration> collective_calibration;  // its corrections, as the interface
  std::optional<EngineProfile> engine_profile;                          // --engine
  std::unique_ptr<EngineAllReduce> engine;                              // ... its all-reduce kernels
  std::optional<EngineKernel> engine_kernel;                            // --engine-kernel: that one at every size
  std::string measured_note;  // --compare: what the log says of its NCCL release and launches, as modelled
};

std::string FormatMicroseconds(Time t) {
  std::ostringstream out;
  out << t.ToMicroseconds();
  return out.str();
}

// The GPUs in rank order, runs of consecutive ones as ranges ("0-1023", "0-7,16-23"). A selection that is not in
// ascending order is listed as given, since its order is the ranks'.
std::string GpuList(const std::vector<int>& gpus) {
  if (std::is_sorted(gpus.begin(), gpus.end())) return IndexRanges(gpus);
  std::ostringstream out;
  for (size_t i = 0; i < gpus.size(); ++i) out << (i ? "," : "") << gpus[i];
  return out.str();
}

bool Reduces(CollectiveOp op) {
  return op == CollectiveOp::kAllReduce || op == CollectiveOp::kReduceScatter || op == CollectiveOp::kReduce ||
         op == CollectiveOp::kSendRecv || op == CollectiveOp::kSend;
}

bool SizeIsTotal(CollectiveOp op) {
  return op == CollectiveOp::kAllGather || op == CollectiveOp::kReduceScatter || op == CollectiveOp::kAllToAll ||
         op == CollectiveOp::kAllToAllV;
}

// Simulates the choice's transfers on a network model and returns the time.
// `expected`: the closed form's time, to report progress against.
Result<Time> Simulate(Setup& s, CollectiveChoice choice, double bytes, Time expected) {
  WIRESIM_ASSIGN_OR_RETURN(CollectiveSchedule schedule, s.prepared->Expand(choice, bytes));
  Simulator sim;
  std::unique_ptr<Network> net;
  if (s.network == "flow") {
    net = std::make_unique<FlowNetwork>(sim, *s.topo);
  } else {
    net = std::make_unique<AnalyticalNetwork>(sim, *s.topo);
  }
  Time done;
  ScheduleRun run(sim, *net, schedule, [&] { done = sim.Now(); });
  run.set_exclusive(true);  // the network is this collective's alone
  run.Start();
  // In slices of the expected time, so that the progress line moves during a size that takes minutes; the events run
  // in the same order as in one sim.Run().
  const double expected_us = std::max(expected.ToMicroseconds(), 1e-3);
  const Time slice = std::max(Time::FromMicroseconds(expected_us / 64), Time::Nanoseconds(1));
  while (sim.events_pending() > 0 && !sim.passed_horizon()) {
    sim.RunUntil(sim.Now() + std::min(slice, Simulator::kHorizon - sim.Now()));
    if (s.progress) s.progress->Update(sim.Now().ToMicroseconds() / expected_us, sim.events_processed());
  }
  if (sim.passed_horizon()) {
    // Out of reach of the bounds on sizes and bandwidths (docs/formats/numbers.md): kept so that no input loops here.
    return InvalidArgument("the collective's transfers pass the longest simulated time a run holds (4.6e6 s)");
  }
  s.events = sim.events_processed();
  WIRESIM_RETURN_IF_ERROR(net->CheckConservation());
  return std::max(done, s.model->params().call_interval);
}

Result<CollectiveRow> Predict(Setup& s, double size, DataType dtype) {
  const int n = static_cast<int>(s.gpus.size());
  const double type_bytes = BytesPerElement(dtype);
  CollectiveRow row;
  const double per = SizeIsTotal(s.op) ? type_bytes * n : type_bytes;
  row.count = static_cast<int64_t>(std::floor(size / per));
  row.size = static_cast<double>(row.count) * per;
  row.type = std::string(ToString(dtype));
  row.redop = Reduces(s.op) ? "sum" : "none";
  row.root = (s.op == CollectiveOp::kBroadcast || s.op == CollectiveOp::kReduce) ? s.root : -1;
  // The engine's own kernel, where it takes the size (or where --engine-kernel forces it).
  if (s.engine && s.op == CollectiveOp::kAllReduce) {
    const std::optional<EngineKernel> kernel =
        s.engine_kernel ? s.engine_kernel : s.engine->KernelFor(s.gpus, row.size);
    if (kernel) {
      const std::optional<Time> t = s.engine->KernelDuration(*kernel, s.gpus, row.size);
      if (!t) {
        return InvalidArgument("--engine-kernel " + std::string(ToString(*kernel)) +
                               ": these GPUs cannot run it (the group spans hosts or NVLink domains, or symmetric "
                               "memory has no NVSwitch to multicast through)");
      }
      row.engine_kernel = std::string(ToString(*kernel));
      row.time_us = t->ToMicroseconds();
      row.algbw = row.time_us > 0 ? row.size / (row.time_us * 1e3) : 0;
      row.busbw = row.algbw * BusBandwidthFactor(s.op, n);
      return row;
    }
  }
  WIRESIM_ASSIGN_OR_RETURN(Prediction p, s.prepared->Predict(row.size, s.filter));
  row.choice = p.choice;
  row.channels = p.channels;
  row.nccl_model_us = p.nccl_model_us;
  Time t = p.time;
  // Calibration reaches the prediction through the collective part's interface, as it reaches iterations: it
  // replaces the closed form, and adds its excess over the closed form to a simulated run of the transfers.
  std::optional<Time> calibrated;
  if (s.collective_calibration) {
    calibrated = s.collective_calibration->Calibrated(*s.prepared, p.choice, row.size, &row.timed_by);
    if (calibrated) t = *calibrated;
  }
  if (s.network != "closed") {
    WIRESIM_ASSIGN_OR_RETURN(Time simulated, Simulate(s, p.choice, row.size, p.time));
    t = WithCalibration(simulated, p.time, calibrated);
  }
  row.time_us = t.ToMicroseconds();
  row.algbw = row.time_us > 0 ? row.size / (row.time_us * 1e3) : 0;
  row.busbw = row.algbw * BusBandwidthFactor(s.op, n);
  return row;
}

std::string Describe(const Setup& s, DataType dtype) {
  const CollectiveGroup& g = s.prepared->group();
  std::ostringstream out;
  out << "# wiresim collective: " << ToString(s.op) << " on " << s.topo->name() << ", " << g.ranks() << " GPUs on "
      << g.nodes() << " node" << (g.nodes() == 1 ? "" : "s") << " (" << g.max_ranks_per_node() << " per node), "
      << s.topo->node(g.gpu_node(0)).spec.model << ", " << ToString(dtype) << "\n";
  out << "# GPUs: " << GpuList(s.gpus)
      << "\n# model: " << (s.network == "closed" ? "closed form" : s.network + " network, transfer by transfer")
      << "; NCCL " << s.model->params().nccl_version.ToString() << "; launch overhead "
      << s.model->params().launch_overhead.ToMicroseconds() << " us"
      << (s.model->params().call_interval > Time::Zero()
              ? "; no call under " + FormatMicroseconds(s.model->params().call_interval) + " us"
              : "")
      << (s.model->params().ranks_per_process > 1
              ? "; " + std::to_string(s.model->params().ranks_per_process) + " ranks per process"
              : "")
      << "; channels: ring " << s.prepared->channels(Algorithm::kRing) << ", NVLS "
      << s.prepared->channels(Algorithm::kNvls)
      << (s.prepared->tuning().input().nvls_supported ? "" : " (no NVLS here)");
  if (const internal::P2pChannelPlan* p2p = s.prepared->p2p_channels()) {
    out << ", p2p " << p2p->channels << " (one per " << Short(p2p->min_part / 1024) << " KiB of a peer's bytes up to "
        << p2p->min_per_op;
    if (p2p->max_per_op > p2p->min_per_op) {
      out << ", " << p2p->max_per_op << " for parts over " << Short(p2p->max_part / (1024 * 1024)) << " MiB";
    }
    out << "; " << Short(p2p->channel_GBps) << " GB/s each)";
  }
  if (const internal::P2pNetWindow* w = s.prepared->p2p_net_window()) {
    // The pairs differ only where routes do; the header names the widest window and the longest step.
    double window = 0, step = 0;
    for (const internal::P2pNetWindow::Pair& p : w->pairs) {
      window = std::max(window, p.window_bytes);
      step = std::max(step, p.step_seconds);
    }
    out << "; a network peer: " << Short(window / (1024 * 1024)) << " MiB in flight, " << Short(step * 1e6)
        << " us a step per window";
  }
  out << "\n";
  if (s.calibration) out << "# calibration: " << s.calibration->note << "; " << s.calibration->nccl->note << "\n";
  if (s.engine) {
    out << "# engine: " << ToString(s.engine_profile->engine) << "'s own all-reduce kernels "
        << (s.engine_kernel ? "(" + std::string(ToString(*s.engine_kernel)) + " at every size)"
                            : "where it takes the size")
        << ", timed as under CUDA graphs (no launch); NCCL for the rest"
        << (s.engine_profile->nccl_nvls ? "" : ", without NVLS") << "\n";
  }
  return out.str();
}

// The verb's flags, as given.
struct CollectiveArgs {
  std::string topology, op, gpus, dtype, compare, network, nics, min, max, step, calibration, format;
  int nodes = 0, factor = 2, root = 0;
};

void AddCollectiveOptions(po::options_description& options, CollectiveArgs& a) {
  options.add_options()("topology,t", po::value(&a.topology)->default_value("dgx-h100"),
                        "topology file, or the name of a shipped one")(
      "op", po::value(&a.op)->default_value("all_reduce"),
      "all_reduce, all_gather, reduce_scatter, broadcast, reduce, alltoall, sendrecv (nccl-tests names), or send (one "
      "way, rank i to i+1)")("gpus,g", po::value(&a.gpus),
                             "GPUs: 0-7, 0,2,4, or node0:0-7,node1:0-7 (default: the first host's)")(
      "nodes", po::value(&a.nodes), "every GPU of the first N hosts")(
      "minbytes,b", po::value(&a.min)->default_value("8"), "smallest size (K, M, G: powers of 1024)")(
      "maxbytes,e", po::value(&a.max)->default_value("8G"), "largest size")(
      "stepfactor,f", po::value(&a.factor)->default_value(2), "multiply the size by this between rows")(
      "stepbytes,i", po::value(&a.step), "add this many bytes between rows instead")(
      "dtype,d", po::value(&a.dtype)->default_value("float"), "element type: float, half, bfloat16, ...")(
      "root,r", po::value(&a.root)->default_value(0), "root rank of broadcast and reduce")(
      "nics", po::value(&a.nics), "local NIC indices inter-node traffic may use, as NCCL_IB_HCA: 0,1")(
      "network", po::value(&a.network)->default_value("closed"),
      "closed (closed form), analytical or flow (the collective's transfers simulated on that network)")(
      "compare", po::value(&a.compare), "an nccl-tests log (text or -J JSON): measured vs predicted per size")(
      "calibration", po::value(&a.calibration), "a calibration profile: measured corrections where they apply")(
      "format", po::value(&a.format)->default_value("text"),
      "text (nccl-tests' table), json, or nccl-json (nccl-tests' -J layout)")("json", "print JSON: --format json")(
      "quiet", "no progress line on a terminal")(
      "engine", po::value<std::string>(),
      "vllm, sglang or trtllm: all-reduces as the engine runs them (its own kernels where it takes the size, timed "
      "as under CUDA graphs; NCCL as it leaves it otherwise)")(
      "engine-kernel", po::value<std::string>(),
      "with --engine: this kernel at every size, as vLLM's benchmark_device_communicators.py forces it: one-shot, "
      "two-shot, multimem, symm-two-shot")("disable-symm-mem-all-reduce",
                                           "with --engine vllm: its symmetric-memory all-reduce off");
}

// The flags that exclude each other or name no choice: -f with -i, --json with another --format, an unknown
// format or network. Settles a.format (--json is --format json).
Status CheckFlags(const po::variables_map& vm, CollectiveArgs& a) {
  if (vm.count("stepbytes") && !vm["stepfactor"].defaulted()) {
    return InvalidArgument("-f/--stepfactor and -i/--stepbytes are alternatives (as in nccl-tests): give one");
  }
  if (vm.count("json")) {
    if (!vm["format"].defaulted() && a.format != "json") {
      return InvalidArgument("--json is --format json; it cannot go with --format " + a.format);
    }
    a.format = "json";
  }
  if (a.format != "text" && a.format != "json" && a.format != "nccl-json") {
    return InvalidArgument("--format: expected text, json or nccl-json, got '" + a.format + "'");
  }
  if (a.format == "nccl-json" && vm.count("compare")) {
    return InvalidArgument("--format nccl-json writes a prediction alone; with --compare use text or json");
  }
  if (a.network != "closed" && a.network != "analytical" && a.network != "flow") {
    return InvalidArgument("--network: expected closed, analytical or flow, got '" + a.network + "'");
  }
  return Status::Ok();
}

// The topology, the log to compare (into `log`), the operation and the GPUs, into `s`.
Status ReadTopologyAndGroup(AppContext& ctx, const po::variables_map& vm, const CollectiveArgs& a, Setup& s,
                            std::optional<NcclTestsLog>& log) {
  s.network = a.network;
  WIRESIM_ASSIGN_OR_RETURN(SourceFile file, ReadInput(ctx, a.topology, InputKind::kTopology));
  WIRESIM_ASSIGN_OR_RETURN(Topology topo, LoadTopologyForVerb(file, ctx.reader));
  s.topo = std::make_unique<Topology>(std::move(topo));
  if (vm.count("compare")) {
    WIRESIM_ASSIGN_OR_RETURN(SourceFile log_file, ReadInput(ctx, a.compare, InputKind::kOther));
    WIRESIM_ASSIGN_OR_RETURN(log, ParseNcclTestsLog(log_file));
  }
  // With a log to compare, the operation is the log's (below, once the rank count is known).
  const auto op = ParseCollectiveOp(a.op);
  if ((!log || !vm["op"].defaulted()) && (!op || *op == CollectiveOp::kAllToAllV)) {
    return InvalidArgument("--op: unknown or unsupported operation '" + a.op +
                           "' (all_reduce, all_gather, reduce_scatter, broadcast, reduce, alltoall, sendrecv, send)");
  }
  if (op) s.op = *op;
  s.root = a.root;
  Result<std::vector<int>> gpus = std::vector<int>{};
  if (vm.count("gpus") && vm.count("nodes")) return InvalidArgument("give --gpus or --nodes, not both");
  if (vm.count("gpus")) {
    gpus = ParseGpuSelection(a.gpus, *s.topo);
  } else if (vm.count("nodes")) {
    gpus = FirstNodes(a.nodes, *s.topo);
  } else if (log) {
    gpus = GpusForLog(*log, *s.topo);
  } else {
    gpus = FirstNodes(1, *s.topo);
    if (!gpus.ok() && s.topo->hosts().empty()) {
      std::vector<int> all;
      for (int i = 0; i < s.topo->gpu_count(); ++i) all.push_back(i);
      gpus = all;
    }
  }
  if (!gpus.ok()) return gpus.status();
  s.gpus = *gpus;
  if (log && log->ranks && *log->ranks != static_cast<int>(s.gpus.size())) {
    return InvalidArgument(a.compare + " was measured on " + std::to_string(*log->ranks) +
                           " ranks but the selection has " + std::to_string(s.gpus.size()) + " GPUs");
  }
  if (log) {
    // As calibrate import reads it: the test the log names, or --op, checked against busbw / algbw; or inferred
    // from that ratio over the ranks.
    NcclTestsImportOptions by;
    if (!vm["op"].defaulted()) by.op = a.op;
    std::vector<std::string> notes;
    WIRESIM_ASSIGN_OR_RETURN(s.op, NcclTestsLogOperation(*log, by, static_cast<int>(s.gpus.size()), &notes));
    for (const std::string& note : notes) ctx.err << "wiresim collective: " << note << "\n";
  }
  return Status::Ok();
}

// NCCL's algorithm filter and the engine (--engine, --engine-kernel, --disable-symm-mem-all-reduce), into `s`.
Status ConfigureEngine(const po::variables_map& vm, const CollectiveModelOptions& model_options, Setup& s) {
  WIRESIM_ASSIGN_OR_RETURN(s.filter, model_options.Filter(vm));
  if (vm.count("engine-kernel") && !vm.count("engine")) {
    return InvalidArgument("--engine-kernel needs --engine (vllm, sglang or trtllm)");
  }
  if (vm.count("disable-symm-mem-all-reduce") && !vm.count("engine")) {
    return InvalidArgument("--disable-symm-mem-all-reduce needs --engine vllm");
  }
  if (!vm.count("engine")) return Status::Ok();
  auto engine = ParseEngine(vm["engine"].as<std::string>());
  if (!engine.ok()) return Status(engine.status().code(), "--engine: " + engine.status().message());
  EngineProfile profile = ProfileOf(*engine);
  if (vm.count("disable-symm-mem-all-reduce")) profile.symm_mem.available = false;
  if (vm.count("engine-kernel")) {
    auto kernel = ParseEngineKernel(vm["engine-kernel"].as<std::string>());
    if (!kernel.ok()) return Status(kernel.status().code(), "--engine-kernel: " + kernel.status().message());
    s.engine_kernel = *kernel;
  }
  // NCCL as the engine leaves it: SGLang sets NCCL_NVLS_ENABLE=0 unless asked (docs/engines.md).
  s.filter = NcclFilter(profile, s.filter);
  s.engine = std::make_unique<EngineAllReduce>(profile, *s.topo);
  s.engine_profile = profile;
  return Status::Ok();
}

// The model's parameters (with the calibration's NCCL release and what a compared log says of its run), the model,
// and the collective prepared on `s`'s GPUs. Returns the parameters the model runs with.
Result<CollectiveParams> PrepareModel(AppContext& ctx, const po::variables_map& vm, const CollectiveArgs& a,
                                      const CollectiveModelOptions& model_options,
                                      const std::optional<NcclTestsLog>& log, Setup& s) {
  GroupOptions group_options;
  if (vm.count("nics")) {
    WIRESIM_ASSIGN_OR_RETURN(group_options.nics, ParseIntList(a.nics, "--nics"));
  }
  WIRESIM_ASSIGN_OR_RETURN(CollectiveParams params, model_options.Params(vm));
  if (vm.count("calibration")) {
    // The NCCL release: --nccl-version, else the one the profile was measured with.
    const NcclVersionRequest nccl{vm.count("nccl-version") ? vm["nccl-version"].as<std::string>() : "",
                                  "--nccl-version"};
    WIRESIM_ASSIGN_OR_RETURN(s.calibration, LoadCalibration(ctx, a.calibration, s.topo.get(), params, s.filter, &nccl));
    params.SetNcclVersion(s.calibration->nccl->version);
    if (s.calibration->fitted) {
      s.collective_calibration =
          std::make_unique<FittedCollectiveCalibration>(s.calibration->fitted->collective, s.filter);
    }
  }
  if (log) {
    s.measured_note = ModelAsMeasured(*log,
                                      {vm.count("nccl-version") > 0 || vm.count("calibration") > 0,
                                       vm.count("launch-us") > 0, vm.count("ranks-per-process") > 0},
                                      &params);
  }
  s.model = std::make_unique<CollectiveModel>(*s.topo, params);
  CollectiveCall call;
  call.op = s.op;
  call.gpus = s.gpus;
  call.root = s.root;
  WIRESIM_ASSIGN_OR_RETURN(s.prepared, s.model->Prepare(call, group_options));
  return params;
}

// One size to predict: the log's row it is compared with, if any.
struct Size {
  double bytes = 0;
  DataType type = DataType::kFloat32;
  const NcclTestsRow* measured = nullptr;
};

// The sizes to predict: the log's, or -b to -e by -f or -i. `config` gets what nccl-tests' -J writes of them.
Result<std::vector<Size>> SizesToPredict(const po::variables_map& vm, const CollectiveArgs& a, DataType dtype,
                                         const std::optional<NcclTestsLog>& log, nlohmann::ordered_json& config) {
  std::vector<Size> sizes;
  if (log) {
    for (const NcclTestsRow& m : log->rows) {
      const auto type = ParseDataType(m.type);
      if (!type) return InvalidInput({log->source, m.line, 0}, "type", "unknown type '" + m.type + "'");
      sizes.push_back({m.size_bytes, *type, &m});
    }
    return sizes;
  }
  auto min_bytes = ParseByteSize(a.min);
  auto max_bytes = ParseByteSize(a.max);
  if (!min_bytes.ok()) return InvalidArgument("-b: " + min_bytes.status().message());
  if (!max_bytes.ok()) return InvalidArgument("-e: " + max_bytes.status().message());
  double step = 0;
  if (vm.count("stepbytes")) {
    auto st = ParseByteSize(a.step);
    if (!st.ok() || *st <= 0) return InvalidArgument("-i: expected a positive size");
    step = *st;
  } else if (a.factor < 2) {
    return InvalidArgument("-f must be at least 2");
  }
  if (*max_bytes < *min_bytes) return InvalidArgument("-e is smaller than -b");
  config["minimum_bytes"] = static_cast<int64_t>(*min_bytes);
  config["maximum_bytes"] = static_cast<int64_t>(*max_bytes);
  if (step > 0) {
    config["step_bytes"] = static_cast<int64_t>(step);
  } else {
    config["step_factor"] = a.factor;
  }
  for (double size = *min_bytes; size <= *max_bytes; size = step > 0 ? size + step : size * a.factor) {
    sizes.push_back({size, dtype, nullptr});
    if (size == 0) break;
    if (sizes.size() > 100000) return InvalidArgument("more than 100000 sizes; use a larger -f or -i");
  }
  return sizes;
}

// Predicts every size, with its measured figures where a log row goes with it; with `table`, prints each row as soon
// as it is known (a long run shows its results as it goes).
Result<std::vector<CollectiveRow>> PredictSizes(AppContext& ctx, Setup& s, const std::vector<Size>& sizes, bool table,
                                                bool compared, CollectiveProgress& progress) {
  std::vector<CollectiveRow> rows;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const Size& z = sizes[i];
    progress.StartSize(static_cast<int>(i), z.bytes);
    s.events = 0;
    auto row = Predict(s, z.bytes, z.type);
    if (!row.ok()) {
      progress.Clear();
      return row.status();
    }
    progress.FinishSize(s.events);
    const std::optional<NcclTestsResult>* r =
        z.measured ? (z.measured->out_of_place ? &z.measured->out_of_place : &z.measured->in_place) : nullptr;
    if (r && *r) {
      row->measured = true;
      row->measured_time_us = (*r)->time_us;
      row->measured_busbw = (*r)->busbw_GBps;
      // Rows printed as 0.00 GB/s: use the time instead, which keeps its precision.
      if ((*r)->time_us > 0) {
        row->measured_busbw =
            row->size / ((*r)->time_us * 1e3) * BusBandwidthFactor(s.op, static_cast<int>(s.gpus.size()));
      }
    }
    // A size too small for one element per rank has no row; a log's rows are all kept.
    if (!z.measured && row->count <= 0) continue;
    rows.push_back(*row);
    if (table) {
      progress.Clear();
      PrintCollectiveRow(ctx.out, rows.back(), compared);
      ctx.out << std::flush;
    }
  }
  progress.Clear();
  return rows;
}

// --format json: the run's setup and every row, with the medians of |error| against a compared log.
nlohmann::ordered_json RunJson(const Setup& s, const CollectiveParams& params, const std::vector<CollectiveRow>& rows,
                               const std::optional<NcclTestsLog>& log, const std::vector<double>& big,
                               const std::vector<double>& small) {
  nlohmann::ordered_json j;
  j["topology"] = s.topo->name();
  j["op"] = std::string(ToString(s.op));
  j["gpus"] = s.gpus;
  j["ranks"] = s.gpus.size();
  j["nodes"] = s.prepared->group().nodes();
  j["model"] = s.network;
  j["nccl_version"] = params.nccl_version.ToString();
  j["launch_overhead_us"] = params.launch_overhead.ToMicroseconds();
  if (params.call_interval > Time::Zero()) j["call_interval_us"] = params.call_interval.ToMicroseconds();
  j["ranks_per_process"] = params.ranks_per_process;
  j["calibration"] = s.calibration ? nlohmann::ordered_json(s.calibration->note) : nlohmann::ordered_json();
  auto& out_rows = j["rows"] = nlohmann::ordered_json::array();
  for (const CollectiveRow& r : rows) out_rows.push_back(CollectiveRowJson(r, log.has_value()));
  if (log) {
    j["log"] = log->source;
    j["median_abs_error_1MiB_and_up"] = Median(big);
    j["median_abs_error_below_1MiB"] = Median(small);
  }
  return j;
}

// The text table's closing lines: which rows a calibration timed, then the medians of |error| against a compared
// log or nccl-tests' average bus bandwidth.
void PrintTableFooter(std::ostream& out, const Setup& s, const std::vector<CollectiveRow>& rows, bool compared,
                      const std::vector<double>& big, const std::vector<double>& small) {
  if (s.calibration) {
    // Which rows the calibration timed: a calibration that applies nowhere (another group shape, sizes outside the
    // measured ones, a filter no curve was measured under) must not pass for one that applied.
    int measured = 0, fitted = 0;
    for (const CollectiveRow& r : rows) {
      measured += r.timed_by == "measured" ? 1 : 0;
      fitted += r.timed_by == "fitted" ? 1 : 0;
    }
    if (measured + fitted == 0) {
      out << "# calibration: applied to no row (no measured curve of this group shape, sizes and --algo/--proto, no "
             "fitted correction for the algorithms chosen): the model timed every row\n";
    } else {
      out << "# calibration: timed " << measured + fitted << " of " << rows.size() << " rows (" << measured
          << " from measured curves, " << fitted << " by fitted corrections)"
          << (measured + fitted < static_cast<int>(rows.size()) ? "; the model timed the rest" : "") << "\n";
    }
  }
  if (compared) {
    out << "# error = predicted busbw / measured busbw - 1\n";
    const auto median = [](const std::vector<double>& v) {
      return v.empty() ? std::string("-") : Fixed(Median(v) * 100, 1) + "%";
    };
    out << "# median |error|, sizes >= 1 MiB: " << median(big) << " over " << big.size()
        << " rows; below 1 MiB: " << median(small) << " over " << small.size() << " rows\n";
  } else {
    double sum = 0;
    for (const CollectiveRow& r : rows) sum += r.busbw;
    out << "# Avg bus bandwidth    : " << std::fixed << std::setprecision(3)
        << (rows.empty() ? 0.0 : sum / static_cast<double>(rows.size())) << "\n";
  }
}

}  // namespace

int Collective(const Args& args, AppContext& ctx) {
  po::options_description options("options");
  CollectiveArgs a;
  AddCollectiveOptions(options, a);
  CollectiveModelOptions model_options;
  model_options.Add(options);
  po::positional_options_description positional;
  po::variables_map vm;
  if (auto code =
          ParseOptions(args, ctx, kVerb, "[--topology T] [--op OP] [--gpus LIST | --nodes N] [-b MIN -e MAX -f F]",
                       "wiresim collective --topology dgx-h100-2node --op all_reduce --nodes 2 -b 1M -e 8G", options,
                       positional, vm)) {
    return *code;
  }
  const auto fail = [&](const Status& st) { return ReportError(ctx, kVerb, st); };
  if (Status st = CheckFlags(vm, a); !st.ok()) return fail(st);
  Setup s;
  std::optional<NcclTestsLog> log;
  if (Status st = ReadTopologyAndGroup(ctx, vm, a, s, log); !st.ok()) return fail(st);
  if (Status st = ConfigureEngine(vm, model_options, s); !st.ok()) return fail(st);
  Result<CollectiveParams> params = PrepareModel(ctx, vm, a, model_options, log, s);
  if (!params.ok()) return fail(params.status());
  const auto dtype = ParseDataType(a.dtype);
  if (!dtype) return fail(InvalidArgument("--dtype: unknown type '" + a.dtype + "'"));
  nlohmann::ordered_json config;  // what nccl-tests' -J writes in "config" about the sizes
  Result<std::vector<Size>> sizes = SizesToPredict(vm, a, *dtype, log, config);
  if (!sizes.ok()) return fail(sizes.status());

  // The closed form's time of each size weighs it in the estimate of the time left: a simulation's events grow with
  // the size much as the time does.
  std::vector<double> work;
  for (const Size& z : *sizes) {
    auto p = s.prepared->Predict(z.bytes, s.filter);
    work.push_back(p.ok() ? p->time.ToMicroseconds() : 0);
  }
  CollectiveProgress progress(ctx.err, ctx.interactive && !vm.count("quiet"), s.network != "closed", work);
  s.progress = &progress;
  const bool table = a.format == "text";
  if (table) {
    ctx.out << Describe(s, *dtype);
    if (log)
      ctx.out << "# measured: " << log->source << " (" << log->rows.size() << " rows)" << s.measured_note << "\n";
    PrintCollectiveTableHeader(ctx.out, log.has_value());
    ctx.out << std::flush;
  }
  Result<std::vector<CollectiveRow>> rows = PredictSizes(ctx, s, *sizes, table, log.has_value(), progress);
  if (!rows.ok()) return fail(rows.status());

  std::vector<double> big, small;
  for (const CollectiveRow& r : *rows) {
    if (!r.measured || r.measured_busbw <= 0) continue;
    (r.size >= 1048576 ? big : small).push_back(std::fabs(r.busbw / r.measured_busbw - 1));
  }
  if (a.format == "nccl-json") {
    ctx.out << NcclTestsJson(*s.topo, s.prepared->group(), *rows, args, config).dump() << "\n";
  } else if (a.format == "json") {
    ctx.out << RunJson(s, *params, *rows, log, big, small).dump(1) << "\n";
  } else {
    PrintTableFooter(ctx.out, s, *rows, log.has_value(), big, small);
  }
  return kExitOk;
}

}  // namespace wiresim::app
