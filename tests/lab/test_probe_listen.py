"""``probe listen`` live against a real heartbeat pair: from inside node02 (heartbeat holds the
port there, so the packet socket must leave it alone) it hears both nodes' keepalives with the
configured interval and verifies them with the node's authkeys; heartbeat logs no late heartbeat.

Its own small lab (prefix ``hbl-p<pid>-pl``, 10.250.39.0/24), torn down whatever happens.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import LAB_OK, LAB_WHY, SESSION_PREFIX
from .hblab import Lab

pytestmark = [pytest.mark.lab, pytest.mark.skipif(not LAB_OK, reason=LAB_WHY or "lab")]


def test_listen_inside_a_running_node():
    with Lab(f"{SESSION_PREFIX}pl", subnet="10.250.39") as lab:
        lab.configure()
        lab.start_all()
        assert lab.wait_holders(["node01"], 40) is not None
        conf = lab.node_dir("node02") / "ha.d"
        before = lab.log("node02")
        proc = subprocess.run([sys.executable, "-m", "hadoctor", "probe", "listen", "--netns", lab.ns("node02"),
                               "--seconds", "4", "--ha-cf", str(conf / "ha.cf"), "--authkeys", str(conf / "authkeys"),
                               "--format", "json"], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
        doc = json.loads(proc.stdout)
        heard = {}
        for s in doc["summary"]["senders"]:
            heard.setdefault(s["node"], []).append(s)
        assert set(heard) == {"node01", "node02"}
        for node, senders in heard.items():
            for s in senders:
                assert set(s["auth_results"]) == {"ok"}, (node, s["address"], s["auth_results"])
            best = max(senders, key=lambda s: s["packets"])
            assert best["packets"] >= 3
            assert abs(best["status_interval_ms"]["p50"] - 1000) < 150  # keepalive 1
        # both paths (bcast eth0, ucast eth1) are heard
        assert {s["address"].rsplit(".", 1)[0] for s in heard["node01"]} >= {"10.250.39", f"10.250.{39 + 128}"}
        during = lab.log("node02")[len(before):]
        assert "Late heartbeat" not in during and "is dead" not in during
