"""SARIF 2.1.0 output: one result per finding, located at file:line where the evidence has one."""

from __future__ import annotations

import json
from typing import IO

from hadoctor import __version__
from hadoctor.engine.runner import Report

_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def write_sarif(report: Report, out: IO[str]) -> None:
    rules = [{
        "id": r.code,
        "name": r.title,
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": r.doc.meaning},
        "help": {"text": f"{r.doc.why}\n\nFix: {r.doc.fix}"},
        "helpUri": r.doc.links[0] if r.doc.links else None,
        "defaultConfiguration": {"level": _LEVEL[r.severity]},
    } for r in report.rules]
    for r in rules:
        if r["helpUri"] is None:
            del r["helpUri"]
    results = []
    for f in report.findings:
        if f.status not in ("fail", "info"):
            continue
        result = {
            "ruleId": f.code,
            "level": _LEVEL[f.severity],
            "message": {"text": f"{f.message}" + (f" [node {f.node}]" if f.node else "")},
            "properties": {"node": f.node, "when": f.when},
        }
        locations = [{
            "physicalLocation": {
                "artifactLocation": {"uri": e.file},
                "region": {"startLine": e.line},
            },
        } for e in f.evidence if e.file and e.line]
        if locations:
            result["locations"] = locations[:10]
        if f.suppressed:
            result["suppressions"] = [{"kind": "inSource", "justification": f.suppressed}]
        results.append(result)
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "hadoctor", "version": __version__, "rules": rules}},
            "results": results,
        }],
    }
    json.dump(doc, out, indent=2)
    out.write("\n")
