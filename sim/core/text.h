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
