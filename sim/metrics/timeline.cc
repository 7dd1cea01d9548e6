#include "sim/metrics/timeline.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>
#include <utility>

namespace wiresim {
namespace {

// Process ids. Perfetto and chrome://tracing show processes by sort index; the ids only need to be distinct.
constexpr int kRequestsPid = 1;
constexpr int kCounterProcessPid = 100;  // + index of AddCounterSeries' process
constexpr int kReplicaPid = 1000;        // + replica
constexpr int kGpuPid = 1000000;         // + gpu
// A GPU's tracks: track k (0 compute, 1 + dimension index) has thread ids 100k + 1, 100k + 2, ... (one per lane:
// slices of one track that overlap are spread over lanes, as Perfetto wants slices of one thread nested).
constexpr int kLaneStride = 100;

// The dimensions in the order the run report prints them; track 1 + i is kDimOrder[i].
constexpr ParallelDim kDimOrder[] = {ParallelDim::kTp, ParallelDim::kPp, ParallelDim::kEp, ParallelDim::kCp,
                                     ParallelDim::kDp};

int TrackOf(ParallelDim dim) {
  for (int i = 0; i < 5; ++i) {
    if (kDimOrder[i] == dim) return 1 + i;
  }
  return 1;
}

std::string TrackName(int track) {
  if (track == 0) return "compute";
  const ParallelDim dim = kDimOrder[track - 1];
  if (dim == ParallelDim::kPp) return "PP send/recv";
  return std::string(ToString(dim)) + " collectives";
}

void AppendEscaped(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string Quoted(std::string_view text) {
  std::string s;
  AppendEscaped(s, text);
  return s;
}

// A double as JSON: shortest text that reads back as the same value ("%.17g" trimmed is not shortest; 12
// significant digits is ample for counters and byte counts and is stable across runs).
std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.12g", v);
  return buf;
}

std::string Metadata(std::string_view name, int pid, int tid, std::string_view key, const std::string& value) {
  std::string s = "{\"ph\":\"M\",\"name\":";
  AppendEscaped(s, name);
  s += ",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid) + ",\"args\":{";
  AppendEscaped(s, key);
  s += ":" + value + "}}";
  return s;
}

}  // namespace

std::string MicrosecondsText(Time t) {
  const int64_t ps = t.picoseconds();
  const bool negative = ps < 0;
  const uint64_t a = negative ? static_cast<uint64_t>(-(ps + 1)) + 1 : static_cast<uint64_t>(ps);
  std::string s = (negative ? "-" : "") + std::to_string(a / 1000000);
  uint64_t frac = a % 1000000;
  if (frac != 0) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%06llu", static_cast<unsigned long long>(frac));
    std::string f = buf;
    while (!f.empty() && f.back() == '0') f.pop_back();
    s += "." + f;
  }
  return s;
}

void Timeline::AddGpu(int gpu, int replica, std::string label) { gpus_.push_back({gpu, replica, std::move(label)}); }

bool Timeline::InWindow(Time begin, Time end) const {
  return begin <= options_.window_end && end >= options_.window_begin;
}

void Timeline::Record(const Slice& s) {
  if (!InWindow(s.begin, s.end)) return;
  if (static_cast<int64_t>(slices_.size()) >= options_.max_slices) {
    ++dropped_;
    return;
  }
  slices_.push_back(s);
}

void Timeline::OnKernelDetail(int gpu, Time begin, Time end, const OpDetail& op) {
  Record(Slice{begin, end, gpu, 0, op.name, op.layer, op.phase, 0});
}

void Timeline::OnCollectiveDetail(int gpu, Time started, Time done, ParallelDim dim, const OpDetail& op) {
  Record(Slice{started, done, gpu, TrackOf(dim), op.name, op.layer, op.phase, op.bytes});
}

void Timeline::AddServingSeries(const ServingSeries& series) {
  std::map<int, int> max_dp;  // per replica
  for (const ReplicaSample& s : series.samples) max_dp[s.replica] = std::max(max_dp[s.replica], s.dp_rank);
  // Per (replica, DP rank): the last sample before the window, shown at the window's start.
  std::map<std::pair<int, int>, const ReplicaSample*> before;
  std::map<std::pair<int, int>, bool> started;
  auto emit = [&](const ReplicaSample& s, Time at) {
    const int pid = kReplicaPid + s.replica;
    const std::string suffix = max_dp[s.replica] > 0 ? " (DP rank " + std::to_string(s.dp_rank) + ")" : "";
    const double fraction =
        s.kv_blocks > 0 ? static_cast<double>(s.kv_used_blocks) / static_cast<double>(s.kv_blocks) : 0.0;
    counters_.push_back({at, pid, "batch size" + suffix, {{"sequences", static_cast<double>(s.batch)}}});
    counters_.push_back({at,
                         pid,
                         "requests" + suffix,
                         {{"running", static_cast<double>(s.running)}, {"waiting", static_cast<double>(s.waiting)}}});
    counters_.push_back({at, pid, "KV cache blocks" + suffix, {{"in use", static_cast<double>(s.kv_used_blocks)}}});
    counters_.push_back({at, pid, "KV cache usage" + suffix, {{"fraction", fraction}}});
  };
  for (const ReplicaSample& s : series.samples) {
    if (std::find(replicas_.begin(), replicas_.end(), s.replica) == replicas_.end()) replicas_.push_back(s.replica);
    const std::pair<int, int> key{s.replica, s.dp_rank};
    if (s.at < options_.window_begin) {
      before[key] = &s;
      continue;
    }
    if (s.at > options_.window_end) continue;
    if (!started[key]) {
      started[key] = true;
      if (before.count(key) && s.at > options_.window_begin) emit(*before[key], options_.window_begin);
    }
    emit(s, s.at);
  }
  std::sort(replicas_.begin(), replicas_.end());
}

void Timeline::AddRequests(const std::vector<RequestRecord>& records, Time run_end) {
  for (const RequestRecord& r : records) {
    if (!r.was_sent()) continue;
    const Time end = r.done() ? r.finished : std::max(run_end, r.sent);
    if (!InWindow(r.sent, end)) continue;
    requests_.push_back(
        {r.id, r.replica, r.sent, r.first_token, r.finished, end, r.input_tokens, r.output_tokens, r.tokens_received});
  }
}

void Timeline::AddCounterSeries(const std::string& process, const std::vector<CounterSeries>& series) {
  int index = -1;
  for (const CounterSeries& c : series) {
    std::vector<std::pair<Time, double>> kept;
    const std::pair<Time, double>* last_before = nullptr;
    for (const auto& p : c.points) {
      if (p.first < options_.window_begin) {
        last_before = &p;
      } else if (p.first <= options_.window_end) {
        if (kept.empty() && last_before != nullptr && p.first > options_.window_begin) {
          kept.push_back({options_.window_begin, last_before->second});
        }
        kept.push_back(p);
      }
    }
    if (kept.empty()) continue;
    if (index < 0) {
      index = static_cast<int>(counter_processes_.size());
      counter_processes_.push_back(process);
    }
    for (const auto& [at, v] : kept) {
      counters_.push_back({at, kCounterProcessPid + index, c.name, {{c.key, v}}});
    }
  }
}

std::string Timeline::ToJson() const {
  std::vector<std::string> meta;
  // Events with their time, kept in the order made, then stably sorted by time.
  std::vector<std::pair<Time, std::string>> events;

  // Processes: requests first, then each replica's counters followed by its GPUs, then other counter processes.
  meta.push_back(Metadata("process_name", kRequestsPid, 0, "name", Quoted("requests")));
  meta.push_back(Metadata("process_sort_index", kRequestsPid, 0, "sort_index", "0"));
  auto replica_sort = [](int replica) { return (static_cast<int64_t>(replica) + 1) * 100000; };
  for (int r : replicas_) {
    meta.push_back(Metadata("process_name", kReplicaPid + r, 0, "name", Quoted("replica " + std::to_string(r))));
    meta.push_back(Metadata("process_sort_index", kReplicaPid + r, 0, "sort_index", std::to_string(replica_sort(r))));
  }
  std::vector<Gpu> gpus = gpus_;
  std::sort(gpus.begin(), gpus.end(), [](const Gpu& a, const Gpu& b) {
    return std::pair(a.replica < 0 ? 1 << 30 : a.replica, a.gpu) <
           std::pair(b.replica < 0 ? 1 << 30 : b.replica, b.gpu);
  });
  std::map<int, const Gpu*> gpu_by_index;
  for (size_t i = 0; i < gpus.size(); ++i) {
    const Gpu& g = gpus[i];
    gpu_by_index[g.gpu] = &g;
    const int pid = kGpuPid + g.gpu;
    meta.push_back(Metadata("process_name", pid, 0, "name", Quoted(g.label)));
    meta.push_back(Metadata("process_labels", pid, 0, "labels", Quoted("GPU " + std::to_string(g.gpu))));
    const int64_t base = g.replica >= 0 ? replica_sort(g.replica) : replica_sort(1 << 20);
    meta.push_back(Metadata("process_sort_index", pid, 0, "sort_index", std::to_string(base + 1 + g.gpu)));
  }
  for (size_t i = 0; i < counter_processes_.size(); ++i) {
    const int pid = kCounterProcessPid + static_cast<int>(i);
    meta.push_back(Metadata("process_name", pid, 0, "name", Quoted(counter_processes_[i])));
    meta.push_back(Metadata("process_sort_index", pid, 0, "sort_index", std::to_string(1000000000 + i)));
  }

  // Slices: per (GPU, track), sorted by start, each on the first lane free at its start.
  std::vector<size_t> order(slices_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const Slice& x = slices_[a];
    const Slice& y = slices_[b];
    return std::tuple(x.gpu, x.track, x.begin) < std::tuple(y.gpu, y.track, y.begin);
  });
  std::map<std::pair<int, int>, std::vector<Time>> lanes;  // (gpu, track) -> each lane's end
  std::map<std::pair<int, int>, bool> named;               // (pid, tid) named already
  for (size_t i : order) {
    const Slice& s = slices_[i];
    std::vector<Time>& ends = lanes[{s.gpu, s.track}];
    size_t lane = 0;
    while (lane < ends.size() && ends[lane] > s.begin) ++lane;
    if (lane == ends.size()) ends.push_back(s.end);
    ends[lane] = s.end;
    const int pid = kGpuPid + s.gpu;
    const int tid = s.track * kLaneStride + static_cast<int>(lane) + 1;
    if (!named[{pid, tid}]) {
      named[{pid, tid}] = true;
      if (!gpu_by_index.count(s.gpu)) {
        gpu_by_index[s.gpu] = nullptr;
        meta.push_back(Metadata("process_name", pid, 0, "name", Quoted("GPU " + std::to_string(s.gpu))));
      }
      std::string name = TrackName(s.track);
      if (lane > 0) name += " (" + std::to_string(lane + 1) + ")";
      meta.push_back(Metadata("thread_name", pid, tid, "name", Quoted(name)));
      meta.push_back(Metadata("thread_sort_index", pid, tid, "sort_index", std::to_string(tid)));
    }
    const bool body = s.name == "iteration_body";
    std::string e = "{\"ph\":\"X\",\"cat\":";
    e += body ? "\"compiled\"" : s.track == 0 ? "\"kernel\"" : "\"collective\"";
    e += ",\"name\":";
    AppendEscaped(e, body ? std::string_view("iteration body (compiled)") : s.name);
    e += ",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid);
    e += ",\"ts\":" + MicrosecondsText(s.begin) + ",\"dur\":" + MicrosecondsText(s.end - s.begin);
    e += ",\"args\":{";
    if (body) {
      e += "\"note\":\"every kernel and collective of the iteration, timed once per shape\"";
    } else {
      e += "\"layer\":" + std::to_string(s.layer) + ",\"phase\":" + Quoted(ToString(s.phase));
      if (s.track > 0) e += ",\"bytes\":" + Number(s.bytes);
    }
    e += "}}";
    events.emplace_back(s.begin, std::move(e));
  }

  // Requests: an async span each on the requests process.
  if (!requests_.empty()) meta.push_back(Metadata("thread_name", kRequestsPid, 1, "name", Quoted("requests")));
  for (const RequestSpan& r : requests_) {
    const std::string name = Quoted("request " + std::to_string(r.id));
    const std::string common = ",\"cat\":\"request\",\"id\":" + std::to_string(r.id) +
                               ",\"pid\":" + std::to_string(kRequestsPid) + ",\"tid\":1,\"ts\":";
    events.emplace_back(r.sent, "{\"ph\":\"b\",\"name\":" + name + common + MicrosecondsText(r.sent) +
                                    ",\"args\":{\"replica\":" + std::to_string(r.replica) +
                                    ",\"input_tokens\":" + std::to_string(r.input_tokens) +
                                    ",\"output_tokens\":" + std::to_string(r.output_tokens) + "}}");
    if (!r.first_token.IsMax()) {
      events.emplace_back(r.first_token,
                          "{\"ph\":\"n\",\"name\":\"first token\"" + common + MicrosecondsText(r.first_token) + "}");
    }
    events.emplace_back(r.end, "{\"ph\":\"e\",\"name\":" + name + common + MicrosecondsText(r.end) +
                                   ",\"args\":{\"tokens_received\":" + std::to_string(r.received) +
                                   (r.finished.IsMax() ? ",\"unfinished\":true" : "") + "}}");
  }

  // Counters.
  for (const Counter& c : counters_) {
    std::string e = "{\"ph\":\"C\",\"name\":";
    AppendEscaped(e, c.name);
    e += ",\"pid\":" + std::to_string(c.pid) + ",\"tid\":0,\"ts\":" + MicrosecondsText(c.at) + ",\"args\":{";
    for (size_t i = 0; i < c.values.size(); ++i) {
      if (i > 0) e += ',';
      AppendEscaped(e, c.values[i].first);
      e += ":" + Number(c.values[i].second);
    }
    e += "}}";
    events.emplace_back(c.at, std::move(e));
  }
  std::stable_sort(events.begin(), events.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

  std::string out = "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"wiresim\"";
  out += ",\"units\":\"ts and dur in microseconds of simulated time\"";
  if (options_.window_begin > Time::Zero() || !options_.window_end.IsMax()) {
    out += ",\"window_begin_us\":" + MicrosecondsText(options_.window_begin);
    if (!options_.window_end.IsMax()) out += ",\"window_end_us\":" + MicrosecondsText(options_.window_end);
  }
  out += ",\"slices\":" + std::to_string(slices_.size()) + ",\"dropped_slices\":" + std::to_string(dropped_);
  if (dropped_ > 0) {
    out += ",\"note\":" + Quoted("kernel and collective slices after the first " + std::to_string(slices_.size()) +
                                 " were left out (--timeline-max-events); --timeline-window shows a later stretch");
  }
  out += "},\"traceEvents\":[\n";
  bool first = true;
  for (const std::string& m : meta) {
    if (!first) out += ",\n";
    first = false;
    out += m;
  }
  for (const auto& [at, e] : events) {
    if (!first) out += ",\n";
    first = false;
    out += e;
  }
  out += "\n]}\n";
  return out;
}

}  // namespace wiresim
