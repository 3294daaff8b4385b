"""The readable report: findings grouped by severity, each with evidence and the fix."""

from __future__ import annotations

from typing import List

from hadoctor.rulemodel import Finding
from hadoctor.engine.runner import Report
from hadoctor.snapshot.registry import CORE_DATA

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


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
    from rich.markup import escape

    nodes = ", ".join(f"{n['name']} ({escape(n['origin'])})" for n in report.nodes)
    console.print(f"[bold]hadoctor check[/] {escape(report.target)} — {report.context}; nodes: {nodes}")
    for note in report.notes:
        console.print(f"  note: {escape(note)}")
    for n in report.nodes:
        for note in n["notes"]:
            console.print(f"  note: {escape(note)}")
        shown = {k: v for k, v in n["missing"].items() if show_all or k in CORE_DATA}
        if shown:
            missing = "; ".join(f"{k}: {v}" for k, v in sorted(shown.items()))
            console.print(f"  [yellow]{n['name']}: missing {escape(missing)}[/]")
    shown = report.shown()
    for severity in ("error", "warning", "info"):
        group = [f for f in shown if f.severity == severity and not f.suppressed]
        if not group:
            continue
        console.print()
        console.print(f"[{_STYLE[severity]}]{severity.upper()}S ({len(group)})[/]")
        for f in group:
            _render_finding(console, f, escape)
    suppressed = [f for f in shown if f.suppressed]
    if suppressed and show_all:
        console.print()
        console.print(f"[dim]SUPPRESSED ({len(suppressed)})[/]")
        for f in suppressed:
            console.print(f"  [dim]{f.code} {escape(f.node or 'cluster')}: {escape(f.message)} — {escape(f.suppressed or '')}[/]")
    if show_all:
        _render_quiet(console, report.findings, escape)
    console.print()
    console.print(_summary_line(report, suppressed, exit_code))


def _render_finding(console, f: Finding, escape) -> None:
    where = f.node or "cluster"
    console.print(f"  [{_STYLE[f.severity]}]{f.code}[/] [bold]{escape(f.title)}[/] "
                  f"[dim]\\[{escape(where)}][/]{_when(f)}")
    console.print(f"      {escape(f.message)}")
    for e in f.evidence[:6]:
        parts = []
        if e.node and e.node != f.node:
            parts.append(e.node)
        if e.where():
            parts.append(e.where())
        if e.time:
            parts.append(e.time.strftime("%Y-%m-%d %H:%M:%S"))
        head = " ".join(parts)
        text = e.text.splitlines()[0] if e.text else ""
        line = f"      [dim]{escape(head)}[/]" + (f"  {escape(text)}" if text else "")
        if e.observed is not None:
            line += f"  [dim](observed {escape(e.observed)}" + (
                f", expected {escape(e.expected)})" if e.expected is not None else ")") + "[/]"
        console.print(line)
    if len(f.evidence) > 6:
        console.print(f"      [dim]… {len(f.evidence) - 6} more[/]")
    if f.fix:
        console.print(f"      [green]fix:[/] {escape(f.fix)}")


def _render_quiet(console, findings: List[Finding], escape) -> None:
    skipped = [f for f in findings if f.status == "skip"]
    passed = [f for f in findings if f.status == "pass"]
    if skipped:
        console.print()
        console.print(f"[dim]SKIPPED ({len(skipped)})[/]")
        for f in skipped:
            console.print(f"  [dim]{f.code} {escape(f.node or 'cluster')}: {escape(f.message)}[/]")
    if passed:
        console.print()
        console.print(f"[dim]PASSED ({len(passed)})[/]")
        console.print("  [dim]" + escape(", ".join(sorted({f"{f.code}" for f in passed}))) + "[/]")


def _summary_line(report: Report, suppressed: List[Finding], exit_code: int) -> str:
    skipped = sum(1 for f in report.findings if f.status == "skip")
    passed = sum(1 for f in report.findings if f.status == "pass")
    text = (f"[bold]{report.count('error')} error(s), {report.count('warning')} warning(s), "
            f"{report.count('info')} info[/] — {len(report.rules)} rules, {passed} passed, "
            f"{skipped} skipped, {len(suppressed)} suppressed; {report.seconds:.2f} s; exit {exit_code}")
    if skipped:
        text += "  [dim](--show-all lists passes and skips)[/]"
    return text
