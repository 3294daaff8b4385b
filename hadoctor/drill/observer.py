"""What clients see during a drill: the VIP's owner and its services, sampled every 100 ms.

One thread per stream, each on its own clock tick, each appending :class:`Sample` items:

* ``arp``: an ARP request for the VIP every tick on the segment's interface; the sample holds
  the MACs that answered before the next tick (two MACs: the VIP is up on two hosts; none: on
  none). Gratuitous ARPs for the VIP (a takeover's announcements) are kept apart, with time and
  sender. When this host holds the VIP itself it never hears its own answer, so a tick on which
  the VIP is a local address counts this host as a holder (``local``).
* ``icmp``: an echo request to the VIP; ok when the matching reply comes back within the tick.
* ``tcp/PORT``: a connect; ok when it completes; ``refused`` (an RST: the VIP is up, the service
  is not) is a failure with that detail.
* ``udp/PORT``: a datagram (a SIP ``OPTIONS`` request on 5060/5061, else a short probe), ok on an
  answer from the VIP; an answer from another address of the node (a service bound to 0.0.0.0
  that replies from the node's own address, which clients drop) fails and says so.

Needs root (raw ARP and ICMP sockets). Sends only to the VIP the user named, on one interface.

>>> parse_service("5060/udp"), parse_service("3306"), parse_service("80/tcp")
(('udp', 5060), ('tcp', 3306), ('tcp', 80))
>>> parse_service("70000/tcp")
Traceback (most recent call last):
...
ValueError: port must be 1-65535 in '70000/tcp'
>>> icmp_checksum(b"\\x08\\x00\\x00\\x00\\x12\\x34\\x00\\x01")
58826
"""

from __future__ import annotations

import errno
import os
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from hadoctor.probe import frames

DEFAULT_INTERVAL = 0.1


@dataclass
class Sample:
    """One probe: when it was sent (``time.monotonic()``), whether it succeeded, what answered."""

    t: float
    ok: bool
    detail: str = ""
    macs: Tuple[str, ...] = ()


@dataclass
class Announcement:
    t: float
    mac: str


@dataclass
class Streams:
    """Everything the observer recorded, by stream name (``arp``, ``icmp``, ``tcp/80``...)."""

    samples: Dict[str, List[Sample]] = field(default_factory=dict)
    announcements: List[Announcement] = field(default_factory=list)
    errors: Dict[str, str] = field(default_factory=dict)


def parse_service(text: str) -> Tuple[str, int]:
    """``PORT[/tcp|/udp]`` (tcp when not said) -> (protocol, port); ValueError when malformed."""
    port_text, _, proto = text.strip().partition("/")
    proto = (proto or "tcp").lower()
    if proto not in ("tcp", "udp") or not port_text.isascii() or not port_text.isdigit() or len(port_text) > 5:
        raise ValueError(f"expected PORT/tcp or PORT/udp, not {text!r}")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ValueError(f"port must be 1-65535 in {text!r}")
    return proto, port


def icmp_checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def _sip_options(vip: str, port: int, local: str, seq: int) -> bytes:
    branch = f"z9hG4bK-hadoctor-{os.getpid()}-{seq}"
    return (f"OPTIONS sip:{vip}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {local};branch={branch};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"To: <sip:{vip}:{port}>\r\n"
            f"From: <sip:hadoctor-drill@{local}>;tag={os.getpid()}\r\n"
            f"Call-ID: hadoctor-drill-{os.getpid()}-{seq}@{local}\r\n"
            f"CSeq: {seq} OPTIONS\r\n"
            "Accept: application/sdp\r\nContent-Length: 0\r\n\r\n").encode()


class Observer:
    """Start with :meth:`start`, stop with :meth:`stop`; :attr:`streams` holds what was seen."""

    def __init__(self, vip: str, iface: Optional[str], services: Sequence[Tuple[str, int]] = (),
                 interval: float = DEFAULT_INTERVAL, sender_ip: str = "0.0.0.0") -> None:
        self.vip = vip
        self.iface = iface
        self.services = list(services)
        self.interval = interval
        self.sender_ip = sender_ip
        self.streams = Streams()
        self._stop = threading.Event()
        self._threads: List[threading.Thread] = []
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ control
    def start(self) -> None:
        loops: List[Tuple[str, Callable[[], None]]] = [("icmp", self._icmp_loop)]
        if self.iface:
            loops.append(("arp", self._arp_loop))
        for proto, port in self.services:
            name = f"{proto}/{port}"
            loops.append((name, (lambda p=port: self._tcp_loop(p)) if proto == "tcp"
                          else (lambda p=port: self._udp_loop(p))))
        for name, loop in loops:
            self.streams.samples[name] = []
            thread = threading.Thread(target=self._guard, args=(name, loop), name=f"drill-{name}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self) -> Streams:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        return self.streams

    def _guard(self, name: str, loop: Callable[[], None]) -> None:
        try:
            loop()
        except OSError as exc:
            self.streams.errors[name] = exc.strerror or str(exc)

    def _add(self, name: str, sample: Sample) -> None:
        with self._lock:
            self.streams.samples[name].append(sample)

    def _ticks(self):
        """Yield the start of each tick, on a fixed grid (no drift), until stopped."""
        t0 = time.monotonic()
        k = 0
        while not self._stop.is_set():
            yield t0 + k * self.interval
            k += 1
            wait = t0 + k * self.interval - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                return
            if wait < -self.interval:  # we fell behind (a slow probe): skip, never burst
                k = int((time.monotonic() - t0) / self.interval) + 1

    def latest(self, name: str) -> Optional[Sample]:
        with self._lock:
            items = self.streams.samples.get(name) or []
            return items[-1] if items else None

    # ------------------------------------------------------------------ ARP
    def _vip_is_local(self) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind((self.vip, 0))
                return True
            except OSError:
                return False

    def _arp_loop(self) -> None:
        from hadoctor.probe.neighbours import open_arp_socket

        sock, mac = open_arp_socket(self.iface)
        request = frames.build_arp_request(mac, self.sender_ip, self.vip)
        try:
            for tick in self._ticks():
                sock.send(request)
                seen: List[str] = ["local"] if self._vip_is_local() else []
                end = tick + self.interval * 0.95
                while True:
                    left = end - time.monotonic()
                    if left <= 0 or not select.select([sock], [], [], left)[0]:
                        break
                    self._drain(sock, seen)
                self._add("arp", Sample(tick, bool(seen), ",".join(seen), tuple(seen)))
        finally:
            sock.close()

    def _drain(self, sock: socket.socket, seen: List[str]) -> None:
        while True:
            try:
                data, address = sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            if address[2] == 4:  # PACKET_OUTGOING: our own request
                continue
            packet = frames.parse_arp_frame(data)
            if packet is None:
                continue
            kind = frames.classify_arp(packet, self.vip)
            if kind == "announcement":
                with self._lock:
                    self.streams.announcements.append(Announcement(time.monotonic(), packet.sender_mac))
            if kind in frames.HOLDING_KINDS and packet.sender_mac not in seen:
                seen.append(packet.sender_mac)

    # ------------------------------------------------------------------ ICMP
    def _icmp_loop(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        ident = os.getpid() & 0xFFFF
        try:
            for seq, tick in enumerate(self._ticks(), 1):
                seq &= 0xFFFF
                header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
                payload = b"hadoctor-drill"
                packet = struct.pack("!BBHHH", 8, 0, icmp_checksum(header + payload), ident, seq) + payload
                try:
                    sock.sendto(packet, (self.vip, 0))
                except OSError as exc:
                    self._add("icmp", Sample(tick, False, exc.strerror or "send failed"))
                    continue
                ok = False
                end = tick + self.interval * 0.95
                while not ok:
                    left = end - time.monotonic()
                    if left <= 0 or not select.select([sock], [], [], left)[0]:
                        break
                    data, src = sock.recvfrom(2048)
                    ihl = (data[0] & 0x0F) * 4 if data else 0
                    if src[0] == self.vip and len(data) >= ihl + 8:
                        kind, _, _, rid, rseq = struct.unpack_from("!BBHHH", data, ihl)
                        ok = kind == 0 and rid == ident and rseq == seq
                self._add("icmp", Sample(tick, ok, "" if ok else "no reply"))
        finally:
            sock.close()

    # ------------------------------------------------------------------ services
    def _tcp_loop(self, port: int) -> None:
        name = f"tcp/{port}"
        for tick in self._ticks():
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(self.interval * 0.9)
            try:
                rc = s.connect_ex((self.vip, port))
            except OSError as exc:
                rc = exc.errno or -1
            finally:
                s.close()
            detail = "" if rc == 0 else ("refused" if rc == errno.ECONNREFUSED else
                                         "no answer" if rc in (errno.EAGAIN, errno.EINPROGRESS, errno.ETIMEDOUT)
                                         else os.strerror(rc) if rc > 0 else "no answer")
            self._add(name, Sample(tick, rc == 0, detail))

    def _udp_loop(self, port: int) -> None:
        """Unconnected, so that an answer from another address than the VIP is seen (and named):
        a service bound to 0.0.0.0 that answers from the node's own address is lost to clients."""
        name = f"udp/{port}"
        for seq, tick in enumerate(self._ticks(), 1):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind(("0.0.0.0", 0))
                local = self.sender_ip if self.sender_ip != "0.0.0.0" else "0.0.0.0"
                s.sendto(_sip_options(self.vip, port, local, seq) if port in (5060, 5061) else b"hadoctor-drill\n",
                         (self.vip, port))
                ok, detail = False, "no answer"
                while not ok:
                    left = tick + self.interval * 0.95 - time.monotonic()
                    if left <= 0 or not select.select([s], [], [], left)[0]:
                        break
                    data, src = s.recvfrom(4096)
                    if src[0] == self.vip:
                        ok, detail = True, ""
                    else:
                        detail = f"answer from {src[0]}, not the VIP"
            except OSError as exc:
                ok, detail = False, exc.strerror or "send failed"
            finally:
                s.close()
            self._add(name, Sample(tick, ok, detail))
