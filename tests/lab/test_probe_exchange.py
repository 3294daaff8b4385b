"""``probe exchange`` between two lab namespaces (heartbeat configured, NOT started: the probe
needs only the network). One probe per node, as subprocesses, each in its node's namespace:

* healthy path: no loss, round trip well under 50 ms, both ways;
* node02 drops the probe's port from node01 (iptables INPUT) mid-run: both probes name the blocked
  direction node01→node02 (node01 from node02's reports, node02 from the silence);
* different authkeys on the two sides: key mismatch.

Its own small lab (prefix ``hbl-p<pid>-px``, 10.250.52.0/24), torn down whatever happens.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from .conftest import LAB_OK, LAB_WHY, SESSION_PREFIX
from .hblab import Lab

pytestmark = [pytest.mark.lab, pytest.mark.skipif(not LAB_OK, reason=LAB_WHY or "lab")]

PORT = 19694


def _start(lab, node, peer, authkeys, seconds):
    return subprocess.Popen([sys.executable, "-m", "hadoctor", "probe", "exchange", "--netns", lab.ns(node),
                             "--peer", lab.ip(peer), "--port", str(PORT), "--authkeys", str(authkeys),
                             "--interval", "100", "--seconds", str(seconds), "--format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc):
    out, err = proc.communicate(timeout=60)
    assert proc.returncode in (0, 1), out[-2000:] + err
    return json.loads(out)


def _pair(lab, keys, seconds, during=None):
    p1 = _start(lab, "node01", "node02", keys["node01"], seconds)
    p2 = _start(lab, "node02", "node01", keys["node02"], seconds)
    if during:
        during()
    return _finish(p1), _finish(p2)


def test_exchange_between_two_namespaces(tmp_path):
    with Lab(f"{SESSION_PREFIX}px", subnet="10.250.52") as lab:
        lab.configure()
        keys = {n: lab.node_dir(n) / "ha.d" / "authkeys" for n in lab.nodes}
        a, b = lab.ip("node01"), lab.ip("node02")

        t0 = time.monotonic()
        d1, d2 = _pair(lab, keys, 2.5)
        for doc, local, peer in ((d1, a, b), (d2, b, a)):
            assert doc["verdict"]["code"] == "path-ok", doc
            assert doc["exit_code"] == 0 and doc["local"] == local and doc["peer"] == peer
            for d in doc["directions"]:
                assert d["state"] == "ok" and d["loss"] == 0, d
                assert d["received"] >= 15, d
                assert d["rtt_ms"]["p50"] is not None and d["rtt_ms"]["p99"] < 50, d
        healthy_s = time.monotonic() - t0

        def block():
            time.sleep(1.2)
            lab.netexec("node02", "iptables", "-I", "INPUT", "-p", "udp", "--dport", str(PORT), "-s", a,
                        "-j", "DROP", check=True)

        t0 = time.monotonic()
        d1, d2 = _pair(lab, keys, 3.5, block)   # the rule is in place for the last ~2.3 s
        assert d1["verdict"]["code"] == "blocked-out", d1
        assert f"blocked {a}→{b}" in d1["verdict"]["text"]
        assert d2["verdict"]["code"] == "blocked-in", d2
        assert f"blocked {a}→{b}" in d2["verdict"]["text"]
        assert time.monotonic() - t0 < 10
        lab.netexec("node02", "iptables", "-F", "INPUT", check=True)

        other = tmp_path / "authkeys"
        other.write_text("auth 1\n1 sha1 a-different-lab-key\n")
        other.chmod(0o600)
        d1, d2 = _pair(lab, {"node01": keys["node01"], "node02": other}, 1.5)
        for doc in (d1, d2):
            assert doc["verdict"]["code"] == "key-mismatch", doc
            assert "key mismatch" in doc["verdict"]["text"]
            inn = doc["directions"][1]
            assert inn["received"] == 0 and inn["failed_auth"] > 5 and inn["failed_auth_results"] == {"wrong-key": inn["failed_auth"]}
        print(f"healthy exchange {healthy_s:.1f} s")


def test_heartbeat_port_partition_one_way_then_both():
    """The partition scenario on heartbeat's own port (heartbeat stopped, so the probe may use 694): UDP 694
    dropped node01→node02, then both ways; the direction is named within 5 s of the first drop."""
    global PORT
    saved, PORT = PORT, 694
    try:
        with Lab(f"{SESSION_PREFIX}pp", subnet="10.250.54") as lab:
            lab.configure()
            keys = {n: lab.node_dir(n) / "ha.d" / "authkeys" for n in lab.nodes}
            a, b = lab.ip("node01"), lab.ip("node02")
            marks = {}

            def drop_one_way_then_both():
                time.sleep(1.0)
                lab.block_heartbeats("node02", ["node01"])
                marks["one"] = time.monotonic()
                time.sleep(1.5)
                lab.block_heartbeats("node01", ["node02"])

            t0 = time.monotonic()
            d1, d2 = _pair(lab, keys, 4.0, drop_one_way_then_both)
            assert time.monotonic() - marks["one"] < 5 + 1  # the reports end within the probe's run
            # node01 heard the peer report its loss first, then silence: both ways, in that order
            assert d1["verdict"]["code"] == "both-blocked", d1
            assert f"{a}→{b} stopped first" in d1["verdict"]["text"], d1["verdict"]
            # node02 heard node01 go silent: it names node01→node02
            assert d2["verdict"]["code"] == "blocked-in", d2
            assert f"blocked {a}→{b}" in d2["verdict"]["text"], d2["verdict"]
            assert time.monotonic() - t0 < 15
    finally:
        PORT = saved
