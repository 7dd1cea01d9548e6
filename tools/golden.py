#!/usr/bin/env python3
"""Golden end-to-end scenarios: runs every tests/golden/*/scenario.toml and diffs summary.json and requests.csv
against the checked-in copies beside it. --update rewrites them (review the diff before committing).

    python3 tools/golden.py --wiresim build/sim/app/wiresim [--update]
"""
import argparse
import difflib
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wiresim", default=str(ROOT / "build/sim/app/wiresim"))
    ap.add_argument("--update", action="store_true")
    a = ap.parse_args()
    passed = failed = 0
    for scenario in sorted((ROOT / "tests/golden").glob("*/scenario.toml")):
        case = scenario.parent
        with tempfile.TemporaryDirectory() as out:
            proc = subprocess.run([a.wiresim, "run", str(scenario.relative_to(ROOT)), "--out", out, "--quiet"], cwd=ROOT,
                                  capture_output=True, text=True, timeout=600)
            if proc.returncode != 0:
                print(f"{case.name}: exit {proc.returncode}: {proc.stderr.strip()}", file=sys.stderr)
                failed += 1
                continue
            ok = True
            for name in ("summary.json", "requests.csv"):
                got = (pathlib.Path(out) / name).read_text()
                want_path = case / name
                if a.update:
                    want_path.write_text(got)
                    continue
                want = want_path.read_text() if want_path.exists() else ""
                if got != want:
                    ok = False
                    diff = difflib.unified_diff(want.splitlines(), got.splitlines(), f"{case.name}/{name} (golden)",
                                                f"{case.name}/{name} (this build)", lineterm="", n=1)
                    print("\n".join(list(diff)[:40]), file=sys.stderr)
            passed += ok
            failed += not ok
    print(f"golden: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
