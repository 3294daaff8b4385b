"""Show what ``hadoctor probe listen`` heard: senders and verdicts (a rich table, or JSON alone on stdout)."""

from __future__ import annotations

import json
import sys
from typing import List

from hadoctor.wire.summary import Summary


def render(summary: Summary, verdicts: List[dict], fmt: str, source: str) -> int:
    code = 1 if any(v["level"] in ("error", "warning") for v in verdicts) else 0
    if not summary.senders and not summary.undecodable:
        code = 1
        verdicts = verdicts + [{"level": "warning", "what": "nothing heard",
                                "detail": "no heartbeat packet arrived: nobody sends on this port/interface, or "
                                          "a firewall drops it before us"}]
    if fmt == "json":
        json.dump({"schema": "hadoctor-listen/1", "source": source, "summary": summary.to_dict(),
                   "verdicts": verdicts, "exit_code": code}, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return code
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"heartbeat senders ({source}; {summary.packets} packets)", title_justify="left")
    for col in ("node", "address", "format", "packets", "lost", "restarts", "interval p50/p99/max ms", "auth"):
        table.add_column(col)
    for s in summary.senders.values():
        iv = s.interval_ms()
        table.add_row(s.node, s.address, ",".join(s.formats), str(s.packets), str(s.lost), str(s.restarts),
                      f"{iv['p50']:.0f}/{iv['p99']:.0f}/{iv['max']:.0f}" if iv else "-",
                      ", ".join(f"{k} {v}" for k, v in s.auth_results.items()) or "not checked")
    console.print(table)
    for v in verdicts:
        style = {"error": "bold red", "warning": "yellow"}.get(v["level"], "cyan")
        console.print(f"[{style}]{v['level']}[/] {v['what']}: {v['detail']}")
    if summary.undecodable:
        console.print(f"[dim]{sum(summary.undecodable.values())} undecodable datagram(s) on the port[/]")
    return code
