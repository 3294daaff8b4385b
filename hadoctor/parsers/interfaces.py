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

import re

from hadoctor.parsers.base import decode
from hadoctor.parsers.interfaces_ifconfig import parse_ifconfig
from hadoctor.parsers.interfaces_ip import parse_ip_addr, parse_ip_brief
from hadoctor.parsers.interfaces_json import parse_ip_json
from hadoctor.parsers.interfaces_model import (  # noqa: F401 - the public model, re-exported
    ADDR_FLAG_BITS, ADDR_FLAGS, DETAIL_KINDS, IFF_RUNNING, IFF_UP, KNOWN_LINK_FLAGS, LINK_FLAG_BITS,
    LINK_TYPE_KINDS, OPER_STATES, SCOPE_NAMES, SOURCE_FORMATS, Address, Interface, InterfaceTable, IPAddress,
    IPInterface,
)

__all__ = ["Address", "Interface", "InterfaceTable", "SOURCE_FORMATS", "detect_format", "parse_interfaces",
           "parse_ip_addr", "parse_ip_brief", "parse_ip_json", "parse_ifconfig"]

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
