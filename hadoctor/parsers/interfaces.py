"""Network interfaces and their addresses: ``ip addr``, ``ip -br addr``, ``ip -j addr``, ``ifconfig -a``, netlink.

Every source gives one model, :class:`InterfaceTable`, so a rule can ask which
interface carries the virtual IP, or which interfaces findif would consider for
it, without caring how the node was inspected.

``ip addr`` as printed on a CentOS 6 node running heartbeat's IPaddr (the VIP
is an alias, ``eth0:0``):

>>> table = parse_interfaces(b'''
... 2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UNKNOWN qlen 1000
...     link/ether 00:0c:29:1e:dc:aa brd ff:ff:ff:ff:ff:ff
...     inet 10.3.14.108/24 brd 10.3.14.255 scope global eth0
...     inet 10.3.14.150/24 brd 10.3.14.255 scope global secondary eth0:0
... '''.lstrip(), "ip-a.txt")
>>> table.source_format, table.names(labels=True)
('ip-addr', ['eth0', 'eth0:0'])
>>> iface, addr = table.find_address("10.3.14.150")
>>> iface.name, addr.label, addr.secondary, str(addr.broadcast), addr.line
('eth0', 'eth0:0', True, '10.3.14.255', 4)
>>> [(i.name, str(a.interface)) for i, a in table.interfaces_on_subnet("10.3.14.200")]
[('eth0', '10.3.14.108/24')]

Conventions shared by every source:

- ``Address.label`` is set only when it differs from the interface name (an
  alias such as ``eth0:0``); ``ip`` prints the plain name for every IPv4 address.
- ``Interface.link`` is the part after ``@`` in ``ip`` output: the parent
  (``bond0`` for ``vlan4@bond0``), ``ifN`` when the peer lives in another
  namespace, ``NONE`` for a tunnel without a lower device.
- ``ifconfig`` (net-tools) shows one IPv4 address per label: addresses added by
  ``ip addr add`` without a label are invisible to it. Its flags are net-tools
  names (``RUNNING`` where ``ip`` says ``LOWER_UP``).
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple, Union

from hadoctor.parsers.base import MAX_CONFIG_LINE, MAX_PROBLEMS_PER_LINE, Problem, decode, numbered_lines, shorten, to_int

IPInterface = Union[ipaddress.IPv4Interface, ipaddress.IPv6Interface]
IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

#: Values of ``InterfaceTable.source_format``.
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
            "problems": [{"line": p.line, "message": p.message, "text": p.text, "severity": p.severity}
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

    def add(self, line: int, message: str, text: str = "", severity: str = "error") -> None:
        self.per_line[line] = count = self.per_line.get(line, 0) + 1
        if count <= MAX_PROBLEMS_PER_LINE:
            self.problems.append(Problem(self.path, line, message, shorten(text), severity))
        elif count == MAX_PROBLEMS_PER_LINE + 1:
            self.problems.append(Problem(self.path, line, "more problems on this line are not listed", "", severity))

    def warn(self, line: int, message: str, text: str = "") -> None:
        self.add(line, message, text, "warning")


def _lines(data: bytes, problems: _Collector) -> Iterable[Tuple[int, str]]:
    for number, text in numbered_lines(data):
        if len(text) > MAX_CONFIG_LINE:
            problems.add(number, f"line longer than {MAX_CONFIG_LINE} characters; skipped", text[:80])
            continue
        if "\x00" in text:
            problems.add(number, "line contains NUL bytes; skipped", text)
            continue
        yield number, text


def _finish(table: InterfaceTable, problems: _Collector) -> InterfaceTable:
    seen: Dict[str, int] = {}
    for iface in table.interfaces:
        if iface.name in seen:
            problems.warn(iface.line, f"interface {iface.name} is listed twice (first at line {seen[iface.name]})")
        seen.setdefault(iface.name, iface.line)
    if not table.interfaces:
        problems.add(0, "no interfaces found")
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
        problems.add(line, f"not a valid IP address: {address}" + (f"/{prefix}" if prefix else ""), text)
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
        problems.warn(line, "unknown interface flag(s): " + ", ".join(unknown), text)
    elif lowered:
        problems.warn(line, "interface flags in lower case; no tool prints them so (hand-typed?)", text)
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


# --------------------------------------------------------------------------- ip addr

_IP_HEADER = re.compile(r"^\s*(\d+):\s*(\S+?):\s*<([^>]*)>(.*)$")
_IP_HEADER_LOOSE = re.compile(r"^\s*(\d+):\s*(\S+?):(?:\s+(.*))?$")
_IP_ADDR_LINE = re.compile(r"^\s*(inet6?)\s+(.*)$")  # the rest is split into words: no \s*$ (quadratic)
_IP_LINK_LINE = re.compile(r"^\s*link/(\S+)\s*(.*)$")
_IP_LIFETIME = re.compile(r"^\s*valid_lft\s+\S+\s+preferred_lft\s+\S+\s*$")
_IP_ALTNAME = re.compile(r"^\s*altname\s+(\S+)\s*$")
_IP_HEADER_KEYS = frozenset({"mtu", "qdisc", "master", "state", "status", "group", "qlen", "mode"})
_IP_ADDR_KEYS = frozenset({"brd", "any", "scope", "metric", "proto", "peer"})


def parse_ip_addr(data: bytes, path: str) -> InterfaceTable:
    """Parse ``ip addr`` / ``ip a`` / ``ip addr show`` output, old and new iproute2, busybox and iproute2mac.

    A bond slave next to its bond (CentOS 7):

    >>> t = parse_ip_addr(b'''2: eno1: <BROADCAST,MULTICAST,SLAVE,UP,LOWER_UP> mtu 1500 qdisc mq master bond0 state UP qlen 1000
    ...     link/ether 40:f2:e9:1d:26:20 brd ff:ff:ff:ff:ff:ff
    ... 3: bond0: <BROADCAST,MULTICAST,MASTER,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP
    ...     link/ether 40:f2:e9:1d:26:20 brd ff:ff:ff:ff:ff:ff
    ...     inet 10.5.228.51/24 brd 10.5.228.255 scope global bond0
    ...        valid_lft forever preferred_lft forever
    ... ''', "ip-a.txt")
    >>> [(i.name, i.master, i.kind, len(i.addresses)) for i in t.interfaces]
    [('eno1', 'bond0', None, 0), ('bond0', None, 'bond', 1)]
    >>> t.problems
    []
    """
    problems = _Collector(path)
    table = InterfaceTable(path, "ip-addr")
    current: Optional[Interface] = None
    for number, text in _lines(data, problems):
        if not text.strip():
            continue
        header = _IP_HEADER.match(text)
        if header:
            current = _ip_header(header, number, text, problems)
            table.interfaces.append(current)
            continue
        address = _IP_ADDR_LINE.match(text)
        if address:
            if current is None:
                problems.add(number, "address line before any interface header", text)
            else:
                _ip_address_line(current, address.group(1), address.group(2), number, text, problems)
            continue
        if _IP_LIFETIME.match(text):
            if current is None or not current.addresses:
                problems.warn(number, "address lifetime line without an address before it", text)
            continue
        link = _IP_LINK_LINE.match(text)
        if link and current is not None:
            _ip_link_line(current, link.group(1), link.group(2).split())
            continue
        altname = _IP_ALTNAME.match(text)
        if altname and current is not None:
            current.altnames.append(altname.group(1))
            continue
        loose = _IP_HEADER_LOOSE.match(text)
        if loose and not text[:1].isspace():
            problems.add(number, "interface header without a <FLAGS> list", text)
            name, link_name = _split_name(loose.group(2))
            current = Interface(name, to_int(loose.group(1)), link=link_name, line=number)
            table.interfaces.append(current)
            continue
        first = text.split()[0]
        if current is not None and first in DETAIL_KINDS and not current.addresses:
            current.kind = first  # the ``ip -d`` line naming the device kind
            continue
        if current is not None and (first.endswith("_slave") or first == "promiscuity") and not current.addresses:
            continue  # ``ip -d``: port details (bond_slave, bridge_slave) and link counters
        problems.warn(number, "unrecognised line", text)
    for iface in table.interfaces:
        iface.kind = iface.kind or _kind_from_text(iface)
    return _finish(table, problems)


def _ip_header(match: "re.Match[str]", number: int, text: str, problems: _Collector) -> Interface:
    name, link = _split_name(match.group(2))
    flags = [f.strip() for f in match.group(3).split(",") if f.strip()]
    iface = Interface(name, to_int(match.group(1)), _check_flags(flags, number, text, problems), link=link, line=number)
    words = match.group(4).split()
    values = {key: value for key, value in zip(words, words[1:]) if key in _IP_HEADER_KEYS}
    if "mtu" in values:
        iface.mtu = to_int(values["mtu"])
        if iface.mtu is None:
            problems.add(number, f"mtu is not a number: {values['mtu']}", text)
    iface.master = values.get("master")
    # iproute2mac prints 'status' where iproute2 prints 'state'
    iface.state = values.get("state") or values.get("status")
    if iface.state and iface.state not in OPER_STATES:
        problems.warn(number, f"unknown interface state {iface.state}", text)
    return iface


def _ip_link_line(iface: Interface, link_type: str, words: List[str]) -> None:
    iface.link_type = link_type
    if words:
        iface.mac = _mac(words[0])


def _ip_address_line(iface: Interface, family: str, rest: str, number: int, text: str,
                     problems: _Collector) -> None:
    words = rest.split()
    if not words:
        problems.add(number, f"{family} line without an address", text)
        return
    local, _, prefix = words[0].partition("/")
    peer_text: Optional[str] = None
    values: Dict[str, str] = {}
    flags: List[str] = []
    secondary = False
    leftovers: List[str] = []
    i = 1
    while i < len(words):
        word = words[i]
        if word in _IP_ADDR_KEYS and i + 1 < len(words):
            values[word] = words[i + 1]
            i += 2
            continue
        if word == "secondary":
            secondary = True
        elif word in ADDR_FLAGS:
            if word != "permanent":
                flags.append(word)
        else:
            leftovers.append(word)
        i += 1
    if "peer" in values:
        peer_text, _, prefix = values["peer"].partition("/")
    if not prefix and leftovers and family == "inet6":
        problems.add(number, "address line not understood", text)
        return
    if not prefix:
        problems.warn(number, f"address {local} has no prefix length (iproute2 always prints one); "
                              "taken as a host address", text)
    addr = _ip_interface(local, prefix or None, number, text, problems)
    if addr is None:
        return
    if (family == "inet6") != (addr.version == 6):
        problems.add(number, f"{family} line with an IPv{addr.version} address", text)
        return
    label: Optional[str] = None
    if family == "inet" and leftovers:
        label = leftovers.pop()  # IPv4 lines end with the label
        if label != iface.name and not label.startswith(iface.name + ":"):
            problems.warn(number, f"label {label} does not belong to interface {iface.name}", text)
    if leftovers:
        problems.warn(number, "unrecognised word(s) in address line: " + " ".join(leftovers), text)
    peer = _ip_interface(peer_text, prefix or None, number, text, problems) if peer_text else None
    broadcast = _ip_or_none(values.get("brd"))
    if values.get("brd") and broadcast is None:
        problems.warn(number, f"broadcast {values['brd']} is not an address", text)
    iface.addresses.append(Address(addr, broadcast, values.get("scope"), _label(label, iface.name),
                                   secondary, flags, peer, number))


# --------------------------------------------------------------------------- ip -br addr

#: ``ip -br addr`` prints every address of an interface on its line; no real one has this many.
MAX_BRIEF_ADDRESSES = 1024


def parse_ip_brief(data: bytes, path: str) -> InterfaceTable:
    """Parse ``ip -br addr`` (and ``ip -br link``): one line per interface.

    >>> t = parse_ip_brief(b'''lo               UNKNOWN        127.0.0.1/8 ::1/128
    ... eth0             UP             192.0.2.1/24 2001:db8:200:84:ba27:ebff:fe68:5f03/64 fe80::ba27:ebff:fe68:5f03/64
    ... ''', "ip-br-a.txt")
    >>> [(i.name, i.state, [str(a.interface) for a in i.addresses]) for i in t.interfaces][1]
    ('eth0', 'UP', ['192.0.2.1/24', '2001:db8:200:84:ba27:ebff:fe68:5f03/64', 'fe80::ba27:ebff:fe68:5f03/64'])
    """
    problems = _Collector(path)
    table = InterfaceTable(path, "ip-brief")
    for number, text in _lines(data, problems):
        words = text.split()
        if not words:
            continue
        if len(words) < 2:
            problems.add(number, "brief line needs at least a name and a state", text)
            continue
        name, link = _split_name(words[0])
        iface = Interface(name, link=link, state=words[1], line=number)
        if words[1] not in OPER_STATES:
            problems.warn(number, f"unknown interface state {words[1]}", text)
        rest = words[2:]
        if len(rest) > MAX_BRIEF_ADDRESSES:
            problems.add(number, f"more than {MAX_BRIEF_ADDRESSES} addresses on one line; the rest is not read")
            rest = rest[:MAX_BRIEF_ADDRESSES]
        if rest and _MAC.match(rest[0]):  # ``ip -br link``: MAC then <FLAGS>
            iface.mac = rest[0].lower()
            if len(rest) > 1 and rest[1].startswith("<") and rest[1].endswith(">"):
                flags = [f for f in rest[1][1:-1].split(",") if f]
                iface.flags = _check_flags(flags, number, text, problems)
            rest = []
        for word in rest:
            local, _, prefix = word.partition("/")
            if not prefix:
                problems.warn(number, f"address {local} has no prefix length; taken as a host address", text)
            addr = _ip_interface(local, prefix or None, number, text, problems)
            if addr is not None:
                iface.addresses.append(Address(addr, line=number))
        iface.kind = _kind_from_text(iface)
        table.interfaces.append(iface)
    return _finish(table, problems)


# --------------------------------------------------------------------------- ip -j addr

def _key_lines(text: str, key: str) -> List[int]:
    """Line number of each ``"key":`` in order, so JSON items can name where they came from."""
    return [text.count("\n", 0, m.start()) + 1 for m in re.finditer(r'"%s"\s*:' % re.escape(key), text)]


def parse_ip_json(data: bytes, path: str) -> InterfaceTable:
    """Parse ``ip -j addr`` (or ``ip -j -p addr``, ``ip -j -d addr``) output.

    >>> t = parse_ip_json(b'[{"ifindex":3,"link":"eth1","ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],'
    ...     b'"mtu":1500,"operstate":"UP","link_type":"ether","address":"72:ea:5e:da:68:c2","altnames":["enp0s3"],'
    ...     b'"addr_info":[{"family":"inet","local":"10.250.200.10","prefixlen":25,"broadcast":"10.250.200.127",'
    ...     b'"scope":"global","secondary":true,"label":"eth0:0"}]}]', "ip-j-a.json")
    >>> i = t.get("enp0s3"); (i.name, i.link, str(i.addresses[0].interface), i.addresses[0].label)
    ('eth0', 'eth1', '10.250.200.10/25', 'eth0:0')
    >>> parse_ip_json(b'[{"ifname": "eth0",\\n  oops}]', "x.json").problems[0].line
    2
    """
    problems = _Collector(path)
    table = InterfaceTable(path, "ip-json")
    text = decode(data)
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        lines = text.splitlines()
        problems.add(exc.lineno, f"not valid JSON: {exc.msg}", lines[exc.lineno - 1] if exc.lineno <= len(lines) else "")
        return _finish(table, problems)
    except RecursionError:
        problems.add(0, "JSON nested too deeply")
        return _finish(table, problems)
    except ValueError:  # json refuses numbers of more than 4,300 digits
        problems.add(0, "not valid JSON: a number too long to be one")
        return _finish(table, problems)
    if not isinstance(items, list):
        problems.add(1, "expected a JSON list of interfaces (the output of ip -j addr)")
        return _finish(table, problems)
    name_lines = iter(_key_lines(text, "ifname"))
    local_lines = iter(_key_lines(text, "local"))
    for item in items:
        if item == {}:
            continue  # ``ip -j -4 addr`` prints {} for interfaces it filtered out
        if not isinstance(item, dict) or not isinstance(item.get("ifname"), str):
            problems.add(0, "interface entry without an ifname", shorten(json.dumps(item)))
            continue
        iface = _json_interface(item, next(name_lines, 0), problems)
        infos = item.get("addr_info") or []
        if not isinstance(infos, list):
            problems.add(iface.line, f"addr_info of {iface.name} is not a list", shorten(json.dumps(infos)))
            infos = []
        for info in infos:
            line = next(local_lines, iface.line) if isinstance(info, dict) and "local" in info else iface.line
            addr = _json_address(info, iface.name, line, problems)
            if addr is not None:
                iface.addresses.append(addr)
        table.interfaces.append(iface)
    return _finish(table, problems)


def _json_int(value: object) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _json_str(value: object) -> Optional[str]:
    return value if isinstance(value, str) else None


def _json_interface(item: dict, line: int, problems: _Collector) -> Interface:
    name = item["ifname"]
    flags = item.get("flags")
    flags = [f for f in flags if isinstance(f, str)] if isinstance(flags, list) else []
    if "link" in item:
        link = _json_str(item["link"]) or "NONE"  # ``"link": null`` is iproute2's @NONE
    elif _json_int(item.get("link_index")) is not None:
        link = f"if{item['link_index']}"
    else:
        link = None
    linkinfo = item.get("linkinfo")
    kind = _json_str(linkinfo.get("info_kind")) if isinstance(linkinfo, dict) else None
    altnames = item.get("altnames")
    iface = Interface(
        name, _json_int(item.get("ifindex")), _check_flags(flags, line, name, problems),
        _json_str(item.get("operstate")), _json_int(item.get("mtu")), _mac(_json_str(item.get("address"))),
        link, _json_str(item.get("master")), kind,
        [a for a in altnames if isinstance(a, str)] if isinstance(altnames, list) else [],
        line=line, link_type=_json_str(item.get("link_type")))
    iface.kind = iface.kind or _kind_from_text(iface)
    return iface


def _json_address(info: object, ifname: str, line: int, problems: _Collector) -> Optional[Address]:
    if not isinstance(info, dict):
        problems.add(line, f"address entry of {ifname} is not an object", shorten(json.dumps(info)))
        return None
    local, prefix = _json_str(info.get("local")), _json_int(info.get("prefixlen"))
    if local is None or prefix is None:
        problems.add(line, f"address entry of {ifname} lacks local or prefixlen", shorten(json.dumps(info)))
        return None
    addr = _ip_interface(local, str(prefix), line, local, problems)
    if addr is None:
        return None
    peer_text = _json_str(info.get("address"))
    peer = _ip_interface(peer_text, str(prefix), line, peer_text, problems) if peer_text else None
    flags = [name for name, _ in ADDR_FLAG_BITS if info.get(name) is True]
    return Address(addr, _ip_or_none(_json_str(info.get("broadcast"))), _json_str(info.get("scope")),
                   _label(_json_str(info.get("label")), ifname), info.get("secondary") is True, flags, peer, line)


# --------------------------------------------------------------------------- ifconfig -a

_IFC_OLD_HEADER = re.compile(r"^(\S+?)\s+Link encap:(.*)$")  # HWaddr is split off in Python (linear)
_IFC_NEW_HEADER = re.compile(r"^(\S+?):\s+flags=(\d+)<([^>]*)>(.*)$")
_IFC_OLD_INET = re.compile(r"^\s*inet addr:(\S+)(.*)$")
_IFC_OLD_INET6 = re.compile(r"^\s*inet6 addr:\s*(\S+)(?:\s+Scope:(\S+))?")
_IFC_NEW_INET = re.compile(r"^\s*inet\s+(\S+)(.*)$")
_IFC_NEW_INET6 = re.compile(r"^\s*inet6\s+(\S+)(.*)$")
_IFC_OLD_FLAGS = re.compile(r"^\s*((?:[A-Z][A-Z0-9_-]*\s+)*)MTU:(\d+)")
_IFC_NEW_LINK = re.compile(r"^\s*(ether|loop|unspec|infiniband|ppp|tunnel|sit|ipip|slip)\b\s*(\S*)")
#: First words of ifconfig lines that carry nothing this model keeps.
_IFC_IGNORED = ("RX", "TX", "collisions", "Interrupt", "Memory", "Base address", "device", "options=",
                "nd6", "media:", "status:", "groups:", "member:", "lladdr", "hwaddr", "txqueuelen", "Metric",
                "metric")
_IFC_ENCAP_TYPES = {"Ethernet": "ether", "Local Loopback": "loopback", "IPv6-in-IPv4": "sit",
                    "Point-to-Point Protocol": "ppp", "UNSPEC": "unspec", "InfiniBand": "infiniband"}
_IFC_NEW_TYPES = {"loop": "loopback"}


def parse_ifconfig(data: bytes, path: str) -> InterfaceTable:
    """Parse ``ifconfig -a``: net-tools 1.60 (CentOS 5/6), net-tools 2.x, and BSD-style output.

    Alias interfaces (``eth0:0``) become labelled addresses of their interface; an
    alias in a subnet the interface already has is marked secondary, as the kernel does.

    >>> t = parse_ifconfig(b'''eth0      Link encap:Ethernet  HWaddr 00:0C:29:54:7A:EF
    ...           inet addr:172.30.105.121  Bcast:172.30.105.255  Mask:255.255.255.0
    ...           UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1
    ...
    ... eth0:0    Link encap:Ethernet  HWaddr 00:0C:29:54:7A:EF
    ...           inet addr:172.30.105.201  Bcast:172.30.105.255  Mask:255.255.255.0
    ...           UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1
    ... ''', "ifconfig.txt")
    >>> eth0 = t.get("eth0:0"); (eth0.name, eth0.mac, eth0.mtu, eth0.flags)
    ('eth0', '00:0c:29:54:7a:ef', 1500, ['UP', 'BROADCAST', 'RUNNING', 'MULTICAST'])
    >>> [(str(a.interface), a.label, a.secondary) for a in eth0.addresses]
    [('172.30.105.121/24', None, False), ('172.30.105.201/24', 'eth0:0', True)]
    """
    problems = _Collector(path)
    table = InterfaceTable(path, "ifconfig")
    by_name: Dict[str, Interface] = {}
    block: Optional[Interface] = None  # the interface the current block's addresses go to
    label: Optional[str] = None  # the alias label of the current block
    for number, text in _lines(data, problems):
        if not text.strip():
            continue
        if not text[0].isspace():
            block, label = _ifconfig_header(text, number, table, by_name, problems)
            continue
        if block is None:
            problems.warn(number, "indented line before any interface header", text)
            continue
        if not _ifconfig_line(block, label, text, number, problems):
            problems.warn(number, "unrecognised line", text)
    for iface in table.interfaces:
        _mark_secondaries(iface)
        iface.kind = iface.kind or _kind_from_text(iface)
    return _finish(table, problems)


def _ifconfig_header(text: str, number: int, table: InterfaceTable, by_name: Dict[str, Interface],
                     problems: _Collector) -> Tuple[Optional[Interface], Optional[str]]:
    old = _IFC_OLD_HEADER.match(text)
    new = None if old else _IFC_NEW_HEADER.match(text)
    if not old and not new:
        problems.add(number, "unrecognised interface header", text)
        return None, None
    full = (old or new).group(1)  # type: ignore[union-attr]
    base, _, alias = full.partition(":")
    iface = by_name.get(base)
    if iface is None:
        iface = by_name[base] = Interface(base, line=number)
        table.interfaces.append(iface)
    if alias:
        return iface, full
    iface.line = number
    if old:
        rest = old.group(2)
        words = rest.split()
        hwaddr = words[-1] if len(words) >= 2 and words[-2] == "HWaddr" else ""
        encap = (rest[:rest.rfind("HWaddr")] if hwaddr else rest).strip()
        iface.link_type = _IFC_ENCAP_TYPES.get(encap, encap.lower() or None)
        iface.mac = _mac(hwaddr)
    else:
        iface.flags = _check_flags([f for f in new.group(3).split(",") if f], number, text, problems)  # type: ignore[union-attr]
        words = new.group(4).split()  # type: ignore[union-attr]
        values = dict(zip(words, words[1:]))
        iface.mtu = to_int(values.get("mtu", ""))
    return iface, None


def _ifconfig_line(iface: Interface, label: Optional[str], text: str, number: int, problems: _Collector) -> bool:
    """Take what one indented line says; False when it is not understood."""
    m = _IFC_OLD_INET.match(text)
    if m:
        fields = dict(re.findall(r"(Bcast|Mask|P-t-P):(\S+)", m.group(2)))
        _ifconfig_v4(iface, label, m.group(1), fields.get("Mask"), fields.get("Bcast"), fields.get("P-t-P"),
                     number, text, problems)
        return True
    m = _IFC_OLD_INET6.match(text)
    if m:
        if label is None:
            addr = _ip_interface(m.group(1), None, number, text, problems)
            if addr is not None:
                scope = m.group(2).lower() if m.group(2) else None
                iface.addresses.append(Address(addr, scope=scope, line=number))
        return True
    m = _IFC_NEW_INET6.match(text)
    if m:
        if label is None:
            words = m.group(2).split()
            values = dict(zip(words, words[1:]))
            addr = _ip_interface(m.group(1).split("%")[0], values.get("prefixlen"), number, text, problems)
            if addr is not None:
                scope = re.search(r"<(\w+)>", values.get("scopeid", ""))
                iface.addresses.append(Address(addr, scope=scope.group(1) if scope else None, line=number))
        return True
    m = _IFC_NEW_INET.match(text)
    if m:
        words = m.group(2).split()
        values = dict(zip(words, words[1:]))
        _ifconfig_v4(iface, label, m.group(1), values.get("netmask"), values.get("broadcast"),
                     values.get("destination"), number, text, problems)
        return True
    if label is not None:
        return True  # an alias block repeats its interface's link details
    m = _IFC_OLD_FLAGS.match(text)
    if m:
        iface.flags = _check_flags(m.group(1).split(), number, text, problems)
        iface.mtu = to_int(m.group(2))
        return True
    m = _IFC_NEW_LINK.match(text)
    if m:
        iface.link_type = _IFC_NEW_TYPES.get(m.group(1), m.group(1))
        iface.mac = _mac(m.group(2))
        return True
    return text.strip().startswith(_IFC_IGNORED)


def _netmask_prefix(mask: str) -> Optional[int]:
    """``255.255.255.0`` or BSD ``0xffffff00`` -> 24; None when not a contiguous mask."""
    try:
        value = int(mask, 16) if mask.lower().startswith("0x") else int(ipaddress.IPv4Address(mask))
    except ValueError:
        return None
    if not 0 <= value < 2 ** 32:
        return None
    prefix = bin(value).count("1")
    return prefix if value == (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF else None


def _ifconfig_v4(iface: Interface, label: Optional[str], local: str, mask: Optional[str], bcast: Optional[str],
                 peer_text: Optional[str], number: int, text: str, problems: _Collector) -> None:
    prefix: Optional[int] = 32
    if mask is not None:
        prefix = _netmask_prefix(mask)
        if prefix is None:
            problems.add(number, f"netmask {mask} is not a contiguous mask", text)
            return
    addr = _ip_interface(local, str(prefix), number, text, problems)
    if addr is None:
        return
    peer = _ip_interface(peer_text, str(prefix), number, text, problems) if peer_text else None
    iface.addresses.append(Address(addr, _ip_or_none(bcast), label=_label(label, iface.name),
                                   peer=peer, line=number))


def _mark_secondaries(iface: Interface) -> None:
    """ifconfig does not say which alias is secondary: the kernel makes every later address in a subnet one."""
    seen = set()
    for addr in iface.ipv4():
        if addr.network in seen:
            addr.secondary = True
        seen.add(addr.network)


# --------------------------------------------------------------------------- dispatch

_DETECT_IP = re.compile(r"^\s*\d+:\s*\S+?:(\s|$)")
_DETECT_IFCONFIG = re.compile(r"^(\S+?:\s+flags=\d+<|\S+\s+Link encap:)")
_DETECT_BRIEF = re.compile(r"^\S+\s+(%s)(\s|$)" % "|".join(sorted(OPER_STATES)))


def detect_format(data: bytes) -> str:
    """Which of :data:`SOURCE_FORMATS` (other than netlink) the bytes look like; 'ip-addr' when unsure."""
    head = decode(data[:65536])
    if head.lstrip().startswith(("[", "{")):
        return "ip-json"
    votes = {"ip-addr": 0, "ifconfig": 0, "ip-brief": 0}
    for text in head.splitlines()[:300]:
        if _DETECT_IFCONFIG.match(text):
            votes["ifconfig"] += 1
        elif _DETECT_IP.match(text):
            votes["ip-addr"] += 1
        elif _DETECT_BRIEF.match(text):
            votes["ip-brief"] += 1
    best = max(votes, key=lambda k: votes[k])
    return best if votes[best] else "ip-addr"


_PARSERS = {"ip-addr": parse_ip_addr, "ip-brief": parse_ip_brief, "ip-json": parse_ip_json,
            "ifconfig": parse_ifconfig}


def parse_interfaces(data: bytes, path: str) -> InterfaceTable:
    """Detect the format (JSON, brief, ifconfig or ``ip addr``) and parse with the matching parser.

    >>> parse_interfaces(b"lo UNKNOWN 127.0.0.1/8\\n", "x").source_format
    'ip-brief'
    """
    return _PARSERS[detect_format(data)](data, path)
