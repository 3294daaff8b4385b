"""The JSON report (schema ``hadoctor-report/1``, documented in docs/report-json.md) and the rule catalogue."""

from __future__ import annotations

import json
from typing import IO, List

from hadoctor import __version__
from hadoctor.rulemodel import Rule
from hadoctor.engine.runner import Report

SCHEMA = "hadoctor-report/1"


def summary(report: Report, exit_code: int) -> dict:
    by_status = {s: sum(1 for f in report.findings if f.status == s) for s in ("fail", "info", "pass", "skip")}
    return {
        "error": report.count("error"), "warning": report.count("warning"), "info": report.count("info"),
        "suppressed": sum(1 for f in report.findings if f.suppressed),
        "passed": by_status["pass"], "skipped": by_status["skip"], "rules": len(report.rules),
        "exit_code": exit_code, "seconds": round(report.seconds, 3),
    }


def write_report(report: Report, exit_code: int, out: IO[str]) -> None:
    doc = {
        "schema": SCHEMA,
        "hadoctor": __version__,
        "target": report.target,
        "context": report.context,
        "nodes": report.nodes,
        "notes": report.notes,
        "summary": summary(report, exit_code),
        "findings": [f.to_dict() for f in report.findings],
    }
    json.dump(doc, out, indent=2, default=str)
    out.write("\n")


def rule_to_dict(r: Rule) -> dict:
    return {
        "code": r.code, "title": r.title, "family": r.family, "severity": r.severity, "scope": r.scope,
        "needs": list(r.needs), "wants": list(r.wants), "opt_in": r.opt_in, "log_patterns": r.patterns,
        "min_hits": r.min_hits, "within_seconds": r.within, "max_age_seconds": r.max_age,
        "meaning": r.doc.meaning, "why": r.doc.why, "fix": r.doc.fix, "links": list(r.doc.links),
        "origin": r.origin,
    }


def write_rules(rules: List[Rule], out: IO[str]) -> None:
    json.dump({"schema": "hadoctor-rules/1", "rules": [rule_to_dict(r) for r in rules]}, out, indent=2)
    out.write("\n")
