"""Render a :class:`~hadoctor.timeline.build.Timeline`: rich text, JSON (``hadoctor-timeline/1``,
docs/timeline-json.md), and a self-contained SVG or HTML picture (no external resources)."""

from __future__ import annotations

import html
import json
from collections import Counter
from typing import Dict, List, Optional, TextIO, Tuple

from hadoctor.timeline.build import Interval, Timeline, Window, from_ts
from hadoctor.timeline.events import SEVERITY

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


def render_text(tl: Timeline, limit: int = TEXT_LIMIT) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"Timeline of {tl.target}", show_lines=False)
    for col in ("time", "node", "event", "subject", "detail", "where"):
        table.add_column(col, overflow="fold")
    shown = total = 0
    for ts, ev in tl.events():
        total += 1
        if limit and shown >= limit:
            continue
        shown += 1
        table.add_row(from_ts(ts).strftime("%Y-%m-%d %H:%M:%S"), ev.node, ev.kind, ev.subject, ev.detail,
                      f"{ev.file.rsplit('/', 1)[-1]}:{ev.line}", style=_STYLE.get(SEVERITY.get(ev.kind, "info")))
    console.print(table)
    if total > shown:
        console.print(f"{total - shown} more events not shown (--limit 0 shows all; or narrow with --since/--until, "
                      "or use --format json)")
    console.print("Clock skew: " + "; ".join(_skew_lines(tl)))
    own = Table(title="Resource ownership")
    for col in ("group", "node", "from", "to", "seconds", "how it ended"):
        own.add_column(col, overflow="fold")
    for i in tl.ownership:
        own.add_row(i.subject, i.node, _iso(i.start), _iso(i.end) + (" (open)" if i.open else ""),
                    f"{i.seconds:.0f}", i.end_reason)
    console.print(own)
    for title, windows, style in (("Outages (nobody held the group)", tl.outages, "yellow"),
                                  ("Overlaps (several nodes held the group: split brain)", tl.overlaps, "bold red")):
        if not windows:
            console.print(f"{title}: none")
            continue
        t = Table(title=title)
        for col in ("group", "nodes", "from", "to", "seconds"):
            t.add_column(col)
        for w in windows:
            t.add_row(w.group, ", ".join(w.nodes) or "-", _iso(w.start),
                      _iso(w.end) + (" (still at end of log)" if w.open else ""), f"{w.seconds:.0f}", style=style)
        console.print(t)


# -- SVG -----------------------------------------------------------------------------------------
WIDTH = 1400
LEFT = 170
RIGHT = 20
ROW = 14
_COLORS = {"error": "#d62728", "warn": "#ff7f0e", "info": "#1f77b4"}
_GROUP_COLORS = ["#2ca02c", "#9467bd", "#8c564b", "#17becf", "#bcbd22", "#e377c2"]


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def render_svg(tl: Timeline) -> str:
    start = tl.since if tl.since is not None else tl.start
    end = tl.until if tl.until is not None else tl.end
    if start is None or end is None:
        start = end = 0.0
    if end <= start:
        end = start + 1.0
    plot_w = WIDTH - LEFT - RIGHT

    def x(ts: float) -> float:
        return LEFT + (min(max(ts, start), end) - start) / (end - start) * plot_w

    # event markers aggregated per node and pixel column (constant size however many events)
    bins: Dict[Tuple[str, int], list] = {}
    for ts, ev in tl.events():
        col = int(x(ts))
        b = bins.get((ev.node, col))
        if b is None:
            b = bins[(ev.node, col)] = [0, Counter(), ts, ts, f"{ev.kind} {ev.subject} {ev.detail}".strip(), "info"]
        b[0] += 1
        b[1][ev.kind] += 1
        b[3] = ts
        sev = SEVERITY.get(ev.kind, "info")
        if sev == "error" or (sev == "warn" and b[5] == "info"):
            b[5] = sev

    groups = sorted({i.subject for i in tl.ownership})
    gcolor = {g: _GROUP_COLORS[n % len(_GROUP_COLORS)] for n, g in enumerate(groups)}
    parts: List[str] = []
    y = 40
    lanes = []
    for info in tl.nodes:
        links = sorted({i.subject for i in tl.links if i.node == info.name})
        rows = 1 + len(links) + len(groups) + 1  # heartbeat, links, groups, events
        lanes.append((info.name, y, links))
        y += rows * ROW + 26
    cluster_y = y
    height = cluster_y + 2 * ROW + 40
    parts.append(f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
                 f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="10">')
    parts.append(f'<title>hadoctor timeline of {_esc(tl.target)}</title>')
    parts.append(f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>')
    # axis
    ticks = 10
    for k in range(ticks + 1):
        ts = start + (end - start) * k / ticks
        xx = x(ts)
        parts.append(f'<line x1="{xx:.1f}" y1="24" x2="{xx:.1f}" y2="{height - 30}" stroke="#eeeeee"/>')
        parts.append(f'<text x="{xx:.1f}" y="18" text-anchor="middle">{from_ts(ts):%m-%d %H:%M:%S}</text>')

    def bar(x0: float, x1: float, yy: float, color: str, title: str, opacity: str = "1") -> None:
        w = max(1.0, x1 - x0)
        parts.append(f'<rect x="{x0:.1f}" y="{yy + 2}" width="{w:.1f}" height="{ROW - 4}" fill="{color}" '
                     f'fill-opacity="{opacity}"><title>{_esc(title)}</title></rect>')

    def span_title(i: Interval, what: str) -> str:
        return f"{what}: {_iso(i.start)} .. {_iso(i.end)} ({i.seconds:.0f} s) {i.end_reason}"

    for name, y0, links in lanes:
        info = next(n for n in tl.nodes if n.name == name)
        lane_h = (2 + len(links) + len(groups)) * ROW + 8
        parts.append(f'<g class="lane" data-node="{_esc(name)}">')
        parts.append(f'<rect x="2" y="{y0 - 4}" width="{WIDTH - 4}" height="{lane_h}" fill="#f7f7f7" '
                     f'stroke="#cccccc"/>')
        skew = f" (clock {info.offset_s:+.1f} s corrected)" if info.offset_s else ""
        parts.append(f'<text x="6" y="{y0 + 8}" font-weight="bold">{_esc(name)}{_esc(skew)}</text>')
        row = y0
        parts.append(f'<text x="20" y="{row + ROW + 8}">heartbeat</text>')
        row += ROW
        for i in tl.running:
            if i.node == name:
                bar(x(i.start), x(i.end), row, "#7f7f7f", span_title(i, f"heartbeat running on {name}"), "0.6")
        for link in links:
            row += ROW
            parts.append(f'<text x="20" y="{row + 10}">link {_esc(link)}</text>')
            last_x = -1.0
            for i in tl.links:
                if i.node == name and i.subject == link:
                    x0, x1 = x(i.start), x(i.end)
                    if x1 < last_x + 1 and i.state == "up":
                        continue  # sub-pixel flaps: the dead spans stay visible
                    bar(x0, x1, row, "#2ca02c" if i.state == "up" else "#d62728",
                        span_title(i, f"{name} sees link {link} {i.state}"))
                    last_x = x1
        for g in groups:
            row += ROW
            parts.append(f'<text x="20" y="{row + 10}">{_esc(g[:26])}<title>{_esc(g)}</title></text>')
            for i in tl.ownership:
                if i.node == name and i.subject == g:
                    bar(x(i.start), x(i.end), row, gcolor[g], span_title(i, f"{name} holds {g}"))
        row += ROW
        parts.append(f'<text x="20" y="{row + 10}">events</text>')
        for (node, col), (count, kinds, t0, t1, first, sev) in sorted(bins.items()):
            if node != name:
                continue
            summary = ", ".join(f"{k}×{c}" for k, c in kinds.most_common(6))
            title = (f"{_iso(t0)}: {first}" if count == 1 else
                     f"{count} events {_iso(t0)} .. {_iso(t1)}: {summary}")
            r = 3 if count == 1 else min(6, 3 + len(str(count)))
            parts.append(f'<circle cx="{col + 0.5}" cy="{row + ROW / 2}" r="{r}" fill="{_COLORS[sev]}" '
                         f'fill-opacity="0.8"><title>{_esc(title)}</title></circle>')
        parts.append('</g>')
    parts.append(f'<text x="6" y="{cluster_y + 10}" font-weight="bold">cluster</text>')
    for w in tl.outages:
        bar(x(w.start), x(w.end), cluster_y, "#ff7f0e", f"outage of {w.group}: nobody held it "
            f"{_iso(w.start)} .. {_iso(w.end)} ({w.seconds:.0f} s)")
    for w in tl.overlaps:
        bar(x(w.start), x(w.end), cluster_y + ROW, "#d62728", f"split brain on {w.group}: {', '.join(w.nodes)} "
            f"all held it {_iso(w.start)} .. {_iso(w.end)} ({w.seconds:.0f} s)")
    parts.append(f'<text x="{LEFT}" y="{height - 12}">outages (orange) and overlaps / split brain (red); '
                 f'hover for details. {_esc("; ".join(_skew_lines(tl)))}</text>')
    parts.append('</svg>')
    return "\n".join(parts)


def render_html(tl: Timeline) -> str:
    svg = render_svg(tl)
    rows = "".join(f"<tr><td>{_esc(i.subject)}</td><td>{_esc(i.node)}</td><td>{_iso(i.start)}</td>"
                   f"<td>{_iso(i.end)}{' (open)' if i.open else ''}</td><td>{_esc(i.end_reason)}</td></tr>"
                   for i in tl.ownership)
    win = "".join(f"<tr><td>{w.kind}</td><td>{_esc(w.group)}</td><td>{_esc(', '.join(w.nodes) or '-')}</td>"
                  f"<td>{_iso(w.start)}</td><td>{_iso(w.end)}</td><td>{w.seconds:.0f}</td></tr>"
                  for w in tl.outages + tl.overlaps)
    skew = "".join(f"<li>{_esc(line)}</li>" for line in _skew_lines(tl))
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>hadoctor timeline</title>"
            "<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:2px 6px}</style></head><body>"
            f"<h1>Timeline of {_esc(tl.target)}</h1><ul>{skew}</ul>{svg}"
            "<h2>Resource ownership</h2><table><tr><th>group</th><th>node</th><th>from</th><th>to</th>"
            f"<th>how it ended</th></tr>{rows}</table>"
            "<h2>Outages and overlaps</h2><table><tr><th>kind</th><th>group</th><th>nodes</th><th>from</th>"
            f"<th>to</th><th>seconds</th></tr>{win}</table></body></html>\n")
