"""probe listen on real captures of the lab (heartbeat 3.0.6, netstring, sha1)."""

from __future__ import annotations

import json
import subprocess
import sys


from tests.conftest import FIXTURES

LAB = FIXTURES / "lab"


def listen(scenario: str, node: str = "node01", *extra):
    folder = LAB / scenario
    proc = subprocess.run([sys.executable, "-m", "hadoctor", "probe", "listen", "--pcap", str(folder / "heartbeat.pcap"),
                           "--ha-cf", str(folder / node / "ha.cf"), "--authkeys", str(folder / node / "authkeys"),
                           "--format", "json", *extra], capture_output=True, text=True, timeout=60)
    return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else proc.stderr


def test_healthy_capture():
    code, doc = listen("healthy")
    assert code == 0, doc
    senders = {s["node"]: s for s in doc["summary"]["senders"]}
    assert set(senders) == {"node01", "node02"}
    for s in senders.values():
        assert s["formats"] == {"netstring": s["packets"]} and s["auth_results"] == {"ok": s["packets"]}
        assert abs(s["status_interval_ms"]["p50"] - 1000) < 50  # keepalive 1
        assert s["lost"] == 0
    assert doc["verdicts"] == []


def test_foreign_cluster_named():
    code, doc = listen("foreign-cluster")
    assert code == 1
    foreign = {f["node"] for f in doc["summary"]["foreign"]}
    assert foreign == {"web01", "web02"}
    assert any("another cluster" in v["what"] and "udpport" in v["detail"] for v in doc["verdicts"])


def test_key_mismatch_named_from_each_side():
    code, doc = listen("authkeys-mismatch", "node01")
    assert code == 1
    results = {s["node"]: s["auth_results"] for s in doc["summary"]["senders"]}
    assert set(results["node01"]) == {"ok"} and set(results["node02"]) == {"wrong-key"}
    _, doc2 = listen("authkeys-mismatch", "node02")
    results = {s["node"]: s["auth_results"] for s in doc2["summary"]["senders"]}
    assert set(results["node01"]) == {"wrong-key"} and set(results["node02"]) == {"ok"}


def test_bad_pcap_is_exit_2(tmp_path):
    bad = tmp_path / "x.pcap"
    bad.write_bytes(b"not a pcap at all")
    proc = subprocess.run([sys.executable, "-m", "hadoctor", "probe", "listen", "--pcap", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith("hadoctor: error:") and "Traceback" not in proc.stderr


def test_text_report():
    folder = LAB / "foreign-cluster"
    proc = subprocess.run([sys.executable, "-m", "hadoctor", "probe", "listen", "--pcap", str(folder / "heartbeat.pcap"),
                           "--ha-cf", str(folder / "node01" / "ha.cf")], capture_output=True, text=True, timeout=60,
                          env={"COLUMNS": "200", "NO_COLOR": "1", "PATH": "/usr/bin:/bin"})
    assert "another cluster on this port: web01" in proc.stdout
    assert proc.returncode == 1
