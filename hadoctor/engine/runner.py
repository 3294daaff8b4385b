"""Running rules over a cluster snapshot and turning outcomes into findings."""

from __future__ import annotations

import os
import re
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Deque, Dict, Iterable, List, Optional, Tuple

from hadoctor.rulemodel import SEVERITY_RANK, Derivation, Finding, Outcome, Rule
from hadoctor.parsers.suppressions import Suppression
from hadoctor.errors import InputError
from hadoctor.linear import compile_bounded
from hadoctor.rulekit import ClusterView, Hits, NodeView
from hadoctor.snapshot.model import ClusterSnapshot

#: Logs smaller than this are parsed whole; larger ones go through the literal prefilter.
PREFILTER_FROM_BYTES = 4 << 20

#: HADOCTOR_STRICT=1 (the test suite sets it for every test) lets a crashing rule raise instead of being
#: reported; read at each run, so setting it after import counts.
STRICT_ENV = "HADOCTOR_STRICT"


@dataclass
class Report:
    target: str
    context: str
    nodes: List[Dict[str, Any]]
    findings: List[Finding]
    rules: List[Rule]
    notes: List[str] = field(default_factory=list)
    seconds: float = 0.0

    def shown(self, show_all: bool = False) -> List[Finding]:
        if show_all:
            return self.findings
        return [f for f in self.findings if f.status in ("fail", "info")]

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.status in ("fail", "info") and f.suppressed is None
                   and f.severity == severity)

    def at_or_above(self, threshold: str) -> List[Finding]:
        rank = SEVERITY_RANK[threshold]
        return [f for f in self.findings if f.counts and SEVERITY_RANK[f.severity] >= rank]


def run(cluster: ClusterSnapshot, rules: List[Rule], *, suppressions: Iterable[Suppression] = (),
        today: Optional[date] = None, catalogue: Optional[List[Rule]] = None,
        derivations: Optional[Dict[str, Derivation]] = None, strict: Optional[bool] = None) -> Report:
    """Run ``rules`` (the selected ones) over ``cluster``.

    Every rule's verdict is the same whatever else is selected: the derivations the rules name are
    computed for them, and the rules reading SUPPRESSION_USE (HDR001: a suppression matching nothing) see
    each suppression judged against the rules it names, taken from ``catalogue`` (default: every
    discovered rule) and run unreported when they are not selected. ``derivations``: by name (default: every discovered one). ``strict``: a crashing rule raises (None: ask HADOCTOR_STRICT now);
    otherwise it becomes a skip finding saying it crashed.
    """
    started = time.perf_counter()
    if strict is None:
        strict = os.environ.get(STRICT_ENV) == "1"
    view = ClusterView(cluster)
    notes = list(cluster.notes)
    groups = view.split_clusters()  # before any rule runs: a node's peers are the nodes of its own cluster
    if len(groups) > 1:
        notes.append("the target holds {} clusters ({}); cross-node rules compare nodes of one cluster".format(
            len(groups), "; ".join(", ".join(n.name for n in g.nodes) for g in groups)))
    all_supps = list(suppressions)
    for node in cluster.nodes:
        all_supps.extend(node.find("suppressions") or [])
    final = [r for r in rules if _reads_engine_data(r)]
    checked = [r for r in rules if not _reads_engine_data(r)]
    hidden: List[Rule] = []
    if all_supps and any(SUPPRESSION_USE in r.needs + r.wants for r in final):
        hidden = _named_by_suppressions(all_supps, rules, catalogue)
    if derivations is None:
        from hadoctor.engine.discovery import all_derivations

        derivations = all_derivations()
    findings = _evaluate(view, groups, checked + hidden, notes, derivations, strict)
    states = _apply_suppressions(findings, all_supps, today or date.today(), {r.code for r in checked + hidden})
    hidden_codes = {r.code for r in hidden}
    findings = [f for f in findings if f.code not in hidden_codes]
    if final:
        findings.extend(_run_final_rules(final, cluster, view, states, strict))
    findings.sort(key=lambda f: (-SEVERITY_RANK.get(f.severity, 0), f.code, f.node or ""))
    nodes = [{"name": n.name, "origin": n.origin, "notes": n.notes,
              "data": {k: (d.source if d.present else None) for k, d in sorted(n.data.items())},
              "missing": n.missing()} for n in cluster.nodes]
    return Report(cluster.target, cluster.context, nodes, findings, rules, notes,
                  time.perf_counter() - started)


#: What the engine itself knows once the other rules ran, read by name like a datum (the HDR rules): each
#: suppression with its validity and expiry (SUPPRESSION_CHECKS), and also how many findings it covered
#: (SUPPRESSION_USE: for that the engine runs, unreported, the unselected rules a suppression names).
SUPPRESSION_CHECKS = "suppression_checks"
SUPPRESSION_USE = "suppression_use"
ENGINE_DATA = {SUPPRESSION_CHECKS: "every suppression, valid or not, expired or not (SuppressionState)",
               SUPPRESSION_USE: "every suppression with the number of findings it covered (SuppressionState)"}


@dataclass(frozen=True)
class SuppressionState:
    """One suppression as the engine judged it."""

    suppression: Suppression
    problem: str = ""  # why it is not valid (then it was not applied)
    expired: bool = False  # its until= date has passed (then it was not applied)
    #: findings it covered; None when not counted (not valid, expired, names no rule that ran, or the
    #: datum is SUPPRESSION_CHECKS)
    matched: Optional[int] = None


def _reads_engine_data(r: Rule) -> bool:
    return any(name in ENGINE_DATA for name in r.needs + r.wants)


def _run_final_rules(rules: List[Rule], cluster: ClusterSnapshot, view: ClusterView,
                     states: List[SuppressionState], strict: bool) -> List[Finding]:
    """The rules reading the engine's data run last, once, over the whole target."""
    from hadoctor.snapshot.model import Datum

    whole = ClusterView(cluster, view.nodes)
    unjudged = [SuppressionState(s.suppression, s.problem, s.expired) for s in states]
    whole.derived[SUPPRESSION_CHECKS] = Datum(SUPPRESSION_CHECKS, unjudged, "engine")
    whole.derived[SUPPRESSION_USE] = Datum(SUPPRESSION_USE, states, "engine")
    findings: List[Finding] = []
    for r in rules:
        findings.extend(_collect(r, None, lambda r=r: r.func(whole), strict))
    return findings


def _evaluate(view: ClusterView, groups: List[ClusterView], rules: List[Rule], notes: List[str],
              derivations: Dict[str, Derivation], strict: bool) -> List[Finding]:
    findings: List[Finding] = []
    node_rules = [r for r in rules if r.scope == "node" and not r.is_log_rule]
    log_rules = [r for r in rules if r.is_log_rule]
    cluster_rules = [r for r in rules if r.scope == "cluster"]
    wanted = needed_derivations(rules, derivations)
    for node in view.nodes:
        findings.extend(_run_log_rules(log_rules, node, notes, strict, [d for d in wanted if d.is_log_derivation]))
        for d in wanted:
            if not d.is_log_derivation:
                _derive(d, node, strict)
        for r in node_rules:
            findings.extend(_run_node_rule(r, node, strict))
    for r in cluster_rules:
        for group in groups:
            findings.extend(_run_cluster_rule(r, group, strict))
    return findings


def _named_by_suppressions(supps: List[Suppression], selected: List[Rule],
                           catalogue: Optional[List[Rule]]) -> List[Rule]:
    """The unselected rules some suppression names: HDR001 needs their findings to judge the suppression."""
    if catalogue is None:
        from hadoctor.engine.discovery import all_rules

        catalogue = all_rules()
    chosen = {r.code for r in selected}
    prefixes = {c.upper() for s in supps if not s.problem for c in s.codes}
    return [r for r in catalogue if r.code not in chosen and not _reads_engine_data(r) and not r.opt_in
            and any(r.code.startswith(p) for p in prefixes)]


# --- shared derivations ----------------------------------------------------------------------------

def needed_derivations(rules: Iterable[Rule], derivations: Dict[str, Derivation]) -> List[Derivation]:
    """The derivations ``rules`` name in needs/wants, with those they are built from, builders first."""
    ordered: List[Derivation] = []

    def visit(name: str, trail: Tuple[str, ...]) -> None:
        d = derivations.get(name)
        if d is None or d in ordered:
            return
        if name in trail:
            raise ValueError(f"derivation {name} depends on itself: {' -> '.join(trail + (name,))}")
        for need in d.needs:
            visit(need, trail + (name,))
        ordered.append(d)

    for r in rules:
        for name in r.needs + r.wants:
            visit(name, ())
    return ordered


def data_needed(rules: Iterable[Rule], derivations: Optional[Dict[str, Derivation]] = None) -> Optional[set]:
    """The data (datum names) ``rules`` and the derivations they name read: what the loader must load.
    None (everything) when a rule reads SUPPRESSION_USE: the engine then runs the rules suppressions name."""
    rules = list(rules)
    if any(SUPPRESSION_USE in r.needs + r.wants for r in rules):
        return None
    names = {n for r in rules for n in r.needs + r.wants}
    if any(_reads_engine_data(r) for r in rules):
        from hadoctor.snapshot.loader import SUPPRESSIBLE

        names |= set(SUPPRESSIBLE)  # the files whose comments hold the suppressions
    names -= set(ENGINE_DATA)
    if derivations is None:
        from hadoctor.engine.discovery import all_derivations

        derivations = all_derivations()
    names |= {n for d in needed_derivations(rules, derivations) for n in d.needs}
    return names - set(derivations)


def _derive(d: Derivation, node: NodeView, strict: bool) -> None:
    from hadoctor.snapshot.model import Datum

    reason = _missing_reason(node, d.needs)
    if reason:
        node.derived[d.name] = Datum(d.name, None, "derived", reason)
        return
    try:
        node.derived[d.name] = Datum(d.name, d.func(node), "derived")
    except Exception as exc:
        if strict:
            raise
        node.derived[d.name] = Datum(d.name, None, "derived",
                                     f"deriving it crashed ({type(exc).__name__}: {exc}); please report it")


# --- node and cluster rules -----------------------------------------------------------------

def _missing_reason(node: NodeView, needs: Tuple[str, ...]) -> Optional[str]:
    reasons = []
    for name in needs:
        if not node.has(name):
            reasons.append(f"{name} ({node.missing_reason(name)})")
    return "needs " + ", ".join(reasons) if reasons else None


def _skip(r: Rule, node: Optional[str], reason: str) -> Finding:
    return Finding(r.code, r.title, r.severity, "skip", reason, node)


def _run_node_rule(r: Rule, node: NodeView, strict: bool) -> List[Finding]:
    reason = _missing_reason(node, r.needs)
    if reason:
        return [_skip(r, node.name, reason)]
    return _collect(r, node.name, lambda: r.func(node), strict)


def _run_cluster_rule(r: Rule, view: ClusterView, strict: bool) -> List[Finding]:
    ready = view.with_data(*r.needs)
    if len(ready) < 2:
        missing = [f"{n.name}: {_missing_reason(n, r.needs)}" for n in view.nodes if n not in ready]
        why = "needs two nodes with " + ", ".join(r.needs)
        if missing:
            why += " (" + "; ".join(missing) + ")"
        elif len(view.nodes) < 2:
            why += f" (the snapshot has {len(view.nodes)} node)"
        return [_skip(r, None, why)]
    return _collect(r, None, lambda: r.func(view), strict)


def _collect(r: Rule, node: Optional[str], call, strict: bool) -> List[Finding]:
    try:
        outcomes = list(call() or ())
    except Exception as exc:
        if strict:
            raise
        return [Finding(r.code, r.title, r.severity, "skip",
                        f"the rule crashed ({type(exc).__name__}: {exc}); please report it", node)]
    if not outcomes:
        return [Finding(r.code, r.title, r.severity, "pass", "", node)]
    return [_finding(r, node, o) for o in outcomes]


def _finding(r: Rule, node: Optional[str], o: Outcome) -> Finding:
    severity = o.severity or r.severity
    if o.when == "past" and severity == "error":
        severity = "warning"  # history is not the present: a healed event is a warning at most
    times = [e.time for e in o.evidence if e.time is not None]
    status = o.status
    return Finding(r.code, r.title, severity, status, o.message, o.node or node, o.evidence,
                   o.fix or r.doc.fix, o.when, min(times) if times else None, max(times) if times else None)


# --- log rules: one streamed pass per node -------------------------------------------------------

class _LogRuleState:
    """One log rule's hits on one node, and whether its trigger condition was met."""

    def __init__(self, r: Rule, end_time: Optional[datetime]) -> None:
        self.rule = r
        self.patterns, self.context = r.patterns, r.context
        self.hits: Dict[str, Hits] = {name: Hits() for name in list(r.patterns) + list(r.context)}
        self.components = set(r.components)
        self.levels = set(r.levels)
        self.cutoff = None
        if r.max_age is not None and end_time is not None:
            self.cutoff = end_time.timestamp() - r.max_age
        self.window: Deque[float] = deque(maxlen=max(r.min_hits, 1))
        self.triggered = r.min_hits <= 0
        self.group_by = r.group_by

    def on_match(self, record: Any, name: str, match: "re.Match[str]", trigger: bool) -> None:
        keyed = self.group_by.get(name) if self.group_by else None
        if not trigger:
            self._add(name, keyed, record, match)
            return
        if self.components and record.component not in self.components:
            return
        if self.levels and record.level not in self.levels:
            return
        stamp = record.time.timestamp() if record.time is not None else None
        if self.cutoff is not None and stamp is not None and stamp < self.cutoff:
            return
        if self._add(name, keyed, record, match):
            self._count(stamp)

    def _add(self, name: str, keyed, record: Any, match: "re.Match[str]") -> bool:
        if keyed is None:
            self.hits[name].add(record, match)
            return True
        key = keyed(record, match)
        if key is None:
            return False
        self.hits[name].add_grouped(key, record, match)
        return True

    def _count(self, stamp: Optional[float]) -> None:
        if self.triggered:
            return
        if self.rule.within is None or stamp is None:
            self.window.append(0.0)
            self.triggered = len(self.window) >= self.rule.min_hits
            return
        self.window.append(stamp)
        if len(self.window) >= self.rule.min_hits and self.window[-1] - self.window[0] <= self.rule.within:
            self.triggered = True


class _DerivedState:
    """A log derivation on one node: every record its pattern matches."""

    def __init__(self, d: Derivation) -> None:
        self.derivation = d
        self.patterns: Dict[str, str] = {d.name: d.pattern}
        self.context: Dict[str, str] = {}
        self.hits = Hits()

    def on_match(self, record: Any, name: str, match: "re.Match[str]", trigger: bool) -> None:
        self.hits.add(record, match)


class _Dispatch:
    """Each distinct pattern at most once per record, then every rule that asked for it.

    A substring test for each of the patterns' required literals (one of which every match contains)
    picks the candidate patterns of a record before any regex runs, so the cost per matched line grows
    with the number of distinct literals, not of rules. Patterns without a usable literal run on every
    record.
    """

    def __init__(self, states: List[Any], gate: bool = True) -> None:
        from hadoctor.parsers.hblog_prefilter import scanner_for

        table: Dict[str, Tuple[Any, list]] = {}
        by_literal: Dict[str, List[Tuple[Any, list]]] = {}
        self.always: List[Tuple[Any, list]] = []
        for state in states:
            for kind, patterns in (("trigger", state.patterns), ("context", state.context)):
                for name, text in patterns.items():
                    if text not in table:
                        entry = table[text] = (compile_bounded(text), [])
                        literals = gate and scanner_for(re.compile(_NAMED_GROUP.sub("(?:", text).encode())).literals
                        if literals and all(lit.isascii() for lit in literals):
                            for lit in literals:
                                by_literal.setdefault(lit.decode("ascii"), []).append(entry)
                        else:
                            self.always.append(entry)
                    table[text][1].append((state, name, kind == "trigger"))
        self.by_literal = {lit: _unique(entries) for lit, entries in by_literal.items()}
        self.literals = tuple(by_literal)

    def feed(self, record: Any) -> None:
        message = record.message
        entries = list(self.always)
        if self.literals:
            found = [lit for lit in self.literals if lit in message]
            if len(found) == 1:
                entries.extend(self.by_literal[found.pop()])
            else:
                seen = set()
                for lit in found:
                    for entry in self.by_literal[lit]:
                        if id(entry) not in seen:
                            seen.add(id(entry))
                            entries.append(entry)
        for regex, subscribers in entries:
            m = regex.search(message)
            if m:
                for state, name, trigger in subscribers:
                    state.on_match(record, name, m, trigger)


def _unique(entries: list) -> list:
    seen, result = set(), []
    for entry in entries:
        if id(entry) not in seen:
            seen.add(id(entry))
            result.append(entry)
    return result


def prefilter_for(rules: List[Any]) -> "re.Pattern[bytes]":
    """One bytes regex that any line a log rule (or log derivation) could match must match (the fast path)."""
    patterns = []
    for r in rules:
        line = getattr(r, "line_prefilter", None) or getattr(getattr(r, "rule", None), "line_prefilter", None)
        patterns.extend(list(r.context.values()) + ([line] if line else list(r.patterns.values())))
    from hadoctor.parsers.hblog import compile_prefilter

    # named groups would collide across rules; the prefilter only needs to match, not capture
    return compile_prefilter(_NAMED_GROUP.sub("(?:", p) for p in patterns)


_NAMED_GROUP = re.compile(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>")


def _run_log_rules(rules: List[Rule], node: NodeView, notes: List[str], strict: bool,
                   derivations: List[Derivation] = ()) -> List[Finding]:
    """One pass over the node's log for its log rules and the log derivations the selected rules name."""
    from hadoctor.snapshot.model import Datum

    ready, findings = [], []
    for r in rules:
        reason = _missing_reason(node, r.needs)
        if reason:
            findings.append(_skip(r, node.name, reason))
        else:
            ready.append(r)
    derived: List[_DerivedState] = []
    for d in derivations:
        reason = _missing_reason(node, d.needs)
        if reason:
            node.derived[d.name] = Datum(d.name, None, "derived", reason)
        else:
            derived.append(_DerivedState(d))
    if not ready and not derived:
        return findings
    log = node.log
    end_time = log.end_time() if ready and hasattr(log, "end_time") else None
    states = [_LogRuleState(r, end_time) for r in ready]
    # deriving literals for the prefilter costs ~0.1 s; it pays off only on logs of some size
    big = getattr(log, "size", 0) >= PREFILTER_FROM_BYTES
    dispatch = _Dispatch(states + derived, gate=big).feed
    try:
        for record in log.records(prefilter=prefilter_for(states + derived) if big else None):
            dispatch(record)
    except InputError as err:
        notes.append(f"{node.name}: log read stopped early: {err}; log rules saw only what came before")
    for d in derived:
        node.derived[d.derivation.name] = Datum(d.derivation.name, d.hits, node.source("log"))
    for state in states:
        if not state.triggered:
            findings.append(Finding(state.rule.code, state.rule.title, state.rule.severity, "pass", "", node.name))
            continue
        findings.extend(_collect(state.rule, node.name, lambda s=state: s.rule.func(node, s.hits), strict))
    return findings


# --- suppressions ----------------------------------------------------------------------------------

def _apply_suppressions(findings: List[Finding], supps: List[Suppression], today: date,
                        codes: set) -> List[SuppressionState]:
    """Mark the findings suppressions cover; return each suppression as judged.

    ``codes`` are the rules that ran: a suppression naming none of them is not counted (matched None).
    """
    states: List[SuppressionState] = []
    for supp in supps:
        if supp.problem or supp.expired(today):
            states.append(SuppressionState(supp, supp.problem, not supp.problem))
            continue
        used = 0
        for f in findings:
            if f.status in ("fail", "info") and f.suppressed is None and supp.matches(f.code, f.node):
                f.suppressed = f"{supp.reason} ({supp.where()})"
                used += 1
        judged = any(code.startswith(c) for c in supp.codes for code in codes)
        states.append(SuppressionState(supp, matched=used if judged else None))
    return states
