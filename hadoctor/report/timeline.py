"""Render a :class:`~hadoctor.timeline.build.Timeline`: rich text, JSON (``hadoctor-timeline/1``,
docs/timeline-json.md), and a self-contained SVG or HTML picture (no external resources)."""

from __future__ import annotations

import heapq
import html
import itertools
import json
import math
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, TextIO, Tuple

from hadoctor.timeline.build import Interval, Timeline, Window, from_ts
from hadoctor.timeline.events import SEVERITY
from hadoctor.timeline.pixels import MARKER_PX, Marker, MarkerBins, PixelRow, Run, Scale

SCHEMA = "hadoctor-timeline/1"
TEXT_LIMIT = 1000


def _iso(ts: Optional[float]) -> Optional[str]:
    return from_ts(ts).isoformat(timespec="seconds") if ts is not None else None


def _skew_lines(tl: Timeline) -> List[str]:
    out = []
    for n in tl.nodes:
        if n.problem:
            out.append(f"{n.name}: {n.problem}")
        elif n.name == tl.reference:
            out.append(f"{n.name}: reference clock")
        elif n.estimated is None:
            out.append(f"{n.name}: offset unknown (no event seen on both nodes); not corrected")
        else:
            applied = "corrected" if n.offset_s else ("not corrected (--no-skew-correction)" if not tl.corrected
                                                      and abs(n.estimated) >= 1.5 else "below 1.5 s, not corrected")
            out.append(f"{n.name}: clock {n.estimated:+.1f} s against {tl.reference} "
                       f"({n.offset_pairs} event pairs agree within {n.offset_spread_s:.1f} s); {applied}")
    return out


# -- JSON ----------------------------------------------------------------------------------------
def _interval(i: Interval) -> dict:
    return {"node": i.node, "subject": i.subject, "state": i.state, "start": _iso(i.start), "end": _iso(i.end),
            "seconds": round(i.seconds, 3), "end_reason": i.end_reason, "open": i.open}


def _window(w: Window) -> dict:
    return {"group": w.group, "nodes": w.nodes, "start": _iso(w.start), "end": _iso(w.end),
            "seconds": round(w.seconds, 3), "open": w.open}


def write_json(tl: Timeline, out: TextIO) -> None:
    """Stream the JSON document (events are written one by one: constant memory)."""
    head = {
        "schema": SCHEMA,
        "target": tl.target,
        "range": {"start": _iso(tl.start), "end": _iso(tl.end), "since": _iso(tl.since), "until": _iso(tl.until)},
        "skew": {"reference": tl.reference, "correction": tl.corrected, "notes": _skew_lines(tl)},
        "nodes": [{"name": n.name, "log_files": n.log_files, "events": n.events,
                   "first": _iso(n.first), "last": _iso(n.last),
                   "offset_s": round(n.offset_s, 3),
                   "estimated_offset_s": round(n.estimated, 3) if n.estimated is not None else None,
                   "offset_pairs": n.offset_pairs, "problem": n.problem or None} for n in tl.nodes],
        "notes": tl.notes,
    }
    text = json.dumps(head, indent=1)
    out.write(text[:-2] + ',\n "events": [')
    first = True
    for ts, ev in tl.events():
        out.write(("\n  " if first else ",\n  ") + json.dumps({
            "time": _iso(ts), "node_time": ev.time.isoformat(timespec="seconds"), "node": ev.node,
            "kind": ev.kind, "severity": SEVERITY.get(ev.kind, "info"), "subject": ev.subject,
            "detail": ev.detail, "file": ev.file, "line": ev.line}))
        first = False
    sections = (  # each item serialised on its own, so no section is ever held whole as text
        ("groups", ({"group": k, "resources": v} for k, v in sorted(tl.groups.items()))),
        ("running", (_interval(i) for i in tl.running)),
        ("links", (dict(_interval(i), observer=i.node, link=i.subject) for i in tl.links)),
        ("ownership", (dict(_interval(i), group=i.subject) for i in tl.ownership)),
        ("outages", (_window(w) for w in tl.outages)),
        ("overlaps", (_window(w) for w in tl.overlaps)),
    )
    out.write("\n ]")
    for name, items in sections:
        out.write(f",\n {json.dumps(name)}: [")
        first = True
        for item in items:
            out.write(("\n  " if first else ",\n  ") + json.dumps(item))
            first = False
        out.write("\n ]" if not first else "]")
    out.write("\n}\n")


# -- text ----------------------------------------------------------------------------------------
_STYLE = {"error": "bold red", "warn": "yellow", "info": ""}
_KIND_WIDTH = 18  # the longest event kind, emergency_shutdown


def _span(start: Optional[float], end: Optional[float]) -> str:
    """``2026-11-25 09:19:21 – 09:19:40``: the end's date only when it differs from the start's."""
    if start is None or end is None:
        return f"{_iso(start) or '?'} – {_iso(end) or '?'}"
    a, b = from_ts(start), from_ts(end)
    return f"{a:%Y-%m-%d %H:%M:%S} – " + (f"{b:%H:%M:%S}" if a.date() == b.date() else f"{b:%Y-%m-%d %H:%M:%S}")


def render_text(tl: Timeline, limit: int = TEXT_LIMIT) -> None:
    """One line per event (on a terminal: a line per day, then times of day; elsewhere full timestamps,
    so each line stands alone in grep), then ownership, outages and overlaps one line each."""
    from hadoctor.terminal import console, hang, padded, safe, visible, wraps

    con = console()
    by_day = wraps(con)
    node_width = min(16, max((len(visible(n.name)) for n in tl.nodes), default=4))
    hang(con, "[bold]Timeline of[/] ", f"[bold]{safe(tl.target)}[/]" + (
        f" (times on {safe(tl.reference)}'s clock)" if tl.reference and tl.corrected else ""), 2)
    shown = total = 0
    day = None
    for ts, ev in tl.events():
        total += 1
        if limit and shown >= limit:
            continue
        shown += 1
        when = from_ts(ts)
        if by_day and when.date() != day:
            day = when.date()
            con.print(f"[bold]{day.isoformat()}[/]")
        stamp = when.strftime("%H:%M:%S" if by_day else "%Y-%m-%d %H:%M:%S")
        style = _STYLE.get(SEVERITY.get(ev.kind, "info"), "")
        kind = f"[{style}]{ev.kind:<{_KIND_WIDTH}}[/]" if style else f"{ev.kind:<{_KIND_WIDTH}}"
        lead = f"{stamp}  {padded(ev.node, node_width)}  {kind} "
        body = "  ".join(safe(x) for x in (ev.subject, ev.detail) if x)
        where = f"{ev.file.rsplit('/', 1)[-1]}:{ev.line}"
        hang(con, lead, (body + "  " if body else "") + f"[dim]{safe(where)}[/]")
    if total > shown:
        hang(con, "", f"{total - shown} more events not shown (--limit 0 shows all; or narrow with --since/--until, "
                      "or use --format json)")
    con.print()
    for i, line in enumerate(_skew_lines(tl)):
        hang(con, "Clock skew: " if i == 0 else "            ", safe(line), 14)
    for note in tl.notes:
        hang(con, "[yellow]Note:[/] ", f"[yellow]{safe(note)}[/]")
    _text_rows(con, "Resource ownership", ((
        f"{_span(i.start, i.end)}{' (open)' if i.open and not i.end_reason else ''}  {i.seconds:.0f} s  {safe(i.node)} held "
        f"{safe(i.subject)}" + (f"; ended: {safe(i.end_reason)}" if i.end_reason else "")) for i in tl.ownership),
        limit)
    for title, windows, style in (("Outages (nobody held the group)", tl.outages, "yellow"),
                                  ("Overlaps (several nodes held the group: split brain)", tl.overlaps, "bold red")):
        _text_rows(con, title, ((
            f"{_span(w.start, w.end)}{' (still at end of log)' if w.open else ''}  {w.seconds:.0f} s  "
            f"{safe(w.group)}: {safe(', '.join(w.nodes) or '-')}") for w in windows), limit, style)


def _text_rows(con, title: str, rows: Iterable[str], limit: int, style: str = "") -> int:
    """Print ``title`` and at most ``limit`` rows (0: all), or "none", and how many more there are."""
    from hadoctor.terminal import hang

    con.print()
    total = 0
    for row in rows:
        total += 1
        if total == 1:
            con.print(f"[bold]{title}[/]")
        if not limit or total <= limit:
            hang(con, "  ", f"[{style}]{row}[/]" if style else row, 6)
    if not total:
        con.print(f"[bold]{title}[/]: none")
    if limit and total > limit:
        hang(con, "  ", f"{total - limit} more rows of {title.split(' (')[0].lower()} not shown (--limit 0 shows all, "
                        "or use --format json)", 4)
    return total


# -- SVG ---------------------------------------------------------------------------------------
WIDTH = 1400
LEFT = 170
RIGHT = 50  # room for the last time label
ROW = 14
_COLORS = {"error": "#d62728", "warn": "#ff7f0e", "info": "#1f77b4"}
_SEVERITY_ROWS = (("error", "errors"), ("warn", "warnings"), ("info", "info"))
_GROUP_COLORS = ["#9467bd", "#8c564b", "#17becf", "#bcbd22", "#e377c2", "#1f77b4"]  # not link green/red
_LINK_COLORS = {"up": "#2ca02c", "dead": "#d62728"}
_WINDOW_COLORS = {"outage": "#ff7f0e", "overlap": "#d62728"}
_RANKS = {"up": 0, "dead": 1, "outage": 0, "overlap": 1}  # the state a pixel column shows when it holds both


def _esc(text: str) -> str:
    """Text from the logs inside SVG/HTML: control characters visible (XML forbids them raw, and an
    undecodable byte could not even be written as UTF-8), then XML-escaped."""
    from hadoctor.terminal import visible

    return html.escape(visible(text), quote=True)


def _scale(tl: Timeline) -> Scale:
    start = tl.since if tl.since is not None else tl.start
    end = tl.until if tl.until is not None else tl.end
    if start is None or end is None:
        start = end = 0.0
    if end <= start:
        end = start + 1.0
    return Scale(start, end, WIDTH - LEFT - RIGHT)


def _run_title(label: str, run: Run) -> str:
    when = f"{_iso(run.t0)} .. {_iso(run.t1)}"
    if run.spans <= 1:
        return f"{label} {run.state} {when} ({run.t1 - run.t0:.0f} s)" + (f"; {run.reason}" if run.reason else "")
    tally = ", ".join(f"{state} ×{int(n)} ({secs:.0f} s)" for state, (n, secs) in sorted(run.tally.items()))
    return f"{label} {when}: {run.spans} spans merged at this zoom" + (f"; beginning here: {tally}" if tally else "")


_Key = Tuple[str, str]  # a row: (node, or "" for the cluster rows; "heartbeat", "link <link>" or "group <group>")


def _row_bars(tl: Timeline, scale: Scale, gcolor: Dict[str, str]) -> Dict[_Key, str]:
    """Every row's bars (SVG, y relative to the row), merged per pixel column. Each section is read
    once in its sort order, so only the rows of one node, link or group are being merged at a time."""
    def span(i: Interval) -> Tuple[float, float, str, str]:
        return i.start, i.end, i.state, f"ended: {i.end_reason}"

    def window(w: Window) -> Tuple[float, float, str, str]:
        return w.start, w.end, w.kind, "held by " + ", ".join(w.nodes) if w.nodes else ""

    windows = heapq.merge(tl.outages, tl.overlaps, key=lambda w: (w.group, w.start))
    plan = (
        (tl.running, lambda i: i.node, lambda i: (i.node, "heartbeat"), span),
        (tl.links, lambda i: (i.node, i.subject), lambda i: (i.node, "link " + i.subject), span),
        (tl.ownership, lambda i: i.subject, lambda i: (i.node, "group " + i.subject), span),
        (windows, lambda w: w.group, lambda w: ("", "group " + w.group), window),
    )
    out: Dict[_Key, str] = {}
    for items, chunk_key, row_key, fields in plan:
        for _, chunk in itertools.groupby(items, key=chunk_key):
            rows: Dict[_Key, PixelRow] = {}
            for item in chunk:
                key = row_key(item)
                if key not in rows:
                    rows[key] = PixelRow(scale, _RANKS)
                rows[key].add(*fields(item))
            for key, row in rows.items():
                out[key] = _bar_rects(row.runs(), *_row_style(key, gcolor))
    return out


def _row_style(key: _Key, gcolor: Dict[str, str]) -> Tuple[Callable[[str], str], str, str]:
    """(colour of a state, tooltip label, opacity) of a row."""
    node, name = key
    kind, _, subject = name.partition(" ")
    if kind == "heartbeat":
        return (lambda state: "#7f7f7f"), f"heartbeat on {node}", "0.6"
    if kind == "link":
        return (lambda state: _LINK_COLORS.get(state, "#7f7f7f")), f"{node} sees link {subject}", "1"
    if not node:
        return (lambda state: _WINDOW_COLORS.get(state, "#7f7f7f")), subject, "1"
    return (lambda state: gcolor.get(subject, _GROUP_COLORS[0])), f"{node}: {subject}", "1"


def _bar_rects(runs: Iterator[Run], color: Callable[[str], str], label: str, opacity: str) -> str:
    return "".join(f'<rect class="span" x="{LEFT + run.col0}" y="2" width="{run.width}" height="{ROW - 4}" '
                   f'fill="{color(run.state)}" fill-opacity="{opacity}"><title>{_esc(_run_title(label, run))}'
                   f'</title></rect>' for run in runs)


def _markers(tl: Timeline, scale: Scale) -> Dict[Tuple[str, str], str]:
    """Event markers (SVG, y relative to the row) per (node, severity), one pass over the events."""
    out: Dict[Tuple[str, str], List[str]] = {}

    def emit(node: str, severity: str, m: Marker) -> None:
        out.setdefault((node, severity), []).append(_marker_rect(m, severity))

    bins = MarkerBins(scale, emit)
    for ts, ev in tl.events():
        bins.add(ev.node, SEVERITY.get(ev.kind, "info"), ts, ev.kind,
                 f"{_iso(ts)} {ev.kind} {ev.subject} {ev.detail}".strip())
    bins.close()
    return {key: "".join(rects) for key, rects in out.items()}


def _marker_rect(m: Marker, severity: str) -> str:
    """A bar whose height grows with the log of the count: 1 event 3 px, 10 6 px, 100 9 px, 1000+ the row."""
    h = 3 + (ROW - 5) * min(1.0, math.log10(m.count) / 3)
    kinds = ", ".join(f"{k}×{c}" for k, c in m.kinds.most_common(6))
    more = f", {len(m.kinds) - 6} more kinds" if len(m.kinds) > 6 else ""
    title = m.first if m.count == 1 else f"{m.count} events {_iso(m.t0)} .. {_iso(m.t1)}: {kinds}{more}"
    return (f'<rect class="ev" data-n="{m.count}" x="{LEFT + m.col}" y="{ROW - 1 - h:.1f}" width="{MARKER_PX}" '
            f'height="{h:.1f}" fill="{_COLORS[severity]}"><title>{_esc(title)}</title></rect>')


class _Svg:
    """The picture's elements, top to bottom."""

    def __init__(self) -> None:
        self.parts: List[str] = []

    def label(self, y: float, text: str, indent: int = 20, bold: bool = False) -> None:
        weight = ' font-weight="bold"' if bold else ""
        short = text if len(text) <= 26 else text[:25] + "…"
        self.parts.append(f'<text x="{indent}" y="{y + 10}"{weight}>{_esc(short)}<title>{_esc(text)}</title></text>')

    def row(self, content: Optional[str], y: float) -> None:
        """A row's bars or markers (drawn relative to the row) placed at ``y``."""
        if content:
            self.parts.append(f'<g transform="translate(0,{y})">{content}</g>')


def _lane(svg: _Svg, info, y0: float, links: List[str], groups: List[str], bars: Dict[_Key, str],
          markers: Dict[Tuple[str, str], str]) -> None:
    """One node's lane: heartbeat running, each link it sees, each group it held, its events by severity."""
    name, parts = info.name, svg.parts
    rows_h = (2 + len(links) + len(groups) + len(_SEVERITY_ROWS)) * ROW
    parts.append(f'<g class="lane" data-node="{_esc(name)}">')
    parts.append(f'<rect x="2" y="{y0 - 4}" width="{WIDTH - 4}" height="{rows_h + 8}" fill="#f7f7f7" '
                 f'stroke="#cccccc"/>')
    skew = f" (clock {info.offset_s:+.1f} s corrected)" if info.offset_s else ""
    parts.append(f'<text x="6" y="{y0 + 8}" font-weight="bold">{_esc(name)}{_esc(skew)}</text>')
    rows = [("heartbeat", bars.get((name, "heartbeat")))]
    rows += [(f"link {link}", bars.get((name, "link " + link))) for link in links]
    rows += [(g, bars.get((name, "group " + g))) for g in groups]
    rows += [(title, markers.get((name, severity))) for severity, title in _SEVERITY_ROWS]
    for n, (label, content) in enumerate(rows, 1):
        svg.label(y0 + n * ROW, label)
        svg.row(content, y0 + n * ROW)
    parts.append('</g>')


#: A lane drawn under the nodes' by another command (the drill's client probes): a title and its rows,
#: each row a label and (start, end, state, tooltip) spans, with the colour of each state.
ExtraLane = Tuple[str, List[Tuple[str, List[Tuple[float, float, str, str]]]], Dict[str, str]]


def _extra_lane(svg: _Svg, lane: ExtraLane, y0: float, scale: Scale) -> None:
    title, rows, colors = lane
    parts = svg.parts
    parts.append(f'<g class="lane extra" data-title="{_esc(title)}">')
    parts.append(f'<rect x="2" y="{y0 - 4}" width="{WIDTH - 4}" height="{(1 + len(rows)) * ROW + 8}" '
                 f'fill="#f2f6fb" stroke="#cccccc"/>')
    parts.append(f'<text x="6" y="{y0 + 8}" font-weight="bold">{_esc(title)}</text>')
    ranks = {state: (0 if state == "answered" else 1) for state in colors}
    for n, (label, spans) in enumerate(rows, 1):
        row = PixelRow(scale, ranks)
        for start, end, state, why in spans:
            row.add(start, end, state, why)
        svg.label(y0 + n * ROW, label)
        svg.row(_bar_rects(row.runs(), lambda state: colors.get(state, "#7f7f7f"), label, "1"), y0 + n * ROW)
    parts.append('</g>')


def render_svg(tl: Timeline, extra_lanes: Sequence[ExtraLane] = ()) -> str:
    """The picture: one lane per node (heartbeat running, each link's state, each group held, events by
    severity), then ``extra_lanes``, then the cluster's outages and overlaps per group. Spans and
    markers are merged per pixel column, so the size is bounded by the width and the number of rows,
    not by the log."""
    scale = _scale(tl)
    groups = sorted(tl.groups)
    gcolor = {g: _GROUP_COLORS[n % len(_GROUP_COLORS)] for n, g in enumerate(groups)}
    bars = _row_bars(tl, scale, gcolor)
    markers = _markers(tl, scale)
    lanes = []
    y = 40
    for info in tl.nodes:
        links = tl.link_subjects.get(info.name, [])
        lanes.append((info, y, links))
        y += (2 + len(links) + len(groups) + len(_SEVERITY_ROWS)) * ROW + 12
    extra_y = []
    for lane in extra_lanes:
        extra_y.append(y)
        y += (2 + len(lane[1])) * ROW + 12
    cluster_y = y + 4
    height = cluster_y + (1 + len(groups)) * ROW + 44
    svg = _Svg()
    parts = svg.parts
    parts.append(f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
                 f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="10">')
    parts.append(f'<title>hadoctor timeline of {_esc(tl.target)}</title>')
    parts.append(f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>')
    for k in range(11):  # axis
        ts = scale.start + (scale.end - scale.start) * k / 10
        xx = LEFT + scale.x(ts)
        parts.append(f'<line x1="{xx:.1f}" y1="24" x2="{xx:.1f}" y2="{height - 30}" stroke="#eeeeee"/>')
        parts.append(f'<text x="{xx:.1f}" y="18" text-anchor="middle">{from_ts(ts):%m-%d %H:%M:%S}</text>')
    for info, y0, links in lanes:
        _lane(svg, info, y0, links, groups, bars, markers)
    for lane, y0 in zip(extra_lanes, extra_y):
        _extra_lane(svg, lane, y0, scale)
    svg.label(cluster_y, "cluster", indent=6, bold=True)
    for n, g in enumerate(groups, 1):
        row = cluster_y + n * ROW
        svg.label(row, g)
        svg.row(bars.get(("", "group " + g)), row)
    parts.append(f'<text x="{LEFT}" y="{height - 26}">cluster rows: outage, nobody held the group (orange); '
                 f'overlap, several nodes held it: split brain (red). Links up (green) / dead (red). Bars and '
                 f'markers are merged per pixel column; hover for details.</text>')
    notes = _skew_lines(tl) + tl.notes
    parts.append(f'<text x="{LEFT}" y="{height - 12}">{_esc("; ".join(notes))}</text>')
    parts.append('</svg>')
    return "\n".join(parts)


def _capped_rows(items: Iterable, limit: int, cells: Callable[..., List[str]], width: int) -> str:
    out, total = [], 0
    for item in items:
        total += 1
        if total <= limit:
            out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells(item)) + "</tr>")
    if total > limit:
        out.append(f'<tr><td colspan="{width}">{total - limit} more not shown (hadoctor timeline --format json '
                   f'lists them all)</td></tr>')
    return "".join(out)


def _ownership_cells(i: Interval) -> List[str]:
    return [_esc(i.subject), _esc(i.node), _iso(i.start), f"{_iso(i.end)}{' (open)' if i.open else ''}",
            _esc(i.end_reason)]


def _window_cells(w: Window) -> List[str]:
    return [w.kind, _esc(w.group), _esc(", ".join(w.nodes) or "-"), _iso(w.start), _iso(w.end), f"{w.seconds:.0f}"]


def render_html(tl: Timeline, limit: int = TEXT_LIMIT) -> str:
    """The SVG plus the ownership and window tables (at most ``limit`` rows each, then a count)."""
    svg = render_svg(tl)
    rows = _capped_rows(tl.ownership, limit, _ownership_cells, 5)
    win = _capped_rows(itertools.chain(tl.outages, tl.overlaps), limit, _window_cells, 6)
    skew = "".join(f"<li>{_esc(line)}</li>" for line in _skew_lines(tl) + tl.notes)
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>hadoctor timeline</title>"
            "<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:2px 6px}</style></head><body>"
            f"<h1>Timeline of {_esc(tl.target)}</h1><ul>{skew}</ul>{svg}"
            "<h2>Resource ownership</h2><table><tr><th>group</th><th>node</th><th>from</th><th>to</th>"
            f"<th>how it ended</th></tr>{rows}</table>"
            "<h2>Outages and overlaps</h2><table><tr><th>kind</th><th>group</th><th>nodes</th><th>from</th>"
            f"<th>to</th><th>seconds</th></tr>{win}</table></body></html>\n")
