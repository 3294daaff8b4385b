"""``hadoctor rules``: list every rule (code, severity, scope, title, needs)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Tuple

from hadoctor.errors import EXIT_OK


@dataclass(frozen=True)
class Options:
    fmt: str = "text"
    rules_dirs: Tuple[str, ...] = ()


def run(options: Options) -> int:
    from hadoctor.engine import discovery

    rules = discovery.all_rules(list(options.rules_dirs))
    if options.fmt == "json":
        from hadoctor.report.findings_json import write_rules

        write_rules(rules, sys.stdout)
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rules)} rules", title_justify="left")
    for col in ("code", "severity", "scope", "title", "needs"):
        table.add_column(col)
    for r in rules:
        table.add_row(r.code, r.severity + (" (opt-in)" if r.opt_in else ""), r.scope, r.title, ", ".join(r.needs))
    Console().print(table)
    return EXIT_OK
