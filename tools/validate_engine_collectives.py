#!/usr/bin/env python3
"""The engines' own all-reduce kernels against vLLM's measurements of them: regenerates
docs/validation/engine_collectives.md.

vLLM's benchmarks/kernels/benchmark_device_communicators.py times each all-reduce path vLLM has (its custom kernel
forced one-shot or two-shot, NCCL, PyTorch's symmetric-memory kernels forced multimem or two-shot) on bf16 tensors of
tokens x 8192, as calls inside a CUDA graph. Three vLLM pull requests list its H100-class tables
(docs/validation/data/vllm_allreduce_kernels.csv says which rows survive). Each row is predicted with

    wiresim collective --topology dgx-h100 -g 0-(n-1) -d bfloat16 --engine vllm --engine-kernel K

(NCCL rows: without --engine, at --launch-us 0, since a graph replays the launch), and the report gives per-size
errors, the medians, and which table each kernel's two constants (latency, link efficiency; sim/serving/engine.cc)
were fitted on. Leaving a table out: the constants are refitted on the other tables with the same closed form
(docs/engines.md, "Cost model"; `closed_form` below, checked against wiresim's own output) and the left-out table is
predicted with them.

    tools/validate_engine_collectives.py --wiresim build-release/sim/app/wiresim

Python 3 standard library only.
"""

import argparse
import csv
import json
import os
import statistics
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "docs", "validation", "data", "vllm_allreduce_kernels.csv")
REPORT = os.path.join(ROOT, "docs", "validation", "engine_collectives.md")
MIB = 1048576.0

# The benchmark's column -> wiresim's --engine-kernel (None: NCCL).
KERNELS = {"ca_1stage": "one-shot", "ca_2stage": "two-shot", "symm_mem_multimem": "multimem",
           "symm_mem_two_shot": "symm-two-shot", "pynccl": None}
NAMES = {"ca_1stage": "custom one-shot", "ca_2stage": "custom two-shot", "symm_mem_multimem": "symm-mem multimem",
         "symm_mem_two_shot": "symm-mem two-shot", "pynccl": "NCCL"}
# What each kernel's constants were fitted on (sim/serving/engine.cc).
FITTED_ON = {"ca_1stage": "24111", "ca_2stage": "24111", "symm_mem_multimem": "42324", "symm_mem_two_shot": "42324",
             "pynccl": None}
PR_TITLES = {
    "24111": "vllm-project/vllm PR #24111 (H100, TP 2/4/6, 0.5-4 MiB)",
    "24532": "vllm-project/vllm PR #24532 (TP 4, 0.5-4 MiB)",
    "42324": "vllm-project/vllm PR #42324 (SM 9.0, 8 GPUs, 0.5-128 MiB; B200, 2 GPUs, 0.5-1.5 MiB)",
    "37756": "vllm-project/vllm PR #37756 (B300, 6 or 8 GPUs, run as 8, 16 KiB-128 MiB)",
}
# dgx-h100: 18 NVLink4 links x 25 GB/s per GPU; H100 SXM memory 3.35 TB/s at the roofline's 0.85.
LINK = 450e9
COPY_RATE = 3.35e12 * 0.85


def read_rows():
    with open(DATA) as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    for r in rows:
        r["n"] = int(r["world_size"])
        r["bytes"] = float(r["size_bytes"])
        r["measured_us"] = float(r["time_ms"]) * 1000
        # Blackwell's tables run on dgx-b200 (the B300's NVLink5 and 8 TB/s are the B200's); the others on dgx-h100.
        r["blackwell"] = r["gpu"].startswith("B")
        r["topology"] = "dgx-b200" if r["blackwell"] else "dgx-h100"
    return [r for r in rows if r["kernel"] in KERNELS]


def predict(wiresim, kernel, n, size, topology="dgx-h100"):
    args = [wiresim, "collective", "--topology", topology, "-g", "0-%d" % (n - 1), "-d", "bfloat16",
            "-b", str(int(size)), "-e", str(int(size)), "--json", "--quiet", "--launch-us", "0"]
    if KERNELS[kernel]:
        args += ["--engine", "vllm", "--engine-kernel", KERNELS[kernel]]
    out = subprocess.run(args, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    rows = json.loads(out)["rows"]
    return rows[0]["time_us"], rows[0]["algorithm"] + ("/" + rows[0]["protocol"] if rows[0]["protocol"] else "")


def closed_form(kernel, n, size, latency_us, efficiency):
    """docs/engines.md, "Cost model": the same forms sim/serving/engine.cc evaluates."""
    b = efficiency * LINK
    if kernel == "ca_1stage":
        return latency_us + size * (n - 1) / b * 1e6
    if kernel == "ca_2stage":
        return 2 * latency_us + 2 * size * (n - 1) / n / b * 1e6
    copies = 2 * 2 * size / COPY_RATE
    traffic = size * (n + 1) / n if kernel == "symm_mem_multimem" else 2 * size * (n - 1) / n
    return latency_us + (copies + traffic / b) * 1e6


def error(measured, predicted):
    # As docs/validation/collectives.md: predicted busbw / measured busbw - 1 = measured time / predicted time - 1.
    return measured / predicted - 1


def median_abs(errs):
    return statistics.median(abs(e) for e in errs) if errs else float("nan")


def fit(kernel, rows):
    """The latency (0.25 us steps) and efficiency (0.01 steps) with the least mean |error| over `rows`."""
    best = None
    for li in range(0, 81):
        lat = li * 0.25
        for ei in range(20, 101):
            eff = ei / 100
            errs = [abs(error(r["measured_us"], closed_form(kernel, r["n"], r["bytes"], lat, eff))) for r in rows]
            m = sum(errs) / len(errs)
            if best is None or m < best[0] - 1e-12:
                best = (m, lat, eff)
    return best[1], best[2]


def pct(e):
    return "%+.1f%%" % (100 * e)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--wiresim", default=os.path.join(ROOT, "build", "sim", "app", "wiresim"))
    p.add_argument("--out", default=REPORT)
    a = p.parse_args()
    rows = read_rows()
    for r in rows:
        r["predicted_us"], r["path"] = predict(a.wiresim, r["kernel"], r["n"], r["bytes"], r["topology"])
        r["error"] = error(r["measured_us"], r["predicted_us"])

    # The shipped constants, read back from wiresim through the closed form: the smallest size of each kernel at
    # two group sizes pins latency and efficiency; the check below then holds the form to every row.
    shipped = {}
    for kernel in KERNELS:
        if not KERNELS[kernel]:
            continue
        t1, _ = predict(a.wiresim, kernel, 8, 64 * MIB)
        ts, _ = predict(a.wiresim, kernel, 8, 1 * MIB)
        per_byte = (t1 - ts) / (63 * MIB)
        t0 = ts - per_byte * MIB
        n = 8
        if kernel == "ca_1stage":
            eff = (n - 1) / (per_byte * 1e-6 * LINK)
            lat = t0
        elif kernel == "ca_2stage":
            eff = 2 * (n - 1) / n / (per_byte * 1e-6 * LINK)
            lat = t0 / 2
        else:
            traffic = (n + 1) / n if kernel == "symm_mem_multimem" else 2 * (n - 1) / n
            eff = traffic / ((per_byte * 1e-6 - 4 / COPY_RATE) * LINK)
            lat = t0
        shipped[kernel] = (lat, eff)
    worst = 0.0
    for r in rows:
        if r["kernel"] in shipped and not r["blackwell"]:
            lat, eff = shipped[r["kernel"]]
            worst = max(worst, abs(closed_form(r["kernel"], r["n"], r["bytes"], lat, eff) - r["predicted_us"]))
    assert worst < 0.05, "closed_form() no longer matches wiresim (%.3f us apart): update it" % worst

    prs = sorted({r["pr"] for r in rows}, key=int)
    out = []
    w = out.append
    w("# The engines' all-reduce kernels: predicted against measured\n")
    w("Generated by `python3 tools/validate_engine_collectives.py` from `docs/validation/data/vllm_allreduce_kernels.csv`"
      " (vLLM's own kernel benchmark as three vLLM pull requests list it; the file names them and says which rows"
      " survive). Do not edit by hand: rerun the script.\n")
    w("Each row is one all-reduce of tokens x 8192 bf16 values on an 8-GPU HGX H100 (`dgx-h100`; Blackwell's rows on"
      " `dgx-b200`), as vLLM's"
      " `benchmark_device_communicators.py` times it: ten calls captured in a CUDA graph, replayed back to back, so no"
      " launch cost, each path forced at every size. wiresim predicts the engine kernels with"
      " `wiresim collective --engine vllm --engine-kernel K` and NCCL with `--launch-us 0`. **error = measured time /"
      " predicted time - 1** (as in [collectives.md](collectives.md): positive means the model is fast). The cost"
      " model and the constants are in [engines.md](../engines.md#cost-model).\n")
    w("## Summary\n")
    w("| kernel | table | GPUs | rows | median abs. error | largest | constants |")
    w("|---|---|---|---:|---:|---:|---|")
    for kernel in KERNELS:
        for pr in prs:
            for gpu, n in sorted({(r["gpu"], r["n"]) for r in rows if r["pr"] == pr and r["kernel"] == kernel},
                                 key=lambda g: (g[0].startswith("B"), g[1])):
                sel = [r for r in rows if r["pr"] == pr and r["kernel"] == kernel and r["n"] == n and r["gpu"] == gpu]
                errs = [r["error"] for r in sel]
                blackwell = sel[0]["blackwell"]
                if FITTED_ON[kernel] is None:
                    how = "NCCL's model, nothing fitted here"
                elif blackwell and pr == "37756":
                    how = "**Blackwell latency fitted here** (16-64 KiB rows); efficiency from #%s" % FITTED_ON[kernel]
                elif blackwell:
                    how = "predicted (Blackwell latency from #37756, efficiency from #%s)" % FITTED_ON[kernel]
                elif FITTED_ON[kernel] == pr:
                    how = "**fitted here**"
                else:
                    how = "predicted (fitted on #%s)" % FITTED_ON[kernel]
                w("| %s | #%s | %s, %d | %d | %.1f%% | %s | %s |" % (
                    NAMES[kernel], pr, gpu, n, len(sel), 100 * median_abs(errs), pct(max(errs, key=abs)), how))
    w("")
    w("## Leave one table out\n")
    w("Each kernel's Hopper latency and link efficiency refitted (least mean |error|, latency in 0.25 us steps,"
      " efficiency in 0.01 steps) on the Hopper tables other than the one named, with the closed form of"
      " [engines.md](../engines.md#cost-model), and that table predicted with them.\n")
    w("| kernel | left out | refitted on | latency (us) | link efficiency | rows | median abs. error |")
    w("|---|---|---|---:|---:|---:|---:|")
    for kernel in KERNELS:
        if not KERNELS[kernel]:
            continue
        for pr in prs:
            held = [r for r in rows if r["kernel"] == kernel and r["pr"] == pr and not r["blackwell"]]
            rest = [r for r in rows if r["kernel"] == kernel and r["pr"] != pr and not r["blackwell"]]
            if not held or not rest:
                continue
            lat, eff = fit(kernel, rest)
            errs = [error(r["measured_us"], closed_form(kernel, r["n"], r["bytes"], lat, eff)) for r in held]
            w("| %s | #%s | %s | %.2f | %.2f | %d | %.1f%% |" % (
                NAMES[kernel], pr, ", ".join("#" + q for q in prs if q != pr and any(r["pr"] == q for r in rest)),
                lat, eff, len(held), 100 * median_abs(errs)))
    w("")
    for pr in prs:
        w("## %s\n" % PR_TITLES[pr])
        for gpu, n in sorted({(r["gpu"], r["n"]) for r in rows if r["pr"] == pr},
                             key=lambda g: (g[0].startswith("B"), g[1])):
            sel = [r for r in rows if r["pr"] == pr and r["n"] == n and r["gpu"] == gpu]
            kernels = [k for k in KERNELS if any(r["kernel"] == k for r in sel)]
            w("### %s, %d GPUs (`%s`)\n" % (gpu, n, sel[0]["topology"]))
            w("| size | " + " | ".join("%s measured / predicted (us), error" % NAMES[k] for k in kernels) + " |")
            w("|---:|" + "---|" * len(kernels))
            for size in sorted({r["bytes"] for r in sel}):
                cells = []
                for k in kernels:
                    m = [r for r in sel if r["kernel"] == k and r["bytes"] == size]
                    if not m:
                        cells.append("-")
                        continue
                    r = m[0]
                    path = "" if KERNELS[k] else " (%s)" % r["path"]
                    cells.append("%.0f / %.1f, %s%s" % (r["measured_us"], r["predicted_us"], pct(r["error"]), path))
                w("| %g MiB | %s |" % (size / MIB, " | ".join(cells)))
            w("")
    w("## Reading the figures\n")
    w("- The measured times are printed to a microsecond (0.007 ms), so a 10 us row carries up to 5% of rounding.")
    w("- The custom kernel's constants come from PR #24111's H100 rows; PR #24532's TP 4 table, a run by another"
      " author a week later, is the held-out check. The symmetric-memory constants come from PR #42324's table, the"
      " only one with sizes past 4 MiB (which pin the link efficiency); PR #24111's and #24532's columns, months"
      " earlier with another PyTorch, are the check.")
    w("- PR #42324 does not say, in the part read, whether its SM 9.0 GPUs are H100 or H200 (the copies in and out of"
      " the symmetric buffer would run 30% faster on an H200), or which world size its last SM 9.0 table has (8, from"
      " the section's order).")
    w("- NCCL's rows are wiresim's model of NCCL (the newest release; the tables do not name theirs), nothing fitted"
      " here: its NVLS fill and step synchronisation come from the ml-engineering H200 curve, and"
      " [collectives.md](collectives.md) checks these rows as a system of its own, with the refit the other way.")
    w("- Blackwell: the kernels' fixed costs are larger than Hopper's, and PR #37756's B300 table (16 KiB-128 MiB)"
      " sets them from its three smallest rows, where the traffic is under a microsecond whatever the world size;"
      " its larger rows read slower than Hopper's link efficiencies predict on 900 GB/s of NVLink5, so on Blackwell"
      " the model is fast for messages of MiBs. The B200's 2-GPU rows of PR #42324 are the check (multimem at 2 GPUs"
      " is forced by the benchmark; vLLM runs two-shot there).")
    text = "\n".join(out).rstrip() + "\n"
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, a.out)
    print("wrote", os.path.relpath(a.out, ROOT))


if __name__ == "__main__":
    main()
