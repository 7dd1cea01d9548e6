#!/usr/bin/env python3
"""Regenerates docs/validation/calibration.md: how well a calibration fitted on half of a measured sweep predicts
the other half. Standard library only.

    python3 tools/validate_calibration.py [--wiresim build/sim/app/wiresim] [--out docs/validation/calibration.md]

For every measured collective sweep in docs/validation/data/ (the nccl-tests tables and Vidur's all-reduce profile,
each copied from ../shared/refdata/ with its source named), the sizes are sorted and split: every other size (the
1st, 3rd, ...) is written out as an nccl-tests log, imported with `wiresim calibrate import`, and fitted with
`wiresim calibrate fit` on the system's topology; then `wiresim collective --compare` predicts the held-out sizes (the
2nd, 4th, ...) with `--calibration` and without. The same for the measured GEMMs: for every (n, k) of a GPU, every
other m goes into a calibration profile, and `wiresim compute gemm --csv --calibration` predicts the others.
error = predicted / measured - 1 (busbw for collectives, time for GEMMs). Target: median |error| within 5%.
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import validate_collectives as vc  # noqa: E402  (the measured data and systems, shared)

ROOT = vc.ROOT
DATA = vc.DATA
TARGET = 0.05
MIN_FIT_SIZES = 3  # the sizes `wiresim calibrate fit` needs to fit a correction (docs/calibration.md)


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), proc.stderr.strip()))
    return proc.stdout


def split(rows):
    rows = sorted(rows)
    return rows[0::2], rows[1::2]


def held_out_collective(wiresim, tmp, topology, gpus, op, dtype, rows, compare_extra, fit_extra):
    """Errors on the held-out sizes: (calibrated, uncalibrated) lists of (size, error)."""
    train, test = split(rows)
    ranks = len(vc.gpus_list(topology, gpus))
    nodes = len(gpus.split(",")) if ":" in gpus else 1
    train_log = os.path.join(tmp, "train.txt")
    test_log = os.path.join(tmp, "test.txt")
    with open(train_log, "w") as f:
        f.write(vc.nccl_log(op, dtype, ranks, train))
    with open(test_log, "w") as f:
        f.write(vc.nccl_log(op, dtype, ranks, test))
    profile = os.path.join(tmp, "train.json")
    fitted = os.path.join(tmp, "fitted.json")
    run([wiresim, "calibrate", "import", train_log, "--op", op, "--ranks", str(ranks), "--nodes", str(nodes),
         "-o", profile])
    run([wiresim, "calibrate", "fit", profile, "--topology", topology, "--gpus", gpus, "-o", fitted] + fit_extra)
    base = [wiresim, "collective", "--topology", topology, "--gpus", gpus, "--op", op, "--compare", test_log,
            "--json"] + compare_extra
    cal = json.loads(run(base + ["--calibration", fitted]))["rows"]
    raw = json.loads(run(base))["rows"]
    # The fitted corrections alone: the same profile without its measured curves.
    with open(fitted) as f:
        doc = json.load(f)
    doc["fitted"]["collective"]["curves"] = []
    fit_only = os.path.join(tmp, "fit-only.json")
    with open(fit_only, "w") as f:
        json.dump(doc, f)
    fit = json.loads(run(base + ["--calibration", fit_only]))["rows"]
    return ([(r["size"], r["error"]) for r in cal], [(r["size"], r["error"]) for r in raw], len(train),
            [(r["size"], r["error"]) for r in fit])


def collective_systems(wiresim, tmp):
    systems = []

    def add(name, topology, gpus, op, dtype, rows, compare_extra=(), fit_extra=()):
        if len(split(rows)[0]) < MIN_FIT_SIZES:
            systems.append({"name": name, "skipped": "%d sizes measured, %d to fit: `calibrate fit` needs %d sizes "
                            "of an operation for a correction and refuses fewer" % (
                                len(rows), len(split(rows)[0]), MIN_FIT_SIZES)})
            return
        cal, raw, trained, fit = held_out_collective(wiresim, tmp, topology, gpus, op, dtype, rows,
                                                     list(compare_extra), list(fit_extra))
        systems.append({"name": name, "topology": topology, "gpus": gpus, "op": op, "train": trained,
                        "cal": cal, "raw": raw, "fit": fit})

    a3 = [(int(r["size_bytes"]), float(r["oop_time_us"]))
          for r in vc.read_csv("nccltests_gcp_a3mega_h100_2node_allreduce.csv")]
    gcp = ["--algo", "tree", "--proto", "simple", "--buffsize", "8M"]  # as docs/validation/collectives.md runs it
    add("GCP A3 Mega, 2x8 H100, all_reduce", "gcp-a3-mega-2node", "vm0:0-7,vm1:0-7", "all_reduce", "float", a3,
        gcp, gcp)
    oci = [(int(r["size_bytes"]), float(r["oop_time_us"]))
           for r in vc.read_csv("nccltests_oci_h200_2node_allreduce.csv")]
    add("OCI 2x8 H200, all_reduce", "oci-h200-2node", "node0:0-7,node1:0-7", "all_reduce", "float", oci)
    oci_a100 = [(int(r["size_bytes"]), float(r["oop_time_us"]))
                for r in vc.read_csv("oci_bmgpu48_a100_2node_allreduce.csv")]
    v219 = ["--nccl-version", "2.19.3"]
    add("OCI 2x8 A100, all_reduce", "oci-bm-gpu4-2node", "node0:0-7,node1:0-7", "all_reduce", "float", oci_a100,
        v219, v219)
    oci_a100_one = [(int(r["size_bytes"]), float(r["oop_time_us"]))
                    for r in vc.read_csv("oci_bmgpu48_a100_1node_allreduce.csv")]
    add("OCI 8x A100, all_reduce (-g 8)", "oci-bm-gpu4-2node", "node0:0-7", "all_reduce", "float", oci_a100_one)
    a100 = [(int(r["size_bytes"]), float(r["time_us"])) for r in vc.read_csv("stas00_a100_nvswitch_allreduce.csv")]
    add("8x A100 NVSwitch, all_reduce (-g 8)", "hgx-a100", "0-7", "all_reduce", "float", a100)
    sr = [(int(r["size_bytes"]), float(r["oop_time_us"])) for r in vc.read_csv("nccltests_a100_nvswitch_sendrecv.csv")]
    add("8x A100 NVSwitch, sendrecv", "hgx-a100", "0-7", "sendrecv", "float", sr, v219, v219)

    configs = vc.vidur_configs()
    for device, label, topology, extra, *_ in vc.VIDUR:
        interval, _ = vc.host_interval(configs, device)
        model = ["--launch-us", "0", "--call-interval-us", "%.1f" % interval] + list(extra) + vc.VIDUR_VERSION
        for n, per_node, gpus, data in vc.vidur_tables(configs, device, label):
            add("%s, %d GPUs (%d per node)" % (label, n, per_node), topology, gpus, "all_reduce", "half", data,
                model, model)
    return systems


# Every system is fitted and predicted with the same collective-model options (--algo, --proto, --launch-us,
# --call-interval-us, --buffsize): the setup docs/validation/collectives.md gives it.
DEVICE_NAMES = {"a100": "NVIDIA A100-SXM4-80GB", "h100": "NVIDIA H100 80GB HBM3"}


def gemm_measurements():
    """Vidur's Llama-70B shards and XLA's unbatched bf16 matmuls: (source, gpu, m, n, k, seconds)."""
    out = []
    for r in vc.read_csv("vidur_llama70b_gemm_times.csv"):
        tp, m = int(r["tp"]), int(r["m"])
        shapes = {"qkv": (8192, 10240 // tp), "o": (8192 // tp, 8192), "up": (8192, 57344 // tp),
                  "down": (28672 // tp, 8192)}
        for name, (k, n) in shapes.items():
            out.append(("vidur", r["gpu"], m, n, k, float(r[name + "_ms"]) * 1e-3))
    for r in vc.read_csv("xla_h100_matmul_times.csv"):
        b, m, n, k = (int(r[c]) for c in ("b", "m", "n", "k"))
        if b == 1:
            out.append(("xla", "h100", m, n, k, 2.0 * m * n * k / float(r["bf16_flops_per_s"])))
    return out


def held_out_gemms(wiresim, tmp):
    """Per (source, gpu): calibrated and uncalibrated errors on the held-out m of each (n, k) series."""
    series = {}
    for source, gpu, m, n, k, seconds in gemm_measurements():
        series.setdefault((source, gpu, n, k), {})[m] = seconds  # a repeated m keeps the last
    results = {}
    for (source, gpu, n, k), by_m in sorted(series.items()):
        train, test = split(sorted(by_m.items()))
        results.setdefault((source, gpu), {"train": [], "test": []})
        results[(source, gpu)]["train"] += [(m, n, k, s) for m, s in train]
        results[(source, gpu)]["test"] += [(m, n, k, s) for m, s in test]
    out = []
    for (source, gpu), parts in sorted(results.items()):
        profile = {"format": "wiresim-calibration-profile", "version": 1,
                   "provenance": {"tool": "tools/validate_calibration.py", "gpus": [{"name": DEVICE_NAMES[gpu]}]},
                   "gemm": [{"m": m, "n": n, "k": k, "dtype": "bfloat16", "time_us": s * 1e6}
                            for m, n, k, s in parts["train"]]}
        path = os.path.join(tmp, "gemm-profile.json")
        with open(path, "w") as f:
            json.dump(profile, f)
        query = os.path.join(tmp, "gemm-test.csv")
        with open(query, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "gpu", "m", "n", "k", "dtype"])
            for i, (m, n, k, _) in enumerate(parts["test"]):
                w.writerow([i, gpu, m, n, k, "bf16"])
        errs = {}
        for mode, extra in (("cal", ["--calibration", path]), ("raw", [])):
            text = run([wiresim, "compute", "gemm", "--csv", query] + extra)
            pred = {int(r["id"]): float(r["predicted_us"]) * 1e-6
                    for r in csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))}
            errs[mode] = [(m, pred[i] / s - 1) for i, (m, _, _, s) in enumerate(parts["test"])]
        out.append({"name": "%s %s" % (source.capitalize() if source == "vidur" else source.upper(), gpu.upper()),
                    "train": len(parts["train"]), "cal": errs["cal"], "raw": errs["raw"]})
    return out


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def pct(x):
    return "-" if x != x else "%.1f%%" % (100 * x)


def report(collectives, gemms, command):
    lines = []
    w = lines.append
    w("# Calibration: fitted on half a sweep, predicting the other half\n")
    w("Generated by `%s`. Do not edit by hand: rerun the script.\n" % command)
    w("Each measured sweep is sorted by size and split: the 1st, 3rd, 5th... sizes are the **fit set**, the 2nd, "
      "4th, 6th... the **held-out set**. The fit set goes through `wiresim calibrate import` and `wiresim calibrate "
      "fit` (collectives), or into a calibration profile's `gemm` section (GEMMs, every other m of each (n, k)); the "
      "held-out set is predicted by `wiresim collective --compare --calibration` or `wiresim compute gemm --csv "
      "--calibration`, and, for contrast, by the same commands without a calibration. error = predicted / measured "
      "- 1 (busbw for collectives, time for GEMMs). Target: median |error| on the held-out set within 5% per "
      "system. How the fit works: `docs/calibration.md`. The measurements and their sources: "
      "`docs/validation/data/`.\n")
    w("## Collectives\n")
    w("Columns: **calibrated** is what `--calibration` gives (the measured curve of the group where it covers the "
      "size, the fitted corrections elsewhere); **fitted only** uses the fitted corrections alone (the profile "
      "without its curves), i.e. how the fit would serve a group that was not measured; **uncalibrated** is the "
      "model with its defaults.\n")
    w("| system | topology, GPUs | fit sizes | held-out sizes | calibrated median abs. error | fitted only | "
      "uncalibrated | target |")
    w("|---|---|---:|---:|---:|---:|---:|---|")
    all_cal, all_fit = [], []
    skipped = [s for s in collectives if "skipped" in s]
    collectives = [s for s in collectives if "skipped" not in s]
    for s in collectives:
        cal = [abs(e) for _, e in s["cal"]]
        fit = [abs(e) for _, e in s["fit"]]
        raw = [abs(e) for _, e in s["raw"]]
        all_cal += cal
        all_fit += fit
        w("| %s | `%s`, `%s` | %d | %d | %s | %s | %s | %s |" % (
            s["name"], s["topology"], s["gpus"], s["train"], len(cal), pct(med(cal)), pct(med(fit)), pct(med(raw)),
            "met" if med(cal) <= TARGET else "**missed**"))
    for s in skipped:
        w("| %s | not fitted: %s | | | | | | |" % (s["name"], s["skipped"]))
    w("\nOver every held-out collective size: median |error| %s calibrated, %s with the fitted corrections alone.\n"
      % (pct(med(all_cal)), pct(med(all_fit))))
    w("## GEMMs\n")
    w("| measured | fit GEMMs | held-out GEMMs | calibrated median abs. error | p90 | uncalibrated (roofline) | "
      "target |")
    w("|---|---:|---:|---:|---:|---:|---|")
    for g in gemms:
        cal = sorted(abs(e) for _, e in g["cal"])
        raw = [abs(e) for _, e in g["raw"]]
        p90 = cal[min(len(cal) - 1, int(0.9 * len(cal)))] if cal else float("nan")
        w("| %s | %d | %d | %s | %s | %s | %s |" % (g["name"], g["train"], len(cal), pct(med(cal)), pct(p90),
                                                 pct(med(raw)), "met" if med(cal) <= TARGET else "**missed**"))
    w("\n## Held-out errors by size band (collectives)\n")
    w("Medians per power-of-four band of the held-out sizes, calibrated / uncalibrated.\n")
    for s in collectives:
        bands = {}
        for (size, e), (_, r) in zip(s["cal"], s["raw"]):
            band = 1 << (2 * ((int(size).bit_length() - 1) // 2))
            bands.setdefault(band, ([], []))
            bands[band][0].append(abs(e))
            bands[band][1].append(abs(r))
        w("### %s\n" % s["name"])
        w("| sizes from | held-out sizes | calibrated | uncalibrated |")
        w("|---:|---:|---:|---:|")
        for band in sorted(bands):
            c, r = bands[band]
            w("| %s | %d | %s | %s |" % (vc.fmt_size(band), len(c), pct(med(c)), pct(med(r))))
        w("")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wiresim", default=os.path.join(ROOT, "build", "sim", "app", "wiresim"))
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "validation", "calibration.md"))
    parser.add_argument("--check", action="store_true", help="exit 1 when a system misses the 5% target")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        collectives = collective_systems(args.wiresim, tmp)
        gemms = held_out_gemms(args.wiresim, tmp)
    with open(args.out, "w") as f:
        f.write(report(collectives, gemms, "python3 tools/validate_calibration.py"))
    missed = [s["name"] for s in collectives + gemms if "cal" in s and med([abs(e) for _, e in s["cal"]]) > TARGET]
    print("wrote %s; %d systems, %s" % (args.out, len(collectives) + len(gemms),
                                        "all within 5%" if not missed else "missed: " + ", ".join(missed)))
    if args.check and missed:
        sys.exit(1)


if __name__ == "__main__":
    main()
