"""hadoctor.remote against a real OpenSSH sshd running inside a lab node.

hadoctor runs inside node01 (its namespaces, as an admin logged in there would run it) and
reaches node02 with the system ssh client and the lab's ``ssh -F`` file."""

from __future__ import annotations

import json
import sys

import pytest

from .conftest import LAB_OK, LAB_WHY, SESSION_PREFIX
from .hblab import Lab

pytestmark = [pytest.mark.lab, pytest.mark.skipif(not LAB_OK, reason=LAB_WHY or "lab")]

RUN = r"""
import json, sys
from hadoctor.remote import SshOptions, SshShell
r = SshShell(sys.argv[1], SshOptions(config=sys.argv[2], connect_timeout=float(sys.argv[4]))).run(
    sys.argv[3], timeout=float(sys.argv[5]))
print(json.dumps({"rc": r.rc, "out": r.stdout.decode(), "err": r.stderr.decode(), "ok": r.ok,
                  "timed_out": r.timed_out, "error": r.error, "duration": r.duration_s}))
"""


def remote(lab: Lab, script: str, *, host: str = "node02", connect_timeout: float = 3,
           timeout: float = 20) -> dict:
    cp = lab.exec("node01", sys.executable, "-c", RUN, host, str(lab.ssh_config), script,
                  str(connect_timeout), str(timeout), timeout=timeout + 30)
    assert cp.returncode == 0, cp.stderr.decode()
    return json.loads(cp.stdout)


@pytest.fixture(scope="module")
def lab():
    with Lab(f"{SESSION_PREFIX}ssh", subnet="10.250.60", second_nic=False) as lab:
        lab.start_sshd("node02")
        yield lab


def test_script_runs_on_the_peer_through_real_sshd(lab):
    r = remote(lab, "uname -n; echo err >&2; test -d /etc/ha.d && echo hadir; exit 7")
    assert r["rc"] == 7 and not r["ok"] and r["error"] is None
    assert r["out"].split() == ["node02", "hadir"]
    assert "err" in r["err"]


def test_script_travels_on_stdin_not_argv(lab):
    """The script body (where a new key would be) never shows in the remote process list."""
    r = remote(lab, "MARK=hadoctor-secret-marker-$$; ps -eo args | grep -c hadoctor-secret-marker || true")
    # only `grep` itself shows the word (its own argv): the shell running the script does not
    assert r["ok"] and int(r["out"].strip()) == 1


def test_remote_timeout_kills_and_reports(lab):
    r = remote(lab, "sleep 30", timeout=2)
    assert r["timed_out"] and r["rc"] is None and r["duration"] < 8


def test_unreachable_peer_is_a_result_not_an_exception(lab):
    lab.stop_sshd("node02")
    try:
        r = remote(lab, "true", connect_timeout=2, timeout=15)
        assert r["rc"] == 255 and not r["ok"]
        assert r["error"].startswith("cannot reach node02 over ssh:"), r["error"]
        assert r["duration"] < 10
    finally:
        lab.start_sshd("node02")
