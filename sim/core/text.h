// Splitting the short lists users write in options and files: "tp=8,pp=2", "h0/gpu[0-3]", "0-3,8-11".
//
//   for (std::string_view item : Split("prefill=1x2048,decode=64x1024", ',')) ...
#pragma once

#include <charconv>
#include <concepts>
#include <string>
#include <string_view>
#include <vector>

namespace wiresim {

// Every item between separators, empty ones included, as views into `text`: Split("a,,b", ',') is
// {"a", "", "b"} and Split("", ',') is {""}. Callers decide what an empty item means.
std::vector<std::string_view> Split(std::string_view text, char sep);

// `s` without leading and trailing spaces and tabs.
std::string_view Trim(std::string_view s);

// All of `s` as a finite number ("4", "0.5", "-1e-3"): "", " 1", "+1", "1x", "inf", "nan" and out-of-range no.
bool ParseFiniteNumber(std::string_view s, double* out);

// The deepest nesting of JSON objects and arrays in `text`, brackets inside strings not counted, scanning no further
// once it passes `stop_after`. Readers call it before parsing, so a hostile file cannot exhaust the stack of a
// recursive parser. `line`, when given, gets the 1-based line of the last bracket scanned (the one that passed
// `stop_after`, when one did).
int JsonNestingDepth(std::string_view text, int stop_after, int* line = nullptr);

// Walks JSON text outside its string literals (quotes and escapes handled): calls visit(i, line) at each character
// i not inside a string (line counts from 1), which returns the index to go on from (i + 1, further to skip a
// token, text.size() to stop).
template <class Visit>
void ScanJsonOutsideStrings(std::string_view text, Visit visit) {
  int line = 1;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '\n') ++line;
    if (!in_string && c != '"') {
      i = visit(i, line);
      continue;
    }
    if (!in_string) {
      in_string = true;
    } else if (escaped) {
      escaped = false;
    } else if (c == '\\') {
      escaped = true;
    } else if (c == '"') {
      in_string = false;
    }
    ++i;
  }
}

// `s` with every byte sequence that is not valid UTF-8 replaced by U+FFFD, so that text copied from an input can be
// written into a TOML or JSON file (both require UTF-8). Valid text comes back unchanged.
std::string ToValidUtf8(std::string_view s);

// Runs of consecutive indices as ranges, sorted: {5, 0, 1, 2, 7} is "0-2,5,7"; "-" for none.
std::string IndexRanges(std::vector<int> indices);

// All of `s` as a non-negative whole number: "12" yes; "", " 1", "-1", "+1", "1x" and out-of-range no.
template <std::integral Int>
bool ParseWholeNumber(std::string_view s, Int* out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size() && *out >= 0;
}

}  // namespace wiresim
