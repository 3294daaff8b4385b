"""Build a cluster timeline: one prefiltered streaming pass per node's log, skew correction, merge,
and the derived intervals (heartbeat running, link states, resource ownership, outages, overlaps).

Events are spilled to a temporary file per node while the log streams (a small reorder
buffer absorbs lines written slightly out of order), so memory stays flat however long
the log is; :meth:`Timeline.events` merges the spills in corrected time order. The derived
intervals are written out as they close, sorted on disk (hadoctor/timeline/spill.py), and the
outage and overlap windows come from one sweep over the sorted ownership: nothing held in
memory grows with the number of log lines.
"""

from __future__ import annotations

import collections
import heapq
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

from hadoctor.errors import InputError
from hadoctor.timeline.events import REPLICATION_KINDS, Event, events_of, prefilter_patterns
from hadoctor.timeline.skew import Anchors, estimate_offset, pair_differences
from hadoctor.timeline.spill import Section, SortedSpill, Spill

EPOCH = datetime(1970, 1, 1)
REORDER_S = 120.0
REORDER_MAX = 20000
#: offsets smaller than this are log-resolution noise and are not corrected
MIN_CORRECTION_S = 1.5
DEFAULT_DEADTIME_S = 30.0
#: resource groups, and links (peer:iface per observing node), turned into intervals; events about
#: more are still listed (a note says so). Real clusters have a handful of each.
MAX_SUBJECTS = 100


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

    def to_tuple(self) -> Tuple:
        return (self.kind, self.node, self.subject, self.state, self.start, self.end, self.end_reason, self.open)


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

    def to_tuple(self) -> Tuple:
        return (self.kind, self.group, self.start, self.end, self.nodes, self.open)


# sort orders of the interval sections (Interval.to_tuple layout: kind node subject state start end ...)
def _by_node_start(t: Tuple) -> Tuple:
    return t[1], t[4]


def _by_node_subject_start(t: Tuple) -> Tuple:
    return t[1], t[2], t[4]


def _by_subject_start_node(t: Tuple) -> Tuple:
    return t[2], t[4], t[1]


class Timeline:
    """The merged history. Events and derived intervals live in temporary files (constant memory):
    ``running``, ``links``, ``ownership``, ``outages`` and ``overlaps`` are sequences read from disk
    on each iteration; call :meth:`close` when done."""

    def __init__(self, target: str, nodes: List[NodeInfo], spills: Dict[str, Spill], reference: Optional[str],
                 corrected: bool) -> None:
        self.target = target
        self.nodes = nodes
        self._spills = spills
        self.reference = reference
        self.corrected = corrected
        self.since: Optional[float] = None
        self.until: Optional[float] = None
        self._sections: List[Section] = []
        self.running: Section[Interval] = self._section(SortedSpill(_by_node_start), Interval)
        self.links: Section[Interval] = self._section(SortedSpill(_by_node_subject_start), Interval)
        self.ownership: Section[Interval] = self._section(SortedSpill(_by_subject_start_node), Interval)
        self.outages: Section[Window] = self._section(Spill(), Window)
        self.overlaps: Section[Window] = self._section(Spill(), Window)
        self.groups: Dict[str, str] = {}  # key -> full resource line (at most MAX_SUBJECTS)
        self.link_subjects: Dict[str, List[str]] = {}  # observing node -> links seen (peer:iface), sorted
        self.notes: List[str] = []  # what could not be derived (a limit was reached)
        self.start: Optional[float] = None  # corrected range of the whole cluster log
        self.end: Optional[float] = None

    def _section(self, spill, make) -> Section:
        section = Section(spill, make)
        self._sections.append(section)
        return section

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
        for section in self._sections:
            section.close()

    # -- derived intervals ---------------------------------------------------------------------
    def derive(self) -> None:
        firsts = [n.first - n.offset_s for n in self.nodes if n.first is not None]
        lasts = [n.last - n.offset_s for n in self.nodes if n.last is not None]
        self.start = min(firsts) if firsts else None
        self.end = max(lasts) if lasts else None
        derivation = _Derivation(self)
        for ts, ev in self.events(windowed=False):
            derivation.feed(ts, ev)
        derivation.finish()
        end = self.end if self.end is not None else 0.0
        for window in windows_of(self.ownership, end):
            (self.outages if window.kind == "outage" else self.overlaps).append(window)

    def holders_at(self, group: str, ts: float) -> List[str]:
        return sorted({i.node for i in self.ownership if i.subject == group and i.start <= ts < i.end
                       or (i.subject == group and i.open and i.start <= ts)})


class _Derivation:
    """One pass over the merged events: intervals are written out as they close. What it keeps is
    bounded by the cluster's make-up (nodes, at most MAX_SUBJECTS groups and links), not the log."""

    def __init__(self, tl: Timeline) -> None:
        self.tl = tl
        self.nodes = {n.name for n in tl.nodes}
        self.end = tl.end or 0.0
        self.last_of = {n.name: (n.last - n.offset_s if n.last is not None else None) for n in tl.nodes}
        self.running: Dict[str, float] = {}
        self.links: Dict[Tuple[str, str], Tuple[str, float]] = {}
        self.owners: Dict[Tuple[str, str], float] = {}
        self.declared_dead: Dict[str, float] = {}  # node -> last time a peer declared it dead
        self.last_seen: Dict[str, float] = {}
        self.untracked = {"group": 0, "link": 0}  # events about subjects past MAX_SUBJECTS

    # -- output
    def _emit(self, interval: Interval) -> None:
        {"owner": self.tl.ownership, "link": self.tl.links, "running": self.tl.running}[interval.kind].append(interval)

    def _close_owned(self, node: str, t: float, reason: str) -> None:
        for key in [k for k in self.owners if k[1] == node]:
            self._emit(Interval("owner", node, key[0], "held", self.owners.pop(key), t, reason))

    def _close_links(self, node: str, t: float, reason: str) -> None:
        for key in [k for k in self.links if k[0] == node]:
            state, start = self.links.pop(key)
            self._emit(Interval("link", node, key[1], state, start, t, reason))

    def _close_running(self, node: str, t: float, reason: str) -> None:
        if node in self.running:
            self._emit(Interval("running", node, node, "running", self.running.pop(node), t, reason))

    def _tracked_group(self, group: str, line: str) -> bool:
        groups = self.tl.groups
        if group not in groups:
            if len(groups) >= MAX_SUBJECTS:
                self.untracked["group"] += 1
                return False
            groups[group] = line
        return True

    def _tracked_link(self, node: str, link: str) -> bool:
        seen = self.tl.link_subjects.setdefault(node, [])
        if link not in seen:
            if sum(len(v) for v in self.tl.link_subjects.values()) >= MAX_SUBJECTS:
                self.untracked["link"] += 1
                return False
            seen.append(link)
            seen.sort()
        return True

    # -- input
    def feed(self, ts: float, ev: Event) -> None:
        n, k = ev.node, ev.kind
        if k in REPLICATION_KINDS:
            return  # MySQL's, not heartbeat's: says nothing of the node's heartbeat or resources
        prev_seen = self.last_seen.get(n)
        self.last_seen[n] = ts
        if k == "hb_start":
            if prev_seen is not None and self.declared_dead.get(n, -1e18) >= prev_seen:
                self._close_owned(n, prev_seen, "node went silent (declared dead by a peer) before heartbeat "
                                                "started again")
            else:
                self._close_owned(n, ts, "heartbeat started again (the previous run left no record of a release)")
            self._close_links(n, ts, "heartbeat restarted")
            self._close_running(n, ts, "restarted")
            self.running[n] = ts
        elif k in ("hb_stop", "config_error", "emergency_shutdown"):
            reason = k.replace("_", " ")
            self._close_owned(n, ts, reason)
            self._close_links(n, ts, reason)
            self._close_running(n, ts, reason)
        elif k == "relinquished":
            self._close_owned(n, ts, "all HA resources relinquished")
        elif k in ("link_up", "link_dead"):
            self._link(n, ev.subject, "up" if k == "link_up" else "dead", ts)
        elif k in ("acquire", "release"):
            if self._tracked_group(ev.subject, ev.detail.rsplit(" (owner", 1)[0]):
                self._ownership(n, ev.subject, k, ts)
        elif k == "node_dead" and ev.subject in self.nodes:
            self.declared_dead[ev.subject] = ts

    def _link(self, n: str, link: str, state: str, ts: float) -> None:
        if self._tracked_link(n, link):
            key = (n, link)
            prev = self.links.get(key)
            if prev is None or prev[0] != state:
                if prev is not None:
                    self._emit(Interval("link", n, link, prev[0], prev[1], ts, f"link {state}"))
                self.links[key] = (state, ts)
        if n not in self.running:
            self.running[n] = ts

    def _ownership(self, n: str, group: str, kind: str, ts: float) -> None:
        if kind == "acquire":
            self.owners.setdefault((group, n), ts)
            return
        start = self.owners.pop((group, n), None)
        if start is not None:
            self._emit(Interval("owner", n, group, "held", start, ts, "released"))

    def _presumed_down(self, n: str) -> bool:
        last = self.last_of.get(n)
        return last is not None and last < self.end and n in self.declared_dead and self.declared_dead[n] >= last

    def finish(self) -> None:
        end = self.end
        for n, start in self.running.items():
            if self._presumed_down(n):
                self._emit(Interval("running", n, n, "running", start, self.last_of[n],
                                    "log ends; a peer declared the node dead"))
            else:
                self._emit(Interval("running", n, n, "running", start, end, "end of log", open=True))
        for (n, sub), (state, start) in self.links.items():
            self._emit(Interval("link", n, sub, state, start, max(start, self.last_of.get(n) or end),
                                "end of log", open=True))
        for (group, n), start in self.owners.items():
            if self._presumed_down(n):
                self._emit(Interval(
                    "owner", n, group, "held", start, max(start, self.last_of[n]),
                    f"log ends (node presumed down: declared dead by a peer at "
                    f"{from_ts(self.declared_dead[n]):%H:%M:%S})"))
            else:
                self._emit(Interval("owner", n, group, "held", start, end, "held at end of log", open=True))
        for what, count in self.untracked.items():
            if count:
                self.tl.notes.append(f"more than {MAX_SUBJECTS} distinct {what}s: {count} events about the others "
                                     f"are listed but not turned into {what} intervals")


def windows_of(ownership: Iterable[Interval], end: float) -> Iterator[Window]:
    """Outages and overlaps from ownership sorted by (group, start): one sweep, holding only the spans
    in force (at most one per node)."""
    for group, spans in itertools.groupby(ownership, key=lambda i: i.subject):
        sweep = _WindowSweep(group, end)
        for span in spans:
            sweep.add(span)
            yield from sweep.take()
        sweep.finish()
        yield from sweep.take()


class _WindowSweep:
    """Cut one group's timeline at every start and end; consecutive cuts with the same holders make
    a window: nobody (outage) or several nodes (overlap). Open spans reach past the end of the log."""

    def __init__(self, group: str, end: float) -> None:
        self.group = group
        self.end = end
        self.limit = end + 1.0  # past the end of the log: what is still out then is open
        self.active: List[Tuple[float, str]] = []  # heap of (stop, node)
        self.pos: Optional[float] = None
        self.cur: Optional[Window] = None
        self.done: List[Window] = []

    def _segment(self, b: float) -> None:
        a = self.pos
        if a is None or b <= a:
            return
        holders = sorted({node for _, node in self.active})
        kind = "outage" if not holders else ("overlap" if len(holders) > 1 else "")
        cur = self.cur
        if cur is not None and (cur.kind != kind or cur.nodes != holders or cur.end < a):
            self.done.append(cur)
            cur = self.cur = None
        if kind:
            if cur is None:
                self.cur = Window(kind, self.group, a, b, holders)
            else:
                cur.end = b
        self.pos = b

    def _advance(self, upto: float) -> None:
        """Cut up to ``upto``; spans stopping on the way leave the holders at their stop."""
        active = self.active
        while active and active[0][0] <= upto:
            stop = active[0][0]
            self._segment(stop)
            while active and active[0][0] <= stop:
                heapq.heappop(active)
        self._segment(upto)

    def add(self, span: Interval) -> None:
        if self.pos is None:
            self.pos = span.start
        self._advance(span.start)
        self.limit = max(self.limit, span.end)
        heapq.heappush(self.active, (float("inf") if span.open else span.end, span.node))

    def finish(self) -> None:
        self._advance(self.limit)
        cur = self.cur
        if cur is not None:
            cur.open = cur.end >= self.end
            cur.end = min(cur.end, self.end)
            self.done.append(cur)
            self.cur = None

    def take(self) -> List[Window]:
        done, self.done = self.done, []
        return done


def _corrected(spill: Spill, name: str, off: float) -> Iterator[Tuple]:
    for seq, (ts, *item) in enumerate(spill):
        yield ts - off, seq, name, item


def _node_deadtime(node) -> float:
    cf = node.find("ha_cf")
    try:
        return float(cf.deadtime.value) / 1000.0
    except Exception:  # no ha.cf, or one whose deadtime is unusable
        return DEFAULT_DEADTIME_S


def _stream_node(node, source, info: NodeInfo, spill: Spill, anchors: Anchors) -> None:
    """The one prefiltered pass over a node's log; the node's replication events join it in time order, those
    within its heartbeat events' span (hadoctor.timeline.replication)."""
    from hadoctor.parsers.hblog import compile_prefilter
    from hadoctor.timeline.replication import replication_events

    prefilter = compile_prefilter(prefilter_patterns())
    buf: List[Tuple] = []
    seq = 0
    maxts = None
    last_time = None
    extra = collections.deque(replication_events(node, info.name))
    for record in source.records(prefilter=prefilter):
        if record.time is not None:
            last_time = record.time
        for ev in events_of(record, info.name, last_time):
            ts = to_ts(ev.time)
            while extra and to_ts(extra[0].time) <= ts:
                rep = extra.popleft()
                if info.first is not None:
                    seq += 1
                    heapq.heappush(buf, (to_ts(rep.time), seq, rep.kind, rep.subject, rep.detail, rep.file, rep.line))
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
                spill.append((item[0],) + item[2:])
    while buf:
        item = heapq.heappop(buf)
        spill.append((item[0],) + item[2:])
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
                   until: Optional[datetime] = None, root: str = "/", mysql_defaults: str = "") -> Timeline:
    """Load the target, stream every node's log once, estimate and correct clock skew, derive intervals."""
    from hadoctor.snapshot.loader import load_target

    from hadoctor.timeline.replication import DATA

    cluster = load_target(target, root=root, only=("log", "ha_cf") + DATA, mysql_defaults=mysql_defaults)
    nodes: List[NodeInfo] = []
    spills: Dict[str, Spill] = {}
    anchors: Dict[str, Anchors] = {}
    for node in cluster.nodes:
        source = node.find("log")
        if source is None:
            datum = node.data.get("log")
            reason = datum.missing if datum is not None else "not collected"
            nodes.append(NodeInfo(node.name, [], problem=f"no log: {reason}"))
            continue
        info = NodeInfo(node.name, list(source.paths), deadtime_s=_node_deadtime(node))
        spill = Spill()
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
