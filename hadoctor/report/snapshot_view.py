"""Showing a snapshot or one parsed file, for people (rich, on stdout) or machines (JSON)."""

from __future__ import annotations

import json
import sys
from typing import Any, List

from hadoctor.snapshot.model import ClusterSnapshot, NodeSnapshot


def _jsonable(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, (str, int, float, bool, list, dict)):
        return value
    return str(value)


def snapshot_to_dict(cluster: ClusterSnapshot) -> dict:
    return {
        "target": cluster.target,
        "context": cluster.context,
        "notes": cluster.notes,
        "nodes": [
            {
                "name": node.name,
                "origin": node.origin,
                "notes": node.notes,
                "data": {
                    name: {"source": d.source, "missing": d.missing or None, "missing_kind": d.kind or None,
                           "value": _jsonable(d.value)}
                    for name, d in sorted(node.data.items())
                },
            }
            for node in cluster.nodes
        ],
    }


def problems_of(value: Any) -> List:
    return list(getattr(value, "problems", None) or [])


def describe_datum(name: str, value: Any) -> str:
    """One line saying what a datum holds; built from the models' public attributes."""
    from hadoctor.parsers.scripts import SEARCH_DIRS

    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if name == "ha_cf":
        nodes = ", ".join(getattr(n, "name", str(n)) for n in getattr(value, "nodes", []))
        media = ", ".join(_medium(m) for m in getattr(value, "media", []))
        return f"nodes: {nodes or '-'}; media: {media or '-'}"
    if name == "haresources":
        groups = getattr(value, "groups", [])
        return "; ".join(f"{g.node}: {' '.join(r.token for r in g.resources)}" for g in groups) or "no groups"
    if name == "authkeys":
        active = getattr(value, "active", None)
        keys = getattr(value, "keys", {})
        mode = getattr(value, "mode", None)
        methods = ", ".join(f"{k.index} {k.method}" for k in keys.values())
        text = f"active: {active.index} {active.method}" if active else "no active key"
        text += f"; keys: {methods or '-'}"
        return text + (f"; mode {mode:04o}" if mode is not None else "; mode unknown")
    if name == "log":
        return f"{len(value.paths)} file(s), {value.size:,} bytes"
    if name == "addresses":
        parts = []
        for iface in getattr(value, "interfaces", []):
            addrs = " ".join(str(a.interface) for a in iface.addresses)
            if addrs:
                parts.append(f"{iface.name} {addrs}")
        return "; ".join(parts) or "no addresses"
    if name == "packages":
        pkgs = getattr(value, "packages", {})
        return ", ".join(f"{n} {p.version}" for n, p in sorted(pkgs.items())
                         if n in ("heartbeat", "cluster-glue", "resource-agents", "pacemaker")) or f"{len(pkgs)} packages"
    if name == "firewall":
        return f"{value.fmt}: {len(value.rules)} rule(s)"
    if name == "hosts":
        return f"{len(value.entries)} entries"
    if name == "resource_scripts":
        scripts = getattr(value, "scripts", [])
        idle = sorted(s.name for s in scripts if not s.executable)
        return (f"{len(scripts)} resource script(s) in {' and '.join(SEARCH_DIRS)}"
                + (f"; not executable: {', '.join(idle)}" if idle else ""))
    if name == "service_configs":
        files = getattr(value, "files", {})
        return f"{len(files)} Asterisk/MOR file(s): {', '.join(sorted(files))}" if files else "no Asterisk/MOR files"
    if name == "wire":
        senders = ", ".join(f"{s.node} ({s.address}, {s.packets})" for s in getattr(value, "senders", []))
        foreign = getattr(value, "foreign", [])
        return (f"{value.packets} heartbeat packet(s) captured; senders: {senders or '-'}"
                + (f"; {len(foreign)} sender(s) of another cluster" if foreign else ""))
    if callable(getattr(value, "summary", None)):  # a model that says what it holds
        return value.summary()
    return f"a {type(value).__name__} (no summary; --format json shows it)"


def _medium(medium: Any) -> str:
    parts = [getattr(medium, "kind", "?"), getattr(medium, "iface", "") or ""]
    for attr in ("peer", "group"):
        if getattr(medium, attr, None):
            parts.append(str(getattr(medium, attr)))
    return " ".join(p for p in parts if p)


_NAME_WIDTH = 17  # the longest datum name, resource_scripts, and a blank


def render_snapshot(cluster: ClusterSnapshot, fmt: str) -> None:
    if fmt == "json":
        json.dump(snapshot_to_dict(cluster), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return
    from hadoctor.terminal import console, hang, safe

    con = console()
    hang(con, "[bold]Target[/]: ", f"{safe(cluster.target)} ({safe(cluster.context)}); "
                                   f"nodes: {safe(', '.join(cluster.node_names))}")
    for note in cluster.notes:
        hang(con, "  note: ", safe(note))
    for node in cluster.nodes:
        _render_node(con, node)


def _render_node(con, node: NodeSnapshot) -> None:
    """One block per node: each datum with what it holds, then (dim) where it came from; problems last."""
    from hadoctor.terminal import hang, safe

    con.print()
    hang(con, "[bold]node[/] ", f"[bold]{safe(node.name)}[/]  ({safe(node.origin)})", 2)
    for name, datum in sorted(node.data.items()):
        lead = f"  {name:<{_NAME_WIDTH}}"
        if datum.present:
            count = len(problems_of(datum.value))
            hang(con, lead, safe(describe_datum(name, datum.value))
                 + (f" [yellow]({count} problem(s), below)[/]" if count else ""))
            hang(con, " " * len(lead), f"[dim]from {safe(datum.source)}[/]")
        else:
            hang(con, lead, f"[yellow]missing: {safe(datum.missing)}[/]"
                 + (f" [dim](looked for {safe(datum.source)})[/]" if datum.source else ""))
    for note in node.notes:
        hang(con, "  note: ", safe(note))
    for name, datum in sorted(node.data.items()):
        for problem in problems_of(datum.value):
            colour = "red" if problem.severity == "error" else "yellow"
            hang(con, f"  [{colour}]{safe(problem.severity)}[/] ", _problem_line(problem), 4)


def _problem_line(problem: Any) -> str:
    from hadoctor.terminal import safe

    code = f" [dim]{safe('[' + problem.code + ']')}[/]" if problem.code else ""
    return f"{safe(problem.where())}: {safe(problem.message)}{code}"


def render_parsed(kind: str, name: str, path: str, value: Any, fmt: str) -> None:
    """Show one parsed file of ``kind`` (datum ``name``): its model as JSON, or a summary and its problems."""
    problems = problems_of(value)
    if fmt == "json":
        json.dump(_jsonable(value), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return
    from hadoctor.terminal import console, hang, safe

    con = console()
    hang(con, f"[bold]{safe(path)}[/] ({kind}): ", safe(describe_datum(name, value)), 2)
    for problem in problems:
        colour = "red" if problem.severity == "error" else "yellow"
        hang(con, f"  [{colour}]{safe(problem.severity)}[/] ", _problem_line(problem), 4)
    if not problems:
        con.print("  no problems")


def render_log_summary(summary: dict, fmt: str) -> None:
    """Show what ``parse log`` counted: records, layouts, levels, first and last time."""
    if fmt == "json":
        json.dump(summary, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        from hadoctor.terminal import console, hang, safe

        first, last = summary["first"], summary["last"]
        con = console()
        hang(con, f"[bold]{safe(summary['path'])}[/] (log): ", f"{summary['records']} record(s) from {first or '-'} "
                                                            f"to {last or '-'}", 2)
        for what in ("layouts", "levels"):
            counts = sorted(summary[what].items(), key=lambda kv: -kv[1])
            hang(con, f"  {what}: ", safe(", ".join(f"{k} {v}" for k, v in counts) or "-"), 4)
