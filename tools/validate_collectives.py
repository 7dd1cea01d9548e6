#!/usr/bin/env python3
"""Regenerates docs/validation/collectives.md: the busbw `wiresim collective` predicts next to what was measured,
for every nccl-tests table and the all-reduce rows of Vidur's profile in ../shared/refdata/ (the subsets this needs
are copied into docs/validation/data/, each with its source). Standard library only.

    python3 tools/validate_collectives.py [--wiresim build/sim/app/wiresim] [--out docs/validation/collectives.md]

Every measured table is written out as an nccl-tests log and handed to `wiresim collective --compare LOG --json`,
so the numbers in the report are the command's own. error = predicted busbw / measured busbw - 1 (the same as
measured time / predicted time - 1); the targets, per system: a median |error| within 10% from 1 to 256 MiB on
one node (15% across nodes), and within 20% from 8 KiB to 1 MiB. Each system also says which of the model's
constants were fitted on it, and is predicted again with those constants left at what the model would have
without that table (leave one system out).
"""
import argparse
import concurrent.futures
import csv
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "docs", "validation", "data")
MIB = 1024 * 1024
TYPE_BYTES = {"float": 4, "half": 2, "bfloat16": 2}
BUSBW = {
    "all_reduce": lambda n: 2 * (n - 1) / n,
    "all_gather": lambda n: (n - 1) / n,
    "reduce_scatter": lambda n: (n - 1) / n,
    "sendrecv": lambda n: 1.0,
    "send": lambda n: 1.0,
}


def read_csv(name):
    with open(os.path.join(DATA, name)) as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def nccl_log(op, dtype, ranks, rows, gpus_per_thread=1):
    """An nccl-tests text log (current layout) of (size, time_us) rows: out-of-place and in-place alike.
    `gpus_per_thread`: -g, the ranks one process drove (its nThread line says so, and --compare models it)."""
    out = io.StringIO()
    out.write("# Collective test starting: %s_perf\n" % op)
    out.write("# nThread 1 nGpus %d minBytes %d maxBytes %d step: 2(factor) warmup iters: 5 iters: 20 agg iters: 1 "
              "validation: 0 graph: 0\n#\n" % (gpus_per_thread, min(r[0] for r in rows), max(r[0] for r in rows)))
    out.write("#       size         count      type   redop    root     time   algbw   busbw  #wrong     time"
              "   algbw   busbw  #wrong\n")
    per = TYPE_BYTES[dtype] * (ranks if op in ("all_gather", "reduce_scatter") else 1)
    redop = "none" if op == "all_gather" else "sum"
    for size, time_us in rows:
        algbw = size / (time_us * 1e3)
        busbw = algbw * BUSBW[op](ranks)
        group = "%9.2f %7.2f %7.2f %6s" % (time_us, algbw, busbw, "N/A")
        out.write("%12d %13d %9s %7s %7d %s %s\n" % (size, size // per, dtype, redop, -1, group, group))
    return out.getvalue()


class Wiresim:
    def __init__(self, binary, extra=()):
        self.binary = binary
        self.extra = list(extra)  # appended to every run: the leave-one-out settings

    def run(self, args):
        proc = subprocess.run([self.binary, "collective"] + args + self.extra + ["--json"], capture_output=True,
                              text=True)
        if proc.returncode != 0:
            sys.exit("wiresim collective %s failed: %s" % (" ".join(args), proc.stderr.strip()))
        return json.loads(proc.stdout)

    def compare(self, topology, gpus, op, dtype, rows, extra=(), gpus_per_thread=1):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write(nccl_log(op, dtype, len(gpus_list(topology, gpus)), rows, gpus_per_thread))
            path = f.name
        try:
            result = self.run(["--topology", topology, "--gpus", gpus, "--op", op, "--compare", path] + list(extra))
        finally:
            os.unlink(path)
        return result["rows"]

    def predict(self, topology, gpus, op, size, extra=()):
        s = str(size)
        return self.run(["--topology", topology, "--gpus", gpus, "--op", op, "-b", s, "-e", s] + list(extra))["rows"][0]


def gpus_list(topology, gpus):
    """How many GPUs a --gpus argument names (enough for the busbw factor of the log we write)."""
    total = 0
    for item in gpus.split(","):
        item = item.split(":")[-1]
        a, _, b = item.partition("-")
        total += (int(b) - int(a) + 1) if b else 1
    return range(total)


KIB = 1024
GIB = 1024 ** 3
# Size bands of the targets: (label, lowest, highest, target for one node, target across nodes).
BANDS = [("1-256 MiB", MIB, 256 * MIB, 0.10, 0.15), ("8 KiB-1 MiB", 8 * KIB, MIB - 1, 0.20, 0.20)]


class System:
    def __init__(self, name, source, setup, notes="", multi_node=False, fitted="none", loo=None, loo_note="",
                 refit=None):
        self.name, self.source, self.setup, self.notes = name, source, setup, notes
        self.multi_node = multi_node
        self.fitted = fitted  # the model's constants fitted on this system's tables
        self.loo = loo  # wiresim arguments that undo them (None: nothing to undo, or not undoable from the CLI)
        self.loo_note = loo_note
        # (constant names, value tuples, names of other systems): refit the constants on those systems' tables
        # instead (the values with the least mean of their 1-256 MiB medians) and predict this one with them.
        self.refit = refit
        self.left_out = None  # the same system predicted with `loo`
        self.tables = []  # (title, rows): rows of dicts with size, measured, predicted, error, algo

    def band(self, lo, hi):
        return [abs(r["error"]) for _, rows in self.tables for r in rows if lo <= r["size"] <= hi]

    def met(self):
        """Per band: (errors, target, met); a band without rows is met."""
        out = []
        for _, lo, hi, one, multi in BANDS:
            e = self.band(lo, hi)
            target = multi if self.multi_node else one
            out.append((e, target, not e or median(e) <= target))
        return out


def compare_rows(result):
    return [{"size": r["size"], "measured": r["measured_busbw_GBps"], "predicted": r["busbw_GBps"],
             "error": r["error"], "algo": "%s/%s" % (r["algorithm"], r["protocol"]),
             "mtime": r["measured_time_us"], "ptime": r["time_us"]} for r in result]


def all_reduce_table(w, s, csv_name, topology, gpus, title, extra=(), gpus_per_thread=1):
    """Adds to system `s` the comparison of one nccl-tests all_reduce table (float, out-of-place times)."""
    data = [(int(r["size_bytes"]), float(r["oop_time_us"])) for r in read_csv(csv_name)]
    s.tables.append((title, compare_rows(w.compare(topology, gpus, "all_reduce", "float", data, list(extra),
                                                   gpus_per_thread))))
    return s


def gcp_system(w):
    rows = read_csv("nccltests_gcp_a3mega_h100_2node_allreduce.csv")
    s = System("GCP A3 Mega, 2x8 H100, GPUDirect-TCPXO", "nccltests_gcp_a3mega_h100_2node_allreduce.csv",
               "`--topology gcp-a3-mega-2node --gpus vm0:0-7,vm1:0-7` (16 ranks, one per GPU, as `mpirun -np 16`), "
               "`--algo tree --proto simple --buffsize 8M`; launch overhead 5 us",
               "NCCL's settings are Google's for TCPXO (google/nccl-plugin-gpudirect-tcpxo, "
               "`tcpxo_scripts/nccl-env-profile-simple.sh`: NCCL_ALGO=Ring,Tree, NCCL_PROTO=Simple, "
               "NCCL_BUFFSIZE=8388608, NCCL_NVLS_ENABLE=0; its guest config checker enforces the first two). Of Ring and "
               "Tree, the measurement itself says Tree: its 338 GB/s plateau is out of a ring's reach here (8 NICs x "
               "23.5 GB/s = 188), and A3 Mega's tuner plugin, not NCCL's model, makes that choice, so the tree is "
               "forced. The medium sizes are the tree's pipeline: NCCL_BUFFSIZE / 8 = 1 MiB chunks per channel climb a "
               "chain of 8 GPUs and a network hop and come back (about 0.8 ms before the rest follow), which is why "
               "the measured time barely moves from 16 to 32 MiB. Fitted: 7 us per network link of "
               "`topologies/gcp-a3-mega-2node.toml`, so that the small rows (123 us) come out right (TCPXO's "
               "per-message cost is not published).", multi_node=True,
               fitted="7 us per network link (the topology file)",
               loo_note="the 7 us is TCPXO's per-message cost, which no other table measures, and a topology figure "
                        "rather than a model constant: not rerun")
    data = [(int(r["size_bytes"]), float(r["oop_time_us"])) for r in rows]
    s.tables.append(("all_reduce, float", compare_rows(
        w.compare("gcp-a3-mega-2node", "vm0:0-7,vm1:0-7", "all_reduce", "float", data,
                  ["--algo", "tree", "--proto", "simple", "--buffsize", "8M"]))))
    return s


def oci_system(w):
    s = System("OCI 2x8 H200, RoCE", "nccltests_oci_h200_2node_allreduce.csv",
               "`--topology oci-h200-2node --gpus node0:0-7,node1:0-7`; launch overhead 5 us; `--nccl-version 2.27.5`",
               "The NICs (2x 200 Gb/s per GPU) are assumed from OCI's H100 shape. NVLSTree's NVLink stages bound it "
               "here (NVLS at 0.824 x 0.85 of 450 GB/s per GPU); the trees between the nodes add their fill and each "
               "step its synchronisation (NVLSTree's 1.75 us, `docs/collectives.md` section 3). The same GPUs and "
               "bytes per GPU run 7% faster in algbw on one node (NVLS, ml-engineering's 8x H200 below), which the "
               "model does not give NVLSTree's two nodes.", multi_node=True)
    return all_reduce_table(w, s, "nccltests_oci_h200_2node_allreduce.csv", "oci-h200-2node", "node0:0-7,node1:0-7",
                            "all_reduce, float", ["--nccl-version", "2.27.5"])


def issues_two_node_system(w):
    s = System("NCCL issues, two nodes (H100 and H20)",
               "nccltests_issue232_h100_2x1_roce_tree.csv, nccl_issue1244_h20_2x8_nvlstree_small.csv",
               "`--topology dgx-h100-2node`, the run's NCCL_ALGO as `--algo`; launch overhead 5 us",
               "Held out: nothing was set from these tables. nccl-tests issue 232: one H100 on each of two nodes with "
               "400 Gb/s RoCE NICs, NCCL_ALGO=Tree, NCCL version not stated: `--gpus node0:0,node1:0 --algo tree` "
               "(each GPU's own NIC; the user found one GPU drives one of its node's four). NCCL issue 1244: 2x8 H20 "
               "(NVLink4 NVSwitch like the H100's; its CX7 NICs do not enter a small message's latency), "
               "NCCL_ALGO=NVLSTree, NCCL 2.21.5, messages of 4 to 512 bytes: `--nodes 2 --algo nvlstree "
               "--nccl-version 2.21.5`. The modelled NVLSTree floor, 59.8 us, is 25-29% longer than the measured 46-48 us: "
               "a forced NVLSTree on tiny messages, which NCCL's own choice never runs there (it takes a tree or ring "
               "with LL), is charged NCCL's NVLS and NVLSTree per-step latencies in full.",
               multi_node=True)
    rows = read_csv("nccltests_issue232_h100_2x1_roce_tree.csv")
    data = [(int(r["size_bytes"]), float(r["oop_time_us"])) for r in rows]
    s.tables.append(("all_reduce, float, 1 GPU per node, NCCL_ALGO=Tree (nccl-tests issue 232)", compare_rows(
        w.compare("dgx-h100-2node", "node0:0,node1:0", "all_reduce", "float", data, ["--algo", "tree"]))))
    rows = read_csv("nccl_issue1244_h20_2x8_nvlstree_small.csv")
    data = [(int(r["size_bytes"]), float(r["oop_time_us"])) for r in rows]
    s.tables.append(("all_reduce, float, 8 GPUs per node, NCCL_ALGO=NVLSTree, NCCL 2.21.5 (NCCL issue 1244)",
                     compare_rows(w.compare("dgx-h100-2node", "node0:0-7,node1:0-7", "all_reduce", "float", data,
                                            ["--algo", "nvlstree", "--nccl-version", "2.21.5"]))))
    return s


def a100_system(w):
    s = System("8x A100 SXM, NVSwitch", "nccltests_a100_nvswitch_sendrecv.csv, stas00_a100_nvswitch_allreduce.csv",
               "`--topology hgx-a100 --gpus 0-7`; launch overhead 5 us; the all-reduce `--ranks-per-process 8` "
               "(the log's `-g 8`)",
               "Predictions throughout. li-plus posted the sendrecv table on 2023-10-19 (li-plus/playground b85070f), "
               "when NCCL's newest release was 2.19.3 (2023-09-26): it is run as `--nccl-version 2.19.3`. Up to 2.19 "
               "one node halves a peer's nChannelsMax to 16 for 8 ranks, and a send beside a receive has 9 of a "
               "channel's 16 warps (20 x 9 / 16 = 11.25 GB/s; `docs/collectives.md`, point-to-point channels): 128 MiB "
               "runs on 8 channels (89.1 GB/s predicted, 110.8 measured) and 256 MiB to 1 GiB on 16 (178-180 "
               "predicted, 189-195 measured), under the links' 240: NCCL's channels, not the links, set this plateau. "
               "The all-reduce table: the A100's NVLink step factor was fitted on Vidur's 8x A100 table "
               "(a different machine, NCCL version and process layout), and from 16 MiB to 1 GiB it gives the "
               "ramp this table shows (the A100's Simple ring carries about 150 us of step latency). The table was run "
               "as one process driving 8 GPUs (`-g 8`): its 256 KiB to 1 MiB rows are slower than any NCCL protocol "
               "here would make them, and its Simple rings write into each other's buffers (no copy at the end of "
               "a loop, `docs/collectives.md` section 5), which takes the model's plateau from 231 to 240 GB/s.",
               fitted="none")
    rows = read_csv("nccltests_a100_nvswitch_sendrecv.csv")
    data = [(int(r["size_bytes"]), float(r["oop_time_us"])) for r in rows]
    s.tables.append(("sendrecv, float (li-plus)", compare_rows(
        w.compare("hgx-a100", "0-7", "sendrecv", "float", data, ["--nccl-version", "2.19.3"], gpus_per_thread=8))))
    rows = read_csv("stas00_a100_nvswitch_allreduce.csv")
    data = [(int(r["size_bytes"]), float(r["time_us"])) for r in rows]
    s.tables.append(("all_reduce, float (ml-engineering, -g 8)", compare_rows(
        w.compare("hgx-a100", "0-7", "all_reduce", "float", data, gpus_per_thread=8))))
    return s


def coreweave_nvl72_system(w):
    s = System("CoreWeave GB200 NVL72, one rack (public figures outside refdata)",
               "coreweave_gb200_nvl72_allreduce.csv",
               "`--topology gb200-nvl72 --nodes 18` (72 ranks, one per GPU, as the source's 18 x 4 Slurm tasks); launch "
               "overhead 5 us; `--nccl-version 2.26.2`",
               "Held out, and not from `../shared/refdata/`: CoreWeave's published single-rack run (NCCL 2.26.2, "
               "NCCL_MNNVL_ENABLE=1), the only all-reduce over a whole NVL72 domain among the tables. NCCL runs NVLS "
               "here: from 4 GiB the measured busbw (835-839 GB/s) is above what a ring can reach on NVLink5 (18 x "
               "40.1 GB/s, NCCL's SM100_NVLINK_BW). The model reads it 17-21% fast from 4 GiB and 24-45% fast from 512 "
               "MiB to 2 GiB. On 8 B200s of one DGX (the ml-engineering single sizes above) NVLS at 8 GiB reaches the "
               "same 838 GB/s busbw, which the model gives within 2%; busbw of NVLS grows with the GPUs as 2(n-1)/(n+1) "
               "when the links bound it, so the model gives 72 GPUs 25% more, where the measurement gives the same: per "
               "GPU the switches carry 20% less on 72 GPUs than on 8. What slows a 72-GPU NVLS operation (a "
               "reduction over 72 GPUs' loads, switch trays apart) is not in the model, and no other table measures it.",
               multi_node=True)
    return all_reduce_table(w, s, "coreweave_gb200_nvl72_allreduce.csv", "gb200-nvl72",
                            ",".join("tray%d:0-3" % t for t in range(18)), "all_reduce, float (NCCL 2.26.2, 72 GPUs)",
                            ["--nccl-version", "2.26.2"])


def coreweave_2node_system(w):
    s = System("CoreWeave 2x8 H100 and 2x8 B200, InfiniBand (public figures outside refdata)",
               "coreweave_2node_allreduce.csv",
               "`--topology dgx-h100-2node` and `dgx-b200-2node`, `--gpus node0:0-7,node1:0-7`; launch overhead 5 us; "
               "NCCL release not stated (the newest modelled)",
               "Held out, and not from `../shared/refdata/`: one figure per machine from a CoreWeave pull request's test "
               "plan (8 GiB, 16 ranks, no SHARP). NCCL's choice, as the model follows it, is NVLSTree on both. On two "
               "DGX B200s the NICs bound it, and the model is within 2%. On two H100 nodes the NVLink stages bound it, "
               "and the model reads it 15% fast, as it reads OCI's 2x8 H200 (RoCE) 4.5% fast at 8 GiB: the same GPUs "
               "and bytes per GPU run faster on one node (NVLS) than NVLSTree runs them on two, which the model, bound "
               "by the same NVLink stages in both, does not give.", multi_node=True)
    rows = read_csv("coreweave_2node_allreduce.csv")
    for gpu, topology, label in (("h100", "dgx-h100-2node", "2x8 H100"), ("b200", "dgx-b200-2node", "2x8 B200")):
        data = [(int(r["size_bytes"]), float(r["oop_time_us"])) for r in rows if r["gpu"] == gpu]
        s.tables.append(("all_reduce, float, %s" % label, compare_rows(
            w.compare(topology, "node0:0-7,node1:0-7", "all_reduce", "float", data))))
    return s


def oci_a100_2node_system(w):
    s = System("OCI 2x8 A100 SXM4 40GB (BM.GPU4.8), RoCE", "oci_bmgpu48_a100_2node_allreduce.csv",
               "`--topology oci-bm-gpu4-2node --gpus node0:0-7,node1:0-7` (16 ranks, one per GPU, as "
               "`mpirun -np 16`); launch overhead 5 us; `--nccl-version 2.19.3`",
               "Held out: nothing in the model or in `topologies/oci-bm-gpu4-2node.toml` was set from this table (the "
               "topology is OCI's own NCCL topology file for the shape: 2x 100 Gb/s per GPU behind the GPU's PCIe "
               "switch). The measured curve runs rings at the NICs' pace up to 512 MiB (about 165 GB/s) and jumps to the "
               "tree from 1 GiB (219-238 GB/s); wiresim keeps the ring there and reads 17-22% low: NCCL's search "
               "raises a tree's intra-node speed above the network's over two nodes, which the model's stand-in "
               "for that search leaves out (`docs/collectives.md` section 8 says why).", multi_node=True)
    return all_reduce_table(w, s, "oci_bmgpu48_a100_2node_allreduce.csv", "oci-bm-gpu4-2node", "node0:0-7,node1:0-7",
                            "all_reduce, float (oci-hpc-oke, NCCL 2.19.3)", ["--nccl-version", "2.19.3"])


def oci_a100_1node_system(w):
    s = System("OCI 8x A100 SXM4 40GB (BM.GPU4.8), one node, -g 8", "oci_bmgpu48_a100_1node_allreduce.csv",
               "`--topology oci-bm-gpu4-2node --gpus node0:0-7`; launch overhead 5 us; `--ranks-per-process 8` "
               "(the log's `-t 1 -g 8`); NCCL version not printed (the newest modelled)",
               "Held out: nothing was set from this table. Like the ml-engineering A100 table it was run as one "
               "process driving 8 GPUs (`-g 8`), on another machine and NCCL: their times agree within 0.4% from 512 MiB "
               "up, but differ by 6% to 37% at every size from 32 KiB to 256 MiB (that table is slower below 2 MiB and "
               "from 16 MiB, faster from 2 to 8 MiB), which bounds what any one model of an 8x A100 node can match.")
    return all_reduce_table(w, s, "oci_bmgpu48_a100_1node_allreduce.csv", "oci-bm-gpu4-2node", "node0:0-7",
                            "all_reduce, float (ocitutorials, -g 8)", gpus_per_thread=8)


def polaris_system(w):
    s = System("ALCF Polaris, 4x A100 SXM4 40GB, NVLink mesh", "polaris_a100_4gpu_allreduce.csv",
               "`--topology hgx-a100-4gpu --gpus 0-3` (4 ranks, one per GPU); launch overhead 5 us; "
               "`--nccl-version 2.28.3 --proto simple`",
               "Held out: nothing was set from this table. The job ran with NCCL_PROTO=Simple (the source's "
               "`polaris_nccl_debug_info.md`, section 8: job 7629096, \"v1.6.0 + NCCL_PROTO=Simple\", the job of "
               "this one-node arm and of its 4-node one), so the protocol is forced here too. Without NVSwitches, "
               "NCCL's rings take several orders so that each GPU sends on all three of its NV4 links at once "
               "(`docs/collectives.md` section 2: the six directed rings of four GPUs, each link in two); with one "
               "ring in one order the model read 74 GB/s against the measured 205 from 256 MiB up (-61% to -64%). "
               "Below 16 KiB the measured Simple ring takes 40-46 us where the model's A100 step factor (3) gives 69: "
               "this table would want about 1.5 on Simple's steps (`docs/collectives.md` section 5).")
    return all_reduce_table(w, s, "polaris_a100_4gpu_allreduce.csv", "hgx-a100-4gpu", "0-3",
                            "all_reduce, float (nccl-tests, NCCL 2.28.3, NCCL_PROTO=Simple)",
                            ["--nccl-version", "2.28.3", "--proto", "simple"])


# The NVLS pipeline constants fitted on the ml-engineering 8x H200 curve (docs/collectives.md section 3), and the
# grid they were picked from: the least mean |error| over the curve's NVLS rows.
NVLS_FIT = ("nvls_fill_steps", "nvls_step_sync_us")
NVLS_GRID = [(f / 4, s / 4) for f in range(0, 13) for s in range(0, 49)]
NVLS_DEFAULT = (1.5, 6.25)


def constant_setting(names, values):
    """wiresim arguments setting each of the model's fitted constants `names` to its value."""
    out = []
    for name, v in zip(names, values):
        out += ["--model-constant", "%s=%g" % (name, v)]
    return out


H200_VERSION = ["--nccl-version", "2.27.7"]


def h200_curve_data():
    rows = read_csv("stas00_h200_allreduce_curve.csv")
    return [(int(r["payload_bytes"]), int(r["payload_bytes"]) * 1.75 / float(r["busbw_GBps"]) / 1e3) for r in rows]


def h200_host_time(w, data):
    """Each call of all_reduce_bench.py is timed alone (a barrier, a CUDA event, the all-reduce, an event, a
    synchronize), so the GPU is idle when the first event is recorded and every row carries the host's time from
    that event to the kernel's start: a launch overhead, read from the rows up to 64 KiB as their measured time less
    the kernel's (Ring/LL there, about 20 us; NVLS's constants do not touch it)."""
    return statistics.median([t - w.predict("dgx-h100", "0-7", "all_reduce", size, H200_VERSION + ["--launch-us", "0"])
                              ["time_us"] for size, t in data if size <= 65536])


def h200_curve(w, gap=None):
    """The all_reduce_bench.py curve: (title, rows, gap); the host time `gap` read from the curve when not given."""
    data = h200_curve_data()
    if gap is None:
        gap = h200_host_time(w, data)
    result = compare_rows(w.compare("dgx-h100", "0-7", "all_reduce", "float", data,
                                    H200_VERSION + ["--launch-us", "%.1f" % gap]))
    return ("all_reduce curve, 8 GPUs (all_reduce_bench.py, NCCL's choice, launch overhead %.1f us)" % gap,
            result, gap)


def nvls_curve_fit(binary):
    """The grid's best (fill steps, step synchronisation) on the curve's NVLS rows, and its mean |error|."""
    gap = h200_host_time(Wiresim(binary), h200_curve_data())
    fits = []
    for values in NVLS_GRID:
        _, rows, _ = h200_curve(Wiresim(binary, constant_setting(NVLS_FIT, values)), gap)
        errors = [abs(r["error"]) for r in rows if r["algo"].startswith("NVLS/")]
        fits.append((statistics.mean(errors), values))
    return min(fits)


def single_size_row(w, topology, n, op, size, extra, measured, label):
    p = w.predict(topology, "0-%d" % (n - 1), op, size, extra)
    return {"size": size, "measured": measured, "predicted": p["busbw_GBps"], "error": p["busbw_GBps"] / measured - 1,
            "algo": "%s/%s" % (p["algorithm"], p["protocol"]), "label": label}


def h200_system(w):
    title, curve, gap = h200_curve(w)
    s = System("8x H200 SXM, NVSwitch (ml-engineering)",
               "stas00_h200_nccltests_8gpu.csv, stas00_h200_allreduce_curve.csv",
               "`--topology dgx-h100` (the same NVLink4 NVSwitch board; NCCL's tables do not tell H200 from H100), "
               "`--gpus 0-(n-1)`; NCCL_NVLS_ENABLE=0 as `--algo ^nvls,nvlstree`; `--nccl-version 2.27.7`",
               "At 4 GPUs NCCL picked Ring, and so does its tuning as modelled (NCCL's NVLS graph: one channel per "
               "GPU at 60 GB/s, rated 200 GB/s against the ring's 240); from 5 GPUs NVLS. Section 4 of the source (the 16 "
               "GiB rows) ran `-g 8`, one process: its ring all-reduce and all-gather write into each other's buffers "
               "and skip the copy a loop ends with (`docs/collectives.md` section 5), `--ranks-per-process 8`; "
               "reduce-scatter's ring is not direct in NCCL and keeps its last reduction, which reads 4.7%% slower "
               "than measured. Section 3 (the 8 GiB rows) does not state its command and is run one process per GPU "
               "(half a step of copy per loop): its ring rows read 2-6%% low and fall with the GPU count where the "
               "measured ones stay at 363-366 GB/s, as one process would give them (the same author's other "
               "nccl-tests runs use `-g`). The "
               "curve (torch's all_reduce_bench, NCCL's own choice) is the NVLS ramp: NCCL's chunk per step "
               "shrinks to 32 KiB below 64 MiB and 16 KiB below 8 MiB, so small all-reduces take short steps, each "
               "paced by its synchronisation where the bytes alone would be quicker, behind the pipeline's fill. "
               "Measurement model: "
               "all_reduce_bench.py times each call alone (a barrier, a CUDA event, the all-reduce, an event, a "
               "synchronize), so the GPU is idle when the first event is recorded and every row carries the host's "
               "time from that event to the kernel's start: up to 512 KiB every row takes 38-40 us where the "
               "kernel (Ring/LL) takes about 20. That time is read from the rows up to 64 KiB (measured less the "
               "kernel), %.1f us, and given as the launch overhead. Fitted: the NVLS fill (%g steps) and step "
               "synchronisation (%g us) on the curve's NVLS rows (2 MiB to 16 GiB), the least mean |error| over a "
               "grid of 0 to 3 steps and 0 to 12 us." % ((gap,) + NVLS_DEFAULT),
               fitted="NVLS fill %g steps and step synchronisation %g us (the curve)" % NVLS_DEFAULT,
               refit=(NVLS_FIT, NVLS_GRID, [VLLM_HOPPER]),
               loo_note="refitted on vLLM's H100-class tables of NCCL kernel times (the same grid, the least 1-256 MiB "
                        "median)")
    table = []
    for r in read_csv("stas00_h200_nccltests_8gpu.csv"):
        n, size = int(r["gpus"]), int(r["size_bytes"])
        extra = [] if r["nvls_enabled"] == "1" else ["--algo", "^nvls,nvlstree"]
        # Section 4 (the 16 GiB rows) ran `-g 8`: one process; section 3 does not state its command.
        if size == 16 * GIB:
            extra += ["--ranks-per-process", str(n)]
        table.append(single_size_row(w, "dgx-h100", n, r["op"], size, extra + H200_VERSION, float(r["busbw_GBps"]),
                                     "%s, %d GPUs, NVLS %s" % (r["op"], n,
                                                               "on" if r["nvls_enabled"] == "1" else "off")))
    s.tables.append(("single sizes (8 and 16 GiB)", table))
    s.tables.append((title, curve))
    return s


def issue1455_system(w):
    s = System("8x H100 SXM, NVSwitch (NCCL issue 1455)", "nccl_issue1455_h100_nvls_vs_gpus.csv",
               "`--topology dgx-h100 --gpus 0-(n-1)`, 4 GiB, `--algo ring` or `--algo nvls` as the run's NCCL_ALGO, "
               "`--ranks-per-process n` (`-g n`: one process); NCCL version not stated (the newest modelled)",
               "Held out: nothing was set from this table. The measured figures are the digest's ranges and "
               "approximations (a range's midpoint); the run swept 2 to 4 GiB and the prediction is at 4 GiB. One "
               "process drove the GPUs, so NCCL's rings wrote into each other's buffers and the loop's final copy "
               "was not made (`docs/collectives.md` section 5): the ring's busbw is flat from 2 to 8 GPUs, as "
               "measured; with one process per GPU the model would read it 20% lower at 2 GPUs and 4% at 8. NVLS "
               "grows with the GPU count as 2(n-1)/(n+1) (section 4).")
    table = []
    for r in read_csv("nccl_issue1455_h100_nvls_vs_gpus.csv"):
        n = int(r["gpus"])
        table.append(single_size_row(w, "dgx-h100", n, "all_reduce", 4 * GIB,
                                     ["--algo", r["algo"].lower(), "--ranks-per-process", str(n)],
                                     float(r["busbw_GBps"]), "NCCL_ALGO=%s, %d GPUs" % (r["algo"], n)))
    s.tables.append(("single size (4 GiB, all_reduce, float)", table))
    return s


B200_VERSION = ["--nccl-version", "2.27.7"]


def b200_curve_data():
    rows = read_csv("stas00_b200_allreduce_curve.csv")
    return [(int(r["payload_bytes"]), int(r["payload_bytes"]) * 1.75 / float(r["busbw_1node_GBps"]) / 1e3)
            for r in rows]


def b200_system(w):
    data = b200_curve_data()
    # The host's time before each call, read from the small rows as on the H200 curve.
    gap = statistics.median([t - w.predict("dgx-b200", "0-7", "all_reduce", size, B200_VERSION + ["--launch-us", "0"])
                             ["time_us"] for size, t in data if size <= 65536])
    s = System("8x B200, NVSwitch (ml-engineering, AWS p6-b200)",
               "stas00_b200_nccltests_8gpu.csv, stas00_b200_allreduce_curve.csv",
               "`--topology dgx-b200 --gpus 0-(n-1)`; NCCL_NVLS_ENABLE=0 as `--algo ^nvls,nvlstree`; "
               "`--nccl-version 2.27.7`; the curve with launch overhead %.1f us" % gap,
               "Held out: nothing in the model was set from these tables (every Blackwell figure is NCCL's or the "
               "datasheet's; the NVLS fill and step synchronisation are the H200 curve's, the kernel's 8.4 us NCCL's "
               "Simple base latency). The single sizes are "
               "nccl-tests at 8 GiB on 4-8 GPUs of AWS's p6-b200 with AWS's tuner plugin (NCCL_TUNER_PLUGIN=ofi), "
               "whose command line is not stated: run one process per GPU. Its rings read 674-682 GB/s, flat from 4 to 8 "
               "GPUs, as one process (`-g`) would give them; but one process gives 720 (NCCL's SM100_NVLINK_BW, 40.1 "
               "of 50 GB/s per link, is 6%% above what these rings reach), while one per GPU gives the level (665 to "
               "695) and not the flatness. The curve is torch's "
               "all_reduce_bench.py, one process per GPU, each call timed alone: every row carries the host's time "
               "before the kernel, read from the rows up to 64 KiB as on the H200 curve (%.1f us). No B200 "
               "measurement of NCCL's kernels alone is among the tables (vLLM's B300 table runs under CUDA graphs); "
               "the curve's medium sizes, where NVLS's pipeline fills, are the check on the NVLS constants carried "
               "over from Hopper, and they miss: from 4 to 64 MiB the measured ramp is 5-31%% slower than the "
               "model's, as if a Blackwell step's synchronisation took 11-15 us, about twice Hopper's 6.25 (the 8 MiB "
               "row takes as long as the 16 MiB one, 83-84 us of kernel, on this curve and on vLLM's B300 table), "
               "and from 128 MiB to 4 GiB NVLS runs 10-13%% below NCCL's Blackwell nvlsEfficiency (0.74, what the "
               "model takes) where from 8 GiB it runs 2-6%% above it (this curve and the single sizes) "
               "(`docs/collectives.md` section 8). The single sizes ran with AWS's tuner plugin, and the curve on the "
               "same machine type may have: a tuner plugin returns the channels a collective runs on with its "
               "choice (getCollInfo's nChannels), which NCCL's own tuning, the model's, does not see." % gap)
    table = []
    for r in read_csv("stas00_b200_nccltests_8gpu.csv"):
        n, size = int(r["gpus"]), int(r["size_bytes"])
        extra = [] if r["nvls_enabled"] == "1" else ["--algo", "^nvls,nvlstree"]
        table.append(single_size_row(w, "dgx-b200", n, r["op"], size, extra + B200_VERSION, float(r["busbw_GBps"]),
                                     "%s, %d GPUs, NVLS %s (NCCL picked %s)" % (
                                         r["op"], n, "on" if r["nvls_enabled"] == "1" else "off",
                                         r["algo_nccl_picks"])))
    s.tables.append(("single sizes (8 GiB, nccl-tests)", table))
    result = compare_rows(w.compare("dgx-b200", "0-7", "all_reduce", "float", data,
                                    B200_VERSION + ["--launch-us", "%.1f" % gap]))
    s.tables.append(("all_reduce curve, 8 GPUs (all_reduce_bench.py, NCCL's choice, launch overhead %.1f us)" % gap,
                     result))
    return s


VLLM_HOPPER = "vLLM's kernel benchmark, NCCL under CUDA graphs, H100-class"
VLLM_BLACKWELL = "vLLM's kernel benchmark, NCCL under CUDA graphs, B200 and B300"
VLLM_SETUP = ("`--topology %s --gpus 0-(n-1)`, bfloat16, launch overhead 0 (kernel times: ten calls captured in a "
              "CUDA graph and replayed back to back), NCCL's own choice; NCCL version not stated (the newest "
              "modelled)")
VLLM_NOTES = ("vLLM's `benchmarks/kernels/benchmark_device_communicators.py` as its pull requests list it "
              "(`docs/validation/data/vllm_allreduce_kernels.csv` names them and says which rows survive; "
              "`docs/validation/engine_collectives.md` sets the engine kernels of the same tables beside NCCL): one "
              "all-reduce of tokens x 8192 bf16 values, timed to a microsecond.")


def vllm_nccl_system(blackwell):
    def build(w):
        name = VLLM_BLACKWELL if blackwell else VLLM_HOPPER
        topology = "dgx-b200" if blackwell else "dgx-h100"
        notes = VLLM_NOTES + (
            " Held out: nothing was set from these tables; the B300 (SM 10.3) is modelled as a B200 "
            "(`dgx-b200`), and the B300 table's world size (6 or 8) is not in the part read: run as 8."
            if blackwell else
            " Held out: nothing was set from these tables; they check the NVLS fill and step synchronisation "
            "fitted on the ml-engineering H200 curve, timed here without a launch, on 8 GPUs and on 6 (whose 96 "
            "operations step 1.5 MiB at a time). Whether the SM 9.0 GPUs of PR #42324 are H100 or H200 is not "
            "stated in the part read.")
        s = System(name, "vllm_allreduce_kernels.csv (kernel pynccl)", VLLM_SETUP % topology, notes)
        tables = {}
        for r in read_csv("vllm_allreduce_kernels.csv"):
            if r["kernel"] != "pynccl" or r["gpu"].startswith("B") != blackwell:
                continue
            tables.setdefault((int(r["pr"]), r["gpu"], int(r["world_size"])), []).append(
                (int(r["size_bytes"]), float(r["time_ms"]) * 1000))
        for (pr, gpu, n), data in sorted(tables.items()):
            result = w.compare(topology, "0-%d" % (n - 1), "all_reduce", "bfloat16", sorted(data),
                               ["--launch-us", "0"])
            s.tables.append(("PR #%d, %s, %d GPUs" % (pr, gpu, n), compare_rows(result)))
        return s
    return build


NCCLTESTS = [gcp_system, oci_system, coreweave_2node_system, oci_a100_2node_system, a100_system, oci_a100_1node_system, polaris_system, h200_system,
             issue1455_system, issues_two_node_system, b200_system, coreweave_nvl72_system, vllm_nccl_system(False), vllm_nccl_system(True)]


HOST = ("Measurement model: Vidur times rank 0's NCCL kernel while every rank's Python loop issues the calls back to "
        "back; a kernel that starts before the slowest rank has issued its call waits in the kernel for it, so no "
        "call reads less than the slowest host's time per call (`--call-interval-us`). The small rows show it: "
        "each size is either about the collective alone (7 us on H100 DGX pairs of GPUs, rank 0 being the last to "
        "call) or 20-60 us (the host's pace), not in between, and min, median and max of a size agree. The "
        "interval is one figure per machine, measured from those rows: the median time below 64 KiB over the "
        "machine's one-node tables (where the collective alone takes under 20 us), here %.1f us over %d rows; the "
        "rows below 1 MiB therefore check the form max(collective, interval) and the collective's own times from "
        "64 KiB up, not the interval itself. Without it `wiresim collective` predicts the kernel alone, which is "
        "what nccl-tests measures.")
VIDUR = [
    # (network_device, label, topology, extra arguments, notes, fitted, leave-one-out arguments, leave-one-out note
    # [, refit: System.refit])
    ("a100_dgx", "Vidur A100 DGX, one node", "vidur-a100-dgx-2node", [],
     "Fitted: the A100's NVLink step factor (3 x NCCL's per-step latencies, `docs/collectives.md` section 5) on "
     "the 8-GPU table; the ml-engineering 8x A100 table above and the A100 NVLink pairs below are predictions. "
     "The 2-GPU rows are 14-40% slower than predicted from 1 to 64 MiB, and 12% slower at 64 MiB than the same "
     "2-GPU all-reduce over the NVLink bridge of the A100 pairs machine, which the model predicts within 5%: "
     "nothing in the topology tells the two apart, so this table misses.",
     "A100 NVLink step factor 3 (the 8-GPU table)", None,
     "refitted on the other machines' A100 NVLink tables (8x A100 SXM, NVSwitch; the two OCI BM.GPU4.8 tables; "
     "ALCF Polaris; "
     "Vidur 4x A100 PCIe, NVLink pairs; Vidur's two-node tables are this machine's)",
     (("sm80_nvlink_step_factor",), [(1 + 0.5 * k,) for k in range(11)],
      ["8x A100 SXM, NVSwitch", "OCI 2x8 A100 SXM4 40GB (BM.GPU4.8), RoCE",
       "OCI 8x A100 SXM4 40GB (BM.GPU4.8), one node, -g 8", "ALCF Polaris, 4x A100 SXM4 40GB, NVLink mesh",
       "Vidur 4x A100 PCIe, NVLink pairs (Azure NC96ads A100 v4)"])),
    ("a100_dgx", "Vidur A100 DGX, two nodes", "vidur-a100-dgx-2node", [],
     "Fitted: Vidur does not say how its nodes were networked; `topologies/vidur-a100-dgx-2node.toml` reads it "
     "from the profile. Its 50 Gb/s per GPU comes from the 2-rank, 1-per-node rows (which therefore agree by "
     "construction) and its 15 us of network links per route from the same table's rows below 64 KiB. With 8 per "
     "node the profile plateaus at 17.5 GB/s, below the 22.4 that 4 per node reach, so a node's GPUs share one "
     "uplink rather than a NIC each; the uplink's 200 Gb/s is the smallest standard rate the 4-per-node plateau "
     "allows (set from that plateau). The 2- and 8-per-node tables are predictions: the 8-per-node table's median "
     "|error| at 1-256 MiB is 32%, against 140% with a NIC of 50 Gb/s per GPU. It still reads less than the uplink "
     "gives (17.5 against 22 GB/s at 32-64 MiB), which no fixed set of links reproduces, and from 1 to 16 MiB about "
     "half what the model's LL128 gives (93% too fast even with LL128 off, `--proto ll,simple`): a per-message "
     "network cost the model does not have. The 4-per-node table is bimodal from 16 to 32 MiB (6 or 12 GB/s).",
     "the topology's 50 Gb/s per GPU, 200 Gb/s per node and 15 us per route between the nodes", None,
     "Vidur does not describe this network, so no other table could set it: not rerun"),
    ("h100_dgx", "Vidur H100 DGX", "dgx-h100", [],
     "Run as NCCL chooses, NVLS included: from 16 to 64 MiB the 8-GPU table's time grows by {slope:.2f} us per MiB "
     "(least squares over its {rows} rows there), a busbw of {busbw:.0f} GB/s at the margin, more than the 367 GB/s "
     "a ring reaches at 16 GiB on the same NVLink board (the ml-engineering 8x H200 node with NVLS off, above), and "
     "its times agree with vLLM's NVLS table of 8 SM 9.0 GPUs (PR #42324) within a median {agree} (section *One "
     "configuration measured twice*). Fitted: the ring's local copy (half a step, `docs/collectives.md` section 5) "
     "on the 2-GPU table; its 8-GPU table checks the NVLS fill and step synchronisation fitted on the "
     "ml-engineering H200 curve.", "ring local copy 0.5 of a step (the 2-GPU table)",
     ["--model-constant", "ring_local_copy=0"], "without this table rings have no local copy (0)"),
    ("a100_pairwise_nvlink", "Vidur 4x A100 PCIe, NVLink pairs (Azure NC96ads A100 v4)", "azure-nc96ads-a100-v4",
     [], "Predictions throughout: over the NVLink bridge the ring's local copy takes the 2-GPU busbw to 0.8 of the "
     "links' 240 GB/s (measured 195 at 512 MiB); across pairs the ring is PCIe-bound.", "none", None, ""),
    ("h100_pairwise_nvlink", "Vidur 4x H100 NVL, NVLink pairs", "h100-nvl-4gpu-pairs", [],
     "Predictions throughout, as for the A100 pairs.", "none", None, ""),
]


def host_interval(configs, device):
    """The machine's time per call: the median measured time below 64 KiB over its one-node tables."""
    times = [t for (dev, n, per_node), rows in configs.items() if dev == device and n == per_node
             for size, t in rows if size < 65536]
    return statistics.median(times), len(times)


def vidur_tables(configs, device, label):
    """The (ranks, ranks per node, --gpus, rows) of a Vidur machine's tables: one-node tables for a one-node label,
    multi-node ones for a "two nodes" label."""
    for (dev, n, per_node), data in sorted(configs.items()):
        nodes = n // per_node
        if dev != device or ("two nodes" in label) != (nodes > 1):
            continue
        gpus = ",".join("node%d:0-%d" % (k, per_node - 1) for k in range(nodes)) if nodes > 1 else \
            "0-%d" % (per_node - 1)
        yield n, per_node, gpus, sorted(data)


def vidur_configs(name="vidur_allreduce.csv"):
    """A Vidur table's rows by (network_device, num_workers, devices_per_node): [(size, median us)]."""
    configs = {}
    for r in read_csv(name):
        key = (r["network_device"], int(r["num_workers"]), int(r["devices_per_node"]))
        configs.setdefault(key, []).append((int(r["size_bytes"]), float(r["median_ms"]) * 1000))
    return configs


def marginal_rate(rows, n, lo, hi):
    """Least squares of time on size over the rows from lo to hi: (us per MiB, busbw at the margin in GB/s, rows)."""
    pts = [(size, t) for size, t in rows if lo <= size <= hi]
    mx = statistics.mean(size for size, _ in pts)
    my = statistics.mean(t for _, t in pts)
    slope = sum((size - mx) * (t - my) for size, t in pts) / sum((size - mx) ** 2 for size, _ in pts)  # us per byte
    return slope * MIB, BUSBW["all_reduce"](n) / (slope * 1e3), len(pts)


def vllm_hopper_8gpu():
    """vLLM PR #42324's NCCL table of 8 SM 9.0 GPUs: {size: us}."""
    return {int(r["size_bytes"]): float(r["time_ms"]) * 1000 for r in read_csv("vllm_allreduce_kernels.csv")
            if r["pr"] == "42324" and r["world_size"] == "8" and r["kernel"] == "pynccl" and r["gpu"] != "B200"}


def vidur_figures(configs, device):
    """The figures a machine's notes quote (Vidur's H100 DGX: its 8-GPU table's margin from 16 to 64 MiB and its
    agreement with vLLM's 8-GPU table)."""
    if device != "h100_dgx":
        return {}
    slope, busbw, rows = marginal_rate(sorted(configs[(device, 8, 8)]), 8, 16 * MIB, 64 * MIB)
    vidur = dict(configs[(device, 8, 8)])
    vllm = vllm_hopper_8gpu()
    d = [abs(vidur[x] - vllm[x]) / (vidur[x] + vllm[x]) for x in vllm if x in vidur and MIB <= x <= 256 * MIB]
    return {"slope": slope, "busbw": busbw, "rows": rows, "agree": pct(median(d))}


def vidur_builder(entry):
    device, label, topology, extra, notes, fitted, loo, loo_note = entry[:8]
    refit = entry[8] if len(entry) > 8 else None

    def build(w):
        configs = vidur_configs()
        interval, table = host_interval(configs, device)
        args = extra + VIDUR_VERSION + ["--call-interval-us", "%.1f" % interval]
        s = System(label, "vidur_allreduce.csv (network_device %s)" % device,
                   "`--topology %s`, `%s`; launch overhead 0 (Vidur records kernel times)" %
                   (topology, " ".join(args)), HOST % (interval, table) + " " +
                   notes.format(**vidur_figures(configs, device)),
                   multi_node="two nodes" in label, fitted=fitted, loo=loo, loo_note=loo_note, refit=refit)
        for n, per_node, gpus, data in vidur_tables(configs, device, label):
            result = w.compare(topology, gpus, "all_reduce", "half", data, ["--launch-us", "0"] + args)
            s.tables.append(("%d GPUs (%d per node)" % (n, per_node), compare_rows(result)))
        return s
    return build


# Vidur's profiles were committed on 2024-05-14 (microsoft/vidur e26eb8f, bee57da); NCCL's newest release then was
# 2.21.5 (2024-03-26).
VIDUR_VERSION = ["--nccl-version", "2.21.5"]

SENDRECV_SETUPS = [
    # (network_device, devices_per_node, machine, topology, --gpus)
    ("h100_dgx", 2, "H100 DGX", "dgx-h100", "0-1"),
    ("a100_dgx", 2, "A100 DGX", "vidur-a100-dgx-2node", "0-1"),
    ("a100_pairwise_nvlink", 2, "4x A100 PCIe, NVLink pairs", "azure-nc96ads-a100-v4", "0-1"),
    ("h100_dgx", 1, "H100 DGX", "dgx-h100-2node", "node0:0,node1:0"),
    ("a100_dgx", 1, "A100 DGX", "vidur-a100-dgx-2node", "node0:0,node1:0"),
]
SENDRECV_COMMON = (
    "Predictions throughout: nothing was fitted on these tables. Vidur times one send from rank 0 to rank 1 "
    "(torch.distributed, two processes) and records rank 0's kernel only, the sender's: `--op send`, a send alone in "
    "its NCCL group, where nccl-tests' sendrecv (the 8x A100 table above) has every rank send and receive at once. ")


def vidur_sendrecv_system(two_nodes):
    def build(w):
        data = vidur_configs("vidur_sendrecv.csv")
        setups = [x for x in SENDRECV_SETUPS if (x[1] == 1) == two_nodes]
        if two_nodes:
            name, notes, fitted = (
                "Vidur send/recv, two nodes (1 GPU each)",
                SENDRECV_COMMON +
                "The H100 pair (a DGX H100 with one 400 Gb/s NIC per GPU assumed; Vidur does not name the NIC) "
                "reaches 35.9 GB/s at 64 MiB, 0.72 of the NIC's line rate. NCCL keeps 2 channels x NCCL_STEPS 8 x "
                "128 KiB = 2 MiB in flight to a network peer up to 2.28 (`ncclTopoGetNchannels`, "
                "NCCL_P2P_NET_CHUNKSIZE), and each window after the first waits a Simple network step, NCCL's 14 us "
                "(`docs/collectives.md`, a network peer's window): 2 MiB / (2 MiB / 47 GB/s + 14 us) = 35.8 GB/s, "
                "with no constant fitted here; within 15% from 2 MiB up and 3% from 8 MiB. The profiles were "
                "committed on 2024-05-14, when NCCL's newest release was 2.21.5 (`--nccl-version 2.21.5`); from 2.29 "
                "a 400 Gb/s NIC gets 4 channels and the same pair would reach 40.6. An all-to-all keeps many "
                "peers' windows in flight and its NICs pace it (46-49 GB/s per CX-7, NCCL maintainers, refdata "
                "digest A). The A100 network is the one `vidur-a100-dgx-2node.toml` reads from the same machine's "
                "2-rank all-reduce rows (not these): 50 Gb/s per NIC and 15 us per route. A send leaves by its GPU's "
                "own NIC (`ncclTopoGetLocalNet` gives each of a PCIe switch's two GPUs one of its two NICs), so the "
                "model gives it what one NIC gave that all-reduce, less the window: 5.4 GB/s, where Vidur measured "
                "7.5-7.8 from 2 MiB up (25-30% more); the topology, read from the all-reduce, is what this table "
                "does not fit. Below 1 MiB the measured times have floors of 15-24 us, which the "
                "model, charging a point-to-point its links' and NCCL's step latencies and no kernel start-up, does "
                "not reach.",
                "none")
        else:
            name, notes, fitted = (
                "Vidur send/recv, pairs in one node",
                SENDRECV_COMMON +
                "The profiles were committed on 2024-05-14, when NCCL's newest release was 2.21.5 "
                "(`--nccl-version 2.21.5`). At 64 MiB a pair moves 348 GB/s on the H100 DGX and 228 on the A100 "
                "DGX, 0.77 and 0.76 of the NVLink line rate (450, 300 GB/s), where the model gives NCCL's NVLink "
                "efficiency, 364 and 232 GB/s (+5% and +1%; nothing slows a point-to-point beyond the links and "
                "its channels). NCCL gives an NVLink peer 2 channels per link's worth of path bandwidth "
                "(`ncclTopoGetNchannels`), so a pair has all the channels it can use. From 2 to 8 MiB the H100 "
                "pair ramps slower than the model (13-44% over): the few microseconds of kernel start-up the "
                "model does not charge (below). Over the A100 PCIe cards' NVLink bridge Vidur measures 286 GB/s, 0.95 of "
                "the bridge's 300: more than the A100's NCCL NVLink figure (20 of 25 GB/s per link) allows for "
                "data that has arrived, so there the sender's kernel likely ends before its last steps are "
                "received. Below 1 MiB NCCL splits a send over one p2p channel per 64 KiB (up to 16 for two "
                "ranks), each at the channel search's speed x 20 of 16 warps (25 GB/s on an A100, 37.5 on an "
                "H100; `docs/collectives.md`, point-to-point channels): a send of 64 to 512 KiB takes at least 1.7 us "
                "(H100) and 2.6 us (A100) of transfer, where the links alone gave 0.2-1.8 us. The measured times still have floors of 5-6 us (H100), 10-11 (A100 DGX) "
                "and 7 (A100 bridge) there; the model charges a send its channels' time, its links' and NCCL's "
                "step latencies (0.7-2 us at 10 KiB with no launch) and no kernel start-up, so the 8 KiB-1 MiB "
                "band misses by that floor.",
                "none")
        s = System(name, "vidur_sendrecv.csv", "`--op send`, " + "; ".join(
            "%s: `--topology %s --gpus %s`" % (m, t, g) for _, _, m, t, g in setups) +
            "; launch overhead 0 (Vidur records kernel times)", notes, multi_node=two_nodes, fitted=fitted)
        for device, per_node, machine, topology, gpus in setups:
            result = w.compare(topology, gpus, "send", "half", sorted(data[(device, 2, per_node)]),
                               ["--launch-us", "0"] + VIDUR_VERSION)
            s.tables.append(("%s, 2 GPUs (%d per node)" % (machine, per_node), compare_rows(result)))
        return s
    return build


BUILDERS = NCCLTESTS + [vidur_builder(v) for v in VIDUR] + [vidur_sendrecv_system(False),
                                                             vidur_sendrecv_system(True)]


def fmt_size(b):
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= scale:
            v = b / scale
            return ("%d %s" % (v, unit)) if v == int(v) else ("%.1f %s" % (v, unit))
    return "%d B" % b


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def pct(x):
    return "-" if x != x else "%.1f%%" % (100 * x)


def octave_rows(rows):
    """Vidur's ~1000 sizes per configuration, summarised per power-of-two band of sizes."""
    bands = {}
    for r in rows:
        band = 1 << (int(r["size"]).bit_length() - 1)
        bands.setdefault(band, []).append(r)
    out = []
    for band in sorted(bands):
        rs = bands[band]
        out.append({"band": band, "n": len(rs), "measured": median([r["measured"] for r in rs]),
                    "predicted": median([r["predicted"] for r in rs]),
                    "error": median([r["error"] for r in rs]), "abs": median([abs(r["error"]) for r in rs]),
                    "algo": statistics.mode([r["algo"] for r in rs])})
    return out


def band_cells(s):
    """The summary's cells for a system: rows and median |error| per band, then whether the targets are met."""
    cells, missed = [], []
    for (label, _, _, _, _), (errors, _, ok) in zip(BANDS, s.met()):
        cells += ["%d" % len(errors), pct(median(errors))]
        if not ok:
            missed.append(label)
    every = s.band(0, float("inf"))
    cells += ["%d" % len(every), pct(median(every))]
    if not any(errors for errors, _, _ in s.met()):
        cells.append("no rows in the bands")
    else:
        cells.append("met" if not missed else "**missed** (%s)" % ", ".join(missed))
    return " | ".join(cells)


# Pairs of tables that measure one configuration (all-reduce, the same GPUs and rank count): (what, table A, table
# B), each table as (short name, system name, table title).
VLLM_H100 = "vLLM's kernel benchmark, NCCL under CUDA graphs, H100-class"
AGREEMENT = [
    ("8 A100s on NVSwitch, `-g 8` on two machines and NCCL releases",
     ("ml-engineering", "8x A100 SXM, NVSwitch", "all_reduce, float (ml-engineering, -g 8)"),
     ("OCI one node", "OCI 8x A100 SXM4 40GB (BM.GPU4.8), one node, -g 8", "all_reduce, float (ocitutorials, -g 8)")),
    ("8 A100s on NVSwitch, nccl-tests `-g 8` and Vidur's kernel times",
     ("ml-engineering", "8x A100 SXM, NVSwitch", "all_reduce, float (ml-engineering, -g 8)"),
     ("Vidur A100 DGX", "Vidur A100 DGX, one node", "8 GPUs (8 per node)")),
    ("4 Hopper GPUs on NVSwitch, vLLM's CUDA-graph times on two machines",
     ("vLLM PR #24111", VLLM_H100, "PR #24111, H100, 4 GPUs"),
     ("vLLM PR #24532", VLLM_H100, "PR #24532, unstated, 4 GPUs")),
    ("4 H100s on NVSwitch, vLLM's CUDA-graph times and Vidur's kernel times",
     ("vLLM PR #24111", VLLM_H100, "PR #24111, H100, 4 GPUs"),
     ("Vidur H100 DGX", "Vidur H100 DGX", "4 GPUs (4 per node)")),
    ("8 Hopper GPUs on NVSwitch, vLLM's CUDA-graph times and Vidur's kernel times",
     ("vLLM PR #42324", VLLM_H100, "PR #42324, SM 9.0 (H100 or H200, unstated), 8 GPUs"),
     ("Vidur H100 DGX", "Vidur H100 DGX", "8 GPUs (8 per node)")),
]


def agreement_rows(systems):
    """Per pair and band: the sizes both tables measured, the median over them of the least error one prediction can
    have on both (|tA - tB| / (tA + tB)), and the model's median |error| on each table over the same sizes."""
    tables = {(s.name, title): rows for s in systems for title, rows in s.tables}
    out = []
    for what, a, b in AGREEMENT:
        ra = {r["size"]: r for r in tables[a[1:]]}
        rb = {r["size"]: r for r in tables[b[1:]]}
        cells = []
        for _, lo, hi, _, _ in BANDS:
            common = sorted(size for size in ra if size in rb and lo <= size <= hi)
            floor = [abs(ra[x]["mtime"] - rb[x]["mtime"]) / (ra[x]["mtime"] + rb[x]["mtime"]) for x in common]
            cells.append((len(common), median(floor), median([abs(ra[x]["error"]) for x in common]),
                          median([abs(rb[x]["error"]) for x in common])))
        out.append((what, a, b, cells))
    return out


def report(systems, command, a100=None):
    out = io.StringIO()
    w = out.write
    w("# Collectives: predicted against measured\n\n")
    w("Generated by `%s` from the measurements copied into `docs/validation/data/` (each file names its source: a\n"
      "file of `../shared/refdata/`, or for the two CoreWeave systems a public repository). Do not edit by hand:\n"
      "rerun the script.\n\n" % command)
    w("Each measured table is written out as an nccl-tests log and given to `wiresim collective --compare LOG`; the\n"
      "predictions are the command's closed form with NCCL's own algorithm choice unless a system says otherwise.\n"
      "**error = predicted busbw / measured busbw - 1** (equivalently measured time / predicted time - 1), with the\n"
      "measured busbw recomputed from the measured time. Targets, per system: median |error| within 10% from 1 to\n"
      "256 MiB on one node and within 15% across nodes, and within 20% from 8 KiB to 1 MiB (rows outside both bands\n"
      "are shown, not targeted). How each figure of the model is set is in `docs/collectives.md`; the column *fitted\n"
      "here* names the model's constants fitted on the system's own tables: a system whose column says none is a\n"
      "prediction.\n\n")
    w("## Summary\n\n")
    w("| system | nodes | rows 1-256 MiB | median abs. error | rows 8 KiB-1 MiB | median abs. error | all rows | "
      "median abs. error | targets | fitted here |\n")
    w("|---|---|---:|---:|---:|---:|---:|---:|---|---|\n")
    for s in systems:
        w("| %s | %s | %s | %s |\n" % (s.name, "several" if s.multi_node else "one", band_cells(s), s.fitted))
    w("\n## Leave one system out\n\n")
    w("Each system predicted again without its own tables: a constant fitted on them is refitted on the other\n"
      "systems' tables where those measure it (fit on all but one, predict it), and otherwise set to what the model\n"
      "has without them; every other constant is NCCL's, a datasheet's, or fitted on another system, and stays. A\n"
      "system with nothing fitted on it is its own leave-one-out prediction. The host interval of Vidur's machines\n"
      "and the host time before each call of the ml-engineering H200 curve are properties of each measurement (read\n"
      "from its own small rows), not of the model, and stay.\n\n")
    w("| system | fitted here | left out | rows 1-256 MiB | median abs. error | rows 8 KiB-1 MiB | median abs. error | "
      "all rows | median abs. error | targets |\n")
    w("|---|---|---|---:|---:|---:|---:|---:|---:|---|\n")
    for s in systems:
        if s.fitted == "none":
            how, src = "nothing to leave out", s
        elif s.left_out is None:
            how, src = s.loo_note + "; the figures are the fitted model's", s
        else:
            how, src = s.loo_note, s.left_out
        w("| %s | %s | %s | %s |\n" % (s.name, s.fitted, how, band_cells(src)))
    w("\n## One configuration measured twice\n\n")
    w("Where two tables measure the same all-reduce on the same GPUs and rank count, their disagreement bounds what\n"
      "any model can reach on both. At a size measured as tA and tB, one prediction is within d = |tA - tB| / (tA +\n"
      "tB) of both (the mean of the two) and no closer: where d is above a target, no prediction meets it on both\n"
      "tables at that size. *Floor* is the median of d over the sizes both tables have in the band; *model A* and\n"
      "*model B* are the model's median |error| on each table over those sizes, each table predicted with its own\n"
      "setup (its section below).\n\n")
    w("| configuration | table A | table B | band | sizes in both | floor | model A | model B |\n")
    w("|---|---|---|---|---:|---:|---:|---:|\n")
    for what, a, b, cells in agreement_rows(systems):
        for (label, _, _, _, _), (n, floor, ea, eb) in zip(BANDS, cells):
            if n:
                w("| %s | %s | %s | %s | %d | %s | %s | %s |\n" % (what, a[0], b[0], label, n, pct(floor), pct(ea),
                                                                  pct(eb)))
    if a100:
        w("\n## The A100's step factor per protocol\n\n")
        w("The seven A100 systems predicted again with the A100's NVLink step factor (`docs/collectives.md` section 5)\n"
          "set per protocol, the same on every machine, over LL %s x LL128 %s x Simple %s: *met* counts the systems\n"
          "meeting both targets, and each cell gives a system's 1-256 MiB and 8 KiB-1 MiB medians (**bold** where it\n"
          "meets both). These settings are fitted on every A100 table at once, so none of them is a prediction: the\n"
          "grid shows how far this mechanism reaches on these tables. The %d best settings and the model's own (%s)\n"
          "are listed; the best meets %d of the %d systems, the model's %d.\n\n" % (
              "/".join("%g" % v for v in sorted({g[0] for g in A100_GRID})),
              "/".join("%g" % v for v in sorted({g[1] for g in A100_GRID})),
              "/".join("%g" % v for v in sorted({g[2] for g in A100_GRID})), A100_SHOWN,
              ", ".join("%g" % v for v in A100_SHIPPED), a100[0][0], len(A100_SYSTEMS),
              next(r[0] for r in a100 if r[2] == A100_SHIPPED)))
        w("| LL | LL128 | Simple | met | %s |\n" % " | ".join(A100_SYSTEMS))
        w("|---:|---:|---:|---:|%s\n" % ("---|" * len(A100_SYSTEMS)))
        shown = a100[:A100_SHOWN] + [r for r in a100[A100_SHOWN:] if r[2] == A100_SHIPPED]
        for met, _, values, cells in shown:
            tag = " (the model)" if values == A100_SHIPPED else ""
            w("| %g | %g | %g%s | %d | %s |\n" % (values + (tag, met) + (" | ".join(
                ("**%s / %s**" if ok else "%s / %s") % (pct(b) if b is not None else "-",
                                                       pct(s8) if s8 is not None else "-")
                for b, s8, ok in cells),)))
    for s in systems:
        w("\n## %s\n\n" % s.name)
        w("Measured: `docs/validation/data/%s`. Setup: %s.\n" % (s.source, s.setup))
        if s.notes:
            w("\n%s\n" % s.notes)
        for title, rows in s.tables:
            w("\n### %s\n\n" % title)
            if len(rows) > 40:
                w("%d sizes, summarised per band of sizes [2^k, 2^(k+1)): medians over the band.\n\n" % len(rows))
                w("| sizes from | rows | measured busbw | predicted busbw | error | abs. error | algorithm |\n")
                w("|---:|---:|---:|---:|---:|---:|---|\n")
                for b in octave_rows(rows):
                    w("| %s | %d | %.2f | %.2f | %s | %s | %s |\n" % (fmt_size(b["band"]), b["n"], b["measured"],
                                                                  b["predicted"], pct(b["error"]), pct(b["abs"]),
                                                                  b["algo"]))
            else:
                w("| size | measured busbw (GB/s) | predicted busbw (GB/s) | error | algorithm |%s\n" %
                  (" case |" if "label" in rows[0] else ""))
                w("|---:|---:|---:|---:|---|%s\n" % ("---|" if "label" in rows[0] else ""))
                for r in rows:
                    w("| %s | %.2f | %.2f | %s | %s |%s\n" % (fmt_size(r["size"]), r["measured"], r["predicted"],
                                                            pct(r["error"]), r["algo"],
                                                            (" %s |" % r["label"]) if "label" in r else ""))
    return out.getvalue()


def refit(s, build, builders, binary):
    """Leave s out: fit its constants on the other systems s.refit names (`builders`: each system's builder by
    name), then predict s with those values."""
    constants, values, others = s.refit
    fits = []
    for vs in values:
        setting = constant_setting(constants, vs)
        medians = [median(builders[name](Wiresim(binary, setting)).met()[0][0]) for name in others]
        fits.append((statistics.mean(medians), vs))
    best, vs = min(fits)  # ties: the smaller values
    s.left_out = build(Wiresim(binary, constant_setting(constants, vs)))
    tried = ", ".join("%s %g to %g" % (name, min(v[k] for v in values), max(v[k] for v in values))
                      for k, name in enumerate(constants))
    whose, averaged = ("their", " on average") if len(others) > 1 else ("its", "")
    s.loo_note += ": %s (%s 1-256 MiB median %s%s; tried %s)" % (
        ", ".join("%s = %g" % (name, v) for name, v in zip(constants, vs)), whose, pct(best), averaged, tried)


# The A100's NVLink step factor per protocol (docs/collectives.md section 5), tried over a grid on every A100 table
# at once: what that mechanism can reach, not a fit the model takes.
A100_SYSTEMS = ["8x A100 SXM, NVSwitch", "OCI 2x8 A100 SXM4 40GB (BM.GPU4.8), RoCE",
                "OCI 8x A100 SXM4 40GB (BM.GPU4.8), one node, -g 8", "ALCF Polaris, 4x A100 SXM4 40GB, NVLink mesh",
                "Vidur A100 DGX, one node", "Vidur A100 DGX, two nodes",
                "Vidur 4x A100 PCIe, NVLink pairs (Azure NC96ads A100 v4)"]
A100_FACTORS = ("sm80_nvlink_step_factor_ll", "sm80_nvlink_step_factor_ll128", "sm80_nvlink_step_factor_simple")
A100_GRID = [(ll, ll128, simple) for ll in (1, 2, 3) for ll128 in (1, 2, 3) for simple in (2, 3, 4, 5)]
A100_SHIPPED = (3, 3, 3)
A100_SHOWN = 8  # the best settings listed, and the shipped one


def a100_grid(builders, binary):
    """Per setting of A100_GRID: (systems meeting both targets, mean of the 1-256 MiB medians, the setting, each
    A100 system's (1-256 MiB median, 8 KiB-1 MiB median, met)), best first."""
    def one(values):
        w = Wiresim(binary, constant_setting(A100_FACTORS, values))
        cells = []
        for name in A100_SYSTEMS:
            bands = builders[name](w).met()
            cells.append(tuple(median(e) if e else None for e, _, _ in bands) + (all(m for _, _, m in bands),))
        big = [c[0] for c in cells if c[0] is not None]
        return (sum(c[2] for c in cells), statistics.mean(big), values, cells)

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        rows = list(pool.map(one, A100_GRID))
    return sorted(rows, key=lambda r: (-r[0], r[1], r[2]))


def nvls_joint_fit(binary):
    """The NVLS fill and step synchronisation fitted on all three tables of NVLS on 8 Hopper GPUs (the ml-engineering
    H200 curve, vLLM PR #42324's 8-GPU table, Vidur's H100 DGX 8-GPU table), each weighed by its mean |error| over
    its NVLS rows, on the curve's grid. Printed, not shipped (docs/collectives.md section 8): the values, each
    table's NVLS errors with them and with the shipped ones."""
    data = h200_curve_data()
    gap = h200_host_time(Wiresim(binary), data)
    configs = vidur_configs()
    interval, _ = host_interval(configs, "h100_dgx")
    vllm8 = sorted(vllm_hopper_8gpu().items())

    def tables(values):
        w = Wiresim(binary, constant_setting(NVLS_FIT, values))
        return [("ml-engineering H200 curve", h200_curve(w, gap)[1]),
                ("vLLM PR #42324, 8 GPUs", compare_rows(w.compare("dgx-h100", "0-7", "all_reduce", "bfloat16", vllm8,
                                                                   ["--launch-us", "0"]))),
                ("Vidur H100 DGX, 8 GPUs", compare_rows(w.compare(
                    "dgx-h100", "0-7", "all_reduce", "half", sorted(configs[("h100_dgx", 8, 8)]),
                    ["--launch-us", "0", "--call-interval-us", "%.1f" % interval])))]

    def score(named):
        return statistics.mean(statistics.mean(abs(r["error"]) for r in rows if r["algo"].startswith("NVLS/"))
                               for _, rows in named)

    best = min((score(tables(v)), v) for v in NVLS_GRID)
    for label, values in (("joint fit", best[1]), ("shipped", NVLS_DEFAULT)):
        named = tables(values)
        print("%s: nvls_fill_steps = %g, nvls_step_sync_us = %g (mean over the tables %s)" %
              ((label,) + values + (pct(score(named)),)))
        for name, rows in named:
            # Vidur's ~1000 sizes as band medians, the other tables row by row; from 1 MiB.
            shown = [(b["band"], b["error"]) for b in octave_rows(rows)] if len(rows) > 40 else \
                [(r["size"], r["error"]) for r in rows]
            print("  %-28s %s" % (name, " ".join("%s %+.1f%%" % (fmt_size(size), 100 * e)
                                                 for size, e in shown if size >= MIB)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wiresim", default=os.path.join(ROOT, "build", "sim", "app", "wiresim"))
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "validation", "collectives.md"))
    parser.add_argument("--nvls-joint-fit", action="store_true",
                        help="print the NVLS constants fitted on the three 8-GPU Hopper NVLS tables, and stop")
    args = parser.parse_args()
    if not os.access(args.wiresim, os.X_OK):
        sys.exit("no wiresim binary at %s (build it, or pass --wiresim)" % args.wiresim)
    if args.nvls_joint_fit:
        nvls_joint_fit(args.wiresim)
        return
    w = Wiresim(args.wiresim)
    built = [(build, build(w)) for build in BUILDERS]
    builders = {s.name: build for build, s in built}
    for build, s in built:
        if s.loo is not None:
            s.left_out = build(Wiresim(args.wiresim, s.loo))
        elif s.refit is not None:
            refit(s, build, builders, args.wiresim)
    systems = [s for _, s in built]
    best, values = nvls_curve_fit(args.wiresim)
    if values != NVLS_DEFAULT:
        print("warning: the grid's best NVLS fill and step synchronisation on the H200 curve are %g steps and %g us "
              "(mean |error| %s), not the model's %g and %g" % (values + (pct(best),) + NVLS_DEFAULT), file=sys.stderr)
    text = report(systems, "python3 tools/validate_collectives.py", a100_grid(builders, args.wiresim))
    with open(args.out + ".tmp", "w") as f:
        f.write(text)
    os.replace(args.out + ".tmp", args.out)
    for s in systems:
        (big, _, _), (small, _, _) = s.met()
        print("%-60s 1-256MiB %6s (%4d rows)   8KiB-1MiB %6s (%4d rows)" % (
            s.name, pct(median(big)), len(big), pct(median(small)), len(small)))


if __name__ == "__main__":
    main()
