#!/usr/bin/env python3
"""The EP dispatch/combine all-to-all wiresim's step graph holds for DeepEP's benchmark settings, next to what
DeepEP's README reports (docs/validation/data/deepep_ep_alltoall.csv, copied from ../shared/refdata/). Prints the
markdown table docs/validation/serving.md shows. Standard library only.

    python3 tools/validate_deepep.py [--wiresim build/sim/app/wiresim] [--write]

Each row runs `wiresim model show` on DeepSeek-V3's MoE layer as DeepEP's tests route it (tests/test_intranode.py,
tests/test_internode.py at DeepEP de8cfca): 4096 tokens per rank for the normal kernels (a prefill batch: a token
goes once to each rank holding one of its experts, and across nodes once to each node, forwarded over NVLink there)
and 128 for the low-latency ones (a decode batch: a row per copy), top-8 of 256 experts, and for the internode test
the groups are the nodes, of which a token's experts lie in min(nodes, 4). The plan is dp = ep = EP, tp = 1, on EP/8
nodes of an H800-like DGX (the shipped DGX H100 with 8 NVLink4 links per GPU instead of 18, one CX7 400 Gb/s NIC per
GPU on a non-blocking rail-optimised fabric), and the row is the step graph's ep_dispatch or ep_combine time.

DeepEP reports a bandwidth for its normal kernels, its bytes over the kernel time; the bytes are defined in its
tests, so the time is recovered exactly: intranode, the tokens a rank receives (from every rank, itself included) x
the bytes of a row; internode, num_rdma_token_sent (a token's distinct nodes, its own included) x the bytes of a row.
A row is 7168 x (1 + 4/128) bytes in fp8 with its scales (dispatch), 7168 x 2 in bf16 (combine). The expected counts
under uniform routing are computed here in closed form. Low-latency rows are kernel times. error = wiresim time /
DeepEP time - 1 (negative: wiresim predicts it faster).
"""
import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
from math import comb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "docs", "validation", "data", "deepep_ep_alltoall.csv")
HIDDEN, TOP_K, EXPERTS = 7168, 8, 256
DISPATCH_ROW = HIDDEN + (HIDDEN // 128) * 4  # fp8 + fp32 scales per 128 elements
COMBINE_ROW = HIDDEN * 2                     # bf16


def h800_topology(nodes):
    """dgx-h100.toml with 8 NVLink links per GPU (2 to each NVSwitch), `nodes` of them on a rail-optimised fabric."""
    with open(os.path.join(ROOT, "topologies", "dgx-h100.toml")) as f:
        text = f.read()
    text = text[: text.rindex("\n[[host]]")]
    blocks = text.split("\n  [[template.link]]")
    for i, b in enumerate(blocks):
        if 'preset = "nvlink4"' in b:
            blocks[i] = re.sub(r"count = \d+", "count = 2", b)
    text = "\n  [[template.link]]".join(blocks)
    text = re.sub(r'^name = "dgx-h100"', 'name = "h800-like-%dnode"' % nodes, text, count=1, flags=re.M)
    text += '\n[[host]]\ntemplate = "dgx-h100"\nname = "node"\ncount = %d\n' % nodes
    if nodes > 1:
        text += ('\n[[fabric]]\nkind = "rail_optimized"\nname = "ib"\npreset = "ndr"\nradix = 64\n'
                 'leaf_down_ports = 32\noversubscription = 1.0\n')
    return text


def test_model(groups, picked):
    """deepseek-v3.toml routed as DeepEP's test routes it (n_group, topk_group), with 4 layers, all MoE: the
    exchange of one layer is what is compared, and the weights then fit on 8 GPUs."""
    with open(os.path.join(ROOT, "workloads", "models", "deepseek-v3.toml")) as f:
        text = f.read()
    for key, value in (("name", '"deepseek-v3-deepep-test"'), ("num_hidden_layers", "4"),
                       ("first_k_dense_replace", "0"), ("num_nextn_predict_layers", "0"), ("n_group", str(groups)),
                       ("topk_group", str(picked))):
        text = re.sub(r"^%s = .*$" % key, "%s = %s" % (key, value), text, count=1, flags=re.M)
    return text


def none_of(items, held):
    """C(items - held, 8) / C(items, 8): the chance a token's 8 experts, drawn from `items`, avoid `held` of them."""
    return comb(items - held, TOP_K) / comb(items, TOP_K)


def deepep_rows(ep):
    """DeepEP's rows per token for its normal kernels' bandwidth (module docstring): intranode, the tokens a rank
    receives per token of a rank, EP x P(a rank is hit); internode, the nodes a token reaches. Its test routes a
    token into min(nodes, 4) of the nodes (groups), uniformly, then to 8 of those nodes' experts."""
    nodes = ep // 8
    if nodes == 1:
        return ep * (1 - none_of(EXPERTS, EXPERTS // ep))
    picked = min(nodes, 4)
    per_node = EXPERTS // nodes
    # nodes x P(a node is picked, picked / nodes) x P(one of the 8 lands on it among the picked nodes' experts)
    return picked * (1 - none_of(picked * per_node, per_node))


def step_times(wiresim, tmp, ep, tokens, kernels):
    """The step graph's first MoE layer's (dispatch, combine) times in us for rank 0."""
    nodes = max(1, ep // 8)
    topo = os.path.join(tmp, "h800-%d.toml" % nodes)
    if not os.path.exists(topo):
        with open(topo, "w") as f:
            f.write(h800_topology(nodes))
    groups = nodes if kernels == "normal" and nodes > 1 else 1
    model = os.path.join(tmp, "deepseek-v3-%d-%d.toml" % (groups, min(groups, 4)))
    with open(model, "w") as f:
        f.write(test_model(groups, min(groups, 4)))
    batch = "prefill=1x%d" % tokens if kernels == "normal" else "decode=%dx1024" % tokens
    out = subprocess.run([wiresim, "model", "show", model, "--topology", topo, "--plan", "dp=%d,ep=%d" % (ep, ep),
                          "--batch", batch, "--ep-exchange", "alltoall", "--json"],
                         check=True, capture_output=True, text=True).stdout
    rows = json.loads(out)["step_graph"]["rows"]
    first = {}
    for r in rows:
        if r["op"] in ("ep_dispatch", "ep_combine") and r["op"] not in first:
            first[r["op"]] = r["time_us"]
    return first["ep_dispatch"], first["ep_combine"]


HEADING = "## 10. DeepEP: MoE dispatch and combine all-to-all, EP 8 to 64 (H800, not NCCL's kernels)"

INTRO = """Generated by `tools/validate_deepep.py` (which `tools/validate_serving.py` runs after the sections above); not
in the summary, which compares serving runs. The step graph's EP all-to-all (docs/serving.md, wide expert
parallelism) against DeepEP's published kernel figures (`../shared/refdata/deepseek_deepep_ep_alltoall_measurements.md`;
the rows used are in `docs/validation/data/deepep_ep_alltoall.csv`).

Setting: each row is `wiresim model show` of DeepSeek-V3's MoE layer routed as DeepEP's own tests route it
(`tests/test_intranode.py`, `tests/test_internode.py`: top-8 of 256 experts; across nodes the groups are the nodes
and a token's experts lie in min(nodes, 4) of them), plan dp = ep = EP, tp = 1, every rank 4096 tokens in a prefill
batch (the normal kernels: a token goes once to each rank holding one of its experts, and across nodes once to each
node, forwarded over NVLink there) or 128 in a decode batch (the low-latency kernels: a row per copy), on EP/8
nodes of an H800-like DGX: the shipped DGX H100 with 8 NVLink4 links per GPU instead of 18 (H800 SXM: 400 GB/s
NVLink bidirectional; DeepSeek quotes ~160 GB/s achievable per direction) and one CX7 400 Gb/s NIC per GPU on a
non-blocking rail-optimised fabric, as DeepEP's testbed. The wiresim column is the step graph's ep_dispatch or
ep_combine time. DeepEP reports a bandwidth for its normal kernels, bytes it defines in its tests over the kernel
time, so the time is recovered exactly: intranode, the rows a rank receives (from every rank, its own included,
EP x 4096 x P(a rank is hit)); internode, `num_rdma_token_sent` (4096 x the nodes a token reaches, its own
included); a row is 7,392 bytes in the dispatch (fp8 and a scale per 128 elements) and 14,336 in the combine (bf16).
Low-latency rows are kernel times. Error = wiresim time / DeepEP time - 1 (negative: wiresim is faster).
"""

OUTRO = """
**What the rows show.** Across nodes the normal kernels send a token once per node it reaches, to the GPU of the
sender's index there, which forwards it over NVLink (`docs/serving.md`, wide expert parallelism); the step graph
sends the same rows. DeepEP's bandwidth counts every node a token reaches, its own included, so its 43-58 GB/s
"RDMA" figures are not what a NIC carries: at EP 16 a token crosses to the other node 0.9965 times, 30 MB per rank
in 1.4 ms, 22 GB/s per NIC, while each GPU's NVLink carries 14 x 0.408 forwarded or local rows per token (172 MB,
123 GB/s): two nodes are bound by the NVLink forwarding, not by the NIC. At EP 32 and 64 a NIC carries 82 and 96 MB
at 44-45 GB/s, 87-89% of its 50: NIC-bound, as wiresim gives it. Inside one node (EP 8) the normal kernels' 153-158
GB/s is close to the NVLink rate wiresim gives any point-to-point (8 links x 25 GB/s x NCCL's 0.824, 164.8 GB/s;
DeepSeek quotes ~160 achievable). The routing is taken as uniform inside the picked groups, where DeepEP's test
picks the groups by their largest score, which makes a picked group likelier to hold one of the 8: at EP 64 wiresim
sends a token to 3.62 nodes where no more than 4 can be reached. The low-latency kernels send each copy point to
point (over NVLink inside a node since DeepEP PR #173), like the all-to-all wiresim times; wiresim's times are
shorter, most at EP 8 and least at EP 64, where the NIC's share of the bytes dominates both.
"""


def section(wiresim):
    """The report section, as markdown text."""
    with open(DATA) as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    out = [HEADING, "", INTRO,
           "| kernels | tokens | EP | op | DeepEP | DeepEP time (us) | wiresim time (us) | error |",
           "|---|--:|--:|---|--:|--:|--:|--:|"]
    errors = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in rows:
            ep, tokens = int(r["ep"]), int(r["tokens"])
            times = step_times(wiresim, tmp, ep, tokens, r["kernels"])
            for t, row_bytes, op, measured in ((times[0], DISPATCH_ROW, "dispatch", r["dispatch_value"]),
                                               (times[1], COMBINE_ROW, "combine", r["combine_value"])):
                if r["unit"] == "us":
                    deepep_us = float(measured)
                else:
                    deepep_us = tokens * deepep_rows(ep) * row_bytes / (float(measured) * 1e3)
                err = t / deepep_us - 1
                errors.append(abs(err))
                out.append("| %s | %d | %d | %s | %s %s | %.1f | %.1f | %+.0f%% |" % (
                    r["kernels"].replace("_", "-"), tokens, ep, op, measured, r["unit"], deepep_us, t, 100 * err))
    errors.sort()
    out.append("")
    out.append("Median |error| %.0f%% over %d rows." % (100 * errors[len(errors) // 2], len(errors)))
    out.append(OUTRO)
    return "\n".join(out)


def write_section(wiresim, report):
    """Replaces this section in `report` (from its heading to the end), or appends it."""
    with open(report) as f:
        text = f.read()
    if HEADING in text:
        text = text[: text.index(HEADING)]
    text = text.rstrip("\n") + "\n\n" + section(wiresim)
    with open(report, "w") as f:
        f.write(text.rstrip("\n") + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wiresim", default=os.path.join(ROOT, "build", "sim", "app", "wiresim"))
    ap.add_argument("--write", action="store_true", help="put the section into docs/validation/serving.md")
    args = ap.parse_args()
    if args.write:
        write_section(args.wiresim, os.path.join(ROOT, "docs", "validation", "serving.md"))
    else:
        print(section(args.wiresim))
    return 0


if __name__ == "__main__":
    sys.exit(main())
