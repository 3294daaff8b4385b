"""Merge what the timeline picture draws per pixel column, so its size depends on its width, not on
how many spans and events the log holds (a 24-hour log with thousands of events stays legible).

- :class:`PixelRow`: the spans of one row (a link's states, a group held by a node, ...). Each
  column takes the most important state touching it (a link dead for a second stays visible inside
  hours of up); consecutive columns with the same state become one bar whose tooltip counts the
  spans merged into it.
- :class:`MarkerBins`: events per node, severity and bucket of ``MARKER_PX`` columns: one marker
  per bucket, its tooltip counting the events by kind.

>>> scale = Scale(0.0, 100.0, 100)
>>> row = PixelRow(scale, {"up": 0, "dead": 1})
>>> for a, b, state in [(0, 40, "up"), (40, 40.5, "dead"), (40.5, 100, "up")]:
...     row.add(a, b, state)
>>> [(r.col0, r.col1, r.state, r.spans) for r in row.runs()]
[(0, 39, 'up', 1), (40, 40, 'dead', 3), (41, 99, 'up', 1)]
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Tuple

#: columns per event marker (one marker per node, severity and bucket)
MARKER_PX = 3


@dataclass
class Scale:
    """Maps corrected time in [start, end] to ``width`` pixel columns."""

    start: float
    end: float
    width: int

    def x(self, ts: float) -> float:
        """Offset in pixels from the plot's left edge (clamped to the plot)."""
        return (min(max(ts, self.start), self.end) - self.start) / (self.end - self.start) * self.width

    def column(self, ts: float) -> int:
        return min(self.width - 1, int(self.x(ts)))

    def time_at(self, col: int) -> float:
        return self.start + (self.end - self.start) * col / self.width

    def columns(self, start: float, end: float) -> Optional[Tuple[int, int]]:
        """First and last column a span touches; None when it lies outside the plot."""
        if end < self.start or start > self.end:
            return None
        a = self.column(start)
        return a, max(a, self.column(end))


@dataclass
class _Cell:
    __slots__ = ("state", "rank", "t0", "t1", "tally", "continued", "reason")
    state: str
    rank: int
    t0: float  # earliest start / latest end of the spans touching the column
    t1: float
    tally: Dict[str, List[float]]  # state -> [spans starting here, their seconds]
    continued: bool  # a span that started in an earlier column covers this one
    reason: str  # what ended the last span touching the column


@dataclass
class Run:
    """Consecutive columns of one row drawn as one bar."""

    col0: int
    col1: int
    state: str
    t0: float
    t1: float
    spans: int
    tally: Dict[str, List[float]]
    reason: str

    @property
    def width(self) -> int:
        return self.col1 - self.col0 + 1


class PixelRow:
    """Spans of one row merged per pixel column; ``ranks`` orders states by importance (higher wins)."""

    def __init__(self, scale: Scale, ranks: Optional[Dict[str, int]] = None) -> None:
        self.scale = scale
        self.ranks = ranks or {}
        self.cells: Dict[int, _Cell] = {}  # at most scale.width

    def add(self, start: float, end: float, state: str, reason: str = "") -> None:
        cols = self.scale.columns(start, end)
        if cols is None:
            return
        a, b = cols
        rank = self.ranks.get(state, 0)
        for col in range(a, b + 1):
            cell = self.cells.get(col)
            if cell is None:
                cell = self.cells[col] = _Cell(state, rank, start, end, {}, False, "")
            else:
                if rank > cell.rank:
                    cell.state, cell.rank = state, rank
                cell.t0, cell.t1 = min(cell.t0, start), max(cell.t1, end)
            cell.reason = reason
            if col == a:
                tally = cell.tally.setdefault(state, [0, 0.0])
                tally[0] += 1
                tally[1] += max(0.0, end - start)
            else:
                cell.continued = True

    def runs(self) -> Iterator[Run]:
        """The bars to draw, left to right."""
        run: Optional[Run] = None
        for col in sorted(self.cells):
            cell = self.cells[col]
            t0, t1 = max(cell.t0, self.scale.time_at(col)), min(cell.t1, self.scale.time_at(col + 1))
            starting = sum(int(n) for n, _ in cell.tally.values())
            if run is not None and run.col1 == col - 1 and run.state == cell.state:
                run.col1, run.t1, run.reason = col, max(run.t1, t1), cell.reason
                run.spans += starting
                for state, (n, secs) in cell.tally.items():
                    tally = run.tally.setdefault(state, [0, 0.0])
                    tally[0] += n
                    tally[1] += secs
                continue
            if run is not None:
                yield run
            run = Run(col, col, cell.state, t0, t1, starting + (1 if cell.continued else 0),
                      {k: list(v) for k, v in cell.tally.items()}, cell.reason)
        if run is not None:
            yield run


@dataclass
class Marker:
    """Events of one node and severity within one bucket of columns."""

    col: int
    count: int
    kinds: Counter
    t0: float
    t1: float
    first: str  # the first event's description


class MarkerBins:
    """Events binned per (node, severity, bucket of MARKER_PX columns): at most
    nodes x severities x width / MARKER_PX markers, whatever the number of events. Events come
    in time order, so only the current bucket of each (node, severity) is open; a bucket is
    handed to ``emit(node, severity, marker)`` as soon as the next one starts."""

    def __init__(self, scale: Scale, emit: Callable[[str, str, Marker], None], px: int = MARKER_PX) -> None:
        self.scale = scale
        self.emit = emit
        self.px = px
        self.open: Dict[Tuple[str, str], Marker] = {}

    def add(self, node: str, severity: str, ts: float, kind: str, text: str) -> None:
        col = self.scale.column(ts) // self.px * self.px
        key = (node, severity)
        marker = self.open.get(key)
        if marker is not None and marker.col != col:
            self.emit(node, severity, marker)
            marker = None
        if marker is None:
            marker = self.open[key] = Marker(col, 0, Counter(), ts, ts, text)
        marker.count += 1
        marker.kinds[kind] += 1
        marker.t0, marker.t1 = min(marker.t0, ts), max(marker.t1, ts)

    def close(self) -> None:
        for (node, severity), marker in self.open.items():
            self.emit(node, severity, marker)
        self.open.clear()
