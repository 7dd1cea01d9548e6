// Printing numbers for the verbs' tables: fixed decimals, and the way nccl-tests does (src/util.cu as of 2.19.6):
// right-aligned columns, times in 7 characters and bandwidths in 6, each with as many decimals as fit (2, 1, then 0),
// else in exponent form.
//
//   NcclNumber(47535.2, 7);   // "  47535"
//   NcclNumber(1.234, 6);     // "  1.23"
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace wiresim::app {

std::string NcclNumber(double value, int width);

// `v` with exactly `decimals` decimals, as printf's "%.*f": Fixed(2.0 / 3, 2) is "0.67".
std::string Fixed(double v, int decimals);

// `v` in the fewest digits that read back the same to 6 significant digits: Short(0.9) is "0.9", not
// "0.90000000000000002" (how Boost.Program_options prints a double default); Short(2.0) is "2".
std::string Short(double v);

// `text` right-aligned in `width` characters (never truncated).
std::string Right(const std::string& text, int width);

// `text` left-aligned in `width` characters, or followed by one space when it is that long or longer.
std::string Pad(const std::string& text, size_t width);

// Thousands separated: Grouped(1234567) is "1,234,567".
std::string Grouped(int64_t v);

// Bytes in GiB with 2 decimals: Gib(1.5 * 2^30) is "1.50".
std::string Gib(double bytes);

}  // namespace wiresim::app
