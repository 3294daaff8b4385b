"""``ip addr`` (old and new iproute2, busybox, iproute2mac, ``ip -d``) and ``ip -br addr`` text."""

from __future__ import annotations

import re
from typing import Dict, List, Optional

from hadoctor.parsers.base import to_int
from hadoctor.parsers.interfaces_model import (
    ADDR_FLAGS, DETAIL_KINDS, OPER_STATES, Address, Interface, InterfaceTable, _Collector,
    _check_flags, _finish, _ip_interface, _ip_or_none, _kind_from_text, _label, _lines, _mac, _MAC,
    _split_name,
)

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
                problems.add(number, "address line before any interface header", text, code="ifaces-orphan-line")
            else:
                _ip_address_line(current, address.group(1), address.group(2), number, text, problems)
            continue
        if _IP_LIFETIME.match(text):
            if current is None or not current.addresses:
                problems.warn(number, "address lifetime line without an address before it", text, code="ifaces-orphan-line")
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
            problems.add(number, "interface header without a <FLAGS> list", text, code="ifaces-bad-header")
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
        problems.warn(number, "unrecognised line", text, code="ifaces-unrecognised")
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
            problems.add(number, f"mtu is not a number: {values['mtu']}", text, code="ifaces-bad-mtu")
    iface.master = values.get("master")
    # iproute2mac prints 'status' where iproute2 prints 'state'
    iface.state = values.get("state") or values.get("status")
    if iface.state and iface.state not in OPER_STATES:
        problems.warn(number, f"unknown interface state {iface.state}", text, code="ifaces-unknown-state")
    return iface


def _ip_link_line(iface: Interface, link_type: str, words: List[str]) -> None:
    iface.link_type = link_type
    if words:
        iface.mac = _mac(words[0])


def _ip_address_line(iface: Interface, family: str, rest: str, number: int, text: str,
                     problems: _Collector) -> None:
    words = rest.split()
    if not words:
        problems.add(number, f"{family} line without an address", text, code="ifaces-bad-address")
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
        problems.add(number, "address line not understood", text, code="ifaces-bad-address")
        return
    if not prefix:
        problems.warn(number, f"address {local} has no prefix length (iproute2 always prints one); "
                              "taken as a host address", text, code="ifaces-no-prefix")
    addr = _ip_interface(local, prefix or None, number, text, problems)
    if addr is None:
        return
    if (family == "inet6") != (addr.version == 6):
        problems.add(number, f"{family} line with an IPv{addr.version} address", text, code="ifaces-bad-address")
        return
    label: Optional[str] = None
    if family == "inet" and leftovers:
        label = leftovers.pop()  # IPv4 lines end with the label
        if label != iface.name and not label.startswith(iface.name + ":"):
            problems.warn(number, f"label {label} does not belong to interface {iface.name}", text, code="ifaces-bad-label")
    if leftovers:
        problems.warn(number, "unrecognised word(s) in address line: " + " ".join(leftovers), text, code="ifaces-unrecognised")
    peer = _ip_interface(peer_text, prefix or None, number, text, problems) if peer_text else None
    broadcast = _ip_or_none(values.get("brd"))
    if values.get("brd") and broadcast is None:
        problems.warn(number, f"broadcast {values['brd']} is not an address", text, code="ifaces-bad-address")
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
            problems.add(number, "brief line needs at least a name and a state", text, code="ifaces-bad-line")
            continue
        name, link = _split_name(words[0])
        iface = Interface(name, link=link, state=words[1], line=number)
        if words[1] not in OPER_STATES:
            problems.warn(number, f"unknown interface state {words[1]}", text, code="ifaces-unknown-state")
        rest = words[2:]
        if len(rest) > MAX_BRIEF_ADDRESSES:
            problems.add(number, f"more than {MAX_BRIEF_ADDRESSES} addresses on one line; the rest is not read", code="ifaces-too-many-addresses")
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
                problems.warn(number, f"address {local} has no prefix length; taken as a host address", text, code="ifaces-no-prefix")
            addr = _ip_interface(local, prefix or None, number, text, problems)
            if addr is not None:
                iface.addresses.append(Address(addr, line=number))
        iface.kind = _kind_from_text(iface)
        table.interfaces.append(iface)
    return _finish(table, problems)
