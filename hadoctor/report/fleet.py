"""The fleet summary: one row per cluster on the terminal, and the fleet JSON (schema hadoctor-fleet/1)."""

from __future__ import annotations

import json
import time
from typing import IO, List, Optional

from hadoctor import __version__
from hadoctor.report.result import ClusterResult, one_line

SCHEMA = "hadoctor-fleet/1"
_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan", "incomplete": "magenta",
          "unreadable": "bold magenta", "ok": "green"}


def worst_first(results: List[ClusterResult]) -> List[ClusterResult]:
    return sorted(results, key=lambda r: (-r.rank(), r.name))


def verdict(r: ClusterResult) -> str:
    """error, warning, incomplete, info, ok, or unreadable (the member could not be read)."""
    if r.error:
        return "unreadable"
    worst = r.worst()
    if worst in ("error", "warning"):
        return worst
    if r.incomplete:
        return "incomplete"
    return worst or "ok"


def codes(r: ClusterResult) -> List[str]:
    return sorted({f.code for f in r.counted})


def age(data_time: Optional[float], now: float) -> str:
    """``45s``, ``12m``, ``5h``, ``3d``; ``-`` when unknown."""
    if data_time is None:
        return "-"
    seconds = max(0, int(now - data_time))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def render_fleet_table(results: List[ClusterResult], console, *, exit_code: int, now: Optional[float] = None) -> None:
    from rich.table import Table
    from rich.text import Text

    now = time.time() if now is None else now
    table = Table(title=f"hadoctor fleet: {len(results)} clusters", title_justify="left")
    for col in ("cluster", "nodes", "worst", "codes", "age"):
        table.add_column(col, overflow="fold")
    for r in worst_first(results):
        v = verdict(r)
        what = ", ".join(codes(r)) if not r.error else r.error
        table.add_row(Text(one_line(r.name)), Text(one_line(", ".join(r.nodes) or "-")),
                      Text(v, style=_STYLE[v]), Text(one_line(what) or "-"), age(r.data_time, now))
    console.print(table)
    counts = {v: sum(1 for r in results if verdict(r) == v) for v in _STYLE}
    summary = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    console.print(Text(f"{summary}; exit {exit_code}"))


def write_fleet_json(results: List[ClusterResult], exit_code: int, out: IO[str]) -> None:
    doc = {
        "schema": SCHEMA, "hadoctor": __version__, "exit_code": exit_code,
        "clusters": [{
            "name": r.name, "target": r.target, "verdict": verdict(r), "nodes": r.nodes, "exit_code": r.exit_code,
            "error": r.error, "incomplete": r.incomplete, "notes": r.notes, "rules": r.rules,
            "seconds": round(r.seconds, 3), "data_time": r.data_time,
            "counts": {s: r.count(s) for s in ("error", "warning", "info")}, "codes": codes(r),
            "findings": [f.to_dict() for f in r.findings],
        } for r in worst_first(results)],
    }
    json.dump(doc, out, indent=2, default=str)
    out.write("\n")
