"""A drill report as text for people (plain lines, no markup, fits 80 columns) or JSON.

>>> from hadoctor.drill.driver import Report
>>> print(render_text(Report("switchover", vip="10.0.0.100", owner_before="a", restored=True)))
hadoctor drill switchover: VIP 10.0.0.100, held by a
result: restored (a holds 10.0.0.100, heartbeat runs on every node)
"""

from __future__ import annotations

import json
import textwrap
from typing import List, Optional

from hadoctor.drill.analysis import Phase

LOG_LINES_SHOWN = 40


def _visible(text: str) -> str:
    """Data from nodes (log lines, names) with control characters made visible."""
    return "".join(ch if ch == "\t" or (ch >= " " and ch != "\x7f" and not 0x80 <= ord(ch) < 0xA0)
                   else f"\\x{ord(ch):02x}" for ch in text)


def _phase_lines(p: Phase) -> List[str]:
    out = [f"{p.name}: {_visible(p.action)} ({p.ended - p.started:.1f} s observed)"]
    m = p.vip
    if m is not None:
        moved = f"{', '.join(m.before) or 'none'} -> {', '.join(m.after) or 'none'}"
        gone = (f"old holder silent at {m.old_gone_at:.1f} s" if m.old_gone_at is not None
                else "old holder kept answering")
        new = f"new holder at {m.new_at:.1f} s" if m.new_at is not None else "no new holder"
        out.append(f"  VIP      {_visible(moved)}: {gone}, {new}")
        out.append(f"           on two nodes {m.two_nodes_s:.1f} s, on none {m.no_node_s:.1f} s")
        if m.announcements:
            by: dict = {}
            for t, node in m.announcements:
                by.setdefault(node, []).append(t)
            out.append("           gratuitous ARPs: " + "; ".join(
                f"{_visible(n)} x{len(ts)} from {min(ts):.1f} s" for n, ts in by.items()))
    for s in p.services:
        if not s.answered_before:
            out.append(f"  {s.stream:<8} did not answer before this phase")
        elif not s.recovered:
            out.append(f"  {s.stream:<8} down from {s.down_at:.1f} s, never back")
        elif s.outage_s:
            out.append(f"  {s.stream:<8} outage {s.outage_s:.1f} s (down {s.down_at:.1f} s, back {s.back_at:.1f} s)")
        else:
            out.append(f"  {s.stream:<8} answered throughout")
    for v in p.verdicts:
        out.append(f"  {v.severity:<8} {_visible(v.text)}")
    return out


def _wrap(lines: List[str], width: Optional[int]) -> List[str]:
    """On a terminal, long lines wrap at its width with a hanging indent under the text; in a pipe
    or a file nothing is wrapped (grep and mail readers do better with whole lines)."""
    if not width:
        return lines
    out: List[str] = []
    for line in lines:
        if len(line) <= width:
            out.append(line)
            continue
        body = line.lstrip(" ")
        lead = len(line) - len(body)
        head = body.split(" ", 1)[0] if lead == 2 and body.split(" ", 1)[0] in (
            "error", "warning", "info") else ""
        hang = lead + (9 if head else 2)
        out.extend(textwrap.wrap(line, width, initial_indent="", subsequent_indent=" " * hang,
                                 break_long_words=False, break_on_hyphens=False, drop_whitespace=True)
                   or [line])
    return out


def render_text(report, width: Optional[int] = None) -> str:
    lines = [f"hadoctor drill {report.kind}: VIP {report.vip or '?'}, held by {_visible(report.owner_before or '?')}"]
    if report.recovered_from:
        doc = report.recovered_from
        lines.append(f"recovering an interrupted drill: {_visible(str(doc.get('kind', '?')))} run "
                     f"{_visible(str(doc.get('run', '?')))} from {_visible(str(doc.get('host', '?')))}, "
                     f"state {_visible(str(doc.get('state', '?')))}")
    if report.deadtime_s:
        lines.append(f"  ha.cf: deadtime {report.deadtime_s:g} s, keepalive {report.keepalive_s:g} s")
    for w in report.warnings:
        lines.append(f"  warning  {_visible(w)}")
    for p in report.phases:
        lines.append("")
        lines.extend(_phase_lines(p))
    if report.phases:
        lines.append("")
    if report.restored:
        lines.append(f"result: restored ({_visible(report.owner_before)} holds {report.vip}, heartbeat runs on "
                     "every node)")
    else:
        lines.append("result: NOT restored; the drill lock stays on the nodes until `hadoctor drill --recover`:")
        lines.extend(f"  {_visible(x)}" for x in report.restore_problems)
    for where, log in report.logs.items():
        lines.append("")
        lines.append(f"{_visible(where)}: {len(log)} lines logged during the drill")
        shown = log[-LOG_LINES_SHOWN:]
        if len(log) > len(shown):
            lines.append(f"  ... {len(log) - len(shown)} earlier lines (--format json has them all)")
        lines.extend(f"  {_visible(x)}" for x in shown)
    return "\n".join(_wrap(lines, width))


def render_json(report) -> str:
    return json.dumps(report.to_dict(), indent=2, sort_keys=False)
