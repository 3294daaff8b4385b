"""Commit confirmed (issue 15): the switch of ``fix --authkeys`` cannot strand a node, whatever dies.

Real Debian heartbeat 3.0.6 (netstring wire: nodes on different active keys drop each other's
heartbeats), keepalive 1 s, warntime 3 s, deadtime 5 s, so each node's revert deadline is
min(warntime, deadtime)/2 = 1.5 s. hadoctor runs in node01 and reaches node02 over a real sshd.

At each step of the switch (both nodes ready; node02 released, node01 not yet; both switched, none
confirmed; node02's confirm sent, its acknowledgement not read; node02 confirmed, node01 not yet;
everything confirmed) one of three things happens:

* ``kill``: hadoctor is SIGKILLed (no hadoctor process is left: the nodes' own watchdogs decide);
* ``ssh``: hadoctor's ssh child is SIGKILLed, hadoctor goes on;
* ``cut``: node02's TCP port 22 is dropped both ways inside its namespace, hadoctor goes on; the cut is
  healed once hadoctor has ended (late lines then arrive at node02 and must change nothing);
* ``ackcut``: only what node02's sshd sends is dropped: hadoctor's confirm still arrives, node02's
  acknowledgement never does.

Then, with no hadoctor running and every watchdog done: both nodes hold a valid 0600 authkeys with the
same active key (the old one unless every node was confirmed), heartbeat runs on both and sees the other
active, neither log says ``is dead`` or ``returning after partition``, and the VIP stayed on node01
alone (sampled every 0.2 s throughout). A re-run then ends on one key again, and when it recovers the
interrupted run it goes the way the watchdogs went.

Between the confirmations (hadoctor SIGKILLed after node02's confirm went out or was acknowledged;
node02's acknowledgement lost): node02 is confirmed and node01 is
not, so node01 reverts at its deadline; node02, watching its log past the deadline, sees node01's
heartbeats rejected and reverts too: all old (docs/fix-authkeys.md#commit-confirmed).

Own lab: prefix ``hbl-p<pid>-fc``, 10.250.84.0/24.
"""

from __future__ import annotations

import json
import re
import time
import uuid

import pytest

from hadoctor.catalogue import pattern
from hadoctor.fix.switch import STALE_GO_S
from hadoctor.parsers.authkeys import parse_authkeys

from .conftest import LAB_OK, LAB_WHY
from .hblab import Lab
from .test_fix_authkeys import (SALT, VipWatch, assert_heartbeat_alive, assert_valid_and_equal, fix_env, fix_lab,
                                journal, log_sizes, new_log, node_file, run_fix, start_until_paused)

pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.skipif(not LAB_OK, reason=LAB_WHY or "lab")]

DEADLINE_S = 1.5          # min(warntime 3, deadtime 5) / 2
LATE = re.compile(pattern("hb.late_heartbeat"))

#: (what dies, where) -> the key both nodes must end on with no hadoctor alive
MATRIX = {
    ("kill", "switch-ready"): "old",
    ("kill", "switch-partial"): "old",
    ("kill", "switch-unconfirmed"): "old",
    ("kill", "switched"): "new",
    ("ssh", "switch-partial"): "old",
    ("ssh", "switch-unconfirmed"): "old",
    ("kill", "confirm-sent"): "old",
    ("kill", "confirm-partial"): "old",
    ("ssh", "confirm-partial"): "new",
    ("cut", "switch-ready"): "old",
    ("cut", "switch-partial"): "old",
    ("cut", "switch-unconfirmed"): "old",
    ("cut", "confirm-partial"): "new",
    ("ackcut", "switch-unconfirmed"): "old",
}
#: where node02 must have been confirmed (its watchdog then watching) although the outcome is old
CONFIRMED_THEN_FOLLOWED = {("kill", "confirm-sent"), ("kill", "confirm-partial"), ("ackcut", "switch-unconfirmed")}


@pytest.fixture(scope="module")
def lab():
    with fix_lab("fc", "10.250.84") as lab:
        yield lab


CUT_RULES = {"in": ["INPUT", "-p", "tcp", "--dport", "22", "-j", "DROP"],
             "out": ["OUTPUT", "-p", "tcp", "--sport", "22", "-j", "DROP"]}


def cut_ssh(lab: Lab, node: str, on: bool, ways=("in", "out")) -> None:
    op = "-I" if on else "-D"
    for way in ways:
        lab.netexec(node, "iptables", op, *CUT_RULES[way], check=on)


def armed(lab: Lab) -> list:
    return [n for n in lab.nodes if any((lab.node_dir(n) / "lib").glob(".hadoctor-fix.armed*"))]


def active_fp(lab: Lab, node: str) -> str:
    data, mode, _ = node_file(lab, node)
    return parse_authkeys(data, "authkeys", mode=mode, salt=SALT).active.fingerprint


@pytest.mark.parametrize("what,point", list(MATRIX))
def test_switch_ends_on_one_key_whatever_dies(lab, what, point):
    sizes = log_sizes(lab)
    before = assert_valid_and_equal(lab)
    resume = lab.workdir / f"resume-{uuid.uuid4().hex[:8]}"
    env = fix_env(HADOCTOR_FIX_PAUSE_AT=point, HADOCTOR_FIX_RESUME_FILE=str(resume))
    cut: tuple = ()
    with VipWatch(lab) as vip:
        proc, _, pid, seen = start_until_paused(lab, env)
        try:
            assert pid, f"hadoctor never paused at {point}: {seen.decode(errors='replace')[-3000:]}"
            t_pause = time.monotonic()
            if what == "kill":
                lab.exec("node01", "kill", "-KILL", pid)
            elif what == "ssh":
                cp = lab.exec("node01", "pkill", "-KILL", "-P", pid, "-x", "ssh")
                assert cp.returncode == 0, "no ssh child of hadoctor to kill"
            else:
                cut = ("in", "out") if what == "cut" else ("out",)
                cut_ssh(lab, "node02", True, cut)
            if what != "kill":
                resume.write_text("go on\n")
            if (what, point) in CONFIRMED_THEN_FOLLOWED:
                watching = lab.node_dir("node02") / "lib" / ".hadoctor-fix.armed.confirmed"
                assert lab.wait(watching.exists, 2, "node02 confirmed", interval=0.05) is not None, \
                    "node02 was not confirmed: this case would not test a confirmed node following its peer"
            out, err = proc.communicate(timeout=180)
            err = seen + err
            # every node decided by itself: no hadoctor process, no armed revert left
            assert lab.wait(lambda: not armed(lab), 15, "watchdogs done") is not None, armed(lab)
            if cut:
                # heal only when a go or confirm still in flight to node02 is too late to count
                time.sleep(max(0.0, t_pause + STALE_GO_S + 1 - time.monotonic()))
                cut_ssh(lab, "node02", False, cut)
                cut = ()
                time.sleep(DEADLINE_S + 1.5)       # what a late line could start has ended
                assert not armed(lab), armed(lab)
            after = assert_valid_and_equal(lab)
            expected = MATRIX[(what, point)]
            assert (after == before) == (expected == "old"), \
                f"{what} at {point}: ended on the {'old' if after == before else 'new'} key, expected {expected}"
            assert lab.holders() == ["node01"]
        finally:
            if cut:
                cut_ssh(lab, "node02", False, cut)
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    print(f"\n{what} at {point}: rc {proc.returncode}, both nodes on the {expected} key, "
          f"{vip.samples} VIP samples")
    assert not vip.bad, f"the VIP moved: {vip.bad[:10]}"
    logs = new_log(lab, sizes)
    for node, text in logs.items():
        assert "is dead" not in text, (what, point, node)
        assert "returning after partition" not in text, (what, point, node)
    # the longest silence each node saw (heartbeat warns past warntime; deadtime is 5 s)
    late = {n: max((int(m.group("ms")) for m in LATE.finditer(t)), default=0) for n, t in logs.items()}
    print(f"  longest late heartbeat logged (ms, 0: none past warntime): {late}")
    assert all(ms < 5000 for ms in late.values()), late
    assert_heartbeat_alive(lab)
    if what != "kill":
        doc = json.loads(out)
        # hadoctor lived: it says how it ended (4 when node02 stayed unreachable for its rollback)
        assert proc.returncode in ((0,) if expected == "new" and what == "ssh" else (1, 4)), \
            (proc.returncode, doc["message"], err.decode(errors="replace")[-2000:])
    # a re-run ends on one key again; a recovery goes the way the watchdogs went
    rc, doc, err2 = run_fix(lab)
    assert rc in (0, 1), (rc, doc and doc["message"], err2[-2000:])
    final = assert_valid_and_equal(lab)
    if doc["action"] in ("recover", "rolled-back"):
        assert final == after, (doc["action"], doc["message"])
        assert (doc["action"], rc) == (("recover", 0) if expected == "new" else ("rolled-back", 1)), doc["message"]
    for node in lab.nodes:
        assert journal(lab, node)["state"] in ("done", "rolled-back")
        assert not list((lab.node_dir(node) / "ha.d").glob(".authkeys.hadoctor-*"))
        assert not list((lab.node_dir(node) / "lib").glob(".hadoctor-fix.*"))
    assert lab.holders() == ["node01"]
