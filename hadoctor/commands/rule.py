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
        from hadoctor.report.rules_view import unknown_rule_hint

        raise UsageError(f"no rule {code!r}", unknown_rule_hint(code, rules))
    if options.fmt == "json":
        import json

        from hadoctor.report.findings_json import rule_to_dict

        json.dump(rule_to_dict(r), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    from hadoctor.report.rules_view import render_rule

    render_rule(r)
    return EXIT_OK
