#include "sim/app/plan_report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/app/number_format.h"
#include "sim/core/output_file.h"

namespace wiresim::app {
namespace {

std::string Percent(double f) { return Fixed(100.0 * f, 1) + "%"; }

std::string Cell(const std::string& text, int width, bool left = false) {
  if (static_cast<int>(text.size()) >= width) return left ? text + " " : text;
  return left ? text + std::string(static_cast<size_t>(width) - text.size(), ' ') : Right(text, width);
}

std::string RowLabel(const PlanRow& r) {
  std::string s = r.c.PlanLabel();
  if (!r.c.weight_dtype.empty()) s += " w:" + r.c.weight_dtype;
  if (!r.c.kv_dtype.empty() && r.c.kv_dtype != "auto") s += " kv:" + r.c.kv_dtype;
  return s;
}

// Returns whether a row it printed had stopped early.
bool PrintTable(std::ostream& out, const std::vector<PlanRow>& rows, size_t limit, bool has_slo) {
  bool stopped = false;
  out << Cell("rank", 4) << "  " << Cell("plan", 26, true) << Cell("placement", 10, true) << Cell("seqs", 5)
      << Cell("GPUs", 6) << Cell("TTFT p50/p99 ms", 20) << Cell("TPOT p50/p99 ms", 18) << Cell("out tok/s", 11)
      << Cell("tok/s/GPU", 10) << Cell("tok/s/user", 11) << Cell(has_slo ? "goodput" : "served", 9)
      << Cell("SLO met", 8) << Cell("bubble", 7) << Cell("exposed", 8) << "\n";
  for (size_t i = 0; i < rows.size() && i < limit; ++i) {
    const PlanRow& r = rows[i];
    if (r.fate != CandidateFate::kSimulated) break;
    out << Cell(std::to_string(i + 1), 4) << "  " << Cell(RowLabel(r), 26, true) << Cell(r.c.placement, 10, true)
        << Cell(std::to_string(r.c.max_num_seqs), 5) << Cell(std::to_string(r.c.gpus), 6);
    if (r.stopped) {
      // Not measured: the run stopped once the SLO was out of reach; the attainment is the most it could reach.
      out << Cell("stopped at " + Fixed(r.stopped_at_s, 1) + " s", 20) << Cell("-", 18) << Cell("-", 11)
          << Cell("-", 10) << Cell("-", 11) << Cell("-", 9) << Cell("<" + Percent(r.attainment), 8) << Cell("-", 7)
          << Cell("-", 8) << "\n";
      stopped = true;
      continue;
    }
    out << Cell(Fixed(r.ttft_p50_ms, 1) + " / " + Fixed(r.ttft_p99_ms, 1), 20)
        << Cell(Fixed(r.tpot_p50_ms, 1) + " / " + Fixed(r.tpot_p99_ms, 1), 18)
        << Cell(Fixed(r.output_throughput, 1), 11) << Cell(Fixed(r.PerGpu(), 1), 10)
        << Cell(Fixed(r.TokensPerUser(), 1), 11) << Cell(Fixed(r.ranked_goodput, 2), 9)
        << Cell(has_slo ? Percent(r.attainment) : (r.failed == 0 ? "yes" : "no"), 8) << Cell(Percent(r.bubble), 7)
        << Cell(Percent(r.exposed), 8) << "\n";
  }
  return stopped;
}

// Why the first row ranks above the second, in the figures the objective and the SLO use.
std::string WhyFirst(const PlanRow& a, const PlanRow& b, PlanObjective objective, bool has_slo) {
  std::ostringstream s;
  s << "  over " << RowLabel(b) << " (" << b.c.placement << "): ";
  if (a.stopped || b.stopped) {
    // A stopped run has no latencies to compare; say how far each got.
    auto judged = [](const PlanRow& r) {
      return "stopped at " + Fixed(r.stopped_at_s, 1) + " s with " + Percent(r.JudgedAttainment()) +
             " of the requests judged by then meeting the SLO";
    };
    s << (a.stopped ? "its run " + judged(a) : "it ran to the end, the SLO met for " + Percent(a.attainment))
      << "; the other's " << judged(b);
    return s.str();
  }
  if (a.meets_slo && !b.meets_slo) {
    s << "it meets the SLO for " << Percent(a.attainment) << " of requests, the other for " << Percent(b.attainment);
  } else {
    switch (objective) {
      case PlanObjective::kGoodput:
        s << (has_slo ? "goodput " : "served ") << Fixed(a.ranked_goodput, 2) << " vs " << Fixed(b.ranked_goodput, 2)
          << " req/s";
        if (has_slo) s << " (SLO met for " << Percent(a.attainment) << " vs " << Percent(b.attainment) << ")";
        break;
      case PlanObjective::kThroughputPerGpu:
        s << Fixed(a.PerGpu(), 1) << " vs " << Fixed(b.PerGpu(), 1) << " output tok/s per GPU";
        break;
      case PlanObjective::kMinGpus:
        s << a.c.gpus << " vs " << b.c.gpus << " GPUs";
        break;
      case PlanObjective::kLatency:
        s << "p99 E2EL " << Fixed(a.e2el_p99_ms, 1) << " vs " << Fixed(b.e2el_p99_ms, 1) << " ms";
        break;
    }
  }
  s << "; TPOT p50 " << Fixed(a.tpot_p50_ms, 1) << " vs " << Fixed(b.tpot_p50_ms, 1) << " ms, exposed collectives "
    << Percent(a.exposed) << " vs " << Percent(b.exposed) << ", bubble " << Percent(a.bubble) << " vs "
    << Percent(b.bubble);
  return s.str();
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string PlansCsv(const PlanSearchOutcome& o) {
  std::ostringstream s;
  s.precision(10);
  s << "rank,plan,placement,weight_dtype,kv_dtype,max_num_seqs,max_num_batched_tokens,gpus,fate,ttft_p50_ms,"
       "ttft_p99_ms,tpot_p50_ms,tpot_p99_ms,e2el_p99_ms,output_throughput,output_throughput_per_gpu,"
       "tokens_per_s_per_user,request_throughput,request_goodput,ranked_goodput,slo_attainment,meets_slo,bubble,"
       "exposed_collectives,"
       "tpot_bound_ms,gpus_in_rank_order,why,stopped_at_s,missed\n";
  for (size_t i = 0; i < o.rows.size(); ++i) {
    const PlanRow& r = o.rows[i];
    const bool sim = r.fate == CandidateFate::kSimulated;
    s << (sim ? std::to_string(i + 1) : "") << "," << CsvField(r.c.PlanLabel()) << "," << r.c.placement << ","
      << r.c.weight_dtype << "," << r.c.kv_dtype << "," << r.c.max_num_seqs << "," << r.c.max_num_batched_tokens << ","
      << r.c.gpus << "," << CsvField(std::string(ToString(r.fate)));
    if (sim && r.stopped) {
      s << std::string(12, ',') << r.attainment << ",0,,";  // 11 latency and rate columns empty
    } else if (sim) {
      s << "," << r.ttft_p50_ms << "," << r.ttft_p99_ms << "," << r.tpot_p50_ms << "," << r.tpot_p99_ms << ","
        << r.e2el_p99_ms << "," << r.output_throughput << "," << r.PerGpu() << "," << r.TokensPerUser() << ","
        << r.request_throughput << "," << r.goodput << "," << r.ranked_goodput << "," << r.attainment << ","
        << (r.meets_slo ? 1 : 0) << "," << r.bubble << "," << r.exposed;
    } else {
      s << ",,,,,,,,,,,,,,,";
    }
    s << "," << r.tpot_bound_ms << "," << CsvField(r.placement_used) << "," << CsvField(r.why) << ",";
    if (r.stopped) {
      s << r.stopped_at_s << "," << r.missed << "\n";
    } else {
      s << ",\n";
    }
  }
  return s.str();
}

}  // namespace

std::string PlansJson(const PlanSearchOutcome& o, const Scenario& s, const PlanSearchOptions& opt) {
  nlohmann::ordered_json j;
  j["model"] = s.model;
  j["topology"] = s.topology;
  j["gpus"] = opt.gpu_pool;
  j["objective"] = ToString(opt.objective);
  j["slo"] = {{"ttft_ms", s.slo_ttft_ms}, {"tpot_ms", s.slo_tpot_ms}, {"e2el_ms", s.slo_e2el_ms}};
  j["attainment"] = opt.attainment;
  j["counts"] = {{"considered", o.considered},
                 {"invalid", o.invalid},
                 {"pruned_memory", o.pruned_memory},
                 {"pruned_slo_bound", o.pruned_bound},
                 {"pruned_objective", o.pruned_objective},
                 {"pruned_placement_score", o.pruned_placement},
                 {"simulated", o.simulated},
                 {"stopped_early", o.stopped},
                 {"failed", o.failed},
                 {"duplicate", o.duplicate},
                 {"simulations", o.simulations}};
  auto rows = [](const std::vector<PlanRow>& v) {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (const PlanRow& r : v) {
      nlohmann::ordered_json e = nlohmann::ordered_json::parse(r.ToJson());
      e["fate"] = std::string(ToString(r.fate));
      e.erase("layout");
      e["output_throughput_per_gpu"] = r.PerGpu();
      e["tokens_per_s_per_user"] = r.TokensPerUser();
      a.push_back(std::move(e));
    }
    return a;
  };
  j["rows"] = rows(o.rows);
  j["fewest_gpus"] = rows(o.fewest);
  j["pareto"] = o.pareto;  // indices into rows
  return j.dump(2) + "\n";
}

namespace {

// A scatter of every simulated row (output tok/s per GPU against tok/s per user), the front joined and labelled.
std::string ParetoSvg(const PlanSearchOutcome& o, const std::string& title) {
  const double w = 720, h = 460, left = 70, right = 20, top = 40, bottom = 50;
  double xmax = 0, ymax = 0;
  for (const PlanRow& r : o.rows) {
    if (r.fate != CandidateFate::kSimulated || r.stopped) continue;
    xmax = std::max(xmax, r.TokensPerUser());
    ymax = std::max(ymax, r.PerGpu());
  }
  auto nice = [](double v) {  // a round axis end at or above v
    if (v <= 0) return 1.0;
    const double p = std::pow(10.0, std::floor(std::log10(v)));
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
      if (m * p >= v) return m * p;
    }
    return 10 * p;
  };
  xmax = nice(xmax * 1.05);
  ymax = nice(ymax * 1.05);
  auto X = [&](double v) { return left + (w - left - right) * v / xmax; };
  auto Y = [&](double v) { return h - bottom - (h - top - bottom) * v / ymax; };
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(1);
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w << "\" height=\"" << h
    << "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  s << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  std::string escaped;
  for (char c : title) escaped += c == '<' ? "&lt;" : c == '&' ? "&amp;" : std::string(1, c);
  s << "<text x=\"" << w / 2 << "\" y=\"20\" text-anchor=\"middle\" font-size=\"13\">" << escaped << "</text>\n";
  for (int i = 0; i <= 5; ++i) {
    const double xv = xmax * i / 5, yv = ymax * i / 5;
    s << "<line x1=\"" << X(xv) << "\" y1=\"" << Y(0) << "\" x2=\"" << X(xv) << "\" y2=\"" << Y(ymax)
      << "\" stroke=\"#eee\"/>\n";
    s << "<line x1=\"" << X(0) << "\" y1=\"" << Y(yv) << "\" x2=\"" << X(xmax) << "\" y2=\"" << Y(yv)
      << "\" stroke=\"#eee\"/>\n";
    s << "<text x=\"" << X(xv) << "\" y=\"" << h - bottom + 16 << "\" text-anchor=\"middle\">" << Short(xv)
      << "</text>\n";
    s << "<text x=\"" << left - 6 << "\" y=\"" << Y(yv) + 4 << "\" text-anchor=\"end\">" << Short(yv) << "</text>\n";
  }
  s << "<line x1=\"" << X(0) << "\" y1=\"" << Y(0) << "\" x2=\"" << X(xmax) << "\" y2=\"" << Y(0)
    << "\" stroke=\"black\"/>\n";
  s << "<line x1=\"" << X(0) << "\" y1=\"" << Y(0) << "\" x2=\"" << X(0) << "\" y2=\"" << Y(ymax)
    << "\" stroke=\"black\"/>\n";
  s << "<text x=\"" << (left + w - right) / 2 << "\" y=\"" << h - 12
    << "\" text-anchor=\"middle\">tokens/s per user (1000 / median TPOT ms)</text>\n";
  s << "<text transform=\"translate(16," << (top + h - bottom) / 2
    << ") rotate(-90)\" text-anchor=\"middle\">output tokens/s per GPU</text>\n";
  for (const PlanRow& r : o.rows) {
    if (r.fate != CandidateFate::kSimulated || r.stopped) continue;
    s << "<circle cx=\"" << X(r.TokensPerUser()) << "\" cy=\"" << Y(r.PerGpu()) << "\" r=\"3\" fill=\"#bbb\"><title>"
      << RowLabel(r) << "</title></circle>\n";
  }
  std::string path;
  for (size_t i : o.pareto) {
    const PlanRow& r = o.rows[i];
    std::ostringstream p;
    p.setf(std::ios::fixed);
    p.precision(1);
    p << (path.empty() ? "M" : " L") << X(r.TokensPerUser()) << "," << Y(r.PerGpu());
    path += p.str();
  }
  if (!path.empty()) s << "<path d=\"" << path << "\" fill=\"none\" stroke=\"#1f5fbf\" stroke-width=\"1.5\"/>\n";
  for (size_t i : o.pareto) {
    const PlanRow& r = o.rows[i];
    s << "<circle cx=\"" << X(r.TokensPerUser()) << "\" cy=\"" << Y(r.PerGpu())
      << "\" r=\"4.5\" fill=\"#1f5fbf\"/>\n<text x=\"" << X(r.TokensPerUser()) + 6 << "\" y=\"" << Y(r.PerGpu()) - 6
      << "\">" << RowLabel(r) << "</text>\n";
  }
  s << "</svg>\n";
  return s.str();
}

}  // namespace

void PrintReport(std::ostream& out, const PlanSearchOutcome& o, const Scenario& s, const PlanSearchOptions& opt,
                 int topo_gpus, size_t top) {
  out << "wiresim plan: " << s.model << " on " << s.topology << ", " << opt.gpu_pool.size() << " of " << topo_gpus
      << " GPUs; objective " << ToString(opt.objective);
  if (o.has_slo) {
    out << "; SLO";
    std::string sep = " ";
    for (const auto& [name, ms] :
         {std::pair<const char*, double>{"TTFT", s.slo_ttft_ms}, {"TPOT", s.slo_tpot_ms}, {"E2EL", s.slo_e2el_ms}}) {
      if (ms <= 0) continue;
      out << sep << name << " <= " << Short(ms) << " ms";
      sep = ", ";
    }
    out << " for " << Short(100.0 * opt.attainment) << "% of requests";
  }
  out << "\n";
  out << "  workload: " << (o.workload.input.empty() ? s.requests : static_cast<int64_t>(o.workload.input.size()))
      << " requests";
  if (!s.trace.empty()) {
    out << " from " << s.trace;
  } else if (s.max_concurrency > 0) {
    out << ", at most " << s.max_concurrency << " in flight";
  } else if (s.rate_inf) {
    out << ", all at t=0";
  } else {
    out << " at " << Short(s.rate) << " req/s";
  }
  out << "; engine " << s.engine << ", " << s.network << " network\n";
  out << "  plans considered: " << o.considered << "; invalid for the model: " << o.invalid
      << "; do not fit in memory: " << o.pruned_memory << "; cannot meet the SLO (bounds): " << o.pruned_bound
      << "; below the objective's best (ceilings): " << o.pruned_objective << "; simulated: " << o.simulated;
  if (o.duplicate > 0) out << "; placements that came out the same: " << o.duplicate;
  if (o.pruned_placement > 0) out << "; placements the score rules out: " << o.pruned_placement;
  if (o.failed > 0) out << "; failed: " << o.failed;
  out << " (" << o.simulations << " simulations in all";
  if (o.stopped > 0) out << "; " << o.stopped << " stopped early, out of reach of the SLO";
  out << ")\n\n";
  if (PrintTable(out, o.rows, top, o.has_slo)) {
    out << "  stopped at T s: by T more requests had missed the SLO than " << Short(100.0 * (1.0 - opt.attainment))
        << "% of the workload, so the plan cannot meet it; the rest of its run was not simulated (--full-runs "
           "simulates it)\n";
  }
  if (o.simulated == 0) {
    out << "\nNo plan was simulated: every candidate was invalid, did not fit or could not meet the SLO (below).\n";
  } else {
    const PlanRow& best = o.rows[0];
    out << "\nBest: " << RowLabel(best) << ", placement " << best.c.placement << " (GPUs in rank order "
        << best.placement_used << ")";
    if (o.has_slo && !best.meets_slo) out << ": no plan meets the SLO; this one comes closest";
    out << "\n";
    for (const std::string& line : best.placement_notes) out << "  " << line << "\n";
    if (o.simulated > 1) out << WhyFirst(best, o.rows[1], opt.objective, o.has_slo) << "\n";
  }
  if (o.has_slo) {
    out << "\nFewest GPUs that meet the SLO at this traffic (fewest replicas of the best plans, by bisection):\n";
    if (o.fewest.empty()) out << "  none: no simulated plan meets the SLO with all its replicas\n";
    size_t listed = 0;
    for (const PlanRow& r : o.fewest) {
      if (listed++ == top) {
        out << "  ... and " << o.fewest.size() - top << " more (in plans.json)\n";
        break;
      }
      out << "  " << Cell(std::to_string(r.c.gpus), 4) << (r.c.gpus == 1 ? " GPU:  " : " GPUs: ") << RowLabel(r) << " ("
          << r.c.placement << "), SLO met for " << Percent(r.attainment) << ", goodput " << Fixed(r.ranked_goodput, 2)
          << " req/s\n";
    }
  }
  if (!o.pareto.empty()) {
    out << "\nPareto front, output tokens/s per GPU against tokens/s per user:\n";
    out << "  " << Cell("tok/s/user", 10) << Cell("tok/s/GPU", 11) << "  plan\n";
    for (size_t i : o.pareto) {
      const PlanRow& r = o.rows[i];
      out << "  " << Cell(Fixed(r.TokensPerUser(), 1), 10) << Cell(Fixed(r.PerGpu(), 1), 11) << "  " << RowLabel(r)
          << " (" << r.c.placement << ", max-num-seqs " << r.c.max_num_seqs << ")\n";
    }
  }
  // Candidates that differ only in placement and were not simulated for the same reason (memory, the bounds) are one
  // line, naming the placements.
  std::vector<std::pair<std::string, std::vector<std::string>>> lines;  // (label, fate, why) -> placements
  std::map<std::string, size_t> line_of;
  for (const PlanRow& r : o.rows) {
    if (r.fate == CandidateFate::kSimulated) continue;
    std::string text = Cell(RowLabel(r), 22, true) + Cell(std::string(ToString(r.fate)), 24, true) + r.why;
    auto [it, fresh] = line_of.emplace(text, lines.size());
    if (fresh) lines.emplace_back(std::move(text), std::vector<std::string>{});
    lines[it->second].second.push_back(r.c.placement);
  }
  size_t shown = 0, skipped = 0;
  for (const auto& [text, placements] : lines) {
    if (shown == 0) out << "\nNot simulated:\n";
    if (shown < top) {
      out << "  " << text;
      if (placements.size() > 1) {
        out << " (placements";
        for (size_t i = 0; i < placements.size(); ++i) out << (i ? ", " : " ") << placements[i];
        out << ")";
      }
      out << "\n";
      ++shown;
    } else {
      ++skipped;
    }
  }
  if (skipped > 0) out << "  ... and " << skipped << " more (--top shows more; every row is in plans.csv)\n";
}

Status WriteOutputs(const std::string& dir, const PlanSearchOutcome& o, const Scenario& s,
                    const PlanSearchOptions& opt) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return InvalidArgument("--out " + dir + ": cannot create the directory: " + ec.message());
  const std::filesystem::path p(dir);
  WIRESIM_RETURN_IF_ERROR(WriteFileAtomically((p / "plans.csv").string(), PlansCsv(o)));
  WIRESIM_RETURN_IF_ERROR(WriteFileAtomically((p / "plans.json").string(), PlansJson(o, s, opt)));
  WIRESIM_RETURN_IF_ERROR(WriteFileAtomically(
      (p / "pareto.svg").string(),
      ParetoSvg(o, s.model + " on " + s.topology + ": output tokens/s per GPU vs tokens/s per user")));
  return Status::Ok();
}

}  // namespace wiresim::app
