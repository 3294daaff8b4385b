"""What ``probe vip`` asks about: the VIPs of haresources, or ``ip[/prefix[/nic]]`` given by hand.

>>> target = parse_vip_arg("10.250.40.100/24/eth0")
>>> target.address, target.prefix, target.nic, target.family
('10.250.40.100', 24, 'eth0', 4)
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Union

from hadoctor.errors import UsageError

#: haresources scripts whose argument is an IPv6 ``addr/prefix/nic``
IPV6_SCRIPTS = frozenset(("IPv6addr",))


@dataclass
class VipTarget:
    """One VIP to probe: address, prefix and nic as haresources writes them (IPaddr shorthand)."""

    address: str
    prefix: Optional[int] = None
    nic: Optional[str] = None
    node: Optional[str] = None  # the group's preferred node in haresources
    resource: str = ""  # the resource token as written
    line: int = 0

    @property
    def ip(self) -> Union[ipaddress.IPv4Address, ipaddress.IPv6Address]:
        return ipaddress.ip_address(self.address)

    @property
    def family(self) -> int:
        return self.ip.version

    @property
    def base_nic(self) -> Optional[str]:
        """The nic without an alias label (``eth0:1`` -> ``eth0``)."""
        return self.nic.split(":", 1)[0] if self.nic else None

    @property
    def network(self):
        return ipaddress.ip_interface(f"{self.address}/{self.prefix}").network if self.prefix else None


def as_target(spec: Any) -> VipTarget:
    """A VipTarget from a VipTarget, an :class:`~hadoctor.parsers.haresources.IpSpec` or a string."""
    if isinstance(spec, VipTarget):
        return spec
    if isinstance(spec, str):
        return parse_vip_arg(spec)
    return VipTarget(spec.address, getattr(spec, "prefix", None), getattr(spec, "nic", None),
                     line=getattr(spec, "line", 0))


def parse_vip_arg(text: str) -> VipTarget:
    """``ip[/prefix[/nic]]`` as given on the command line (IPv4 or IPv6); UsageError when invalid.

    >>> parse_vip_arg("fd00:250:40::100/64/eth0").family
    6
    >>> parse_vip_arg("10.1.2.300")
    Traceback (most recent call last):
    ...
    hadoctor.errors.UsageError: not an IP address: 10.1.2.300
    """
    address, _, rest = text.strip().partition("/")
    prefix_text, _, nic = rest.partition("/")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise UsageError(f"not an IP address: {address}", "give the VIP as ip[/prefix[/nic]]") from None
    prefix: Optional[int] = None
    if prefix_text:
        try:
            prefix = ipaddress.ip_network(f"{ip}/{prefix_text}", strict=False).prefixlen
        except ValueError:
            raise UsageError(f"not a prefix length or netmask: {prefix_text}",
                             "give the VIP as ip[/prefix[/nic]]") from None
    return VipTarget(str(ip), prefix, nic.split("/", 1)[0] or None, resource=text)


def vip_targets(haresources: Any) -> List[VipTarget]:
    """Every IPaddr/IPaddr2 (and IPv6addr) VIP of a parsed haresources, once each, in file order."""
    out: Dict[str, VipTarget] = {}
    for group in haresources.groups:
        for res in group.resources:
            target = None
            if res.ip is not None and res.ip.ip is not None:
                target = VipTarget(res.ip.address, res.ip.prefix, res.ip.nic, group.node, res.token, res.line)
            elif res.script in IPV6_SCRIPTS and res.args:
                # ResourceManager splits on '::' as well, so rejoin what it split
                try:
                    target = parse_vip_arg("::".join(res.args))
                except UsageError:
                    target = None
                if target is not None:
                    target.node, target.resource, target.line = group.node, res.token, res.line
            if target is not None:
                out.setdefault(str(target.ip), target)
    return list(out.values())
