// The timeline writer on hand-made events: times written exactly, tracks named, overlapping slices of one track on
// separate lanes, the window and the slice cap, counters and request spans.
#include "sim/metrics/timeline.h"

#include <map>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace wiresim {
namespace {

Time Us(int64_t us) { return Time::Picoseconds(us * 1000000); }

std::vector<nlohmann::json> Events(const Timeline& tl, const std::string& ph) {
  const nlohmann::json j = nlohmann::json::parse(tl.ToJson());
  std::vector<nlohmann::json> out;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] == ph) out.push_back(e);
  }
  return out;
}

TEST_CASE("Times are written in microseconds, exact to the picosecond, without trailing zeros") {
  CHECK(MicrosecondsText(Time::Zero()) == "0");
  CHECK(MicrosecondsText(Time::Picoseconds(1)) == "0.000001");
  CHECK(MicrosecondsText(Time::Picoseconds(1000000)) == "1");
  CHECK(MicrosecondsText(Time::Picoseconds(1234567890)) == "1234.56789");
  CHECK(MicrosecondsText(Time::Picoseconds(-1500000)) == "-1.5");
  // 3 hours of simulated time: 1.08e16 ps, beyond a double's exact integers in ps but exact as text.
  CHECK(MicrosecondsText(Time::Picoseconds(10800000000000001)) == "10800000000.000001");
}

TEST_CASE("Kernels go on the GPU's compute track, collectives on their dimension's, each track named") {
  Timeline tl(TimelineOptions{});
  tl.AddGpu(3, 0, "replica 0 / node0/gpu3");
  tl.OnKernelDetail(3, Us(0), Us(10), OpDetail{"qkv_proj", 0, Phase::kDecode, 0});
  tl.OnKernelDetail(3, Us(10), Us(15), OpDetail{"o_proj", 0, Phase::kDecode, 0});
  tl.OnCollectiveDetail(3, Us(15), Us(20), ParallelDim::kTp, OpDetail{"tp_all_reduce", 0, Phase::kDecode, 4096});
  const auto x = Events(tl, "X");
  REQUIRE(x.size() == 3);
  std::map<int, std::string> thread_names;
  std::string process;
  for (const auto& m : Events(tl, "M")) {
    if (m["name"] == "thread_name") thread_names[m["tid"].get<int>()] = m["args"]["name"];
    if (m["name"] == "process_name" && m["pid"] == x[0]["pid"]) process = m["args"]["name"];
  }
  CHECK(process == "replica 0 / node0/gpu3");
  CHECK(thread_names[x[0]["tid"].get<int>()] == "compute");
  CHECK(x[0]["tid"] == x[1]["tid"]);
  CHECK(thread_names[x[2]["tid"].get<int>()] == "TP collectives");
  CHECK(x[2]["args"]["bytes"] == 4096);
  CHECK(x[1]["ts"] == 10);
  CHECK(x[1]["dur"] == 5);
}

TEST_CASE("Overlapping slices of one track are spread over lanes, so each lane's slices never overlap") {
  Timeline tl(TimelineOptions{});
  tl.AddGpu(0, 0, "g0");
  // Two PP transfers in flight at once on GPU 0: [0, 10) and [5, 15); a third after both, [15, 20).
  tl.OnCollectiveDetail(0, Us(0), Us(10), ParallelDim::kPp, OpDetail{"pp_send", 1, Phase::kMixed, 1});
  tl.OnCollectiveDetail(0, Us(5), Us(15), ParallelDim::kPp, OpDetail{"pp_recv", 1, Phase::kMixed, 1});
  tl.OnCollectiveDetail(0, Us(15), Us(20), ParallelDim::kPp, OpDetail{"pp_send", 1, Phase::kMixed, 1});
  const auto x = Events(tl, "X");
  REQUIRE(x.size() == 3);
  std::set<int> tids;
  for (const auto& e : x) tids.insert(e["tid"].get<int>());
  CHECK(tids.size() == 2);            // the second slice needs a lane of its own
  CHECK(x[0]["tid"] == x[2]["tid"]);  // the third fits back on the first lane (sorted by ts: 0, 5, 15)
}

TEST_CASE("The window keeps what overlaps it; the cap counts what it leaves out") {
  TimelineOptions o;
  o.window_begin = Us(100);
  o.window_end = Us(200);
  o.max_slices = 2;
  Timeline tl(o);
  tl.OnKernelDetail(0, Us(0), Us(50), OpDetail{"a", 0, Phase::kDecode, 0});     // before: out
  tl.OnKernelDetail(0, Us(90), Us(110), OpDetail{"b", 0, Phase::kDecode, 0});   // overlaps the start: kept
  tl.OnKernelDetail(0, Us(150), Us(160), OpDetail{"c", 0, Phase::kDecode, 0});  // inside: kept
  tl.OnKernelDetail(0, Us(170), Us(180), OpDetail{"d", 0, Phase::kDecode, 0});  // inside, over the cap: dropped
  tl.OnKernelDetail(0, Us(250), Us(260), OpDetail{"e", 0, Phase::kDecode, 0});  // after: out (not counted)
  CHECK(tl.slices() == 2);
  CHECK(tl.dropped_slices() == 1);
  const nlohmann::json j = nlohmann::json::parse(tl.ToJson());
  CHECK(j["otherData"]["dropped_slices"] == 1);
  CHECK(j["otherData"].contains("note"));
  CHECK(j["otherData"]["window_begin_us"] == 100);
}

TEST_CASE("Replica samples become counters; the value holding at the window's start is shown there") {
  TimelineOptions o;
  o.window_begin = Us(100);
  Timeline tl(o);
  ServingSeries series;
  series.samples.push_back({Us(50), 0, 0, 4, 4, 2, 10, 100});
  series.samples.push_back({Us(150), 0, 0, 8, 8, 0, 30, 100});
  tl.AddServingSeries(series);
  std::vector<nlohmann::json> kv;
  for (const auto& c : Events(tl, "C")) {
    if (c["name"] == "KV cache usage") kv.push_back(c);
  }
  REQUIRE(kv.size() == 2);
  CHECK(kv[0]["ts"] == 100);  // the sample at 50 us, carried to the window's start
  CHECK(kv[0]["args"]["fraction"] == Approx(0.1));
  CHECK(kv[1]["ts"] == 150);
  CHECK(kv[1]["args"]["fraction"] == Approx(0.3));
}

TEST_CASE("Each request sent is an async span: begin at sending, first token, end at finishing") {
  Timeline tl(TimelineOptions{});
  std::vector<RequestRecord> records(3);
  records[0].id = 0;
  records[0].sent = Us(1);
  records[0].first_token = Us(5);
  records[0].finished = Us(9);
  records[1].id = 1;  // never sent: no span
  records[2].id = 2;  // sent, unfinished: drawn to the run's end
  records[2].sent = Us(3);
  tl.AddRequests(records, Us(20));
  const auto b = Events(tl, "b");
  const auto e = Events(tl, "e");
  REQUIRE(b.size() == 2);
  REQUIRE(e.size() == 2);
  CHECK(Events(tl, "n").size() == 1);
  CHECK(e[0]["id"] == 0);
  CHECK(e[0]["ts"] == 9);
  CHECK(e[1]["ts"] == 20);
  CHECK(e[1]["args"]["unfinished"] == true);
}

TEST_CASE("Counter series from a caller (link utilisation) get a process of their own") {
  Timeline tl(TimelineOptions{});
  tl.AddCounterSeries(
      "links", {{"gpu0 -> nvswitch", "utilisation", {{Us(0), 0.5}, {Us(10), 0.25}}}, {"empty", "utilisation", {}}});
  const auto c = Events(tl, "C");
  REQUIRE(c.size() == 2);
  bool named = false;
  for (const auto& m : Events(tl, "M")) {
    if (m["name"] == "process_name" && m["pid"] == c[0]["pid"]) named = m["args"]["name"] == "links";
  }
  CHECK(named);
}

}  // namespace
}  // namespace wiresim
