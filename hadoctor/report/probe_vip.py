"""Show the results of ``hadoctor probe vip``: a rich table, or JSON alone on stdout."""

from __future__ import annotations

import json
import sys
from typing import Any, Sequence

from hadoctor.errors import UsageError
from hadoctor.probe.vip import FREE, HELD_ONCE, HELD_TWICE, UNPROBEABLE, VipResult, exit_code, mac_label

_STYLE = {HELD_ONCE: "green", HELD_TWICE: "bold red", FREE: "yellow", UNPROBEABLE: "dim"}


def render_vip_results(results: Sequence[VipResult], fmt: str = "text", *, console: Any = None,
                       stream: Any = None) -> int:
    """Print the results and return the exit code."""
    code = exit_code(results)
    if fmt == "json":
        out = stream or sys.stdout
        json.dump({"probe": "vip", "exit_code": code, "results": [r.to_dict() for r in results]}, out, indent=2)
        out.write("\n")
        return code
    if fmt != "text":
        raise UsageError(f"unknown format {fmt!r}", "use text or json")
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    if console is None:
        console = Console(file=stream) if stream is not None else Console()
    if not results:
        console.print("no VIP probed")
        return code
    mode = " (must be free: before the cluster takes it)" if any(r.expect_free for r in results) else ""
    table = Table(title=f"who holds the VIPs{mode}", show_lines=False)
    for column in ("VIP", "interface", "verdict", "MACs", "detail"):
        table.add_column(column, overflow="fold")
    for r in results:
        style = "green" if r.ok else _STYLE.get(r.verdict, "")
        macs = "\n".join(escape(mac_label(m, r.owners)) for m in r.macs) or "-"
        vip = r.vip + (f"/{r.prefix}" if r.prefix else "")
        iface = (r.iface or "-") + (f" (netns {r.netns})" if r.netns else "")
        table.add_row(escape(vip), escape(iface), f"[{style}]{escape(r.verdict)}[/]", macs, escape(r.detail))
    console.print(table)
    return code
