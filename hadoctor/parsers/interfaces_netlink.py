"""The live interface table through rtnetlink (pyroute2), in the model of :mod:`hadoctor.parsers.interfaces_model`.

pyroute2 costs about 0.13 s to import, so it is imported inside :func:`read_netlink`
only. :func:`table_from_netlink` turns already-fetched messages into the model and
renders every field the way ``ip addr`` prints it, so a live table and a parsed
``ip a`` capture of the same host compare equal.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any, Dict, Iterable, List, Optional

from hadoctor.errors import InputError
from hadoctor.parsers.base import Problem
from hadoctor.parsers.interfaces_model import (
    ADDR_FLAG_BITS, IFF_RUNNING, IFF_UP, LINK_FLAG_BITS, SCOPE_NAMES, Address, Interface, InterfaceTable,
    _label, _mac,
)

#: ARPHRD_* numbers as iproute2 names them after ``link/``.
LINK_TYPES = {1: "ether", 32: "infiniband", 512: "ppp", 768: "ipip", 769: "tunnel6", 772: "loopback",
              776: "sit", 778: "gre", 823: "ip6gre", 65534: "none", 65535: "void"}

_NETNS_DIR = "/var/run/netns"


def _attr(msg: Any, name: str) -> Any:
    """The value of netlink attribute ``name`` (works on pyroute2 messages and on plain dicts)."""
    for key, value in msg["attrs"]:
        if key == name:
            return value
    return None


def _link_flags(flags: int, parent_down: bool) -> List[str]:
    names = ["NO-CARRIER"] if flags & IFF_UP and not flags & IFF_RUNNING else []
    names += [name for name, bit in LINK_FLAG_BITS if flags & bit]
    if parent_down:
        names.append("M-DOWN")
    return names


def _addr_flags(flags: int, version: int) -> List[str]:
    # ADDR_FLAG_BITS' 'dynamic' entry is the PERMANENT bit, printed when it is *absent*
    out = []
    for name, bit in ADDR_FLAG_BITS:
        if name == "dynamic":
            if not flags & bit:
                out.append(name)
        elif name == "temporary":
            if flags & bit and version == 6:
                out.append(name)
        elif flags & bit:
            out.append(name)
    return out


def table_from_netlink(links: Iterable[Any], addrs: Iterable[Any], path: str = "netlink") -> InterfaceTable:
    """Build the table from RTM_NEWLINK and RTM_NEWADDR messages (pyroute2 ``get_links``/``get_addr``)."""
    links = list(links)
    names = {link["index"]: _attr(link, "IFLA_IFNAME") for link in links}
    flags_by_index = {link["index"]: link["flags"] for link in links}
    table = InterfaceTable(path, "netlink")
    by_index: Dict[int, Interface] = {}
    for link in links:
        index, flags = link["index"], link["flags"]
        iflink = _attr(link, "IFLA_LINK")
        netnsid = _attr(link, "IFLA_LINK_NETNSID")
        parent: Optional[str] = None
        parent_down = False
        if iflink is not None and iflink != index:
            if iflink == 0:
                parent = "NONE"
            elif netnsid is not None or iflink not in names:
                parent = f"if{iflink}"
            else:
                parent = names[iflink]
                parent_down = not flags_by_index[iflink] & IFF_UP
        info = _attr(link, "IFLA_LINKINFO")
        kind = _attr(info, "IFLA_INFO_KIND") if info else None
        if kind is None and flags & 0x8:
            kind = "loopback"
        props = _attr(link, "IFLA_PROP_LIST")
        altnames = [v for k, v in props["attrs"] if k == "IFLA_ALT_IFNAME"] if props else []
        master = _attr(link, "IFLA_MASTER")
        link_type = LINK_TYPES.get(link["ifi_type"])
        iface = Interface(
            names[index], index, _link_flags(flags, parent_down), _attr(link, "IFLA_OPERSTATE"),
            _attr(link, "IFLA_MTU"), _mac(_attr(link, "IFLA_ADDRESS")), parent,
            names.get(master) if master else None, kind, altnames, link_type=link_type)
        by_index[index] = iface
        table.interfaces.append(iface)
    for msg in addrs:
        iface = by_index.get(msg["index"])
        if iface is None:
            table.problems.append(Problem(path, 0, f"address on unknown interface index {msg['index']}",
                                          severity="warning", code="ifaces-unknown-index"))
            continue
        address = _address(msg, iface.name)
        if address is not None:
            iface.addresses.append(address)
    return table


def _address(msg: Any, ifname: str) -> Optional[Address]:
    prefix = msg["prefixlen"]
    local, remote = _attr(msg, "IFA_LOCAL"), _attr(msg, "IFA_ADDRESS")
    try:
        addr = ipaddress.ip_interface(f"{local or remote}/{prefix}")
        peer = ipaddress.ip_interface(f"{remote}/{prefix}") if local and remote and local != remote else None
    except ValueError:
        return None
    flags = _attr(msg, "IFA_FLAGS")
    flags = msg["flags"] if flags is None else flags
    broadcast = _attr(msg, "IFA_BROADCAST")
    scope = msg["scope"]
    return Address(addr, ipaddress.ip_address(broadcast) if broadcast else None,
                   SCOPE_NAMES.get(scope, str(scope)), _label(_attr(msg, "IFA_LABEL"), ifname),
                   bool(flags & 0x1) and addr.version == 4, _addr_flags(flags, addr.version), peer)


def read_netlink(netns: Optional[str] = None) -> InterfaceTable:
    """Read the interfaces of this host, or of the named network namespace, through rtnetlink."""
    where = f"netlink:{netns}" if netns else "netlink"
    if netns is not None and (os.sep in netns or not os.path.exists(os.path.join(_NETNS_DIR, netns))):
        raise InputError(where, f"no network namespace named {netns}", "see `ip netns list`")
    try:
        from pyroute2 import IPRoute
    except ImportError:
        raise InputError(where, "pyroute2 is not installed", "pip install pyroute2, or give an `ip a` capture") from None
    try:
        # flags=0: never create the namespace (pyroute2's default would)
        with (IPRoute(netns=netns, flags=0) if netns else IPRoute()) as ipr:
            links, addrs = ipr.get_links(), ipr.get_addr()
    except OSError as exc:
        raise InputError(where, f"cannot read netlink: {exc.strerror or exc}",
                         "reading another namespace needs root") from None
    return table_from_netlink(links, addrs, where)
