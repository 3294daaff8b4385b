"""Real logs written by other people (tests/fixtures/corpus/logs, see EXPECTED.md) through the log rules.

Each corpus log becomes node01's heartbeat.log in an otherwise healthy two-node cluster
(tests/rules/scenario.py), and ``check`` must find the failure EXPECTED.md names for it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

import pytest

from tests.conftest import REPO, corpus_root
from tests.rules.scenario import assert_scenario, healthy_cluster, write_cluster

def corpus_log(prefix: str) -> bytes:
    folder = corpus_root() / "logs"
    found = sorted(folder.glob(prefix + "-*"))
    assert found, f"corpus log {prefix} not found in {folder}"
    return found[0].read_bytes()


def nodes_with(prefix: str) -> dict:
    return healthy_cluster({"node01": {"heartbeat.log": corpus_log(prefix)}})


def one(report, code: str, node: Optional[str] = "node01"):
    found = [f for f in report.findings if f.code == code and f.node == node and f.status in ("fail", "info")]
    assert len(found) == 1, f"{code}: {[(f.status, f.message) for f in found]}"
    return found[0]


# (log, codes that must fire on node01, codes that must stay quiet, {code: text in the message})
CASES = [
    ("006", ["LOG045"], ["LOG040"], {"LOG045": "illegal directive(s): ucast, ping"}),
    ("007", ["LOG051"], [], {"LOG051": "haclient"}),
    ("008", ["LOG050"], [], {"LOG050": "ifconfig"}),
    ("026", ["LOG052"], [], {}),
    ("027", ["LOG052"], [], {}),
    ("010", ["LOG002"], ["LOG001", "LOG004"], {"LOG002": "start of mysqld failed"}),
    ("011", ["LOG004", "LOG002", "LOG050"], [], {"LOG004": "drbddisk", "LOG002": "resource.d/Filesystem",
                                                 "LOG050": "fuser"}),
    ("012", ["LOG031", "LOG040"], [], {"LOG031": "/usr/lib/heartbeat/ipfail"}),
    ("013", ["LOG043", "LOG040"], [], {"LOG043": "refused /etc/ha.d/authkeys"}),
    ("014", ["LOG041", "LOG040"], [], {"LOG041": "current node [133]"}),
    ("015", ["LOG011"], [], {"LOG011": "prodlb01 declared dead"}),
    ("020", ["LOG031", "LOG040"], [], {"LOG031": "/usr/lib/heartbeat/ipfail"}),
    ("021", ["LOG043", "LOG040"], [], {}),
    ("022", ["LOG041", "LOG040"], [], {"LOG041": "current node [snale2.localdomain]"}),
    ("024", ["LOG001"], ["LOG002"], {"LOG001": "findif failed 1 time(s)"}),
    ("025", ["LOG001"], ["LOG002"], {"LOG001": "nic eth0 given, but the route to the VIP uses enp0s3"}),
    ("028", ["LOG020"], ["LOG021"], {"LOG020": "nodearch2"}),
    ("030", ["LOG011"], [], {"LOG011": "mail1.X.X declared dead 1 time(s); took over X.X.X.193"}),
    ("031", ["LOG032", "LOG033"], ["LOG030", "LOG011"],
     {"LOG032": "2 stall(s), worst 1450 ms (check for signals, send local status; warntime 5000 ms)"}),
    ("033", ["LOG013", "LOG011", "LOG030"], ["LOG020", "LOG021"],
     {"LOG013": "up to 500 unacknowledged messages", "LOG011": "usvr-128 declared dead 1 time(s)"}),
    ("034", ["LOG013", "LOG011"], [], {}),
]


@pytest.mark.parametrize("prefix,fires,quiet,texts", CASES, ids=[c[0] for c in CASES])
def test_corpus_log(tmp_path, prefix, fires, quiet, texts):
    report = assert_scenario(tmp_path, {"name": f"logs/{prefix}", "nodes": nodes_with(prefix),
                                        "select": ["LOG"], "fires": {code: ["node01"] for code in fires},
                                        "quiet": quiet})
    for code, text in texts.items():
        assert text in one(report, code).message, one(report, code).message


def test_033_iptables_split_brain_is_a_real_failover(tmp_path):
    """logs/033: the peer was live (our history queue filled), so 'is dead' is a failover, not a first start."""
    report = assert_scenario(tmp_path, {"name": "033", "nodes": nodes_with("033"), "select": ["LOG"]})
    dead = one(report, "LOG011")
    assert (dead.status, dead.severity, dead.when) == ("fail", "warning", "past")
    queue = one(report, "LOG013")
    assert queue.when == "now" and queue.severity == "warning"
    assert os.path.basename(queue.evidence[0].file) == "heartbeat.log" and queue.evidence[0].line == 1
    assert one(report, "LOG030").message.startswith("1 emergency shutdown line(s)")


def test_016_first_start_peer_dead_is_info_only(tmp_path):
    """logs/016: the peer was not started yet; EXPECTED.md: not a network fault."""
    report = assert_scenario(tmp_path, {"name": "016", "nodes": nodes_with("016"), "select": ["LOG"],
                                        "fires": {"LOG011": ["node01"]}})
    dead = one(report, "LOG011")
    assert (dead.status, dead.severity) == ("info", "info")
    assert not [f for f in report.findings if f.status == "fail" and f.severity in ("error", "warning")]


def test_018_peer_shutdown_then_dead_is_info_only(tmp_path):
    """logs/018 (heartbeat 2.0.8): the master announced its shutdown; the takeover was planned."""
    report = assert_scenario(tmp_path, {"name": "018", "nodes": nodes_with("018"), "select": ["LOG"],
                                        "fires": {"LOG011": ["node01"]}})
    assert one(report, "LOG011").severity == "info"


@pytest.mark.parametrize("prefix", ["001", "002", "003", "005", "009", "023", "029"])
def test_clean_startups_give_no_error(tmp_path, prefix):
    """Logs EXPECTED.md does not list for a log-visible failure give no log error."""
    report = assert_scenario(tmp_path, {"name": prefix, "nodes": nodes_with(prefix), "select": ["LOG"]})
    errors = [(f.code, f.message) for f in report.findings
              if f.status == "fail" and f.severity == "error" and f.code.startswith("LOG")]
    assert not errors


def test_check_command_on_a_node_folder_built_from_logs_028(tmp_path):
    """The CLI end to end: JSON names the foreign node, exit code 1 (an error)."""
    write_cluster(tmp_path, nodes_with("028"))
    env = dict(os.environ, HADOCTOR_STRICT="1", NO_COLOR="1")
    proc = subprocess.run([sys.executable, "-m", "hadoctor", "check", str(tmp_path), "-f", "json"],
                          capture_output=True, text=True, env=env, cwd=str(REPO), timeout=120)
    assert proc.returncode == 1, proc.stderr
    findings: List[dict] = [f for f in json.loads(proc.stdout)["findings"] if f["status"] in ("fail", "info")]
    log020 = [f for f in findings if f["code"] == "LOG020"]
    assert len(log020) == 1 and log020[0]["node"] == "node01" and log020[0]["severity"] == "error"
    assert "nodearch2" in log020[0]["message"] and "OUR key" in log020[0]["message"]
    assert log020[0]["evidence"][0]["text"] == "process_status_message: bad node [nodearch2] in message"
    assert Path(log020[0]["evidence"][0]["file"]).name == "heartbeat.log"
