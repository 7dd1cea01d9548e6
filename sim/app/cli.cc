#include "sim/app/cli.h"

#include <iomanip>
#include <ostream>

#include "sim/app/verbs.h"

namespace wiresim::app {
namespace {

struct Verb {
  const char* name;  // "topo show"
  const char* summary;
  int (*run)(const Args&, AppContext&);  // nullptr: not built yet
  const char* arrives_with;              // for verbs not built yet
};

// The verbs of docs/user-guide.md, in the order the help lists them.
constexpr Verb kVerbs[] = {
    {"run", "simulate serving a model on a cluster: TTFT, TPOT, throughput, bubbles, exposed collectives", Run,
     nullptr},
    {"collective", "predict an NCCL collective over a set of GPUs, as an nccl-tests table", Collective, nullptr},
    {"topo show", "the GPU x GPU matrix of a topology (nvidia-smi vocabulary), with bandwidth and latency", TopoShow,
     nullptr},
    {"topo import", "turn `nvidia-smi topo -m` output or an NCCL topology XML into a topology file", TopoImport,
     nullptr},
    {"model show", "a model's shapes, parameters, KV bytes per token and memory per GPU under a plan", ModelShow,
     nullptr},
    {"compute gemm", "predicted time of a GEMM (or a CSV of them) on a GPU, from the kernel-time model", ComputeGemm,
     nullptr},
    {"compute gpus", "the GPU specs wiresim knows: peak FLOP/s per type, memory, bandwidth, SMs", ComputeGpus, nullptr},
    {"calibrate import", "turn nccl-tests logs into a calibration profile", CalibrateImport, nullptr},
    {"calibrate fit", "fit link and algorithm parameters to a calibration profile", CalibrateFit, nullptr},
    {"plan", "rank parallel plans and placements for a model, cluster, traffic and SLO", Plan, nullptr},
};

void PrintUsage(std::ostream& out) {
  out << "wiresim: what TTFT, TPOT and throughput an LLM gets on a GPU cluster, and where its time goes.\n\n"
         "usage: wiresim VERB [options]      (wiresim VERB --help for each verb's options and an example)\n\n"
         "verbs:\n";
  for (const Verb& v : kVerbs) {
    out << "  " << std::left << std::setw(18) << v.name << v.summary;
    if (v.run == nullptr) out << " [not built yet]";
    out << "\n";
  }
  out << "\nexamples:\n"
         "  wiresim topo show dgx-h100-2node\n"
         "  wiresim collective --topology dgx-h100-2node --nodes 2 --op all_reduce -b 1M -e 8G\n"
         "  wiresim model show llama-3.1-70b --plan tp=8 --gpu h100\n"
         "  wiresim calibrate import all_reduce_perf.txt -o profile.json\n";
}

}  // namespace

int ReportError(AppContext& ctx, const std::string& verb, const Status& status) {
  ctx.err << "wiresim " << verb << ": " << status.message() << "\n";
  return status.code() == StatusCode::kInternal ? kExitInternal : kExitBadInput;
}

int Main(const std::vector<std::string>& args, AppContext& ctx) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    PrintUsage(ctx.out);
    return args.empty() ? kExitBadInput : kExitOk;
  }
  if (args[0] == "--version") {
    ctx.out << "wiresim " << WIRESIM_VERSION << "\n";
    return kExitOk;
  }
  // Longest match: "topo show" before "topo".
  for (const Verb& v : kVerbs) {
    const std::string name = v.name;
    const size_t space = name.find(' ');
    const bool two_words = space != std::string::npos;
    if (two_words ? (args.size() >= 2 && args[0] == name.substr(0, space) && args[1] == name.substr(space + 1))
                  : args[0] == name) {
      if (v.run == nullptr) {
        ctx.err << "wiresim " << name << ": not available yet; it arrives with " << v.arrives_with << ".\n";
        return kExitBadInput;
      }
      const Args rest(args.begin() + (two_words ? 2 : 1), args.end());
      return v.run(rest, ctx);
    }
  }
  // A group word alone ("topo") or an unknown verb.
  std::string group_verbs;
  for (const Verb& v : kVerbs) {
    const std::string name = v.name;
    if (name.rfind(args[0] + " ", 0) == 0) group_verbs += "\n  wiresim " + name + "  " + v.summary;
  }
  const bool help = args.size() >= 2 && (args[1] == "--help" || args[1] == "-h" || args[1] == "help");
  if (!group_verbs.empty() && help) {
    ctx.out << "wiresim " << args[0] << ": its verbs (each takes --help):" << group_verbs << "\n";
    return kExitOk;
  }
  if (!group_verbs.empty()) {
    ctx.err << "wiresim " << args[0] << ": expected one of:" << group_verbs << "\n";
  } else {
    ctx.err << "wiresim: unknown verb '" << args[0] << "' (wiresim --help lists them)\n";
  }
  return kExitBadInput;
}

}  // namespace wiresim::app
