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
                    name: {"source": d.source, "missing": d.missing or None, "value": _jsonable(d.value)}
                    for name, d in sorted(node.data.items())
                },
            }
            for node in cluster.nodes
        ],
    }


def problems_of(value: Any) -> List:
    return list(getattr(value, "problems", None) or [])


def summarize(name: str, value: Any) -> str:
    """One line saying what a datum holds; built from the models' public attributes."""
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
    return type(value).__name__


def _medium(medium: Any) -> str:
    parts = [getattr(medium, "kind", "?"), getattr(medium, "iface", "") or ""]
    for attr in ("peer", "group"):
        if getattr(medium, attr, None):
            parts.append(str(getattr(medium, attr)))
    return " ".join(p for p in parts if p)


def render_snapshot(cluster: ClusterSnapshot, fmt: str) -> None:
    if fmt == "json":
        json.dump(snapshot_to_dict(cluster), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return
    from rich.console import Console

    console = Console()
    console.print(f"[bold]Target[/]: {cluster.target} ({cluster.context}); "
                  f"nodes: {', '.join(cluster.node_names)}")
    for note in cluster.notes:
        console.print(f"  note: {note}")
    for node in cluster.nodes:
        _render_node(console, node)


def _render_node(console, node: NodeSnapshot) -> None:
    from rich.table import Table
    from rich.markup import escape

    table = Table(title=f"node {node.name}  ({node.origin})", title_justify="left", show_lines=False)
    table.add_column("datum")
    table.add_column("source", overflow="fold")
    table.add_column("what it holds", overflow="fold")
    table.add_column("problems", justify="right")
    for name, datum in sorted(node.data.items()):
        if datum.present:
            table.add_row(name, escape(datum.source), escape(summarize(name, datum.value)),
                          str(len(problems_of(datum.value))))
        else:
            table.add_row(name, escape(datum.source or "-"), f"[yellow]missing: {escape(datum.missing)}[/]", "-")
    console.print(table)
    for note in node.notes:
        console.print(f"  note: {escape(note)}")
    for name, datum in sorted(node.data.items()):
        for problem in problems_of(datum.value):
            colour = "red" if problem.severity == "error" else "yellow"
            console.print(f"  [{colour}]{problem.severity}[/] {escape(problem.where())}: {escape(problem.message)}")


def render_parsed(kind: str, name: str, path: str, value: Any, fmt: str) -> None:
    """Show one parsed file of ``kind`` (datum ``name``): its model as JSON, or a summary and its problems."""
    problems = problems_of(value)
    if fmt == "json":
        json.dump(_jsonable(value), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    console.print(f"[bold]{escape(path)}[/] ({kind}): {escape(summarize(name, value))}")
    for problem in problems:
        colour = "red" if problem.severity == "error" else "yellow"
        console.print(f"  [{colour}]{problem.severity}[/] {escape(problem.where())}: {escape(problem.message)}")
    if not problems:
        console.print("  no problems")


def render_log_summary(summary: dict, fmt: str) -> None:
    """Show what ``parse log`` counted: records, layouts, levels, first and last time."""
    if fmt == "json":
        json.dump(summary, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        from rich.console import Console

        Console().print(summary)
