"""``hadoctor fix --authkeys`` refuses, before changing anything, what heartbeat itself would trip on
(issue 15). Real Debian heartbeat 3.0.6, hadoctor in node01 reaching node02 over sshd:

* node02's authkeys made mode 0644 after heartbeat started (heartbeat refuses to start with such a
  file, and its next reload fails): exit 2, the message says ``chmod 600 /etc/ha.d/authkeys`` on
  node02, nothing changed;
* node02's ha.cf changed (warntime) but with its old mtime put back (``cp -p``): refused by content
  (``cl_status hbparameter``), nothing changed; with ``--force`` heartbeat restarts there during the
  rotation, and the report says so instead of success;
* node02's heartbeat stopped: refused in under 3 s with that one reason.

Own lab: prefix ``hbl-p<pid>-fr``, 10.250.82.0/24.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from .conftest import LAB_OK, LAB_WHY
from .hblab import Lab
from .test_fix_authkeys import assert_valid_and_equal, backups, fix_lab, journal, node_file, run_fix

pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.skipif(not LAB_OK, reason=LAB_WHY or "lab")]


@pytest.fixture(scope="module")
def lab():
    with fix_lab("fr", "10.250.82") as lab:
        yield lab


def _state(lab: Lab) -> dict:
    return {n: (node_file(lab, n), backups(lab, n), journal(lab, n)) for n in lab.nodes}


def test_authkeys_readable_by_others_is_refused_with_the_chmod(lab):
    ak = lab.node_dir("node02") / "ha.d" / "authkeys"
    ak.chmod(0o644)                      # after the start: heartbeat would not start with it
    try:
        before = _state(lab)
        rc, doc, err = run_fix(lab)
        assert rc == 2 and doc["action"] == "refused", (doc, err[-2000:])
        assert "node02: /etc/ha.d/authkeys is mode 0644" in doc["message"], doc["message"]
        assert "on node02: chmod 600 /etc/ha.d/authkeys" in doc["message"], doc["message"]
        assert doc["refusals"] and all(r.startswith("node02: /etc/ha.d/authkeys") for r in doc["refusals"])
        assert _state(lab) == before
    finally:
        ak.chmod(0o600)
    rc, doc, err = run_fix(lab, "--dry-run")
    assert rc == 0 and doc["refusals"] == [], (doc, err[-2000:])
    assert_valid_and_equal(lab)


def test_hacf_copied_with_an_old_mtime_is_refused_by_content_and_a_forced_restart_reported(lab):
    hacf = lab.node_dir("node02") / "ha.d" / "ha.cf"
    orig, st = hacf.read_bytes(), hacf.stat()
    assert b"\nwarntime 3\n" in orig
    hacf.write_bytes(orig.replace(b"\nwarntime 3\n", b"\nwarntime 4\n"))
    os.utime(hacf, (st.st_atime, st.st_mtime - 60))   # cp -p of an older copy: before heartbeat started
    before = _state(lab)
    rc, doc, err = run_fix(lab)
    assert rc == 2 and doc["action"] == "refused", (doc, err[-2000:])
    assert len(doc["refusals"]) == 1, doc["refusals"]
    assert doc["refusals"][0].startswith("node02: /etc/ha.d/ha.cf differs from what the running heartbeat"), doc
    assert "warntime '4' in the file but '3' running" in doc["refusals"][0]
    assert _state(lab) == before

    # --force: the staging reload restarts heartbeat on node02; the verification must say so
    rc, doc, err = run_fix(lab, "--force")
    print(f"\n--force with a pending ha.cf: rc {rc}, {doc.get('action') if doc else None}: "
          f"{doc.get('message') if doc else err[-1500:]}")
    assert "Performing heartbeat restart exec" in lab.log("node02")
    assert rc != 0, doc
    assert "heartbeat restarted during the rotation" in json.dumps(doc), doc


def test_stopped_peer_is_refused_fast_with_the_one_reason(lab):
    """Last in this module: node02 stays stopped."""
    lab.stop("node02")
    assert lab.wait(lambda: lab.cl_status("node01", "nodestatus", "node02").stdout.decode().strip() == "dead",
                    30, "node01 sees node02 dead") is not None
    before = _state(lab)
    t0 = time.monotonic()
    rc, doc, err = run_fix(lab)
    took = time.monotonic() - t0
    print(f"\nrefusal with node02's heartbeat stopped: {took:.2f} s")
    assert rc == 2 and doc["action"] == "refused", (doc, err[-2000:])
    assert doc["refusals"] == ["node02: heartbeat is not running (cl_status hbstatus / pid file)"], doc["refusals"]
    assert took < 3.0, (took, err[-2000:])
    assert _state(lab) == before
