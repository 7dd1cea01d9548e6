#include "calibrate/options.h"

#include <sstream>

#include <boost/program_options.hpp>

namespace wiresim::calibrate {
namespace po = boost::program_options;

namespace {

// A double default as a person writes it: Boost prints 0.2 as "0.20000000000000001".
std::string Short(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

const char* kUsage = R"(usage: wiresim-calibrate VERB [options]

verbs:
  run       measure GEMMs (cuBLASLt), device memory copies and NCCL collectives; write a calibration profile
  plan      print what `run` would measure, without a GPU
  devices   list this node's GPUs, driver, CUDA and NCCL versions

Under mpirun (Open MPI), `run` measures collectives across every rank's GPU, one GPU per rank, and rank 0 writes
the profile. The profile format is docs/formats/calibration-profile.md. An interrupted run keeps what it measured;
run it again with the same -o to continue.

examples:
  wiresim-calibrate run -o h100.json --model workloads/models/llama-3.1-8b.toml --tp 1,2,4,8
  mpirun -np 16 --map-by ppr:8:node wiresim-calibrate run -o 2node.json --no-gemm --no-memory
  wiresim-calibrate plan --gpus 8 --model workloads/models/llama-3.1-70b.toml
)";

}  // namespace

Options ParseCommandLine(const std::vector<std::string>& args, std::string* help) {
  Options o;
  std::ostringstream cmd;
  cmd << "wiresim-calibrate";
  for (const std::string& a : args) cmd << " " << a;
  o.command_line = cmd.str();

  // Boost.Program_options substitutes placeholders such as %canonical_option% into its messages until none is left,
  // so an argument holding one never ends (Boost 1.74): '%' is refused before parsing.
  for (const std::string& a : args) {
    if (a.find('%') != std::string::npos) {
      throw CalibrateError("argument '" + a.substr(0, 40) + "': '%' is not accepted in arguments");
    }
  }
  std::string verb, tp, tokens, dtypes, ops, groups, min_b, max_b, pair_max, copies;
  po::options_description d("options");
  d.add_options()("help,h", "show this help")("verb", po::value(&verb), "run, plan or devices")(
      "output,o", po::value(&o.output)->default_value(o.output), "the profile to write (and resume)")(
      "fresh", po::bool_switch(&o.fresh), "start over: ignore what the output file holds")(
      "model", po::value(&o.models)->composing(), "HF config.json (or .toml) whose linear layers to measure; repeat")(
      "tp", po::value(&tp)->default_value("1,2,4,8"), "tensor-parallel degrees for --model shapes")(
      "tokens", po::value(&tokens), "token counts (GEMM m), default 1,2,4,...,8192")(
      "gemm-grid", po::bool_switch(&o.gemm_grid), "also measure a grid of n, k in {1024,4096,8192,16384}")(
      "gemm-dtypes", po::value(&dtypes)->default_value("bfloat16,f8e4m3"), "GEMM input types (fp8 where supported)")(
      "no-gemm", "skip GEMMs")("no-memory", "skip the memory copies")("no-nccl", "skip collectives")(
      "ops", po::value(&ops), "collectives: all_reduce,all_gather,reduce_scatter,alltoall,broadcast,sendrecv")(
      "dtype,d", po::value(&o.nccl_dtype)->default_value(o.nccl_dtype), "collective element type")(
      "minbytes,b", po::value(&min_b)->default_value("8"), "smallest collective size")(
      "maxbytes,e", po::value(&max_b)->default_value("1G"), "largest collective size")(
      "stepfactor,f", po::value(&o.factor)->default_value(o.factor, Short(o.factor)), "size multiplier")(
      "pair-maxbytes", po::value(&pair_max)->default_value("256M"), "largest size for GPU pairs")(
      "groups", po::value(&groups)->default_value("all,pairs,nvlink"), "GPU groups: all, pairs, nvlink")(
      "copy-bytes", po::value(&copies)->default_value("64M,256M,1G,4G"), "device-to-device copy sizes")(
      "warmup_iters,w", po::value(&o.warmup)->default_value(o.warmup), "collective warm-up iterations")(
      "iters,n", po::value(&o.iters)->default_value(o.iters), "timed collective iterations")(
      "gemm-seconds", po::value(&o.gemm_seconds)->default_value(o.gemm_seconds, Short(o.gemm_seconds)),
      "time per GEMM shape")("timeout", po::value(&o.timeout_s)->default_value(o.timeout_s, Short(o.timeout_s)),
                             "seconds before a hung collective is aborted")(
      "gpus", po::value(&o.gpus)->default_value(0), "plan: GPUs to plan for; run: use the first N (0: all)")(
      "topo", po::value(&o.topo_file), "plan: `nvidia-smi topo -m` output for the NVLink domains")(
      "json", po::bool_switch(&o.json), "plan: print the plan as JSON");
  po::positional_options_description pos;
  pos.add("verb", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(d).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw CalibrateError(std::string(e.what()) + " (wiresim-calibrate --help)");
  }
  if (vm.count("help") || verb.empty() || verb == "help") {
    std::ostringstream h;
    h << kUsage << "\n" << d;
    *help = h.str();
    o.verb = "help";
    return o;
  }
  if (verb != "run" && verb != "plan" && verb != "devices") {
    throw CalibrateError("unknown verb '" + verb + "' (expected run, plan or devices)");
  }
  o.verb = verb;
  if (o.json && verb != "plan") throw CalibrateError("--json: only `plan` prints JSON (`run` writes a JSON profile)");
  o.tp = ParseIntList(tp, "--tp");
  if (!tokens.empty()) {
    o.tokens.clear();
    for (int t : ParseIntList(tokens, "--tokens")) o.tokens.push_back(t);
  }
  o.gemm_dtypes = SplitList(dtypes);
  for (const std::string& t : o.gemm_dtypes) {
    if (t != "bfloat16" && t != "half" && t != "f8e4m3") {
      throw CalibrateError("--gemm-dtypes: '" + t + "' (expected bfloat16, half or f8e4m3)");
    }
  }
  if (!ops.empty()) o.ops = SplitList(ops);
  o.groups = SplitList(groups);
  o.min_bytes = ParseSize(min_b);
  o.max_bytes = ParseSize(max_b);
  o.pair_max_bytes = ParseSize(pair_max);
  o.copy_bytes.clear();
  for (const std::string& c : SplitList(copies)) o.copy_bytes.push_back(ParseSize(c));
  o.gemm = !vm.count("no-gemm");
  o.memory = !vm.count("no-memory");
  o.nccl = !vm.count("no-nccl");
  if (o.iters < 1 || o.warmup < 0) throw CalibrateError("--iters must be >= 1 and --warmup_iters >= 0");
  // 576 GPUs: the largest NVLink domain announced (NVIDIA's Vera Rubin NVL576); `plan` sweeps every pair of them.
  if (o.gpus < 0 || o.gpus > 576)
    throw CalibrateError("--gpus: expected 0 (all) to 576, got " + std::to_string(o.gpus));
  if (o.min_bytes > o.max_bytes) throw CalibrateError("--minbytes is larger than --maxbytes");
  DtypeBytes(o.nccl_dtype);
  return o;
}

}  // namespace wiresim::calibrate
