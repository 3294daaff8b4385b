"""The Ansible collection (ansible/ansible_collections/hadoctor/heartbeat) against real nodes.

ansible-core (PyPI) runs the collection's playbook, from an observer namespace on the lab's segment,
against three clusters in inventory order (alpha1/alpha2, beta1/beta2, gamma1/gamma2: real heartbeat,
ucast media, real sshd in each node's namespaces); the inventory gives the nodes no Python
(ansible_python_interpreter=/bin/false): collecting them needs only sh. beta2's authkeys is made
readable by others after heartbeat started.

* the fleet result names SEC001 on cluster beta, node beta2, and nothing of the kind elsewhere; a
  second run in check mode with hadoctor_fix_authkeys=true (and a working hadoctor on the nodes)
  changes no node and runs no fix;
* with hadoctor_fix_authkeys=true the fix step rotates alpha's key (a new key on both nodes, the VIP
  never moves), is refused on beta (exit 2: beta2's mode 0644), and the run stops there: gamma is
  never reached (hadoctor is never started on it, its files are untouched).

Own lab: prefix ``hbl-p<pid>-ans``, 10.250.88.0/24."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from hadoctor.parsers.authkeys import parse_authkeys

from .conftest import LAB_OK, LAB_WHY, SESSION_PREFIX
from .hblab import FAKE_KEY, Lab
from .test_fix_authkeys import VipWatch, backups, journal, node_file

pytestmark = [pytest.mark.lab, pytest.mark.skipif(not LAB_OK, reason=LAB_WHY or "lab")]

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / "ansible"
PLAYBOOK = shutil.which("ansible-playbook")
START = 45
CLUSTERS = {"alpha": ("alpha1", "alpha2"), "beta": ("beta1", "beta2"), "gamma": ("gamma1", "gamma2")}


@dataclass
class Fleet:
    lab: Lab
    tmp: Path
    vips: dict
    fix_calls: Path

    def playbook(self, *extra: str, rc: int = 0) -> str:
        """ansible-playbook fleet_check from the controller namespace; its output (stdout)."""
        node_hadoctor = self.tmp / "node-hadoctor"
        args = ["env", f"ANSIBLE_COLLECTIONS_PATH={COLLECTIONS}", f"PYTHONPATH={REPO}", "ANSIBLE_NOCOLOR=1",
                f"ANSIBLE_LOCAL_TEMP={self.tmp / 'tmp'}", f"ANSIBLE_HOME={self.tmp / 'ansible-home'}",
                PLAYBOOK, "-i", str(self.tmp / "inventory.ini"), "hadoctor.heartbeat.fleet_check",
                "-e", f"hadoctor_fleet_dir={self.tmp / 'fleet'}", "-e", f"hadoctor_command={self.tmp / 'hadoctor'}",
                "-e", f"hadoctor_node_command={node_hadoctor}",
                "-e", json.dumps({"hadoctor_fix_args": ["--ssh-config", str(self.lab.ssh_config)]}), *extra]
        cp = self.lab.netexec("ctl", *args, timeout=600)
        out = cp.stdout.decode(errors="replace")
        assert cp.returncode == rc, out[-4000:] + cp.stderr.decode(errors="replace")[-2000:]
        return out

    def calls(self) -> list:
        """The nodes hadoctor was started on by the playbook (the node wrapper notes each start)."""
        return self.fix_calls.read_text().split() if self.fix_calls.exists() else []


def _digest(lab: Lab, node: str) -> str:
    cp = lab.exec(node, "sh", "-c", "stat -c '%a %s' /etc/ha.d/authkeys; sha256sum /etc/ha.d/authkeys "
                                    "/etc/ha.d/ha.cf /etc/ha.d/haresources")
    return hashlib.sha256(cp.stdout).hexdigest()


def _files(lab: Lab, node: str) -> tuple:
    """What a fix would change on the node: authkeys (bytes, mode, mtime), its backups, the journal."""
    return node_file(lab, node), backups(lab, node), journal(lab, node)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    if PLAYBOOK is None:
        pytest.skip("ansible-core is not installed (pip install '.[test]' installs it)")
    tmp = tmp_path_factory.mktemp("ansible")
    nodes = tuple(n for members in CLUSTERS.values() for n in members)
    # one segment, three clusters kept apart by ucast media and their own VIPs; the controller is an
    # observer namespace on the segment (nothing is routed out of the lab)
    with Lab(f"{SESSION_PREFIX}ans", nodes=nodes, subnet="10.250.88", second_nic=False, observers=("ctl",)) as lab:
        vips = dict(zip(CLUSTERS, (lab.vip, lab.vip2, f"{lab.subnet}.102")))
        for name, members in CLUSTERS.items():
            lab.configure(members=members, nodes=members, haresources=f"{members[0]} IPaddr::{vips[name]}/24/eth0\n",
                          media=tuple(f"ucast eth0 {lab.ip(m)}" for m in members))
        for n in nodes:
            lab.start_sshd(n)
        lab.start_all()
        for name, members in CLUSTERS.items():
            assert lab.wait_holders([members[0]], START, ip=vips[name]) is not None, f"VIP of {name} on {members[0]}"
        lab.exec("beta2", "chmod", "0644", "/etc/ha.d/authkeys")
        groups = "".join(f"[{name}]\n" + "".join(f"{m}\n" for m in members) for name, members in CLUSTERS.items())
        common = f"ansible_ssh_common_args=-F {lab.ssh_config}\nansible_python_interpreter=/bin/false\n"
        (tmp / "inventory.ini").write_text(groups + f"[all:vars]\n{common}")
        hadoctor = tmp / "hadoctor"           # the controller's hadoctor: this tree
        hadoctor.write_text(f"#!/bin/sh\nPYTHONPATH={REPO} exec {sys.executable} -m hadoctor \"$@\"\n")
        fix_calls = tmp / "fix-calls"
        node_hadoctor = tmp / "node-hadoctor"  # hadoctor installed on the nodes: this tree, each start noted
        node_hadoctor.write_text(f"#!/bin/sh\nuname -n >> {fix_calls}\n"
                                 f"PYTHONPATH={REPO} exec {sys.executable} -m hadoctor \"$@\"\n")
        for f in (hadoctor, node_hadoctor):
            f.chmod(0o755)
        yield Fleet(lab, tmp, vips, fix_calls)


def test_fleet_playbook_names_the_fault_and_check_mode_changes_nothing(fleet):
    lab, fleet_dir = fleet.lab, fleet.tmp / "fleet"
    before = {n: _digest(lab, n) for n in lab.nodes}
    out = fleet.playbook()
    doc = json.loads((fleet_dir / "fleet.json").read_text())
    by = {c["name"]: c for c in doc["clusters"]}
    assert sorted(by) == sorted(CLUSTERS)
    for name, members in CLUSTERS.items():
        assert sorted(by[name]["nodes"]) == sorted(members)
    sec = [(f["node"], f["status"]) for f in by["beta"]["findings"] if f["code"] == "SEC001"]
    assert sec == [("beta2", "fail")], by["beta"]["findings"]
    for name in ("alpha", "gamma"):
        assert not [f for f in by[name]["findings"] if f["code"] == "SEC001"], name
    assert by["beta"]["verdict"] == "error"
    assert "beta: error" in out and (fleet_dir / "fleet.html").read_text().count("SEC001") >= 2
    # nothing on the nodes changed; the key is in no collected byte; no fix was asked for
    assert before == {n: _digest(lab, n) for n in lab.nodes}
    key = FAKE_KEY.split()[-1].encode()
    for f in fleet_dir.rglob("*"):
        assert not f.is_file() or key not in f.read_bytes(), f
    assert fleet.calls() == []
    # check mode with the fix asked for (and hadoctor working on the nodes): collection and check run,
    # the fix is skipped, nothing changes
    out = fleet.playbook("--check", "-e", "hadoctor_fix_authkeys=true")
    assert "hadoctor fix" in out and "changed=1" not in out
    assert before == {n: _digest(lab, n) for n in lab.nodes}
    assert fleet.calls() == []


def test_fix_rotates_one_cluster_at_a_time_and_stops_at_the_first_refusal(fleet):
    lab = fleet.lab
    before = {n: _files(lab, n) for n in lab.nodes}
    old = parse_authkeys(before["alpha1"][0][0], "authkeys").active.fingerprint
    sizes = {n: len(lab.log_bytes(n)) for n in CLUSTERS["alpha"]}
    with VipWatch(lab, ("alpha1",), fleet.vips["alpha"]) as vip:
        out = fleet.playbook("-e", "hadoctor_fix_authkeys=true", rc=2)   # 2: a host failed
    # one cluster at a time, stopping at the first failure: alpha, then beta refused, gamma never reached
    assert fleet.calls() == ["alpha1", "beta1"], out[-4000:]
    fix_part = out[out.index("PLAY [Rotate the authkeys key"):].split("PLAY RECAP")[0]
    assert "changed: [alpha1]" in fix_part and "fatal: [beta1]" in fix_part, fix_part
    assert "beta2: /etc/ha.d/authkeys is mode 0644" in fix_part, fix_part
    assert "gamma" not in fix_part, fix_part
    assert "\\u001b" not in fix_part and "\x1b" not in fix_part, "escape sequences in the result Ansible shows"
    # alpha: a new key, the same on both nodes, 0600; no failover, no node declared dead
    fps = set()
    for node in CLUSTERS["alpha"]:
        data, mode, _ = node_file(lab, node)
        parsed = parse_authkeys(data, "authkeys", mode=mode)
        assert mode == 0o600 and not parsed.problems, (node, oct(mode), parsed.problems)
        fps.add(parsed.active.fingerprint)
        assert backups(lab, node) and journal(lab, node)["state"] == "done", node
        new_log = lab.log_bytes(node)[sizes[node]:].decode("utf-8", "replace")
        assert "is dead" not in new_log and "returning after partition" not in new_log, node
    assert len(fps) == 1 and old not in fps, "alpha must share one new key"
    assert vip.samples >= 5 and not vip.bad, vip.bad
    # beta (refused before any change) and gamma (never reached): untouched
    for name in ("beta", "gamma"):
        for node in CLUSTERS[name]:
            assert _files(lab, node) == before[node], node
