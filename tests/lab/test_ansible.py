"""The Ansible collection (ansible/ansible_collections/hadoctor/heartbeat) against real nodes.

ansible-core (PyPI) runs the collection's playbook, from an observer namespace on the lab's segment,
against two clusters (alpha1/alpha2 and beta1/beta2: real heartbeat, ucast media, real sshd in each
node's namespaces); the nodes run only sh (the inventory gives them no Python:
ansible_python_interpreter=/bin/false). beta2's authkeys is made readable by
others after heartbeat started: the fleet result must name SEC001 on cluster beta, node beta2, and
nothing of the kind elsewhere. A second run in check mode with hadoctor_fix_authkeys=true must
change no node."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import pytest

from .conftest import LAB_OK, LAB_WHY, SESSION_PREFIX
from .hblab import FAKE_KEY, Lab

pytestmark = [pytest.mark.lab, pytest.mark.skipif(not LAB_OK, reason=LAB_WHY or "lab")]

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / "ansible"
PLAYBOOK = shutil.which("ansible-playbook")
START = 45


def _state(lab: Lab, node: str) -> str:
    cp = lab.exec(node, "sh", "-c", "stat -c '%a %s' /etc/ha.d/authkeys; sha256sum /etc/ha.d/authkeys "
                                    "/etc/ha.d/ha.cf /etc/ha.d/haresources")
    return hashlib.sha256(cp.stdout).hexdigest()


@pytest.mark.skipif(PLAYBOOK is None, reason="ansible-core is not installed (pip install '.[test]' installs it)")
def test_fleet_playbook_names_the_fault(tmp_path):
    # one segment, two clusters kept apart by ucast media and their own VIPs; the controller is an
    # observer namespace on the segment (nothing is routed out of the lab)
    nodes = ("alpha1", "alpha2", "beta1", "beta2")
    with Lab(f"{SESSION_PREFIX}ans", nodes=nodes, subnet="10.250.88", second_nic=False, observers=("ctl",)) as lab:
        for members, vip in ((("alpha1", "alpha2"), lab.vip), (("beta1", "beta2"), lab.vip2)):
            lab.configure(members=members, nodes=members, haresources=f"{members[0]} IPaddr::{vip}/24/eth0\n",
                          media=tuple(f"ucast eth0 {lab.ip(m)}" for m in members))
        for n in nodes:
            lab.start_sshd(n)
        lab.start_all()
        assert lab.wait_holders(["alpha1"], START, ip=lab.vip) is not None, "VIP on alpha1"
        assert lab.wait_holders(["beta1"], START, ip=lab.vip2) is not None, "VIP2 on beta1"
        lab.exec("beta2", "chmod", "0644", "/etc/ha.d/authkeys")
        inventory = tmp_path / "inventory.ini"
        inventory.write_text(
            "[alpha]\nalpha1\nalpha2\n[beta]\nbeta1\nbeta2\n"
            f"[alpha:vars]\nansible_ssh_common_args=-F {lab.ssh_config}\nansible_python_interpreter=/bin/false\n"
            f"[beta:vars]\nansible_ssh_common_args=-F {lab.ssh_config}\nansible_python_interpreter=/bin/false\n")
        wrapper = tmp_path / "hadoctor"
        wrapper.write_text(f"#!/bin/sh\nPYTHONPATH={REPO} exec {sys.executable} -m hadoctor \"$@\"\n")
        wrapper.chmod(0o755)
        fleet = tmp_path / "fleet"
        env = [f"ANSIBLE_COLLECTIONS_PATH={COLLECTIONS}", f"PYTHONPATH={REPO}", "ANSIBLE_NOCOLOR=1",
               f"ANSIBLE_LOCAL_TEMP={tmp_path / 'tmp'}", f"ANSIBLE_HOME={tmp_path / 'ansible-home'}"]
        args = ["env", *env, PLAYBOOK, "-i", str(inventory), "hadoctor.heartbeat.fleet_check",
                "-e", f"hadoctor_fleet_dir={fleet}", "-e", f"hadoctor_command={wrapper}"]

        def playbook(*extra: str):
            cp = lab.netexec("ctl", *args, *extra, timeout=600)
            out = cp.stdout.decode(errors="replace")
            assert cp.returncode == 0, out[-3000:] + cp.stderr.decode(errors="replace")[-2000:]
            return out

        before = {n: _state(lab, n) for n in nodes}
        out = playbook()
        doc = json.loads((fleet / "fleet.json").read_text())
        by = {c["name"]: c for c in doc["clusters"]}
        assert sorted(by) == ["alpha", "beta"]
        assert sorted(by["beta"]["nodes"]) == ["beta1", "beta2"] and sorted(by["alpha"]["nodes"]) == ["alpha1", "alpha2"]
        sec = [(f["node"], f["status"]) for f in by["beta"]["findings"] if f["code"] == "SEC001"]
        assert sec == [("beta2", "fail")], by["beta"]["findings"]
        assert not [f for f in by["alpha"]["findings"] if f["code"] == "SEC001"]
        assert by["beta"]["verdict"] == "error"
        assert "beta: error" in out and (fleet / "fleet.html").read_text().count("SEC001") >= 2
        # nothing on the nodes changed; the key is in no collected byte
        assert before == {n: _state(lab, n) for n in nodes}
        key = FAKE_KEY.split()[-1].encode()
        for f in fleet.rglob("*"):
            assert not f.is_file() or key not in f.read_bytes(), f
        # check mode with the fix asked for: collection and check run, the fix is skipped, nothing changes
        out = playbook("--check", "-e", "hadoctor_fix_authkeys=true")
        assert "hadoctor fix" in out and "changed=1" not in out
        assert before == {n: _state(lab, n) for n in nodes}
