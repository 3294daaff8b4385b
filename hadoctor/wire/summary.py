"""Per-sender statistics over a stream of heartbeat packets (typically from a pcap).

A sender is the pair (``src`` node name, source address). For each: wire formats, packet
and message-type counts, sequence gaps (loss; a packet arriving late fills its gap again),
duplicates, generation changes (a restart raises ``hg``; a lower ``hg`` is what heartbeat
calls a replay attack), status inter-arrival p50/p99/max, auth verdicts and changes of the
status fields (``st``, ``dt``, ``protocol``, ``ttl``, ``srcuuid``). Senders whose node name
is not in the cluster's node list are listed as foreign, with their key index and method.

Sequence numbers are shared by every sequenced message type of a sender, so loss is counted
over all of them, not just status messages (``NS_*`` messages carry no ``seq``).

>>> from hadoctor.wire.codec import encode_netstring, status_message
>>> s = Summarizer(nodes=["node1", "node2"])
>>> for seq in (1, 2, 4, 5):
...     packet = encode_netstring(status_message("node1", seq=seq, hg=7, ts=9), (1, "crc", None))
...     _ = s.add(float(seq), "10.0.0.1", decode(packet))
>>> stats = s.result().senders[("node1", "10.0.0.1")]
>>> stats.packets, stats.lost, stats.gaps, stats.interval_ms()
(4, 1, [(2, 4)], {'p50': 1000.0, 'p99': 2000.0, 'max': 2000.0, 'count': 3})
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Set, Tuple

from hadoctor.parsers.authkeys import Authkeys
from hadoctor.wire.auth import Verdict, verify
from hadoctor.wire.codec import Decoded, WireDecodeError, decode
from hadoctor.wire.pcap import UdpPacket

#: fields whose value changes are recorded
WATCHED_FIELDS = ("st", "dt", "protocol", "ttl", "srcuuid")
MAX_LISTED = 1000  # cap on recorded gaps / changes per sender
MAX_MISSING = 100_000  # cap on remembered missing seqs per sender (a late one is then still counted lost)


def method_from_token(token: Optional[str]) -> Optional[str]:
    """Guess the method from a token's shape: 40 hex sha1, 32 hex md5, up to 8 hex crc.

    >>> method_from_token("29c6974a0c8f325fbf0a42380cea4a40d9a1cd86"), method_from_token("8413cf73")
    ('sha1', 'crc')
    """
    if not token or any(c not in "0123456789abcdef" for c in token):
        return None
    return {40: "sha1", 32: "md5"}.get(len(token), "crc" if len(token) <= 8 else None)


def percentile(values: List[float], pct: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class FieldChange:
    ts: float
    field: str
    old: Optional[str]
    new: Optional[str]


@dataclass
class SenderStats:
    node: str
    address: str
    packets: int = 0
    formats: Counter = field(default_factory=Counter)
    types: Counter = field(default_factory=Counter)
    first_ts: Optional[float] = None
    last_ts: Optional[float] = None
    # sequence tracking (per generation)
    highest_seq: Optional[int] = None
    lost: int = 0
    recovered: int = 0
    duplicates: int = 0
    gaps: List[Tuple[int, int]] = field(default_factory=list)  # (last seq seen, next seq seen)
    generations: List[int] = field(default_factory=list)  # distinct hg values in order of appearance
    restarts: int = 0  # hg went up
    hg_backwards: int = 0  # hg went down: heartbeat drops these ("attempted replay attack")
    # status messages
    status_times: List[float] = field(default_factory=list)
    changes: List[FieldChange] = field(default_factory=list)
    last_values: Dict[str, Optional[str]] = field(default_factory=dict)
    # authentication
    auth_indexes: Counter = field(default_factory=Counter)
    auth_methods: Counter = field(default_factory=Counter)  # guessed from the token's shape
    auth_results: Counter = field(default_factory=Counter)  # verify().check.result
    peer_results: Counter = field(default_factory=Counter)  # verify().peer.result
    _missing: Set[int] = field(default_factory=set, repr=False)

    @property
    def hg(self) -> Optional[int]:
        return self.generations[-1] if self.generations else None

    def interval_ms(self) -> Optional[Dict[str, float]]:
        """Inter-arrival of status messages (ms): p50, p99, max; None with fewer than two."""
        times = self.status_times
        if len(times) < 2:
            return None
        gaps = [(b - a) * 1000.0 for a, b in zip(times, times[1:])]
        return {"p50": round(percentile(gaps, 50), 3), "p99": round(percentile(gaps, 99), 3),
                "max": round(max(gaps), 3), "count": len(gaps)}

    def to_dict(self) -> dict:
        return {"node": self.node, "address": self.address, "packets": self.packets,
                "formats": dict(self.formats), "types": dict(self.types), "first_ts": self.first_ts,
                "last_ts": self.last_ts, "highest_seq": self.highest_seq, "lost": self.lost,
                "recovered": self.recovered, "duplicates": self.duplicates, "gaps": [list(g) for g in self.gaps],
                "generations": self.generations, "restarts": self.restarts, "hg_backwards": self.hg_backwards,
                "status_interval_ms": self.interval_ms(),
                "changes": [{"ts": c.ts, "field": c.field, "old": c.old, "new": c.new} for c in self.changes],
                "auth_indexes": {str(k): v for k, v in self.auth_indexes.items()},
                "auth_methods": dict(self.auth_methods), "auth_results": dict(self.auth_results),
                "peer_results": dict(self.peer_results)}


@dataclass
class ForeignSender:
    """A sender whose node name is not in the cluster: another cluster on the same port, or a
    misnamed node. ``our_method``: the method our authkeys has at its key index (None: none)."""

    node: str
    address: str
    packets: int
    auth_indexes: Tuple[int, ...]
    methods: Tuple[str, ...]
    our_method: Optional[str]
    auth_results: Dict[str, int]


@dataclass
class Summary:
    senders: Dict[Tuple[str, str], SenderStats] = field(default_factory=dict)
    packets: int = 0
    undecodable: Counter = field(default_factory=Counter)  # address -> count
    undecodable_reasons: Counter = field(default_factory=Counter)
    nodes: Optional[Tuple[str, ...]] = None
    foreign: List[ForeignSender] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"packets": self.packets, "senders": [s.to_dict() for s in self.senders.values()],
                "undecodable": dict(self.undecodable), "undecodable_reasons": dict(self.undecodable_reasons),
                "nodes": list(self.nodes) if self.nodes is not None else None,
                "foreign": [f.__dict__ for f in self.foreign]}


class Summarizer:
    """Feed packets with :meth:`add_packet` (a pcap :class:`UdpPacket`) or :meth:`add`
    (already decoded), then call :meth:`result`."""

    def __init__(self, authkeys: Optional[Authkeys] = None, nodes: Optional[Iterable[str]] = None,
                 active_index: Optional[int] = None) -> None:
        self.authkeys = authkeys
        self.active_index = active_index
        self.summary = Summary(nodes=tuple(n.lower() for n in nodes) if nodes is not None else None)

    def add_packet(self, packet: UdpPacket) -> Optional[Decoded]:
        try:
            decoded = decode(packet.payload)
        except WireDecodeError as err:
            self.summary.packets += 1
            self.summary.undecodable[packet.src] += 1
            self.summary.undecodable_reasons[err.reason] += 1
            return None
        self.add(packet.ts, packet.src, decoded)
        return decoded

    def add(self, ts: float, address: str, decoded: Decoded, verdict: Optional[Verdict] = None) -> SenderStats:
        self.summary.packets += 1
        message = decoded.content
        node = (message.src or "?").lower()
        key = (node, address)
        stats = self.summary.senders.get(key)
        if stats is None:
            stats = self.summary.senders[key] = SenderStats(node, address)
        stats.packets += 1
        stats.formats[decoded.format] += 1
        mtype = message.type or "?"
        stats.types[mtype] += 1
        if stats.first_ts is None:
            stats.first_ts = ts
        stats.last_ts = ts
        hg = message.hg
        if hg is not None:
            self._generation(stats, hg)
        seq = message.seq if not mtype.startswith("NS_") else None
        fresh = self._sequence(stats, seq)
        if mtype == "status" and fresh:
            stats.status_times.append(ts)
            self._changes(stats, ts, message)
        auth = decoded.auth
        if auth is not None and auth.index is not None:
            stats.auth_indexes[auth.index] += 1
            stats.auth_methods[method_from_token(auth.token) or "?"] += 1
        if verdict is None and self.authkeys is not None:
            verdict = verify(decoded, self.authkeys, active_index=self.active_index)
        if verdict is not None:
            stats.auth_results[verdict.result] += 1
            if verdict.peer is not None:
                stats.peer_results[verdict.peer.result] += 1
        return stats

    @staticmethod
    def _generation(stats: SenderStats, hg: int) -> None:
        current = stats.hg
        if current is None:
            stats.generations.append(hg)
        elif hg != current:
            if hg > current:
                stats.restarts += 1
            else:
                stats.hg_backwards += 1
            stats.generations.append(hg)
            stats.highest_seq = None  # a new generation counts its seq from 1 again
            stats._missing.clear()

    @staticmethod
    def _sequence(stats: SenderStats, seq: Optional[int]) -> bool:
        """Track one seq; False when it is a repeat (a duplicate or a retransmission seen before)."""
        if seq is None:
            return True
        high = stats.highest_seq
        if high is None or seq > high:
            if high is not None and seq > high + 1:
                stats.lost += seq - high - 1
                if len(stats.gaps) < MAX_LISTED:
                    stats.gaps.append((high, seq))
                if seq - high - 1 <= 10_000 and len(stats._missing) < MAX_MISSING:
                    stats._missing.update(range(high + 1, seq))
            stats.highest_seq = seq
            return True
        if seq in stats._missing:  # late, or retransmitted on request: no longer lost
            stats._missing.discard(seq)
            stats.lost -= 1
            stats.recovered += 1
            return True
        stats.duplicates += 1
        return False

    @staticmethod
    def _changes(stats: SenderStats, ts: float, message) -> None:
        for name in WATCHED_FIELDS:
            f = message.get_field(name)
            value = None if f is None else (f.text if f.type == 0 else f.value.hex())
            if name not in stats.last_values:
                stats.last_values[name] = value
                continue
            old = stats.last_values[name]
            if value != old:
                stats.last_values[name] = value
                if len(stats.changes) < MAX_LISTED:
                    stats.changes.append(FieldChange(ts, name, old, value))

    def result(self) -> Summary:
        summary = self.summary
        summary.foreign = []
        if summary.nodes is not None:
            keys = self.authkeys.keys if self.authkeys is not None else {}
            for stats in summary.senders.values():
                if stats.node in summary.nodes:
                    continue
                indexes = tuple(sorted(stats.auth_indexes))
                ours = {keys[i].method for i in indexes if i in keys}
                summary.foreign.append(ForeignSender(
                    stats.node, stats.address, stats.packets, indexes,
                    tuple(sorted(m for m in stats.auth_methods if m != "?")),
                    ", ".join(sorted(ours)) if ours else None, dict(stats.auth_results)))
        return summary


def summarize(packets: Iterable[UdpPacket], authkeys: Optional[Authkeys] = None,
              nodes: Optional[Iterable[str]] = None, active_index: Optional[int] = None) -> Summary:
    """Decode, verify and summarise UDP packets (e.g. ``read_pcap(path)``)."""
    summarizer = Summarizer(authkeys, nodes, active_index)
    for packet in packets:
        summarizer.add_packet(packet)
    return summarizer.result()
