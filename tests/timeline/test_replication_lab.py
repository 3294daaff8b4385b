"""The timeline and the MYS rules on a real capture: tests/fixtures/mysql/lab-takeover is the last bundle of
tests/lab/test_mysql_lab.py (HADOCTOR_LAB_KEEP; MariaDB 10.11 in both lab nodes, node02 replicating from
node01): node02's SQL thread stopped on a duplicate key (1062), then node01 lost power and node02 took over;
node01 came back without heartbeat. The bundle's files the timeline and the rules read are kept as they were."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime

from hadoctor.timeline.build import build_timeline
from tests.conftest import FIXTURES, REPO

#: the logs carry no year: it comes from the files' mtime (set here, never today's date)
MTIME = time.mktime((2026, 12, 4, 5, 0, 0, 0, 0, -1))


def capture(tmp_path):
    target = tmp_path / "lab-takeover"
    shutil.copytree(FIXTURES / "mysql" / "lab-takeover", target)
    for log in target.glob("*/heartbeat.log"):
        os.utime(log, (MTIME, MTIME))
    return target


def test_the_1062_sits_before_the_takeover(tmp_path):
    tl = build_timeline(str(capture(tmp_path)))
    try:
        events = [(ev.time, ev.node, ev.kind, ev.subject, ev.detail) for _ts, ev in tl.events()]
    finally:
        tl.close()
    node02 = [e for e in events if e[1] == "node02"]
    kinds = [e[2] for e in node02]
    error = next(i for i, e in enumerate(node02) if e[2] == "repl_error" and e[4].startswith("error 1062: "))
    assert node02[error][0] == datetime(2026, 12, 4, 4, 31, 24) and node02[error][3] == "mysql SQL thread"
    stopped = kinds.index("repl_stopped", error)
    assert node02[stopped][4] == "at node01-bin.000001:969"          # where the SQL thread stopped
    io = next(e for e in node02[error:] if e[2] == "repl_error" and e[3] == "mysql IO thread")
    assert io[4].startswith("error 2003: ")                          # node01 gone: cannot reconnect
    assert error < stopped < kinds.index("takeover_complete")
    assert kinds.index("repl_started") < error                        # replication started with heartbeat
    # node01 replicates from nobody: its error log holds no thread start, stop or error in the window
    assert not [e for e in events if e[1] == "node01" and e[2].startswith("repl_")]


def test_check_names_the_break_and_the_takeover(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "hadoctor", "check", "--format", "json", "--select", "MYS",
                           str(capture(tmp_path))], capture_output=True, text=True, cwd=REPO)
    fails = {(f["code"], f["node"]): f["message"] for f in json.loads(proc.stdout)["findings"]
             if f["status"] == "fail"}
    assert set(fails) == {("MYS001", "node02"), ("MYS006", None), ("MYS008", "node02")}, fails
    assert "error 1062" in fails[("MYS001", "node02")]
    assert ("node01's binlog is at node01-bin.000002:343, applied only up to node01-bin.000001:969"
            in fails[("MYS008", "node02")])
