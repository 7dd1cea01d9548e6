#include "sim/calibration/fitted_calibration.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

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
  // Group by (op, dtype, gpus or rank shape, source file): one sweep each, sizes in the profile's order.
  std::map<std::tuple<std::string, std::string, std::vector<int>, int, int, std::string>, MeasuredSweep> sweeps;
  std::vector<std::tuple<std::string, std::string, std::vector<int>, int, int, std::string>> order;
  for (const MeasuredCollective& m : profile.collectives) {
    if (m.in_place) continue;
    const auto op = ParseCollectiveOp(m.op);
    if (!op) return InvalidArgument(profile.source + ": collectives: unknown op '" + m.op + "'");
    const std::string file =
        m.source.substr(0, m.source.rfind(':') == std::string::npos ? m.source.size() : m.source.rfind(':'));
    auto key = std::make_tuple(m.op, m.dtype, m.gpus, m.ranks, m.nodes, file);
    auto [it, added] = sweeps.emplace(key, MeasuredSweep{});
    if (added) {
      order.push_back(key);
      it->second.op = *op;
      it->second.source = file.empty() ? profile.source : file;
      if (!m.gpus.empty()) {
        it->second.gpus = m.gpus;
      } else if (static_cast<int>(options.gpus.size()) == m.ranks) {
        it->second.gpus = options.gpus;
      } else {
        auto gpus = DefaultGpus(topo, m.ranks, m.nodes);
        if (!gpus.ok())
          return gpus.status().WithContext(profile.source + ": " + m.op + " over " + std::to_string(m.ranks) +
                                           " ranks");
        it->second.gpus = *gpus;
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

Result<FittedCalibration> FitCalibration(const CalibrationProfile& profile, const Topology& topo,
                                         const FitOptions& options, const std::string& version) {
  FittedCalibration f;
  f.wiresim_version = version;
  f.topology = topo.name();
  f.hbm_GBps = MeasuredHbmBandwidth(profile);
  f.gemm_measurements = static_cast<int>(profile.gemm.size());
  WIRESIM_ASSIGN_OR_RETURN(std::vector<MeasuredSweep> sweeps, SweepsOf(profile, topo, options));
  for (const MeasuredSweep& s : sweeps) f.collective_measurements += static_cast<int>(s.points.size());
  if (!sweeps.empty()) {
    CollectiveModel model(topo, options.params);
    WIRESIM_ASSIGN_OR_RETURN(f.collective, FitCollectiveCorrection(model, sweeps, options.filter));
  }
  return f;
}

std::string ToJson(const FittedCalibration& f) {
  ojson doc;
  doc["wiresim_version"] = f.wiresim_version;
  doc["topology"] = f.topology;
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
                           {"source", c.source}});
  }
  doc["collective"] = ojson{{"measurements", f.collective_measurements},
                            {"algorithms_mask", f.collective.measured_filter.algorithms},
                            {"protocols_mask", f.collective.measured_filter.protocols},
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

}  // namespace wiresim
