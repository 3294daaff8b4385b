"""ARP frames (RFC 826/5227) and IPv6 neighbour discovery messages (RFC 4861): build and parse.

Pure byte work, no sockets: :mod:`hadoctor.probe.neighbours` sends and receives them. A request
is built exactly as the Linux kernel builds its own (broadcast, target MAC all zeroes;
42 bytes, the driver pads), which tests/fixtures/probe/ checks byte for byte against
frames captured from the kernel in the lab.

>>> frame = build_arp_request("02:00:00:00:00:01", "0.0.0.0", "10.250.40.100")
>>> len(frame), frame[:6].hex(), frame[12:14].hex()
(42, 'ffffffffffff', '0806')
>>> p = parse_arp_frame(frame)
>>> p.op, p.sender_mac, p.sender_ip, p.target_ip, p.is_probe
(1, '02:00:00:00:00:01', '0.0.0.0', '10.250.40.100', True)
>>> classify_arp(p, "10.250.40.100")  # someone else checking the address is free
'probe'
>>> str(solicited_node("fd00:250:40::100"))
'ff02::1:ff00:100'
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from typing import Optional, Union

ETH_P_ARP = 0x0806
ETH_P_IP = 0x0800
ETH_P_8021Q = 0x8100
ETH_P_8021AD = 0x88A8
ARPHRD_ETHER = 1
ARPOP_REQUEST = 1
ARPOP_REPLY = 2
BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"
ZERO_MAC = "00:00:00:00:00:00"

ND_NEIGHBOR_SOLICIT = 135
ND_NEIGHBOR_ADVERT = 136
ND_OPT_SOURCE_LLADDR = 1
ND_OPT_TARGET_LLADDR = 2
NA_FLAG_ROUTER = 0x80
NA_FLAG_SOLICITED = 0x40
NA_FLAG_OVERRIDE = 0x20

#: What a packet about the probed address says of its sender (see classify_arp / classify_ndp).
#: reply: answers a request for it; announcement: gratuitous ARP / unsolicited NA for it;
#: source: uses it as its own sender address in a request for something else;
#: probe: checks whether it is free (sender 0.0.0.0 / ::), so does *not* hold it.
HOLDING_KINDS = ("reply", "announcement", "source")

_ARP = struct.Struct("!HHBBH6s4s6s4s")


def mac_bytes(mac: str) -> bytes:
    """``'02:00:0a:fa:28:0b'`` -> 6 bytes; ValueError when it is not a MAC-48."""
    parts = mac.replace("-", ":").split(":")
    if len(parts) != 6 or not all(len(x) == 2 for x in parts):
        raise ValueError(f"not a MAC address: {mac!r}")
    return bytes(int(x, 16) for x in parts)


def mac_text(raw: bytes) -> str:
    """6 bytes -> lower-case colon form."""
    return ":".join(f"{b:02x}" for b in raw)


@dataclass
class ArpPacket:
    """One ARP packet for IPv4 over Ethernet, with the Ethernet addresses it came in."""

    eth_dst: str
    eth_src: str
    op: int
    sender_mac: str
    sender_ip: str
    target_mac: str
    target_ip: str

    @property
    def is_probe(self) -> bool:
        """An RFC 5227 probe: a request from 0.0.0.0 (the sender wants to know if the target is free)."""
        return self.op == ARPOP_REQUEST and self.sender_ip == "0.0.0.0"

    @property
    def is_gratuitous(self) -> bool:
        """An announcement (request or reply) whose sender and target address are the same."""
        return self.sender_ip == self.target_ip and self.sender_ip != "0.0.0.0"

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def build_arp_frame(op: int, sender_mac: str, sender_ip: str, target_mac: str, target_ip: str,
                    eth_dst: str = BROADCAST_MAC) -> bytes:
    """A whole Ethernet frame (14 + 28 bytes) carrying one ARP packet."""
    src = mac_bytes(sender_mac)
    header = mac_bytes(eth_dst) + src + struct.pack("!H", ETH_P_ARP)
    return header + _ARP.pack(ARPHRD_ETHER, ETH_P_IP, 6, 4, op, src,
                              ipaddress.IPv4Address(sender_ip).packed, mac_bytes(target_mac),
                              ipaddress.IPv4Address(target_ip).packed)


def build_arp_request(sender_mac: str, sender_ip: str, target_ip: str) -> bytes:
    """Who has ``target_ip``? Broadcast, target MAC zero: the kernel's own request, or an
    RFC 5227 probe when ``sender_ip`` is 0.0.0.0."""
    return build_arp_frame(ARPOP_REQUEST, sender_mac, sender_ip, ZERO_MAC, target_ip)


def parse_arp_frame(frame: bytes) -> Optional[ArpPacket]:
    """An Ethernet frame -> ArpPacket; None for anything that is not Ethernet/IPv4 ARP.
    802.1Q/802.1ad tags (when a packet socket sees them) are skipped."""
    if len(frame) < 14:
        return None
    offset = 12
    ethertype = struct.unpack_from("!H", frame, offset)[0]
    while ethertype in (ETH_P_8021Q, ETH_P_8021AD) and len(frame) >= offset + 6:
        offset += 4
        ethertype = struct.unpack_from("!H", frame, offset)[0]
    offset += 2
    if ethertype != ETH_P_ARP or len(frame) < offset + _ARP.size:
        return None
    htype, ptype, hlen, plen, op, sha, spa, tha, tpa = _ARP.unpack_from(frame, offset)
    if htype != ARPHRD_ETHER or ptype != ETH_P_IP or hlen != 6 or plen != 4:
        return None
    return ArpPacket(mac_text(frame[0:6]), mac_text(frame[6:12]), op, mac_text(sha),
                     str(ipaddress.IPv4Address(spa)), mac_text(tha), str(ipaddress.IPv4Address(tpa)))


def classify_arp(packet: ArpPacket, ip: str) -> Optional[str]:
    """What ``packet`` says about who holds ``ip``: one of :data:`HOLDING_KINDS`, ``'probe'``, or None.

    >>> p = ArpPacket("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:0b", 2, "02:00:00:00:00:0b",
    ...               "10.0.0.5", "ff:ff:ff:ff:ff:ff", "10.0.0.5")
    >>> classify_arp(p, "10.0.0.5"), classify_arp(p, "10.0.0.6")
    ('announcement', None)
    """
    if packet.sender_ip == ip:
        if packet.target_ip == ip:
            return "announcement"
        return "reply" if packet.op == ARPOP_REPLY else "source"
    if packet.is_probe and packet.target_ip == ip:
        return "probe"
    return None


# --------------------------------------------------------------------------- IPv6 neighbour discovery

IPv6Like = Union[str, ipaddress.IPv6Address]


def solicited_node(ip: IPv6Like) -> ipaddress.IPv6Address:
    """The solicited-node multicast group of an address: ff02::1:ffXX:XXXX (its low 24 bits)."""
    low = int(ipaddress.IPv6Address(ip)) & 0xFFFFFF
    return ipaddress.IPv6Address(int(ipaddress.IPv6Address("ff02::1:ff00:0")) | low)


def multicast_mac(group: IPv6Like) -> str:
    """The Ethernet address of an IPv6 multicast group: 33:33 + its low 32 bits."""
    return mac_text(b"\x33\x33" + ipaddress.IPv6Address(group).packed[12:])


def build_neighbor_solicitation(target: IPv6Like, source_mac: Optional[str]) -> bytes:
    """The ICMPv6 part of a neighbour solicitation for ``target`` (checksum 0: a raw ICMPv6
    socket has the kernel fill it in). ``source_mac`` None leaves out the source link-layer
    option, as a DAD probe from :: must."""
    message = struct.pack("!BBHI", ND_NEIGHBOR_SOLICIT, 0, 0, 0) + ipaddress.IPv6Address(target).packed
    if source_mac is not None:
        message += struct.pack("!BB", ND_OPT_SOURCE_LLADDR, 1) + mac_bytes(source_mac)
    return message


def icmpv6_checksum(source: IPv6Like, destination: IPv6Like, message: bytes) -> int:
    """RFC 4443 checksum over the pseudo-header and ``message`` (whose checksum field is ignored)."""
    body = message[:2] + b"\0\0" + message[4:]
    data = (ipaddress.IPv6Address(source).packed + ipaddress.IPv6Address(destination).packed
            + struct.pack("!I3xB", len(body), 58) + body)
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def with_checksum(source: IPv6Like, destination: IPv6Like, message: bytes) -> bytes:
    """``message`` with its ICMPv6 checksum filled in (what the kernel sends)."""
    return message[:2] + struct.pack("!H", icmpv6_checksum(source, destination, message)) + message[4:]


@dataclass
class NdpPacket:
    """A neighbour solicitation (135) or advertisement (136), as a raw ICMPv6 socket gets it."""

    type: int
    target: str
    lladdr: Optional[str] = None  # source (NS) or target (NA) link-layer address option
    router: bool = False
    solicited: bool = False
    override: bool = False

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def parse_ndp(message: bytes) -> Optional[NdpPacket]:
    """An ICMPv6 message (no IPv6 header) -> NdpPacket; None for other or malformed messages."""
    if len(message) < 24 or message[0] not in (ND_NEIGHBOR_SOLICIT, ND_NEIGHBOR_ADVERT) or message[1] != 0:
        return None
    kind = message[0]
    flags = message[4]
    packet = NdpPacket(kind, str(ipaddress.IPv6Address(message[8:24])))
    if kind == ND_NEIGHBOR_ADVERT:
        packet.router = bool(flags & NA_FLAG_ROUTER)
        packet.solicited = bool(flags & NA_FLAG_SOLICITED)
        packet.override = bool(flags & NA_FLAG_OVERRIDE)
    wanted = ND_OPT_TARGET_LLADDR if kind == ND_NEIGHBOR_ADVERT else ND_OPT_SOURCE_LLADDR
    offset = 24
    while offset + 2 <= len(message):
        opt_type, opt_len = message[offset], message[offset + 1] * 8
        if opt_len == 0 or offset + opt_len > len(message):
            return None  # RFC 4861 7.1.2: an option of length 0 makes the packet invalid
        if opt_type == wanted and opt_len >= 8:
            packet.lladdr = mac_text(message[offset + 2:offset + 8])
        offset += opt_len
    return packet


def classify_ndp(packet: NdpPacket, ip: IPv6Like, source: Optional[IPv6Like] = None) -> Optional[str]:
    """Like :func:`classify_arp` for neighbour discovery: a solicited NA for ``ip`` is a reply,
    an unsolicited one an announcement, an NS for it from :: (DAD) a probe."""
    wanted = ipaddress.IPv6Address(ip)
    if ipaddress.IPv6Address(packet.target) != wanted:
        return None
    if packet.type == ND_NEIGHBOR_ADVERT:
        return "reply" if packet.solicited else "announcement"
    if source is not None and ipaddress.IPv6Address(source) == ipaddress.IPv6Address("::"):
        return "probe"
    return None
