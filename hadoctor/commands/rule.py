"""``hadoctor rule CODE``: explain one rule (meaning, why it matters, the fix, its log patterns)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Tuple

from hadoctor.errors import EXIT_OK, UsageError


@dataclass(frozen=True)
class Options:
    code: str
    fmt: str = "text"
    rules_dirs: Tuple[str, ...] = ()


def run(options: Options) -> int:
    from hadoctor.engine import discovery

    code = options.code
    rules = {r.code: r for r in discovery.all_rules(list(options.rules_dirs))}
    r = rules.get(code.upper())
    if r is None:
        close = [c for c in rules if c.startswith(code.upper()[:3])]
        raise UsageError(f"no rule {code!r}", "known codes: " + ", ".join(close or sorted(rules)[:20]))
    if options.fmt == "json":
        import json

        from hadoctor.report.findings_json import rule_to_dict

        json.dump(rule_to_dict(r), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
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
    return EXIT_OK
