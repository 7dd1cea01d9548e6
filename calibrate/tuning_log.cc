#include "calibrate/tuning_log.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <map>
#include <optional>
#include <string_view>

namespace wiresim::calibrate {
namespace {

// The index NCCL's older releases print for an algorithm or protocol ("Algo 1 proto 2"), or -1 when `s` is not
// a small whole number (an index too long for an int is no index: the name is kept as written).
int SmallIndex(const std::string& s) {
  int i = -1;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
  return ec == std::errc() && end == s.data() + s.size() ? i : -1;
}

std::string AlgorithmName(const std::string& s) {
  static const char* kByIndex[] = {"Tree", "Ring", "CollNetDirect", "CollNetChain", "NVLS", "NVLSTree", "PAT"};
  if (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0]))) {
    const int i = SmallIndex(s);
    return i >= 0 && i < 7 ? kByIndex[i] : s;
  }
  for (const char* name : kByIndex) {
    std::string upper(name), given(s);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (char& c : given) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper == given) return name;
  }
  return s;
}

std::string ProtocolName(const std::string& s) {
  static const char* kByIndex[] = {"LL", "LL128", "Simple"};
  if (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0]))) {
    const int i = SmallIndex(s);
    return i >= 0 && i < 3 ? kByIndex[i] : s;
  }
  if (s == "SIMPLE" || s == "simple") return "Simple";
  return s;
}

// A cursor over one line that matches the pieces of a tuning line: what ECMAScript's \s, \d and \w match.
class Cursor {
 public:
  Cursor(std::string_view line, size_t at) : line_(line), at_(at) {}

  // One or more characters of a class; false (and nothing taken) when there is none.
  template <typename Class>
  bool Many(Class in_class, std::string_view* taken = nullptr) {
    const size_t from = at_;
    while (at_ < line_.size() && in_class(static_cast<unsigned char>(line_[at_]))) ++at_;
    if (taken != nullptr) *taken = line_.substr(from, at_ - from);
    return at_ > from;
  }
  bool Literal(std::string_view word) {
    if (line_.substr(at_, word.size()) != word) return false;
    at_ += word.size();
    return true;
  }

 private:
  std::string_view line_;
  size_t at_;
};

bool Space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
bool Digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool Word(unsigned char c) { return std::isalnum(c) != 0 || c == '_'; }

// "FUNCTION: BYTES Bytes -> Algo ALGO proto PROTO" starting at `at` of `line`, as the regular expression
//   (AllReduce|AllGather|ReduceScatter|Broadcast|Reduce):\s+(\d+)\s+Bytes\s+->\s+Algo\s+(\w+)\s+proto\s+(\w+)
// matches there. \w+ and \d+ are greedy and always followed by \s or the end, so matching them greedily never
// loses a match that backtracking would find.
std::optional<TuningChoice> MatchAt(std::string_view line, size_t at) {
  for (const char* function : {"AllReduce", "AllGather", "ReduceScatter", "Broadcast", "Reduce"}) {
    Cursor c(line, at);
    std::string_view bytes, algo, proto;
    if (!c.Literal(function) || !c.Literal(":") || !c.Many(Space) || !c.Many(Digit, &bytes) || !c.Many(Space) ||
        !c.Literal("Bytes") || !c.Many(Space) || !c.Literal("->") || !c.Many(Space) || !c.Literal("Algo") ||
        !c.Many(Space) || !c.Many(Word, &algo) || !c.Many(Space) || !c.Literal("proto") || !c.Many(Space) ||
        !c.Many(Word, &proto)) {
      continue;
    }
    TuningChoice choice{function, 0, AlgorithmName(std::string(algo)), ProtocolName(std::string(proto))};
    // A size that does not fit an int64 is no size NCCL logs: the line is not a tuning line.
    const auto [end, ec] = std::from_chars(bytes.data(), bytes.data() + bytes.size(), choice.bytes);
    if (ec != std::errc() || end != bytes.data() + bytes.size()) return std::nullopt;
    return choice;
  }
  return std::nullopt;
}

}  // namespace

std::vector<TuningChoice> ParseTuningLines(const std::string& text) {
  // A hand-written matcher rather than std::regex: libstdc++'s regex recurses once per character matched and can
  // exhaust the stack on a long line.
  std::vector<TuningChoice> out;
  std::string_view rest(text);
  while (!rest.empty()) {
    const size_t newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    for (size_t at = line.find_first_of("ABR"); at != std::string_view::npos; at = line.find_first_of("ABR", at + 1)) {
      if (std::optional<TuningChoice> choice = MatchAt(line, at)) {
        out.push_back(std::move(*choice));
        break;
      }
    }
  }
  return out;
}

std::string NcclFunctionName(const std::string& op) {
  if (op == "all_reduce") return "AllReduce";
  if (op == "all_gather") return "AllGather";
  if (op == "reduce_scatter") return "ReduceScatter";
  if (op == "broadcast") return "Broadcast";
  if (op == "reduce") return "Reduce";
  return "";
}

TuningChoice MostFrequent(const std::vector<TuningChoice>& choices, const std::string& function) {
  std::map<std::pair<std::string, std::string>, int> counts;
  TuningChoice best;
  int best_count = 0;
  for (const TuningChoice& c : choices) {
    if (c.function != function) continue;
    const int n = ++counts[{c.algorithm, c.protocol}];
    if (n >= best_count) {
      best_count = n;
      best = c;
    }
  }
  return best;
}

}  // namespace wiresim::calibrate

namespace wiresim::calibrate {

std::string LogTail::ReadNew() {
  std::FILE* f = std::fopen(path_.c_str(), "rb");
  if (f == nullptr) return "";
  std::string text;
  if (std::fseek(f, offset_, SEEK_SET) == 0) {
    char buf[1 << 16];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
  }
  offset_ += static_cast<long>(text.size());
  std::fclose(f);
  return text;
}

}  // namespace wiresim::calibrate
