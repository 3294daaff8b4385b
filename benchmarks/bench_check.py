#!/usr/bin/env python3
"""Benchmark ``hadoctor check`` (issue: check over a 1 GiB log within 3x ``grep -c -E`` of the same
patterns, flat memory under 150 MiB; ``check`` on a shipped example under 0.3 s; ``--help`` under 0.2 s).

    python benchmarks/bench_check.py                      # 100 MiB log + start-up figures
    python benchmarks/bench_check.py --sizes 100,1024     # the 1 GiB figure (~1 GiB of disk)

The log comes from gen_log.py (realistic heartbeat 3.0.x lines with failures sprinkled in). A node
folder is made from examples/healthy/node01 with that log as heartbeat.log; ``check`` runs over it as a
user would (a fresh process, all rules). grep gets the log rules' patterns, translated to ERE.
Peak RSS is measured per run in a fresh wrapper process (getrusage of the child).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from logpass import catalogue_size, ere, log_patterns  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
EXAMPLE = REPO / "examples" / "healthy"
HADOCTOR = [sys.executable, "-m", "hadoctor"]


def measured(argv, env=None) -> tuple:
    """(seconds, peak RSS MiB, stdout) of one run, RSS via a wrapper's RUSAGE_CHILDREN."""
    wrapper = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
               "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE); d = time.perf_counter() - t; "
               "sys.stderr.write(f'{d} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\\n'); "
               "sys.stdout.buffer.write(p.stdout)")
    proc = subprocess.run([sys.executable, "-c", wrapper] + argv, capture_output=True, env=env)
    seconds, rss = proc.stderr.decode().split()[-2:]
    return float(seconds), int(rss) / 1024, proc.stdout


def ensure_log(size_mib: int) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"ha-log-{size_mib}M"
    if not path.exists() or path.stat().st_size < size_mib * (1 << 20) * 0.99:
        subprocess.run([sys.executable, str(HERE / "gen_log.py"), str(path), "--size", f"{size_mib}M", "--seed", "1"],
                       check=True)
    return path


def node_folder(log: Path) -> Path:
    folder = OUT / f"cluster-{log.name}" / "node01"
    if folder.parent.exists():
        shutil.rmtree(folder.parent)
    shutil.copytree(EXAMPLE / "node01", folder)
    (folder / "heartbeat.log").unlink()
    os.symlink(log, folder / "heartbeat.log")
    return folder.parent


def median_time(argv, runs: int, ok=(0,)) -> float:
    """Median wall time of ``argv``; after one warm-up run with bytecode writing on (an installed package has
    its .pyc files; PYTHONDONTWRITEBYTECODE would time compiling every module on each start instead)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    warm = subprocess.run(argv, capture_output=True, env=env)
    if warm.returncode not in ok:
        sys.exit(f"{' '.join(argv)} failed ({warm.returncode}): {warm.stderr.decode(errors='replace')[-300:]}")
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, capture_output=True, env=env)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100", help="log sizes in MiB, comma-separated (default 100)")
    parser.add_argument("--repeat", type=int, default=1, help="best of N for the big runs")
    parser.add_argument("--startup-runs", type=int, default=7)
    args = parser.parse_args()

    exe = shutil.which("hadoctor") or "hadoctor"
    print(f"start-up (median of {args.startup_runs}, console script {exe}):")
    t_help = median_time([exe, "--help"], args.startup_runs)
    t_check = median_time([exe, "check", str(EXAMPLE)], args.startup_runs, ok=(0, 1))  # 1: its findings
    print(f"  hadoctor --help                  {t_help:.3f} s   (target < 0.2 s)")
    print(f"  hadoctor check examples/healthy  {t_check:.3f} s   (target < 0.3 s)")

    patterns = log_patterns()
    grep_expr = "|".join(f"({ere(p)})" for p in patterns)
    print(f"\ncheck over a generated log (catalogue of {catalogue_size()} messages) vs grep -c -E with the "
          f"{len(patterns)} log-rule patterns:")
    print(f"  {'size':>8} {'grep s':>8} {'grep C s':>9} {'check s':>8} {'x grep':>7} {'x grep C':>8} {'check RSS':>10}")
    for size in [int(s) for s in args.sizes.split(",")]:
        log = ensure_log(size)
        target = node_folder(log)
        grep_s = min(measured(["grep", "-c", "-E", grep_expr, str(log)])[0] for _ in range(args.repeat))
        grepc_s = min(measured(["grep", "-c", "-E", grep_expr, str(log)], dict(os.environ, LC_ALL="C"))[0]
                      for _ in range(args.repeat))
        best = None
        for _ in range(args.repeat):
            seconds, rss, out = measured(HADOCTOR + ["check", str(target), "--format", "json"])
            if best is None or seconds < best[0]:
                best = (seconds, rss, out)
        seconds, rss, out = best
        summary = json.loads(out)["summary"]
        print(f"  {size:>6}Mi {grep_s:8.2f} {grepc_s:9.2f} {seconds:8.2f} {seconds / grep_s:7.2f} "
              f"{seconds / grepc_s:8.2f} {rss:8.1f}Mi   ({summary['error']} errors, {summary['warning']} warnings)")


if __name__ == "__main__":
    main()
