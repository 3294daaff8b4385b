"""The Nagios plugin output (Nagios, Icinga, Checkmk, Zabbix agents, NRPE).

Plugin API: one status line ``HADOCTOR STATE - text | perfdata``, the long output on the
following lines, and the exit status 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. Perfdata follows
the Monitoring Plugins guidelines: ``'label'=value[UOM];[warn];[crit];[min];[max]``, space
separated. A ``|`` in our text would start the perfdata, so it never appears there; neither does
a control character. The whole output stays under :data:`MAX_OUTPUT` bytes (Nagios 3 reads at
most 4 KiB of a plugin's output) and the status text under :data:`MAX_STATUS_TEXT` characters.

>>> from hadoctor.report.result import ClusterResult
>>> text, status = render_nagios([ClusterResult("c", "c", nodes=["a", "b"], rules=60)], "warning")
>>> print(text)
HADOCTOR OK - no finding in 60 rules on 2 nodes (a, b) | errors=0;;0;0 warnings=0;0;;0 info=0;;;0 suppressed=0;;;0 incomplete_nodes=0;;;0 time=0.000s;;;0
>>> status
0
"""

from __future__ import annotations

from typing import List, Tuple

from hadoctor.rulemodel import SEVERITY_RANK
from hadoctor.report.result import ClusterResult, one_line

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATE_NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
MAX_OUTPUT = 4000
MAX_STATUS_TEXT = 200

def clean(text: str) -> str:
    """One line of plugin text: no ``|`` (the perfdata separator), no control characters."""
    return one_line(text).replace("|", "/")


def state_of(results: List[ClusterResult], fail_on: str) -> int:
    """CRITICAL > WARNING > UNKNOWN > OK: a diagnosis outranks incomplete data, as in ``check``'s exit code."""
    rank = SEVERITY_RANK[fail_on]
    worst = max((SEVERITY_RANK[f.severity] for r in results for f in r.counted), default=-1)
    if worst == SEVERITY_RANK["error"]:
        return CRITICAL
    if worst >= rank:
        return WARNING
    if any(r.error or r.incomplete for r in results):
        return UNKNOWN
    return OK


def render_nagios(results: List[ClusterResult], fail_on: str) -> Tuple[str, int]:
    """The plugin output (lines joined with newlines, no trailing newline) and the exit status."""
    state = state_of(results, fail_on)
    fleet = len(results) > 1
    status = f"HADOCTOR {STATE_NAMES[state]} - " + _status_text(results, state, fail_on, fleet)
    long_lines = _long_output(results, fleet)
    perf = _perfdata(results, fail_on)
    first = f"{status} | {perf}"
    out = first
    for i, line in enumerate(long_lines):
        if len(out.encode()) + len(line.encode()) + 1 > MAX_OUTPUT - 80:
            out += "\n" + f"... {len(long_lines) - i} more line(s): run hadoctor check for everything"
            break
        out += "\n" + line
    return out, state


def _item(r: ClusterResult, f, fleet: bool) -> str:
    where = f"{f.node}: " if f.node else ""
    return clean(f"{r.name + ' ' if fleet else ''}{f.code} {where}{f.message or f.title}")


def _status_text(results: List[ClusterResult], state: int, fail_on: str, fleet: bool) -> str:
    if state in (CRITICAL, WARNING):
        severities = ["error"] if state == CRITICAL else [s for s in ("warning", "info")
                                                          if SEVERITY_RANK[s] >= SEVERITY_RANK[fail_on]]
        items = [_item(r, f, fleet) for r in results for f in r.counted if f.severity in severities]
        label = "error" if state == CRITICAL else ("warning" if severities == ["warning"] else "finding")
        head = f"{len(items)} {label}{'s' if len(items) != 1 else ''}: "
        return head + _fit(items, MAX_STATUS_TEXT - len(head))
    if state == UNKNOWN:
        errors = [clean(f"{r.name + ': ' if fleet else ''}{r.error}") for r in results if r.error]
        lacking = [clean(f"{r.name + ' ' if fleet else ''}{node} lacks {', '.join(data)}")
                   for r in results for node, data in sorted(r.incomplete.items())]
        if errors:
            return "cannot check: " + _fit(errors + lacking, MAX_STATUS_TEXT - 14)
        return "incomplete: " + _fit(lacking, MAX_STATUS_TEXT - 12)
    nodes = [n for r in results for n in r.nodes]
    if fleet:
        return clean(f"no finding in {len(results)} clusters ({len(nodes)} nodes)")
    r = results[0]
    below = r.count("warning") + r.count("info")
    extra = f", {below} below --fail-on {fail_on}" if below else ""
    return clean(f"no finding in {r.rules} rules on {len(nodes)} node{'s' if len(nodes) != 1 else ''} "
                 f"({', '.join(nodes)}){extra}")


def _fit(items: List[str], room: int) -> str:
    text = ""
    for i, item in enumerate(items):
        piece = item if not text else "; " + item
        rest = len(items) - i - 1
        if len(text) + len(piece) > room - (12 if rest else 0):
            more = f"; +{len(items) - i} more"
            if not text:
                return item[:max(room - len(more) - 3, 20)] + "..." + (more if rest else "")
            return text + more
        text += piece
    return text


def _long_output(results: List[ClusterResult], fleet: bool) -> List[str]:
    lines: List[str] = []
    for r in results:
        prefix = f"{r.name}: " if fleet else ""
        if r.error:
            lines.append(clean(f"{prefix}cannot check: {r.error}"))
            continue
        for f in sorted(r.counted, key=lambda f: -SEVERITY_RANK[f.severity]):
            hist = " (history)" if f.when == "past" else ""
            lines.append(clean(f"{prefix}[{f.severity.upper()}] {f.code} {f.title} [{f.node or 'cluster'}]{hist}: "
                               f"{f.message}"))
            for e in f.evidence[:2]:
                where = " ".join(x for x in (e.node if e.node != f.node else "", e.where()) if x)
                text = e.text.splitlines()[0] if e.text else ""
                lines.append("    " + clean(f"{where} {text}".strip()))
            if f.fix:
                lines.append("    fix: " + clean(f.fix))
        for node, data in sorted(r.incomplete.items()):
            lines.append(clean(f"{prefix}{node}: missing core data {', '.join(data)}"))
        for note in r.notes:
            lines.append(clean(f"{prefix}note: {note}"))
    return lines


def _perfdata(results: List[ClusterResult], fail_on: str) -> str:
    rank = SEVERITY_RANK[fail_on]
    counts = {s: sum(r.count(s) for r in results) for s in ("error", "warning", "info")}
    suppressed = sum(1 for r in results for f in r.findings if f.suppressed)
    incomplete = sum(len(r.incomplete) for r in results)
    seconds = sum(r.seconds for r in results)
    # thresholds as Nagios ranges: "0" alerts when the value is above 0
    warn = {s: "0" if SEVERITY_RANK[s] >= rank and s != "error" else "" for s in counts}
    parts = [_perf("errors", counts["error"], crit="0"), _perf("warnings", counts["warning"], warn=warn["warning"]),
             _perf("info", counts["info"], warn=warn["info"]), _perf("suppressed", suppressed),
             _perf("incomplete_nodes", incomplete), _perf("time", f"{seconds:.3f}", uom="s")]
    if len(results) > 1:
        parts.append(_perf("clusters", len(results)))
        parts.append(_perf("clusters_unchecked", sum(1 for r in results if r.error)))
    return " ".join(parts)


def _perf(label: str, value, *, uom: str = "", warn: str = "", crit: str = "") -> str:
    """``label=value[UOM];warn;crit;min`` (min 0; no max: counts have none)."""
    return f"{label}={value}{uom};{warn};{crit};0"
