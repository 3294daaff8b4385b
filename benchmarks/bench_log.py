#!/usr/bin/env python3
"""Benchmark the heartbeat log parser against ``grep -c -E`` on generated logs.

For each size it generates (once, cached) a log with ``gen_log.py``, then measures:

- ``grep -c -E PATTERNS`` (the environment's locale, and ``LC_ALL=C``),
- ``prefiltered``: ``iter_log_file(prefilter=...)`` with the PATTERNS' prefilter,
- ``full``: ``iter_log_file()`` parsing every line,

PATTERNS are by default (``--patterns check``) those of check's log pass: every built-in log rule and log
derivation, the catch-all's line prefilter included (``logpass.py``), and the prefiltered run feeds each
record to the engine's dispatch as check does, the catch-all identifying each complaint in the whole
message catalogue. ``--patterns fixed`` gives the 11 patterns below and the parse alone (the figures
before the catalogue).

each as wall time (best of ``--repeat``), MB/s, lines/s, and the peak RSS of a process
that did only that run (a fresh wrapper process runs the worker and reads
``getrusage(RUSAGE_CHILDREN).ru_maxrss``, so sizes and modes do not mix).

    python benchmarks/bench_log.py                         # 100 MiB, a couple of minutes
    python benchmarks/bench_log.py --sizes 100,1024 --repeat 3
    python benchmarks/bench_log.py --patterns fixed        # the 11 patterns, parse only
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from gen_log import generate  # noqa: E402
from logpass import ere  # noqa: E402

#: ``--patterns fixed``: what a rule set looks for (docs/heartbeat/logs.md: rejected packets, node death, timing, findif); valid as ERE
#: and as Python regex.
PATTERNS = [
    r"findif failed", r"Both machines own (our|foreign) resources", r"Invalid authentication", r"bad node \[",
    r"Late heartbeat", r"Gmain_timeout_dispatch", r"netstring authentication failed", r"failed authentication",
    r"node [^ ]+: is dead", r"returning after partition", r"Giving up resources due to failure",
]


def patterns_of(kind: str) -> list:
    if kind == "fixed":
        return PATTERNS
    from logpass import log_patterns

    return log_patterns()


def worker(mode: str, path: str, kind: str) -> dict:
    """Run one parse in this process and report what it saw (with ``check`` patterns: what the rules kept)."""
    from hadoctor.parsers.hblog import compile_prefilter
    from hadoctor.snapshot.logsource import iter_log_file

    start = time.perf_counter()  # check's rule loading and catalogue count: they are part of its run
    feed, logpass, prefilter = None, None, None
    if kind == "check":
        from logpass import LogPass

        logpass = LogPass()
        feed = logpass.feed
        prefilter = logpass.prefilter if mode == "prefiltered" else None
    elif mode == "prefiltered":
        prefilter = compile_prefilter(PATTERNS)
    records = lines = 0
    for rec in iter_log_file(path, prefilter=prefilter):
        records += 1
        lines += rec.nlines
        if feed is not None:
            feed(rec)
    return {"seconds": time.perf_counter() - start, "records": records, "record_lines": lines,
            "hits": logpass.hits() if logpass else None}


def measure(mode: str, path: str, kind: str) -> dict:
    """Run ``worker`` in a grandchild so that RUSAGE_CHILDREN of the child is that run's peak alone."""
    out = subprocess.run([sys.executable, __file__, "--wrap", mode, path, kind], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def wrap(mode: str, path: str, kind: str) -> None:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--worker", mode, path, kind], check=True,
                         capture_output=True, text=True).stdout
    result = json.loads(out)
    result["process_seconds"] = time.perf_counter() - start  # with interpreter start-up, like grep's
    result["max_rss_kib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps(result))


def grep(path: str, c_locale: bool, patterns: list) -> tuple:
    env = dict(os.environ, LC_ALL="C") if c_locale else None
    start = time.perf_counter()
    expr = "|".join(f"({ere(p)})" for p in patterns)
    out = subprocess.run(["grep", "-c", "-E", expr, path], capture_output=True, text=True, env=env)
    return time.perf_counter() - start, int(out.stdout.strip() or 0)


def ensure_log(out_dir: str, mib: int, seed: int) -> str:
    path = os.path.join(out_dir, f"ha-log-{mib}M-s{seed}.log")
    if not os.path.exists(path) or os.path.getsize(path) < mib << 20:
        os.makedirs(out_dir, exist_ok=True)
        print(f"generating {path} ...", file=sys.stderr, flush=True)
        with open(path + ".tmp", "wb") as out:
            generate(out, mib << 20, seed, 0.01, __import__("datetime").datetime(2025, 10, 1))
        os.replace(path + ".tmp", path)
    return path


def count_lines(path: str) -> int:
    with open(path, "rb") as f:
        return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100", help="comma-separated sizes in MiB (default 100)")
    ap.add_argument("--repeat", type=int, default=1, help="best of N runs per measurement (default 1)")
    ap.add_argument("--modes", default="prefiltered,full")
    ap.add_argument("--patterns", choices=("check", "fixed"), default="check",
                    help="check: check's log pass with the whole catalogue (default); fixed: 11 patterns, parse only")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out-dir", default=os.path.join(HERE, "out"), help="where generated logs go (gitignored)")
    ap.add_argument("--wrap", nargs=3, metavar=("MODE", "FILE", "PATTERNS"), help=argparse.SUPPRESS)
    ap.add_argument("--worker", nargs=3, metavar=("MODE", "FILE", "PATTERNS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return 0
    if args.wrap:
        wrap(*args.wrap)
        return 0

    patterns = patterns_of(args.patterns)
    if args.patterns == "check":
        from logpass import catalogue_size

        print(f"check's log pass: {len(patterns)} patterns (grep gets them as ERE), catalogue of "
              f"{catalogue_size()} messages")
    else:
        print(f"{len(patterns)} fixed patterns, parse only")
    print(f"{'size':>7} {'what':<14} {'seconds':>8} {'MB/s':>7} {'lines/s':>10} {'peak RSS':>9} "
          f"{'x grep':>7} {'x grep C':>8}  records")
    print("  (parser: seconds = whole process incl. start-up; MB/s and lines/s from the parse alone)")
    for mib in (int(s) for s in args.sizes.split(",")):
        path = ensure_log(args.out_dir, mib, args.seed)
        size, lines = os.path.getsize(path), count_lines(path)
        grep(path, False, patterns)  # warm the page cache
        g = min(grep(path, False, patterns) for _ in range(args.repeat))
        gc = min(grep(path, True, patterns) for _ in range(args.repeat))
        for label, (secs, hits) in (("grep -c -E", g), ("LC_ALL=C grep", gc)):
            print(f"{mib:>6}M {label:<14} {secs:>8.3f} {size / secs / 1e6:>7.0f} {lines / secs:>10.0f} {'':>9} "
                  f"{'':>7} {'':>8}  {hits} matching lines")
        for mode in args.modes.split(","):
            runs = [measure(mode, path, args.patterns) for _ in range(args.repeat)]
            best = min(runs, key=lambda r: r["process_seconds"])
            rss = max(r["max_rss_kib"] for r in runs)
            secs, parse = best["process_seconds"], best["seconds"]
            print(f"{mib:>6}M {mode:<14} {secs:>8.3f} {size / parse / 1e6:>7.0f} {lines / parse:>10.0f} "
                  f"{rss / 1024:>7.1f}Mi {secs / g[0]:>7.2f} {secs / gc[0]:>8.2f}  {best['records']} records"
                  + (f", {best['hits']} rule hits" if best["hits"] is not None else ""))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
