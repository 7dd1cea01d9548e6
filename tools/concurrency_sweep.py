#!/usr/bin/env python3
"""Closed-loop concurrency sweep of one deployment: runs `wiresim run --rate inf --max-concurrency C --json` for
each C and prints a markdown table of throughput per GPU against TTFT and TPOT (median and p99).

Every argument after `--` goes to `wiresim run` unchanged (a scenario file, --topology, --plan, ...). Each point
sends max(--min-requests, --requests-per-slot x C) requests: a closed loop's throughput counts the drain at the
end, when fewer than C requests are left (ShareGPT's outputs have a long tail), and the more requests per slot, the
smaller that share of the run. The table says how many were sent.

  python3 tools/concurrency_sweep.py -- docs/examples/concurrency-sweep/llama70b-tp8.toml
  python3 tools/concurrency_sweep.py --wiresim build/sim/app/wiresim --concurrency 1,8,64 -- --plan tp=4,dp=2

Python 3 standard library only.
"""
import argparse
import json
import subprocess
import sys


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Closed-loop concurrency sweep of `wiresim run`, printed as a markdown table.",
        epilog="Arguments after -- are passed to `wiresim run` (a scenario file, flags).")
    parser.add_argument("--wiresim", default="wiresim", help="the wiresim binary (default: wiresim on PATH)")
    parser.add_argument("--concurrency", default="1,2,4,8,16,32,64,128,256",
                        help="comma-separated --max-concurrency values (default: 1,2,4,...,256)")
    parser.add_argument("--min-requests", type=int, default=500,
                        help="fewest requests per point (default: 500)")
    parser.add_argument("--requests-per-slot", type=int, default=32,
                        help="requests per unit of concurrency (default: 32)")
    if "--" in argv:
        split = argv.index("--")
        ours, theirs = argv[:split], argv[split + 1:]
    else:
        ours, theirs = argv, []
    args = parser.parse_args(ours)
    try:
        args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    except ValueError:
        parser.error(f"--concurrency: expected integers separated by commas, got {args.concurrency!r}")
    if not args.concurrency or min(args.concurrency) < 1:
        parser.error("--concurrency: every value must be at least 1")
    return args, theirs


def run_point(args, passthrough, concurrency):
    requests = max(args.min_requests, args.requests_per_slot * concurrency)
    # The sweep's own flags come last so that they override the scenario file and anything passed through.
    command = [args.wiresim, "run", *passthrough, "--rate", "inf", "--max-concurrency", str(concurrency),
               "--requests", str(requests), "--json", "--quiet"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"concurrency_sweep: `{' '.join(command)}` exited {result.returncode}:\n{result.stderr}")
    try:
        summary = json.loads(result.stdout)
    except json.JSONDecodeError as e:
        sys.exit(f"concurrency_sweep: `{' '.join(command)}` did not print JSON ({e})")
    return requests, summary


def main(argv):
    args, passthrough = parse_args(argv)
    rows = []
    first = None
    for c in args.concurrency:
        requests, s = run_point(args, passthrough, c)
        first = first or s
        gpus = len(s["wiresim"]["gpus"])
        rows.append([
            str(c), str(requests),
            f"{s['output_throughput'] / gpus:.1f}", f"{s['total_token_throughput'] / gpus:.1f}",
            f"{s['median_ttft_ms']:.1f}", f"{s['p99_ttft_ms']:.1f}",
            f"{s['median_tpot_ms']:.2f}", f"{s['p99_tpot_ms']:.2f}",
        ])
    w = first["wiresim"]
    print(f"{w['model']} on {w['topology']}, {w['plan']} over {len(w['gpus'])} GPUs, {w['engine']} engine, "
          f"{w['network']} network; closed loop (rate inf), seed {w['seed']}")
    print()
    header = ["concurrency", "requests", "output tok/s per GPU", "total tok/s per GPU",
              "median TTFT (ms)", "p99 TTFT (ms)", "median TPOT (ms)", "p99 TPOT (ms)"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---:" for _ in header) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
