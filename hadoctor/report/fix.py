"""Show the outcome of ``hadoctor fix --authkeys`` (stdout; progress went to stderr meanwhile)."""

from __future__ import annotations

import json
import sys

from hadoctor.fix.model import EXIT_ROLLED_BACK, EXIT_ROTATED, RotationReport


def render_outcome(o: RotationReport, fmt: str) -> None:
    """The outcome: JSON alone on stdout, or the plan, diff, refusals and verdict for people."""
    if fmt == "json":
        json.dump(o.to_dict(), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return
    from hadoctor.terminal import console, hang, safe

    con = console()

    def line(text: str, style: str = "") -> None:  # the text may quote node data: shown, never obeyed
        import re

        lead = re.match(r" *(?:\d+\. )?", text).group()  # a numbered step continues under its text
        body = safe(text[len(lead):])
        hang(con, lead, f"[{style}]{body}[/]" if style else body, len(lead) if lead.strip() else len(lead) + 2)

    if o.action == "dry-run":
        for text in o.plan:
            line(text)
        for node, diff in o.diff.items():
            con.print()
            line(f"{node}: authkeys after the rotation (keys masked)")
            for text in diff:
                line(text)
    if o.refusals:
        con.print("[bold red]refused[/]: the cluster is not healthy" + (" (--force given)" if o.action != "refused" else ""))
        for r in o.refusals:
            hang(con, "  - ", safe(r))
    if o.window_ms is not None:
        line(f"switch window: {o.window_ms:.1f} ms (first rename to last reload, node clocks); "
             f"release spread {o.release_spread_ms} ms")
    for label, nodes in o.confirmed.items():
        line(f"{label} confirmed on {', '.join(nodes) or 'no node'} (each node reverts by itself "
             f"{o.revert_deadline_s} s after its switch unless confirmed)")
    if o.auth_failures:
        during = sum(v["in_window"] or 0 for v in o.auth_failures.values())
        after = sum(v["after_window"] or 0 for v in o.auth_failures.values())
        per = ", ".join(f"{n}: {v['in_window']}/{v['after_window']}" for n, v in o.auth_failures.items())
        line(f"authentication failures logged: {during} inside the switch window (a packet signed with one key "
             f"met a node already on the other), {after} after it (node: inside/after: {per})"
             + (f"; released {o.release_delay_ms:.0f} ms later, when no heartbeat was due"
                if o.release_delay_ms else ""))
    if o.wire_note:
        line(o.wire_note)
    for w in o.warnings:
        hang(con, "[yellow]warning[/] ", safe(w), 2)
    style = {EXIT_ROTATED: "bold green", EXIT_ROLLED_BACK: "bold yellow"}.get(o.exit_code, "bold red")
    hang(con, f"[{style}]{safe(o.action)}[/]: ", f"{safe(o.message)} ({o.duration_s:.1f} s)", 2)
