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

>>> estimate_offset([90.0, 91.0, 89.0, 90.0, -300.0, 2000.0])
(90.0, 4, 2.0)
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from statistics import median
from typing import Dict, List, Optional, Sequence, Tuple

MAX_SKEW_S = 6 * 3600.0
WINDOW_S = 3.0
MAX_PAIRS_PER_EVENT = 64
#: anchors kept per kind and peer: the first ones suffice to estimate a constant offset, and the cap keeps
#: memory flat whatever the log's length
MAX_ANCHORS = 4096


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


def estimate_offset(diffs: Sequence[float], window: float = WINDOW_S) -> Tuple[Optional[float], int, float]:
    """(offset, pairs used, spread) from pairwise differences; (None, 0, 0.0) without any."""
    if not diffs:
        return None, 0, 0.0
    d = sorted(diffs)
    best_lo, best_n, best_spread = 0, 0, float("inf")
    for i in range(len(d)):
        j = bisect_right(d, d[i] + window)
        n = j - i
        spread = d[j - 1] - d[i]
        if n > best_n or (n == best_n and spread < best_spread):
            best_lo, best_n, best_spread = i, n, spread
    cluster = d[best_lo:best_lo + best_n]
    return float(median(cluster)), best_n, float(best_spread)


def _pairs(a_times: List[float], b_times: List[float], expected: float, max_skew: float) -> List[float]:
    if not a_times or not b_times:
        return []
    b_sorted = sorted(b_times)
    out = []
    for ta in a_times:
        lo = bisect_left(b_sorted, ta - expected - max_skew)
        hi = bisect_right(b_sorted, ta - expected + max_skew)
        if hi - lo > MAX_PAIRS_PER_EVENT:  # too many candidates: keep the nearest ones
            mid = bisect_left(b_sorted, ta - expected)
            lo, hi = max(lo, mid - MAX_PAIRS_PER_EVENT // 2), min(hi, mid + MAX_PAIRS_PER_EVENT // 2)
        out.extend(ta - tb - expected for tb in b_sorted[lo:hi])
    return out


def pair_differences(a: str, anch_a: Anchors, b: str, anch_b: Anchors, deadtime_s: float,
                     max_skew: float = MAX_SKEW_S) -> List[float]:
    """Differences clock(a) - clock(b) suggested by a observing b and b observing a."""
    diffs: List[float] = []
    for obs, ob_name, other, other_name, sign in ((anch_a, a, anch_b, b, 1.0), (anch_b, b, anch_a, a, -1.0)):
        got: List[float] = []
        got += _pairs(obs.obs.get(("peer_shutdown", other_name), []), other.own.get("hb_stop", []), -1.0, max_skew)
        got += _pairs(obs.obs.get(("status_up", other_name), []), other.own.get("local_up", []), 0.0, max_skew)
        got += _pairs(obs.obs.get(("status_active", other_name), []), other.own.get("local_active", []), 0.0,
                      max_skew)
        got += _pairs(obs.obs.get(("link_up", other_name), []), other.own.get("hb_start", []), 1.0, max_skew)
        dead = obs.obs.get(("node_dead", other_name), [])
        if dead and other.last is not None and not other.obs.get(("node_dead", ob_name)):
            # the other node's log just ends and it never saw us die: it crashed or lost power
            got.append(dead[-1] - other.last - deadtime_s)
        diffs.extend(sign * g for g in got)
    return diffs
