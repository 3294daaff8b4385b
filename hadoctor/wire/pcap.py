"""A small reader for classic libpcap files: UDP datagrams out, nothing else.

Both byte orders, microsecond and nanosecond magic; link types Ethernet (1, with 802.1Q/ad
tags), Linux cooked SLL (113) and SLL2 (276), raw IP (101, 228, 229), BSD loopback (0, 108).
IPv4 and IPv6 (hop-by-hop, routing and destination-option headers skipped). IP fragments of UDP
datagrams are reassembled (:mod:`hadoctor.wire.ipfrag`, bounded; overlapping fragments drop their
datagram), and the whole datagram comes out at its last fragment's time. A file that is not a
pcap, or that is cut short, raises :class:`PcapError` (an InputError: exit 2, no traceback);
packets read before the damage have already been yielded.

>>> import struct
>>> frame = bytes(12) + b"\\x08\\x00" + bytes.fromhex("450000210000000040110000c0a80001c0a80002") \\
...     + struct.pack(">HHHH", 40000, 694, 13, 0) + b"hello"
>>> pcap = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) + struct.pack("<IIII", 5, 250000, 47, 47) + frame
>>> [tuple(p) for p in read_pcap(pcap)]
[(5.25, '192.168.0.1', 40000, '192.168.0.2', 694, b'hello', False, False)]
>>> read_pcap(b"\\x0a\\x0d\\x0d\\x0a....").__next__()
Traceback (most recent call last):
  ...
hadoctor.wire.pcap.PcapError: <bytes>: a pcapng file; hadoctor reads classic pcap (convert it: editcap -F pcap IN OUT)
"""

from __future__ import annotations

import functools
import io
import os
import socket
import struct
from typing import BinaryIO, Dict, Iterator, NamedTuple, Optional, Tuple, Union

from hadoctor.errors import InputError
from hadoctor.inputs import open_regular
from hadoctor.wire.ipfrag import Reassembler

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276
LINK_TYPES = {LINKTYPE_NULL: "BSD loopback", LINKTYPE_ETHERNET: "Ethernet", LINKTYPE_RAW: "raw IP",
              LINKTYPE_LOOP: "OpenBSD loopback", LINKTYPE_LINUX_SLL: "Linux cooked (SLL)",
              LINKTYPE_IPV4: "raw IPv4", LINKTYPE_IPV6: "raw IPv6", LINKTYPE_LINUX_SLL2: "Linux cooked v2 (SLL2)"}

#: refuse records bigger than this whatever the header's snaplen says (the biggest real snaplen)
MAX_RECORD = 256 * 1024

_MAGIC = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
_ETH_IPV4, _ETH_IPV6, _ETH_VLAN, _ETH_QINQ = 0x0800, 0x86DD, 0x8100, 0x88A8


@functools.lru_cache(maxsize=1024)
def _ntop(family: int, raw: bytes) -> str:
    return socket.inet_ntop(family, raw)


class PcapError(InputError):
    """The file is not a classic pcap, or is damaged or cut short."""


class UdpPacket(NamedTuple):
    """One UDP datagram. ``truncated``: the capture holds less than the UDP length (snaplen);
    ``reassembled``: it came in IP fragments."""

    ts: float
    src: str
    sport: int
    dst: str
    dport: int
    payload: bytes
    truncated: bool = False
    reassembled: bool = False


class PcapReader:
    """Iterate the UDP datagrams of a classic pcap (``bytes``, a path, or a binary file).

    After iterating, ``stats`` counts ``records``, ``udp`` (datagrams, reassembled ones included),
    ``not_udp`` (other protocols, ARP, ...), ``fragments`` (IP fragments of UDP datagrams) and
    ``malformed`` (frames too short for their headers); ``reassembly.stats`` what became of the
    fragmented datagrams (:class:`hadoctor.wire.ipfrag.Reassembler`).
    """

    def __init__(self, source: Union[bytes, bytearray, memoryview, str, os.PathLike, BinaryIO],
                 name: Optional[str] = None) -> None:
        self.name = name or (os.fspath(source) if isinstance(source, (str, os.PathLike)) else "<bytes>")
        self._source = source
        self.byte_order = "<"
        self.resolution = 1e-6
        self.linktype: Optional[int] = None
        self.snaplen = 0
        self.version = (0, 0)
        self.stats: Dict[str, int] = {"records": 0, "udp": 0, "not_udp": 0, "fragments": 0, "malformed": 0}
        self.reassembly = Reassembler()

    def _error(self, reason: str) -> PcapError:
        return PcapError(self.name, reason)

    def _open(self) -> Tuple[BinaryIO, bool]:
        """A binary file to read from, and whether we must close it."""
        source = self._source
        if isinstance(source, (bytes, bytearray, memoryview)):
            return io.BytesIO(bytes(source)), True
        if isinstance(source, (str, os.PathLike)):
            try:
                return open_regular(os.fspath(source)), True
            except InputError as err:
                raise self._error(err.reason) from None
        return source, False  # type: ignore[return-value]

    def _read(self, handle: BinaryIO, size: int) -> bytes:
        try:
            return handle.read(size)
        except OSError as err:
            raise self._error(err.strerror or str(err)) from None

    def __iter__(self) -> Iterator[UdpPacket]:
        handle, close = self._open()
        self.reassembly = Reassembler()  # each pass starts afresh
        try:
            yield from self._records(handle)
            self.reassembly.finish()
        finally:
            if close:
                handle.close()

    def _records(self, handle: BinaryIO) -> Iterator[UdpPacket]:
        """Stream the file record by record: memory stays flat whatever the capture's size."""
        header = self._read(handle, 24)
        magic = header[:4]
        if magic == b"\x0a\x0d\x0d\x0a":
            raise self._error("a pcapng file; hadoctor reads classic pcap (convert it: editcap -F pcap IN OUT)")
        if len(header) < 24:
            raise self._error("too short for a pcap file header" if header else "empty file")
        if magic not in _MAGIC:
            raise self._error(f"not a pcap file (magic {magic.hex()})")
        self.byte_order, self.resolution = _MAGIC[magic]
        major, minor, _zone, _sigfigs, snaplen, network = struct.unpack(self.byte_order + "HHiIII", header[4:24])
        self.version = (major, minor)
        self.snaplen = snaplen
        self.linktype = network & 0xFFFF
        if major != 2:
            raise self._error(f"unsupported pcap version {major}.{minor}")
        if self.linktype not in LINK_TYPES:
            raise self._error(f"unsupported link type {self.linktype} (hadoctor reads "
                              + ", ".join(f"{k} {v}" for k, v in sorted(LINK_TYPES.items())) + ")")
        record = struct.Struct(self.byte_order + "IIII")
        limit = max(MAX_RECORD, min(snaplen, 16 * 1024 * 1024))
        nano = self.resolution == 1e-9
        link = self.linktype
        pos = 24
        read = handle.read
        while True:
            try:
                head = read(16)
            except OSError as err:
                raise self._error(err.strerror or str(err)) from None
            if not head:
                return
            if len(head) < 16:
                raise self._error(f"cut short inside a record header at byte {pos}")
            sec, frac, incl, _orig = record.unpack(head)
            if incl > limit:
                raise self._error(f"record at byte {pos} claims {incl} bytes (snaplen {snaplen}): damaged file")
            if frac >= (1_000_000_000 if nano else 1_000_000):
                raise self._error(f"record at byte {pos} has an invalid timestamp fraction {frac}")
            frame = self._read(handle, incl)
            if len(frame) < incl:
                raise self._error(f"cut short inside the record at byte {pos} ({incl} bytes announced, "
                                  f"{len(frame)} left)")
            pos += 16 + incl
            self.stats["records"] += 1
            packet = self._udp(frame, link, sec + frac * self.resolution)
            if packet is not None:
                self.stats["udp"] += 1
                yield packet

    # -- layers ----------------------------------------------------------------------------
    def _udp(self, frame: bytes, link: int, ts: float) -> Optional[UdpPacket]:
        ethertype, offset = self._link(frame, link)
        if ethertype is None:
            return None
        if ethertype == _ETH_IPV4:
            return self._ipv4(frame, offset, ts)
        if ethertype == _ETH_IPV6:
            return self._ipv6(frame, offset, ts)
        self.stats["not_udp"] += 1
        return None

    def _link(self, frame: bytes, link: int):
        n = len(frame)
        if link == LINKTYPE_ETHERNET:
            if n < 14:
                return self._malformed()
            ethertype, offset = int.from_bytes(frame[12:14], "big"), 14
            while ethertype in (_ETH_VLAN, _ETH_QINQ):
                if n < offset + 4:
                    return self._malformed()
                ethertype, offset = int.from_bytes(frame[offset + 2:offset + 4], "big"), offset + 4
            return ethertype, offset
        if link == LINKTYPE_LINUX_SLL:
            if n < 16:
                return self._malformed()
            return int.from_bytes(frame[14:16], "big"), 16
        if link == LINKTYPE_LINUX_SLL2:
            if n < 20:
                return self._malformed()
            return int.from_bytes(frame[0:2], "big"), 20
        if link in (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6):
            if n < 1:
                return self._malformed()
            version = frame[0] >> 4
            return {4: _ETH_IPV4, 6: _ETH_IPV6}.get(version, -1), 0
        # BSD / OpenBSD loopback: a 4-byte address family (host order for NULL, big-endian for LOOP)
        if n < 4:
            return self._malformed()
        family = int.from_bytes(frame[:4], "big" if link == LINKTYPE_LOOP else
                                ("little" if self.byte_order == "<" else "big"))
        return (_ETH_IPV4 if family == 2 else _ETH_IPV6 if family in (10, 24, 28, 30) else -1), 4

    def _malformed(self):
        self.stats["malformed"] += 1
        return None, 0

    def _ipv4(self, frame: bytes, offset: int, ts: float) -> Optional[UdpPacket]:
        if len(frame) < offset + 20 or frame[offset] >> 4 != 4:
            return self._malformed()[0]
        ihl = (frame[offset] & 0x0F) * 4
        total = int.from_bytes(frame[offset + 2:offset + 4], "big")
        if ihl < 20 or total < ihl or len(frame) < offset + ihl:
            return self._malformed()[0]
        if frame[offset + 9] != 17:
            self.stats["not_udp"] += 1
            return None
        flags_frag = int.from_bytes(frame[offset + 6:offset + 8], "big")
        addresses = frame[offset + 12:offset + 20]
        ip_end = min(len(frame), offset + total)
        start = offset + ihl
        whole = None
        if flags_frag & 0x3FFF:  # MF set or a non-zero fragment offset
            self.stats["fragments"] += 1
            # the datagram: addresses, protocol (UDP here) and identification
            key = (4, addresses, frame[offset + 4:offset + 6])
            whole = self.reassembly.add(key, (flags_frag & 0x1FFF) * 8, bool(flags_frag & 0x2000),
                                        frame[start:ip_end], ts, cut=ip_end < offset + total)
            if whole is None:
                return None
            frame, start, ip_end = whole, 0, len(whole)
        src, dst = _ntop(socket.AF_INET, addresses[:4]), _ntop(socket.AF_INET, addresses[4:])
        return self._udp_header(frame, start, ip_end, src, dst, ts, whole is not None)

    def _ipv6(self, frame: bytes, offset: int, ts: float) -> Optional[UdpPacket]:
        if len(frame) < offset + 40 or frame[offset] >> 4 != 6:
            return self._malformed()[0]
        payload_len = int.from_bytes(frame[offset + 4:offset + 6], "big")
        nxt = frame[offset + 6]
        src = _ntop(socket.AF_INET6, frame[offset + 8:offset + 24])
        dst = _ntop(socket.AF_INET6, frame[offset + 24:offset + 40])
        declared_end = offset + 40 + payload_len
        pos = offset + 40
        whole = None
        for _ in range(8):  # extension headers
            if nxt in (0, 43, 60):
                if len(frame) < pos + 2:
                    return self._malformed()[0]
                nxt, pos = frame[pos], pos + 8 + frame[pos + 1] * 8
            elif nxt == 44 and whole is None:  # the Fragment header (RFC 8200 4.5)
                if len(frame) < pos + 8:
                    return self._malformed()[0]
                nxt, offset_m = frame[pos], int.from_bytes(frame[pos + 2:pos + 4], "big")
                if nxt not in (17, 60):
                    break
                self.stats["fragments"] += 1
                end = min(len(frame), declared_end)
                key = (6, frame[offset + 8:offset + 40], frame[pos + 4:pos + 8])
                whole = self.reassembly.add(key, offset_m & 0xFFF8, bool(offset_m & 1), frame[pos + 8:end], ts,
                                            cut=end < declared_end)
                if whole is None:
                    return None
                frame, pos, declared_end = whole, 0, len(whole)  # the rest of the headers, then UDP
            else:
                break
        if nxt != 17:
            self.stats["not_udp"] += 1
            return None
        return self._udp_header(frame, pos, min(len(frame), declared_end), src, dst, ts, whole is not None)

    def _udp_header(self, frame: bytes, pos: int, captured_end: int, src: str, dst: str,
                    ts: float, reassembled: bool = False) -> Optional[UdpPacket]:
        if captured_end < pos + 8:
            return self._malformed()[0]
        sport, dport, length = struct.unpack_from(">HHH", frame, pos)
        if length < 8:
            return self._malformed()[0]
        want = pos + length
        payload = frame[pos + 8:min(want, captured_end)]
        return UdpPacket(ts, src, sport, dst, dport, payload, want > captured_end, reassembled)


def read_pcap(source: Union[bytes, bytearray, memoryview, str, os.PathLike, BinaryIO],
              name: Optional[str] = None) -> Iterator[UdpPacket]:
    """The UDP datagrams in a classic pcap; raises :class:`PcapError` for a bad or cut file."""
    return iter(PcapReader(source, name))


_FRAMES = PcapReader(b"", name="<frame>")


def udp_from_frame(frame: bytes, linktype: int, ts: float) -> Optional[UdpPacket]:
    """The UDP datagram in one captured link-layer frame (a live packet socket's), or None."""
    return _FRAMES._udp(frame, linktype, ts)


#: How both wire formats begin (classic ``>>>``, netstring ``###``): a capture is a recording, so a
#: heartbeat message is recognised on whatever UDP port it travelled.
HEARTBEAT_MARKERS = (b">>>\n", b"###\n")


class CaptureNotes:
    """What a capture says about itself while :func:`heartbeat_packets` reads it: heartbeat messages on
    ports not asked for, datagrams cut by the snapshot length, IP fragments: the heartbeat messages
    ``reassembled`` from them and what became of the fragmented datagrams (``reassembly``)."""

    def __init__(self) -> None:
        self.packets = 0
        self.truncated = 0
        self.fragments = 0
        self.reassembled = 0
        self.reassembly: Dict[str, int] = {}
        self.other_ports: Dict[int, int] = {}


def heartbeat_packets(source: Union[str, bytes], ports, notes: Optional[CaptureNotes] = None) -> Iterator[UdpPacket]:
    """The datagrams of a capture to or from ``ports``, and any other whose payload starts like a heartbeat
    message (counted per port in ``notes.other_ports``)."""
    notes = notes if notes is not None else CaptureNotes()
    reader = PcapReader(source)
    for packet in reader:
        asked = packet.dport in ports or packet.sport in ports
        if not asked:
            if packet.payload[:4] not in HEARTBEAT_MARKERS:
                continue
            notes.other_ports[packet.dport] = notes.other_ports.get(packet.dport, 0) + 1
        notes.packets += 1
        notes.truncated += packet.truncated
        notes.reassembled += packet.reassembled
        yield packet
    notes.fragments = reader.stats["fragments"]
    notes.reassembly = dict(reader.reassembly.stats)
