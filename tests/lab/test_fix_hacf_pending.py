"""``hadoctor fix --authkeys`` refuses a node whose ha.cf changed after its heartbeat last read it.

On SIGHUP heartbeat compares ha.cf's mtime with the one it read (docs/heartbeat/authkeys.md#reloading):
a difference means a full restart instead of an authkeys reread, so rotating the key would silently
restart heartbeat on that node (applying the admin's pending edit) in the middle of the switch.
Real Debian heartbeat 3.0.6, hadoctor in node01 reaching node02 over sshd:

* ha.cf on node02 rewritten (same bytes) long after heartbeat started: exit 2, refused, the message
  names node02 and ha.cf, nothing changed; ``--force --dry-run`` gets past the check;
* after ``heartbeat -r`` on node02 (a restart exec: the pending change applied knowingly, logged as
  ``Performing heartbeat restart exec.``) the check passes and a rotation succeeds.

Own lab: prefix ``hbl-p<pid>-fy``, 10.250.81.0/24.
"""

from __future__ import annotations

import time

import pytest

from .conftest import LAB_OK, LAB_WHY, SESSION_PREFIX
from .hblab import HB, Lab
from .test_fix_authkeys import assert_valid_and_equal, backups, journal, node_file, run_fix

pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.skipif(not LAB_OK, reason=LAB_WHY or "lab")]


@pytest.fixture(scope="module")
def lab():
    with Lab(f"{SESSION_PREFIX}fy", subnet="10.250.81", second_nic=False) as lab:
        lab.configure()                  # ha.cf written before heartbeat starts: not pending
        lab.start_all()
        assert lab.wait_holders(["node01"], 60) is not None, lab.log("node01")[-3000:]
        lab.start_sshd("node02")
        yield lab


def _all_active(lab: Lab) -> bool:
    return all(lab.cl_status(n, "nodestatus", p).stdout.decode().strip() == "active"
               for n in lab.nodes for p in lab.nodes)


def test_unreloaded_hacf_edit_is_refused_then_fine_after_a_reload(lab):
    # the lab's own ha.cf (written before the start) passes
    rc, doc, err = run_fix(lab, "--dry-run")
    assert rc == 0 and doc["refusals"] == [], (doc, err[-2000:])

    # the fixture waited for the VIP (initdead 12 s): heartbeat started well over 2 s ago
    hacf = lab.node_dir("node02") / "ha.d" / "ha.cf"
    hacf.write_bytes(hacf.read_bytes())                 # an admin's edit, never reloaded
    before = {n: (node_file(lab, n), backups(lab, n), journal(lab, n)) for n in lab.nodes}
    rc, doc, err = run_fix(lab)
    assert rc == 2 and doc["action"] == "refused", (doc, err[-2000:])
    assert "node02: /etc/ha.d/ha.cf was modified at" in doc["message"], doc["message"]
    assert "heartbeat -r" in doc["message"] and "--force" in doc["message"]
    assert not any(r.startswith("node01") for r in doc["refusals"]), doc["refusals"]
    assert {n: (node_file(lab, n), backups(lab, n), journal(lab, n)) for n in lab.nodes} == before

    rc, doc, err = run_fix(lab, "--force", "--dry-run")
    assert rc == 0 and doc["action"] == "dry-run", (doc, err[-2000:])
    assert any("node02: /etc/ha.d/ha.cf" in r for r in doc["refusals"])

    # apply the pending change knowingly: heartbeat -r on node02 is a restart exec (same pid)
    assert lab.exec("node02", HB, "-r").returncode == 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not ("Performing heartbeat restart exec" in lab.log("node02")
                                               and _all_active(lab)):
        time.sleep(0.5)
    assert "Performing heartbeat restart exec" in lab.log("node02")
    time.sleep(3)                                       # let the restarted node settle
    assert _all_active(lab)

    rc, doc, err = run_fix(lab, "--dry-run")
    assert rc == 0 and doc["refusals"] == [], (doc, err[-2000:])
    rc, doc, err = run_fix(lab)
    assert rc == 0 and doc["action"] == "rotate", (doc["message"], err[-3000:])
    assert_valid_and_equal(lab)
