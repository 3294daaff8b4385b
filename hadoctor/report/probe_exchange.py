"""Show the result of ``hadoctor probe exchange``: per direction, and the verdict."""

from __future__ import annotations

import json
import sys


def render_exchange(doc: dict, fmt: str) -> int:
    if fmt == "json":
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return doc["exit_code"]
    from hadoctor.terminal import console, hang, safe

    con = console()
    hang(con, "[bold]probe exchange[/] ", f"on UDP {doc['port']}, every {doc['interval_ms']} ms for "
                                          f"{doc['seconds']:g} s", 2)
    for d in doc["directions"]:
        rtt = d["rtt_ms"]
        loss = "-" if d["loss"] is None else f"{d['loss']:.1%}"
        rtts = "-" if rtt["p50"] is None else f"{rtt['p50']:.2f}/{rtt['p99']:.2f} ms"
        hang(con, f"  [bold]{safe(d['from'])} → {safe(d['to'])}[/] ",
             f"{safe(d['state'])}: sent {_s(d['sent'])}, received {_s(d['received'])}, loss {loss}, "
             f"rtt p50/p99 {rtts}, failed auth {safe(d['failed_auth'])}", 6)
    style = "bold green" if doc["exit_code"] == 0 else "bold red"
    hang(con, "", f"[{style}]{safe(doc['verdict']['text'])}[/]", 2)
    for n in doc["notes"]:
        hang(con, "", f"[dim]{safe(n)}[/]", 2)
    return doc["exit_code"]


def _s(v) -> str:
    return "?" if v is None else str(v)
