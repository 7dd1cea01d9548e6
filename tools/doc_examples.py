#!/usr/bin/env python3
"""Runs the commands shown in the docs and checks their output, so a doc cannot drift from the build.

A doc shows a command in a fenced block whose info string is `console` (or `console exit=N` for a command that
must fail with exit code N, or `console skip` for one that cannot run here, such as a command that needs a GPU: it
is listed, not run):

    ```console
    $ wiresim run --requests 200
    ...the output...
    ```

Each `$ ...` line runs in bash from the repository root, with the binary given first on PATH as `wiresim` (so
pipes and other shell syntax work). Blocks run in the order the doc shows them, so a command may read a file an
earlier one wrote. Paths under /tmp/ in commands go to a private directory of this run (and back to /tmp/ in what
they print), so that runs at the same time do not share files. The output
shown under it must match what the command prints, line for line (trailing spaces ignored); a line `...` in the
doc stands for any number of lines. With --update the doc's output is rewritten from the run (keeping `...`
lines out). A doc that shows only some lines (marked `...` or `[...]`) keeps showing those: --update replaces each
shown line with the printed line that has the same label (the text before its value). Exit code 1 when a command
fails or its output differs.

    python3 tools/doc_examples.py --wiresim build/sim/app/wiresim docs/guide/run.md docs/examples/*.md
"""
import argparse
import os
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^(\s*)```console(?:\s+exit=(\d+)|\s+(skip))?\s*$")


class Runner:
    """Runs doc commands: `wiresim` on PATH is the binary under test, /tmp/ is a private directory."""

    def __init__(self, binary, scratch):
        self.bin_dir = pathlib.Path(scratch) / "bin"
        self.bin_dir.mkdir()
        (self.bin_dir / "wiresim").symlink_to(binary)
        self.tmp = pathlib.Path(scratch) / "tmp"
        self.tmp.mkdir()

    def run(self, command):
        private = str(self.tmp) + "/"
        env = dict(os.environ, PATH=str(self.bin_dir) + os.pathsep + os.environ.get("PATH", ""))
        proc = subprocess.run(["bash", "-c", command.replace("/tmp/", private)], cwd=ROOT, capture_output=True,
                              text=True, timeout=600, env=env)
        return proc.returncode, [line.replace(private, "/tmp/") for line in (proc.stdout + proc.stderr).splitlines()]


def is_gap(line):
    return line.strip() in ("...", "[...]")


def label(line):
    """The part of a line that names what it shows: up to its last ':' (the vllm-style rows), else all of it."""
    cut = line.rfind(":")
    return line[:cut + 1] if cut >= 0 else line.rstrip()


def refreshed(shown, actual):
    """`shown` with each non-gap line replaced by the next printed line with the same label."""
    if not any(is_gap(line) for line in shown):
        return [line.rstrip() for line in actual]
    out, j = [], 0
    for line in shown:
        if is_gap(line):
            out.append(line)
            continue
        k = next((k for k in range(j, len(actual)) if label(actual[k]) == label(line)), None)
        if k is None:
            out.append(line)
            continue
        out.append(actual[k].rstrip())
        j = k + 1
    return out


def matches(expected, actual):
    """Expected lines in order, `...` or `[...]` matching any run of lines."""
    def go(i, j):
        while i < len(expected):
            if is_gap(expected[i]):
                if i + 1 == len(expected):
                    return True
                return any(go(i + 1, k) for k in range(j, len(actual) + 1))
            if j >= len(actual) or expected[i].rstrip() != actual[j].rstrip():
                return False
            i += 1
            j += 1
        return j == len(actual)
    return go(0, 0)


def process(path, runner, update, counts):
    lines = path.read_text().splitlines()
    out, failures, i = [], 0, 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        out.append(lines[i])
        i += 1
        if not m:
            continue
        indent = m.group(1)
        want_code = int(m.group(2) or 0)
        skip = m.group(3) is not None
        block = []
        while i < len(lines) and lines[i].strip() != "```":
            block.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        # Commands and the output shown under each.
        k = 0
        while k < len(block):
            if not block[k].startswith("$ "):
                out.append(indent + block[k])
                k += 1
                continue
            command = block[k][2:]
            shown = []
            k += 1
            while k < len(block) and not block[k].startswith("$ "):
                shown.append(block[k])
                k += 1
            if skip:
                counts["skipped"] += 1
                print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: skipped `{command}`")
                out.append(indent + "$ " + command)
                out.extend(indent + line if line else line for line in shown)
                continue
            counts["run"] += 1
            code, actual = runner.run(command)
            ok = code == want_code and matches(shown, actual)
            if update and code != want_code:
                failures += 1
                print(f"{path}: `{command}` exited {code} (expected {want_code})", file=sys.stderr)
            if not ok and not update:
                failures += 1
                print(f"{path}: `{command}` exited {code} (expected {want_code})" +
                      ("" if matches(shown, actual) else "; its output differs from the doc"), file=sys.stderr)
                if not update:
                    for line in actual[:60]:
                        print("    | " + line, file=sys.stderr)
            out.append(indent + "$ " + command)
            out.extend(indent + line if line else line for line in (refreshed(shown, actual) if update else shown))
        if i < len(lines):
            out.append(lines[i])
            i += 1
    if update:
        path.write_text("\n".join(out) + "\n")
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wiresim", default=str(ROOT / "build/sim/app/wiresim"))
    ap.add_argument("--update", action="store_true", help="rewrite the docs' outputs from the runs")
    ap.add_argument("docs", nargs="+")
    a = ap.parse_args()
    binary = str(pathlib.Path(a.wiresim).resolve())
    counts = {"run": 0, "skipped": 0}
    with tempfile.TemporaryDirectory(prefix="doc-examples-") as scratch:
        runner = Runner(binary, scratch)
        failures = sum(process(pathlib.Path(d).resolve(), runner, a.update, counts) for d in a.docs)
    print(f"doc-examples: {counts['run'] - failures} passed, {failures} failed, {counts['skipped']} skipped")
    return 1 if failures and not a.update else 0


if __name__ == "__main__":
    sys.exit(main())
