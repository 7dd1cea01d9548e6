// DataType: the element types tensors, weights, KV caches and collectives use, with their sizes and the names
// nccl-tests and HF configs print ("float", "bfloat16", "f8e4m3"). Shared by model, compute and collective.
//
//   DataType t = *ParseDataType("bf16");    // DataType::kBFloat16
//   double bytes = 4096 * BytesPerElement(t); // 8192
#pragma once

#include <optional>
#include <string_view>

namespace wiresim {

enum class DataType { kFloat64, kFloat32, kFloat16, kBFloat16, kFloat8E4M3, kFloat8E5M2, kInt32, kInt8, kInt4 };

// Bytes per element; 0.5 for int4.
double BytesPerElement(DataType t);
// The nccl-tests name: "double", "float", "half", "bfloat16", "f8e4m3", "f8e5m2", "int32", "int8", "int4".
std::string_view ToString(DataType t);
// Accepts nccl-tests names and the common aliases: fp32/float32, fp16/float16, bf16, fp8/float8_e4m3fn, int4...
std::optional<DataType> ParseDataType(std::string_view name);

}  // namespace wiresim
