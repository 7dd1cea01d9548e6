#!/usr/bin/env python3
"""The HTML report as a browser shows it: runs a small `wiresim run --report`, has headless Chromium load the page,
and checks the DOM it built (every chart's series is a path with a non-empty `d`, one stacked bar per GPU with its
eight parts) and a screenshot (a PNG decoded here with the standard library: enough distinct colours and non-white
pixels that the charts were drawn). Exits 77 (ctest's SKIP_RETURN_CODE) when no Chromium is installed.

    python3 tools/report_browser_test.py --wiresim build/sim/app/wiresim [--keep DIR]
"""
import argparse
import html.parser
import os
import pathlib
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

SKIP = 77
ROOT = pathlib.Path(__file__).resolve().parent.parent
# tp=2 x pp=2 on four H100s: four bars; a few requests of several tokens so every CDF has points.
RUN = ["run", "--topology", "dgx-h100", "--model", "llama-3.2-1b", "--plan", "tp=2,pp=2", "--requests", "12",
       "--rate", "50", "--input-len", "200", "--output-len", "6", "--seed", "7", "--quiet"]
GPUS = 4
PARTS = 8  # compute, exposed TP/PP/EP/CP/DP, bubble, idle
SERIES = {"cdf-ttft": ["ttft"], "cdf-tpot": ["tpot"], "cdf-e2el": ["e2el"], "throughput": ["output-tokens-per-s"],
          "queue-depth": ["running", "waiting"], "kv-usage": ["kv-usage"]}


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Dom(html.parser.HTMLParser):
    """What the checks need from the DOM: each svg's series paths, the bars and their segments."""

    def __init__(self):
        super().__init__()
        self.svg = None  # id of the enclosing svg
        self.paths = {}  # svg id -> {series: d}
        self.bars = 0
        self.segments = 0
        self.link_cells = []  # data-utilisation of each heat-map cell

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self.svg = a.get("id")
        elif tag == "path" and a.get("class") == "series":
            self.paths.setdefault(self.svg, {})[a.get("data-series")] = a.get("d", "")
        elif tag == "g" and a.get("class") == "bar":
            self.bars += 1
        elif tag == "rect" and a.get("class") == "segment":
            self.segments += 1
        elif tag == "rect" and a.get("class") == "cell":
            self.link_cells.append(float(a.get("data-utilisation", "nan")))

    def handle_endtag(self, tag):
        if tag == "svg":
            self.svg = None


def png_pixels(data):
    """(width, height, rows of RGBA bytes) of an 8-bit RGB or RGBA, non-interlaced PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace:
                raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
            bpp = 4 if colour == 6 else 3
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif f == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wiresim", default=str(ROOT / "build/sim/app/wiresim"))
    ap.add_argument("--keep", help="write the report and screenshot here and keep them")
    a = ap.parse_args()
    chromium = find_chromium()
    if chromium is None:
        print("SKIP: no chromium on PATH (tools/install-deps.sh installs Debian's chromium package)")
        return SKIP
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(a.keep or tmp)
        out.mkdir(parents=True, exist_ok=True)
        report = out / "report.html"
        run = subprocess.run([a.wiresim] + RUN + ["--report", str(report)], capture_output=True, text=True,
                             timeout=300)
        if run.returncode != 0:
            print(f"wiresim run failed ({run.returncode}): {run.stderr}", file=sys.stderr)
            return 1
        browser = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                   f"--user-data-dir={tmp}/profile", "--window-size=1000,1800"]
        env = dict(os.environ, HOME=tmp)
        dom_run = subprocess.run(browser + ["--dump-dom", report.as_uri()], capture_output=True, text=True,
                                 timeout=120, env=env)
        if dom_run.returncode != 0 or "<svg" not in dom_run.stdout:
            print(f"chromium --dump-dom failed ({dom_run.returncode}): {dom_run.stderr[-2000:]}", file=sys.stderr)
            return 1
        dom = Dom()
        dom.feed(dom_run.stdout)
        failures = []
        for svg, names in SERIES.items():
            for name in names:
                d = dom.paths.get(svg, {}).get(name)
                if not d or not d.startswith("M") or len(d.split()) < 2:
                    failures.append(f"svg#{svg}: series {name!r} has no drawn path (d={d!r})")
        if dom.bars != GPUS:
            failures.append(f"svg#gpu-time: {dom.bars} bars, expected {GPUS}")
        if dom.segments != GPUS * PARTS:
            failures.append(f"svg#gpu-time: {dom.segments} segments, expected {GPUS * PARTS}")
        # Each GPU's tensor-parallel all-reduces load its NVLinks both ways: at least two cells per GPU, each a
        # utilisation in (0, 1].
        if len(dom.link_cells) < 2 * GPUS or not all(0 < u <= 1 for u in dom.link_cells):
            failures.append(f"svg#link-heatmap: cells {dom.link_cells[:8]}..., expected >= {2 * GPUS} in (0, 1]")

        shot = out / "report.png"
        shot_run = subprocess.run(browser + [f"--screenshot={shot}", report.as_uri()], capture_output=True,
                                  text=True, timeout=120, env=env)
        if shot_run.returncode != 0 or not shot.exists():
            failures.append(f"chromium --screenshot failed ({shot_run.returncode}): {shot_run.stderr[-2000:]}")
        else:
            width, height, bpp, rows = png_pixels(shot.read_bytes())
            colours, ink = set(), 0
            for row in rows:
                for x in range(0, width * bpp, bpp):
                    px = row[x:x + 3]
                    colours.add(px)
                    if px != b"\xff\xff\xff":
                        ink += 1
            ink_fraction = ink / (width * height)
            print(f"screenshot {width}x{height}: {len(colours)} distinct colours, {100 * ink_fraction:.1f}% non-white")
            # The palette alone has eight colours; text antialiasing adds many more. A blank or failed page has
            # one or two.
            if len(colours) < 16:
                failures.append(f"screenshot: only {len(colours)} distinct colours")
            if ink_fraction < 0.02:
                failures.append(f"screenshot: only {100 * ink_fraction:.2f}% of the pixels are not white")
        for f in failures:
            print("FAIL: " + f, file=sys.stderr)
        if failures:
            return 1
        print(f"ok: {sum(len(v) for v in dom.paths.values())} series paths, {dom.bars} bars, {dom.segments} segments")
        return 0


if __name__ == "__main__":
    sys.exit(main())
