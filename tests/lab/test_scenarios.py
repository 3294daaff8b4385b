"""Each lab scenario reaches its state, judged from the real daemons' own evidence:
log lines (exact strings, docs/heartbeat/logs.md), `ip -j a` in the node namespaces
(who holds the VIP), heartbeat's exit code (6 = configuration refused) and cl_status.

All scenarios run concurrently in the background (tests/lab/conftest.py); each test reads
one finished scenario.
"""

from __future__ import annotations

import pytest

from . import evidence as ev
from . import hblab, scenarios
from .conftest import LAB_OK, LAB_WHY, SESSION_PREFIX

pytestmark = [pytest.mark.lab, pytest.mark.skipif(not LAB_OK, reason=LAB_WHY or "lab")]

S = pytest.mark.lab_scenario
DEADTIME = scenarios.DEADTIME


def cap(res, name=None):
    return res.capture(name or res.name)


def logs(res, name=None) -> dict[str, str]:
    c = cap(res, name)
    return {n: ev.log(c, n) for n in ev.nodes(c)}


def refused(log: str) -> bool:
    return "ERROR: Configuration error, heartbeat not started." in log


# --------------------------------------------------------------------------- every capture

@pytest.mark.parametrize("name", [pytest.param(n, marks=S(n)) for n in sorted(scenarios.SCENARIOS)])
def test_capture_layout_and_expected_vip(result, name):
    """Node folder layout, fake keys only, and the VIP where scenario.json says it is."""
    assert result.name == name and result.captures, "scenario captured nothing"
    for cname, path in result.captures.items():
        assert ev.layout_problems(path) == [], cname
        d = ev.doc(path)
        assert ev.holders(path) == sorted(d["expected"]["vip_holders"]), (
            f"{cname}: `ip -j a` VIP holders differ from the scenario's expectation")
        assert d["packages"]["heartbeat"].startswith("1:3.0.6")
        kinds = [e["event"] for e in d["events"]]
        assert kinds[0] == "lab_up" and "expect" in kinds


# --------------------------------------------------------------------------- healthy

@S("healthy")
def test_healthy(result):
    assert result.evidence["start_rc"] == {"node01": 0, "node02": 0}
    c = cap(result)
    assert ev.holders(c) == ["node01"]
    lg = logs(result)
    for n, text in lg.items():
        assert "info: Configuration validated. Starting heartbeat 3.0.6" in text
        assert "info: Initial resource acquisition complete (T_RESOURCES(us))" in text
        assert "Cannot lock ourselves into memory" not in text      # realtime off
        assert "ERROR:" not in text and "CRIT:" not in text, n
        assert "Late heartbeat" not in text, n
    assert "info: Link node02:eth0 up." in lg["node01"]
    assert f"info: Acquiring resource group: node01 IPaddr::{ev.doc(c)['lab']['vip']}/24/eth0" \
        in lg["node01"]
    assert "INFO:  Success" in lg["node01"]
    assert "No local resources [/usr/share/heartbeat/ResourceManager listkeys node02] " \
        "to acquire." in lg["node02"]
    cl = result.evidence["cl_status"]
    for n in ("node01", "node02"):
        assert cl[n]["hbstatus"] == "Heartbeat is running on this machine."
        assert cl[n]["nodestatus"] == {"node01": "active", "node02": "active"}
        assert sorted(cl[n]["listnodes"]) == ["node01", "node02"]
        assert cl[n]["hblinkstatus"] == "up"
    assert (c / "node01" / "uname-n.txt").read_text() == "node01\n"
    assert (c / "node01" / "authkeys.stat").read_text() == "600 root root\n"


@S("healthy")
def test_healthy_pcap(result):
    pkts = ev.parse_pcap((cap(result) / "heartbeat.pcap").read_bytes())
    hb = [p for p in pkts if p[2] == 694]
    assert len(hb) >= 10
    srcs = {p[0] for p in hb}
    d = ev.doc(cap(result))
    assert srcs == {d["lab"]["nodes"]["node01"]["ip"], d["lab"]["nodes"]["node02"]["ip"]}
    assert all(p[1].endswith(".255") for p in hb)                  # bcast
    assert any(b"t=status" in p[3] and b"src=node01" in p[3] for p in hb)
    assert all(p[3].startswith(b"###\n") for p in hb)              # netstring wire format


# --------------------------------------------------------------------------- failover

@S("failover")
def test_failover_and_failback(result):
    assert result.evidence["crash_to_vip_s"] <= DEADTIME + 4
    fo = logs(result, "failover")
    assert ev.holders(cap(result, "failover")) == ["node02"]
    n2 = fo["node02"]
    for line in ("WARN: node node01: is dead", "info: Link node01:eth0 dead.",
                 "WARN: No STONITH device configured.", "WARN: Shared disks are not protected.",
                 "info: Resources being acquired from node01.",
                 "mach_down takeover complete for node node01.",
                 "info: mach_down takeover complete."):
        assert line in n2, line
    # node01's log just stops (power loss): no shutdown message
    assert "Heartbeat shutdown complete" not in fo["node01"]
    fb = logs(result, "failback")
    assert result.evidence["restart_rc"] == 0
    assert ev.holders(cap(result, "failback")) == ["node01"]
    assert "info: Heartbeat restart on node node01" in fb["node02"]
    assert "info: Initial resource acquisition complete (auto_failback)" in fb["node01"]
    assert "info: node02 wants to go standby [foreign]" in fb["node01"]


@S("graceful-stop")
def test_graceful_stop(result):
    """heartbeat -k on the VIP owner: it gives its resources up and says so; the peer takes over because
    of the shutdown notice, not because deadtime ran out. On a loaded machine the peer may still log
    "is dead" once node01's heartbeats stop, but only after the notice (a planned stop, LOG011 info)."""
    assert result.evidence["stop_rc"] == 0
    lg = logs(result)
    for line in ("info: Giving up all HA resources.", "info: All HA resources relinquished.",
                 "info: node01 Heartbeat shutdown complete."):
        assert line in lg["node01"], line
    n2 = lg["node02"]
    notice = n2.find("info: Received shutdown notice from 'node01'.")
    assert notice >= 0, "node02 never heard node01's shutdown notice"
    acquired = n2.find("info: Resources being acquired from node01.", notice)
    taken = n2.find("mach_down takeover complete", notice)
    assert 0 <= acquired < taken, "node02 did not take over after the notice"
    dead = n2.find("is dead", n2.find("Initial resource acquisition complete"))
    assert dead < 0 or dead > notice, "node02 declared node01 dead before its shutdown notice"
    assert ev.holders(cap(result)) == ["node02"]


# --------------------------------------------------------------------------- resources

@S("findif")
def test_findif_failure(result):
    vip = scenarios.FINDIF_VIP
    n1 = logs(result)["node01"]
    for line in ("ERROR: /usr/libexec/heartbeat/findif failed [rc=1].",
                 "ERROR:  Generic error",
                 "ERROR: Return code 1 from /etc/ha.d//resource.d/IPaddr",
                 f"CRIT: Giving up resources due to failure of {vip}"):
        assert line in n1, line
    debug = (cap(result) / "node01" / "ha-debug").read_text(errors="replace")
    assert f"ERROR: Cannot use default route w/o netmask [{vip}]" in debug
    assert ev.holders(cap(result), vip) == []
    assert (cap(result) / "node01" / "haresources").read_text() == f"node01 {vip}\n"


@S("ipaddr2-nic-mismatch")
def test_ipaddr2_nic_mismatch(result):
    c = cap(result)
    vip = ev.doc(c)["lab"]["vip"]
    addrs = dict((a, i) for i, a in ev.addresses(c, "node01"))
    own = ev.doc(c)["lab"]["nodes"]["node01"]["ip"]
    assert addrs[own] == "eth0" and addrs[vip] == "eth1"     # VIP on the wrong link
    n1 = logs(result)["node01"]
    assert f"INFO: Adding inet address {vip}/24 to device eth1" in n1
    assert "ERROR:" not in n1                                 # silently "works"


@S("ipaddr2-nic-missing")
def test_ipaddr2_nic_missing(result):
    n1 = logs(result)["node01"]
    for line in ('ERROR: Invalid interface name [eth2]: Device "eth2" does not exist.',
                 "ERROR: [findif] failed", "ERROR:  Program is not configured",
                 "ERROR: Return code 6 from /etc/ha.d//resource.d/IPaddr2",
                 "CRIT: Giving up resources due to failure of IPaddr2::"):
        assert line in n1, line
    assert ev.holders(cap(result)) == []


@S("missing-resource-script")
def test_missing_resource_script(result):
    lg = logs(result)
    for line in ("ERROR: Cannot locate resource script mysql",
                 "CRIT: Giving up resources due to failure of mysql",
                 "info: Retrying failed stop operation [mysql]",
                 "WARN: Machine reboot narrowly avoided!",
                 "Going standby [foreign]."):
        assert line in lg["node01"], line
    assert "info: Standby resource acquisition done [foreign]." in lg["node02"]
    assert ev.holders(cap(result)) == []
    assert result.evidence["reboots"] == []



# --------------------------------------------------------------------------- heartbeat paths

@S("lost-path")
def test_lost_path(result):
    lg = logs(result)
    assert "info: Link node02:eth1 dead." in lg["node01"] and "info: Link node01:eth1 dead." in lg["node02"]
    for n in ("node01", "node02"):
        assert "is dead" not in lg[n]                 # the peer is still heard over eth0
        last_link = [line for line in lg[n].splitlines() if ": Link " in line][-1]
        assert last_link.endswith(":eth1 dead."), last_link   # and eth1 never came back
    assert result.evidence["heartbeat_running"] == {"node01": True, "node02": True}
    assert "NO-CARRIER" in (cap(result) / "node02" / "ip-a.txt").read_text().split("eth1@")[1].split("\n")[0]
    assert ev.holders(cap(result)) == ["node01"]

# --------------------------------------------------------------------------- partitions

@S("split-brain")
def test_split_brain(result):
    c = cap(result, "split-brain")
    assert ev.holders(c) == ["node01", "node02"]
    assert result.evidence["partition_to_dual_s"] <= DEADTIME + 4
    lg = logs(result, "split-brain")
    assert "WARN: node node02: is dead" in lg["node01"]
    assert "WARN: node node01: is dead" in lg["node02"]
    assert "mach_down takeover complete for node node01." in lg["node02"]
    d = ev.doc(c)["lab"]["nodes"]
    for n, peer in (("node01", "node02"), ("node02", "node01")):
        rules = (c / n / "iptables-save.txt").read_text()
        assert f"-A INPUT -s {d[peer]['ip']}/32 -p udp -m udp --dport 694 -j DROP" in rules
        assert "dport 694" in (c / n / "nft-ruleset.txt").read_text()


@S("split-brain")
def test_split_brain_healed(result):
    c = cap(result, "split-brain-healed")
    assert ev.holders(c) == ["node01"]
    lg = logs(result, "split-brain-healed")
    both = lg["node01"] + lg["node02"]
    assert ("CRIT: Cluster node node02 returning after partition." in lg["node01"]
            or "CRIT: Cluster node node01 returning after partition." in lg["node02"])
    assert "info: For information on cluster partitions, See URL: " \
        "http://linux-ha.org/wiki/Split_Brain" in both
    assert "WARN: Deadtime value may be too small." in both
    assert "(> deadtime)" in both
    assert "info: Heartbeat restart triggered." in both
    assert "info: Performing heartbeat restart exec." in both
    for n in ("node01", "node02"):
        assert "DROP" not in (c / n / "iptables-save.txt").read_text()


@S("partition-one-way")
def test_partition_one_way(result):
    c = cap(result, "partition-one-way")
    assert ev.holders(c) == ["node01", "node02"]
    lg = logs(result, "partition-one-way")
    assert "WARN: node node01: is dead" in lg["node02"]
    assert "is dead" not in lg["node01"]            # node01 still hears node02
    assert "ERROR: Both machines own our resources!" in lg["node01"]
    src = ev.doc(c)["lab"]["nodes"]["node01"]["ip"]
    rules = (c / "node02" / "nft-ruleset.txt").read_text()
    assert "table inet hblab" in rules and f"ip saddr {src} udp dport 694" in rules
    assert "drop" in rules
    assert (c / "node01" / "nft-ruleset.txt").read_text() == ""
    assert ev.holders(cap(result, "partition-one-way-healed")) == ["node01"]


@S("frozen-node")
def test_frozen_node(result):
    lg = logs(result)
    assert "CRIT: Cluster node node01 returning after partition." in lg["node02"]
    assert "CRIT: Late heartbeat: Node node01: interval" in lg["node02"]
    assert "WARN: Gmain_timeout_dispatch: Dispatch function for send local status was " \
        "delayed" in lg["node01"]
    assert "ERROR: Both machines own our resources!" in lg["node01"] + lg["node02"]
    assert ev.holders(cap(result)) == ["node01"]
    kinds = [e["event"] for e in result.events]
    assert kinds.index("freeze") < kinds.index("thaw")


# --------------------------------------------------------------------------- foreign clusters

@S("foreign-cluster")
def test_foreign_cluster_other_key(result):
    c = cap(result)
    assert result.evidence["start_rc"] == {n: 0 for n in ("node01", "node02", "web01", "web02")}
    assert ev.holders(c) == ["node01"]
    assert ev.holders(c, ev.doc(c)["expected"]["vip2"]) == ["web01"]
    lg = logs(result)
    for n in ("node01", "web01"):
        assert "ERROR: authtoken does not match, authtoken=" in lg[n]
        assert "ERROR: netstring authentication failed, s=###" in lg[n]
    assert "bad node" not in lg["node01"]
    pk = ev.parse_pcap((c / "heartbeat.pcap").read_bytes())
    assert any(b"src=web01" in p[3] for p in pk) and any(b"src=node01" in p[3] for p in pk)


@S("foreign-cluster-same-key")
def test_foreign_cluster_same_key(result):
    lg = logs(result)
    assert "ERROR: process_status_message: bad node [web01] in message" in lg["node01"]
    assert "ERROR: process_status_message: bad node [node01] in message" in lg["web01"]
    assert "authtoken does not match" not in lg["node01"]
    assert ev.holders(cap(result)) == ["node01"]


# --------------------------------------------------------------------------- authkeys

@S("bad-authkeys-mode")
def test_bad_authkeys_mode(result):
    assert result.evidence["start_rc"] == {"node01": 6, "node02": 0}
    c = cap(result)
    assert (c / "node01" / "authkeys.stat").read_text() == "644 root root\n"
    n1 = logs(result)["node01"]
    assert "ERROR: Bad permissions on keyfile [/etc/ha.d//authkeys], 600 recommended." in n1
    assert "ERROR: Authentication configuration error." in n1
    assert refused(n1)
    assert "WARN: node node01: is dead" in logs(result)["node02"]
    assert ev.holders(c) == ["node02"]


@S("authkeys-mismatch")
def test_authkeys_mismatch(result):
    assert result.evidence["start_rc"] == {"node01": 0, "node02": 0}
    c = cap(result)
    lg = logs(result)
    for n, peer in (("node01", "node02"), ("node02", "node01")):
        assert "ERROR: authtoken does not match, authtoken=" in lg[n]
        assert f"WARN: node {peer}: is dead" in lg[n]
    assert ev.holders(c) == ["node01", "node02"]
    k1 = (c / "node01" / "authkeys").read_text()
    k2 = (c / "node02" / "authkeys").read_text()
    assert k1 != k2 and k1.split()[:4] == k2.split()[:4]     # same index and method


# --------------------------------------------------------------------------- refusals

@S("node-name-mismatch")
def test_node_name_mismatch(result):
    assert result.evidence["start_rc"] == {"node01": 6, "node02": 0}
    c = cap(result)
    assert (c / "node01" / "uname-n.txt").read_text() == "node01.lab.example\n"
    n1 = logs(result)["node01"]
    assert "ERROR: Current node [node01.lab.example] not in configuration!" in n1
    assert "info: By default, cluster nodes are named by `uname -n` and must be declared " \
        "with a 'node' directive in the ha.cf file." in n1
    assert refused(n1)
    assert ev.holders(c) == ["node02"]


@S("haresources-unknown-node")
def test_haresources_unknown_node(result):
    assert result.evidence["start_rc"] == {"node01": 6, "node02": 6}
    for n, text in logs(result).items():
        ok = text.index("info: Configuration validated. Starting heartbeat 3.0.6")
        bad = text.index("ERROR: Bad nodename in /etc/ha.d//haresources [node03]")
        assert ok < bad and refused(text), n     # "validated" first, then refused
    assert ev.holders(cap(result)) == []


@S("timing-refused")
def test_timing_refused(result):
    assert result.evidence["start_rc"] == {"node01": 6, "node02": 6}
    lg = logs(result)
    assert "ERROR: Dead time [4000] is too small compared to keeplive [2000]" in lg["node01"]
    assert "ERROR: Heartbeat not started: configuration error." in lg["node02"]
    assert all(refused(t) for t in lg.values())
    assert "deadtime 30s" in (cap(result) / "node02" / "ha.cf").read_text()


# --------------------------------------------------------------------------- nothing left

def test_zz_nothing_left_after_scenarios(lab_results):
    """Every scenario lab is gone: no namespace, link, mount or process of this session."""
    assert lab_results
    assert hblab.leftovers(SESSION_PREFIX) == {"netns": [], "links": [], "mounts": [],
                                               "processes": [], "workdirs": []}
