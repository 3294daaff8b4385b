"""Clock-skew estimation between nodes from events that happen near-simultaneously on both.

Pairs (A observes B; expected delay = A's time - B's time on a perfect clock):

- A ``Received shutdown notice from 'B'``  ~ B ``Heartbeat shutdown complete`` (notice sent just before; -1 s)
- A ``Status update for node B: status up|active`` ~ B ``Local status now set to: 'up'|'active'`` (0 s)
- A ``Link B:iface up.`` ~ B ``Starting heartbeat`` (+1 s)
- A's last ``node B: is dead`` ~ B's last record + deadtime, when B's log simply ends (crash) and B never
  declared A dead itself.

Every candidate pairing within ``max_skew`` gives a difference ``d = tA - tB - expected``;
wrong pairings scatter while right ones agree, so the estimate is the median of the
densest ``window``-second cluster of differences (a mode-seeking median).

The differences are never stored: :func:`pair_differences` regenerates them on each pass,
and :func:`estimate_offset` counts them per whole second in a fixed array (pass one: where
the densest window is), then keeps only the exact values within it (pass two: its median
and spread). Memory is the same for ten or ten million differences.

>>> estimate_offset([90.0, 91.0, 89.0, 90.0, -300.0, 2000.0])
(90.0, 4, 2.0)
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

MAX_SKEW_S = 6 * 3600.0
WINDOW_S = 3.0
MAX_PAIRS_PER_EVENT = 64
#: anchors kept per kind and peer: the first ones suffice to estimate a constant offset, and the cap keeps
#: the work (up to MAX_ANCHORS x MAX_PAIRS_PER_EVENT differences per kind) the same whatever the log's length
MAX_ANCHORS = 1024


class Anchors:
    """The few events of one node that skew estimation needs (kept in memory; they are rare)."""

    __slots__ = ("obs", "own", "last")

    def __init__(self) -> None:
        # observations of peers: (kind, peer) -> [t]; own events: kind -> [t]
        self.obs: Dict[Tuple[str, str], List[float]] = {}
        self.own: Dict[str, List[float]] = {}
        self.last: Optional[float] = None

    def add_obs(self, kind: str, peer: str, t: float) -> None:
        times = self.obs.setdefault((kind, peer), [])
        if len(times) < MAX_ANCHORS:
            times.append(t)

    def add_own(self, kind: str, t: float) -> None:
        times = self.own.setdefault(kind, [])
        if len(times) < MAX_ANCHORS:
            times.append(t)


def estimate_offset(diffs: Iterable[float], window: float = WINDOW_S,
                    max_skew: float = MAX_SKEW_S) -> Tuple[Optional[float], int, float]:
    """(offset, pairs used, spread) from pairwise differences; (None, 0, 0.0) without any.

    ``diffs`` is read twice (a list, or what :func:`pair_differences` returns)."""
    hist = _Histogram(max_skew)
    for d in diffs:
        hist.add(d)
    if not hist.total:
        return None, 0, 0.0
    lo = hist.densest(window)
    hi = lo + math.ceil(window) + 1  # the whole seconds that hold every window starting in second lo
    return _densest_exact(Counter(d for d in diffs if lo <= d < hi), window)


class _Histogram:
    """Differences counted per whole second: a fixed array over +-max_skew, a dict for the rare rest."""

    def __init__(self, max_skew: float) -> None:
        self.base = int(max_skew) + 2
        self.bins = array("L", [0]) * (2 * self.base + 1)
        self.extra: Dict[int, int] = {}
        self.total = 0

    def add(self, d: float) -> None:
        k = math.floor(d) + self.base
        if 0 <= k < len(self.bins):
            self.bins[k] += 1
        else:
            self.extra[k] = self.extra.get(k, 0) + 1
        self.total += 1

    def densest(self, window: float) -> int:
        """The second starting the window of most differences (then the narrowest, then the earliest)."""
        w = math.ceil(window)
        bins = self.bins
        best: Tuple[int, int, int] = (0, 0, 0)  # (count, -spread, -k)
        for k in range(len(bins)):
            if bins[k]:
                part = bins[k:k + w + 1]
                last = max(i for i, c in enumerate(part) if c)
                best = max(best, (sum(part), -last, -k))
        keys = sorted(self.extra)
        for i, k in enumerate(keys):
            inside = keys[i:bisect_right(keys, k + w)]
            best = max(best, (sum(self.extra[j] for j in inside), k - inside[-1], -k))
        return -best[2] - self.base


def _densest_exact(counts: Counter, window: float) -> Tuple[Optional[float], int, float]:
    """The exact estimate over distinct values with their counts (few: they lie within a few seconds)."""
    values = sorted(counts)
    cumulative = [0]
    for v in values:
        cumulative.append(cumulative[-1] + counts[v])
    best_lo, best_hi, best_n, best_spread = 0, 0, 0, float("inf")
    for i, v in enumerate(values):
        j = bisect_right(values, v + window)
        n, spread = cumulative[j] - cumulative[i], values[j - 1] - v
        if n > best_n or (n == best_n and spread < best_spread):
            best_lo, best_hi, best_n, best_spread = i, j, n, spread
    if not best_n:
        return None, 0, 0.0
    return _median(values[best_lo:best_hi], [counts[v] for v in values[best_lo:best_hi]]), best_n, float(best_spread)


def _median(values: List[float], counts: List[int]) -> float:
    """Median of sorted ``values`` each repeated ``counts`` times."""
    n = sum(counts)

    def nth(k: int) -> float:
        for v, c in zip(values, counts):
            if k < c:
                return v
            k -= c
        return values[-1]

    return float(nth(n // 2)) if n % 2 else (nth(n // 2 - 1) + nth(n // 2)) / 2.0


def _pairs(a_times: List[float], b_times: List[float], expected: float, max_skew: float) -> Iterator[float]:
    if not a_times or not b_times:
        return
    b_sorted = sorted(b_times)
    for ta in a_times:
        lo = bisect_left(b_sorted, ta - expected - max_skew)
        hi = bisect_right(b_sorted, ta - expected + max_skew)
        if hi - lo > MAX_PAIRS_PER_EVENT:  # too many candidates: keep the nearest ones
            mid = bisect_left(b_sorted, ta - expected)
            lo, hi = max(lo, mid - MAX_PAIRS_PER_EVENT // 2), min(hi, mid + MAX_PAIRS_PER_EVENT // 2)
        for tb in b_sorted[lo:hi]:
            yield ta - tb - expected


class Differences:
    """Differences clock(a) - clock(b) suggested by a observing b and b observing a; regenerated on each
    iteration from the anchors (nothing stored)."""

    def __init__(self, a: str, anch_a: Anchors, b: str, anch_b: Anchors, deadtime_s: float,
                 max_skew: float = MAX_SKEW_S) -> None:
        self.a, self.anch_a, self.b, self.anch_b = a, anch_a, b, anch_b
        self.deadtime_s, self.max_skew = deadtime_s, max_skew

    def __iter__(self) -> Iterator[float]:
        for obs, ob_name, other, other_name, sign in ((self.anch_a, self.a, self.anch_b, self.b, 1.0),
                                                      (self.anch_b, self.b, self.anch_a, self.a, -1.0)):
            for d in self._one_way(obs, ob_name, other, other_name):
                yield sign * d

    def _one_way(self, obs: Anchors, ob_name: str, other: Anchors, other_name: str) -> Iterator[float]:
        """What ``obs`` saw of ``other`` against what ``other`` logged itself."""
        for seen, own, expected in (("peer_shutdown", "hb_stop", -1.0), ("status_up", "local_up", 0.0),
                                    ("status_active", "local_active", 0.0), ("link_up", "hb_start", 1.0)):
            yield from _pairs(obs.obs.get((seen, other_name), []), other.own.get(own, []), expected, self.max_skew)
        dead = obs.obs.get(("node_dead", other_name), [])
        if dead and other.last is not None and not other.obs.get(("node_dead", ob_name)):
            # the other node's log just ends and it never saw us die: it crashed or lost power
            yield dead[-1] - other.last - self.deadtime_s


def pair_differences(a: str, anch_a: Anchors, b: str, anch_b: Anchors, deadtime_s: float,
                     max_skew: float = MAX_SKEW_S) -> Differences:
    """Differences clock(a) - clock(b) suggested by a observing b and b observing a (re-iterable)."""
    return Differences(a, anch_a, b, anch_b, deadtime_s, max_skew)
