"""Ask the link who holds an address: ARP requests (IPv4) or neighbour solicitations (IPv6).

Sockets: an AF_PACKET socket (ETH_P_ARP) for IPv4 and a raw ICMPv6 socket for IPv6,
both need root (CAP_NET_RAW); without it a :class:`~hadoctor.errors.UsageError` says so.
With ``netns`` the sockets are made inside that network namespace by a short-lived
thread (:mod:`hadoctor.probe.netns`); the calling thread never changes namespace.
Nothing is sent anywhere but on the chosen interface, to the address named. The frames
themselves are built and classified in :mod:`hadoctor.probe.frames`.
"""

from __future__ import annotations

import errno
import ipaddress
import select
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from hadoctor.errors import HadoctorError, InputError, UsageError
from hadoctor.probe import frames
from hadoctor.probe.netns import run_in_netns

DEFAULT_TIMEOUT = 1.0
DEFAULT_COUNT = 3
PACKET_OUTGOING = 4
SIOCGIFHWADDR = 0x8927
ICMP6_FILTER = 1
ROOT_HINT = "run it as root (raw sockets need CAP_NET_RAW): sudo hadoctor probe vip"


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


def open_arp_socket(iface: str) -> Tuple[socket.socket, str]:
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
        sock, mac = run_in_netns(netns, lambda: open_arp_socket(iface))
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
