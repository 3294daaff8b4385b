#!/usr/bin/env python3
"""Fleet check: does ``hadoctor check FLEET`` use every core?

Builds one real bundle (``hadoctor bundle create --root``) of a node whose heartbeat log is
``--log-mib`` MiB (gen_log.py), copies it ``--count`` times into a fleet folder, then measures

  serial  every member checked one after the other in one process (the sum of single checks,
          without the interpreter start-up that separate runs would add);
  fleet   ``hadoctor check FLEET --format json`` (a process pool over every usable core), wall time;

and prints fleet / (serial / cores): the issue's bar is 1.2.

    python3 benchmarks/bench_fleet.py                 # 200 bundles x 10 MiB (the issue's figure)
    python3 benchmarks/bench_fleet.py --count 20 --log-mib 2
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
EXAMPLE = REPO / "examples" / "healthy" / "node01"
sys.path.insert(0, str(REPO))


def make_bundle(work: Path, log_mib: int) -> Path:
    root = work / "root"
    (root / "etc/ha.d").mkdir(parents=True)
    (root / "var/log").mkdir(parents=True)
    for name in ("ha.cf", "haresources", "authkeys"):
        shutil.copy(EXAMPLE / name, root / "etc/ha.d" / name)
    os.chmod(root / "etc/ha.d/authkeys", 0o600)
    (root / "etc/ha.d/nodeinfo").write_text("node01\n")  # this host is node01: collected locally
    log = root / "var/log/heartbeat.log"
    subprocess.run([sys.executable, str(HERE / "gen_log.py"), str(log), "--size", f"{log_mib}M", "--seed", "1",
                    "--host", "node01", "--peer", "node02"], check=True)
    out = work / "base.tar.gz"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run([sys.executable, "-m", "hadoctor", "bundle", "create", "-q", "--root", str(root), "--node", "node01",
                    "--since", "2000-01-01 00:00", "--until", "2099-01-01 00:00", "-o", str(out)], env=env)
    assert out.exists(), "bundle create wrote no bundle"  # exit 3 (some items missing here) still writes it
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--log-mib", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=0, help="fleet workers (default: every usable core)")
    args = ap.parse_args()

    from hadoctor.engine import discovery
    from hadoctor.fleet import check_fleet, cpu_count, fleet_members

    cores = args.jobs or cpu_count()
    with tempfile.TemporaryDirectory(prefix="hadoctor-bench-fleet-") as tmp:
        work = Path(tmp)
        base = make_bundle(work, args.log_mib)
        fleet = work / "fleet"
        fleet.mkdir()
        for i in range(args.count):
            shutil.copy(base, fleet / f"cluster-{i:03}.tar.gz")
        members = fleet_members(str(fleet))
        assert members and len(members) == args.count
        rules = discovery.all_rules([])
        load0 = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        serial = check_fleet(members, (rules, [], rules), fail_on="warning", with_log_state=False, jobs=1)
        serial_s, serial_cpu = time.perf_counter() - t0, time.process_time() - c0
        assert not any(r.error for r in serial), [r.error for r in serial if r.error][:1]
        env = dict(os.environ, PYTHONPATH=str(REPO))
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "hadoctor", "check", str(fleet), "--format", "json",
                               "--jobs", str(cores)], capture_output=True, env=env)
        fleet_s = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        fleet_cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        assert proc.returncode in (0, 1, 3), proc.stderr.decode()[-500:]
        load1 = os.getloadavg()[0]
    ideal = serial_s / cores
    print(f"{args.count} bundles x {args.log_mib} MiB log, {cores} cores (load average {load0:.1f} -> {load1:.1f})")
    print(f"  serial (sum of single checks): {serial_s:8.2f} s wall, {serial_cpu:8.2f} s CPU "
          f"({serial_s / args.count * 1000:.0f} ms per bundle)")
    print(f"  fleet  (hadoctor check FLEET): {fleet_s:8.2f} s wall, {fleet_cpu:8.2f} s CPU (CLI start-up included)")
    print(f"  fleet / (serial / cores) = {fleet_s / ideal:.2f}  (bar: 1.2); fleet CPU / serial CPU = "
          f"{fleet_cpu / serial_cpu:.2f}")
    print("  (wall figures are only meaningful on an otherwise idle machine: compare the load averages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
