"""Observing a key switch: heartbeat's traffic (probe engine) and its logs.

* :class:`WireWatch` captures heartbeat packets on this host with a packet socket (root, this host
  a cluster member; it copies frames and leaves heartbeat's socket alone) in a background thread,
  decodes them with the wire codec and records, per sending node, the key index and whether the
  authenticator verifies with a given authkeys model (:func:`hadoctor.wire.auth.verify`).
* :func:`log_counts` counts, in a slice of a node's heartbeat log parsed by hadoctor's log parser,
  the authentication failures (one line per rejected packet), ``is dead`` and ``returning after
  partition``: the catalogue's messages (:mod:`hadoctor.catalogue`), which the rules read too.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from hadoctor.linear import compile_bounded

_PATTERNS: Optional[Dict[str, "re.Pattern[str]"]] = None


#: what is counted -> catalogue message; a rejected packet logs exactly one of the ``auth:`` lines
#: (glue also logs "netstring authentication failed" after "authtoken does not match": not counted twice)
_MESSAGES = {"auth:invalid_index": "hb.auth_invalid_index", "auth:failed_auth": "glue.failed_auth",
             "auth:token": "glue.authtoken_mismatch", "dead": "hb.node_dead", "partition": "hb.partition_return",
             "reread": "hb.reread_auth", "restart": "hb.restart_exec"}


def _rule_patterns() -> Dict[str, "re.Pattern[str]"]:
    """The catalogue's regexes for what :func:`log_counts` counts, compiled once."""
    global _PATTERNS
    if _PATTERNS is None:
        from hadoctor.catalogue import pattern

        _PATTERNS = {k: compile_bounded(pattern(name)) for k, name in _MESSAGES.items()}
    return _PATTERNS


@dataclass
class LogCounts:
    auth_failures: int = 0                 # rejected packets (one token/auth line per packet)
    by_kind: Dict[str, int] = field(default_factory=dict)
    dead: List[str] = field(default_factory=list)
    partition: List[str] = field(default_factory=list)
    rereads: int = 0
    restarts: int = 0                      # "Performing heartbeat restart exec": not a reread

    def add(self, other: "LogCounts") -> None:
        self.auth_failures += other.auth_failures
        for k, v in other.by_kind.items():
            self.by_kind[k] = self.by_kind.get(k, 0) + v
        self.dead += other.dead
        self.partition += other.partition
        self.rereads += other.rereads
        self.restarts += other.restarts

    def to_dict(self) -> dict:
        return {"auth_failures": self.auth_failures, "by_kind": self.by_kind, "dead": self.dead,
                "partition": self.partition, "rereads": self.rereads, "restarts": self.restarts}


def log_counts(data: bytes, path: str = "heartbeat.log") -> LogCounts:
    """Count what matters in a log slice.

    >>> c = log_counts(b"Nov 25 10:00:01 n1 heartbeat: [9]: ERROR: authtoken does not match, authtoken=1, authstr=2\\n"
    ...                b"Nov 25 10:00:02 n1 heartbeat: [9]: WARN: node node02: is dead\\n")
    >>> c.auth_failures, c.dead
    (1, ['node02'])
    """
    from hadoctor.parsers.hblog import parse_hblog

    pats = _rule_patterns()
    counts = LogCounts()
    for record in parse_hblog(data, path).records:
        message = record.message
        if "auth" in message or "Auth" in message:
            kinds = [k for k, p in pats.items() if k.startswith("auth:") and p.search(message)]
            if kinds:
                counts.auth_failures += 1   # one rejected packet logs one of these lines
                for k in kinds:
                    counts.by_kind[k[5:]] = counts.by_kind.get(k[5:], 0) + 1
            if pats["reread"].search(message):
                counts.rereads += 1
        if "restart" in message and pats["restart"].search(message):
            counts.restarts += 1
        m = pats["dead"].search(message)
        if m:
            counts.dead.append(m.group("node"))
        m = pats["partition"].search(message)
        if m:
            counts.partition.append(m.group("node"))
    return counts


@dataclass
class SenderSeen:
    node: str
    packets: int = 0
    indexes: Dict[int, int] = field(default_factory=dict)
    formats: Dict[str, int] = field(default_factory=dict)
    first_new: Optional[float] = None       # wall time of the first packet signed with the new index
    last_old: Optional[float] = None        # wall time of the last packet signed with another index
    verified_new: int = 0                   # packets at the new index that verify with the model
    failed_new: int = 0
    last_seen: Optional[float] = None       # wall time of its latest packet (any index)

    def to_dict(self) -> dict:
        return {"node": self.node, "packets": self.packets, "indexes": {str(k): v for k, v in self.indexes.items()},
                "formats": self.formats, "first_new": self.first_new, "last_old": self.last_old,
                "verified_new": self.verified_new, "failed_new": self.failed_new}


class WireWatch:
    """Capture heartbeat packets here in a thread (see the module docstring)."""

    def __init__(self, ports: Sequence[int], nodes: Sequence[str], seconds: float,
                 model=None, new_index: Optional[int] = None, stop_when_all_heard: bool = False) -> None:
        self.ports = list(ports)
        self.nodes = [n.lower() for n in nodes]
        self.seconds = seconds
        self.model = model
        self.new_index = new_index
        self.stop_when_all_heard = stop_when_all_heard
        self.senders: Dict[str, SenderSeen] = {}
        self.error: Optional[str] = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "WireWatch":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: Optional[float] = None) -> "WireWatch":
        self._thread.join(timeout)
        return self

    def last_seen(self) -> Dict[str, float]:
        """Each node's latest packet (wall time), for the nodes heard so far."""
        return {n: s.last_seen for n, s in list(self.senders.items()) if s.last_seen is not None}

    def heard_all(self) -> bool:
        return all(n in self.senders for n in self.nodes)

    def _run(self) -> None:
        from hadoctor.errors import HadoctorError
        from hadoctor.probe.listen import live_packets
        from hadoctor.wire.auth import verify
        from hadoctor.wire.codec import WireDecodeError, decode

        try:
            for packet in live_packets(iface=None, ports=self.ports, seconds=self.seconds, mode="packet"):
                if self._stop.is_set():
                    break
                try:
                    decoded = decode(packet.payload)
                except WireDecodeError:
                    continue
                src = (decoded.content.src or "?").lower()
                if src not in self.nodes:
                    continue
                seen = self.senders.setdefault(src, SenderSeen(src))
                seen.packets += 1
                seen.last_seen = packet.ts
                seen.formats[decoded.format] = seen.formats.get(decoded.format, 0) + 1
                auth = decoded.auth
                index = auth.index if auth is not None else None
                if index is not None:
                    seen.indexes[index] = seen.indexes.get(index, 0) + 1
                if self.new_index is not None and index == self.new_index:
                    if seen.first_new is None:
                        seen.first_new = packet.ts
                    if self.model is not None:
                        if verify(decoded, self.model).check.ok:
                            seen.verified_new += 1
                        else:
                            seen.failed_new += 1
                elif self.new_index is not None:
                    seen.last_old = packet.ts
                if self.stop_when_all_heard and self.heard_all() and \
                        all(s.packets >= 1 for s in self.senders.values()):
                    break
        except HadoctorError as err:
            self.error = str(err)
        except OSError as err:
            self.error = f"capture failed: {err.strerror or err}"

    def wire_format(self) -> Optional[str]:
        formats: Dict[str, int] = {}
        for s in self.senders.values():
            for k, v in s.formats.items():
                formats[k] = formats.get(k, 0) + v
        if not formats:
            return None
        return "netstring" if formats.get("netstring") else "classic"


def glue_is_netstring(version: str) -> Optional[bool]:
    """cluster-glue >= 1.0.10 always sends netstring (docs/heartbeat/wire.md#which-encoding-is-sent);
    None when the version is unknown.

    >>> glue_is_netstring("1.0.12-21+b2"), glue_is_netstring("1.0.5"), glue_is_netstring("")
    (True, False, None)
    """
    m = re.match(r"(\d+)\.(\d+)\.(\d+)", version or "")
    if not m:
        return None
    return tuple(int(x) for x in m.groups()) >= (1, 0, 10)


def split_for_window(marks: Sequence[Tuple[str, float, float]]) -> Optional[float]:
    """Switch window in ms from per-node (node, t_start, t_done) stamps: first rename to last reload done."""
    if not marks:
        return None
    return round((max(m[2] for m in marks) - min(m[1] for m in marks)) * 1000.0, 1)



def next_quiet(last_seen: Dict[str, float], nodes: Sequence[str], keepalive: float, now: float,
               quiet: float) -> Optional[str]:
    """Is ``now`` a moment when no node's next heartbeat is due within ``quiet`` seconds (a packet signed
    with the old key and verified with the new one, or the reverse, is an authentication failure)?
    Heartbeat sends every ``keepalive``, so each node's next send is predicted from its last one; a send
    overdue by less than half a keepalive counts as imminent. Returns "" (now is quiet), the node whose
    packet to see first before asking again, or None (a node not heard: no prediction).

    >>> next_quiet({"a": 10.0, "b": 9.5}, ["a", "b"], 1.0, 10.05, 0.3)      # next: b at 10.5, a at 11.0
    ''
    >>> next_quiet({"a": 10.0, "b": 9.5}, ["a", "b"], 1.0, 10.3, 0.3)       # b due at 10.5: wait for it
    'b'
    >>> next_quiet({"a": 10.0, "b": 9.98}, ["a", "b"], 1.0, 11.01, 0.3)     # both overdue: the earlier
    'b'
    >>> next_quiet({"a": 10.0}, ["a", "b"], 1.0, 10.4, 0.3) is None
    True
    """
    if keepalive <= quiet or any(n not in last_seen for n in nodes):
        return None
    upcoming = {}
    for n in nodes:
        due = last_seen[n] + keepalive
        if due < now:
            late = now - due
            # overdue: imminent; long overdue (a lost packet): the next period
            due = now if late < keepalive / 2 else due + keepalive * (1 + int(late // keepalive))
        upcoming[n] = due
    first = min(nodes, key=lambda n: (upcoming[n], last_seen[n]))
    return "" if upcoming[first] - now > quiet else first
