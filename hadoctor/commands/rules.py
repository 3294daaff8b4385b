"""``hadoctor rules``: list every rule (code, severity, scope, title)."""

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
    from hadoctor.report.rules_view import render_rules

    render_rules(rules)
    return EXIT_OK
