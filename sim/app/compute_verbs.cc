// `wiresim compute gemm` (one GEMM, or a CSV of them, timed by the kernel-time model) and `wiresim compute gpus`
// (the GPU catalog). tools/validate_compute.py drives the CSV mode to compare predictions with measurements.
#include <cstdio>
#include <iomanip>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "sim/app/calibration_input.h"
#include "sim/app/cli.h"
#include "sim/app/number_format.h"
#include "sim/app/options.h"
#include "sim/app/verbs.h"
#include "sim/compute/roofline.h"
#include "sim/core/numeric_field.h"

namespace wiresim::app {
namespace po = boost::program_options;

namespace {

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream s(line);
  std::string cell;
  while (std::getline(s, cell, ',')) {
    while (!cell.empty() && (cell.back() == '\r' || cell.back() == ' ')) cell.pop_back();
    cells.push_back(cell);
  }
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

Result<DataType> Dtype(const std::string& text, const std::string& where) {
  std::optional<DataType> t = ParseDataType(text);
  if (!t)
    return InvalidArgument(where + ": unknown dtype \"" + text + "\" (expected bf16, fp16, fp32, fp8, int8, int4)");
  return *t;
}

// A GEMM dimension of a CSV row: a whole number from 1 to 2^24, the bound on any of a model's sizes
// (docs/formats/numbers.md), so that m x n x k and the kernel's tile counts stay within int64 and Time.
Result<int64_t> Dimension(const SourceLocation& where, std::string_view field, const std::string& text) {
  return ParseIntegerField(where, field, text, kModelDimension);
}

// The time of `shape`, or an error (prefixed with `where` unless empty) when it lies past what a Time holds
// (about 9.2e6 s): compute gemm's dimensions are bounded one by one, not in their product, so 2^24 of each of m, n, k
// and batch reach 2^97 FLOPs.
Result<Time> TimeOfGemm(const KernelTimeModel& model, const KernelShape& shape, const std::string& where,
                        std::string_view gpu) {
  const double seconds = model.KernelSeconds(shape);
  if (!Time::FitsSeconds(seconds)) {
    std::ostringstream text;
    if (!where.empty()) text << where << ": ";
    text << "the GEMM " << shape.m << "x" << shape.n << "x" << shape.k;
    if (shape.batch > 1) text << " (batch " << shape.batch << ")";
    text << " would take " << std::setprecision(3) << seconds << " s on " << gpu
         << ", past the longest time a simulation represents (9.2e6 s, about 106 days)";
    return InvalidArgument(text.str());
  }
  return model.KernelTime(shape);
}

// Times every row of a CSV with columns gpu, m, n, k (and optionally batch, dtype, weight_dtype); the output is
// the input with a predicted_us column added. Lines starting with '#' are copied through. `rows` gets one object per
// timed row, for --json.
Result<std::string> TimeCsv(const SourceFile& file, const RooflineParams& params, const LoadedCalibration* calibration,
                            nlohmann::ordered_json* rows) {
  std::istringstream in(file.text);
  std::ostringstream out;
  std::string line;
  std::map<std::string, size_t> column;
  int line_number = 0;
  std::map<std::string, std::unique_ptr<KernelTimeModel>> models;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') {
      out << line << "\n";
      continue;
    }
    const std::vector<std::string> cells = SplitCsv(line);
    const std::string where = file.name + ":" + std::to_string(line_number);
    if (column.empty()) {
      for (size_t i = 0; i < cells.size(); ++i) column[cells[i]] = i;
      for (const char* required : {"gpu", "m", "n", "k"}) {
        if (column.count(required) == 0) {
          return InvalidArgument(where + ": the header lacks a \"" + std::string(required) +
                                 "\" column (needs gpu, m, n, k; optional batch, dtype, weight_dtype)");
        }
      }
      out << line << ",predicted_us\n";
      continue;
    }
    auto cell = [&](const char* name) -> std::optional<std::string> {
      auto it = column.find(name);
      if (it == column.end() || it->second >= cells.size() || cells[it->second].empty()) return std::nullopt;
      return cells[it->second];
    };
    const std::string gpu = cell("gpu").value_or("");
    auto& model = models[gpu];
    if (model == nullptr) {
      const GpuSpec* spec = FindGpuSpec(gpu);
      if (spec == nullptr) {
        return NotFound(where + ": gpu \"" + gpu + "\" is not in the catalog (known: " + std::string(KnownGpuNames()) +
                        ")");
      }
      model = KernelModelFor(*spec, params, calibration, nullptr);
    }
    const SourceLocation at{file.name, line_number};
    WIRESIM_ASSIGN_OR_RETURN(int64_t m, Dimension(at, "m", cell("m").value_or("")));
    WIRESIM_ASSIGN_OR_RETURN(int64_t n, Dimension(at, "n", cell("n").value_or("")));
    WIRESIM_ASSIGN_OR_RETURN(int64_t k, Dimension(at, "k", cell("k").value_or("")));
    WIRESIM_ASSIGN_OR_RETURN(int64_t batch, Dimension(at, "batch", cell("batch").value_or("1")));
    WIRESIM_ASSIGN_OR_RETURN(DataType dtype, Dtype(cell("dtype").value_or("bf16"), where + ": dtype"));
    WIRESIM_ASSIGN_OR_RETURN(
        DataType weight, Dtype(cell("weight_dtype").value_or(std::string(ToString(dtype))), where + ": weight_dtype"));
    WIRESIM_ASSIGN_OR_RETURN(const Time t, TimeOfGemm(*model, GemmKernel(m, n, k, dtype, weight, batch), where, gpu));
    out << line << "," << Fixed(t.ToMicroseconds(), 3) << "\n";
    rows->push_back({{"line", line_number},
                     {"gpu", gpu},
                     {"m", m},
                     {"n", n},
                     {"k", k},
                     {"batch", batch},
                     {"dtype", ToString(dtype)},
                     {"weight_dtype", ToString(weight)},
                     {"predicted_us", t.ToMicroseconds()}});
  }
  if (column.empty()) return InvalidArgument(file.name + ": no header line (gpu,m,n,k,...)");
  return out.str();
}

}  // namespace

int ComputeGemm(const Args& args, AppContext& ctx) {
  std::string gpu, dtype_text, weight_text, csv, out_path, roofline, calibration_arg;
  int64_t m = 0, n = 0, k = 0, batch = 1;
  po::options_description options("options");
  options.add_options()("gpu", po::value(&gpu)->default_value("h100"), "GPU model (wiresim compute gpus lists them)")(
      ",m", po::value(&m), "rows of the activations (tokens)")(",n", po::value(&n), "output features")(
      ",k", po::value(&k), "input features")("batch", po::value(&batch)->default_value(1), "independent GEMMs")(
      "dtype", po::value(&dtype_text)->default_value("bf16"), "input type: bf16, fp16, fp32 (TF32), fp8, int8")(
      "weight-dtype", po::value(&weight_text), "stored weight type if different (int4 weight-only)")(
      "csv", po::value(&csv), "time every row of a CSV with columns gpu,m,n,k[,batch,dtype,weight_dtype]")(
      "out,o", po::value(&out_path), "write the CSV result (or its JSON, with --json) here instead of printing it")(
      "roofline", po::value(&roofline),
      "override roofline parameters: gemm_efficiency=0.7,... (sim/compute/roofline.h)")(
      "calibration", po::value(&calibration_arg), "a calibration profile: its measured GEMMs and HBM bandwidth")(
      "json", "print JSON (with --csv: one object per row)");
  po::positional_options_description positional;
  po::variables_map vm;
  if (auto code = ParseOptions(args, ctx, "compute gemm", "--gpu G -m M -n N -k K [--dtype bf16] | --csv FILE",
                               "wiresim compute gemm --gpu h100 -m 64 -n 8192 -k 8192", options, positional, vm)) {
    return *code;
  }
  auto params = ParseRooflineParams(roofline);
  if (!params.ok()) return ReportError(ctx, "compute gemm", params.status());
  std::optional<LoadedCalibration> calibration;
  if (vm.count("calibration")) {
    auto loaded = LoadCalibration(ctx, calibration_arg, nullptr);
    if (!loaded.ok()) return ReportError(ctx, "compute gemm", loaded.status());
    calibration = std::move(loaded).value();
  }
  const LoadedCalibration* cal = calibration ? &*calibration : nullptr;
  if (!csv.empty()) {
    auto file = ReadInput(ctx, csv, InputKind::kOther);
    if (!file.ok()) return ReportError(ctx, "compute gemm", file.status());
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    auto result = TimeCsv(*file, *params, cal, &rows);
    if (!result.ok()) return ReportError(ctx, "compute gemm", result.status());
    const std::string text = vm.count("json") ? rows.dump(1) + "\n" : *result;
    if (out_path.empty() || out_path == "-") {
      ctx.out << text;
    } else if (Status s = WriteFileAtomically(out_path, text); !s.ok()) {
      return ReportError(ctx, "compute gemm", s);
    }
    return kExitOk;
  }
  if (m < 1 || n < 1 || k < 1 || batch < 1) {
    return ReportError(ctx, "compute gemm", InvalidArgument("-m, -n and -k are required and must be >= 1"));
  }
  for (const auto& [flag, value] : {std::pair{"-m", m}, {"-n", n}, {"-k", k}, {"--batch", batch}}) {
    if (Status s = CheckInteger({}, flag, value, kModelDimension); !s.ok()) return ReportError(ctx, "compute gemm", s);
  }
  const GpuSpec* spec = FindGpuSpec(gpu);
  if (spec == nullptr) {
    return ReportError(ctx, "compute gemm",
                       NotFound("--gpu " + gpu + ": no such GPU (known: " + std::string(KnownGpuNames()) + ")"));
  }
  auto dtype = Dtype(dtype_text, "--dtype");
  if (!dtype.ok()) return ReportError(ctx, "compute gemm", dtype.status());
  auto weight = Dtype(weight_text.empty() ? dtype_text : weight_text, "--weight-dtype");
  if (!weight.ok()) return ReportError(ctx, "compute gemm", weight.status());
  std::string model_note;
  const std::unique_ptr<KernelTimeModel> model = KernelModelFor(*spec, *params, cal, &model_note);
  const KernelShape shape = GemmKernel(m, n, k, *dtype, *weight, batch);
  auto timed = TimeOfGemm(*model, shape, "", spec->name);
  if (!timed.ok()) return ReportError(ctx, "compute gemm", timed.status());
  const Time t = *timed;
  const double seconds = t.ToSeconds();
  const double tflops = shape.flops / seconds / 1e12;
  const double gbps = shape.bytes / seconds / 1e9;
  if (vm.count("json")) {
    nlohmann::ordered_json j{{"gpu", spec->name},
                             {"m", m},
                             {"n", n},
                             {"k", k},
                             {"batch", batch},
                             {"dtype", ToString(*dtype)},
                             {"weight_dtype", ToString(*weight)},
                             {"flops", shape.flops},
                             {"bytes", shape.bytes},
                             {"time_us", t.ToMicroseconds()},
                             {"tflops", tflops},
                             {"model", model->name()},
                             {"timed_by", model_note}};
    ctx.out << j.dump(1) << "\n";
    return kExitOk;
  }
  ctx.out << spec->name << " " << ToString(*dtype) << " GEMM " << m << "x" << n << "x" << k
          << (batch > 1 ? " (x" + std::to_string(batch) + ")" : "") << ": " << Fixed(t.ToMicroseconds(), 2) << " us  ("
          << Fixed(tflops, 1) << " TFLOP/s = " << Fixed(100 * tflops * 1e12 / PeakFlops(*spec, *dtype), 0)
          << "% of peak; " << Fixed(gbps, 0) << " GB/s = " << Fixed(100 * gbps * 1e9 / spec->memory_bandwidth, 0)
          << "% of memory bandwidth)\n";
  if (cal != nullptr) ctx.out << "timed by: " << model_note << "\n";
  return kExitOk;
}

int ComputeGpus(const Args& args, AppContext& ctx) {
  po::options_description options("options");
  options.add_options()("json", "print JSON");
  po::positional_options_description positional;
  po::variables_map vm;
  if (auto code =
          ParseOptions(args, ctx, "compute gpus", "[--json]", "wiresim compute gpus", options, positional, vm)) {
    return *code;
  }
  if (vm.count("json")) {
    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    for (const GpuSpec& g : GpuCatalog()) {
      all.push_back({{"name", g.name},
                     {"product", g.product},
                     {"fp64_flops", g.fp64_flops},
                     {"tf32_flops", g.tf32_flops},
                     {"bf16_flops", g.bf16_flops},
                     {"fp8_flops", g.fp8_flops},
                     {"int8_ops", g.int8_ops},
                     {"memory_bytes", g.memory_bytes},
                     {"device_memory_bytes", g.device_memory_bytes},
                     {"memory_bandwidth", g.memory_bandwidth},
                     {"sm_count", g.sm_count},
                     {"measured_bf16_flops", g.measured_bf16_flops},
                     {"sustained_tensor_scale", SustainedTensorScale(g)}});
    }
    ctx.out << all.dump(1) << "\n";
    return kExitOk;
  }
  ctx.out
      << "Dense tensor-core peaks (no sparsity), datasheet memory (GB) and device memory as CUDA reports it (GiB);\n"
         "BF16 sust.: a large BF16 matmul measured on the part (- where none), and scale: its fraction of the\n"
         "datasheet peak over the H100's, which multiplies the roofline's tensor rates (docs/models.md). Sources in\n"
         "sim/compute/gpu_spec.cc.\n\n";
  char line[256];
  std::snprintf(line, sizeof(line), "%-15s %-36s %9s %9s %9s %8s %8s %9s %5s %10s %6s\n", "name", "product", "BF16 TF",
                "FP8 TF", "TF32 TF", "mem GB", "CUDA GiB", "mem TB/s", "SMs", "BF16 sust.", "scale");
  ctx.out << line;
  for (const GpuSpec& g : GpuCatalog()) {
    std::snprintf(line, sizeof(line), "%-15s %-36s %9.1f %9s %9.1f %8.0f %8.2f %9.3f %5d %10s %6.2f\n",
                  std::string(g.name).c_str(), std::string(g.product).c_str(), g.bf16_flops / 1e12,
                  g.fp8_flops > 0 ? Fixed(g.fp8_flops / 1e12, 1).c_str() : "-", g.tf32_flops / 1e12,
                  g.memory_bytes / 1e9, g.device_memory_bytes / (1024.0 * 1024 * 1024), g.memory_bandwidth / 1e12,
                  g.sm_count, g.measured_bf16_flops > 0 ? Fixed(g.measured_bf16_flops / 1e12, 1).c_str() : "-",
                  SustainedTensorScale(g));
    ctx.out << line;
  }
  return kExitOk;
}

}  // namespace wiresim::app
