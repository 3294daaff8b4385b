"""Show the result of ``hadoctor bundle verify``: every leak (member and line, never the secret)."""

from __future__ import annotations

import json
import sys

from hadoctor.bundle.verify import VerifyReport


def render_scan(report: VerifyReport, fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
        return
    from hadoctor.terminal import console, hang, safe

    con = console()
    hang(con, f"{safe(report.path)}: ", f"{report.members} members, {report.bytes_scanned:,} bytes scanned", 2)
    if not report.leaks:
        con.print("[green]clean[/]: no given secret, original address or name found")
        return
    for leak in report.leaks[:200]:
        hang(con, "[red]LEAK[/] ", f"{safe(leak.member)}:{leak.line}: {safe(leak.what)}", 5)
    if len(report.leaks) > 200:
        con.print(f"... and {len(report.leaks) - 200} more (--format json lists all)")
