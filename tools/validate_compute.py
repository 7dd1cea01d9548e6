#!/usr/bin/env python3
"""Predicted vs measured GEMM times: regenerates docs/validation/compute.md.

The predictions come from the real code: every measured GEMM in docs/validation/data/ becomes a row of a CSV that
`wiresim compute gemm --csv` times with the default roofline (sim/compute/roofline.h). The report gives the error
by source, GPU and shape class (decode-sized M <= 256, prefill-sized M > 256); the target is a median |error|
within 15% in every class.

    tools/validate_compute.py                      # writes docs/validation/compute.md
    tools/validate_compute.py --check              # also exits 1 if a class misses the target
    tools/validate_compute.py --fit                # grid-searches the roofline's GEMM parameters (prints only)

Python 3 standard library only.
"""

import argparse
import csv
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "docs", "validation", "data")
REPORT = os.path.join(ROOT, "docs", "validation", "compute.md")
TARGET = 0.15
DECODE_MAX_M = 256


def rows(path):
    """The data rows of a CSV whose comment lines start with '#'."""
    with open(path, newline="") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def memory_bandwidth(wiresim):
    """Each catalog GPU's datasheet memory bandwidth in bytes per second, from `wiresim compute gpus --json`."""
    result = subprocess.run([wiresim, "compute", "gpus", "--json"], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"validate_compute: {wiresim} compute gpus --json failed:\n{result.stderr}")
    return {g["name"]: g["memory_bandwidth"] for g in json.loads(result.stdout)}


def measurements(bandwidth):
    """Every measured GEMM: source, gpu, name, b, m, n, k, dtype, measured seconds. `bandwidth`: memory_bandwidth()."""
    out = []
    # Vidur: Llama-2-70B per tensor-parallel shard; (K, N) per GEMM from the file header.
    for r in rows(os.path.join(DATA, "vidur_llama70b_gemm_times.csv")):
        tp, m = int(r["tp"]), int(r["m"])
        shapes = {"qkv": (8192, 10240 // tp), "o": (8192 // tp, 8192), "up": (8192, 57344 // tp),
                  "down": (28672 // tp, 8192)}
        for name, (k, n) in shapes.items():
            out.append({"source": "vidur", "gpu": r["gpu"], "name": f"{name} tp{tp}", "b": 1, "m": m, "n": n,
                        "k": k, "dtype": "bf16", "seconds": float(r[name + "_ms"]) * 1e-3})
    # XLA: batched b x (m, n, k), measured FLOP/s for bf16 and for f32 (TF32 tensor cores).
    for r in rows(os.path.join(DATA, "xla_h100_matmul_times.csv")):
        b, m, n, k = (int(r[c]) for c in ("b", "m", "n", "k"))
        flops = 2.0 * b * m * n * k
        out.append({"source": "xla", "gpu": "h100", "name": "bf16", "b": b, "m": m, "n": n, "k": k, "dtype": "bf16",
                    "seconds": flops / float(r["bf16_flops_per_s"])})
        out.append({"source": "xla", "gpu": "h100", "name": "tf32", "b": b, "m": m, "n": n, "k": k, "dtype": "fp32",
                    "seconds": flops / float(r["f32_flops_per_s"])})
    # LLMServingSim: vLLM 0.19's layer kernel times on an RTX 4090 and an RTX PRO 6000; never used to fit anything.
    # A row whose weights would have streamed from DRAM faster than the datasheet allows read them from L2 (the
    # profiler calls one layer over and over); a whole model's forward does not, so such rows are left out.
    for r in rows(os.path.join(DATA, "llmservingsim_layer_times.csv")):
        weight_bytes = 2.0 * int(r["n"]) * int(r["k"])
        if weight_bytes / (float(r["time_us"]) * 1e-6) > bandwidth[r["gpu"]]:
            continue
        out.append({"source": "llmservingsim", "gpu": r["gpu"], "name": f"{r['layer']} {r['model']} tp{r['tp']}",
                    "b": 1, "m": int(r["m"]), "n": int(r["n"]), "k": int(r["k"]), "dtype": "bf16",
                    "seconds": float(r["time_us"]) * 1e-6})
    return out


HELD_OUT = {"llmservingsim"}  # sources the GEMM parameters were never fitted on


def predict(wiresim, data, roofline=None):
    """Predicted seconds per measurement, from `wiresim compute gemm --csv`."""
    with tempfile.TemporaryDirectory() as tmp:
        query = os.path.join(tmp, "gemms.csv")
        with open(query, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "gpu", "m", "n", "k", "batch", "dtype"])
            for i, x in enumerate(data):
                w.writerow([i, x["gpu"], x["m"], x["n"], x["k"], x["b"], x["dtype"]])
        cmd = [wiresim, "compute", "gemm", "--csv", query]
        if roofline:
            cmd += ["--roofline", roofline]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"validate_compute: {' '.join(cmd)} failed:\n{result.stderr}")
    predicted = {}
    for r in csv.DictReader(line for line in result.stdout.splitlines() if not line.startswith("#")):
        predicted[int(r["id"])] = float(r["predicted_us"]) * 1e-6
    return [predicted[i] for i in range(len(data))]


def shape_class(x):
    return "decode (M <= 256)" if x["m"] <= DECODE_MAX_M else "prefill (M > 256)"


def summarize(data, predicted, key):
    """{group: (count, median |err|, p90 |err|, median signed err)} grouped by key(x)."""
    groups = {}
    for x, p in zip(data, predicted):
        groups.setdefault(key(x), []).append((p - x["seconds"]) / x["seconds"])
    out = {}
    for g, errs in sorted(groups.items()):
        absolute = sorted(abs(e) for e in errs)
        p90 = absolute[min(len(absolute) - 1, int(0.9 * len(absolute)))]
        out[g] = (len(errs), statistics.median(absolute), p90, statistics.median(errs))
    return out


def target_classes(data, predicted, held_out=False):
    """The classes the 15% target applies to: bf16/fp16 GEMMs by source, GPU and shape class; the fitted sources, or
    with held_out the sources nothing was fitted on."""
    keep = [(x, p) for x, p in zip(data, predicted)
            if x["dtype"] == "bf16" and (x["source"] in HELD_OUT) == held_out]
    return summarize([x for x, _ in keep], [p for _, p in keep],
                     lambda x: (x["source"], x["gpu"], shape_class(x)))


def m_band(m):
    for hi, label in ((16, "M 1-16"), (256, "M 17-256"), (1024, "M 257-1024")):
        if m <= hi:
            return label
    return "M > 1024"


def pct(v):
    return f"{100 * v:+.1f}%" if v < 0 else f"{100 * v:.1f}%"


def table(summary, headers):
    lines = ["| " + " | ".join(headers + ["GEMMs", "median abs error", "p90 abs error", "median signed error"]) + " |",
             "|" + "---|" * (len(headers) + 4)]
    for g, (n, med, p90, signed) in summary.items():
        cells = list(g) if isinstance(g, tuple) else [g]
        lines.append("| " + " | ".join(cells + [str(n), pct(med), pct(p90), pct(signed)]) + " |")
    return "\n".join(lines)


def examples(data, predicted):
    picks = [("vidur", "h100", "qkv tp8", 1), ("vidur", "h100", "up tp1", 1), ("vidur", "h100", "down tp8", 64),
             ("vidur", "h100", "up tp2", 512), ("vidur", "h100", "qkv tp1", 4096), ("vidur", "a100", "up tp4", 2048),
             ("xla", "h100", "bf16", 4096)]
    lines = ["| source | GPU | GEMM (M x N x K) | measured us | predicted us | error |", "|---|---|---|---|---|---|"]
    for source, gpu, name, m in picks:
        for x, p in zip(data, predicted):
            if (x["source"], x["gpu"], x["name"], x["m"]) == (source, gpu, name, m) and (
                    source != "xla" or (x["b"], x["n"], x["k"]) == (1, 4096, 4096)):
                label = f"{name}: {x['m']} x {x['n']} x {x['k']}" if source == "vidur" else \
                    f"{x['m']} x {x['n']} x {x['k']}"
                lines.append(f"| {source} | {gpu} | {label} | {x['seconds'] * 1e6:.1f} | {p * 1e6:.1f} | "
                             f"{pct((p - x['seconds']) / x['seconds'])} |")
                break
    return "\n".join(lines)


def write_report(data, predicted):
    classes = target_classes(data, predicted)
    held = target_classes(data, predicted, held_out=True)
    bf16 = [(x, p) for x, p in zip(data, predicted) if x["dtype"] == "bf16" and x["source"] not in HELD_OUT]
    overall = statistics.median(abs(p - x["seconds"]) / x["seconds"] for x, p in bf16)
    by_gemm = summarize([x for x, _ in bf16 if x["source"] == "vidur"], [p for x, p in bf16 if x["source"] == "vidur"],
                        lambda x: (x["gpu"], x["name"].split()[0], shape_class(x)))
    tf32 = [(x, p) for x, p in zip(data, predicted) if x["dtype"] == "fp32"]
    tf32_summary = summarize([x for x, _ in tf32], [p for _, p in tf32], lambda x: ("xla", "h100", shape_class(x)))
    worst = max(med for _, med, _, _ in classes.values())
    held_worst = max(med for _, med, _, _ in held.values())
    held_rows = [(x, p) for x, p in zip(data, predicted) if x["source"] in HELD_OUT]
    held_overall = statistics.median(abs(p - x["seconds"]) / x["seconds"] for x, p in held_rows)
    held_by_layer = summarize([x for x, _ in held_rows], [p for _, p in held_rows],
                              lambda x: (x["gpu"], x["name"].split()[0], shape_class(x)))
    held_by_m = summarize([x for x, _ in held_rows], [p for _, p in held_rows],
                          lambda x: (x["gpu"], m_band(x["m"])))
    text = f"""# Compute validation: predicted vs measured GEMM times

Generated by `tools/validate_compute.py` from `wiresim compute gemm --csv` (the default roofline of
`sim/compute/roofline.h`, no calibration) and the measurements in `docs/validation/data/`. Do not edit by hand:
rerun the script after changing the model.

## Data

- `vidur_llama70b_gemm_times.csv`: Vidur's profiled Llama-2-70B linear layers (QKV, O, gate+up, down) per
  tensor-parallel shard (tp 1, 2, 4, 8), M = 1 to 4096 tokens, fp16 (the same tensor-core rate as bf16),
  median CUDA kernel times on A100 80GB and H100 (DGX). {sum(1 for x in data if x['source'] == 'vidur')} GEMMs.
- `xla_h100_matmul_times.csv`: XLA's measured sm_90 (H100) matmul table, batch 1, 2, 4 x M, N, K in
  256 to 4096, bf16 and f32 (TF32 tensor cores). {sum(1 for x in data if x['source'] == 'xla') // 2} shapes.

- `llmservingsim_layer_times.csv` (held out): vLLM 0.19.0's layerwise profile of the linear layers (QKV, O,
  gate+up, down; CUDA kernel time per call, eager mode, BF16) of Llama-3.1-8B and Qwen3-32B at tp 1 and 2
  (tp 2 as the rank's shard on one GPU), M = 1 to 2048 tokens, on an RTX 4090 and an RTX PRO 6000 Blackwell
  Server Edition, from casys-kaist/LLMServingSim's `profiler/perf/` (commit 5daddb2). {len(held_rows)} GEMMs (rows
  whose weights would have streamed faster than the GPU's DRAM allows are left out: they read from L2, as a
  one-layer profile repeated allows and a whole model's forward does not). Nothing
  was fitted on them: two GPUs, a GPU generation (Blackwell sm_120) and a library path (vLLM's own GEMM dispatch on
  GDDR parts) that the parameters never saw. The GPUs' figures are the datasheets' (`wiresim compute gpus`).

The first two are subsets of the project's reference data; each file's header names its origin.

## Result

Target: median |error| within {TARGET * 100:.0f}% in each class. Worst class: {pct(worst)}; median over all
{len(bf16)} bf16/fp16 GEMMs: {pct(overall)}. Error = (predicted - measured) / measured.

{table(classes, ["source", "GPU", "shape class"])}

By GEMM (Vidur):

{table(by_gemm, ["GPU", "GEMM", "shape class"])}

Held out (GPUs and kernels the parameters were never fitted on): worst class {pct(held_worst)}; median over all
{len(held_rows)} GEMMs {pct(held_overall)}.

{table(held, ["source", "GPU", "shape class"])}

By layer:

{table(held_by_layer, ["GPU", "layer", "shape class"])}

By M:

{table(held_by_m, ["GPU", "M"])}

TF32 (f32 inputs on tensor cores; not part of the target, same parameters):

{table(tf32_summary, ["source", "GPU", "shape class"])}

Examples:

{examples(data, predicted)}

## What the errors say

- Decode-sized GEMMs are bandwidth-bound: the prediction is the weight bytes over 85% of peak bandwidth plus a
  fixed 5 us and 0.5 ns per element of K. The fixed terms dominate the smallest shards (tp 8, M <= 64).
- Prefill-sized GEMMs are compute-bound at 74% of peak tensor throughput before the wave, tile and short-K
  penalties, which matches Vidur's cuBLAS kernels on the largest shapes (about 690 TFLOP/s on the H100). XLA's
  autotuned kernels reach about 780 TFLOP/s (79%) at 4096^3, so its largest shapes come out up to ~17% slow;
  one efficiency for all libraries cannot follow both.
- TF32 (f32 inputs) is predicted about 30% too fast in the median: XLA's f32 matmuls reach a smaller fraction of
  the TF32 peak than its bf16 ones reach of the bf16 peak, and the model shares one efficiency across types.
  Serving runs in bf16 and fp8; a calibration table corrects this where it matters.
- Steps in the measured curves (cuBLAS switching tile configurations at M = 64 -> 72, 512, ...) are not modelled;
  they are the bulk of the p90 error. A calibration profile's GEMM table (`GemmTable`) replaces the roofline
  where measurements exist.
- The parameters were fitted by `tools/validate_compute.py --fit`, a grid search over the GEMM parameters that
  minimises the worst class median on Vidur's and XLA's data: those figures are in-sample. The held-out table is
  not. The GEMM parameters are fractions of an H100's peak; every other part's tensor rates are scaled by how
  much more of its own datasheet peak it sustains in one public large-GEMM benchmark (`SustainedTensorScale`,
  sim/compute/gpu_spec.cc: the RTX 4090 1.27, the RTX PRO 6000 1.06, the A100 80GB 1.06, the H20 1.20), a
  measurement of each part independent of these layer times:
  - Large prefill GEMMs on both GPUs still come out slow at M > 1024 (4090 and PRO 6000 about 18%): vLLM's layers
    on these parts reach the benchmark's own rate (Llama-3.1-8B gate+up at 2048 tokens: 166 TF on the 4090, whose
    benchmark reads 167; 417 TF on the PRO 6000, benchmark 409), where on the H100 Vidur's layers reach 92% of it
    (the fitted 0.74 against the benchmark's 0.80). Without the scale the 4090's prefill GEMMs were 42% slow.
  - Small decode GEMMs on both GDDR parts stream their weights at 92-94% of the datasheet bandwidth (gate+up at one
    token: RTX PRO 6000 1,473 GB/s of 1,597, RTX 4090 950 of 1,008), above the 85% fitted on the HBM parts (with
    the fixed terms, the large decode GEMMs there come out about 9% slow as well): predicted 14-18% slow at M <= 16.
  - The A100's decode class (in-sample, -10% signed) moved from 10.4% to 13.4% with the A100's scale of 1.06: its
    M = 128-256 shapes, near the compute bound, come out faster. Its prefill class moved from 9.4% to 6.2%. The
    parameters were fitted before the scale; refitted with it (`--fit`, which never sees the held-out rows) the
    grid's best is gemm_overhead_us=4, gemm_k_step_ns=1.0 with the rest unchanged, worst class 11.5% against 13.4%
    and the held-out classes within a point or two either way. They were left as they are.
"""
    with open(REPORT, "w") as f:
        f.write(text)
    return classes


def fit(wiresim, data):
    """A coarse grid over the GEMM parameters, scored by the worst class median (bf16 classes)."""
    grid = {"gemm_efficiency": [0.70, 0.74, 0.78], "memory_efficiency": [0.80, 0.85, 0.90],
            "gemm_overhead_us": [3, 4, 5], "gemm_k_step_ns": [0.5, 1.0, 1.5], "gemm_k_half": [0, 64, 256]}
    bf16 = [x for x in data if x["dtype"] == "bf16" and x["source"] not in HELD_OUT]  # never fit the held-out
    best = None
    for values in itertools.product(*grid.values()):
        override = ",".join(f"{k}={v}" for k, v in zip(grid.keys(), values))
        classes = target_classes(bf16, predict(wiresim, bf16, override))
        worst = max(med for _, med, _, _ in classes.values())
        if best is None or worst < best[0]:
            best = (worst, override)
            print(f"worst class median {pct(worst)}: --roofline {override}", flush=True)
    print(f"best: {best[1]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wiresim", default=os.path.join(ROOT, "build", "sim", "app", "wiresim"),
                        help="the wiresim binary (default: build/sim/app/wiresim)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a class misses the target")
    parser.add_argument("--fit", action="store_true", help="grid-search the GEMM parameters; print, do not write")
    args = parser.parse_args()
    if not os.path.exists(args.wiresim):
        sys.exit(f"validate_compute: {args.wiresim} not found; build first (cmake --build build --target wiresim)")
    data = measurements(memory_bandwidth(args.wiresim))
    if args.fit:
        fit(args.wiresim, data)
        return
    predicted = predict(args.wiresim, data)
    classes = write_report(data, predicted)
    for g, (n, med, p90, signed) in classes.items():
        print(f"{' / '.join(g):40s} {n:5d} GEMMs  median |error| {pct(med):>7s}  p90 {pct(p90):>7s}")
    print(f"wrote {os.path.relpath(REPORT, ROOT)}")
    if args.check and any(med > TARGET for _, med, _, _ in classes.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
