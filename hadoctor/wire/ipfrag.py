"""IP fragment reassembly for captures, as a receiving kernel (and tcpdump's and Wireshark's readers) does it,
bounded against hostile captures.

A heartbeat message bigger than the path MTU (a large haresources, many nodes, a compressed message
near heartbeat's size limit) leaves the sender as IP fragments: IPv4 (identification, fragment offset
in 8-byte units, More Fragments flag) or the IPv6 Fragment header (RFC 8200 4.5). A datagram is
whole when the last fragment (MF clear) has come and every byte from 0 to its end is held.

What a hostile or damaged capture can do, and what happens:

* fragments that overlap, or that disagree on where the datagram ends: the datagram is dropped
  and counted as ``overlapping`` (Linux and RFC 5722 drop such datagrams too); an exact duplicate
  (a capture on two interfaces) is ignored;
* a datagram over 65,535 bytes (the "ping of death"), more than :data:`MAX_FRAGMENTS` fragments, a
  fragment other than the last whose length is no multiple of 8: dropped, counted as ``dropped``;
* fragments that never complete: counted as ``incomplete`` when the datagram expires
  (:data:`TIMEOUT` seconds of capture time after its first fragment, like Linux's ``ipfrag_time``)
  or at the end of the capture;
* memory: at most :data:`MAX_DATAGRAMS` datagrams and :data:`MAX_BYTES` bytes in flight; past
  either, the oldest datagram is dropped (``dropped``). Each fragment costs O(log n) for the
  overlap check, so the work is linear in the capture whatever it holds.

>>> r = Reassembler()
>>> r.add(("a", "b", 7), 8, False, b"world!", 1.0) is None   # the last fragment first
True
>>> r.add(("a", "b", 7), 0, True, b"hello, w", 1.1)
b'hello, wworld!'
>>> r.add(("a", "b", 8), 0, True, b"12345678", 2.0), r.add(("a", "b", 8), 4, False, b"xyz", 2.0)
(None, None)
>>> r.finish(); sorted((k, v) for k, v in r.stats.items() if v)
[('overlapping', 1), ('reassembled', 1)]
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, Hashable, List, Optional, Tuple

#: a datagram's largest size (IPv4 total length and IPv6 payload length are 16-bit; no jumbograms)
MAX_DATAGRAM = 65535
#: fragments one datagram may have (a 64 KB message over a 576-byte MTU needs about 120)
MAX_FRAGMENTS = 1024
#: datagrams and bytes held while waiting for their other fragments
MAX_DATAGRAMS = 1024
MAX_BYTES = 16 * 1024 * 1024
#: seconds of capture time a datagram waits for its other fragments (Linux's ipfrag_time default)
TIMEOUT = 30.0


@dataclass
class _Pending:
    first_ts: float
    starts: List[int] = field(default_factory=list)    # fragment offsets, sorted
    pieces: Dict[int, bytes] = field(default_factory=dict)
    held: int = 0                                       # bytes held (no overlaps, so distinct bytes)
    end: Optional[int] = None                           # known once the last fragment has come


class Reassembler:
    """Fragments in (``add``), whole datagram payloads out. ``stats``: ``reassembled`` datagrams, and the
    datagrams given up on: ``incomplete``, ``overlapping``, ``dropped`` (limits, malformed fragments),
    ``cut`` (a fragment cut short by the capture's snapshot length); ``duplicates`` (fragments ignored)."""

    def __init__(self, *, max_datagrams: int = MAX_DATAGRAMS, max_bytes: int = MAX_BYTES,
                 max_fragments: int = MAX_FRAGMENTS, timeout: float = TIMEOUT) -> None:
        self.max_datagrams, self.max_bytes, self.max_fragments, self.timeout = \
            max_datagrams, max_bytes, max_fragments, timeout
        self._pending: "OrderedDict[Hashable, _Pending]" = OrderedDict()
        self._bytes = 0
        self._now = 0.0
        # datagrams done with (whole, or given up on) and when: a later fragment of a whole one is a duplicate
        # (a capture on two interfaces), of a refused one ignored (not counted twice)
        self._done: "OrderedDict[Hashable, Tuple[float, bool]]" = OrderedDict()
        self.stats: Dict[str, int] = {"reassembled": 0, "incomplete": 0, "overlapping": 0, "dropped": 0,
                                      "cut": 0, "duplicates": 0}

    def add(self, key: Hashable, offset: int, more: bool, data: bytes, ts: float,
            cut: bool = False) -> Optional[bytes]:
        """One fragment of the datagram ``key`` (addresses, protocol and identification): its payload
        ``data`` at byte ``offset``; ``more``: more fragments follow. The whole payload when this fragment
        completes the datagram, else None. ``cut``: the capture holds less than the fragment."""
        self._now = ts
        self._expire(ts)
        done = self._done.get(key)
        if done is not None:
            self.stats["duplicates"] += done[1]
            return None
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = _Pending(ts)
        end = offset + len(data)
        if cut:
            return self._give_up(key, "cut")
        if end > MAX_DATAGRAM or (more and len(data) % 8) or (more and not data) \
                or len(pending.starts) >= self.max_fragments:
            return self._give_up(key, "dropped")
        if not more:
            if pending.end is not None and pending.end != end:
                return self._give_up(key, "overlapping")
            pending.end = end
        if pending.end is not None and end > pending.end:
            return self._give_up(key, "overlapping")
        at = bisect.bisect_left(pending.starts, offset)
        if at < len(pending.starts) and pending.starts[at] == offset and pending.pieces[offset] == data:
            self.stats["duplicates"] += 1
            return None
        before_end = offset if at == 0 else pending.starts[at - 1] + len(pending.pieces[pending.starts[at - 1]])
        after_start = end if at == len(pending.starts) else pending.starts[at]
        if before_end > offset or after_start < end:
            return self._give_up(key, "overlapping")
        pending.starts.insert(at, offset)
        pending.pieces[offset] = data
        pending.held += len(data)
        self._bytes += len(data)
        if pending.end is not None and pending.held == pending.end:
            whole = b"".join(pending.pieces[s] for s in pending.starts)
            self._forget(key)
            self._remember(key, True)
            self.stats["reassembled"] += 1
            return whole
        while self._bytes > self.max_bytes or len(self._pending) > self.max_datagrams:
            self._give_up(next(iter(self._pending)), "dropped")
        return None

    def finish(self) -> None:
        """The capture ended: what still waits is incomplete."""
        for key in list(self._pending):
            self._give_up(key, "incomplete")

    def _expire(self, ts: float) -> None:
        # oldest first: datagrams are kept in the order their first fragment came
        while self._pending:
            key, pending = next(iter(self._pending.items()))
            if pending.first_ts >= ts - self.timeout:
                return
            self._give_up(key, "incomplete")
        while self._done and next(iter(self._done.values()))[0] < ts - self.timeout:
            self._done.popitem(last=False)

    def _give_up(self, key: Hashable, why: str) -> None:
        if key in self._pending:
            self._forget(key)
        self.stats[why] += 1
        if why != "incomplete":  # an expired datagram's key may come again; a refused one's rest is ignored
            self._remember(key, False)
        return None

    def _remember(self, key: Hashable, whole: bool) -> None:
        self._done[key] = (self._now, whole)
        while len(self._done) > self.max_datagrams:
            self._done.popitem(last=False)

    def _forget(self, key: Hashable) -> None:
        self._bytes -= self._pending.pop(key).held
