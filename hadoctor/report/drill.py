"""A drill report for people (text: plain lines, wrapped under their text on a terminal, whole in a
pipe, data from the nodes with control characters visible) or for programs (JSON).

>>> from io import StringIO
>>> from hadoctor.drill.driver import Report
>>> out = StringIO()
>>> render(Report("switchover", vip="10.0.0.100", owner_before="a", restored=True), "text",
...        console(file=out, terminal=False))
>>> print(out.getvalue().strip())
hadoctor drill switchover: VIP 10.0.0.100, held by a
result: restored (a holds 10.0.0.100, heartbeat runs on every node)
"""

from __future__ import annotations

import json
import sys
from typing import List, Tuple

from hadoctor.terminal import console, hang, visible

LOG_LINES_SHOWN = 40
Line = Tuple[str, str]          # (lead, body): continuation lines hang under the body


def _phase_lines(p) -> List[Line]:
    out: List[Line] = [("", f"{p.name}: {visible(p.action)} ({p.ended - p.started:.1f} s observed)")]
    m = p.vip
    if m is not None:
        moved = f"{', '.join(m.before) or 'none'} -> {', '.join(m.after) or 'none'}"
        gone = (f"old holder silent at {m.old_gone_at:.1f} s" if m.old_gone_at is not None
                else "old holder kept answering")
        new = f"new holder at {m.new_at:.1f} s" if m.new_at is not None else "no new holder"
        out.append(("  VIP      ", f"{visible(moved)}: {gone}, {new}; on two nodes {m.two_nodes_s:.1f} s, "
                                   f"on none {m.no_node_s:.1f} s"))
        if m.announcements:
            by: dict = {}
            for t, node in m.announcements:
                by.setdefault(node, []).append(t)
            out.append(("           ", "gratuitous ARPs: " + "; ".join(
                f"{visible(n)} x{len(ts)} from {min(ts):.1f} s" for n, ts in by.items())))
    for s in p.services:
        lead = f"  {s.stream:<8} "
        if not s.answered_before:
            out.append((lead, "did not answer before this phase"))
        elif not s.recovered:
            out.append((lead, f"down from {s.down_at:.1f} s, never back"))
        elif s.outage_s:
            out.append((lead, f"outage {s.outage_s:.1f} s (down {s.down_at:.1f} s, back {s.back_at:.1f} s)"))
        else:
            out.append((lead, "answered throughout"))
    for v in p.verdicts:
        out.append((f"  {v.severity:<8} ", visible(v.text)))
    return out


def text_lines(report) -> List[Line]:
    lines: List[Line] = [("", f"hadoctor drill {report.kind}: VIP {report.vip or '?'}, held by "
                              f"{visible(report.owner_before or '?')}")]
    if report.recovered_from:
        doc = report.recovered_from
        lines.append(("", f"recovering an interrupted drill: {visible(doc.get('kind', '?'))} run "
                          f"{visible(doc.get('run', '?'))} from {visible(doc.get('host', '?'))}, "
                          f"state {visible(doc.get('state', '?'))}"))
    if report.deadtime_s:
        lines.append(("  ", f"ha.cf: deadtime {report.deadtime_s:g} s, keepalive {report.keepalive_s:g} s"))
    for w in report.warnings:
        lines.append(("  warning  ", visible(w)))
    for p in report.phases:
        lines.append(("", ""))
        lines.extend(_phase_lines(p))
    if report.phases:
        lines.append(("", ""))
    if report.restored:
        lines.append(("", f"result: restored ({visible(report.owner_before)} holds {report.vip}, heartbeat runs "
                          "on every node)"))
    else:
        lines.append(("", "result: NOT restored; the drill lock stays on the nodes until "
                          "`hadoctor drill --recover`:"))
        lines.extend(("  ", visible(x)) for x in report.restore_problems)
    for where, log in report.logs.items():
        lines.append(("", ""))
        lines.append(("", f"{visible(where)}: {len(log)} lines logged during the drill"))
        shown = log[-LOG_LINES_SHOWN:]
        if len(log) > len(shown):
            lines.append(("  ", f"... {len(log) - len(shown)} earlier lines (--format json has them all)"))
        lines.extend(("  ", visible(x)) for x in shown)
    return lines


def render(report, fmt: str = "text", con=None) -> None:
    """Write the report to stdout (or ``con``)."""
    if fmt == "json":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
        return
    from rich.text import Text

    con = con or console()
    for lead, body in text_lines(report):
        hang(con, Text(lead), Text(body))
