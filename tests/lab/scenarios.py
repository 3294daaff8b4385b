"""Heartbeat lab scenarios: each drives a real cluster into one state and captures it.

A scenario function takes a :class:`Ctx` and does its work inside ``ctx.lab(...)``; it
records what it observed in ``ctx.evidence`` and writes one or more captures (node folder
layout, see docs/architecture.md) with ``ctx.capture``. It never asserts: a wait that times
out is recorded in ``ctx.notes`` and the capture still happens, so the tests can say
precisely what did not happen.

``run_scenarios(names, out_root, jobs)`` runs several at once in threads, each with its
own namespace prefix (``hbl-<tag>-<short>``) and subnet (``10.250.<index>.0/24``);
``ScenarioProcess`` does the same in a child process (``main``), which is what the pytest
session uses. Every capture folder is ``out_root/<capture name>``.

>>> sorted(SCENARIOS)[:3]
['authkeys-mismatch', 'bad-authkeys-mode', 'failover']
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from . import hblab
from .hblab import FAKE_KEY, OTHER_FAKE_KEY, Lab, authkeys_text, ha_cf

# Default timings: keepalive 1, deadtime 5, warntime 3, initdead 10 (hblab.ha_cf).
DEADTIME = 5
START_TIMEOUT = 40      # heartbeat start -> VIP up is ~12 s (10 s resource delay + start)
FINDIF_VIP = "10.250.254.100"   # in no interface's subnet of any lab (indices stay < 128)


@dataclass
class ScenarioResult:
    name: str
    description: str
    prefix: str
    subnet: str
    wall_s: float = 0.0
    captures: dict[str, str] = field(default_factory=dict)
    evidence: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    events: list[dict] = field(default_factory=list)

    @property
    def reached(self) -> bool:
        """Every wait succeeded and nothing raised."""
        return not self.notes and self.error is None

    def capture(self, name: str) -> Path:
        return Path(self.captures[name])

    def to_dict(self) -> dict:
        d = asdict(self)
        d["reached"] = self.reached
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ScenarioResult":
        return cls(**{k: v for k, v in d.items() if k != "reached"})


class Ctx:
    """What a scenario function gets: a lab factory, capture, evidence and notes."""

    def __init__(self, result: ScenarioResult, out_root: Path, index: int):
        self.result = result
        self.out_root = Path(out_root)
        self.index = index
        self.evidence = result.evidence
        self.labs: list[Lab] = []

    def lab(self, nodes: Iterable[str] = ("node01", "node02"), **kw) -> Lab:
        lab = Lab(self.result.prefix, tuple(nodes), subnet=f"10.250.{self.index}", **kw)
        self.labs.append(lab)
        return lab

    def need(self, waited: float | None, what: str) -> float | None:
        """Record a wait that timed out (the state was not reached)."""
        if waited is None:
            self.result.notes.append(f"not reached: {what}")
        return waited

    def capture(self, lab: Lab, name: str, expected_holders: list[str], *,
                pcap: bool = False, description: str = "", **expected) -> Path:
        """Capture into ``out_root/<name>/``; record ``ip a`` VIP holders as evidence."""
        dest = self.out_root / name
        lab.expect(expected_holders, note=f"capture {name}")
        holders = lab.holders()
        self.evidence.setdefault("holders", {})[name] = holders
        lab.capture(dest, name, description or self.result.description,
                    expected={"vip": lab.vip, "vip_holders": expected_holders, **expected},
                    pcap=pcap)
        self.result.captures[name] = str(dest)
        return dest


ScenarioFn = Callable[[Ctx], None]


@dataclass
class Spec:
    fn: ScenarioFn
    index: int           # subnet 10.250.<index>.0/24
    short: str           # namespace prefix part
    description: str
    captures: tuple[str, ...]


SCENARIOS: dict[str, Spec] = {}


def scenario(name: str, index: int, short: str, description: str,
             captures: tuple[str, ...] = ()):
    def deco(fn: ScenarioFn) -> ScenarioFn:
        SCENARIOS[name] = Spec(fn, index, short, description, captures or (name,))
        return fn
    return deco


def _start_and_settle(ctx: Ctx, lab: Lab, owner: str = "node01") -> None:
    rcs = lab.start_all()
    ctx.evidence["start_rc"] = rcs
    ctx.need(lab.wait_holders([owner], START_TIMEOUT), f"VIP on {owner} after start")
    others = [n for n in lab.nodes if n != owner]
    for n in others:
        ctx.need(lab.wait_log(n, "Initial resource acquisition complete", 15),
                 f"{n} initial acquisition")
    lab.expect([owner], "started")


def _wait_recovered(ctx: Ctx, lab: Lab, owner: str = "node01") -> None:
    """After a partition ends. Each node that sees its peer "returning after partition"
    re-execs heartbeat 2 s later (and gives its resources up meanwhile): wait for those
    restarts, for their new initial acquisition, then for the VIP on ``owner`` only."""
    ctx.need(lab.wait(lambda: any(b"returning after partition" in lab.log_bytes(n)
                                  for n in lab.nodes), 30, "returning after partition"),
             "a node logs 'returning after partition'")
    hblab.sleep(1.5)
    returning = [n for n in lab.nodes if b"returning after partition" in lab.log_bytes(n)]
    ctx.evidence.setdefault("returning", []).append(returning)
    for n in returning:
        ctx.need(lab.wait_log(n, "info: Performing heartbeat restart exec.", 20),
                 f"{n} re-execs heartbeat")
    for n in returning:
        ctx.need(lab.wait(lambda n=n: lab.log_bytes(n).count(
            b"Initial resource acquisition complete") >= 2, 40, f"{n} acquisition after restart"),
            f"{n} completes its acquisition after the restart")
    ctx.need(lab.wait_holders([owner], 40, stable=2), f"VIP on {owner} only after recovery")


# --------------------------------------------------------------------------- healthy

@scenario("healthy", 1, "ok", "Two nodes, bcast, IPaddr VIP on node01; both up, no fault.")
def healthy(ctx: Ctx) -> None:
    with ctx.lab() as lab:
        lab.configure()
        lab.start_pcap()
        t = time.monotonic()
        _start_and_settle(ctx, lab)
        ctx.evidence["start_to_vip_s"] = round(time.monotonic() - t, 2)
        hblab.sleep(3)   # a few more keepalives in the log and the pcap
        cl = {}
        for n in lab.nodes:
            cl[n] = {
                "hbstatus": lab.cl_status(n, "hbstatus").stdout.decode().strip(),
                "listnodes": lab.cl_status(n, "listnodes").stdout.decode().split(),
                "nodestatus": {m: lab.cl_status(n, "nodestatus", m).stdout.decode().strip()
                               for m in lab.nodes},
                "rscstatus": lab.cl_status(n, "rscstatus").stdout.decode().strip(),
                "hblinkstatus": lab.cl_status(n, "hblinkstatus", [m for m in lab.nodes
                                              if m != n][0], "eth0").stdout.decode().strip(),
            }
        ctx.evidence["cl_status"] = cl
        ctx.capture(lab, "healthy", ["node01"], pcap=True)


# --------------------------------------------------------------------------- failover / failback

@scenario("failover", 2, "fo",
          "node01 (VIP owner) loses power; node02 takes over after deadtime; node01 "
          "reboots without heartbeat (capture 'failover'), then starts heartbeat and takes "
          "the VIP back with auto_failback on (capture 'failback').",
          captures=("failover", "failback"))
def failover(ctx: Ctx) -> None:
    with ctx.lab() as lab:
        lab.configure()
        _start_and_settle(ctx, lab)
        t = time.monotonic()
        lab.crash("node01")
        ctx.need(lab.wait_ip("node02", timeout=DEADTIME + 20), "VIP on node02 after crash")
        ctx.evidence["crash_to_vip_s"] = round(time.monotonic() - t, 2)
        ctx.need(lab.wait_log("node02", "mach_down takeover complete.", 20), "takeover log")
        # heartbeat declares the links dead in a later pass than the node (up to ~1 s after, sometimes after
        # the takeover completed): the capture must hold them
        ctx.need(lab.wait_log("node02", "Link node01:eth0 dead.", 10), "node02: link to node01 dead")
        # node01 comes back from the power loss: VIP gone, link up, heartbeat not started yet
        lab.reboot("node01")
        ctx.capture(lab, "failover", ["node02"],
                    description="node01 lost power (SIGKILL + link down) while owning the VIP; "
                    "node02 took over after deadtime; node01 is back up but heartbeat "
                    "is not started there yet.")
        t = time.monotonic()
        ctx.evidence["restart_rc"] = lab.start("node01")
        ctx.need(lab.wait_holders(["node01"], START_TIMEOUT), "VIP back on node01")
        ctx.evidence["restart_to_failback_s"] = round(time.monotonic() - t, 2)
        hblab.sleep(2)
        ctx.capture(lab, "failback", ["node01"],
                    description="continuation of 'failover': heartbeat started again on node01, "
                    "auto_failback on moved the VIP back to node01.")


@scenario("graceful-stop", 3, "gs",
          "heartbeat -k on node01 (VIP owner): node02 takes over at once (no deadtime wait).")
def graceful_stop(ctx: Ctx) -> None:
    with ctx.lab() as lab:
        lab.configure()
        _start_and_settle(ctx, lab)
        t = time.monotonic()
        ctx.evidence["stop_rc"] = lab.stop("node01")
        ctx.need(lab.wait_holders(["node02"], 20), "VIP on node02 after heartbeat -k")
        ctx.evidence["stop_to_vip_s"] = round(time.monotonic() - t, 2)
        hblab.sleep(1)
        ctx.capture(lab, "graceful-stop", ["node02"])


# --------------------------------------------------------------------------- resource failures

@scenario("findif", 4, "fi",
          "haresources names the bare VIP 10.250.254.100 (IPaddr, no /cidr), in no interface's "
          "subnet; only the default route matches, findif fails, node01 gives the group up.")
def findif(ctx: Ctx) -> None:
    with ctx.lab() as lab:
        lab.configure(haresources=f"node01 {FINDIF_VIP}\n",
                      debugfile="/var/log/ha-debug")
        ctx.evidence["start_rc"] = lab.start_all()
        ctx.need(lab.wait_log("node01", f"CRIT: Giving up resources due to failure of {FINDIF_VIP}",
                              START_TIMEOUT), "node01 gives up the group")
        hblab.sleep(2)
        ctx.evidence["vip_holders"] = lab.holders(FINDIF_VIP)
        ctx.capture(lab, "findif", [], vip_tried=FINDIF_VIP)


@scenario("ipaddr2-nic-mismatch", 5, "nic",
          "haresources IPaddr2::<vip>/24/eth1 where the VIP belongs to eth0's subnet (eth1 "
          "is a second link in another subnet): the nic does not match the VIP's subnet.")
def ipaddr2_nic(ctx: Ctx) -> None:
    with ctx.lab(second_nic=True) as lab:
        lab.configure(haresources=f"node01 IPaddr2::{lab.vip}/24/eth1\n")
        ctx.evidence["start_rc"] = lab.start_all()
        ctx.need(lab.wait_log("node01", "Initial resource acquisition complete", START_TIMEOUT),
                 "node01 initial acquisition")
        # IPaddr2 adds the VIP (on the wrong link) a moment after the acquisition line
        ctx.need(lab.wait_holders(["node01"], 20), "VIP on node01")
        hblab.sleep(1)
        ctx.evidence["addresses"] = {n: lab.addresses(n) for n in lab.nodes}
        ctx.evidence["vip_holders"] = lab.holders()
        ctx.capture(lab, "ipaddr2-nic-mismatch", ctx.evidence["vip_holders"])


@scenario("ipaddr2-nic-missing", 17, "nim",
          "haresources IPaddr2::<vip>/24/eth2 on nodes that have no eth2: IPaddr2 refuses "
          "('Invalid interface name [eth2]'), node01 gives the group up, VIP nowhere.")
def ipaddr2_nic_missing(ctx: Ctx) -> None:
    with ctx.lab() as lab:
        lab.configure(haresources=f"node01 IPaddr2::{lab.vip}/24/eth2\n")
        ctx.evidence["start_rc"] = lab.start_all()
        ctx.need(lab.wait_log("node01", "CRIT: Giving up resources due to failure of IPaddr2::",
                              START_TIMEOUT), "node01 gives up the group")
        hblab.sleep(2)
        ctx.evidence["vip_holders"] = lab.holders()
        ctx.capture(lab, "ipaddr2-nic-missing", [])


@scenario("missing-resource-script", 6, "mrs",
          "haresources 'node01 IPaddr::<vip>/24/eth0 mysql' and no mysql script in "
          "/etc/ha.d/resource.d or /etc/init.d: node01 starts the VIP, cannot start mysql, "
          "gives the group up (stop of mysql fails too: 'Machine reboot narrowly avoided!'), "
          "30 s later goes standby; node02 'takes' the group without running it: VIP nowhere.")
def missing_script(ctx: Ctx) -> None:
    with ctx.lab() as lab:
        lab.configure(haresources=f"node01 IPaddr::{lab.vip}/24/eth0 mysql\n")
        ctx.evidence["start_rc"] = lab.start_all()
        ctx.need(lab.wait_log("node01", "ERROR: Cannot locate resource script mysql",
                              START_TIMEOUT), "Cannot locate resource script")
        ctx.need(lab.wait_log("node01", "WARN: Machine reboot narrowly avoided!", 40),
                 "node01 gives the group up")
        ctx.need(lab.wait_log("node02", "Standby resource acquisition done [foreign].", 45),
                 "node02 completes the standby takeover")
        hblab.sleep(1)
        ctx.evidence["reboots"] = lab.reboots()
        ctx.evidence["vip_holders"] = lab.holders()
        ctx.capture(lab, "missing-resource-script", [])


# --------------------------------------------------------------------------- partitions

@scenario("split-brain", 7, "sb",
          "UDP 694 dropped both ways (iptables INPUT in each node): both nodes declare the "
          "other dead and both hold the VIP (capture 'split-brain'); then healed: 'returning "
          "after partition', heartbeat restarts, VIP back on node01 only ('split-brain-healed').",
          captures=("split-brain", "split-brain-healed"))
def split_brain(ctx: Ctx) -> None:
    with ctx.lab() as lab:
        lab.configure()
        _start_and_settle(ctx, lab)
        t = time.monotonic()
        lab.partition("node01", "node02", both_ways=True)
        ctx.need(lab.wait_holders(["node01", "node02"], DEADTIME + 20), "VIP on both")
        ctx.evidence["partition_to_dual_s"] = round(time.monotonic() - t, 2)
        ctx.need(lab.wait_log("node01", "node node02: is dead", 10), "node01 sees node02 dead")
        hblab.sleep(1)
        ctx.capture(lab, "split-brain", ["node01", "node02"], pcap=False,
                    description="heartbeat UDP 694 dropped in both directions (iptables INPUT "
                    "on each node); both nodes hold the VIP.")
        t = time.monotonic()
        lab.heal()
        _wait_recovered(ctx, lab)
        ctx.evidence["heal_to_single_s"] = round(time.monotonic() - t, 2)
        hblab.sleep(2)
        ctx.capture(lab, "split-brain-healed", ["node01"],
                    description="continuation of 'split-brain': rules removed, the nodes see "
                    "each other again, heartbeat restarts, VIP on node01 only.")


@scenario("partition-one-way", 8, "p1",
          "node02 drops heartbeat UDP from node01 (one way only, an nftables rule): node02 "
          "declares node01 dead and takes the VIP while node01 still hears node02.",
          captures=("partition-one-way", "partition-one-way-healed"))
def partition_one_way(ctx: Ctx) -> None:
    with ctx.lab() as lab:
        lab.configure()
        _start_and_settle(ctx, lab)
        t = time.monotonic()
        lab.partition("node02", "node01", both_ways=False, tool="nft")
        ctx.need(lab.wait_log("node02", "node node01: is dead", DEADTIME + 20),
                 "node02 declares node01 dead")
        ctx.need(lab.wait_ip("node02", timeout=20), "VIP on node02")
        ctx.evidence["partition_to_node02_vip_s"] = round(time.monotonic() - t, 2)
        hblab.sleep(3)
        ctx.evidence["holders_during"] = lab.holders()
        ctx.capture(lab, "partition-one-way", ctx.evidence["holders_during"])
        lab.heal()
        _wait_recovered(ctx, lab)
        ctx.capture(lab, "partition-one-way-healed", ["node01"],
                    description="continuation of 'partition-one-way': the rule is removed, "
                    "node02 sees node01 'returning after partition' and restarts heartbeat; "
                    "VIP on node01 only.")


@scenario("frozen-node", 9, "fz",
          "node01's heartbeat processes SIGSTOPped for deadtime+5 s: node02 takes over; after "
          "SIGCONT node01 returns 'after partition' and the cluster recovers to node01.")
def frozen_node(ctx: Ctx) -> None:
    with ctx.lab() as lab:
        lab.configure()
        _start_and_settle(ctx, lab)
        t = time.monotonic()
        lab.freeze("node01")
        ctx.need(lab.wait_holders(["node01", "node02"], DEADTIME + 20),
                 "VIP on both while node01 is frozen")
        hblab.sleep(t + DEADTIME + 5 - time.monotonic())
        lab.thaw("node01")
        ctx.need(lab.wait_log("node02", "Cluster node node01 returning after partition.", 20),
                 "node02: node01 returning after partition")
        _wait_recovered(ctx, lab)
        ctx.capture(lab, "frozen-node", ["node01"])


# --------------------------------------------------------------------------- foreign clusters

def _two_clusters(ctx: Ctx, lab: Lab, web_key: str) -> None:
    for n in ("node01", "node02"):
        lab.write_config(n, ha_cf=ha_cf(["node01", "node02"], comment=f"on {n}",
                                            media=lab.media(["node01", "node02"])),
                         haresources=f"node01 IPaddr::{lab.vip}/24/eth0\n",
                         authkeys=authkeys_text(FAKE_KEY))
    for n in ("web01", "web02"):
        lab.write_config(n, ha_cf=ha_cf(["web01", "web02"], comment=f"on {n}",
                                            media=lab.media(["web01", "web02"])),
                         haresources=f"web01 IPaddr::{lab.vip2}/24/eth0\n",
                         authkeys=authkeys_text(web_key))


@scenario("foreign-cluster", 10, "fc",
          "A second cluster (web01/web02, VIP .101) on the same segment and UDP port with a "
          "different key: every node logs authentication failures for the other cluster.")
def foreign_cluster(ctx: Ctx) -> None:
    with ctx.lab(("node01", "node02", "web01", "web02")) as lab:
        _two_clusters(ctx, lab, OTHER_FAKE_KEY)
        lab.start_pcap()
        ctx.evidence["start_rc"] = lab.start_all()
        ctx.need(lab.wait_ip("node01", timeout=START_TIMEOUT), "VIP on node01")
        ctx.need(lab.wait_ip("web01", lab.vip2, timeout=START_TIMEOUT), "VIP2 on web01")
        ctx.need(lab.wait_log("node01", "authtoken does not match", 10), "auth failures")
        hblab.sleep(2)
        ctx.evidence["vip2_holders"] = lab.holders(lab.vip2)
        ctx.capture(lab, "foreign-cluster", ["node01"], pcap=True,
                    vip2=lab.vip2, vip2_holders=["web01"])


@scenario("foreign-cluster-same-key", 11, "fk",
          "A second cluster (web01/web02) on the same segment and port with the SAME key but "
          "other node names: 'bad node [web01] in message'.")
def foreign_cluster_same_key(ctx: Ctx) -> None:
    with ctx.lab(("node01", "node02", "web01", "web02")) as lab:
        _two_clusters(ctx, lab, FAKE_KEY)
        ctx.evidence["start_rc"] = lab.start_all()
        ctx.need(lab.wait_ip("node01", timeout=START_TIMEOUT), "VIP on node01")
        ctx.need(lab.wait_ip("web01", lab.vip2, timeout=START_TIMEOUT), "VIP2 on web01")
        ctx.need(lab.wait_log("node01", "bad node [web01] in message", 10), "bad node")
        hblab.sleep(2)
        ctx.evidence["vip2_holders"] = lab.holders(lab.vip2)
        ctx.capture(lab, "foreign-cluster-same-key", ["node01"],
                    vip2=lab.vip2, vip2_holders=["web01"])


# --------------------------------------------------------------------------- authkeys

@scenario("bad-authkeys-mode", 12, "am",
          "authkeys is 0644 on node01: heartbeat refuses to start there (exit 6); node02 runs "
          "alone and takes the VIP after initdead.")
def bad_authkeys_mode(ctx: Ctx) -> None:
    with ctx.lab() as lab:
        lab.configure()
        lab.write_config("node01", authkeys=authkeys_text(FAKE_KEY), authkeys_mode=0o644)
        ctx.evidence["start_rc"] = lab.start_all()
        ctx.need(lab.wait_holders(["node02"], START_TIMEOUT + DEADTIME), "VIP on node02")
        hblab.sleep(1)
        ctx.capture(lab, "bad-authkeys-mode", ["node02"])


@scenario("authkeys-mismatch", 13, "ak",
          "authkeys differ on the two nodes (same index and method, different key): neither "
          "accepts the other's heartbeats, both take the VIP after initdead.")
def authkeys_mismatch(ctx: Ctx) -> None:
    with ctx.lab() as lab:
        lab.configure()
        lab.write_config("node02", authkeys=authkeys_text(OTHER_FAKE_KEY))
        lab.start_pcap()
        ctx.evidence["start_rc"] = lab.start_all()
        ctx.need(lab.wait_holders(["node01", "node02"], START_TIMEOUT + DEADTIME),
                 "VIP on both")
        hblab.sleep(1)
        ctx.capture(lab, "authkeys-mismatch", ["node01", "node02"], pcap=True)


# --------------------------------------------------------------------------- config refusals

@scenario("node-name-mismatch", 14, "nn",
          "node01's `uname -n` is node01.lab.example but ha.cf says 'node node01 node02': "
          "heartbeat refuses to start on node01 (exit 6); node02 takes the VIP.")
def node_name_mismatch(ctx: Ctx) -> None:
    with ctx.lab(hostnames={"node01": "node01.lab.example"}) as lab:
        lab.configure()
        ctx.evidence["start_rc"] = lab.start_all()
        ctx.need(lab.wait_holders(["node02"], START_TIMEOUT + DEADTIME), "VIP on node02")
        hblab.sleep(1)
        ctx.capture(lab, "node-name-mismatch", ["node02"])


@scenario("haresources-unknown-node", 15, "hu",
          "haresources names node03, which is no 'node' in ha.cf: both nodes refuse to start "
          "(exit 6) after 'Configuration validated'.")
def haresources_unknown_node(ctx: Ctx) -> None:
    with ctx.lab() as lab:
        lab.configure(haresources=f"node03 IPaddr::{lab.vip}/24/eth0\n")
        ctx.evidence["start_rc"] = lab.start_all()
        hblab.sleep(0.5)
        ctx.capture(lab, "haresources-unknown-node", [])


@scenario("timing-refused", 16, "tr",
          "Timing values heartbeat refuses (exit 6): node01 'keepalive 2' + 'deadtime 4' "
          "(deadtime <= 2*keepalive), node02 'deadtime 30s' (no unit 's' in heartbeat).")
def timing_refused(ctx: Ctx) -> None:
    with ctx.lab() as lab:
        members = list(lab.nodes)
        res = f"node01 IPaddr::{lab.vip}/24/eth0\n"
        lab.write_config("node01", ha_cf=ha_cf(members, media=lab.media(members), keepalive="2", deadtime="4",
                                               comment="on node01"),
                         haresources=res, authkeys=authkeys_text())
        lab.write_config("node02", ha_cf=ha_cf(members, media=lab.media(members), deadtime="30s", initdead="60",
                                               comment="on node02"),
                         haresources=res, authkeys=authkeys_text())
        ctx.evidence["start_rc"] = lab.start_all()
        hblab.sleep(0.5)
        ctx.capture(lab, "timing-refused", [])



# --------------------------------------------------------------------------- heartbeat paths

@scenario("lost-path", 18, "lp",
          "Two media (bcast eth0, ucast eth1). node02's eth1 cable is pulled (its switch port, the "
          "veth end in the switch, goes down): node02's eth1 has NO-CARRIER, both nodes log "
          "'Link <peer>:eth1 dead.' and go on over eth0 alone; both keep running, VIP stays on node01.")
def lost_path(ctx: Ctx) -> None:
    with ctx.lab() as lab:
        lab.configure()
        _start_and_settle(ctx, lab)
        t = time.monotonic()
        hblab.run(["ip", "-n", lab.switch_ns, "link", "set", "w-node02", "down"], check=True)
        lab.event("cable_pulled", "node02", iface="eth1")
        ctx.need(lab.wait_log("node01", "Link node02:eth1 dead.", DEADTIME + 20), "node01 lost the eth1 path")
        ctx.need(lab.wait_log("node02", "Link node01:eth1 dead.", DEADTIME + 20), "node02 lost the eth1 path")
        ctx.evidence["cut_to_dead_s"] = round(time.monotonic() - t, 2)
        hblab.sleep(DEADTIME + 1)   # longer than deadtime: nobody is declared dead, eth0 carries on
        ctx.evidence["heartbeat_running"] = {n: bool(lab.hb_pids(n)) for n in lab.nodes}
        ctx.capture(lab, "lost-path", ["node01"])


# --------------------------------------------------------------------------- running

def run_scenario(name: str, out_root: Path | str, tag: str = "t",
                 index: int | None = None) -> ScenarioResult:
    spec = SCENARIOS[name]
    idx = index if index is not None else spec.index
    res = ScenarioResult(name=name, description=spec.description,
                         prefix=f"{hblab.DEFAULT_PREFIX}{tag}-{spec.short}",
                         subnet=f"10.250.{idx}.0/24")
    ctx = Ctx(res, Path(out_root), idx)
    t = time.monotonic()
    try:
        spec.fn(ctx)
    except hblab.LabAborted:
        res.error = "aborted"
    except Exception as exc:  # reported by the tests, never swallowed silently
        res.error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
    finally:
        for lab in ctx.labs:
            lab.down()
            res.events = list(lab.events)
    res.wall_s = round(time.monotonic() - t, 2)
    return res


def run_scenarios(names: Iterable[str], out_root: Path | str, jobs: int = 0,
                  tag: str = "t") -> dict[str, ScenarioResult]:
    """Run scenarios concurrently (``jobs`` at a time, 0 = all at once) and wait.

    Worker threads are daemons: an interrupt (KeyboardInterrupt, SIGTERM) sets
    ``hblab.ABORT`` so every lab wait raises, and every lab is torn down before the
    interrupt propagates."""
    runner = ScenarioRunner(names, out_root, jobs, tag)
    runner.start()
    try:
        return runner.results()
    except BaseException:
        runner.abort()
        raise


class ScenarioRunner:
    """Background runner: ``start()`` returns at once, ``results()`` waits."""

    def __init__(self, names: Iterable[str], out_root: Path | str, jobs: int = 0,
                 tag: str = "t"):
        self.names = list(dict.fromkeys(names))
        self.out_root = Path(out_root)
        self.jobs = jobs or max(1, len(self.names))
        self.tag = tag
        self._results: dict[str, ScenarioResult] = {}
        self._threads: list[threading.Thread] = []
        self._sem = threading.Semaphore(self.jobs)
        self.t0 = 0.0
        self.wall_s = 0.0

    def start(self) -> "ScenarioRunner":
        hblab.install_teardown_handlers()
        self.t0 = time.monotonic()
        for name in self.names:
            t = threading.Thread(target=self._one, args=(name,), name=f"hblab-{name}",
                                 daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def _one(self, name: str) -> None:
        with self._sem:
            if hblab.ABORT.is_set():
                return
            self._results[name] = run_scenario(name, self.out_root, self.tag)

    def results(self) -> dict[str, ScenarioResult]:
        for t in self._threads:
            while t.is_alive():
                t.join(0.5)
        self.wall_s = round(time.monotonic() - self.t0, 2)
        return {n: self._results[n] for n in self.names if n in self._results}

    def abort(self) -> None:
        hblab.ABORT.set()
        try:
            for t in self._threads:
                t.join(30)
            hblab.teardown_all()
        finally:
            hblab.ABORT.clear()


class ScenarioProcess:
    """The same, in a child process (``python -c ... lab.scenarios.main``): the caller keeps
    no threads (pytest's process may fork, e.g. pyroute2's NetNS, which threads make
    unsafe). The child dies with its parent (PDEATHSIG) and tears its labs down on
    SIGTERM; ``abort()`` sends that and then removes anything left (cleanup_stale)."""

    def __init__(self, names: Iterable[str], out_root: Path | str, jobs: int = 0,
                 tag: str = "t"):
        self.names = list(dict.fromkeys(names))
        self.out_root = Path(out_root)
        self.jobs = jobs
        self.tag = tag
        self.proc: subprocess.Popen | None = None
        self.t0 = 0.0
        self._t0_wall = 0.0
        self.wall_s = 0.0
        self._results: dict[str, ScenarioResult] | None = None

    def start(self) -> "ScenarioProcess":
        self.out_root.mkdir(parents=True, exist_ok=True)
        code = ("import sys; sys.path.insert(0, sys.argv[1]); "
                "from lab.scenarios import main; sys.exit(main(sys.argv[2:]))")
        tests_dir = str(Path(__file__).resolve().parent.parent)
        self.t0 = time.monotonic()
        self._t0_wall = time.time()
        with open(self.out_root / "runner.log", "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", code, tests_dir, "--out", str(self.out_root),
                 "--jobs", str(self.jobs), "--tag", self.tag, "--pdeathsig", *self.names],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        return self

    def results(self) -> dict[str, ScenarioResult]:
        if self._results is None:
            assert self.proc is not None
            rc = self.proc.wait()
            path = self.out_root / "results.json"
            if rc != 0 or not path.exists():
                log = (self.out_root / "runner.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"lab scenario runner failed (rc {rc}):\n{log}")
            # until the child wrote its results, not until this session got round to reading them
            self.wall_s = round(path.stat().st_mtime - self._t0_wall, 2)
            data = json.loads(path.read_text())
            self._results = {n: ScenarioResult.from_dict(d) for n, d in data.items()}
        return self._results

    def abort(self) -> None:
        p = self.proc
        if p is not None and p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p is not None:
            hblab.cleanup_stale(f"{hblab.DEFAULT_PREFIX}{self.tag}-")


def main(argv: list[str] | None = None) -> int:
    """Run scenarios, write ``<out>/results.json`` ({name: ScenarioResult dict})."""
    import argparse
    import ctypes
    import signal

    ap = argparse.ArgumentParser(description="run heartbeat lab scenarios")
    ap.add_argument("names", nargs="*")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--tag", default="t")
    ap.add_argument("--pdeathsig", action="store_true", help="die (cleanly) with the parent")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.pdeathsig:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)      # PR_SET_PDEATHSIG
    names = args.names or list(SCENARIOS)
    results = run_scenarios(names, args.out, jobs=args.jobs, tag=args.tag)
    tmp = args.out / "results.json.tmp"
    tmp.write_text(json.dumps({n: r.to_dict() for n, r in results.items()}, indent=1))
    tmp.replace(args.out / "results.json")
    return 0
