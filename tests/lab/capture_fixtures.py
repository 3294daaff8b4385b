"""Regenerate tests/fixtures/lab/ (and examples/) from the real heartbeat lab.

Run as root on a machine with the Debian heartbeat packages::

    python tests/lab/capture_fixtures.py              # every scenario, all at once
    python tests/lab/capture_fixtures.py --jobs 4 healthy split-brain
    python tests/lab/capture_fixtures.py --out /tmp/caps --no-examples

Every capture is a folder in the node folder layout of docs/architecture.md plus
scenario.json (and heartbeat.pcap for some). tests/fixtures/lab/README.md is rewritten
with the date, package versions and timings. Only fake keys are ever written.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "lab"
EXAMPLES = REPO / "examples"
EXAMPLE_CAPTURES = {
    "healthy": "A healthy two-node cluster: node01 holds the VIP, node02 stands by.",
    "split-brain": "Split brain: heartbeat UDP 694 is dropped both ways (iptables INPUT), "
                   "both nodes declared the other dead and both hold the VIP.",
}


def _imports():
    sys.path.insert(0, str(REPO / "tests"))
    from lab import hblab, scenarios  # noqa: E402  (script: tests/ is not a package)
    return hblab, scenarios


def _readme(results: dict, wall_s: float, jobs: int, versions: str, hb_version: str) -> str:
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    lines = [
        "# Captured heartbeat lab scenarios",
        "",
        "Real Debian heartbeat 3.0.6 daemons (haresources / R1 mode) in network, mount, UTS",
        "and PID namespaces on one machine (`tests/lab/hblab.py`), driven into one state each",
        "by `tests/lab/scenarios.py`, then captured. Regenerate (root, Debian heartbeat",
        "packages installed) with:",
        "",
        "    python tests/lab/capture_fixtures.py",
        "",
        f"Made on {today} with `{hb_version}` and (`dpkg-query -W heartbeat cluster-glue "
        "resource-agents libheartbeat2`):",
        "",
        "```",
        versions.rstrip(),
        "```",
        "",
        "## Layout",
        "",
        "Each folder is one capture: `<node>/` in the node folder layout of",
        "docs/architecture.md (`ha.cf`, `haresources`, `authkeys`, `authkeys.stat`,",
        "`heartbeat.log`, `ip-a.txt`, `ip-j-a.json`, `uname-n.txt`, `packages.txt`,",
        "`nft-ruleset.txt`, `iptables-save.txt`; `ha-debug` where ha.cf has a debugfile),",
        "`scenario.json`, and `heartbeat.pcap` (tcpdump on the lab bridge, UDP 694) for some.",
        "",
        "`scenario.json`: `scenario`, `description`, `captured_at`, `lab` (prefix, subnet,",
        "gateway, vip, nodes with ip/hostname/namespace), `packages`, `events` (what the test",
        "did and saw, each with an ISO-8601 UTC time `t` and `elapsed_s` since the lab came up:",
        "`lab_up`, `start` (with heartbeat's exit code `rc` and stderr), `crash`, `reboot`,",
        "`stop_requested`/`stopped`, `freeze`/`thaw`, `block_heartbeats`/`partition`/",
        "`unblock_heartbeats`/`healed`, `vip_holders`/`vip_on` (seen in `ip a`), `log_seen`,",
        "`expect` (which nodes should hold the VIP from then on), `pcap_started`, `captured`),",
        "`expected` (`vip`, `vip_holders` at capture time) and `observed` (VIP per node,",
        "`cl_status hbstatus`, start exit codes).",
        "",
        "Conventions: nodes node01/node02 (web01/web02 for the second cluster) at",
        "10.250.N.11/.12/.13/.14, VIP 10.250.N.100 (second cluster .101), gateway 10.250.N.1",
        "(nothing behind it), each scenario its own N. Timings keepalive 1, deadtime 5,",
        "warntime 3, initdead 10, `realtime off` (the lab cannot lock memory), bcast on eth0,",
        "auto_failback on. Keys are fakes: `1 sha1 lab-fixture-key-not-secret` (and",
        "`other-lab-fixture-key-not-secret`). Daemon PIDs are small because every node has",
        "its own PID namespace. Logs hold only the scenario (every node starts with an",
        "empty /var/log). Authentication failures write raw bytes into heartbeat.log:",
        "read logs as bytes.",
        "",
        "## Captures",
        "",
        "| capture | scenario | what it shows | VIP on |",
        "|---|---|---|---|",
    ]
    for name, res in results.items():
        for cname, path in res.captures.items():
            d = json.loads((Path(path) / "scenario.json").read_text())
            holders = ", ".join(d["expected"]["vip_holders"]) or "nobody"
            lines.append(f"| `{cname}` | {name} | {d['description']} | {holders} |")
    lines += [
        "",
        "## Timings",
        "",
        f"Wall time per scenario, all run concurrently (`--jobs {jobs or 0}`, 0 = all at once)",
        "on a 2-core machine; the total is the wall time of the whole run.",
        "",
        "| scenario | wall s | reached |",
        "|---|---|---|",
    ]
    for name, res in sorted(results.items(), key=lambda kv: -kv[1].wall_s):
        lines.append(f"| {name} | {res.wall_s:.1f} | {'yes' if res.reached else res.notes} |")
    lines += [f"| **total (wall)** | **{wall_s:.1f}** | |", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenarios", nargs="*", help="scenario names (default: all)")
    ap.add_argument("--jobs", type=int, default=0, help="scenarios at once (0 = all)")
    ap.add_argument("--out", type=Path, default=FIXTURES, help="fixture folder")
    ap.add_argument("--no-examples", action="store_true", help="do not refresh examples/")
    args = ap.parse_args(argv)
    hblab, scenarios = _imports()
    ok, why = hblab.lab_available()
    if not ok:
        print(f"capture_fixtures: {why}", file=sys.stderr)
        return 2
    names = args.scenarios or list(scenarios.SCENARIOS)
    unknown = [n for n in names if n not in scenarios.SCENARIOS]
    if unknown:
        print(f"unknown scenarios: {unknown}; known: {sorted(scenarios.SCENARIOS)}",
              file=sys.stderr)
        return 2
    hblab.cleanup_stale()
    with tempfile.TemporaryDirectory(prefix="hblab-capture-") as tmp:
        t = time.monotonic()
        results = scenarios.run_scenarios(names, tmp, jobs=args.jobs, tag="cap")
        wall = round(time.monotonic() - t, 1)
        bad = {n: (r.error or r.notes) for n, r in results.items() if not r.reached}
        for n, r in results.items():
            print(f"{n:28s} {r.wall_s:6.1f} s  {'ok' if r.reached else 'NOT REACHED'}")
        print(f"{'total (wall)':28s} {wall:6.1f} s")
        if bad:
            print(f"not writing fixtures, scenarios failed: {bad}", file=sys.stderr)
            return 1
        args.out.mkdir(parents=True, exist_ok=True)
        for res in results.values():
            for cname, path in res.captures.items():
                dest = args.out / cname
                shutil.rmtree(dest, ignore_errors=True)
                shutil.copytree(path, dest)
        versions = subprocess.run(["dpkg-query", "-W", *hblab.PACKAGES], capture_output=True,
                                  text=True).stdout
        hb_version = subprocess.run([hblab.HB, "-V"], capture_output=True,
                                    text=True).stdout.strip() or "heartbeat"
        if set(names) == set(scenarios.SCENARIOS):
            (args.out / "README.md").write_text(
                _readme(results, wall, args.jobs, versions, f"heartbeat -V: {hb_version}"))
        if not args.no_examples:
            for cname, blurb in EXAMPLE_CAPTURES.items():
                src = args.out / cname
                if not src.is_dir():
                    continue
                dest = EXAMPLES / cname
                shutil.rmtree(dest, ignore_errors=True)
                shutil.copytree(src, dest)
                (dest / "README.md").write_text(
                    f"# examples/{cname}\n\n{blurb}\n\n"
                    f"A copy of tests/fixtures/lab/{cname}: one folder per node in the node "
                    "folder layout (docs/architecture.md), captured from real heartbeat 3.0.6 "
                    "daemons in the lab (tests/lab), plus scenario.json describing what was "
                    "done and when. The key in authkeys is a fake.\n\n"
                    f"    hadoctor check examples/{cname}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
