#!/usr/bin/env python3
"""Benchmark ``hadoctor timeline`` on a generated log: wall time and peak RSS (memory stays flat).

A two-node folder is made with gen_log.py (node ``nodea``; ``nodeb`` gets the same log,
the generator writes nodea's view only) and the whole timeline is built, JSON streamed
to /dev/null and the SVG drawn, in a fresh child process whose peak RSS is read.

    python benchmarks/bench_timeline.py --size 1G        # ~10 million lines
    python benchmarks/bench_timeline.py --size 100M
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from gen_log import generate, parse_size  # noqa: E402

WORKER = r"""
import sys, time
from hadoctor.timeline.build import build_timeline
from hadoctor.timeline.render import write_json, render_svg
t0 = time.perf_counter()
tl = build_timeline(sys.argv[1])
t1 = time.perf_counter()
with open(sys.argv[2] + ".json", "w") as out:
    write_json(tl, out)
svg = render_svg(tl)
with open(sys.argv[2] + ".svg", "w") as out:
    out.write(svg)
t2 = time.perf_counter()
print(f"events {sum(n.events for n in tl.nodes)} ownership {len(tl.ownership)} links {len(tl.links)} "
      f"build {t1 - t0:.1f} s render {t2 - t1:.1f} s svg {len(svg) // 1024} KiB")
tl.close()
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="100M", help="log size per node (100M, 1G: about 10 million lines)")
    ap.add_argument("--out", default=os.path.join(HERE, "out"), help="where generated logs are cached")
    args = ap.parse_args()
    size = parse_size(args.size)
    folder = os.path.join(args.out, f"timeline-{args.size}")
    log = os.path.join(folder, "nodea", "heartbeat.log")
    if not os.path.exists(log):
        os.makedirs(os.path.dirname(log), exist_ok=True)
        from datetime import datetime
        with open(log, "wb") as out:
            generate(out, size, 1, 0.02, datetime(2026, 11, 25))
    with open(log, "rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", WORKER, folder, os.path.join(folder, "result")],
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        return proc.returncode
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    mb = os.path.getsize(log) / 2**20
    print(f"{lines} lines, {mb:.0f} MiB: {wall:.1f} s wall ({lines / wall:,.0f} lines/s), peak RSS {rss:.0f} MiB")
    print(proc.stdout.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
