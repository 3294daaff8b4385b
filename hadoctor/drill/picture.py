"""The drill as a picture: the existing timeline drawing of the nodes' own logs over the drill's
window, with a lane for what the clients saw (the VIP's owner on ARP, ICMP, each service) under the
nodes' lanes.

Log times carry no time zone; the timeline reads them as they are written, so the probes' wall
clock is placed the same way (this host's local time; the nodes' clocks are assumed to agree with
it, as ``timeline`` itself reports when they do not).
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Dict, List

_CLIENT_COLORS = {"answered": "#2ca02c", "no answer": "#d62728", "refused": "#ff7f0e", "none": "#ff7f0e"}
_NODE_COLORS = ["#1f77b4", "#9467bd", "#8c564b", "#17becf"]


def _local_ts(epoch: float) -> float:
    from hadoctor.timeline.build import to_ts

    return to_ts(datetime.fromtimestamp(epoch))


def client_lane(report):
    """The observer's streams as a timeline lane (title, rows, state colours)."""
    colors: Dict[str, str] = dict(_CLIENT_COLORS)
    for i, node in enumerate(report.nodes):
        colors[node] = _NODE_COLORS[i % len(_NODE_COLORS)]
    rows: List = []
    for name in ["arp"] + sorted(k for k in report.clients if k != "arp"):
        spans = report.clients.get(name)
        if not spans:
            continue
        for _, _, state in spans:
            if state.startswith("two nodes"):
                colors[state] = "#d62728"
            colors.setdefault(state, "#d62728")
        label = f"VIP {report.vip} on" if name == "arp" else f"{name} on the VIP"
        rows.append((label, [(_local_ts(a), _local_ts(b), state, state) for a, b, state in spans]))
    return (f"clients (observer, every {100} ms)", rows, colors)


def render_picture(report, fmt: str = "svg") -> str:
    """SVG (or a self-contained HTML page holding it) of the drill; InputError when the nodes'
    logs say nothing the timeline recognises."""
    from hadoctor.timeline.build import build_timeline
    from hadoctor.report.timeline import render_svg

    with tempfile.TemporaryDirectory(prefix="hadoctor-drill-") as tmp:
        for node in report.nodes:
            d = Path(tmp) / node
            d.mkdir()
            (d / "uname-n.txt").write_text(node + "\n")
            for name, data in report.node_files.get(node, {}).items():
                (d / ("ha.cf" if name == "hacf" else name)).write_bytes(data)
            for where, log in report.logs.items():
                owner, _, path = where.partition(":")
                if owner == node:   # under the name ha.cf gives it, where the loader looks for it
                    (d / Path(path).name).write_text("\n".join(log) + "\n", encoding="utf-8",
                                                     errors="surrogateescape")
        tl = build_timeline(tmp)
        lane = client_lane(report)
        ends = [t for _, spans in lane[1] for a, b, _, _ in spans for t in (a, b)]
        if ends:   # the picture spans the probes too, not only the logs
            if tl.start is not None:
                tl.since = min(tl.start, min(ends))
            if tl.end is not None:
                tl.until = max(tl.end, max(ends))
        try:
            svg = render_svg(tl, [lane])
        finally:
            tl.close()
    if fmt == "html":
        import html

        return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>hadoctor drill {html.escape(report.kind)}"
                f"</title></head><body>{svg}</body></html>\n")
    return svg
