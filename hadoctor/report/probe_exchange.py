"""Show the result of ``hadoctor probe exchange``: per direction, and the verdict."""

from __future__ import annotations

import json
import sys


def render(doc: dict, fmt: str) -> int:
    if fmt == "json":
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return doc["exit_code"]
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"probe exchange on UDP {doc['port']}, every {doc['interval_ms']} ms for "
                        f"{doc['seconds']:g} s", title_justify="left")
    for col in ("direction", "state", "sent", "received", "loss", "rtt p50/p99 ms", "failed auth"):
        table.add_column(col)
    for d in doc["directions"]:
        rtt = d["rtt_ms"]
        table.add_row(f"{d['from']} → {d['to']}", d["state"], _s(d["sent"]), _s(d["received"]),
                      "-" if d["loss"] is None else f"{d['loss']:.1%}",
                      "-" if rtt["p50"] is None else f"{rtt['p50']:.2f}/{rtt['p99']:.2f}", str(d["failed_auth"]))
    console.print(table)
    style = "bold green" if doc["exit_code"] == 0 else "bold red"
    console.print(f"[{style}]{doc['verdict']['text']}[/]")
    for n in doc["notes"]:
        console.print(f"[dim]{n}[/]")
    return doc["exit_code"]


def _s(v) -> str:
    return "?" if v is None else str(v)
