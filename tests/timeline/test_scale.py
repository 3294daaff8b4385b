"""The timeline at scale: spills and sorts on disk, one sweep for windows, a picture bounded by its width,
a JSON that still lists everything."""

from __future__ import annotations

import io
import json
import random
import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from statistics import median
from typing import List, Optional

import pytest

from hadoctor.timeline import build, spill
from hadoctor.timeline.build import Interval, Window, build_timeline, windows_of
from hadoctor.timeline.pixels import MARKER_PX, MarkerBins, PixelRow, Scale
from hadoctor.report.timeline import LEFT, RIGHT, WIDTH, render_html, render_svg, write_json
from hadoctor.timeline.skew import estimate_offset
from hadoctor.timeline.spill import Section, SortedSpill, Spill
from tests.conftest import REPO

LAB = REPO / "tests" / "fixtures" / "lab"
GROUP = "IPaddr::10.250.13.100/24/eth0"
PLOT_W = WIDTH - LEFT - RIGHT


# -- a busy 24-hour, two-node log --------------------------------------------------------------
def busy_day(tmp_path: Path, step_s: int = 6) -> tuple:
    """node01 and node02 (the failover capture's folders) with a 24-hour log each: an event every
    ``step_s`` seconds (late heartbeat, link dead, link up, acquire or release in turn).
    Returns (folder, events written, acquire/release pairs per node)."""
    start = datetime(2026, 11, 25)
    events = 0
    cycles = 0
    for node, peer, phase in (("node01", "node02", 0), ("node02", "node01", 3)):
        folder = tmp_path / "cluster" / node
        shutil.copytree(LAB / "failover" / node, folder)
        lines = [f"heartbeat[10]: {start:%Y/%m/%d_%H:%M:%S} info: Configuration validated. Starting heartbeat 3.0.6"]
        events += 1
        for i in range(86400 // step_s):
            t = start + timedelta(seconds=phase + (i + 1) * step_s)
            stamp = f"{t:%Y/%m/%d_%H:%M:%S}"
            k = i % 8
            if k in (0, 4):
                lines.append(f"heartbeat[11]: {stamp} WARN: Late heartbeat: Node {peer}: interval 5000 ms")
            elif k in (1, 5):
                lines.append(f"heartbeat[11]: {stamp} WARN: Link {peer}:eth0 dead.")
            elif k in (2, 6):
                lines.append(f"heartbeat[11]: {stamp} info: Link {peer}:eth0 up.")
            else:
                verb = "Acquiring" if k == 3 else "Releasing"
                cycles += k == 7 and node == "node01"
                lines.append(f"{stamp}  ResourceManager(default)[176]:    info: {verb} resource group: node01 {GROUP}")
            events += 1
        (folder / "heartbeat.log").write_text("\n".join(lines) + "\n")
    return tmp_path / "cluster", events, cycles


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    folder, events, cycles = busy_day(tmp_path_factory.mktemp("busy"))
    tl = build_timeline(str(folder))
    yield tl, events, cycles
    tl.close()


def test_json_lists_every_event_and_interval(day):
    tl, events, cycles = day
    out = io.StringIO()
    write_json(tl, out)
    doc = json.loads(out.getvalue())
    assert len(doc["events"]) == events == sum(n.events for n in tl.nodes) > 20000
    times = [e["time"] for e in doc["events"]]
    assert times == sorted(times)
    own = [o for o in doc["ownership"] if o["node"] == "node01"]
    assert len(own) == cycles  # every acquire/release pair is one interval, none merged away
    assert len(doc["links"]) == len(tl.links) > 10000
    assert len(doc["overlaps"]) == len(tl.overlaps) > 1000 and len(doc["outages"]) == len(tl.outages) > 1000
    assert doc["notes"] == []


def test_svg_size_bounded_by_width_not_events(day):
    tl, events, _ = day
    svg = render_svg(tl)
    markers = re.findall(r'<rect class="ev" data-n="(\d+)" x="(\d+)"', svg)
    bars = re.findall(r'<rect class="span" x="(\d+)" y="2" width="(\d+)"', svg)
    rows = 2 * (1 + 1 + 1) + 1  # per node heartbeat, link, group; the cluster's group row
    assert len(markers) <= 2 * 3 * -(-PLOT_W // MARKER_PX)  # nodes x severities x buckets
    assert len(bars) <= rows * PLOT_W
    assert len(svg) < 1_000_000, len(svg)  # ~40k events, ~20k intervals, thousands of windows
    # every event is counted in exactly one marker; nothing is drawn outside the plot
    assert sum(int(n) for n, _ in markers) == events
    assert all(LEFT <= int(x) < WIDTH - RIGHT for _, x in markers)
    assert all(LEFT <= int(x) and int(x) + int(w) <= WIDTH - RIGHT for x, w in bars)
    # one bar per pixel column at most in each row: bars of a row never overlap
    for row in re.findall(r'<g transform="translate\(0,[\d.]+\)">(<rect class="span".*?)</g>', svg):
        spans = sorted((int(x), int(w)) for x, w in re.findall(r'class="span" x="(\d+)" y="2" width="(\d+)"', row))
        assert all(a + w <= b for (a, w), (b, _) in zip(spans, spans[1:]))


def test_svg_of_twice_the_events_is_no_bigger(tmp_path, day):
    tl, events, _ = day
    folder, events2, _ = busy_day(tmp_path, step_s=3)
    dense = build_timeline(str(folder))
    try:
        assert events2 > 1.9 * events
        assert len(render_svg(dense)) < 1.1 * len(render_svg(tl))
    finally:
        dense.close()


def test_html_tables_capped_with_count(day):
    tl, _, _ = day
    page = render_html(tl, limit=5)
    ownership, windows = page.split("<h2>Resource ownership</h2>")[1].split("<h2>Outages and overlaps</h2>")
    assert ownership.count("<tr><td>") == 5 and f"{len(tl.ownership) - 5} more not shown" in ownership
    assert windows.count("<tr><td>") == 5 and f"{len(tl.outages) + len(tl.overlaps) - 5} more not shown" in windows


# -- pixel merging -------------------------------------------------------------------------------
def test_pixel_row_keeps_short_dead_span_visible():
    scale = Scale(0.0, 86400.0, 1000)
    row = PixelRow(scale, {"up": 0, "dead": 1})
    t = 0.0
    for _ in range(500):  # 500 up/dead pairs: 170 s up, 2 s dead
        row.add(t, t + 170, "up")
        row.add(t + 170, t + 172, "dead")
        t += 172
    runs = list(row.runs())
    assert len(runs) <= 1000
    dead = [r for r in runs if r.state == "dead"]
    assert dead and all(r.tally.get("dead") for r in dead)
    assert sum(int(n) for r in runs for n, _ in r.tally.values()) == 1000  # every span begins in one bar
    assert all(a.col1 < b.col0 for a, b in zip(runs, runs[1:]))


def test_marker_bins_emit_each_bucket_once():
    scale = Scale(0.0, 1000.0, 100)
    out: List[tuple] = []
    bins = MarkerBins(scale, lambda node, sev, m: out.append((node, sev, m.col, m.count)))
    for i in range(5000):
        bins.add("n1" if i % 3 else "n2", "warn" if i % 2 else "info", i / 5, "late_heartbeat", "x")
    bins.close()
    assert sum(c for *_, c in out) == 5000
    keys = [(n, s, c) for n, s, c, _ in out]
    assert len(keys) == len(set(keys)) <= 2 * 2 * 100 // MARKER_PX + 4


# -- spills ---------------------------------------------------------------------------------------
def test_sorted_spill_is_a_stable_external_sort():
    rng = random.Random(3)
    items = [(rng.randrange(50), i, "x" * rng.randrange(5)) for i in range(5000)]
    s = SortedSpill(key=lambda t: t[0], run_items=37, fan_in=3, batch=7)
    for item in items:
        s.append(item)
    assert len(s._buffer) < 37 and len(s._runs) <= 2 * 6  # fan_in - 1 runs per size class
    assert list(s) == sorted(items, key=lambda t: t[0])
    a, b = iter(s), iter(s)  # two readers at once
    assert [next(a) for _ in range(10)] == [next(b) for _ in range(10)]
    assert len(s) == 5000
    s.close()


def test_spill_and_section():
    sp = Spill(batch=3)
    section = Section(sp, Interval)
    for k in range(10):
        section.append(Interval("owner", "n", "g", "held", float(k), k + 1.0))
    assert len(section) == 10 and section[0].start == 0.0 and section[-1].end == 10.0
    assert [i.start for i in section] == [float(k) for k in range(10)]
    with pytest.raises(IndexError):
        section[10]
    section.close()


def test_tiny_spill_runs_give_the_same_timeline(monkeypatch):
    """The external sort path (many runs, several merge levels) derives exactly what the in-memory one does."""
    expected = build_timeline(str(LAB / "frozen-node"))
    monkeypatch.setattr(spill, "RUN_ITEMS", 2)
    monkeypatch.setattr(spill, "FAN_IN", 2)
    monkeypatch.setattr(spill, "BATCH", 1)
    tiny = build_timeline(str(LAB / "frozen-node"))
    try:
        for name in ("running", "links", "ownership", "outages", "overlaps"):
            assert [x.to_tuple() for x in getattr(tiny, name)] == [x.to_tuple() for x in getattr(expected, name)]
        assert list(tiny.events()) == list(expected.events())
    finally:
        expected.close(), tiny.close()


def test_subject_cap_noted_events_kept(monkeypatch):
    monkeypatch.setattr(build, "MAX_SUBJECTS", 0)
    tl = build_timeline(str(LAB / "failover"))
    try:
        assert not tl.ownership and not tl.links
        assert any("distinct groups" in n for n in tl.notes) and any("distinct links" in n for n in tl.notes)
        kinds = {e.kind for _, e in tl.events()}
        assert {"acquire", "link_up"} <= kinds
        assert "distinct groups" in render_svg(tl)
    finally:
        tl.close()


# -- windows and skew against brute force ---------------------------------------------------------
def brute_windows(spans: List[Interval], end: float) -> List[Window]:
    """The former O(n^2) definition: cut at every start and end, holders of each cut."""
    out: List[Window] = []
    for group in sorted({i.subject for i in spans}):
        mine = [i for i in spans if i.subject == group]
        points = sorted({p for i in mine for p in (i.start, i.end)} | {end, end + 1.0})
        first = min(i.start for i in mine)
        cur: Optional[Window] = None
        for a, b in zip(points, points[1:]):
            if b <= a or a < first:
                continue
            holders = sorted({i.node for i in mine if i.start <= a and (i.end >= b or i.open)})
            kind = "outage" if not holders else ("overlap" if len(holders) > 1 else "")
            if cur is not None and (cur.kind != kind or cur.nodes != holders or cur.end < a):
                out.append(cur)
                cur = None
            if kind:
                if cur is None:
                    cur = Window(kind, group, a, b, holders)
                else:
                    cur.end = b
        if cur is not None:
            cur.open = cur.end >= end
            cur.end = min(cur.end, end)
            out.append(cur)
    return out


@pytest.mark.parametrize("seed", range(40))
def test_window_sweep_matches_brute_force(seed):
    rng = random.Random(seed)
    end = 1000.0
    spans = []
    for group in ("g1", "g2"):
        for node in ("a", "b", "c")[:rng.randrange(1, 4)]:
            t = float(rng.randrange(0, 50))
            while t < end:
                stop = min(end, t + rng.choice([0, 0, 1, 5, 40, 200]))
                is_open = stop >= end and rng.random() < 0.5
                spans.append(Interval("owner", node, group, "held", t, stop, "", is_open))
                if is_open:
                    break
                t = stop + rng.choice([0, 0, 1, 3, 30])
    spans.sort(key=lambda i: (i.subject, i.start, i.node))
    got = [w.to_tuple() for w in windows_of(spans, end)]
    want = [w.to_tuple() for w in brute_windows(spans, end)]
    assert got == want


def brute_offset(diffs: List[float], window: float = 3.0):
    d = sorted(diffs)
    best = (0, 0, float("inf"))
    for i in range(len(d)):
        j = max(k for k in range(i, len(d)) if d[k] <= d[i] + window) + 1
        if j - i > best[1] or (j - i == best[1] and d[j - 1] - d[i] < best[2]):
            best = (i, j - i, d[j - 1] - d[i])
    return float(median(d[best[0]:best[0] + best[1]])), best[1], float(best[2])


@pytest.mark.parametrize("seed", range(30))
def test_histogram_estimate_matches_brute_force(seed):
    rng = random.Random(seed)
    true = rng.randrange(-3000, 3000)
    diffs = [float(true + rng.choice([-1, 0, 0, 1])) for _ in range(rng.randrange(1, 30))]
    diffs += [float(rng.randrange(-21600, 21600)) for _ in range(rng.randrange(0, 200))]
    rng.shuffle(diffs)
    assert estimate_offset(diffs) == brute_offset(diffs)
    assert estimate_offset([]) == (None, 0, 0.0)

