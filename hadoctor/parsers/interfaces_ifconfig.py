"""``ifconfig -a``: net-tools 1.60 (CentOS 5/6), net-tools 2.x and BSD-style output."""

from __future__ import annotations

import ipaddress
import re
from typing import Dict, Optional, Tuple

from hadoctor.parsers.base import to_int
from hadoctor.parsers.interfaces_model import (
    Address, Interface, InterfaceTable, _Collector,
    _check_flags, _finish, _ip_interface, _ip_or_none, _kind_from_text, _label, _lines, _mac,
)

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
            problems.warn(number, "indented line before any interface header", text, code="ifaces-orphan-line")
            continue
        if not _ifconfig_line(block, label, text, number, problems):
            problems.warn(number, "unrecognised line", text, code="ifaces-unrecognised")
    for iface in table.interfaces:
        _mark_secondaries(iface)
        iface.kind = iface.kind or _kind_from_text(iface)
    return _finish(table, problems)


def _ifconfig_header(text: str, number: int, table: InterfaceTable, by_name: Dict[str, Interface],
                     problems: _Collector) -> Tuple[Optional[Interface], Optional[str]]:
    old = _IFC_OLD_HEADER.match(text)
    new = None if old else _IFC_NEW_HEADER.match(text)
    if not old and not new:
        problems.add(number, "unrecognised interface header", text, code="ifaces-bad-header")
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
            problems.add(number, f"netmask {mask} is not a contiguous mask", text, code="ifaces-bad-netmask")
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
