"""Build a cluster timeline: one prefiltered streaming pass per node's log, skew correction, merge,
and the derived intervals (heartbeat running, link states, resource ownership, outages, overlaps).

Events are spilled to a temporary file per node while the log streams (a small reorder
buffer absorbs lines written slightly out of order), so memory stays flat however long
the log is; :meth:`Timeline.events` merges the spills in corrected time order.
"""

from __future__ import annotations

import heapq
import os
import pickle
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Dict, Iterator, List, Optional, Tuple

from hadoctor.errors import InputError
from hadoctor.timeline.events import Event, events_of, prefilter_patterns
from hadoctor.timeline.skew import Anchors, estimate_offset, pair_differences

EPOCH = datetime(1970, 1, 1)
REORDER_S = 120.0
REORDER_MAX = 20000
#: offsets smaller than this are log-resolution noise and are not corrected
MIN_CORRECTION_S = 1.5
DEFAULT_DEADTIME_S = 30.0


def to_ts(t: datetime) -> float:
    return (t - EPOCH).total_seconds()


def from_ts(ts: float) -> datetime:
    return EPOCH + timedelta(seconds=ts)


@dataclass
class NodeInfo:
    name: str
    log_files: List[str]
    first: Optional[float] = None  # own clock
    last: Optional[float] = None
    events: int = 0
    offset_s: float = 0.0  # own clock minus the reference's; subtracted when correcting
    offset_pairs: int = 0
    offset_spread_s: float = 0.0
    estimated: Optional[float] = None  # the estimate, even when not applied
    deadtime_s: float = DEFAULT_DEADTIME_S
    problem: str = ""


@dataclass
class Interval:
    """A span of corrected time: ``kind`` is running, link, owner; ``end_reason`` says what closed it."""

    kind: str
    node: str
    subject: str
    state: str
    start: float
    end: float
    end_reason: str = ""
    open: bool = False

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)


@dataclass
class Window:
    """An outage (nobody held ``group``) or an overlap (several nodes held it: split brain)."""

    kind: str
    group: str
    start: float
    end: float
    nodes: List[str] = field(default_factory=list)
    open: bool = False

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)


class _Spill:
    """Events of one node, pickled to a temporary file in (own-clock) time order."""

    def __init__(self) -> None:
        self.handle = tempfile.TemporaryFile(prefix="hadoctor-timeline-")
        self.count = 0

    def write(self, item: Tuple) -> None:
        pickle.dump(item, self.handle, protocol=pickle.HIGHEST_PROTOCOL)
        self.count += 1

    def read(self) -> Iterator[Tuple]:
        handle = self.handle
        handle.seek(0)
        load = pickle.load
        for _ in range(self.count):
            yield load(handle)

    def close(self) -> None:
        self.handle.close()


class Timeline:
    def __init__(self, target: str, nodes: List[NodeInfo], spills: Dict[str, _Spill], reference: Optional[str],
                 corrected: bool) -> None:
        self.target = target
        self.nodes = nodes
        self._spills = spills
        self.reference = reference
        self.corrected = corrected
        self.since: Optional[float] = None
        self.until: Optional[float] = None
        self.running: List[Interval] = []
        self.links: List[Interval] = []
        self.ownership: List[Interval] = []
        self.outages: List[Window] = []
        self.overlaps: List[Window] = []
        self.groups: Dict[str, str] = {}  # key -> full resource line
        self.start: Optional[float] = None  # corrected range of the whole cluster log
        self.end: Optional[float] = None

    # -- iteration ---------------------------------------------------------------------------
    def offset(self, node: str) -> float:
        for info in self.nodes:
            if info.name == node:
                return info.offset_s
        return 0.0

    def events(self, windowed: bool = True) -> Iterator[Tuple[float, Event]]:
        """(corrected time, event) in corrected time order; within --since/--until when ``windowed``."""
        streams = []
        for info in self.nodes:
            spill = self._spills.get(info.name)
            if spill is None:
                continue
            streams.append(_corrected(spill, info.name, info.offset_s))
        for ts, _, name, item in heapq.merge(*streams, key=lambda x: (x[0], x[2], x[1])):
            if windowed and ((self.since is not None and ts < self.since) or
                             (self.until is not None and ts > self.until)):
                continue
            kind, subject, detail, file, line = item
            yield ts, Event(from_ts(ts + self.offset(name)), name, kind, subject, detail, file, line)

    def close(self) -> None:
        for spill in self._spills.values():
            spill.close()

    # -- derived intervals ---------------------------------------------------------------------
    def derive(self) -> None:
        names = [n.name for n in self.nodes]
        info = {n.name: n for n in self.nodes}
        firsts = [n.first - n.offset_s for n in self.nodes if n.first is not None]
        lasts = [n.last - n.offset_s for n in self.nodes if n.last is not None]
        self.start = min(firsts) if firsts else None
        self.end = max(lasts) if lasts else None
        end = self.end or 0.0
        last_of = {n.name: (n.last - n.offset_s if n.last is not None else None) for n in self.nodes}

        running: Dict[str, float] = {}
        links: Dict[Tuple[str, str], Tuple[str, float]] = {}
        owners: Dict[Tuple[str, str], float] = {}
        declared_dead: Dict[str, float] = {}  # node -> last time a peer declared it dead
        last_seen: Dict[str, float] = {}

        def close_owned(node: str, t: float, reason: str) -> None:
            for key in [k for k in owners if k[1] == node]:
                self.ownership.append(Interval("owner", node, key[0], "held", owners.pop(key), t, reason))

        def close_links(node: str, t: float, reason: str) -> None:
            for key in [k for k in links if k[0] == node]:
                state, start = links.pop(key)
                self.links.append(Interval("link", node, key[1], state, start, t, reason))

        for ts, ev in self.events(windowed=False):
            n, k = ev.node, ev.kind
            prev_seen = last_seen.get(n)
            last_seen[n] = ts
            if k == "hb_start":
                if prev_seen is not None and declared_dead.get(n, -1e18) >= prev_seen:
                    close_owned(n, prev_seen, "node went silent (declared dead by a peer) before heartbeat "
                                              "started again")
                else:
                    close_owned(n, ts, "heartbeat started again (the previous run left no record of a release)")
                close_links(n, ts, "heartbeat restarted")
                if n in running:
                    self.running.append(Interval("running", n, n, "running", running.pop(n), ts, "restarted"))
                running[n] = ts
            elif k in ("hb_stop", "config_error", "emergency_shutdown"):
                close_owned(n, ts, ev.kind.replace("_", " "))
                close_links(n, ts, ev.kind.replace("_", " "))
                if n in running:
                    self.running.append(Interval("running", n, n, "running", running.pop(n), ts, k.replace("_", " ")))
            elif k == "relinquished":
                close_owned(n, ts, "all HA resources relinquished")
            elif k in ("link_up", "link_dead"):
                state = "up" if k == "link_up" else "dead"
                key = (n, ev.subject)
                prev = links.get(key)
                if prev is None or prev[0] != state:
                    if prev is not None:
                        self.links.append(Interval("link", n, ev.subject, prev[0], prev[1], ts, f"link {state}"))
                    links[key] = (state, ts)
                if n not in running:
                    running[n] = ts
            elif k == "acquire":
                group = ev.subject
                self.groups.setdefault(group, ev.detail.rsplit(" (owner", 1)[0])
                owners.setdefault((group, n), ts)
            elif k == "release":
                group = ev.subject
                self.groups.setdefault(group, ev.detail.rsplit(" (owner", 1)[0])
                start = owners.pop((group, n), None)
                if start is not None:
                    self.ownership.append(Interval("owner", n, group, "held", start, ts, "released"))
            elif k == "node_dead":
                declared_dead[ev.subject] = ts

        for n, start in running.items():
            last = last_of.get(n)
            if last is not None and last < end and n in declared_dead and declared_dead[n] >= last:
                self.running.append(Interval("running", n, n, "running", start, last,
                                             "log ends; a peer declared the node dead"))
            else:
                self.running.append(Interval("running", n, n, "running", start, end, "end of log", open=True))
        for (n, sub), (state, start) in links.items():
            self.links.append(Interval("link", n, sub, state, start, max(start, last_of.get(n) or end),
                                       "end of log", open=True))
        for (group, n), start in owners.items():
            last = last_of.get(n)
            if last is not None and last < end and n in declared_dead and declared_dead[n] >= last:
                self.ownership.append(Interval(
                    "owner", n, group, "held", start, max(start, last),
                    f"log ends (node presumed down: declared dead by a peer at {from_ts(declared_dead[n]):%H:%M:%S})"))
            else:
                self.ownership.append(Interval("owner", n, group, "held", start, end, "held at end of log", open=True))
        self.ownership.sort(key=lambda i: (i.subject, i.start, i.node))
        self.links.sort(key=lambda i: (i.node, i.subject, i.start))
        self.running.sort(key=lambda i: (i.node, i.start))
        self._windows(names)

    def _windows(self, names: List[str]) -> None:
        for group in sorted({i.subject for i in self.ownership}):
            spans = [i for i in self.ownership if i.subject == group]
            end = self.end if self.end is not None else max(i.end for i in spans)
            sentinel = end + 1.0  # open intervals reach past the end of the log
            points = sorted({p for i in spans for p in (i.start, i.end)} | {end, sentinel})
            first = min(i.start for i in spans)
            cur: Optional[Window] = None
            for a, b in zip(points, points[1:]):
                if b <= a or a < first:
                    continue
                holders = sorted({i.node for i in spans if i.start <= a and (i.end >= b or i.open)})
                kind = "outage" if not holders else ("overlap" if len(holders) > 1 else "")
                if cur is not None and (cur.kind != kind or cur.nodes != holders or cur.end < a):
                    (self.outages if cur.kind == "outage" else self.overlaps).append(cur)
                    cur = None
                if kind:
                    if cur is None:
                        cur = Window(kind, group, a, b, holders)
                    else:
                        cur.end = b
            if cur is not None:
                cur.open = cur.end >= end
                cur.end = min(cur.end, end)
                (self.outages if cur.kind == "outage" else self.overlaps).append(cur)

    def holders_at(self, group: str, ts: float) -> List[str]:
        return sorted({i.node for i in self.ownership if i.subject == group and i.start <= ts < i.end
                       or (i.subject == group and i.open and i.start <= ts)})


def _corrected(spill: _Spill, name: str, off: float) -> Iterator[Tuple]:
    for seq, (ts, *item) in enumerate(spill.read()):
        yield ts - off, seq, name, item


def _node_deadtime(node) -> float:
    cf = node.find("ha_cf")
    try:
        return float(cf.deadtime.value) / 1000.0
    except Exception:  # no ha.cf, or one whose deadtime is unusable
        return DEFAULT_DEADTIME_S


def _stream_node(node, source, info: NodeInfo, spill: _Spill, anchors: Anchors) -> None:
    """The one prefiltered pass over a node's log."""
    from hadoctor.parsers.hblog import compile_prefilter

    prefilter = compile_prefilter(prefilter_patterns())
    buf: List[Tuple] = []
    seq = 0
    maxts = None
    last_time = None
    for record in source.records(prefilter=prefilter):
        if record.time is not None:
            last_time = record.time
        for ev in events_of(record, info.name, last_time):
            ts = to_ts(ev.time)
            info.events += 1
            if info.first is None or ts < info.first:
                info.first = ts
            if info.last is None or ts > info.last:
                info.last = ts
            _anchor(anchors, ev, ts, info.name)
            seq += 1
            heapq.heappush(buf, (ts, seq, ev.kind, ev.subject, ev.detail, ev.file, ev.line))
            maxts = ts if maxts is None or ts > maxts else maxts
            while buf and (buf[0][0] < maxts - REORDER_S or len(buf) > REORDER_MAX):
                item = heapq.heappop(buf)
                spill.write((item[0],) + item[2:])
    while buf:
        item = heapq.heappop(buf)
        spill.write((item[0],) + item[2:])
    # the last record of any kind marks when the node was last heard of (crash detection)
    try:
        end = source.end_time()
    except Exception:
        end = None
    if end is not None:
        ets = to_ts(end)
        info.last = ets if info.last is None else max(info.last, ets)
    anchors.last = info.last


def _anchor(anchors: Anchors, ev: Event, ts: float, node: str) -> None:
    k = ev.kind
    if k == "peer_shutdown":
        anchors.add_obs("peer_shutdown", ev.subject, ts)
    elif k == "status" and ev.subject != node and ev.detail in ("up", "active"):
        anchors.add_obs("status_" + ev.detail, ev.subject, ts)
    elif k == "local_status" and ev.detail in ("up", "active"):
        anchors.add_own("local_" + ev.detail, ts)
    elif k == "link_up":
        peer = ev.detail
        if peer != node:
            anchors.add_obs("link_up", peer, ts)
    elif k == "node_dead":
        anchors.add_obs("node_dead", ev.subject, ts)
    elif k in ("hb_start", "hb_stop"):
        anchors.add_own(k, ts)


def build_timeline(target: Optional[str], *, skew_correction: bool = True, since: Optional[datetime] = None,
                   until: Optional[datetime] = None, root: str = "/") -> Timeline:
    """Load the target, stream every node's log once, estimate and correct clock skew, derive intervals."""
    from hadoctor.snapshot.loader import load_target

    cluster = load_target(target, root=root)
    nodes: List[NodeInfo] = []
    spills: Dict[str, _Spill] = {}
    anchors: Dict[str, Anchors] = {}
    for node in cluster.nodes:
        source = node.find("log")
        if source is None:
            datum = node.data.get("log")
            reason = datum.missing if datum is not None else "not collected"
            nodes.append(NodeInfo(node.name, [], problem=f"no log: {reason}"))
            continue
        info = NodeInfo(node.name, list(source.paths), deadtime_s=_node_deadtime(node))
        spill = _Spill()
        anch = Anchors()
        try:
            _stream_node(node, source, info, spill, anch)
        except InputError:
            spill.close()
            for s in spills.values():
                s.close()
            raise
        nodes.append(info)
        spills[node.name] = spill
        anchors[node.name] = anch
    if not spills:
        raise InputError(str(target or root), "no node has a heartbeat log to build a timeline from",
                         "give a folder with one sub-folder per node, each holding heartbeat.log (or ha-log)")
    if not any(n.events for n in nodes):
        for s in spills.values():
            s.close()
        raise InputError(str(target or root), "the heartbeat logs hold no recognisable heartbeat event",
                         "is this a heartbeat log (ha-log, ha-debug or syslog with heartbeat lines)?")

    # reference: the node with the most anchor material (ties: first)
    with_logs = [n for n in nodes if n.name in anchors]
    reference = with_logs[0].name
    deadtime = max((n.deadtime_s for n in with_logs), default=DEFAULT_DEADTIME_S)
    for info in with_logs[1:]:
        diffs = pair_differences(info.name, anchors[info.name], reference, anchors[reference], deadtime)
        est, pairs, spread = estimate_offset(diffs)
        info.estimated, info.offset_pairs, info.offset_spread_s = est, pairs, spread
        if skew_correction and est is not None and abs(est) >= MIN_CORRECTION_S:
            info.offset_s = est
    with_logs[0].estimated = 0.0
    timeline = Timeline(cluster.target, nodes, spills, reference, skew_correction)
    timeline.since = to_ts(since) if since is not None else None
    timeline.until = to_ts(until) if until is not None else None
    timeline.derive()
    return timeline
