"""Show what ``hadoctor probe listen`` heard: senders and verdicts (a rich table, or JSON alone on stdout)."""

from __future__ import annotations

import json
import sys
from typing import List

from hadoctor.wire.summary import Summary


def render_listen(summary: Summary, verdicts: List[dict], fmt: str, source: str) -> int:
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
    from hadoctor.terminal import console, hang, safe

    con = console()
    hang(con, "[bold]heartbeat senders[/] ", f"({safe(source)}; {summary.packets} packets)", 2)
    for s in summary.senders.values():
        iv = s.interval_ms()
        interval = f"{iv['p50']:.0f}/{iv['p99']:.0f}/{iv['max']:.0f} ms" if iv else "-"
        auth = ", ".join(f"{k} {v}" for k, v in s.auth_results.items()) or "not checked"
        hang(con, f"  [bold]{safe(s.node)}[/] ", f"{safe(s.address)} {safe(','.join(s.formats))}: {s.packets} packets, "
                  f"{s.lost} lost, {s.restarts} restarts; interval p50/p99/max {interval}; auth: {safe(auth)}", 6)
    if not summary.senders:
        con.print("  none")
    for v in verdicts:
        style = {"error": "bold red", "warning": "yellow"}.get(v["level"], "cyan")
        hang(con, f"[{style}]{safe(v['level'])}[/] ", f"{safe(v['what'])}: {safe(v['detail'])}", 2)
    if summary.undecodable:
        con.print(f"[dim]{sum(summary.undecodable.values())} undecodable datagram(s) on the port[/]")
    return code
