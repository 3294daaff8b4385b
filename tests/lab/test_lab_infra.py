"""The lab library itself: node isolation, idempotent setup, teardown that always runs
(exception, SIGTERM, SIGINT, SIGKILL + next setup), and nothing left behind."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from . import hblab
from .conftest import LAB_OK, LAB_WHY, SESSION_PREFIX
from .hblab import Lab, LabError

pytestmark = [pytest.mark.lab, pytest.mark.skipif(not LAB_OK, reason=LAB_WHY or "lab")]

TESTS_DIR = str(Path(__file__).resolve().parent.parent)
CLEAN = {"netns": [], "links": [], "mounts": [], "processes": [], "workdirs": []}

CHILD = r"""
import ctypes, signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)   # even if started with SIGINT ignored
ctypes.CDLL(None).prctl(1, signal.SIGTERM)                  # PR_SET_PDEATHSIG: die (cleanly) with the test
sys.path.insert(0, sys.argv[1])
from lab import hblab
lab = hblab.Lab(sys.argv[2], subnet=sys.argv[3])
with lab:
    lab.configure()
    assert lab.start_all() == {"node01": 0, "node02": 0}
    print("ready", flush=True)
    while True:
        time.sleep(0.2)
"""


def _prefix(name: str) -> str:
    return f"{SESSION_PREFIX}{name}"


@pytest.fixture
def children():
    """Child processes running a lab; whatever a failed test leaves is stopped and removed."""
    procs: list[tuple[subprocess.Popen, str]] = []
    yield procs
    for p, prefix in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for f in (p.stdout, p.stderr):
            if f:
                f.close()
        hblab.cleanup_stale(prefix)


def _child(children, prefix: str, subnet: str) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", CHILD, TESTS_DIR, prefix, subnet],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    children.append((p, prefix))
    line = p.stdout.readline()
    assert line.strip() == b"ready", p.stderr.read().decode(errors="replace")
    assert hblab.leftovers(prefix)["netns"], "child lab not up"
    assert any(hblab._exe(x) == hblab.HB for ns in hblab.leftovers(prefix)["netns"]
               for x in hblab.netns_pids(ns)), "no heartbeat running in the child lab"
    return p


def _wait_clean(prefix: str, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        left = hblab.leftovers(prefix)
        if left == CLEAN or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def test_nodes_are_isolated_and_guarded():
    prefix = _prefix("iso")
    with Lab(prefix, subnet="10.250.41") as lab:
        lab.configure()
        for n in ("node01", "node02"):
            assert lab.sh(n, "uname", "-n") == f"{n}\n"
            assert f"on {n}" in lab.sh(n, "cat", "/etc/ha.d/ha.cf")
            assert lab.sh(n, "stat", "-c", "%a %U %G", "/run/heartbeat") == \
                "750 hacluster haclient\n"
            assert lab.sh(n, "stat", "-c", "%a", "/run/resource-agents") == "1755\n"
            assert lab.exec(n, "test", "-e", "/var/lib/heartbeat/hb_uuid").returncode == 1
            assert lab.exec(n, "test", "-e", "/run/heartbeat.pid").returncode == 1
            assert "hbl-anchor" in lab.sh(n, "cat", "/proc/1/cmdline")   # own PID namespace
            assert ("eth0", f"{lab.ip(n)}/24") in lab.addresses(n)
            assert "default via 10.250.41.1" in lab.sh(n, "ip", "route")
        # the host's own /etc/ha.d and /run are untouched
        assert not Path("/etc/ha.d/ha.cf").exists()
        assert not Path("/run/heartbeat.pid").exists()
        # nothing of the lab in the root namespace
        assert hblab.leftovers(prefix)["links"] == []
        # reboot inside a node ends only that node
        lab.exec("node01", "/sbin/reboot", "-nf")
        assert lab.wait(lambda: not lab.alive("node01"), 5) is not None
        assert lab.alive("node02")
        assert lab.reboots() == ["node01 /sbin/reboot -nf"]
        lab.reboot("node01")
        assert lab.sh("node01", "uname", "-n") == "node01\n"
        # a second lab with the same prefix in this process is refused
        with pytest.raises(LabError):
            Lab(prefix, subnet="10.250.42").up()
    assert hblab.leftovers(prefix) == CLEAN


def test_teardown_after_exception():
    prefix = _prefix("exc")
    with pytest.raises(RuntimeError):
        with Lab(prefix, subnet="10.250.43") as lab:
            lab.configure()
            assert lab.start_all() == {"node01": 0, "node02": 0}
            assert lab.hb_pids("node01")
            raise RuntimeError("test failure inside the lab")
    assert hblab.leftovers(prefix) == CLEAN


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_teardown_on_signal(children, sig):
    prefix = _prefix(f"s{int(sig)}")
    p = _child(children, prefix, f"10.250.{44 + (sig == signal.SIGINT)}")
    p.send_signal(sig)
    p.wait(timeout=30)
    assert _wait_clean(prefix) == CLEAN


def test_setup_is_idempotent_after_sigkill(children):
    """SIGKILL runs no handler: the leftovers stay until the next setup of that prefix
    (or cleanup_stale) removes them."""
    prefix = _prefix("kill")
    p = _child(children, prefix, "10.250.46")
    p.kill()
    p.wait(timeout=10)
    assert hblab.leftovers(prefix)["netns"], "expected leftovers after SIGKILL"
    with Lab(prefix, subnet="10.250.46") as lab:          # takes over and rebuilds
        lab.configure()
        assert lab.start("node01") == 0
        assert sorted(hblab.leftovers(prefix)["netns"]) == sorted(lab.namespaces())
    assert hblab.leftovers(prefix) == CLEAN
    # and cleanup_stale() clears a killed lab too
    p = _child(children, prefix, "10.250.46")
    p.kill()
    p.wait(timeout=10)
    removed = hblab.cleanup_stale(prefix)
    assert sorted(removed) == sorted(f"{prefix}-{n}" for n in ("node01", "node02", "sw"))
    assert _wait_clean(prefix) == CLEAN


def test_down_is_idempotent():
    prefix = _prefix("idem")
    lab = Lab(prefix, subnet="10.250.47")
    lab.up()
    lab.up()            # a second setup rebuilds cleanly
    lab.down()
    lab.down()
    assert hblab.leftovers(prefix) == CLEAN
