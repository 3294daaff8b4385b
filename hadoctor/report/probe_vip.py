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
    from hadoctor.terminal import console as make_console, hang, safe

    if console is None:
        console = make_console(file=stream)
    if not results:
        console.print("no VIP probed")
        return code
    mode = " (must be free: before the cluster takes it)" if any(r.expect_free for r in results) else ""
    console.print(f"[bold]who holds the VIPs[/]{mode}")
    for r in results:
        style = "green" if r.ok else _STYLE.get(r.verdict, "")
        vip = r.vip + (f"/{r.prefix}" if r.prefix else "")
        iface = (r.iface or "-") + (f" (netns {r.netns})" if r.netns else "")
        hang(console, f"  [bold]{safe(vip)}[/] ", f"on {safe(iface)}: [{style}]{safe(r.verdict)}[/]", 4)
        if r.detail:
            hang(console, "      ", safe(r.detail))
        for m in r.macs:
            hang(console, "      MAC ", safe(mac_label(m, r.owners)))
    return code
