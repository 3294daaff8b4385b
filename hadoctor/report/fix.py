"""Show the outcome of ``hadoctor fix --authkeys`` (stdout; progress went to stderr meanwhile)."""

from __future__ import annotations

import json
import sys

from hadoctor.fix.rotate import EXIT_ROLLED_BACK, EXIT_ROTATED, Outcome


def render_outcome(o: Outcome, fmt: str) -> None:
    """The outcome: JSON alone on stdout, or the plan, diff, refusals and verdict for people."""
    if fmt == "json":
        json.dump(o.to_dict(), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    if o.action == "dry-run":
        for line in o.plan:
            console.print(line, markup=False)
        for node, diff in o.diff.items():
            console.print(f"\n{node}: authkeys after the rotation (keys masked)", markup=False)
            for line in diff:
                console.print(line, markup=False)
    if o.refusals:
        console.print("[bold red]refused[/]: the cluster is not healthy" + (" (--force given)" if o.action != "refused" else ""))
        for r in o.refusals:
            console.print(f"  - {r}", markup=False)
    if o.window_ms is not None:
        console.print(f"switch window: {o.window_ms:.1f} ms (first rename to last reload, node clocks); "
                      f"release spread {o.release_spread_ms} ms", markup=False)
    if o.auth_failures:
        console.print("auth failures logged: " + ", ".join(
            f"{n}: {v['in_window']} during / {v['after_window']} after the switch" for n, v in o.auth_failures.items()),
            markup=False)
    if o.wire_note:
        console.print(o.wire_note, markup=False)
    for w in o.warnings:
        console.print(f"[yellow]warning[/] {w}")
    style = {EXIT_ROTATED: "bold green", EXIT_ROLLED_BACK: "bold yellow"}.get(o.exit_code, "bold red")
    console.print(f"[{style}]{o.action}[/]: {o.message} ({o.duration_s:.1f} s)")
