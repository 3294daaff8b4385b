"""``probe vip``: ask the network who holds each virtual IP of haresources.

For every VIP the probe sends ARP requests (IPv4) or neighbour solicitations (IPv6) on
the interface that carries the VIP's subnet and collects who answers:

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

Sockets: an AF_PACKET socket (ETH_P_ARP) for IPv4 and a raw ICMPv6 socket for IPv6,
both need root (CAP_NET_RAW); without it a :class:`~hadoctor.errors.UsageError` says so.
With ``netns`` the sockets are made inside that network namespace by a short-lived
thread (:mod:`hadoctor.probe.netns`); the calling thread never changes namespace.
Nothing is sent anywhere but on the chosen interface, to the VIPs named.

>>> target = parse_vip_arg("10.250.40.100/24/eth0")
>>> target.address, target.prefix, target.nic, target.family
('10.250.40.100', 24, 'eth0', 4)
>>> verdict_for(["02:00:00:00:00:01"]), verdict_for([]), verdict_for(["a", "b"])
('held-once', 'free', 'held-twice (split brain or conflict)')
"""

from __future__ import annotations

import errno
import ipaddress
import select
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from hadoctor.errors import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, HadoctorError, InputError, UsageError
from hadoctor.probe import frames
from hadoctor.probe.netns import run_in_netns

HELD_ONCE = "held-once"
HELD_TWICE = "held-twice (split brain or conflict)"
FREE = "free"
UNPROBEABLE = "unprobeable"
VERDICTS = (HELD_ONCE, HELD_TWICE, FREE, UNPROBEABLE)

DEFAULT_TIMEOUT = 1.0
DEFAULT_COUNT = 3
PACKET_OUTGOING = 4
SIOCGIFHWADDR = 0x8927
ICMP6_FILTER = 1
ROOT_HINT = "run it as root (raw sockets need CAP_NET_RAW): sudo hadoctor probe vip"

#: haresources scripts whose argument is an IPv6 ``addr/prefix/nic``
IPV6_SCRIPTS = frozenset(("IPv6addr",))


# --------------------------------------------------------------------------- what to probe

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


# --------------------------------------------------------------------------- the exchange

@dataclass
class ProbeReport:
    """What one probe of one address on one interface saw."""

    ip: str
    iface: str
    netns: Optional[str] = None
    own_mac: str = ""
    sender: str = ""  # the sender address used (0.0.0.0 for an RFC 5227 probe; the kernel's for IPv6)
    sent: int = 0
    duration_s: float = 0.0
    #: MAC -> {"reply": n, "announcement": n, "source": n}
    evidence: Dict[str, Dict[str, int]] = field(default_factory=dict)
    probers: List[str] = field(default_factory=list)  # MACs checking whether the address is free

    @property
    def macs(self) -> List[str]:
        """MACs that answered for, announced or used the address, in the order first seen."""
        return [mac for mac, ev in self.evidence.items() if any(ev.get(k) for k in frames.HOLDING_KINDS)]

    @property
    def announcements(self) -> int:
        return sum(ev.get("announcement", 0) for ev in self.evidence.values())

    def note(self, mac: str, kind: str) -> None:
        if kind == "probe":
            if mac not in self.probers:
                self.probers.append(mac)
            return
        counts = self.evidence.setdefault(mac, {})
        counts[kind] = counts.get(kind, 0) + 1

    def to_dict(self) -> dict:
        return {"ip": self.ip, "iface": self.iface, "netns": self.netns, "own_mac": self.own_mac,
                "sender": self.sender, "sent": self.sent, "duration_s": self.duration_s,
                "macs": self.macs, "evidence": {k: dict(v) for k, v in self.evidence.items()},
                "announcements": self.announcements, "probers": list(self.probers)}


def _where(iface: str, netns: Optional[str]) -> str:
    return f"{iface} (netns {netns})" if netns else iface


def _socket_error(exc: OSError, iface: str, netns: Optional[str]) -> HadoctorError:
    if exc.errno in (errno.EPERM, errno.EACCES):
        return UsageError(f"cannot open a raw socket: {exc.strerror or exc}", ROOT_HINT)
    where = _where(iface, netns)
    if exc.errno in (errno.ENODEV, errno.ENXIO):
        return InputError(where, "no such interface", "see `ip link`, or name the interface with --iface")
    if exc.errno == errno.ENETDOWN:
        return InputError(where, "the interface is down", f"ip link set {iface} up")
    if exc.errno in (errno.EADDRNOTAVAIL, errno.ENETUNREACH):
        return InputError(where, f"cannot send on it: {exc.strerror or exc}",
                          "for IPv6 the interface needs a link-local address")
    return InputError(where, f"socket error: {exc.strerror or exc}")


def _open_arp_socket(iface: str) -> Tuple[socket.socket, str]:
    # protocol 0 receives nothing until bind() picks the interface and ETH_P_ARP
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    try:
        sock.bind((iface, frames.ETH_P_ARP))
        _, _, _, hatype, addr = sock.getsockname()
        if hatype != frames.ARPHRD_ETHER or len(addr) != 6:
            raise InputError(iface, f"not an Ethernet interface (ARPHRD {hatype}): ARP cannot be asked there")
        sock.setblocking(False)
        return sock, frames.mac_text(addr)
    except BaseException:
        sock.close()
        raise


def _interface_mac(sock: socket.socket, iface: str) -> str:
    import fcntl

    raw = fcntl.ioctl(sock.fileno(), SIOCGIFHWADDR, struct.pack("256s", iface.encode()[:15]))
    hatype = struct.unpack_from("H", raw, 16)[0]
    if hatype != frames.ARPHRD_ETHER:
        raise InputError(iface, f"not an Ethernet interface (ARPHRD {hatype})")
    return frames.mac_text(raw[18:24])


def _open_icmpv6_socket(iface: str) -> Tuple[socket.socket, str, int]:
    sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
        index = socket.if_nametoindex(iface)  # this thread is in the socket's namespace
        mac = _interface_mac(sock, iface)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)  # RFC 4861: hop limit 255
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)  # never answer ourselves
        blocked = [0xFFFFFFFF] * 8  # ICMP6_FILTER: a set bit blocks the type
        for kind in (frames.ND_NEIGHBOR_SOLICIT, frames.ND_NEIGHBOR_ADVERT):
            blocked[kind >> 5] &= ~(1 << (kind & 31)) & 0xFFFFFFFF
        sock.setsockopt(socket.IPPROTO_ICMPV6, ICMP6_FILTER, struct.pack("8I", *blocked))
        sock.setblocking(False)
        return sock, mac, index
    except OSError as exc:
        sock.close()
        if exc.errno in (errno.ENODEV, None):  # if_nametoindex: "no interface with this name"
            raise InputError(iface, "no such interface", "see `ip link`") from None
        raise
    except BaseException:
        sock.close()
        raise


def _pace(timeout: float, count: int):
    """Yield (seconds to wait, send now?) until ``timeout``: ``count`` sends spread over it."""
    count = max(1, count)
    start = time.monotonic()
    sent = 0
    while True:
        now = time.monotonic() - start
        if now >= timeout:
            return
        if sent < count and now >= sent * timeout / count:
            sent += 1
            yield 0.0, True
            continue
        next_send = sent * timeout / count if sent < count else timeout
        yield max(0.0, min(next_send, timeout) - now), False


def arp_exchange(ip: str, iface: str, timeout: float = DEFAULT_TIMEOUT, count: int = DEFAULT_COUNT,
                 netns: Optional[str] = None, sender_ip: Optional[str] = None,
                 table: Any = None) -> ProbeReport:
    """Send ``count`` ARP requests for ``ip`` on ``iface`` over ``timeout`` seconds and report
    every reply, announcement and probe about ``ip`` seen meanwhile.

    The sender address is ``sender_ip``, else an address of ``iface`` in a subnet holding
    ``ip`` (from ``table``, read by netlink when not given), else 0.0.0.0 (RFC 5227 probe).
    """
    ip = str(ipaddress.IPv4Address(ip))
    if sender_ip is None:
        if table is None:
            table = read_interfaces(netns, quiet=True)
        sender_ip = pick_sender(table, iface, ip) if table is not None else "0.0.0.0"
    try:
        sock, mac = run_in_netns(netns, lambda: _open_arp_socket(iface))
    except OSError as exc:
        raise _socket_error(exc, iface, netns) from None
    report = ProbeReport(ip, iface, netns, mac, sender_ip)
    request = frames.build_arp_request(mac, sender_ip, ip)
    started = time.monotonic()
    try:
        for wait, send in _pace(timeout, count):
            if send:
                try:
                    sock.send(request)
                except OSError as exc:
                    raise _socket_error(exc, iface, netns) from None
                report.sent += 1
                continue
            if select.select([sock], [], [], wait)[0]:
                _drain_arp(sock, ip, report)
        _drain_arp(sock, ip, report)
    finally:
        sock.close()
    report.duration_s = round(time.monotonic() - started, 3)
    return report


def _drain_arp(sock: socket.socket, ip: str, report: ProbeReport) -> None:
    while True:
        try:
            data, address = sock.recvfrom(2048)
        except (BlockingIOError, InterruptedError):
            return
        if address[2] == PACKET_OUTGOING:
            continue  # our own requests (and anything else this host sends)
        packet = frames.parse_arp_frame(data)
        if packet is None:
            continue
        kind = frames.classify_arp(packet, ip)
        if kind is not None:
            report.note(packet.sender_mac, kind)


def arp_probe(ip: str, iface: str, timeout: float = DEFAULT_TIMEOUT, count: int = DEFAULT_COUNT,
              netns: Optional[str] = None, sender_ip: Optional[str] = None) -> List[str]:
    """The MACs that answer ARP for ``ip`` on ``iface`` (or announce it meanwhile); see :func:`arp_exchange`."""
    return arp_exchange(ip, iface, timeout, count, netns, sender_ip).macs


def ndp_exchange(ip: str, iface: str, timeout: float = DEFAULT_TIMEOUT, count: int = DEFAULT_COUNT,
                 netns: Optional[str] = None) -> ProbeReport:
    """Send neighbour solicitations for ``ip`` to its solicited-node group on ``iface`` and
    report the advertisements (target link-layer address) and DAD probes seen for it.
    The source address is the kernel's choice (the interface's link-local address)."""
    target = ipaddress.IPv6Address(ip)
    try:
        sock, mac, index = run_in_netns(netns, lambda: _open_icmpv6_socket(iface))
    except OSError as exc:
        raise _socket_error(exc, iface, netns) from None
    group = frames.solicited_node(target)
    report = ProbeReport(str(target), iface, netns, mac, "link-local (kernel's choice)")
    message = frames.build_neighbor_solicitation(target, mac)
    started = time.monotonic()
    try:
        for wait, send in _pace(timeout, count):
            if send:
                try:
                    sock.sendto(message, (str(group), 0, 0, index))
                except OSError as exc:
                    raise _socket_error(exc, iface, netns) from None
                report.sent += 1
                continue
            if select.select([sock], [], [], wait)[0]:
                _drain_ndp(sock, target, report)
        _drain_ndp(sock, target, report)
    finally:
        sock.close()
    report.duration_s = round(time.monotonic() - started, 3)
    return report


def _drain_ndp(sock: socket.socket, target: ipaddress.IPv6Address, report: ProbeReport) -> None:
    while True:
        try:
            data, address = sock.recvfrom(2048)
        except (BlockingIOError, InterruptedError):
            return
        packet = frames.parse_ndp(data)
        if packet is None:
            continue
        kind = frames.classify_ndp(packet, target, address[0].split("%")[0])
        if kind is None:
            continue
        if packet.lladdr is None:
            # an advertisement without the option (allowed for unicast solicitations): name its source
            packet.lladdr = f"(no link-layer option, from {address[0]})"
        report.note(packet.lladdr, kind)


def ndp_probe(ip: str, iface: str, timeout: float = DEFAULT_TIMEOUT, count: int = DEFAULT_COUNT,
              netns: Optional[str] = None) -> List[str]:
    """The MACs that advertise ``ip`` on ``iface``; see :func:`ndp_exchange`."""
    return ndp_exchange(ip, iface, timeout, count, netns).macs


# --------------------------------------------------------------------------- interface choice

def read_interfaces(netns: Optional[str] = None, quiet: bool = False) -> Any:
    """This host's (or the namespace's) interfaces by netlink; None when ``quiet`` and unreadable.

    For a namespace the whole read runs in a thread that entered it (run_in_netns) rather
    than through pyroute2's ``netns=``, which forks a helper process and SIGTERMs it.
    """
    from hadoctor.parsers.interfaces_netlink import read_netlink

    try:
        table = run_in_netns(netns, lambda: read_netlink(None))
    except HadoctorError:
        if quiet:
            return None
        raise
    if netns:
        table.path = f"netlink:{netns}"
    return table


def pick_sender(table: Any, iface: str, ip: str, prefix: Optional[int] = None) -> str:
    """An IPv4 address of ``iface`` in a subnet that holds ``ip`` (not ``ip`` itself), primary
    addresses first; 0.0.0.0 when there is none (then the request is an RFC 5227 probe).

    >>> from hadoctor.parsers.interfaces import parse_interfaces
    >>> t = parse_interfaces(b"eth0 UP 10.0.0.11/24 10.0.0.100/24\\neth1 UP 192.168.9.1/24\\n", "x")
    >>> pick_sender(t, "eth0", "10.0.0.100"), pick_sender(t, "eth1", "10.0.0.100")
    ('10.0.0.11', '0.0.0.0')
    """
    wanted = ipaddress.IPv4Address(ip)
    nic = table.get(iface) if table is not None else None
    if nic is None:
        return "0.0.0.0"
    network = ipaddress.ip_interface(f"{wanted}/{prefix}").network if prefix else None
    candidates = [a for a in nic.addresses if a.version == 4 and a.ip != wanted and not a.is_host
                  and (wanted in a.network or (network is not None and a.ip in network))]
    candidates.sort(key=lambda a: a.secondary)
    return str(candidates[0].ip) if candidates else "0.0.0.0"


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
