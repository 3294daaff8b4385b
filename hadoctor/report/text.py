"""The readable report: findings grouped by severity, each with evidence and the fix.

Layout and wording are described in docs/report-text.md. Every string that came from input goes
through :func:`hadoctor.terminal.safe`.
"""

from __future__ import annotations

from typing import List

from hadoctor.rulemodel import Finding
from hadoctor.engine.runner import Report
from hadoctor.terminal import hang, safe
from hadoctor.datums import CORE_DATA

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
EVIDENCE_SHOWN = 6
HISTORY_LEGEND = ("(history: FIRST – LAST) marks a finding about the past: the logs show it from FIRST to LAST, "
                  "but not as the cluster's state now (a failover that healed, a failure before heartbeat's "
                  "last good start). It is a warning at most.")


def _when(f: Finding) -> str:
    if f.when != "past":
        return ""
    span = ""
    if f.first_seen:
        span = f.first_seen.strftime("%Y-%m-%d %H:%M:%S")
        if f.last_seen and f.last_seen != f.first_seen:
            span += " – " + f.last_seen.strftime("%Y-%m-%d %H:%M:%S")
    return f" [dim](history{': ' + span if span else ''})[/]"


def render_text(report: Report, console, *, show_all: bool = False, exit_code: int = 0) -> None:
    nodes = ", ".join(f"{safe(n['name'])} ({safe(n['origin'])})" for n in report.nodes)
    hang(console, "[bold]hadoctor check[/] ", f"{safe(report.target)} — {safe(report.context)}; nodes: {nodes}", 2)
    for note in report.notes:
        hang(console, "  note: ", safe(note))
    for n in report.nodes:
        for note in n["notes"]:
            hang(console, "  note: ", safe(note))
        shown = {k: v for k, v in n["missing"].items() if show_all or k in CORE_DATA}
        if shown:
            missing = "; ".join(f"{k}: {v}" for k, v in sorted(shown.items()))
            hang(console, f"  [yellow]{safe(n['name'])}: missing[/] ", f"[yellow]{safe(missing)}[/]", 4)
    shown = report.shown()
    for severity in ("error", "warning", "info"):
        group = [f for f in shown if f.severity == severity and not f.suppressed]
        if not group:
            continue
        console.print()
        console.print(f"[{_STYLE[severity]}]{severity.upper()}S ({len(group)})[/]")
        for f in group:
            _render_finding(console, f)
    suppressed = [f for f in shown if f.suppressed]
    if suppressed and show_all:
        console.print()
        console.print(f"[dim]SUPPRESSED ({len(suppressed)})[/]")
        for f in suppressed:
            hang(console, f"  [dim]{f.code} ", f"[dim]{safe(f.node or 'cluster')}: {safe(f.message)} — "
                                                f"{safe(f.suppressed or '')}[/]", 4)
    if show_all:
        _render_quiet(console, report.findings)
    console.print()
    hang(console, "", _summary_line(report, suppressed, exit_code), 2)
    if any(f.when == "past" for f in shown if not f.suppressed):
        hang(console, "", f"[dim]{safe(HISTORY_LEGEND)}[/]", 2)


def _render_finding(console, f: Finding) -> None:
    where = f.node or "cluster"
    hang(console, f"  [{_STYLE[f.severity]}]{f.code}[/] ",
         f"[bold]{safe(f.title)}[/] [dim]\\[{safe(where)}][/]{_when(f)}")
    hang(console, "      ", safe(f.message))
    for e in f.evidence[:EVIDENCE_SHOWN]:
        parts = []
        if e.node and e.node != f.node:
            parts.append(e.node)
        if e.where():
            parts.append(e.where())
        if e.time:
            parts.append(e.time.strftime("%Y-%m-%d %H:%M:%S"))
        head = " ".join(parts)
        text = e.text.splitlines()[0] if e.text else ""
        line = f"[dim]{safe(head)}[/]" + (f"  {safe(text)}" if text else "")
        if e.observed is not None:
            line += f"  [dim](observed {safe(e.observed)}" + (
                f", expected {safe(e.expected)})" if e.expected is not None else ")") + "[/]"
        hang(console, "      ", line, 10)
    if len(f.evidence) > EVIDENCE_SHOWN:
        console.print(f"      [dim]… {len(f.evidence) - EVIDENCE_SHOWN} more (--format json lists all)[/]")
    if f.fix:
        hang(console, "      [green]fix:[/] ", safe(f.fix))


def _render_quiet(console, findings: List[Finding]) -> None:
    skipped = [f for f in findings if f.status == "skip"]
    passed = [f for f in findings if f.status == "pass"]
    if skipped:
        console.print()
        console.print(f"[dim]SKIPPED ({len(skipped)})[/]")
        for f in skipped:
            hang(console, f"  [dim]{f.code} ", f"[dim]{safe(f.node or 'cluster')}: {safe(f.message)}[/]", 4)
    if passed:
        console.print()
        console.print(f"[dim]PASSED ({len(passed)})[/]")
        hang(console, "  ", "[dim]" + safe(", ".join(sorted({f"{f.code}" for f in passed}))) + "[/]")


def _summary_line(report: Report, suppressed: List[Finding], exit_code: int) -> str:
    """Counts findings by severity, then the rules' results: one per rule and node (cluster rules: one
    per cluster), so passes and skips are counted in results, not in rules."""
    skipped = sum(1 for f in report.findings if f.status == "skip")
    passed = sum(1 for f in report.findings if f.status == "pass")
    results = sum(1 for f in report.findings if f.status in ("fail", "info", "pass", "skip"))
    text = (f"[bold]{report.count('error')} error(s), {report.count('warning')} warning(s), "
            f"{report.count('info')} info[/] — {len(report.rules)} rules gave {results} results (one per rule "
            f"and node): {passed} passed, {skipped} skipped, {len(suppressed)} suppressed; "
            f"{report.seconds:.2f} s; exit {exit_code}")
    if skipped and not any(f.status == "skip" for f in report.shown()):
        text += "  [dim](--show-all lists passes and skips)[/]"
    return text
