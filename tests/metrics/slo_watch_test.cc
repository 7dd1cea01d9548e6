// SloWatch: a miss is counted once, as soon as it is certain, and never for a request that will still meet the
// SLO. Every expected count below follows from the request's times and the SLO as vllm compares them
// (`slo_ms / 1000 >= latency_s` meets).
#include "sim/metrics/slo_watch.h"

#include <catch2/catch.hpp>

namespace wiresim {
namespace {

Time Ms(int64_t ms) { return Time::Milliseconds(ms); }

// A request sent at `t` asking `output` tokens, told to the metrics and the watch.
void Send(RequestMetrics& m, SloWatch& w, int64_t id, Time t, int64_t output) {
  m.OnSent(id, t, 10, output, 0);
  w.OnSent(id);
}

// Tokens at `at` (ms), the last one finishing the request; the watch judges it.
void Stream(RequestMetrics& m, SloWatch& w, int64_t id, const std::vector<int64_t>& at) {
  for (int64_t t : at) m.OnToken(id, Ms(t));
  m.OnFinished(id, Ms(at.back()));
  w.OnFinished(id);
}

TEST_CASE("SloWatch counts a TTFT miss once its deadline has passed without a first token") {
  RequestMetrics m;
  SloWatch w(ServingSlo{100, 0, 0}, m);
  Send(m, w, 0, Ms(0), 3);
  Send(m, w, 1, Ms(50), 3);
  // At 100 ms request 0's TTFT can still be exactly 100 ms, which meets the SLO.
  w.Advance(Ms(100));
  CHECK(w.missed() == 0);
  // One picosecond later it cannot: its first token comes at >= 100 ms + 1 ps. Request 1 (deadline 150 ms) is fine.
  w.Advance(Ms(100) + Time::Picoseconds(1));
  CHECK(w.missed() == 1);
  // Request 0 then streams and finishes: the miss is not counted again.
  Stream(m, w, 0, {300, 310, 320});
  CHECK(w.missed() == 1);
  // Request 1's first token at 140 ms (TTFT 90 ms) meets it; past its deadline it is not counted.
  m.OnToken(1, Ms(140));
  w.Advance(Ms(1000));
  CHECK(w.missed() == 1);
}

TEST_CASE("SloWatch judges TPOT when the request finishes, and counts a failed request") {
  RequestMetrics m;
  SloWatch w(ServingSlo{0, 20, 0}, m);
  // Tokens at 100, 120, 150: TPOT (150 - 100) / 2 = 25 ms > 20 ms: a miss, known only at the finish.
  Send(m, w, 0, Ms(0), 3);
  m.OnToken(0, Ms(100));
  m.OnToken(0, Ms(120));
  w.Advance(Ms(140));
  CHECK(w.missed() == 0);
  Stream(m, w, 0, {150});
  CHECK(w.missed() == 1);
  // Tokens at 200, 220, 240: TPOT exactly 20 ms meets it.
  Send(m, w, 1, Ms(180), 3);
  Stream(m, w, 1, {200, 220, 240});
  CHECK(w.missed() == 1);
  // Refused by the server (no token): vllm counts it failed, so it cannot count toward goodput.
  Send(m, w, 2, Ms(250), 3);
  w.OnFinished(2);
  CHECK(w.missed() == 2);
}

TEST_CASE("SloWatch counts an E2EL miss before the request finishes") {
  RequestMetrics m;
  SloWatch w(ServingSlo{0, 0, 500}, m);
  Send(m, w, 0, Ms(0), 100);
  m.OnToken(0, Ms(10));
  w.Advance(Ms(500));
  CHECK(w.missed() == 0);
  w.Advance(Ms(501));
  CHECK(w.missed() == 1);
}

TEST_CASE("MeetsSlo compares as vllm's goodput does") {
  RequestMetrics m;
  // TTFT 100 ms, TPOT (190 - 100) / 3 = 30 ms, E2EL 190 ms (TPOT is a quotient, so it is bracketed by 29 and 31).
  m.OnSent(0, Ms(0), 10, 4, 0);
  for (int64_t t : {100, 120, 150, 190}) m.OnToken(0, Ms(t));
  m.OnFinished(0, Ms(190));
  const RequestRecord& r = m.records()[0];
  CHECK(MeetsSlo(r, ServingSlo{100, 31, 190}));
  CHECK_FALSE(MeetsSlo(r, ServingSlo{99, 0, 0}));
  CHECK_FALSE(MeetsSlo(r, ServingSlo{0, 29, 0}));
  CHECK_FALSE(MeetsSlo(r, ServingSlo{0, 0, 189}));
  CHECK(MeetsSlo(r, ServingSlo{}));
}

}  // namespace
}  // namespace wiresim
