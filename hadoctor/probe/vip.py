"""``probe vip``: ask the network who holds each virtual IP of haresources.

For every VIP (:mod:`hadoctor.probe.vip_targets`) the probe sends ARP requests (IPv4) or
neighbour solicitations (IPv6) (:mod:`hadoctor.probe.neighbours`) on the interface that
carries the VIP's subnet and judges who answers:

* one MAC answers: ``held-once``, the healthy state of an active/passive pair;
* two or more: ``held-twice (split brain or conflict)``: the VIP is up on both nodes, or
  a foreign host uses the address too;
* nobody: ``free``: an outage, or, with ``expect_free`` (the admin guides' "the virtual
  IP has to be free" before the cluster takes it), what must be;
* ``unprobeable``: no interface to ask on, or the interface cannot be used; ``detail``
  says why.

Gratuitous ARPs / unsolicited advertisements for the VIP seen meanwhile count as
announcements by their sender; RFC 5227 probes (sender 0.0.0.0) from other hosts are
listed as probers, not holders. A host never hears its own answer, so when this host
(or the probed namespace) carries the VIP itself its own MAC is counted as a holder too.
MACs are mapped to node/interface names from the nodes' address tables (``ip -j a``
captures or netlink) where possible.

>>> verdict_for(["02:00:00:00:00:01"]), verdict_for([]), verdict_for(["a", "b"])
('held-once', 'free', 'held-twice (split brain or conflict)')
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from hadoctor.errors import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, InputError
from hadoctor.probe import frames
from hadoctor.probe.neighbours import (DEFAULT_COUNT, DEFAULT_TIMEOUT, ProbeReport, arp_exchange, ndp_exchange,
                                       pick_sender, read_interfaces)
from hadoctor.probe.vip_targets import VipTarget, as_target

HELD_ONCE = "held-once"
HELD_TWICE = "held-twice (split brain or conflict)"
FREE = "free"
UNPROBEABLE = "unprobeable"


# --------------------------------------------------------------------------- interface choice

def choose_interface(target: VipTarget, table: Any, override: Optional[str] = None) -> Tuple[Optional[str], str]:
    """Where to ask about ``target``: (interface, why) or (None, why not).

    Order: ``override`` (``--iface``); haresources' nic when this host has it (IPaddr puts
    the VIP there); the interface that already carries the VIP; the interface whose subnet
    holds it (as findif chooses).
    """
    if override:
        if table is not None and table.get(override) is None:
            return None, f"this host has no interface {override}"
        return override.split(":", 1)[0], f"{override} given"
    note = ""
    nic = target.base_nic
    if nic:
        if table is None:
            return nic, f"haresources names {target.nic}"
        iface = table.get(target.nic)
        if iface is not None:
            on_subnet = _subnet_ifaces(table, target)
            why = f"haresources names {target.nic}"
            if on_subnet and iface.name not in on_subnet:
                why += f" (the VIP's subnet is on {', '.join(on_subnet)} here)"
            return iface.name, why
        note = f"haresources names {target.nic}, which this host does not have; "
    if table is None:
        return None, note + "haresources names no nic and this host's interfaces are unknown"
    found = table.find_address(target.address)
    if found is not None:
        return found[0].name, note + f"{found[0].name} carries the VIP"
    on_subnet = _subnet_ifaces(table, target)
    if len(on_subnet) == 1:
        return on_subnet[0], note + f"{on_subnet[0]} carries the VIP's subnet"
    if on_subnet:
        return on_subnet[0], note + (f"{', '.join(on_subnet)} all carry the VIP's subnet (findif would be "
                                     f"ambiguous); asking on {on_subnet[0]}")
    return None, note + (f"no interface of this host is in a subnet holding {target.address}; "
                         "give the interface with --iface, or run the probe on a node of that subnet")


def _subnet_ifaces(table: Any, target: VipTarget) -> List[str]:
    names = [iface.name for iface, _ in table.interfaces_on_subnet(target.address)]
    return list(dict.fromkeys(names))


# --------------------------------------------------------------------------- results

def verdict_for(macs: Sequence[str]) -> str:
    """The verdict for the set of MACs holding a VIP (an unprobeable VIP has no set)."""
    if not macs:
        return FREE
    return HELD_ONCE if len(macs) == 1 else HELD_TWICE


@dataclass
class VipResult:
    """The verdict for one VIP, with the MACs that hold it and whose interfaces they are."""

    vip: str
    iface: Optional[str]
    macs: List[str]
    verdict: str
    owners: Dict[str, str] = field(default_factory=dict)  # MAC -> "node01/eth0"
    detail: str = ""
    expect_free: bool = False
    prefix: Optional[int] = None
    node: Optional[str] = None  # haresources' preferred node
    resource: str = ""
    line: int = 0
    netns: Optional[str] = None
    local_mac: Optional[str] = None  # this host's MAC when it carries the VIP itself
    report: Optional[ProbeReport] = None

    @property
    def ok(self) -> bool:
        """Healthy: held once (or free, when it has to be free)."""
        return self.verdict == (FREE if self.expect_free else HELD_ONCE)

    @property
    def problem(self) -> bool:
        """Probed and not as it should be (an unprobeable VIP is incomplete, not a problem)."""
        return self.verdict != UNPROBEABLE and not self.ok

    def to_dict(self) -> dict:
        return {
            "vip": self.vip, "prefix": self.prefix, "iface": self.iface, "netns": self.netns,
            "verdict": self.verdict, "ok": self.ok, "expect_free": self.expect_free,
            "macs": list(self.macs), "owners": dict(self.owners), "local_mac": self.local_mac,
            "detail": self.detail, "node": self.node, "resource": self.resource, "line": self.line,
            "probe": self.report.to_dict() if self.report else None,
        }


def owners_map(tables: Any) -> Dict[str, str]:
    """MAC -> ``node/iface[, node/iface]`` from node address tables.

    ``tables``: a mapping of node name -> InterfaceTable, a ClusterSnapshot, or NodeSnapshots
    (their ``addresses`` datum). Loopback and all-zero MACs are left out.
    """
    if tables is None:
        return {}
    if hasattr(tables, "nodes") and not isinstance(tables, Mapping):
        tables = tables.nodes
    if not isinstance(tables, Mapping):
        tables = {node.name: node.find("addresses") for node in tables}
    out: Dict[str, List[str]] = {}
    for name, table in tables.items():
        if table is None:
            continue
        for iface in table.interfaces:
            if iface.mac and iface.mac not in (frames.ZERO_MAC, frames.BROADCAST_MAC) and iface.kind != "loopback":
                out.setdefault(iface.mac, [])
                label = f"{name}/{iface.name}"
                if label not in out[iface.mac]:
                    out[iface.mac].append(label)
    return {mac: ", ".join(labels) for mac, labels in out.items()}


def mac_label(mac: str, owners: Mapping[str, str]) -> str:
    return f"{mac} ({owners[mac]})" if mac in owners else mac


def _detail(result: VipResult, owners: Mapping[str, str], nodes_known: Mapping[str, str], why: str) -> str:
    """The one-line explanation. ``owners`` names every MAC it can (this host included);
    ``nodes_known`` only the cluster nodes' interfaces, which tells a node from a foreign host."""
    report = result.report
    macs = result.macs
    named = ", ".join(mac_label(m, owners) for m in macs)
    if result.verdict == FREE:
        text = ("nobody answers: free to take" if result.expect_free
                else "nobody answers: the VIP is down (outage)")
    elif result.verdict == HELD_ONCE:
        text = f"{named} holds it"
        if result.expect_free:
            text += ": it has to be free before the cluster takes it (address in use)"
        elif result.node and macs[0] in nodes_known and not nodes_known[macs[0]].startswith(f"{result.node}/"):
            text += f" (haresources prefers {result.node}: failed over)"
    else:
        nodes = {nodes_known[m].split("/", 1)[0] for m in macs if m in nodes_known}
        foreign = [m for m in macs if m not in nodes_known]
        text = f"{len(macs)} MACs hold it: {named}"
        if nodes_known and foreign and nodes:
            text += ": a host that is no cluster node uses the address too (address conflict)"
        elif nodes_known and foreign:
            text += ": hosts that are no cluster nodes (address conflict)"
        elif nodes_known and len(nodes) > 1:
            text += ": the VIP is up on several nodes (split brain)"
        else:
            text += ": split brain, or a foreign host uses the address"
    extra = []
    if result.local_mac:
        extra.append(f"this host carries it on {result.iface}")
    if report is not None:
        if report.announcements:
            extra.append(f"{report.announcements} announcement(s) (gratuitous ARP/NA) seen")
        if report.probers:
            extra.append("probed for by " + ", ".join(mac_label(m, owners) for m in report.probers))
        if report.sender == "0.0.0.0":
            extra.append("asked with RFC 5227 probes (no address of this host in the VIP's subnet)")
    extra.append(why)
    return text + "; " + "; ".join(extra)


def probe_vips(specs: Iterable[Any], *, table: Any = None, netns: Optional[str] = None,
               iface: Optional[str] = None, timeout: float = DEFAULT_TIMEOUT, count: int = DEFAULT_COUNT,
               expect_free: bool = False, owners: Any = None, local_name: Optional[str] = None,
               ) -> List[VipResult]:
    """Probe each VIP (IpSpec, VipTarget or ``ip[/prefix[/nic]]``) from this host or ``netns``.

    ``table``: this host's (or the namespace's) InterfaceTable, read by netlink when None;
    ``iface`` forces the interface; ``owners``: node address tables to name the MACs
    (see :func:`owners_map`; this host's own table is added as ``local_name``).
    Raises UsageError when raw sockets are not allowed (not root).
    """
    targets = [as_target(s) for s in specs]
    if table is None:
        table = read_interfaces(netns, quiet=True)
    node_macs = owners_map(owners)
    names = dict(node_macs)
    if table is not None:
        local = local_name or (f"netns {netns}" if netns else socket.gethostname())
        for mac, label in owners_map({local: table}).items():
            names.setdefault(mac, label)
    results = []
    for target in targets:
        results.append(_probe_one(target, table, netns, iface, timeout, count, expect_free, names, node_macs))
    return results


def _probe_one(target: VipTarget, table: Any, netns: Optional[str], override: Optional[str], timeout: float,
               count: int, expect_free: bool, owners: Dict[str, str], node_macs: Dict[str, str]) -> VipResult:
    result = VipResult(target.address, None, [], UNPROBEABLE, expect_free=expect_free, prefix=target.prefix,
                       node=target.node, resource=target.resource, line=target.line, netns=netns)
    name, why = choose_interface(target, table, override)
    if name is None:
        result.detail = why
        return result
    result.iface = name
    nic = table.get(name) if table is not None else None
    admin_down = bool(nic is not None and nic.flags and not nic.is_up)
    if nic is not None and (admin_down or nic.has_carrier is False or nic.state in ("DOWN", "LOWERLAYERDOWN")):
        state = "down" if admin_down else f"without carrier (state {nic.state or 'NO-CARRIER'})"
        result.detail = f"{name} is {state}: nothing can be asked on it; {why}"
        return result
    try:
        if target.family == 4:
            sender = pick_sender(table, name, target.address, target.prefix) if table is not None else "0.0.0.0"
            report = arp_exchange(target.address, name, timeout, count, netns, sender_ip=sender)
        else:
            report = ndp_exchange(target.address, name, timeout, count, netns)
    except InputError as err:
        result.detail = f"{err}; {why}"
        return result
    result.report = report
    macs = report.macs
    found = table.find_address(target.address) if table is not None else None
    if found is not None and found[0].mac:
        result.local_mac = found[0].mac  # a host never hears its own answer
        if found[0].mac not in macs:
            macs = [found[0].mac] + macs
    result.macs = macs
    result.verdict = verdict_for(macs)
    result.owners = {m: owners[m] for m in macs if m in owners}
    result.detail = _detail(result, owners, node_macs, why)
    return result


def exit_code(results: Sequence[VipResult]) -> int:
    """1 when a VIP is held twice or not held (or held when it has to be free); 3 when a VIP
    could not be probed; 0 when every VIP is as it should be."""
    if any(r.problem for r in results):
        return EXIT_FINDINGS
    if not results or any(r.verdict == UNPROBEABLE for r in results):
        return EXIT_INCOMPLETE
    return EXIT_OK
