"""Key rotations (``hadoctor fix --authkeys``) in a row on the real two-node heartbeat lab, quiet and with
``stress-ng`` busy on every core: failovers and authentication-failure lines per rotation.

Needs root (network namespaces), Debian's heartbeat, openssh-server and stress-ng (``./test.sh`` installs
them). Run from the repository root::

    sudo python3 benchmarks/bench_fix_load.py                     # 20 quiet, then 20 loaded
    sudo python3 benchmarks/bench_fix_load.py --rotations 5 --modes loaded --json out.json

Each rotation runs fix in node01 exactly as tests/lab/test_fix_authkeys.py does (``rotate_many``, the
same function); the VIP is sampled every 0.2 s. Another lab test running at the same time would
distort the figures: when ``/tmp/hadoctor-lab.lock`` exists, run it under ``flock`` on that file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import nullcontext
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rotations", type=int, default=20)
    ap.add_argument("--modes", default="quiet,loaded", help="quiet, loaded or both (comma-separated)")
    ap.add_argument("--json", help="write every figure (per rotation too) to this file")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("needs root (the lab's network namespaces)", file=sys.stderr)
        return 2
    from tests.lab.test_fix_authkeys import cpu_load, fix_lab, rotate_many

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    results = {}
    with fix_lab("fb", "10.250.86") as lab:
        for mode in modes:
            with cpu_load() if mode == "loaded" else nullcontext():
                summary = rotate_many(lab, args.rotations)
            results[mode] = summary
            auth = [sum(v for v in r["auth_failures"].values() if v) for r in summary["per_rotation"]]
            print(f"{mode:7s} {summary['rotations']} rotations in {summary['total_s']} s: "
                  f"failovers (VIP moves) {len(summary['vip_moves'])}, 'is dead' lines {summary['is_dead_lines']}, "
                  f"auth-failure lines inside the window {summary['auth_failures_total']} "
                  f"(in {summary['rotations_with_auth_failures']} rotations; per rotation {auth}), "
                  f"after it {summary['auth_failures_after_total']}; switch window median "
                  f"{summary['window_ms_median']} ms, max {summary['window_ms_max']} ms", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
