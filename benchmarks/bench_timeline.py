#!/usr/bin/env python3
"""Benchmark ``hadoctor timeline`` on generated logs: wall time and peak RSS per size (memory must stay flat).

For each size a two-node folder is generated under /tmp with gen_log.py (``nodea`` and ``nodeb``,
half of the lines each, different seeds, each naming the other as its peer), then a fresh child
process builds the timeline, streams the JSON to a file and draws the SVG; its peak RSS is its own
``ru_maxrss`` (``os.wait4``). The JSON's events are counted against the nodes' event counts (the
JSON must be complete), then the folder is deleted.

    python benchmarks/bench_timeline.py                     # 1M, 3M and 10M lines (~2.5 min, ~1 GiB in /tmp)
    python benchmarks/bench_timeline.py --lines 200k,1M
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from gen_log import generate  # noqa: E402

WORKER = r"""
import sys, time
from hadoctor.timeline.build import build_timeline
from hadoctor.report.timeline import write_json, render_svg
t0 = time.perf_counter()
tl = build_timeline(sys.argv[1])
t1 = time.perf_counter()
with open(sys.argv[2] + ".json", "w") as out:
    write_json(tl, out)
t2 = time.perf_counter()
svg = render_svg(tl)
with open(sys.argv[2] + ".svg", "w") as out:
    out.write(svg)
t3 = time.perf_counter()
print(sum(n.events for n in tl.nodes), len(tl.running), len(tl.links), len(tl.ownership), len(tl.outages),
      len(tl.overlaps), f"{t1 - t0:.2f}", f"{t2 - t1:.2f}", f"{t3 - t2:.2f}", len(svg.encode()),
      svg.count('class="ev"'), svg.count('class="span"'))
tl.close()
"""


def parse_count(text: str) -> int:
    """``200k``, ``1M``, ``2.5M`` (powers of 1000) or a plain number."""
    text = text.strip().upper()
    scale = {"K": 1000, "M": 1000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale != 1 else text) * scale)


def make_cluster(folder: str, lines: int) -> int:
    """nodea and nodeb logs of lines/2 lines each; returns the total number of lines."""
    total = 0
    for seed, host, peer in ((1, "nodea", "nodeb"), (2, "nodeb", "nodea")):
        log = os.path.join(folder, host, "heartbeat.log")
        os.makedirs(os.path.dirname(log))
        with open(log, "wb") as out:
            generate(out, 0, seed, 0.02, datetime(2026, 11, 25), lines=lines // 2, host=host, peer=peer)
        with open(log, "rb") as handle:
            total += sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    return total


def json_events(path: str) -> int:
    """Events in the streamed JSON (one per line in the "events" array), counted without loading it."""
    with open(path, encoding="utf-8") as handle:
        return sum(1 for line in handle if line.startswith('  {"time": '))


def run_worker(folder: str) -> tuple:
    """(wall seconds, peak RSS in MiB, the worker's figures) of one fresh child process, reaped with
    os.wait4 for its own resource usage (RUSAGE_CHILDREN would keep the maximum of every earlier child)."""
    out_path, err_path = os.path.join(folder, "worker.out"), os.path.join(folder, "worker.err")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", WORKER, folder, os.path.join(folder, "result")],
                                stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        with open(err_path) as handle:
            sys.stderr.write(handle.read())
        raise SystemExit(1)
    with open(out_path) as handle:
        return wall, usage.ru_maxrss / 1024, handle.read().split()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", default="1M,3M,10M", help="total log lines per run, comma separated (default 1M,3M,10M)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per size; the fastest is shown, RSS is the maximum")
    ap.add_argument("--tmp", default="/tmp", help="where the generated folders go (deleted after each size)")
    args = ap.parse_args()
    print("| log lines | MiB | events | wall s | build s | JSON s | SVG s | peak RSS | SVG KiB | markers | bars |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for text in args.lines.split(","):
        folder = tempfile.mkdtemp(prefix="hadoctor-bench-timeline-", dir=args.tmp)
        try:
            lines = make_cluster(folder, parse_count(text))
            mib = sum(os.path.getsize(os.path.join(folder, n, "heartbeat.log")) for n in ("nodea", "nodeb")) / 2**20
            runs = [run_worker(folder) for _ in range(max(1, args.repeat))]
            wall, _, figures = min(runs, key=lambda r: r[0])
            rss = max(r[1] for r in runs)
            events, _run, _links, _own, _out, _over, build, js, svg_s, svg_bytes, markers, bars = figures
            in_json = json_events(os.path.join(folder, "result.json"))
            if in_json != int(events):
                print(f"JSON holds {in_json} events, the nodes {events}: incomplete", file=sys.stderr)
                return 1
            print(f"| {lines:,} | {mib:.0f} | {int(events):,} | {wall:.1f} | {build} | {js} | {svg_s} | "
                  f"{rss:.1f} MiB | {int(svg_bytes) / 1024:.0f} | {markers} | {bars} |", flush=True)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
