"""Show the result of ``hadoctor bundle verify``: every leak (member and line, never the secret)."""

from __future__ import annotations

import json
import sys

from hadoctor.bundle.verify import VerifyReport


def render(report: VerifyReport, fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
        return
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    console.print(f"{escape(report.path)}: {report.members} members, {report.bytes_scanned:,} bytes scanned")
    if not report.leaks:
        console.print("[green]clean[/]: no given secret, original address or name found")
        return
    for leak in report.leaks[:200]:
        console.print(f"[red]LEAK[/] {escape(leak.member)}:{leak.line}: {escape(leak.what)}")
    if len(report.leaks) > 200:
        console.print(f"... and {len(report.leaks) - 200} more")
