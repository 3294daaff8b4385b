"""The ``check``, ``rules`` and ``rule`` commands: glue between the CLI, loader, engine and reporters."""

from __future__ import annotations

import sys
from typing import List, Optional

from hadoctor.errors import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, UsageError


def run_check(target: Optional[str], *, fmt: str, select: List[str], ignore: List[str], fail_on: str,
              show_all: bool, rules_dirs: List[str], suppressions_file: Optional[str], root: str) -> int:
    from hadoctor.engine import discovery
    from hadoctor.engine.runner import run
    from hadoctor.snapshot.loader import load_target

    catalogue = discovery.all_rules(rules_dirs)
    rules = discovery.select_rules(catalogue, select, ignore)
    supps = []
    if suppressions_file:
        from hadoctor.engine.suppress import parse_file
        from hadoctor.inputs import read_bytes

        supps = parse_file(read_bytes(suppressions_file), suppressions_file)
    cluster = load_target(target, root=root)
    report = run(cluster, rules, suppressions=supps, catalogue=catalogue)
    code = exit_code(report, fail_on)
    if fmt == "json":
        from hadoctor.report.findings_json import write_report

        write_report(report, code, sys.stdout)
    elif fmt == "sarif":
        from hadoctor.report.sarif import write_sarif

        write_sarif(report, sys.stdout)
    else:
        from rich.console import Console

        from hadoctor.report.text import render_text

        render_text(report, Console(), show_all=show_all, exit_code=code)
    return code


def exit_code(report, fail_on: str) -> int:
    from hadoctor.snapshot.registry import CORE_DATA

    if report.at_or_above(fail_on):
        return EXIT_FINDINGS
    if any(name in n["missing"] for n in report.nodes for name in CORE_DATA):
        return EXIT_INCOMPLETE
    return EXIT_OK


def show_rules(fmt: str, rules_dirs: List[str]) -> None:
    from hadoctor.engine import discovery

    rules = discovery.all_rules(rules_dirs)
    if fmt == "json":
        from hadoctor.report.findings_json import write_rules

        write_rules(rules, sys.stdout)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rules)} rules", title_justify="left")
    for col in ("code", "severity", "scope", "title", "needs"):
        table.add_column(col)
    for r in rules:
        table.add_row(r.code, r.severity + (" (opt-in)" if r.opt_in else ""), r.scope, r.title, ", ".join(r.needs))
    Console().print(table)


def explain(code: str, fmt: str, rules_dirs: List[str]) -> None:
    from hadoctor.engine import discovery

    rules = {r.code: r for r in discovery.all_rules(rules_dirs)}
    r = rules.get(code.upper())
    if r is None:
        close = [c for c in rules if c.startswith(code.upper()[:3])]
        raise UsageError(f"no rule {code!r}", "known codes: " + ", ".join(close or sorted(rules)[:20]))
    if fmt == "json":
        import json

        from hadoctor.report.findings_json import rule_to_dict

        json.dump(rule_to_dict(r), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    console.print(f"[bold]{r.code}[/] {escape(r.title)}")
    console.print(f"severity: {r.severity}{' (opt-in: runs only with --select ' + r.code + ')' if r.opt_in else ''}; "
                  f"scope: {r.scope}; needs: {', '.join(r.needs) or '-'}")
    for head, text in (("What it means", r.doc.meaning), ("Why it matters", r.doc.why), ("How to fix it", r.doc.fix)):
        console.print(f"\n[bold]{head}[/]\n{escape(text)}")
    if r.patterns:
        console.print("\n[bold]Log patterns[/]")
        for name, pattern in r.patterns.items():
            console.print(f"  {name}: {escape(pattern)}")
    if r.doc.links:
        console.print("\n[bold]Links[/]")
        for link in r.doc.links:
            console.print(f"  {link}")
