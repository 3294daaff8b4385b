"""``hadoctor probe listen``: receive heartbeat traffic and report it per sender.

Sources, from the least to the most privileged:

* ``--pcap FILE``: a capture (tcpdump -w), read offline;
* a packet socket on an interface (root): sees both directions and does not disturb a heartbeat
  that holds the port (it copies frames; nothing binds the port, no SO_REUSEPORT:
  docs/heartbeat/wire.md#receiver-rules);
* a bound UDP socket when nobody holds the port (no root needed): only what is sent to this host.

The report per sending node and address: wire format, packets, sequence gaps, restarts (generation
changes), status inter-arrival p50/p99/max against the configured keepalive, warntime and deadtime,
authentication verdicts with our authkeys, status changes; senders not in the cluster are named as
another cluster, with a free udpport suggestion.
"""

from __future__ import annotations

import errno
import socket
import time
from typing import Iterator, List, Optional, Sequence

from hadoctor.errors import InputError, UsageError
from hadoctor.wire.pcap import LINKTYPE_ETHERNET, CaptureNotes, UdpPacket, heartbeat_packets, udp_from_frame
from hadoctor.wire.summary import Summary, Summarizer

ETH_P_ALL = 0x0003


def pcap_packets(path: str, ports: Sequence[int], notes: Optional[CaptureNotes] = None) -> Iterator[UdpPacket]:
    """The heartbeat datagrams of a capture: on ``ports``, or on any port when they look like one."""
    return heartbeat_packets(path, ports, notes)


def capture_verdicts(notes: CaptureNotes, ports: Sequence[int]) -> List[dict]:
    """What the capture itself says: traffic on other ports, datagrams cut by snaplen, fragments."""
    verdicts: List[dict] = []
    if notes.other_ports:
        where = ", ".join(f"UDP {port} ({n} packet(s))" for port, n in sorted(notes.other_ports.items()))
        verdicts.append({"level": "warning", "what": "heartbeat traffic on another port",
                         "detail": f"heartbeat messages on {where}, not only on {', '.join(map(str, ports))}: "
                                   "they are read too; check udpport in ha.cf (the same on every node, before "
                                   "the media lines)"})
    if notes.truncated:
        verdicts.append({"level": "error", "what": "capture truncated",
                         "detail": f"{notes.truncated} of {notes.packets} heartbeat datagram(s) were cut by the "
                                   "capture's snapshot length, so they cannot be decoded or verified; capture "
                                   "again with the whole packet: tcpdump -s 0 -w FILE udp"})
    if notes.reassembled:
        verdicts.append({"level": "info", "what": "IP fragments reassembled",
                         "detail": f"{notes.reassembled} heartbeat message(s) were larger than the MTU and came "
                                   "in IP fragments (reassembled here): a firewall rule that drops fragments, or "
                                   "a smaller MTU on the path, loses exactly these messages"})
    problems = notes.reassembly
    why = [f"{problems[k]} {text}" for k, text in (
        ("incomplete", "whose fragments did not all arrive"),
        ("overlapping", "with overlapping or conflicting fragments (dropped, as the receiving kernel drops them)"),
        ("cut", "with a fragment cut by the capture's snapshot length"),
        ("dropped", "past the reassembly limits or with malformed fragments")) if problems.get(k)]
    if why:
        verdicts.append({"level": "warning", "what": "IP fragments not reassembled",
                         "detail": "UDP datagram(s) in fragments that could not be put together: " + "; ".join(why)
                                   + ". A heartbeat message among them is not read; capture again with the "
                                   "whole packet (tcpdump -s 0) on the receiving host"})
    return verdicts


def _open_packet_socket(iface: Optional[str]) -> socket.socket:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    if iface:
        sock.bind((iface, 0))
    sock.settimeout(0.2)
    return sock


def _open_udp_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sock.bind(("", port))
    sock.settimeout(0.2)
    return sock


def live_packets(*, iface: Optional[str], ports: Sequence[int], seconds: float, netns: Optional[str] = None,
                 mode: str = "auto") -> Iterator[UdpPacket]:
    """Heartbeat datagrams for ``seconds``: a packet socket (root) or a bound UDP socket."""
    from hadoctor.probe.netns import run_in_netns

    if mode == "auto":
        mode = "packet" if _is_root() else "socket"
    try:
        if mode == "packet":
            sock = run_in_netns(netns, lambda: _open_packet_socket(iface))
        else:
            if len(ports) != 1:
                raise UsageError("a bound socket listens on one port; give one --port")
            sock = run_in_netns(netns, lambda: _open_udp_socket(ports[0]))
    except PermissionError:
        raise UsageError("capturing needs root (a packet socket)", "run as root, or read a capture with --pcap") from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"UDP port {ports[0]} is held (heartbeat runs here)",
                             "run as root to listen with a packet socket, which leaves heartbeat's socket alone") from None
        if exc.errno == errno.ENODEV:
            raise UsageError(f"no interface {iface!r} here", "see `ip link` for the names") from None
        raise InputError(f"socket:{mode}", exc.strerror or str(exc)) from None
    deadline = time.monotonic() + seconds
    with sock:
        while time.monotonic() < deadline:
            try:
                if mode == "packet":
                    frame, address = sock.recvfrom(65536)
                else:
                    payload, (src, sport) = sock.recvfrom(65536)
            except socket.timeout:
                continue
            now = time.time()
            if mode == "packet":
                packet = udp_from_frame(frame, LINKTYPE_ETHERNET, now)
                if packet is None or (packet.dport not in ports and packet.sport not in ports):
                    continue
                if address[2] == socket.PACKET_OUTGOING and iface is None:
                    pass  # our own sends on "any" interface are still heartbeat traffic worth seeing
                yield packet
            else:
                yield UdpPacket(now, src, sport, "", ports[0], payload)


def _is_root() -> bool:
    import os

    return os.geteuid() == 0


def listen(packets: Iterator[UdpPacket], *, authkeys=None, nodes: Optional[Sequence[str]] = None) -> Summary:
    summarizer = Summarizer(authkeys, nodes)
    for packet in packets:
        summarizer.add_packet(packet)
    return summarizer.result()


def judge(summary: Summary, *, keepalive_ms: Optional[int], warntime_ms: Optional[int],
          deadtime_ms: Optional[int], udpport: int) -> List[dict]:
    """Plain-language verdicts on a summary: foreign clusters, failed authentication, loss, late intervals."""
    verdicts: List[dict] = []
    for foreign in summary.foreign:
        verdicts.append({"level": "error", "what": "another cluster on this port",
                         "detail": f"{foreign.node} ({foreign.address}) sends heartbeats here: {foreign.packets} "
                                   f"packet(s), auth index {', '.join(map(str, foreign.auth_indexes)) or '?'} "
                                   f"({', '.join(foreign.methods) or '?'}); give one of the clusters another "
                                   f"udpport, e.g. {udpport + 1}"})
    for stats in summary.senders.values():
        bad = {k: v for k, v in stats.auth_results.items() if k != "ok"}
        if bad and (summary.nodes is None or stats.node in summary.nodes):
            verdicts.append({"level": "error", "what": "authentication fails",
                             "detail": f"{stats.node} ({stats.address}): " + ", ".join(f"{v} {k}" for k, v in bad.items())
                                       + " with our authkeys"})
        if stats.lost:
            verdicts.append({"level": "warning", "what": "packets lost",
                             "detail": f"{stats.node} ({stats.address}): {stats.lost} lost in {len(stats.gaps)} gap(s)"})
        if stats.restarts:
            verdicts.append({"level": "info", "what": "heartbeat restarted",
                             "detail": f"{stats.node}: generation changed {stats.restarts} time(s)"})
        interval = stats.interval_ms()
        if interval and warntime_ms and interval["max"] > warntime_ms:
            level = "error" if deadtime_ms and interval["max"] > deadtime_ms else "warning"
            verdicts.append({"level": level, "what": "late heartbeats",
                             "detail": f"{stats.node} ({stats.address}): max interval {interval['max']:.0f} ms > "
                                       f"warntime {warntime_ms} ms" + (f" (deadtime {deadtime_ms} ms)" if deadtime_ms else "")})
        if interval and keepalive_ms and abs(interval["p50"] - keepalive_ms) > max(0.2 * keepalive_ms, 50):
            verdicts.append({"level": "info", "what": "interval differs from keepalive",
                             "detail": f"{stats.node}: median {interval['p50']:.0f} ms, keepalive {keepalive_ms} ms "
                                       f"(the sender's ha.cf differs?)"})
    return verdicts
