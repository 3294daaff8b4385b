"""The interface model every source of ``hadoctor.parsers.interfaces`` fills, and the helpers they share.

See :mod:`hadoctor.parsers.interfaces` for the conventions (labels, ``link``, ifconfig's limits).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple, Union

from hadoctor.parsers.base import (MAX_CONFIG_LINE, MAX_PROBLEMS_PER_LINE, TOO_MANY, Problem, numbered_lines,
                                   shorten)

IPInterface = Union[ipaddress.IPv4Interface, ipaddress.IPv6Interface]
IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

SOURCE_FORMATS = ("ip-addr", "ip-brief", "ip-json", "ifconfig", "netlink")

#: Link flags in the order iproute2 prints them (ipaddress.c print_link_flags), with their bits.
LINK_FLAG_BITS = (
    ("LOOPBACK", 0x8), ("BROADCAST", 0x2), ("POINTOPOINT", 0x10), ("MULTICAST", 0x1000),
    ("NOARP", 0x80), ("ALLMULTI", 0x200), ("PROMISC", 0x100), ("MASTER", 0x400), ("SLAVE", 0x800),
    ("DEBUG", 0x4), ("DYNAMIC", 0x8000), ("AUTOMEDIA", 0x4000), ("PORTSEL", 0x2000),
    ("NOTRAILERS", 0x20), ("UP", 0x1), ("LOWER_UP", 0x10000), ("DORMANT", 0x20000), ("ECHO", 0x40000),
)
IFF_UP, IFF_RUNNING = 0x1, 0x40

#: Flag words any of the sources may print (iproute2, net-tools, BSD/macOS ifconfig, iproute2mac).
KNOWN_LINK_FLAGS = frozenset(name for name, _ in LINK_FLAG_BITS) | {
    "NO-CARRIER", "M-DOWN", "RUNNING", "SMART", "SIMPLEX", "OACTIVE", "LINK0", "LINK1", "LINK2",
    "ALTPHYS", "CANTCONFIG", "PPROMISC", "MONITOR", "STATICARP", "NEEDSEPOCH", "LOWER_UP",
}

#: Address flags in iproute2's order with their IFA_F_* bits; SECONDARY (0x1) is ``Address.secondary``
#: for IPv4 and the ``temporary`` flag for IPv6, and a missing PERMANENT (0x80) prints as ``dynamic``.
ADDR_FLAG_BITS = (
    ("temporary", 0x1), ("nodad", 0x2), ("optimistic", 0x4), ("dadfailed", 0x8), ("home", 0x10),
    ("deprecated", 0x20), ("tentative", 0x40), ("dynamic", 0x80), ("mngtmpaddr", 0x100),
    ("noprefixroute", 0x200), ("autojoin", 0x400), ("stable-privacy", 0x800),
)
ADDR_FLAGS = frozenset(name for name, _ in ADDR_FLAG_BITS) | {"secondary", "permanent"}

#: rtnetlink scope numbers as iproute2 names them.
SCOPE_NAMES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}

OPER_STATES = frozenset({"UP", "DOWN", "UNKNOWN", "LOWERLAYERDOWN", "DORMANT", "NOTPRESENT", "TESTING"})

#: First word of the per-kind line that ``ip -d addr`` prints under ``link/``.
DETAIL_KINDS = frozenset({
    "vlan", "bond", "bridge", "veth", "macvlan", "macvtap", "ipvlan", "vxlan", "team", "dummy", "tun",
    "ipip", "sit", "gre", "gretap", "ip6tnl", "ip6gre", "vrf", "geneve", "wireguard", "ifb", "nlmon",
})
#: ``link/TYPE`` values that name the device kind outright.
LINK_TYPE_KINDS = {"loopback": "loopback", "sit": "sit", "ipip": "ipip", "gre": "gre", "tunnel6": "ip6tnl"}

_MAC = re.compile(r"^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5,19}$")


@dataclass
class Address:
    """One address on an interface, e.g. ``inet 10.3.14.150/24 brd 10.3.14.255 scope global secondary eth0:0``."""

    interface: IPInterface  # the address with its prefix length
    broadcast: Optional[IPAddress] = None
    scope: Optional[str] = None  # 'global', 'link', 'host'...; None when the source does not say
    label: Optional[str] = None  # only when it differs from the interface name, e.g. 'eth0:0'
    secondary: bool = False  # IPv4 only: a further address in a subnet the interface already has
    flags: List[str] = field(default_factory=list)  # dynamic, noprefixroute, deprecated, nodad, temporary...
    peer: Optional[IPInterface] = None  # point-to-point: the far end (``inet A peer B/32``)
    line: int = 0

    @property
    def ip(self) -> IPAddress:
        return self.interface.ip

    @property
    def network(self) -> Union[ipaddress.IPv4Network, ipaddress.IPv6Network]:
        return self.interface.network

    @property
    def version(self) -> int:
        return self.interface.version

    @property
    def is_host(self) -> bool:
        """A /32 or /128 (or point-to-point) address: it makes no subnet route, so findif cannot use it."""
        return self.peer is not None or self.interface.network.prefixlen == self.interface.max_prefixlen

    def to_dict(self) -> dict:
        return {
            "address": str(self.interface), "broadcast": _str_or_none(self.broadcast), "scope": self.scope,
            "label": self.label, "secondary": self.secondary, "flags": list(self.flags),
            "peer": _str_or_none(self.peer), "line": self.line,
        }


@dataclass
class Interface:
    """One network interface, e.g. ``10: vlan4@bond0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 ...``."""

    name: str  # without the @link part and without an alias label
    index: Optional[int] = None
    flags: List[str] = field(default_factory=list)
    state: Optional[str] = None  # operational state: UP, DOWN, UNKNOWN, LOWERLAYERDOWN...
    mtu: Optional[int] = None
    mac: Optional[str] = None  # lower-case, colon-separated
    link: Optional[str] = None  # 'bond0' for vlan4@bond0, 'if234' for eth0@if234, 'NONE' for sit0@NONE
    master: Optional[str] = None  # the bond or bridge this interface is enslaved to
    kind: Optional[str] = None  # 'vlan', 'bond', 'bridge', 'veth', 'loopback'... when the source tells
    altnames: List[str] = field(default_factory=list)
    addresses: List[Address] = field(default_factory=list)
    line: int = 0
    link_type: Optional[str] = None  # the ``link/TYPE`` word: 'ether', 'loopback', 'sit', 'none'...

    @property
    def is_up(self) -> bool:
        """Administratively up (the UP flag)."""
        return "UP" in self.flags

    @property
    def has_carrier(self) -> Optional[bool]:
        """True/False when the source says whether the link is up; None when it cannot tell."""
        if "NO-CARRIER" in self.flags:
            return False
        if "LOWER_UP" in self.flags or "RUNNING" in self.flags:
            return True
        return None

    def ipv4(self) -> List[Address]:
        return [a for a in self.addresses if a.version == 4]

    def labels(self) -> List[str]:
        """Alias labels carried by this interface's addresses (``eth0:0``...), in order."""
        return _unique(a.label for a in self.addresses if a.label)

    def to_dict(self) -> dict:
        return {
            "name": self.name, "index": self.index, "flags": list(self.flags), "state": self.state,
            "mtu": self.mtu, "mac": self.mac, "link": self.link, "master": self.master, "kind": self.kind,
            "link_type": self.link_type, "altnames": list(self.altnames),
            "addresses": [a.to_dict() for a in self.addresses], "line": self.line,
        }


@dataclass
class InterfaceTable:
    """All interfaces of one node, whatever the source (see :data:`SOURCE_FORMATS`)."""

    path: str
    source_format: str
    interfaces: List[Interface] = field(default_factory=list)
    problems: List[Problem] = field(default_factory=list)

    def get(self, name: str) -> Optional[Interface]:
        """The interface called ``name``; also accepts ``eth0@if2``, an altname, or a label (``eth0:0``).

        A label that no address carries yet still names its interface (IPaddr adds ``eth0:10`` itself).
        """
        base = name.split("@", 1)[0]
        for iface in self.interfaces:
            if iface.name == base:
                return iface
        for iface in self.interfaces:
            if base in iface.altnames or base in iface.labels():
                return iface
        # a label not (yet) configured, e.g. haresources' eth0:10 before heartbeat adds it
        return self.get(base.split(":", 1)[0]) if ":" in base else None

    def names(self, labels: bool = False) -> List[str]:
        """Interface names in order; with ``labels=True`` each one's alias labels follow it."""
        out: List[str] = []
        for iface in self.interfaces:
            out.append(iface.name)
            if labels:
                out.extend(iface.labels())
        return out

    def addresses(self, version: Optional[int] = None) -> List[Tuple[Interface, Address]]:
        """Every address with the interface that carries it, optionally only IPv4 (4) or IPv6 (6)."""
        return [(iface, addr) for iface in self.interfaces for addr in iface.addresses
                if version is None or addr.version == version]

    def find_address(self, ip: Union[str, IPAddress]) -> Optional[Tuple[Interface, Address]]:
        """The first ``(interface, address)`` carrying exactly this IP (a prefix length is ignored)."""
        wanted = _as_ip(ip)
        if wanted is None:
            return None
        for iface, addr in self.addresses(wanted.version):
            if addr.ip == wanted:
                return iface, addr
        return None

    def interfaces_on_subnet(self, ip: Union[str, IPAddress]) -> List[Tuple[Interface, Address]]:
        """Interfaces whose configured network contains ``ip``, as findif sees them.

        Only primary (non-secondary) addresses count, since a secondary shares its
        primary's subnet route; /32, /128 and point-to-point addresses make no subnet
        route and never match (``find_address`` and ``addresses`` still report them).
        More than one result means findif without an explicit ``nic`` is ambiguous.
        """
        wanted = _as_ip(ip)
        if wanted is None:
            return []
        return [(iface, addr) for iface, addr in self.addresses(wanted.version)
                if not addr.secondary and not addr.is_host and wanted in addr.network]

    def to_dict(self) -> dict:
        return {
            "path": self.path, "source_format": self.source_format,
            "interfaces": [i.to_dict() for i in self.interfaces],
            "problems": [{"line": p.line, "message": p.message, "text": p.text, "severity": p.severity, "code": p.code}
                         for p in self.problems],
        }


# --------------------------------------------------------------------------- shared helpers

def _str_or_none(value: object) -> Optional[str]:
    return None if value is None else str(value)


def _unique(items: Iterable[str]) -> List[str]:
    return list(dict.fromkeys(items))


def _as_ip(value: Union[str, IPAddress]) -> Optional[IPAddress]:
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return value
    try:
        return ipaddress.ip_interface(str(value).strip()).ip
    except ValueError:
        return None


def _mac(text: Optional[str]) -> Optional[str]:
    return text.lower() if text and _MAC.match(text) else None


def _split_name(token: str) -> Tuple[str, Optional[str]]:
    """``vlan4@bond0`` -> ('vlan4', 'bond0'); ``eth0`` -> ('eth0', None)."""
    name, sep, link = token.partition("@")
    return name, (link or None) if sep else None


def _label(label: Optional[str], ifname: str) -> Optional[str]:
    return label if label and label != ifname else None


class _Collector:
    """Problems of one parse, each tied to a line."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: List[Problem] = []
        self.per_line: Dict[int, int] = {}

    def add(self, line: int, message: str, text: str = "", severity: str = "error", *, code: str) -> None:
        self.per_line[line] = count = self.per_line.get(line, 0) + 1
        if count <= MAX_PROBLEMS_PER_LINE:
            self.problems.append(Problem(self.path, line, message, shorten(text), severity, code))
        elif count == MAX_PROBLEMS_PER_LINE + 1:
            self.problems.append(Problem(self.path, line, "more problems on this line are not listed", "", severity,
                                         TOO_MANY))

    def warn(self, line: int, message: str, text: str = "", *, code: str) -> None:
        self.add(line, message, text, "warning", code=code)


def _lines(data: bytes, problems: _Collector) -> Iterable[Tuple[int, str]]:
    for number, text in numbered_lines(data):
        if len(text) > MAX_CONFIG_LINE:
            problems.add(number, f"line longer than {MAX_CONFIG_LINE} characters; skipped", text[:80], code="line-too-long")
            continue
        if "\x00" in text:
            problems.add(number, "line contains NUL bytes; skipped", text, code="nul-bytes")
            continue
        yield number, text


def _finish(table: InterfaceTable, problems: _Collector) -> InterfaceTable:
    seen: Dict[str, int] = {}
    for iface in table.interfaces:
        if iface.name in seen:
            problems.warn(iface.line, f"interface {iface.name} is listed twice (first at line {seen[iface.name]})", code="ifaces-duplicate")
        seen.setdefault(iface.name, iface.line)
    if not table.interfaces:
        problems.add(0, "no interfaces found", code="ifaces-none")
    table.problems = problems.problems
    return table


def _ip_interface(address: str, prefix: Optional[str], line: int, text: str,
                  problems: _Collector) -> Optional[IPInterface]:
    """``address`` (with or without ``/prefix``) as an interface; a problem and None when invalid."""
    try:
        if prefix is not None:
            return ipaddress.ip_interface(f"{address}/{prefix}")
        return ipaddress.ip_interface(address)
    except ValueError:
        problems.add(line, f"not a valid IP address: {address}" + (f"/{prefix}" if prefix else ""), text, code="ifaces-bad-address")
        return None


def _ip_or_none(text: Optional[str]) -> Optional[IPAddress]:
    try:
        return ipaddress.ip_address(text) if text else None
    except ValueError:
        return None


def _check_flags(flags: List[str], line: int, text: str, problems: _Collector) -> List[str]:
    """Upper-case the flag words; report words no tool prints (e.g. hand-typed ``loopback,up,10000``)."""
    unknown = [f for f in flags if f.upper() not in KNOWN_LINK_FLAGS]
    lowered = [f for f in flags if f != f.upper()]
    if unknown:
        problems.warn(line, "unknown interface flag(s): " + ", ".join(unknown), text, code="ifaces-unknown-flag")
    elif lowered:
        problems.warn(line, "interface flags in lower case; no tool prints them so (hand-typed?)", text, code="ifaces-lowercase-flags")
    return [f.upper() for f in flags]


def _kind_from_text(iface: Interface) -> Optional[str]:
    """Best guess at the device kind from what ``ip addr`` (without ``-d``) shows."""
    if iface.link_type in LINK_TYPE_KINDS:
        return LINK_TYPE_KINDS[iface.link_type]
    if "LOOPBACK" in iface.flags:
        return "loopback"
    if iface.link and iface.link != "NONE" and not iface.link.startswith("if"):
        if re.fullmatch(re.escape(iface.link) + r"\.\d+", iface.name) or re.fullmatch(r"vlan\d+", iface.name):
            return "vlan"  # bond1.57@bond1, vlan4@bond0 (a VLAN on a bond may show MASTER too)
    if "MASTER" in iface.flags:  # only bonding sets IFF_MASTER
        return "bond"
    return None
