"""The drill, step by step: inspect -> refuse or lock -> observe -> act -> restore -> unlock.

Nothing changes before every node was read and found healthy, and before every node's lock was
taken. From the first change on, leaving the starting state restored is the driver's job whatever
happens (an exception, Ctrl-C, SIGTERM); a SIGKILL leaves the lock and its journal behind, and the
next run on any host finds them and restores (``--recover``, automatic when the journal names this
very host and a process that no longer exists).

Kinds, and what puts the cluster back:

============ ================================================ ==========================================
kind         the measured action                              restore
============ ================================================ ==========================================
switchover   ``hb_standby all`` on the node holding the VIP   ``hb_takeover all`` on that node
failback     ``hb_takeover all`` on the preferred node        ``hb_takeover all`` on the first holder
             (first moved away, unmeasured, when it already   (when that was not the preferred node)
             holds the VIP)
crash        SIGKILL of every heartbeat process on the holder start heartbeat there; then as switchover
link         every heartbeat UDP port dropped in and out on   remove the rules; then as switchover
             the holder (iptables, or nft)
============ ================================================ ==========================================
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from hadoctor.datums import HACF_PATH, HARESOURCES_PATH
from hadoctor.drill import analysis, nodeside
from hadoctor.drill.observer import DEFAULT_INTERVAL, Observer
from hadoctor.errors import HadoctorError, UsageError
from hadoctor.remote import RunResult, Shell, SshOptions

KINDS = ("switchover", "failback", "crash", "link")
HARD_KINDS = ("crash", "link")
INSPECT_TIMEOUT = 30.0
ACTION_TIMEOUT = 60.0
BASELINE_S = 1.5
EXIT_NOT_RESTORED = 4


class Refused(HadoctorError):
    """The drill did not start: nothing was changed."""


@dataclass(frozen=True)
class DrillOptions:
    kind: str
    nodes: Tuple[str, ...]
    ssh: SshOptions = SshOptions()
    services: Tuple[Tuple[str, int], ...] = ()
    vip: Optional[str] = None
    iface: Optional[str] = None
    hard: bool = False
    confirm: Optional[str] = None
    force: bool = False
    recover: bool = False
    interval: float = DEFAULT_INTERVAL
    wait_s: Optional[float] = None       # how long to wait for the takeover (default from deadtime)
    settle_s: float = 30.0               # how long services may take to answer after the move


@dataclass
class NodeState:
    """One node as its inspection script reported it."""

    name: str
    shell: Shell
    result: RunResult
    values: object = None               # nodeside Output
    uname: str = ""
    running: bool = False
    peers: Dict[str, str] = field(default_factory=dict)
    hacf: object = None
    haresources: object = None
    addresses: object = None
    lock: Optional[dict] = None
    lock_raw: bytes = b""
    firewall_left: bool = False
    log_sizes: Dict[str, int] = field(default_factory=dict)

    def holds(self, vip: str) -> bool:
        return self.addresses is not None and self.addresses.find_address(vip) is not None

    def macs(self) -> List[str]:
        if self.addresses is None:
            return []
        return [i.mac for i in self.addresses.interfaces if i.mac and i.kind != "loopback"]


def _node_state(shell: Shell, result: RunResult) -> NodeState:
    from hadoctor.framing import parse_output
    from hadoctor.parsers.hacf import parse_hacf
    from hadoctor.parsers.haresources import parse_haresources
    from hadoctor.parsers.interfaces import parse_ip_addr

    out = parse_output(result.stdout)
    st = NodeState(shell.node, shell, result, out)
    st.uname = (out.get("uname") or "").strip()
    st.running = out.get("hbstatus_rc") == "0" or (out.get("hb_processes") or "0") not in ("", "0")
    for line in out.all("nodestatus"):
        parts = line.split(None, 1)
        if parts:
            st.peers[parts[0].lower()] = parts[1].strip().lower() if len(parts) > 1 else ""
    if "hacf" in out.files:
        st.hacf = parse_hacf(out.files["hacf"], HACF_PATH)
    if "haresources" in out.files:
        st.haresources = parse_haresources(out.files["haresources"], HARESOURCES_PATH)
    if "ipa" in out.files:
        st.addresses = parse_ip_addr(out.files["ipa"], f"{shell.node}: ip addr")
    if "lock" in out.files:
        st.lock_raw = out.files["lock"]
        try:
            doc = json.loads(st.lock_raw.decode("utf-8"))
            st.lock = doc if isinstance(doc, dict) else {"state": "unreadable"}
        except (ValueError, UnicodeDecodeError):
            st.lock = {"state": "unreadable"}
    st.firewall_left = (out.get("fw_rules") or "0") not in ("", "0") or out.get("fw_nft") == "yes"
    for item in out.all("log_size"):
        path, _, size = item.rpartition(" ")
        if size.isdigit():
            st.log_sizes[path] = int(size)
    return st


def _seconds(setting, default: float) -> float:
    value = getattr(setting, "value", None)
    try:
        return float(value) / 1000.0 if value is not None else default
    except (TypeError, ValueError):
        return default


def cluster_name(hacf) -> str:
    """What the typed confirmation must say: ha.cf's ``cluster`` when set, else the nodes joined with
    ``+`` in ha.cf's order (``node01+node02``)."""
    setting = hacf.setting("cluster") if hacf is not None else None
    if setting is not None and getattr(setting, "explicit", False) and setting.value:
        return str(setting.value)
    return "+".join(hacf.node_names) if hacf is not None else ""


@dataclass
class Report:
    kind: str
    vip: str = ""
    nodes: List[str] = field(default_factory=list)
    owner_before: str = ""
    preferred: str = ""
    deadtime_s: float = 0.0
    keepalive_s: float = 0.0
    phases: List[analysis.Phase] = field(default_factory=list)
    restored: bool = False
    restore_problems: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    logs: Dict[str, List[str]] = field(default_factory=dict)
    recovered_from: Optional[dict] = None
    started: str = ""
    clients: Dict[str, list] = field(default_factory=dict)      # stream -> [(start, end, state)], epoch s
    node_files: Dict[str, Dict[str, bytes]] = field(default_factory=dict)   # for the picture; not in JSON

    @property
    def exit_code(self) -> int:
        if not self.restored:
            return EXIT_NOT_RESTORED
        if any(v.severity == "error" for p in self.phases for v in p.verdicts):
            return 1
        return 0

    def to_dict(self) -> dict:
        return {"kind": self.kind, "vip": self.vip, "nodes": self.nodes, "started": self.started,
                "owner_before": self.owner_before, "preferred": self.preferred,
                "deadtime_s": self.deadtime_s, "keepalive_s": self.keepalive_s,
                "phases": [p.to_dict() for p in self.phases], "restored": self.restored,
                "restore_problems": self.restore_problems, "warnings": self.warnings,
                "logs": self.logs, "clients": {k: [list(x) for x in v] for k, v in self.clients.items()},
                "recovered_from": self.recovered_from, "exit_code": self.exit_code}


class Drill:
    """One drill run. ``say`` receives progress lines for people (stderr)."""

    def __init__(self, opts: DrillOptions, say: Callable[[str], None] = lambda _t: None,
                 confirm: Optional[Callable[[str], Optional[str]]] = None) -> None:
        if opts.kind not in KINDS:
            raise UsageError(f"unknown drill {opts.kind!r}", f"choose one of: {', '.join(KINDS)}")
        if len(opts.nodes) < 2:
            raise UsageError("a drill acts only on the nodes you name: give every node of the cluster with --node",
                             "e.g. hadoctor drill switchover --node node01 --node node02")
        if opts.kind in HARD_KINDS and not opts.hard and not opts.recover:
            raise UsageError(f"a {opts.kind} drill breaks the active node on purpose: it needs --hard",
                             f"hadoctor drill {opts.kind} --hard ... (and the cluster's name at the prompt or "
                             "with --confirm)")
        self.opts = opts
        self.say = say
        self.ask = confirm
        self.states: Dict[str, NodeState] = {}
        self.report = Report(opts.kind, nodes=list(opts.nodes),
                             started=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
        self.journal: dict = {}
        self.locked: List[str] = []
        self.observer: Optional[Observer] = None
        self.owner = ""
        self.owner_macs: List[str] = []
        self.macs: Dict[str, str] = {}
        self.ports: List[int] = []
        self.mono0, self.epoch0 = time.monotonic(), time.time()
        self.target = None
        self.answering: List[str] = []
        self.marks: Dict[str, Dict[str, int]] = {}

    # ------------------------------------------------------------------ nodes
    def shells(self) -> List[Shell]:
        from hadoctor.remote import host_plan

        plan = host_plan(list(self.opts.nodes))
        return plan.shells(self.opts.ssh)

    def run_on(self, names: Sequence[str], script: Callable[[str], str], timeout: float = ACTION_TIMEOUT
               ) -> Dict[str, RunResult]:
        from hadoctor.fix.session import run_all

        shells = [self.states[n].shell for n in names]
        return {s.node: r for s, r in zip(shells, run_all([(s, script(s.node)) for s in shells], timeout))}

    def inspect(self, shells: Optional[Sequence[Shell]] = None) -> Dict[str, NodeState]:
        from hadoctor.fix.session import run_all

        shells = list(shells) if shells is not None else [s.shell for s in self.states.values()]
        logs = self.log_paths()
        results = run_all([(s, nodeside.inspect_script(logs)) for s in shells], INSPECT_TIMEOUT)
        states = {s.node: _node_state(s, r) for s, r in zip(shells, results)}
        self.states.update(states)
        return states

    def log_paths(self) -> List[str]:
        paths = []
        for st in self.states.values():
            for setting in (getattr(st.hacf, "logfile", None), getattr(st.hacf, "debugfile", None)):
                value = getattr(setting, "value", None)
                if value and str(value).startswith("/") and str(value) not in paths:
                    paths.append(str(value))
        return paths

    # ------------------------------------------------------------------ checks
    def health(self) -> Tuple[List[str], List[str]]:
        """(reasons to refuse, warnings) about the cluster as the nodes report it now."""
        refuse: List[str] = []
        warn: List[str] = []
        names = set(self.opts.nodes)
        for name, st in self.states.items():
            if not st.result.ok and not st.values.ok:
                refuse.append(f"{name}: cannot be read ({st.result.reason})")
                continue
            if st.uname and st.uname.lower() != name.lower():
                refuse.append(f"{name}: the host reached as {name} calls itself {st.uname!r} (uname -n): wrong host?")
            if st.hacf is None:
                refuse.append(f"{name}: cannot read {HACF_PATH}")
            else:
                declared = {n.lower() for n in st.hacf.node_names}
                if declared and declared != {n.lower() for n in names}:
                    refuse.append(f"{name}: ha.cf declares {', '.join(sorted(declared))}; name exactly those nodes "
                                  "with --node")
            if not st.running:
                refuse.append(f"{name}: heartbeat is not running")
            for peer in names:
                state = st.peers.get(peer.lower())
                if st.values.get("cl_status") is None:
                    break
                if state is None:
                    refuse.append(f"{name}: cl_status does not list {peer}")
                elif state not in ("active", "up"):
                    refuse.append(f"{name} sees {peer} as {state!r}: a dead node or a partition; "
                                  "a drill on a cluster that is already failing proves nothing")
            if st.values.get("cl_status") is None:
                warn.append(f"{name}: no cl_status: node states not checked")
            if st.firewall_left:
                refuse.append(f"{name}: drill firewall rules are still in place (an interrupted drill?): "
                              "run hadoctor drill --recover")
        holders = [n for n, st in self.states.items() if self.report.vip and st.holds(self.report.vip)]
        if self.report.vip:
            if len(holders) > 1:
                refuse.append(f"the VIP {self.report.vip} is up on {' and '.join(holders)} (split brain): "
                              "fix that first (hadoctor check names the cause)")
            elif not holders:
                refuse.append(f"no node holds the VIP {self.report.vip}: nothing to move (start heartbeat, or "
                              "see hadoctor check)")
        first = next((st.hacf for st in self.states.values() if st.hacf is not None), None)
        if first is not None:
            links = first.link_media
            if len(links) < 2:
                msg = (f"ha.cf has {len(links)} heartbeat path{'s' if len(links) != 1 else ''}: one cable, switch "
                       "or NIC failure is a split brain (CFG201); a drill on it risks exactly that")
                (warn if self.opts.force else refuse).append(msg + ("" if self.opts.force else " (--force to drill anyway)"))
        return refuse, warn

    def choose_vip(self) -> None:
        from hadoctor.probe.vip_targets import vip_targets

        targets = []
        for st in self.states.values():
            if st.haresources is not None:
                targets = vip_targets(st.haresources)
                if targets:
                    break
        if self.opts.vip:
            match = [t for t in targets if t.address == self.opts.vip]
            if not match and targets:
                raise Refused(f"{self.opts.vip} is not a VIP of haresources "
                              f"({', '.join(t.address for t in targets)})")
            self.report.vip = self.opts.vip
            self.report.preferred = match[0].node if match and match[0].node else ""
            self.target = match[0] if match else None
        elif targets:
            self.target = targets[0]
            self.report.vip = targets[0].address
            self.report.preferred = targets[0].node or ""
            if len({t.node for t in targets}) > 1:
                self.report.warnings.append("haresources has groups on different nodes; the drill follows "
                                            f"{self.report.vip}")
        else:
            raise Refused("haresources names no IP address to observe",
                          "give the address clients use with --vip")

    # ------------------------------------------------------------------ run
    def run(self) -> Report:
        self.say("reading " + ", ".join(self.opts.nodes))
        states = self.inspect(self.shells())
        unreachable = [f"{n}: {st.result.reason}" for n, st in states.items() if not st.result.ok]
        if unreachable:
            raise Refused("cannot read every node, so nothing was changed: " + "; ".join(unreachable),
                          "make every node reachable (ssh NODE works without a password) and run again")
        self.inspect()   # again, now that ha.cf names the logs: their sizes mark where the drill begins
        self.marks = {n: dict(st.log_sizes) for n, st in self.states.items()}
        locks = {n: st.lock for n, st in self.states.items() if st.lock is not None}
        if locks:
            return self.recover_or_refuse(locks)
        if self.opts.recover:
            raise Refused("no interrupted drill to recover from: no node holds a drill lock")
        self.choose_vip()
        refuse, warn = self.health()
        self.report.warnings.extend(warn)
        if refuse:
            raise Refused("the cluster is not healthy, so nothing was changed:\n  " + "\n  ".join(refuse),
                          "hadoctor check names the causes")
        first = next(st.hacf for st in self.states.values() if st.hacf is not None)
        self.report.deadtime_s = _seconds(first.deadtime, 30.0)
        self.report.keepalive_s = _seconds(first.keepalive, 2.0)
        self.ports = sorted(set(first.udpport_for_media().values()) | {m.port for m in first.link_media if m.port})
        if self.opts.kind == "link" and any(m.port is None for m in first.link_media):
            self.report.warnings.append("serial heartbeat links cannot be cut with firewall rules: only the UDP "
                                        "paths are cut")
        self.owner = next(n for n, st in self.states.items() if st.holds(self.report.vip))
        self.report.owner_before = self.owner
        self.macs = {mac: n for n, st in self.states.items() for mac in st.macs()}
        self.confirm_hard(first)
        self.lock_all()
        try:
            self.observe_and_act()
        finally:
            self.finish()
        return self.report

    def confirm_hard(self, hacf) -> None:
        if self.opts.kind not in HARD_KINDS:
            return
        if not self.opts.hard:
            raise UsageError(f"a {self.opts.kind} drill breaks the active node on purpose: it needs --hard",
                             f"hadoctor drill {self.opts.kind} --hard --confirm {cluster_name(hacf)} ...")
        name = cluster_name(hacf)
        typed = self.opts.confirm
        if typed is None and self.ask is not None:
            typed = self.ask(f"This {self.opts.kind} drill breaks {self.owner}, which holds {self.report.vip}. "
                             f"Type the cluster's name ({name}) to go on")
        if (typed or "").strip() != name:
            raise Refused(f"the confirmation did not name the cluster ({name}): nothing was changed",
                          f"type {name} at the prompt, or give --confirm {name}")

    def journal_doc(self, state: str, **extra) -> str:
        self.journal.update({"tool": "hadoctor drill", "run": self.journal.get("run") or uuid.uuid4().hex[:12],
                             "host": socket.gethostname(), "pid": os.getpid(), "kind": self.opts.kind,
                             "vip": self.report.vip, "owner": self.owner, "ports": self.ports,
                             "nodes": list(self.opts.nodes), "started": self.report.started, "state": state})
        self.journal.update(extra)
        return json.dumps(self.journal, sort_keys=True)

    def lock_all(self) -> None:
        doc = self.journal_doc("locked")
        results = self.run_on(list(self.states), lambda _n: nodeside.lock_script(doc), INSPECT_TIMEOUT)
        from hadoctor.framing import parse_output

        got = [n for n, r in results.items() if parse_output(r.stdout).get("result") == "ok"]
        self.locked = got
        if len(got) != len(results):
            self.unlock()
            others = [n for n in results if n not in got]
            raise Refused(f"cannot take the drill lock on {', '.join(others)} (another drill runs?): nothing was changed")

    def set_state(self, state: str, **extra) -> None:
        doc = self.journal_doc(state, **extra)
        self.run_on(self.locked, lambda _n: nodeside.journal_script(doc), INSPECT_TIMEOUT)

    def unlock(self) -> None:
        if self.locked:
            self.run_on(self.locked, lambda _n: nodeside.unlock_script(), INSPECT_TIMEOUT)
            self.locked = []

    # ------------------------------------------------------------------ observing
    def start_observer(self) -> None:
        from hadoctor.probe.neighbours import pick_sender, read_interfaces
        from hadoctor.probe.vip import choose_interface

        table = read_interfaces(quiet=True)
        iface, why = (None, "")
        if self.target is not None:
            iface, why = choose_interface(self.target, table, self.opts.iface)
        elif self.opts.iface:
            iface = self.opts.iface
        if iface is None:
            self.report.warnings.append(f"the VIP's owner is not observed on the wire: {why}")
        sender = pick_sender(table, iface, self.report.vip) if iface and table is not None else "0.0.0.0"
        self.observer = Observer(self.report.vip, iface, self.opts.services, self.opts.interval, sender)
        self.observer.start()
        self.say(f"observing {self.report.vip} every {self.opts.interval * 1000:.0f} ms"
                 + (f" on {iface}" if iface else "") + (" + " + ", ".join(f"{p}/{n}" for p, n in self.opts.services)
                                                         if self.opts.services else ""))

    def holders_now(self) -> Optional[List[str]]:
        """Who answers ARP for the VIP on the latest tick (node names), None when not observed."""
        if self.observer is None or self.observer.iface is None:
            return None
        s = self.observer.latest("arp")
        if s is None:
            return None
        return sorted({self.name_of(m) for m in s.macs})

    def name_of(self, mac: str) -> str:
        if mac == "local":
            return socket.gethostname()
        return self.macs.get(mac, mac)

    def wait_for(self, predicate: Callable[[], bool], timeout: float, poll: float = 0.1) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return True
            time.sleep(poll)
        return predicate()

    def node_holders(self) -> List[str]:
        self.inspect()
        return sorted(n for n, st in self.states.items() if st.holds(self.report.vip))

    def services_answer(self) -> bool:
        """Does every stream that answered before the drill answer now?"""
        if self.observer is None:
            return True
        for name in self.answering:
            s = self.observer.latest(name)
            if s is None or not s.ok:
                return False
        return True

    def wait_move(self, away_from: str, timeout: float) -> bool:
        """Until another node than ``away_from`` holds the VIP (ARP when observed, else ``ip addr``)."""
        if self.holders_now() is not None:
            return self.wait_for(lambda: any(h != away_from for h in (self.holders_now() or [])), timeout)
        return self.wait_for(lambda: any(h != away_from for h in self.node_holders()), timeout, poll=1.0)

    def settle_hold_s(self) -> float:
        """How long the end state must hold before it counts: when a partition heals, heartbeat restarts
        on both nodes a few seconds later and gives every resource up, so a state seen once right after
        the heal is not the end state."""
        return max(10.0, self.report.deadtime_s + 2 * self.report.keepalive_s)

    def wait_settled(self, owner: str, timeout: float) -> bool:
        """Until ``owner`` alone holds the VIP, every node sees every node active and the services answer,
        and all of that has held for :meth:`settle_hold_s`."""
        hold = self.settle_hold_s()
        since: Optional[float] = None

        def held() -> bool:
            nonlocal since
            if not done():
                since = None
                return False
            since = since if since is not None else time.monotonic()
            return time.monotonic() - since >= hold

        def done() -> bool:
            arp = self.holders_now()
            if arp is not None and arp != [owner]:
                return False
            states = self.inspect()
            if self.node_holders_cached(states) != [owner]:
                return False
            for st in states.values():
                if not st.running or any(st.peers.get(p.lower()) not in ("active", "up") for p in self.opts.nodes):
                    return False
            return self.services_answer()
        return self.wait_for(held, timeout + hold, poll=1.0)

    def node_holders_cached(self, states: Dict[str, NodeState]) -> List[str]:
        return sorted(n for n, st in states.items() if st.holds(self.report.vip))

    # ------------------------------------------------------------------ acting
    def act(self, node: str, action: str) -> RunResult:
        self.say(f"{node}: {action}")
        result = self.run_on([node], lambda _n: nodeside.action_script(action, self.ports))[node]
        from hadoctor.framing import parse_output

        out = parse_output(result.stdout)
        if out.get("result") != "ok":
            why = out.get("reason") or result.reason or "failed"
            raise HadoctorError(f"{node}: {action} failed: {why}")
        return result

    def other(self, node: str) -> str:
        return next(n for n in self.opts.nodes if n != node)

    def takeover_timeout(self) -> float:
        if self.opts.wait_s is not None:
            return self.opts.wait_s
        if self.opts.kind in HARD_KINDS:
            return self.report.deadtime_s * 3 + 30
        return 60.0

    def observe_and_act(self) -> None:
        kind = self.opts.kind
        self.start_observer()
        time.sleep(BASELINE_S)
        self.answering = [n for n, samples in self.observer.streams.samples.items()
                          if n != "arp" and any(x.ok for x in samples[-5:])]
        if self.holders_now() not in (None, [self.owner]):
            self.report.warnings.append(f"before the drill ARP for {self.report.vip} was answered by "
                                        f"{', '.join(self.holders_now() or []) or 'nobody'}")
        preferred = self.report.preferred or self.owner
        mover = self.owner
        if kind == "failback":
            if self.owner == preferred:
                self.say(f"{preferred} is the preferred node and holds the VIP: moving it away first (not measured)")
                self.set_state("prepared")
                self.act(preferred, "standby")
                if not self.wait_move(preferred, self.takeover_timeout()):
                    raise HadoctorError(f"the VIP did not leave {preferred} to prepare the failback")
                self.wait_for(self.services_answer, self.opts.settle_s, poll=0.2)
                time.sleep(BASELINE_S)
            mover = self.other(preferred)
        self.set_state("acting")
        t_action, epoch = time.monotonic(), time.time()
        if kind == "switchover":
            self.act(self.owner, "standby")
            label = f"hb_standby all on {self.owner}"
        elif kind == "failback":
            self.act(preferred, "takeover")
            label = f"hb_takeover all on {preferred}"
        elif kind == "crash":
            self.act(self.owner, "crash")
            label = f"SIGKILL to heartbeat on {self.owner}"
        else:
            self.act(self.owner, "cut")
            label = f"heartbeat UDP {', '.join(map(str, self.ports))} dropped on {self.owner}"
        moved = self.wait_move(mover, self.takeover_timeout())
        if moved:
            self.wait_for(self.services_answer, self.opts.settle_s, poll=0.2)
        time.sleep(1.0)
        t_end = time.monotonic()
        phase = analysis.analyse_phase("drill", label, self.observer.streams, t_action, t_end,
                                       self.owner_names(), self.opts.interval, epoch=epoch)
        analysis.judge(phase, kind, self.report.deadtime_s, self.report.keepalive_s)
        self.report.phases.append(phase)

    def owner_names(self) -> Dict[str, str]:
        names = dict(self.macs)
        names["local"] = socket.gethostname()
        return names

    # ------------------------------------------------------------------ restoring
    def restore(self) -> Tuple[bool, List[str]]:
        """Back to the starting state: the first holder holds the VIP, rules gone, heartbeat everywhere."""
        problems: List[str] = []
        owner = self.owner
        kind = self.opts.kind
        t0: Optional[float] = None
        epoch = 0.0
        label = []

        def act(node: str, action: str, text: str) -> None:
            nonlocal t0, epoch
            if t0 is None:
                t0, epoch = time.monotonic(), time.time()
            self.act(node, action)
            label.append(text)

        try:
            if kind == "link":
                act(owner, "uncut", f"rules removed on {owner}")
            states = self.inspect()
            for n, st in states.items():
                if not st.running:
                    act(n, "start", f"heartbeat started on {n}")
            timeout = self.report.deadtime_s * 3 + 60
            if label:   # wait until the nodes see each other again before moving anything
                self.wait_for(lambda: all(st.running and all(st.peers.get(p.lower()) in ("active", "up")
                                                             for p in self.opts.nodes)
                                          for st in self.inspect().values()), timeout, poll=1.0)
            if self.node_holders() != [owner]:
                act(owner, "takeover", f"hb_takeover all on {owner}")
            if not self.wait_settled(owner, timeout):
                holders = self.node_holders()
                problems.append(f"{owner} did not come back as the only holder of {self.report.vip} "
                                f"(holders: {', '.join(holders) or 'none'})")
        except HadoctorError as err:
            problems.append(str(err))
        if self.observer is not None and t0 is not None:
            phase = analysis.analyse_phase("restore", "; ".join(label), self.observer.streams, t0,
                                           time.monotonic(), self.owner_names(), self.opts.interval, epoch=epoch)
            analysis.judge_restore(phase, owner)
            self.report.phases.append(phase)
        return not problems, problems

    def finish(self) -> None:
        old = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
        for s in old:   # restoring is not to be cut short by a second Ctrl-C or a TERM
            signal.signal(s, signal.SIG_IGN)
        try:
            self.say("restoring the starting state")
            ok, problems = self.restore()
            if self.observer is not None:
                streams = self.observer.stop()
                self.report.clients = analysis.client_spans(
                    streams, self.owner_names(), lambda t: self.epoch0 + (t - self.mono0), self.opts.interval)
            self.fetch_logs()
            self.report.node_files = {n: {k: v for k, v in st.values.files.items() if k in ("hacf", "haresources")}
                                      for n, st in self.states.items() if st.values is not None}
            self.report.restored = ok
            self.report.restore_problems = problems
            if ok:
                self.unlock()
            else:
                self.set_state("needs-recovery", problems=problems)
        finally:
            for s, h in old.items():
                signal.signal(s, h)

    def fetch_logs(self) -> None:
        """Each node's log lines written since the drill began (heartbeat's own account of it)."""
        from hadoctor.fix.nodescript import log_tail_script
        from hadoctor.framing import parse_output

        for name, offsets in self.marks.items():
            for path, offset in offsets.items():
                r = self.run_on([name], lambda _n, p=path, o=offset: log_tail_script(p, o, 512 * 1024),
                                INSPECT_TIMEOUT)[name]
                text = parse_output(r.stdout).files.get("log", b"").decode("utf-8", "replace")
                self.report.logs[f"{name}:{path}"] = [line for line in text.splitlines() if line.strip()][-300:]

    # ------------------------------------------------------------------ recovery
    def recover_or_refuse(self, locks: Dict[str, dict]) -> Report:
        doc = next(iter(locks.values()))
        mine = doc.get("host") == socket.gethostname() and isinstance(doc.get("pid"), int) \
            and not _alive(doc["pid"])
        if not (self.opts.recover or mine):
            who = f"{doc.get('tool', 'a drill')} run {doc.get('run', '?')} from {doc.get('host', '?')} " \
                  f"(pid {doc.get('pid', '?')}, {doc.get('kind', '?')}, started {doc.get('started', '?')}, " \
                  f"state {doc.get('state', '?')})"
            raise Refused(f"a drill lock is held on {', '.join(sorted(locks))}: {who}",
                          "if that drill died, run hadoctor drill --recover with the same --node names")
        self.say(f"an interrupted drill ({doc.get('kind', '?')}, state {doc.get('state', '?')}) left its lock: "
                 "restoring what it changed")
        self.report.recovered_from = doc
        self.owner = str(doc.get("owner") or "")
        self.report.owner_before = self.owner
        self.report.vip = str(doc.get("vip") or "")
        self.ports = [int(p) for p in doc.get("ports") or [] if isinstance(p, int)]
        self.journal = dict(doc)
        self.locked = list(locks)
        first = next((st.hacf for st in self.states.values() if st.hacf is not None), None)
        if first is not None:
            self.report.deadtime_s = _seconds(first.deadtime, 30.0)
            self.report.keepalive_s = _seconds(first.keepalive, 2.0)
            if not self.ports:
                self.ports = sorted(set(first.udpport_for_media().values()))
        self.target = None
        if self.owner not in self.opts.nodes:
            raise Refused(f"the lock's journal names {self.owner!r} as the first holder, not one of --node")
        problems = []
        if self.ports:
            for n in self.opts.nodes:   # rules may be on any node if the kind was link
                try:
                    self.act(n, "uncut")
                except HadoctorError as err:
                    problems.append(str(err))
        ok, more = self.restore()
        problems += more
        self.report.restored = ok and not problems
        self.report.restore_problems = problems
        if self.report.restored:
            self.unlock()
        return self.report


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
