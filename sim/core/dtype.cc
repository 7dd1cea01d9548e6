#include "sim/core/dtype.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace wiresim {

double BytesPerElement(DataType t) {
  switch (t) {
    case DataType::kFloat64:
      return 8;
    case DataType::kFloat32:
    case DataType::kInt32:
      return 4;
    case DataType::kFloat16:
    case DataType::kBFloat16:
      return 2;
    case DataType::kFloat8E4M3:
    case DataType::kFloat8E5M2:
    case DataType::kInt8:
      return 1;
    case DataType::kInt4:
      return 0.5;
  }
  return 0;
}

std::string_view ToString(DataType t) {
  switch (t) {
    case DataType::kFloat64:
      return "double";
    case DataType::kFloat32:
      return "float";
    case DataType::kFloat16:
      return "half";
    case DataType::kBFloat16:
      return "bfloat16";
    case DataType::kFloat8E4M3:
      return "f8e4m3";
    case DataType::kFloat8E5M2:
      return "f8e5m2";
    case DataType::kInt32:
      return "int32";
    case DataType::kInt8:
      return "int8";
    case DataType::kInt4:
      return "int4";
  }
  return "?";
}

std::optional<DataType> ParseDataType(std::string_view name) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  struct Alias {
    const char* name;
    DataType type;
  };
  static constexpr Alias kAliases[] = {
      {"double", DataType::kFloat64},      {"float64", DataType::kFloat64},
      {"fp64", DataType::kFloat64},        {"float", DataType::kFloat32},
      {"float32", DataType::kFloat32},     {"fp32", DataType::kFloat32},
      {"half", DataType::kFloat16},        {"float16", DataType::kFloat16},
      {"fp16", DataType::kFloat16},        {"bfloat16", DataType::kBFloat16},
      {"bf16", DataType::kBFloat16},       {"f8e4m3", DataType::kFloat8E4M3},
      {"fp8", DataType::kFloat8E4M3},      {"float8_e4m3fn", DataType::kFloat8E4M3},
      {"e4m3", DataType::kFloat8E4M3},     {"fp8_e4m3", DataType::kFloat8E4M3},
      {"f8e5m2", DataType::kFloat8E5M2},   {"float8_e5m2", DataType::kFloat8E5M2},
      {"fp8_e5m2", DataType::kFloat8E5M2}, {"int32", DataType::kInt32},
      {"int8", DataType::kInt8},           {"int4", DataType::kInt4},
  };
  for (const Alias& a : kAliases)
    if (n == a.name) return a.type;
  return std::nullopt;
}

}  // namespace wiresim
