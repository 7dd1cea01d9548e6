#include "sim/compute/gpu_spec.h"

#include <array>
#include <cctype>
#include <string>

namespace wiresim {
namespace {

constexpr double T = 1e12;  // tera
constexpr double GB = 1e9;
constexpr double GiB = 1024.0 * 1024 * 1024;
constexpr double MiB = 1024.0 * 1024;
// Device memory of an 80 GB Hopper as CUDA reports it: 79.19 GiB. vLLM v0.19.0 start-up logs on H100-80GB
// ("Free memory on device (78.68/79.19 GiB) on startup", github.com/llm-d-incubation/llm-d-planner, commit d3121e0,
// accuracy/results/v0.19.0/logs/); torch's out-of-memory messages on H100 name the same "total capacity of 79.19
// GiB". nvidia-smi shows 81,559 MiB on the same part (vllm-project/vllm#55169): the runtime sees about 470 MiB less.
constexpr double kH100Device = 79.19 * GiB;
// A part with no published runtime figure: its datasheet GB read as GiB (HBM stacks come in GiB), scaled as the
// H100's 80 -> 79.19.
constexpr double FromDatasheet(double datasheet_gb) { return datasheet_gb * GiB * (79.19 / 80); }

// Dense figures are the datasheets' "with sparsity" figures halved where the datasheet prints only those.
// measured_bf16_flops: [TPT] github.com/zzc0721/torch-performance-test-data, database.md at commit 9d82827: the
// largest BF16 TFLOPS of torch.matmul over square sizes 1024 to 10240 (test.py), one row per contributed run. Where
// a part has several rows their mean: H100 SXM 797.51 and 783.66; RTX 4090 24GB 170.06, 173.31, 162.39, 163.09;
// RTX 5090 236.03, 242.18; H20 141.86, 142.25. The H20-3e takes the H20's (the same compute); A100 80GB SXM is the
// "A100 SXM4 80GB" row (an A800's reads 266.48); A100 40GB the "A100 40GB" row. No row: H100 NVL, A100 PCIe 80GB,
// B300, GB200, A10.
constexpr std::array<GpuSpec, 20> kCatalog = {{
    // [H100-DS] NVIDIA H100 Tensor Core GPU datasheet, H100 SXM column: FP64 Tensor Core 67 TF, TF32 989 TF*,
    // BF16/FP16 1,979 TF*, FP8 3,958 TF*, INT8 3,958 TOPS* (* with sparsity), 80 GB, 3.35 TB/s.
    // [H100-WP] NVIDIA H100 Tensor Core GPU Architecture whitepaper: H100 SXM5 has 132 SMs; dense BF16 989.4 TF.
    // Device memory: kH100Device.
    {"h100-sxm", "NVIDIA H100 SXM5 80GB", 67 * T, 494.7 * T, 989.4 * T, 1978.9 * T, 1978.9 * T, 80 * GB, 3.35e12, 132,
     kH100Device, 790.6 * T},
    // [H200-DS] NVIDIA H200 Tensor Core GPU datasheet, H200 SXM column: the H100's tensor throughput (FP8
    // 3,958 TF*, BF16 1,979 TF*), 141 GB HBM3e, 4.8 TB/s. Same GH100 die as H100 SXM5: 132 SMs.
    // Device memory: torch's device properties of an 'NVIDIA H200' print total_memory=143156MB (a public Modal
    // script's comment); nvidia-smi shows 143,771 MiB (vllm-project/recipes#381), the H100's ~470 MiB apart.
    {"h200-sxm", "NVIDIA H200 SXM 141GB", 67 * T, 494.7 * T, 989.4 * T, 1978.9 * T, 1978.9 * T, 141 * GB, 4.8e12, 132,
     143156 * MiB, 790.29 * T},
    // [H100-DS], H100 NVL column: FP64 Tensor Core 60 TF, TF32 835 TF*, BF16/FP16 1,671 TF*, FP8 3,341 TF*,
    // INT8 3,341 TOPS*, 94 GB HBM3, 3.9 TB/s. The GH100 die with all 132 SMs of the SXM5 part enabled.
    // Device memory: no published runtime figure found; FromDatasheet(94).
    {"h100-nvl", "NVIDIA H100 NVL 94GB", 60 * T, 417.5 * T, 835.5 * T, 1670.5 * T, 1670.5 * T, 94 * GB, 3.9e12, 132,
     FromDatasheet(94)},
    // [H100-PB] NVIDIA H100 PCIe product brief and datasheet, H100 PCIe column: FP64 Tensor Core 51 TF, TF32 756 TF*,
    // BF16/FP16 1,513 TF*, FP8 3,026 TF*, INT8 3,026 TOPS* (* with sparsity), 80 GB HBM2e, 2.0 TB/s; 114 SMs.
    // Device memory: torch's device properties of an 'NVIDIA H100 PCIe' print total_memory=81008MB,
    // multi_processor_count=114 (a public kernel-tuning comment).
    {"h100-pcie", "NVIDIA H100 PCIe 80GB", 51 * T, 378 * T, 756.5 * T, 1513 * T, 1513 * T, 80 * GB, 2.0e12, 114,
     81008 * MiB, 495.93 * T},
    // [H20-DS] NVIDIA H20 datasheet (dense figures: measured BF16 GEMMs reach 142 TF, 96% of them): FP64 1 TF,
    // TF32 74 TF, BF16/FP16 148 TF, FP8 296 TF, INT8 296 TOPS; 96 GB HBM3, 4.0 TB/s; NVLink 900 GB/s.
    // Device memory: torch's device properties of an 'NVIDIA H20' print total_memory=97285MB,
    // multi_processor_count=78 (a comment repeated in public Triton attention kernels).
    {"h20", "NVIDIA H20 96GB", 1 * T, 74 * T, 148 * T, 296 * T, 296 * T, 96 * GB, 4.0e12, 78, 97285 * MiB, 142.06 * T},
    // H20-3e: the H20 with 141 GB of HBM3e (refdata serving section 12b: "H20-3e (143 GB)", nvidia-smi's figure, as
    // on an H200). NVIDIA publishes no separate datasheet: the H20's compute and 78 SMs; the H200's memory (six HBM3e
    // stacks, 4.8 TB/s, and its 143,156 MiB as torch reports them) are an assumption.
    {"h20-3e", "NVIDIA H20-3e 141GB", 1 * T, 74 * T, 148 * T, 296 * T, 296 * T, 141 * GB, 4.8e12, 78, 143156 * MiB,
     142.06 * T},
    // [A100-DS] NVIDIA A100 Tensor Core GPU datasheet, A100 80GB SXM column: FP64 Tensor Core 19.5 TF, TF32 156 TF,
    // BF16/FP16 312 TF, INT8 624 TOPS (dense), 80 GB HBM2e, 2,039 GB/s; no FP8.
    // [A100-WP] NVIDIA A100 Tensor Core GPU Architecture whitepaper: 108 SMs.
    // Device memory: no citable runtime figure found for the A100 80GB; taken as the H100 80GB's (torch reports
    // 79.1-79.3 GiB on 80 GB parts of both generations in published out-of-memory messages).
    {"a100-sxm-80gb", "NVIDIA A100 SXM4 80GB", 19.5 * T, 156 * T, 312 * T, 0, 624 * T, 80 * GB, 2.039e12, 108,
     kH100Device, 264.53 * T},
    // [A100-DS], A100 40GB SXM column: the same tensor throughput, 40 GB HBM2, 1,555 GB/s.
    // Device memory: torch's "GPU 0 has a total capacity of 39.50 GiB" on an A100 40GB (TianheWu/CoSeR#10).
    {"a100-sxm-40gb", "NVIDIA A100 SXM4 40GB", 19.5 * T, 156 * T, 312 * T, 0, 624 * T, 40 * GB, 1.555e12, 108,
     39.50 * GiB, 246.33 * T},
    // [A100-DS], A100 80GB PCIe column: the same tensor throughput, 80 GB HBM2e, 1,935 GB/s.
    // Device memory: as the A100 SXM4 80GB (same HBM2e capacity).
    {"a100-pcie-80gb", "NVIDIA A100 PCIe 80GB", 19.5 * T, 156 * T, 312 * T, 0, 624 * T, 80 * GB, 1.935e12, 108,
     kH100Device},
    // [B200-DS] NVIDIA HGX B200 / DGX B200 datasheets, per GPU: FP64 40 TF, TF32 2.2 PF*, FP16/BF16 4.5 PF*,
    // FP8 9 PF*, INT8 9 POPS* (* sparse), 180 GB HBM3e (DGX B200: 1,440 GB over 8 GPUs), 7.7 TB/s (the HGX B200
    // datasheet's 2025 revision; earlier material says 8 TB/s). 148 SMs (CUDA device query of a B200).
    // Device memory: torch's device properties of an 'NVIDIA B200' print total_memory=182642MB (the same Modal
    // script); vLLM PR #21489's log on a 178 GiB part reads "Free memory on device (177.66/178.36 GiB)": the same.
    {"b200", "NVIDIA B200 180GB", 40 * T, 1100 * T, 2250 * T, 4500 * T, 4500 * T, 180 * GB, 7.7e12, 148, 182642 * MiB,
     1696.03 * T},
    // [B300-DS] NVIDIA HGX B300 datasheet, 8 GPUs: FP16/BF16 36 PF*, FP8 72 PF*, TF32 18 PF*, FP64 10 TF (* sparse):
    // per GPU dense 2.25 PF BF16, 4.5 PF FP8, 1.125 PF TF32, 1.25 TF FP64; 288 GB HBM3e, 8 TB/s per GPU. INT8 is cut
    // on Blackwell Ultra and its figure is not legible in the copies found: 0 here, so INT8 runs at the BF16 rate.
    // 160 SMs: NVIDIA's "Inside NVIDIA Blackwell Ultra" technical blog (the full GPU; how many a shipping part
    // enables is not published).
    // Device memory: vLLM's "Free memory on device (264.8/267.69 GiB)" on an 8x B300 node (a public benchmark
    // write-up, nvidia-smi 275,040 MiB); torch's out-of-memory messages name the same 267.69 GiB.
    {"b300", "NVIDIA B300 288GB", 1.25 * T, 1125 * T, 2250 * T, 4500 * T, 0, 288 * GB, 8e12, 160, 267.69 * GiB},
    // [GB200-DS] NVIDIA GB200 NVL72 datasheet, per Blackwell GPU of the rack (1.2 kW): FP64 45 TF, TF32 2.5 PF*,
    // FP16/BF16 5 PF*, FP8 10 PF*, INT8 10 POPS*; 13.4 TB HBM3e and 576 TB/s over 72 GPUs = 186 GB and 8 TB/s each.
    // The same Blackwell GPU as B200: 148 SMs.
    // Device memory: no published runtime figure found; FromDatasheet(186).
    {"gb200", "NVIDIA GB200 (Blackwell GPU, NVL72)", 45 * T, 1250 * T, 2500 * T, 5000 * T, 5000 * T, 186 * GB, 8e12,
     148, FromDatasheet(186)},
    // [L40S-DS] NVIDIA L40S datasheet: TF32 366 TF*, BF16/FP16 733 TF*, FP8 1,466 TF*, INT8 1,466 TOPS*,
    // 48 GB GDDR6, 864 GB/s; 18,176 CUDA cores = 142 SMs of 128. No FP64 tensor cores (FP64 is 1/64 of FP32).
    // Device memory: torch's device properties of an 'NVIDIA L40S' print total_memory=45589MB, and its out-of-memory
    // message "a total capacity of 44.52 GiB" (a public write-up on GPU sharing in Kubernetes); ECC is on by default.
    {"l40s", "NVIDIA L40S 48GB", 0, 183 * T, 366.5 * T, 733 * T, 733 * T, 48 * GB, 864e9, 142, 45589 * MiB, 269.15 * T},
    // [L4-DS] NVIDIA L4 datasheet (sparse figures only, halved): TF32 120 TF*, BF16/FP16 242 TF*, FP8 485 TF*,
    // INT8 485 TOPS*; 24 GB GDDR6, 300 GB/s; PCIe Gen4 x16. 58 SMs: CUDA's deviceQuery on an 'NVIDIA L4' ("(58)
    // Multiprocessors").
    // Device memory: torch's "a total capacity of 22.05 GiB" in vLLM CI failures (its CI runs on L4s; the message does
    // not name the GPU); deviceQuery under an older driver printed 22,518 MiB.
    {"l4", "NVIDIA L4 24GB", 0, 60 * T, 121 * T, 242.5 * T, 242.5 * T, 24 * GB, 300e9, 58, 22.05 * GiB, 70.89 * T},
    // [A10-DS] NVIDIA A10 datasheet (dense | sparse): TF32 62.5 TF, BF16/FP16 125 TF, INT8 250 TOPS; no FP8; 24 GB
    // GDDR6, 600 GB/s; PCIe Gen4 x16. 72 SMs: CUDA's deviceQuery on an 'NVIDIA A10'.
    // Device memory: deviceQuery "Total amount of global memory: 22599 MBytes (23696375808 bytes)" under a CUDA 12.8
    // driver (22,516 MiB under CUDA 12.2's). Not the A10G (80 SMs, another part).
    {"a10", "NVIDIA A10 24GB", 0, 62.5 * T, 125 * T, 0, 250 * T, 24 * GB, 600e9, 72, 23696375808.0},
    // [ADA-WP] NVIDIA Ada Lovelace GPU Architecture whitepaper, Appendix A (GeForce RTX 4090): dense TF32 82.6 TF,
    // BF16/FP16 with FP32 accumulate 165.2 TF, FP8 with FP32 accumulate 330.3 TF, INT8 660.6 TOPS; 24 GB GDDR6X,
    // 1,008 GB/s; 128 SMs. (GeForce halves the FP32-accumulate rate; inference kernels accumulate in FP32.)
    // Device memory: 25,250,627,584 bytes, CUDA's deviceQuery on an RTX 4090 ("Total amount of global memory: 24081
    // MBytes (25250627584 bytes)", printed alike in many public logs; the card of refdata serving section 5).
    {"rtx-4090", "NVIDIA GeForce RTX 4090 24GB", 0, 82.6 * T, 165.2 * T, 330.3 * T, 660.6 * T, 24 * GB, 1008e9, 128,
     25250627584.0, 167.2 * T},
    // [RTXB-WP] NVIDIA RTX Blackwell GPU Architecture whitepaper, GeForce RTX 5090 (dense, FP32 accumulate, which
    // GeForce halves): BF16 209.5 TF, FP8 419 TF, TF32 104.8 TF, INT8 838 TOPS; 32 GB GDDR7, 1,792 GB/s; 170 SMs.
    // Device memory: torch's "a total capacity of 31.36 GiB" on an RTX 5090 (deviceQuery: 32,101 to 32,109 MiB).
    {"rtx-5090", "NVIDIA GeForce RTX 5090 32GB", 0, 104.8 * T, 209.5 * T, 419 * T, 838 * T, 32 * GB, 1792e9, 170,
     31.36 * GiB, 239.1 * T},
    // [RTXPRO-DS] NVIDIA RTX PRO 6000 Blackwell: 188 SMs, 752 fifth-generation tensor cores (NVIDIA's RTX Blackwell
    // whitepaper table, as quoted in NVIDIA/cudnn-frontend PR #1164), 96 GB GDDR7 with ECC. NVIDIA publishes tensor
    // throughput only as "4,000 AI TOPS" (FP4 with sparsity, 8x the dense BF16 rate) and FP32 125 TF for the
    // Workstation Edition; third-party tables give its dense figures as 752 tensor cores x 256 BF16 FLOP per clock at
    // the 2,617 MHz boost: BF16 503.8 TF, FP8 and INT8 1,007.6, TF32 251.9. The professional part runs FP32
    // accumulate at full rate (a measured BF16 GEMM of 417 TF on a Server Edition is out of reach at half rate). The
    // Server Edition's datasheet lists FP32 120 TF and 1,597 GB/s (the figure casys-kaist/LLMServingSim's RTXPRO6000
    // cluster configs use): its tensor figures are the Workstation's x 120/125. Workstation: 1,792 GB/s (28 Gbps x
    // 512 bits).
    // Device memory: torch's device properties of an 'NVIDIA RTX PRO 6000 Blackwell Server Edition' print
    // total_memory=97250MB, multi_processor_count=188; on the Workstation Edition torch's out-of-memory messages name
    // "a total capacity of 94.97 GiB" (the same 97,250 MiB; nvidia-smi shows 97,887 MiB on both).
    {"rtx-pro-6000", "NVIDIA RTX PRO 6000 Server 96GB", 0, 241.8 * T, 483.6 * T, 967.3 * T, 967.3 * T, 96 * GB, 1597e9,
     188, 97250 * MiB, 409.42 * T},
    {"rtx-pro-6000-ws", "NVIDIA RTX PRO 6000 Workstation 96GB", 0, 251.9 * T, 503.8 * T, 1007.6 * T, 1007.6 * T,
     96 * GB, 1792e9, 188, 97250 * MiB, 417.98 * T},
    // [A6000-DS] NVIDIA RTX A6000 datasheet and the Ampere GA102 whitepaper: tensor performance 309.7 TF* (FP16,
    // sparse) = 154.8 TF dense at full FP32-accumulate rate, TF32 77.4 TF dense, INT8 309.7 TOPS dense; 48 GB
    // GDDR6, 768 GB/s; 84 SMs. No FP8.
    // Device memory: a vLLM-derived engine's log on a 48 GB card reads "Total GPU memory: 47.53 GiB"
    // (dphnAI/sonar PR #1320; the card is not named there).
    {"rtx-a6000", "NVIDIA RTX A6000 48GB", 0, 77.4 * T, 154.8 * T, 0, 309.7 * T, 48 * GB, 768e9, 84, 47.53 * GiB,
     123.34 * T},
}};

struct Alias {
  std::string_view alias;  // normalised (NormalizeName)
  std::string_view name;
};

// nvidia-smi's product names, marketing names, and the short names people type.
constexpr Alias kAliases[] = {
    {"h100", "h100-sxm"},
    {"h100sxm", "h100-sxm"},
    {"h100sxm5", "h100-sxm"},
    {"h10080gbhbm3", "h100-sxm"},
    {"h100sxm580gb", "h100-sxm"},
    // H800 SXM: the H100 SXM with fewer NVLinks; compute and memory are the same (the collective part sees the
    // links through the topology).
    {"h800", "h100-sxm"},
    {"h80080gbhbm3", "h100-sxm"},
    {"h200", "h200-sxm"},
    {"h200sxm", "h200-sxm"},
    {"h200141gbhbm3e", "h200-sxm"},
    {"h200sxm141gb", "h200-sxm"},
    {"a100", "a100-sxm-80gb"},
    {"a100sxm", "a100-sxm-80gb"},
    {"a100sxm480gb", "a100-sxm-80gb"},
    {"a10080gb", "a100-sxm-80gb"},
    {"a100sxm80gb", "a100-sxm-80gb"},
    {"a100sxm440gb", "a100-sxm-40gb"},
    {"a100sxm40gb", "a100-sxm-40gb"},
    {"a100pcie", "a100-pcie-80gb"},
    {"a100pcie80gb", "a100-pcie-80gb"},
    {"a10080gbpcie", "a100-pcie-80gb"},
    {"h100nvl", "h100-nvl"},
    {"b200", "b200"},
    {"hgxb200", "b200"},
    {"gb200", "gb200"},
    {"gb200nvl72", "gb200"},
    {"l40s", "l40s"},
    {"4090", "rtx-4090"},
    {"rtx4090", "rtx-4090"},
    {"geforcertx4090", "rtx-4090"},
    {"a6000", "rtx-a6000"},
    {"rtxa6000", "rtx-a6000"},
    {"h100pcie", "h100-pcie"},
    {"h100pcie80gb", "h100-pcie"},
    {"h20", "h20"},
    {"h203e", "h20-3e"},
    {"h20141gb", "h20-3e"},
    {"b300", "b300"},
    {"b300sxm6ac", "b300"},
    {"hgxb300", "b300"},
    {"l4", "l4"},
    {"a10", "a10"},
    {"5090", "rtx-5090"},
    {"rtx5090", "rtx-5090"},
    {"geforcertx5090", "rtx-5090"},
    {"rtxpro6000", "rtx-pro-6000"},
    {"rtxpro6000blackwellserveredition", "rtx-pro-6000"},
    {"rtxpro6000server", "rtx-pro-6000"},
    {"rtxpro6000blackwellworkstationedition", "rtx-pro-6000-ws"},
    {"rtxpro6000workstation", "rtx-pro-6000-ws"},
};

// Lower case without spaces, dashes, underscores or a leading "nvidia".
std::string NormalizeName(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == ' ' || c == '-' || c == '_') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (out.rfind("nvidia", 0) == 0) out.erase(0, 6);
  return out;
}

}  // namespace

std::span<const GpuSpec> GpuCatalog() { return kCatalog; }

// The part the roofline's efficiencies were fitted on (SustainedTensorScale's reference).
static_assert(kCatalog[0].name == "h100-sxm");

double SustainedTensorScale(const GpuSpec& gpu) {
  if (gpu.measured_bf16_flops <= 0 || gpu.bf16_flops <= 0) return 1.0;
  const GpuSpec& h100 = kCatalog[0];
  return (gpu.measured_bf16_flops / gpu.bf16_flops) / (h100.measured_bf16_flops / h100.bf16_flops);
}

const GpuSpec* FindGpuSpec(std::string_view name) {
  const std::string key = NormalizeName(name);
  for (const GpuSpec& g : kCatalog) {
    if (NormalizeName(g.name) == key) return &g;
  }
  for (const Alias& a : kAliases) {
    if (a.alias != key) continue;
    for (const GpuSpec& g : kCatalog) {
      if (g.name == a.name) return &g;
    }
  }
  return nullptr;
}

const GpuSpec* FindGpuSpecByDeviceName(std::string_view device_name) {
  if (const GpuSpec* exact = FindGpuSpec(device_name)) return exact;
  std::string upper(device_name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  // Most specific first: "GB200" contains "B200", "H200" would not match "H100".
  struct Key {
    const char* part;
    const char* name;
  };
  // Device names that FindGpuSpec does not know: "NVIDIA H100 PCIe" and "NVIDIA H20" are its aliases; A10 and L4
  // are matched whole only ("A10G", "L40" and "L4" inside other names are other parts).
  constexpr Key kKeys[] = {{"GB200", "gb200"},
                           {"B300", "b300"},
                           {"B200", "b200"},
                           {"H200", "h200-sxm"},
                           {"H100 PCIE", "h100-pcie"},
                           {"H100", "h100-sxm"},
                           {"H800", "h100-sxm"},
                           {"H20-3E", "h20-3e"},
                           {"H20", "h20"},
                           {"A100", "a100-sxm-80gb"},
                           {"A800", "a100-sxm-80gb"},
                           {"L40S", "l40s"},
                           {"4090", "rtx-4090"},
                           {"5090", "rtx-5090"},
                           {"PRO 6000 BLACKWELL SERVER", "rtx-pro-6000"},
                           {"PRO 6000 BLACKWELL WORKSTATION", "rtx-pro-6000-ws"},
                           {"A6000", "rtx-a6000"}};
  for (const Key& k : kKeys) {
    if (upper.find(k.part) != std::string::npos) return FindGpuSpec(k.name);
  }
  return nullptr;
}

std::string_view KnownGpuNames() {
  return "h100-sxm (h100, h800), h100-nvl, h100-pcie, h200-sxm (h200), h20, h20-3e, a100-sxm-80gb (a100), "
         "a100-sxm-40gb, "
         "a100-pcie-80gb (a100-pcie), b200, b300, gb200, l40s, l4, a10, rtx-4090 (4090), rtx-5090 (5090), rtx-pro-6000 "
         "(the Server Edition), rtx-pro-6000-ws (the Workstation Edition), rtx-a6000 (a6000)";
}

double PeakFlops(const GpuSpec& gpu, DataType dtype) {
  switch (dtype) {
    case DataType::kFloat64:
      return gpu.fp64_flops;
    case DataType::kFloat32:
      return gpu.tf32_flops;
    case DataType::kFloat16:
    case DataType::kBFloat16:
    case DataType::kInt4:  // weight-only: dequantized to 16 bits in the kernel
      return gpu.bf16_flops;
    case DataType::kFloat8E4M3:
    case DataType::kFloat8E5M2:
      return gpu.fp8_flops > 0 ? gpu.fp8_flops : gpu.bf16_flops;
    case DataType::kInt8:
    case DataType::kInt32:
      return gpu.int8_ops > 0 ? gpu.int8_ops : gpu.bf16_flops;
  }
  return gpu.bf16_flops;
}

}  // namespace wiresim
