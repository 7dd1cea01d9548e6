#include "sim/calibration/fitted_calibration.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "sim/calibration/nccl_tests_import.h"
#include "sim/compute/gpu_spec.h"
#include "sim/core/numeric_field.h"
#include "sim/core/statistics.h"

namespace wiresim {
namespace {

using ojson = nlohmann::ordered_json;

// The first `nodes` hosts' first `ranks / nodes` GPUs.
Result<std::vector<int>> DefaultGpus(const Topology& topo, int ranks, int nodes) {
  std::vector<int> gpus;
  if (nodes <= 1 && (topo.hosts().empty() || static_cast<int>(topo.hosts()[0].gpus.size()) < ranks)) {
    if (ranks > topo.gpu_count()) {
      return InvalidArgument(std::to_string(ranks) + " ranks, but " + topo.name() + " has " +
                             std::to_string(topo.gpu_count()) + " GPUs");
    }
    for (int i = 0; i < ranks; ++i) gpus.push_back(i);
    return gpus;
  }
  const int per = ranks / std::max(1, nodes);
  if (static_cast<int>(topo.hosts().size()) < nodes) {
    return InvalidArgument(std::to_string(nodes) + " nodes, but " + topo.name() + " has " +
                           std::to_string(topo.hosts().size()) + " hosts");
  }
  for (int h = 0; h < std::max(1, nodes); ++h) {
    const Host& host = topo.hosts()[static_cast<size_t>(h)];
    if (static_cast<int>(host.gpus.size()) < per) {
      return InvalidArgument(std::to_string(per) + " ranks per node, but host " + host.name + " has " +
                             std::to_string(host.gpus.size()) + " GPUs");
    }
    for (int i = 0; i < per; ++i) gpus.push_back(topo.node(host.gpus[static_cast<size_t>(i)]).gpu_index);
  }
  return gpus;
}

}  // namespace

Result<std::vector<MeasuredSweep>> SweepsOf(const CalibrationProfile& profile, const Topology& topo,
                                            const FitOptions& options) {
  // Group by (op, dtype, gpus or rank shape, source file, NCCL_ALGO, NCCL_PROTO): one sweep each, sizes in the
  // profile's order.
  using Key = std::tuple<std::string, std::string, std::vector<int>, int, int, std::string, std::string, std::string,
                         bool, int, int>;
  auto file_of = [](const std::string& source) {
    const size_t colon = source.rfind(':');
    return source.substr(0, colon == std::string::npos ? source.size() : colon);
  };
  auto key_of = [&](const MeasuredCollective& m) {
    return Key{m.op,
               m.dtype,
               m.gpus,
               m.ranks,
               m.nodes,
               file_of(m.source),
               m.nccl_algo,
               m.nccl_proto,
               m.cuda_graph,
               m.calls_per_launch,
               m.ranks_per_process};
  };
  // Groups with out-of-place rows use those; the others their in-place rows.
  std::set<Key> out_of_place;
  for (const MeasuredCollective& m : profile.collectives)
    if (!m.in_place) out_of_place.insert(key_of(m));
  std::map<Key, MeasuredSweep> sweeps;
  std::vector<Key> order;
  for (const MeasuredCollective& m : profile.collectives) {
    const Key key = key_of(m);
    if (m.in_place && out_of_place.count(key)) continue;
    const auto op = ParseCollectiveOp(m.op);
    if (!op) return InvalidArgument(profile.source + ": collectives: unknown op '" + m.op + "'");
    const std::string file = std::get<5>(key);
    auto [it, added] = sweeps.emplace(key, MeasuredSweep{});
    if (added) {
      order.push_back(key);
      MeasuredSweep& s = it->second;
      s.op = *op;
      s.source = file.empty() ? profile.source : file;
      s.in_place = m.in_place;
      s.ranks_per_process = m.ranks_per_process;
      if (m.cuda_graph) {
        s.launches_per_call = 0;
        s.launch_note = "launched in CUDA graphs (-G)";
      } else if (m.calls_per_launch > 1) {
        s.launches_per_call = 1.0 / m.calls_per_launch;
        s.launch_note = "launched " + std::to_string(m.calls_per_launch) + " calls at a time (-m " +
                        std::to_string(m.calls_per_launch) + ")";
      }
      if (!m.gpus.empty()) {
        s.gpus = m.gpus;
      } else if (static_cast<int>(options.gpus.size()) == m.ranks) {
        s.gpus = options.gpus;
      } else {
        auto gpus = DefaultGpus(topo, m.ranks, m.nodes);
        if (!gpus.ok())
          return gpus.status().WithContext(profile.source + ": " + m.op + " over " + std::to_string(m.ranks) +
                                           " ranks");
        s.gpus = *gpus;
      }
      if (!m.nccl_algo.empty() || !m.nccl_proto.empty()) {
        AlgorithmFilter env;
        if (auto err = ApplyNcclEnvironment(*op, m.nccl_algo, m.nccl_proto, &env)) {
          return InvalidArgument(profile.source + ": " + s.source + ": " + *err);
        }
        const AlgorithmFilter all;
        if (env.algorithms != all.algorithms || env.protocols != all.protocols) {
          s.filter = env;
          std::string note;
          if (!m.nccl_algo.empty()) note = "NCCL_ALGO=" + m.nccl_algo;
          if (!m.nccl_proto.empty()) note += (note.empty() ? "" : " ") + ("NCCL_PROTO=" + m.nccl_proto);
          s.filter_note = note + " (the log's)";
        }
      }
    }
    MeasuredSweep::Point point;
    point.bytes = static_cast<double>(m.size);
    point.time_us = m.time_us;
    const auto algorithm = ParseAlgorithm(m.algorithm);
    const auto protocol = ParseProtocol(m.protocol);
    if (algorithm && protocol) point.choice = CollectiveChoice{*algorithm, *protocol};
    it->second.points.push_back(point);
  }
  std::vector<MeasuredSweep> out;
  for (const auto& key : order) out.push_back(std::move(sweeps[key]));
  return out;
}

Status CheckCalibrationGpu(const CalibrationProfile& profile, const Topology& topo) {
  // GEMMs and copies apply per GPU model already (the compute model takes them only on the GPU they measured).
  if (profile.collectives.empty()) return Status::Ok();
  std::set<std::string> measured;
  std::string measured_names;
  for (const std::string& name : profile.provenance.gpu_names) {
    const GpuSpec* spec = FindGpuSpecByDeviceName(name);
    if (spec == nullptr) continue;
    if (measured.insert(std::string(spec->name)).second) {
      measured_names += (measured_names.empty() ? "" : ", ") + name + " (" + std::string(spec->name) + ")";
    }
  }
  std::set<std::string> here;
  for (int g = 0; g < topo.gpu_count(); ++g) {
    const GpuSpec* spec = FindGpuSpec(topo.node(topo.gpu(g)).spec.model);
    if (spec != nullptr) here.insert(std::string(spec->name));
  }
  if (measured.empty() || here.empty()) return Status::Ok();
  std::string here_names;
  for (const std::string& h : here) here_names += (here_names.empty() ? "" : ", ") + h;
  for (const std::string& m : measured) {
    if (here.count(m) == 0) {
      return InvalidArgument(profile.source + " measured " + measured_names + ", but " + topo.name() + " has " +
                             here_names +
                             " GPUs: its measured curves and corrections carry that GPU's links and kernels, and would "
                             "time another GPU's collectives as the measured machine's. Calibrate on " +
                             topo.name() + "'s GPUs, or fit it anyway with `wiresim calibrate fit " + profile.source +
                             " --topology " + topo.name() + " --allow-other-gpu -o FITTED.json` and give FITTED.json");
    }
  }
  return Status::Ok();
}

Result<FittedCalibration> FitCalibration(const CalibrationProfile& profile, const Topology& topo,
                                         const FitOptions& options, const std::string& version) {
  FittedCalibration f;
  f.wiresim_version = version;
  f.topology = topo.name();
  f.nccl_version = options.params.nccl_version.ToString();
  if (!options.allow_other_gpu) WIRESIM_RETURN_IF_ERROR(CheckCalibrationGpu(profile, topo));
  f.other_gpu = options.allow_other_gpu && !CheckCalibrationGpu(profile, topo).ok();
  f.hbm_GBps = MeasuredHbmBandwidth(profile);
  f.gemm_measurements = static_cast<int>(profile.gemm.size());
  WIRESIM_ASSIGN_OR_RETURN(std::vector<MeasuredSweep> sweeps, SweepsOf(profile, topo, options));
  for (const MeasuredSweep& s : sweeps) f.collective_measurements += static_cast<int>(s.points.size());
  if (!sweeps.empty()) {
    CollectiveModel model(topo, options.params);
    WIRESIM_ASSIGN_OR_RETURN(f.collective, FitCollectiveCorrection(model, sweeps, options.filter, &f.sweeps));
  }
  return f;
}

std::string ToJson(const FittedCalibration& f) {
  ojson doc;
  doc["wiresim_version"] = f.wiresim_version;
  doc["topology"] = f.topology;
  if (!f.nccl_version.empty()) doc["nccl_version"] = f.nccl_version;
  if (f.other_gpu) doc["other_gpu"] = true;
  ojson entries = ojson::array();
  for (const CorrectionEntry& e : f.collective.entries) {
    entries.push_back(ojson{{"op", e.op ? std::string(ToString(*e.op)) : "*"},
                            {"link", std::string(ToString(e.link))},
                            {"algorithm", std::string(ToString(e.choice.algorithm))},
                            {"protocol", std::string(ToString(e.choice.protocol))},
                            {"launch_us", e.launch_us},
                            {"latency_scale", e.latency_scale},
                            {"knots_log2", e.knots_log2},
                            {"bandwidth_scale", e.bandwidth_scale},
                            {"points", e.points},
                            {"median_abs_error", e.median_abs_error},
                            {"sources", e.sources}});
  }
  ojson curves = ojson::array();
  for (const MeasuredCurve& c : f.collective.curves) {
    curves.push_back(ojson{{"op", std::string(ToString(c.op))},
                           {"link", std::string(ToString(c.link))},
                           {"ranks", c.ranks},
                           {"nodes", c.nodes},
                           {"bytes", c.bytes},
                           {"time_us", c.time_us},
                           {"source", c.source},
                           {"algorithms_mask", c.filter.algorithms},
                           {"protocols_mask", c.filter.protocols}});
  }
  doc["collective"] = ojson{{"measurements", f.collective_measurements},
                            {"algorithms_mask", f.collective.measured_filter.algorithms},
                            {"protocols_mask", f.collective.measured_filter.protocols},
                            {"launch_reference_us", f.collective.launch_reference_us},
                            {"curves", curves},
                            {"entries", entries}};
  doc["gemm"] = ojson{{"measurements", f.gemm_measurements}};
  doc["memory"] = f.hbm_GBps ? ojson{{"hbm_GBps", *f.hbm_GBps}} : ojson::object();
  return doc.dump();
}

Result<FittedCalibration> FittedFromJson(const std::string& json, const std::string& file) {
  auto bad = [&](const std::string& field, const std::string& what) {
    return InvalidInput(SourceLocation{file, 0, 0}, "fitted." + field, what);
  };
  // A fitted term stays within a day of microseconds either way (numeric_field.h), so no time formed from it leaves
  // Time's range.
  constexpr NumericRange kFittedTerm{-kMaxMeasuredMicroseconds, false,    kMaxMeasuredMicroseconds, false,
                                     "a fitted term",           "8.64e10"};
  auto check = [&](const std::string& field, double v, const NumericRange& range) {
    return CheckNumber(SourceLocation{file, 0, 0}, "fitted." + field, v, range);
  };
  // A launch per call: from none up to a second.
  constexpr NumericRange kLaunchReference{0, false, 1e6, false, "microseconds", "10^6"};
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception&) {
    return bad("", "not valid JSON");
  }
  FittedCalibration f;
  try {
    f.wiresim_version = doc.value("wiresim_version", "");
    f.topology = doc.value("topology", "");
    f.nccl_version = doc.value("nccl_version", "");
    if (!f.nccl_version.empty()) {
      Result<NcclVersion> v = ParseNcclVersion(f.nccl_version);
      if (!v.ok()) return bad("nccl_version", v.status().message());
    }
    f.other_gpu = doc.value("other_gpu", false);
    if (doc.contains("memory") && doc["memory"].contains("hbm_GBps")) {
      f.hbm_GBps = doc["memory"]["hbm_GBps"];
      WIRESIM_RETURN_IF_ERROR(check("memory.hbm_GBps", *f.hbm_GBps, kBandwidthGBps));
    }
    if (doc.contains("gemm")) f.gemm_measurements = doc["gemm"].value("measurements", 0);
    if (doc.contains("collective")) {
      f.collective_measurements = doc["collective"].value("measurements", 0);
      f.collective.measured_filter.algorithms =
          doc["collective"].value("algorithms_mask", f.collective.measured_filter.algorithms);
      f.collective.measured_filter.protocols =
          doc["collective"].value("protocols_mask", f.collective.measured_filter.protocols);
      f.collective.launch_reference_us =
          doc["collective"].value("launch_reference_us", f.collective.launch_reference_us);
      WIRESIM_RETURN_IF_ERROR(
          check("collective.launch_reference_us", f.collective.launch_reference_us, kLaunchReference));
      int i = 0;
      for (const auto& j : doc["collective"].value("entries", nlohmann::json::array())) {
        const std::string at = "collective.entries[" + std::to_string(i++) + "].";
        CorrectionEntry e;
        const std::string op = j.value("op", "*");
        if (op != "*") {
          e.op = ParseCollectiveOp(op);
          if (!e.op) return bad(at + "op", "unknown operation '" + op + "'");
        }
        const auto link = ParseLinkClass(j.value("link", ""));
        const auto algorithm = ParseAlgorithm(j.value("algorithm", ""));
        const auto protocol = ParseProtocol(j.value("protocol", ""));
        if (!link) return bad(at + "link", "expected nvlink, pcie or network");
        if (!algorithm || !protocol) return bad(at + "algorithm", "unknown algorithm or protocol");
        e.link = *link;
        e.choice = CollectiveChoice{*algorithm, *protocol};
        e.launch_us = j.value("launch_us", 0.0);
        e.latency_scale = j.value("latency_scale", 1.0);
        e.knots_log2 = j.value("knots_log2", std::vector<double>{});
        e.bandwidth_scale = j.value("bandwidth_scale", std::vector<double>{});
        if (e.knots_log2.size() != e.bandwidth_scale.size() ||
            !std::is_sorted(e.knots_log2.begin(), e.knots_log2.end())) {
          return bad(at + "knots_log2", "needs ascending knots, one bandwidth_scale each");
        }
        WIRESIM_RETURN_IF_ERROR(check(at + "launch_us", e.launch_us, kFittedTerm));
        WIRESIM_RETURN_IF_ERROR(check(at + "latency_scale", e.latency_scale, kFittedTerm));
        for (double v : e.knots_log2) WIRESIM_RETURN_IF_ERROR(check(at + "knots_log2", v, kFittedTerm));
        for (double v : e.bandwidth_scale) WIRESIM_RETURN_IF_ERROR(check(at + "bandwidth_scale", v, kFittedTerm));
        e.points = j.value("points", 0);
        e.median_abs_error = j.value("median_abs_error", 0.0);
        e.sources = j.value("sources", std::vector<std::string>{});
        f.collective.entries.push_back(std::move(e));
      }
      i = 0;
      for (const auto& j : doc["collective"].value("curves", nlohmann::json::array())) {
        const std::string at = "collective.curves[" + std::to_string(i++) + "].";
        MeasuredCurve c;
        const auto op = ParseCollectiveOp(j.value("op", ""));
        const auto link = ParseLinkClass(j.value("link", ""));
        if (!op) return bad(at + "op", "unknown operation");
        if (!link) return bad(at + "link", "expected nvlink, pcie or network");
        c.op = *op;
        c.link = *link;
        c.ranks = j.value("ranks", 0);
        c.nodes = j.value("nodes", 1);
        c.bytes = j.value("bytes", std::vector<double>{});
        c.time_us = j.value("time_us", std::vector<double>{});
        c.source = j.value("source", "");
        c.filter.algorithms = j.value("algorithms_mask", f.collective.measured_filter.algorithms);
        c.filter.protocols = j.value("protocols_mask", f.collective.measured_filter.protocols);
        if (c.bytes.size() != c.time_us.size() || !std::is_sorted(c.bytes.begin(), c.bytes.end()) || c.ranks < 1) {
          return bad(at + "bytes", "needs ascending sizes, one time each, and ranks >= 1");
        }
        for (double t : c.time_us) WIRESIM_RETURN_IF_ERROR(check(at + "time_us", t, kMeasuredMicroseconds));
        for (double b : c.bytes) WIRESIM_RETURN_IF_ERROR(check(at + "bytes", b, kMessageBytes));
        WIRESIM_RETURN_IF_ERROR(check(at + "nodes", c.nodes, kRankCount));
        WIRESIM_RETURN_IF_ERROR(check(at + "ranks", c.ranks, kRankCount));
        f.collective.curves.push_back(std::move(c));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return bad("", "a field has the wrong type (" + InputExcerpt(e.what(), 200) + ")");
  }
  return f;
}

Result<GemmTable> GemmTableOf(const CalibrationProfile& profile) {
  if (profile.gemm.empty()) return InvalidArgument(profile.source + ": the profile has no GEMM measurements");
  std::vector<GemmMeasurement> m;
  for (const MeasuredGemm& g : profile.gemm) {
    m.push_back(GemmMeasurement{g.m, g.n, g.k, g.dtype, Time::FromMicroseconds(g.time_us)});
  }
  return GemmTable::Build(m);
}

std::optional<double> MeasuredHbmBandwidth(const CalibrationProfile& profile) {
  std::vector<double> big, all;
  for (const MeasuredCopy& c : profile.memory) {
    if (c.kind != "d2d_copy" || !(c.bandwidth_GBps > 0)) continue;
    all.push_back(c.bandwidth_GBps);
    if (c.bytes >= (int64_t{256} << 20)) big.push_back(c.bandwidth_GBps);
  }
  if (all.empty()) return std::nullopt;
  return Median(big.empty() ? std::move(all) : std::move(big));
}

Result<NcclVersionChoice> ChooseNcclVersion(std::string_view given, std::string_view given_by,
                                            const CalibrationProfile* profile) {
  NcclVersionChoice out;
  std::optional<NcclVersion> measured;
  std::string measured_text;
  if (profile != nullptr && !profile->provenance.nccl_version.empty()) {
    measured_text = profile->provenance.nccl_version;
    Result<NcclVersion> v = ParseNcclVersion(measured_text);
    if (v.ok()) measured = *v;
  }
  if (!given.empty()) {
    Result<NcclVersion> v = ParseNcclVersion(given);
    if (!v.ok()) return InvalidArgument(std::string(given_by) + ": " + v.status().message());
    out.version = *v;
    out.note = "NCCL " + out.version.ToString() + " (" + std::string(given_by) + ")";
    if (!measured_text.empty() && (!measured || measured->minor != out.version.minor)) {
      out.note += "; the calibration profile was measured with NCCL " + measured_text;
    }
    return out;
  }
  if (measured) {
    out.version = *measured;
    out.note = "NCCL " + out.version.ToString() + " (the calibration profile's)";
    return out;
  }
  out.version = NcclVersion::Newest();
  out.note = "NCCL " + out.version.ToString() + " (the newest modelled)";
  if (!measured_text.empty()) {
    out.note += "; the calibration profile's NCCL " + measured_text + " is not one wiresim models (2." +
                std::to_string(NcclVersion::kOldestMinor) + " to 2." + std::to_string(NcclVersion::kNewestMinor) + ")";
  }
  return out;
}

}  // namespace wiresim
