"""``hadoctor check``: load a target, run the selected rules, report the findings."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Optional, Tuple

from hadoctor.errors import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK


@dataclass(frozen=True)
class Options:
    target: Optional[str]
    fmt: str = "text"
    select: Tuple[str, ...] = ()
    ignore: Tuple[str, ...] = ()
    fail_on: str = "warning"
    show_all: bool = False
    rules_dirs: Tuple[str, ...] = ()
    suppressions_file: Optional[str] = None
    root: str = "/"


def run(options: Options) -> int:
    from hadoctor.engine import discovery
    from hadoctor.engine.runner import run as run_rules
    from hadoctor.snapshot.loader import load_target

    catalogue = discovery.all_rules(list(options.rules_dirs))
    rules = discovery.select_rules(catalogue, list(options.select), list(options.ignore))
    supps = []
    if options.suppressions_file:
        from hadoctor.parsers.suppressions import parse_file
        from hadoctor.inputs import read_bytes

        supps = parse_file(read_bytes(options.suppressions_file), options.suppressions_file)
    cluster = load_target(options.target, root=options.root)
    report = run_rules(cluster, rules, suppressions=supps, catalogue=catalogue)
    code = exit_code(report, options.fail_on)
    if options.fmt == "json":
        from hadoctor.report.findings_json import write_report

        write_report(report, code, sys.stdout)
    elif options.fmt == "sarif":
        from hadoctor.report.sarif import write_sarif

        write_sarif(report, sys.stdout)
    else:
        from hadoctor.terminal import console
        from hadoctor.report.text import render_text

        render_text(report, console(), show_all=options.show_all, exit_code=code)
    return code


def exit_code(report, fail_on: str) -> int:
    """1 for a finding at or above ``fail_on``; else 3 when a node lacks core data; else 0."""
    from hadoctor.snapshot.registry import CORE_DATA

    if report.at_or_above(fail_on):
        return EXIT_FINDINGS
    if any(name in n["missing"] for n in report.nodes for name in CORE_DATA):
        return EXIT_INCOMPLETE
    return EXIT_OK
