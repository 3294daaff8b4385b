"""``probe vip`` against a real heartbeat pair: the VIP must be free before the cluster starts,
held once (node01's eth0) when healthy, held twice after a partition, and a foreign host
using the VIP is an address conflict. The probe runs from an observer namespace on the
same bridge (and once from node01 itself); IPv6 neighbour solicitation on the same lab.

Its own small lab (prefix ``hbl-p<pid>-pv``, 10.250.40.0/24), torn down by the context
manager whatever happens (and by hblab's atexit/SIGTERM handlers).
"""

from __future__ import annotations

import time

import pytest

from hadoctor.errors import EXIT_FINDINGS, EXIT_OK
from hadoctor.parsers.haresources import parse_haresources
from hadoctor.probe import neighbours, vip, vip_targets
from hadoctor.probe.vip import FREE, HELD_ONCE, HELD_TWICE

from . import scenarios
from .conftest import LAB_OK, LAB_WHY, SESSION_PREFIX
from .hblab import Lab

pytestmark = [pytest.mark.lab, pytest.mark.skipif(not LAB_OK, reason=LAB_WHY or "lab")]

SUBNET = "10.250.40"          # scenarios use 1-17, test_lab_infra 41-47, probe fixtures 48
VIP6 = "fd00:250:40::100"     # only ever configured inside the lab's namespaces
FAST = {"timeout": 0.6, "count": 3}


@pytest.fixture(scope="module")
def lab():
    with Lab(f"{SESSION_PREFIX}pv", subnet=SUBNET, observers=("obs", "rogue")) as lab:
        lab.configure()
        yield lab


def _targets(lab):
    path = lab.node_dir("node01") / "ha.d" / "haresources"
    return vip_targets.vip_targets(parse_haresources(path.read_bytes(), str(path)))


def _owners(lab):
    return {n: neighbours.read_interfaces(lab.ns(n)) for n in lab.nodes}


def _probe(lab, where="obs", **kw):
    (result,) = vip.probe_vips(_targets(lab), netns=lab.ns(where), owners=_owners(lab), **{**FAST, **kw})
    return result


def test_free_then_once_then_twice(lab):
    t0 = time.monotonic()
    mac1, mac2, rogue = lab.mac("node01"), lab.mac("node02"), lab.mac("rogue")

    # before the cluster takes it: the admin guides' "the virtual IP has to be free"
    r = _probe(lab, expect_free=True)
    assert (r.verdict, r.macs, r.iface, r.ok) == (FREE, [], "eth0", True), r.detail
    assert r.report.sender == lab.ip("obs") and r.report.sent == 3
    assert vip.exit_code([r]) == EXIT_OK

    assert lab.start_all() == {"node01": 0, "node02": 0}
    assert lab.wait_holders(["node01"], scenarios.START_TIMEOUT) is not None, "VIP never came up on node01"

    r = _probe(lab)
    assert (r.verdict, r.macs, r.owners) == (HELD_ONCE, [mac1], {mac1: "node01/eth0"}), r.detail
    assert r.report.evidence[mac1]["reply"] >= 1 and vip.exit_code([r]) == EXIT_OK
    # from node01 itself: nobody else answers, its own eth0 carries the VIP
    r = _probe(lab, "node01")
    assert (r.verdict, r.macs, r.local_mac) == (HELD_ONCE, [mac1], mac1), r.detail
    # now it is not free any more
    r = _probe(lab, expect_free=True)
    assert (r.verdict, r.ok) == (HELD_ONCE, False) and vip.exit_code([r]) == EXIT_FINDINGS

    # a foreign host configures the VIP too: an address conflict, not a split brain
    lab.netexec("rogue", "ip", "addr", "add", f"{lab.vip}/24", "dev", "eth0", check=True)
    try:
        r = _probe(lab)
        assert r.verdict == HELD_TWICE and set(r.macs) == {mac1, rogue}, r.detail
        assert "address conflict" in r.detail and rogue not in r.owners
    finally:
        lab.netexec("rogue", "ip", "addr", "del", f"{lab.vip}/24", "dev", "eth0", check=True)

    lab.partition("node01", "node02", both_ways=True)
    assert lab.wait_holders(["node01", "node02"], scenarios.DEADTIME + 20) is not None, "no split brain"
    r = _probe(lab)
    assert r.verdict == HELD_TWICE and set(r.macs) == {mac1, mac2}, r.detail
    assert r.owners == {mac1: "node01/eth0", mac2: "node02/eth0"}
    assert "split brain" in r.detail and vip.exit_code([r]) == EXIT_FINDINGS
    # seen from node02, which holds it too: node01 answers, node02's own eth0 counts
    r = _probe(lab, "node02")
    assert r.verdict == HELD_TWICE and r.local_mac == mac2 and set(r.macs) == {mac1, mac2}, r.detail
    assert time.monotonic() - t0 < 40


def test_ndp(lab):
    lab.netexec("node01", "ip", "addr", "add", f"{VIP6}/64", "dev", "eth0", "nodad", check=True)
    obs = lab.ns("obs")
    # the observer needs its link-local address (DAD over) to send from
    assert lab.wait(lambda: b"tentative" not in lab.netexec("obs", "ip", "-6", "addr", "show", "dev",
                                                            "eth0").stdout, 10, "obs link-local") is not None
    report = neighbours.ndp_exchange(VIP6, "eth0", netns=obs, **FAST)
    assert report.macs == [lab.mac("node01")] and report.evidence[lab.mac("node01")]["reply"] >= 1
    assert neighbours.ndp_exchange("fd00:250:40::99", "eth0", netns=obs, **FAST).macs == []
    (r,) = vip.probe_vips([f"{VIP6}/64/eth0"], netns=obs, owners=_owners(lab), **FAST)
    assert (r.verdict, r.owners) == (HELD_ONCE, {lab.mac("node01"): "node01/eth0"}), r.detail
    assert neighbours.arp_exchange(lab.ip("node02"), "eth0", netns=obs, **FAST).macs == [lab.mac("node02")]
