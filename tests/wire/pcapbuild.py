"""Build classic pcap files for tests and the benchmark."""

from __future__ import annotations

import socket
import struct
from typing import Iterable, Tuple

MAGIC_US, MAGIC_NS = 0xA1B2C3D4, 0xA1B23C4D


def ipv4_udp(src: str, dst: str, sport: int, dport: int, payload: bytes, frag: int = 0, proto: int = 17) -> bytes:
    udp = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    header = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, frag, 64, proto, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
    return header + udp


def ipv6_udp(src: str, dst: str, sport: int, dport: int, payload: bytes, hop_by_hop: bool = False) -> bytes:
    udp = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    ext = b""
    nxt = 17
    if hop_by_hop:
        ext, nxt = bytes([17, 0]) + bytes(6), 0
    header = struct.pack(">IHBB16s16s", 6 << 28, len(ext) + len(udp), nxt, 64,
                         socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst))
    return header + ext + udp


def frame(linktype: int, ip: bytes, vlan: bool = False) -> bytes:
    ethertype = 0x86DD if ip[0] >> 4 == 6 else 0x0800
    if linktype == 1:
        tag = struct.pack(">HH", 0x8100, 42) if vlan else b""
        return b"\xff" * 6 + b"\x02" * 6 + tag + struct.pack(">H", ethertype) + ip + (b"\0" * 8)  # padding
    if linktype == 113:
        return struct.pack(">HHH8sH", 0, 1, 6, b"\x02" * 6 + b"\0\0", ethertype) + ip
    if linktype == 276:
        return struct.pack(">HHIHBB8s", ethertype, 0, 2, 1, 0, 6, b"\x02" * 6 + b"\0\0") + ip
    if linktype in (101, 228, 229):
        return ip
    raise ValueError(linktype)


def pcap(records: Iterable[Tuple[float, bytes]], linktype: int = 1, order: str = "<", nano: bool = False,
         snaplen: int = 65535) -> bytes:
    out = [struct.pack(order + "IHHiIII", MAGIC_NS if nano else MAGIC_US, 2, 4, 0, 0, snaplen, linktype)]
    for ts, data in records:
        sec = int(ts)
        frac = round((ts - sec) * (1e9 if nano else 1e6))
        out.append(struct.pack(order + "IIII", sec, frac, len(data), len(data)) + data)
    return b"".join(out)


def ipv4_fragment(src: str, dst: str, ident: int, offset: int, more: bool, data: bytes, proto: int = 17) -> bytes:
    """One IPv4 fragment: ``data`` (a slice of the UDP datagram) at byte ``offset`` (a multiple of 8)."""
    flags = (offset // 8) | (0x2000 if more else 0)
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(data), ident, flags, 64, proto, 0,
                       socket.inet_aton(src), socket.inet_aton(dst)) + data


def ipv6_fragment(src: str, dst: str, ident: int, offset: int, more: bool, data: bytes, nxt: int = 17) -> bytes:
    """One IPv6 packet with a Fragment header carrying ``data`` at byte ``offset``."""
    frag = struct.pack(">BBHI", nxt, 0, offset | (1 if more else 0), ident)
    return struct.pack(">IHBB16s16s", 6 << 28, len(frag) + len(data), 44, 64,
                       socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)) + frag + data


def udp_datagram(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


def split(datagram: bytes, size: int):
    """``(offset, more, slice)`` pieces of at most ``size`` bytes (a multiple of 8), as a sender cuts them."""
    size -= size % 8
    return [(at, at + size < len(datagram), datagram[at:at + size]) for at in range(0, len(datagram), size)]
