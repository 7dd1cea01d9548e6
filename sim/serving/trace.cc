// Recorded traces replayed line by line: Mooncake JSONL and Azure LLM inference CSV (docs/serving-workloads.md).
//
// Rules shared by both formats: blank lines (only spaces, tabs or a CR) are skipped anywhere, so a trailing newline
// or a CRLF file is fine; the first request arrives at t = 0 and the others at their offset from it, times
// time_scale; timestamps may repeat but never go back; a line longer than kMaxLineBytes is refused rather than
// read whole.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/core/numeric_field.h"
#include "sim/core/text.h"
#include "sim/serving/workload.h"

namespace wiresim {
namespace {

constexpr size_t kMaxLineBytes = size_t{64} << 20;
constexpr int kMaxJsonDepth = 8;  // a Mooncake line nests 2 deep (object, hash_ids array)
constexpr int64_t kPsPerMs = 1'000'000'000;
constexpr int64_t kPsPerSecond = 1'000'000'000'000;
constexpr int64_t kSecondsPerDay = 86'400;
constexpr std::string_view kAzureHeader = "TIMESTAMP,ContextTokens,GeneratedTokens";

std::string Excerpt(std::string_view s) {
  constexpr size_t kMax = 40;
  return s.size() <= kMax ? std::string(s) : std::string(s.substr(0, kMax)) + "...";
}

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

// A point in an Azure trace: whole days since 1970-01-01 and picoseconds into that day.
struct CivilTime {
  int64_t days = 0;
  int64_t ps_of_day = 0;
  friend auto operator<=>(const CivilTime&, const CivilTime&) = default;
};

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (the era-based count of H. Hinnant's
// "chrono-Compatible Low-Level Date Algorithms": 400-year eras of 146097 days, years starting in March).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int64_t DaysInMonth(int64_t y, int64_t m) {
  static constexpr int64_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

bool ParseFixedDigits(std::string_view s, int64_t* out) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  return ParseWholeNumber(s, out);
}

// "YYYY-MM-DD HH:MM:SS" with an optional fraction of 1 to 12 digits. Returns an empty string on success, else
// what is wrong.
std::string ParseAzureTimestamp(std::string_view s, CivilTime* out) {
  int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, frac_ps = 0;
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' ||
      !ParseFixedDigits(s.substr(0, 4), &y) || !ParseFixedDigits(s.substr(5, 2), &mo) ||
      !ParseFixedDigits(s.substr(8, 2), &d) || !ParseFixedDigits(s.substr(11, 2), &h) ||
      !ParseFixedDigits(s.substr(14, 2), &mi) || !ParseFixedDigits(s.substr(17, 2), &sec)) {
    return "expected YYYY-MM-DD HH:MM:SS[.fffffff]";
  }
  if (s.size() > 19) {
    const std::string_view frac = s.substr(20);
    if (s[19] != '.' || frac.empty() || frac.size() > 12 || !ParseFixedDigits(frac, &frac_ps)) {
      return "expected YYYY-MM-DD HH:MM:SS[.fffffff] (a fraction of 1 to 12 digits)";
    }
    for (size_t i = frac.size(); i < 12; ++i) frac_ps *= 10;
  }
  if (mo < 1 || mo > 12) return "month " + std::to_string(mo) + " is not 1-12";
  if (d < 1 || d > DaysInMonth(y, mo)) return "day " + std::to_string(d) + " is not in the month";
  if (h > 23 || mi > 59 || sec > 59) return "time of day out of range";
  out->days = DaysFromCivil(y, mo, d);
  out->ps_of_day = ((h * 60 + mi) * 60 + sec) * kPsPerSecond + frac_ps;
  return "";
}

// b - a in picoseconds, or nullopt when it does not fit in Time.
std::optional<int64_t> CivilDifferencePs(const CivilTime& a, const CivilTime& b) {
  const int64_t days = b.days - a.days;
  if (days < 0 || days > 107) return std::nullopt;
  int64_t out = 0;
  if (__builtin_mul_overflow(days * kSecondsPerDay, kPsPerSecond, &out)) return std::nullopt;
  if (__builtin_add_overflow(out, b.ps_of_day - a.ps_of_day, &out)) return std::nullopt;
  return out;
}

class TraceReader {
 public:
  TraceReader(std::istream& in, std::string name, const TraceOptions& options)
      : in_(in), name_(std::move(name)), options_(options) {}

  // Reads up to the first non-blank line and settles the format. Fails on an empty trace or an unknown format.
  Status Start() {
    if (!(std::isfinite(options_.time_scale) && options_.time_scale > 0)) {
      return InvalidArgument(name_ + ": time_scale: must be a positive finite number, got " +
                             std::to_string(options_.time_scale));
    }
    if (options_.max_requests < 0) {
      return InvalidArgument(name_ + ": max_requests: must be >= 0 (0: the whole trace), got " +
                             std::to_string(options_.max_requests));
    }
    WIRESIM_ASSIGN_OR_RETURN(bool got, NextLine());
    if (!got) return InvalidArgument(name_ + ": the trace is empty (no requests)");
    std::string_view first = Trim(line_);
    if (first.substr(0, 3) == "\xEF\xBB\xBF") first.remove_prefix(3);  // a UTF-8 byte order mark
    const bool looks_azure = Trim(first.substr(0, first.find('\r'))) == kAzureHeader;
    format_ = options_.format;
    if (format_ == TraceFormat::kAuto) {
      if (!first.empty() && first.front() == '{') {
        format_ = TraceFormat::kMooncake;
      } else if (looks_azure) {
        format_ = TraceFormat::kAzure;
      } else {
        return Error("",
                     "cannot tell the trace format: expected a Mooncake JSON object ('{...}') or the Azure CSV "
                     "header '" +
                         std::string(kAzureHeader) + "', got '" + Excerpt(first) + "'");
      }
    }
    if (format_ == TraceFormat::kAzure) {
      if (!looks_azure) {
        return Error("",
                     "expected the Azure CSV header '" + std::string(kAzureHeader) + "', got '" + Excerpt(first) + "'");
      }
      pending_ = false;  // the header is not a request
    } else {
      line_ = std::string(first);
      pending_ = true;
    }
    return Status::Ok();
  }

  Result<std::optional<Request>> Next() {
    if (done_) return std::optional<Request>();
    if (options_.max_requests > 0 && next_id_ >= options_.max_requests) return Finish();
    if (!pending_) {
      Result<bool> got = NextLine();
      if (!got.ok()) return Fail(got.status());
      if (!*got) return Finish();
    }
    pending_ = false;
    Result<Request> r = format_ == TraceFormat::kAzure ? ParseAzureLine() : ParseMooncakeLine();
    if (!r.ok()) return Fail(r.status());
    return std::optional<Request>(std::move(r).value());
  }

 private:
  Result<std::optional<Request>> Finish() {
    done_ = true;
    return std::optional<Request>();
  }
  Result<std::optional<Request>> Fail(Status s) {
    done_ = true;
    return s;
  }

  // The file and line being read, for the shared checks (sim/core/numeric_field.h).
  SourceLocation Here() const { return SourceLocation{name_, line_number_, 0}; }

  Status Error(const std::string& field, const std::string& message) const {
    return InvalidInput(Here(), field, message);
  }

  // The next non-blank line into line_ (without its newline); false at the end of the stream.
  Result<bool> NextLine() {
    std::streambuf* buf = in_.rdbuf();
    while (true) {
      line_.clear();
      if (buf == nullptr) return false;
      int c = buf->sbumpc();
      if (c == std::char_traits<char>::eof()) return false;
      ++line_number_;
      while (c != std::char_traits<char>::eof() && c != '\n') {
        if (line_.size() >= kMaxLineBytes) {
          return Error("", "line longer than " + std::to_string(kMaxLineBytes >> 20) + " MiB; is this a trace?");
        }
        line_.push_back(static_cast<char>(c));
        c = buf->sbumpc();
      }
      if (!IsBlank(line_)) return true;
    }
  }

  Result<Request> ParseMooncakeLine() {
    if (JsonNestingDepth(line_, kMaxJsonDepth) > kMaxJsonDepth) {
      return Error("", "JSON nests deeper than " + std::to_string(kMaxJsonDepth) +
                           " levels; expected one flat "
                           "object per line");
    }
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line_);
    } catch (const nlohmann::json::exception& e) {
      return Error("", std::string("not valid JSON (") + e.what() + "); expected one JSON object per line");
    }
    if (!j.is_object()) return Error("", "expected a JSON object per line, got " + std::string(j.type_name()));

    Request r;
    WIRESIM_ASSIGN_OR_RETURN(const int64_t ps, MooncakeTimestampPs(j));
    WIRESIM_ASSIGN_OR_RETURN(r.input_tokens, TokenCount(j, "input_length"));
    WIRESIM_ASSIGN_OR_RETURN(r.output_tokens, TokenCount(j, "output_length"));
    if (const auto it = j.find("hash_ids"); it != j.end()) {
      if (!it->is_array()) return Error("hash_ids", "expected an array of non-negative integers");
      r.hash_ids.reserve(it->size());
      for (const nlohmann::json& h : *it) {
        const std::optional<int64_t> id = JsonWholeNumber(h);
        if (!id) return Error("hash_ids", "expected non-negative integers, got " + Excerpt(h.dump()));
        WIRESIM_RETURN_IF_ERROR(CheckInteger(Here(), "hash_ids", *id, WholeUpTo(INT64_MAX)));
        r.hash_ids.push_back(*id);
      }
    }
    WIRESIM_RETURN_IF_ERROR(Place(ps, &r));
    return r;
  }

  // Milliseconds since the trace's start, as picoseconds. Integer milliseconds convert exactly.
  Result<int64_t> MooncakeTimestampPs(const nlohmann::json& j) const {
    const auto it = j.find("timestamp");
    if (it == j.end()) return Error("timestamp", "missing; expected a time in ms from 0 (the first request)");
    if (const std::optional<int64_t> ms = JsonWholeNumber(*it); ms && !it->is_number_float()) {
      WIRESIM_RETURN_IF_ERROR(CheckInteger(Here(), "timestamp", *ms, kTraceMilliseconds));
      return *ms * kPsPerMs;
    }
    if (it->is_number()) {  // a fraction, or an integer of 2^63 and more (refused as a double)
      const double ms = it->get<double>();
      WIRESIM_RETURN_IF_ERROR(CheckNumber(Here(), "timestamp", ms, kTraceMilliseconds));
      return static_cast<int64_t>(std::llround(ms * static_cast<double>(kPsPerMs)));
    }
    return Error("timestamp", "expected a time in ms, got " + Excerpt(it->dump()));
  }

  Result<int64_t> TokenCount(const nlohmann::json& j, const char* field) const {
    const auto it = j.find(field);
    if (it == j.end()) return Error(field, "missing; expected a token count from 1 to 2^31");
    const std::optional<int64_t> n = JsonWholeNumber(*it);
    if (!n || it->is_number_float()) {
      return Error(field, "expected a token count from 1 to 2^31, got " + Excerpt(it->dump()));
    }
    WIRESIM_RETURN_IF_ERROR(CheckInteger(Here(), field, *n, kTokenCount));
    return *n;
  }

  Result<Request> ParseAzureLine() {
    std::string_view text = line_;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    const std::vector<std::string_view> cells = Split(text, ',');
    if (cells.size() != 3) {
      return Error("", "expected 3 comma-separated cells (" + std::string(kAzureHeader) + "), got " +
                           std::to_string(cells.size()));
    }
    CivilTime t;
    if (const std::string why = ParseAzureTimestamp(Trim(cells[0]), &t); !why.empty()) {
      return Error("TIMESTAMP", why + ", got '" + Excerpt(Trim(cells[0])) + "'");
    }
    Request r;
    WIRESIM_ASSIGN_OR_RETURN(r.input_tokens, CsvTokenCount(cells[1], "ContextTokens"));
    WIRESIM_ASSIGN_OR_RETURN(r.output_tokens, CsvTokenCount(cells[2], "GeneratedTokens"));
    if (!first_civil_) first_civil_ = t;
    if (last_civil_ && t < *last_civil_) {
      return Error("TIMESTAMP", "time goes backwards: '" + std::string(Trim(cells[0])) +
                                    "' is before the previous request's timestamp");
    }
    last_civil_ = t;
    const std::optional<int64_t> ps = CivilDifferencePs(*first_civil_, t);
    if (!ps) return Error("TIMESTAMP", "more than Time's range (about 106 days) after the first request");
    WIRESIM_RETURN_IF_ERROR(Place(*ps, &r));
    return r;
  }

  Result<int64_t> CsvTokenCount(std::string_view cell, const char* field) const {
    return ParseIntegerField(Here(), field, Trim(cell), kTokenCount);
  }

  // Sets r's id and arrival from its raw time `ps` (picoseconds on the trace's own clock), checking order.
  Status Place(int64_t ps, Request* r) {
    if (!first_ps_) first_ps_ = ps;
    if (last_ps_ && ps < *last_ps_) {
      return Error("timestamp", "time goes backwards: " + Time::Picoseconds(ps).ToString() + " after " +
                                    Time::Picoseconds(*last_ps_).ToString() + " on an earlier line");
    }
    last_ps_ = ps;
    const int64_t delta = ps - *first_ps_;
    int64_t scaled = delta;
    if (options_.time_scale != 1.0) {
      const double x = std::round(static_cast<double>(delta) * options_.time_scale);
      if (!(x < 9.2e18)) return Error("timestamp", "scaled by time_scale it passes Time's range (about 106 days)");
      scaled = static_cast<int64_t>(x);
    }
    r->id = next_id_++;
    r->arrival = Time::Picoseconds(scaled);
    return Status::Ok();
  }

  std::istream& in_;
  std::string name_;
  TraceOptions options_;
  TraceFormat format_ = TraceFormat::kAuto;
  std::string line_;
  int line_number_ = 0;
  bool pending_ = false;  // line_ holds a request line not yet parsed
  bool done_ = false;
  int64_t next_id_ = 0;
  std::optional<int64_t> first_ps_, last_ps_;
  std::optional<CivilTime> first_civil_, last_civil_;
};

class TraceSource final : public RequestSource {
 public:
  TraceSource(std::unique_ptr<std::istream> in, std::string name, const TraceOptions& options)
      : in_(std::move(in)), reader_(*in_, std::move(name), options) {}
  Status Start() { return reader_.Start(); }
  Result<std::optional<Request>> Next() override { return reader_.Next(); }

 private:
  std::unique_ptr<std::istream> in_;  // declared before reader_, which reads it
  TraceReader reader_;
};

}  // namespace

Result<std::unique_ptr<RequestSource>> OpenTrace(std::unique_ptr<std::istream> in, std::string name,
                                                 const TraceOptions& options) {
  WIRESIM_CHECK(in != nullptr);
  auto source = std::make_unique<TraceSource>(std::move(in), std::move(name), options);
  WIRESIM_RETURN_IF_ERROR(source->Start());
  return std::unique_ptr<RequestSource>(std::move(source));
}

Result<std::vector<std::pair<int64_t, int64_t>>> ReadTraceLengths(std::istream& in, const std::string& name,
                                                                  const TraceOptions& options) {
  TraceReader reader(in, name, options);
  WIRESIM_RETURN_IF_ERROR(reader.Start());
  std::vector<std::pair<int64_t, int64_t>> out;
  while (true) {
    WIRESIM_ASSIGN_OR_RETURN(std::optional<Request> r, reader.Next());
    if (!r) break;
    out.emplace_back(r->input_tokens, r->output_tokens);
  }
  return out;
}

}  // namespace wiresim
