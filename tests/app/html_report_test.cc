// The HTML report's pieces on hand-made inputs: a CDF's steps, the link heat map (which no shipped network feeds
// yet), the summary table from the printed block, and text escaped.
#include "sim/app/html_report.h"

#include <catch2/catch.hpp>

namespace wiresim::app {
namespace {

using Catch::Matchers::Contains;

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The `d` of the path of one series.
std::string PathOf(const std::string& html, const std::string& series) {
  const std::string key = "data-series=\"" + series + "\"";
  const size_t at = html.find(key);
  REQUIRE(at != std::string::npos);
  const size_t d = html.find(" d=\"", at) + 4;
  return html.substr(d, html.find('"', d) - d);
}

std::vector<RequestRecord> FourRequests() {
  // TTFTs of 1, 2, 3 and 4 ms; every request gets 3 tokens 1 ms apart after the first (TPOT 1 ms).
  std::vector<RequestRecord> r(4);
  for (int i = 0; i < 4; ++i) {
    r[i].id = i;
    r[i].sent = Time::Zero();
    r[i].first_token = Time::FromMicroseconds(1000.0 * (i + 1));
    r[i].last_token = r[i].first_token + Time::FromMicroseconds(2000);
    r[i].finished = r[i].last_token;
    r[i].tokens_received = 3;
  }
  return r;
}

TEST_CASE("A latency CDF climbs one step per request to 1 at the largest value") {
  const std::vector<RequestRecord> records = FourRequests();
  HtmlReportData data;
  data.title = "t";
  data.records = &records;
  data.run_end = Time::FromMicroseconds(10000);
  const std::string html = RenderHtmlReport(data);
  // Four requests: a start at (1 ms, 0) and one point per request. The frame spans x in [0, 4] ms over
  // [kLeft=64, 640-16=624] and y in [0, 1] over [260-40=220, 16]: (1 ms, 0) is (204, 220), (4 ms, 1) is (624, 16).
  const std::string d = PathOf(html, "ttft");
  CHECK(Count(d, " L") == 4);
  CHECK(d.rfind("M204.00,220.00", 0) == 0);
  CHECK(d.substr(d.size() - 13) == "L624.00,16.00");
  // Every TPOT is 1 ms: the curve rises at x = 1 ms.
  CHECK_THAT(PathOf(html, "tpot"), Contains("L624.00,16.00"));
}

TEST_CASE("Link utilisation becomes a heat map cell per link and direction, and no links a note") {
  HtmlReportData data;
  data.title = "t";
  data.run_end = Time::FromMicroseconds(1000);
  CHECK_THAT(RenderHtmlReport(data), Contains("<p id=\"link-heatmap\" class=\"no-data\">"));
  data.links = {{"gpu0", "nvswitch", 1e9, 0.5}, {"nvswitch", "gpu0", 2e9, 1.0}, {"gpu1", "nvswitch", 0, 0.0}};
  const std::string html = RenderHtmlReport(data);
  CHECK(Count(html, "<rect class=\"cell\"") == 3);
  CHECK_THAT(html, Contains("data-from=\"gpu0\" data-to=\"nvswitch\" data-utilisation=\"0.5000\""));
  // Idle is white, always busy dark red (255 - 80, 0, 0).
  CHECK_THAT(html, Contains("data-utilisation=\"0.0000\" x="));
  CHECK_THAT(html, Contains("fill=\"#ffffff\""));
  CHECK_THAT(html, Contains("fill=\"#af0000\""));
  CHECK(html.find("class=\"no-data\">no link") == std::string::npos);
}

TEST_CASE("The summary table takes the printed block's lines, and text is escaped") {
  HtmlReportData data;
  data.title = "a <b> & c";
  // The block's "{:<40} {:<10}" rows.
  auto row = [](std::string label, std::string value) {
    label.resize(40, ' ');
    value.resize(10, ' ');
    return label + " " + value + "\n";
  };
  data.run_text = "wiresim run: x on <y>\n============ Serving Benchmark Result ============\n" +
                  row("Successful requests:", "12") + "---------------Inter-token Latency----------------\n" +
                  row("Mean ITL (ms):", "1.73") + std::string(50, '=') + "\n";
  data.run_end = Time::FromMicroseconds(1000);
  const std::string html = RenderHtmlReport(data);
  CHECK_THAT(html, Contains("<h1>a &lt;b&gt; &amp; c</h1>"));
  CHECK_THAT(html, Contains("wiresim run: x on &lt;y&gt;"));
  CHECK_THAT(html, Contains("<tr class=\"section\"><th colspan=\"2\">Serving Benchmark Result</th></tr>"));
  CHECK_THAT(html, Contains("<tr class=\"section\"><th colspan=\"2\">Inter-token Latency</th></tr>"));
  CHECK_THAT(html, Contains("<td>Successful requests:</td><td class=\"value\">12</td>"));
  CHECK_THAT(html, Contains("<td>Mean ITL (ms):</td><td class=\"value\">1.73</td>"));
}

}  // namespace
}  // namespace wiresim::app
