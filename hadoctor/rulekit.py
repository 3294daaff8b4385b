"""The API for writing hadoctor rules.

A rule is a function decorated with :func:`rule` (or :func:`log_rule`). It names
the data it needs; the engine hands it a :class:`NodeView` (node scope) or a
:class:`ClusterView` (cluster scope) and the rule yields outcomes built with
:func:`fail` or :func:`info`. A rule that yields nothing passes. A rule never
opens files or runs commands: everything comes from the snapshot.

Example::

    @rule("CFG101", "deadtime must be more than twice keepalive", severity="error",
          needs=("ha_cf",), doc=Doc(meaning=..., why=..., fix=...))
    def deadtime_vs_keepalive(node):
        if node.ha_cf.deadtime.ms <= 2 * node.ha_cf.keepalive.ms:
            yield fail("...", evidence=[at(node, node.ha_cf.path, line, text)])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence

from hadoctor import catalogue as _msg
from hadoctor.rulemodel import SEVERITIES, Derivation, Evidence, Outcome, Rule, RuleDoc

Doc = RuleDoc

#: The attribute :func:`rule` and :func:`log_rule` set on the function they decorate: its Rule.
#: Discovery reads rules off the module (:func:`rules_of`), so loading a module twice, or finding it
#: already imported, gives the same rules; importing a rule module changes no global list.
RULE_ATTRIBUTE = "__hadoctor_rule__"

_CODE = re.compile(r"^[A-Z]{3}\d{3}$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
DERIVATION_ATTRIBUTE = "__hadoctor_derivation__"


def log_derivation(name: str, pattern: str, description: str) -> Derivation:
    """Declare a log derivation: the :class:`Hits` of ``pattern`` over every record of a node's log.
    Assign it to a module-level name (``PEER_DEATHS = log_derivation(...)``): discovery reads it there.

    A rule that lists ``name`` in ``needs`` or ``wants`` reads ``node.<name>`` (a :class:`Hits`); the
    engine gathers it in the node's one log pass whenever such a rule is selected.
    """
    if pattern.startswith("^"):
        raise ValueError(f"derivation {name}: pattern is anchored; log patterns are searched in the message")
    return _derivation(Derivation(name, description, ("log",), pattern=pattern))


def derivation(name: str, description: str, *, needs: Sequence[str]) -> Callable:
    """Declare a derivation computed by the decorated ``func(node)`` once ``needs`` are present."""
    def register(func: Callable) -> Callable:
        setattr(func, DERIVATION_ATTRIBUTE, _derivation(Derivation(name, description, tuple(needs), func=func,
                                                                   origin=getattr(func, "__module__", ""))))
        return func
    return register


def _derivation(made: Derivation) -> Derivation:
    from hadoctor.datums import DATUMS

    if not _NAME.match(made.name) or made.name in DATUMS:
        raise ValueError(f"derivation name {made.name!r} must be lower_case and not a datum's name")
    return made


def derivations_of(module: Any) -> List[Derivation]:
    """The derivations a module defines: module-level Derivation values and decorated functions."""
    found: List[Derivation] = []
    for value in list(vars(module).values()):
        made = getattr(value, DERIVATION_ATTRIBUTE, None) if callable(value) else value
        if isinstance(made, Derivation) and made not in found:
            found.append(made)
    return found


def rule(code: str, title: str, *, severity: str, needs: Sequence[str], doc: RuleDoc,
         scope: str = "node", wants: Sequence[str] = (), opt_in: bool = False) -> Callable:
    """Register a config/network/cross-node rule."""
    def register(func: Callable) -> Callable:
        setattr(func, RULE_ATTRIBUTE, _make(code, title, severity, scope, needs, wants, doc, func, opt_in=opt_in))
        return func
    return register


def log_rule(code: str, title: str, *, severity: str, patterns: Dict[str, str], doc: RuleDoc,
             context: Optional[Dict[str, str]] = None, levels: Sequence[str] = (),
             components: Sequence[str] = (), needs: Sequence[str] = ("log",), wants: Sequence[str] = (),
             min_hits: int = 1, within: Optional[timedelta] = None, max_age: Optional[timedelta] = None,
             group_by: Optional[Dict[str, Callable[..., Optional[str]]]] = None, line_prefilter: Optional[str] = None,
             opt_in: bool = False) -> Callable:
    """Register a log rule. ``patterns`` are searched in each record's message (no ``^`` anchors).

    ``context`` patterns are tracked the same way but never trigger the rule on their own (e.g.
    heartbeat's start line, to tell the current run from earlier ones). ``levels`` and
    ``components`` restrict which records the trigger patterns look at.

    The engine streams each node's log once for all log rules and calls the function with
    ``(node, hits)`` where ``hits`` maps each pattern name to a :class:`Hits`, only when at
    least ``min_hits`` hits (within ``within`` of each other, newer than ``max_age`` before the
    end of the log) were seen.

    ``group_by`` maps a pattern name to ``key(record, match)``: its hits are also counted per key in
    ``Hits.groups`` (e.g. per link, per distinct message); a None key drops the record. ``line_prefilter``
    is a regex on the raw line that replaces the trigger patterns in the log's prefilter.
    """
    for name, pattern in list(patterns.items()) + list((context or {}).items()):
        if pattern.startswith("^"):
            raise ValueError(f"{code}: pattern {name!r} is anchored; log patterns are searched in the message")
    # patterns are compiled when a log is read (start-up stays fast); the catalogue test compiles them all

    def register(func: Callable) -> Callable:
        made = _make(code, title, severity, "node", tuple(needs), wants, doc, func, opt_in=opt_in)
        made.patterns = dict(patterns)
        made.components = tuple(components)
        made.levels = tuple(levels)
        made.context = dict(context or {})
        made.min_hits = min_hits
        made.within = within.total_seconds() if within else None
        made.max_age = max_age.total_seconds() if max_age else None
        made.group_by = dict(group_by or {})
        made.line_prefilter = line_prefilter
        setattr(func, RULE_ATTRIBUTE, made)
        return func
    return register


def rules_of(module: Any) -> List[Rule]:
    """The rules a module defines: those of its decorated functions, and of the submodules of a
    package it has imported (a plugin package whose ``__init__`` imports its rule modules)."""
    found: Dict[int, Rule] = {}
    seen = set()
    todo = [module]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        prefix = current.__name__ + "."
        for value in list(vars(current).values()):
            made = getattr(value, RULE_ATTRIBUTE, None) if callable(value) else None
            if isinstance(made, Rule):
                found.setdefault(id(made), made)
            elif isinstance(value, type(module)) and value.__name__.startswith(prefix):
                todo.append(value)
    return list(found.values())


def _make(code, title, severity, scope, needs, wants, doc, func, opt_in=False) -> Rule:
    if not _CODE.match(code):
        raise ValueError(f"rule code {code!r} must be three capitals and three digits, e.g. CFG101")
    if severity not in SEVERITIES:
        raise ValueError(f"{code}: severity must be one of {SEVERITIES}")
    if scope not in ("node", "cluster"):
        raise ValueError(f"{code}: scope must be node or cluster")
    return Rule(code=code, title=title, severity=severity, scope=scope, needs=tuple(needs), doc=doc,
                func=func, wants=tuple(wants), opt_in=opt_in, origin=getattr(func, "__module__", ""))


def fail(message: str, evidence: Iterable[Evidence] = (), *, fix: str = "", severity: Optional[str] = None,
         when: str = "now", node: Optional[str] = None) -> Outcome:
    """A failure: something is wrong (now, or in the log's history with ``when="past"``)."""
    return Outcome("fail", message, list(evidence), fix, severity, when, node)


def info(message: str, evidence: Iterable[Evidence] = (), *, fix: str = "", when: str = "now",
         node: Optional[str] = None) -> Outcome:
    """Something worth knowing that is not a fault."""
    return Outcome("info", message, list(evidence), fix, "info", when, node)


def skip(message: str) -> Outcome:
    """The rule cannot judge this case (beyond missing data, which the engine handles)."""
    return Outcome("skip", message)


def at(node: Any, file: Optional[str], line: Optional[int], text: str = "", *, observed: Any = None,
       expected: Any = None) -> Evidence:
    """Evidence pointing at a line of a file on a node."""
    return Evidence(node=getattr(node, "name", node), file=file, line=line or None, text=text,
                    observed=None if observed is None else str(observed),
                    expected=None if expected is None else str(expected))


def from_record(node: Any, record: Any, *, observed: Any = None, expected: Any = None) -> Evidence:
    """Evidence from a log record."""
    text = record.message if len(record.message) < 400 else record.message[:399] + "…"
    return Evidence(node=getattr(node, "name", node), file=record.file, line=record.line, text=text,
                    time=record.time, observed=None if observed is None else str(observed),
                    expected=None if expected is None else str(expected))


@dataclass
class Hits:
    """What one log pattern matched on one node: counts, times, a few samples, captured values."""

    count: int = 0
    first: Any = None  # the first matching record
    last: Any = None  # the last matching record
    samples: List[Any] = field(default_factory=list)  # up to SAMPLE records (first ones)
    values: Dict[str, Dict[str, int]] = field(default_factory=dict)  # named group -> value -> count
    numbers: Dict[str, List[float]] = field(default_factory=dict)  # named group -> [min, max, sum, n]
    groups: Dict[str, "Hits"] = field(default_factory=dict)  # key -> its hits (rules with group_by)
    groups_dropped: int = 0  # hits whose key found no room (more than MAX_GROUPS keys)
    SAMPLE = 5
    MAX_VALUES = 100
    MAX_GROUPS = 200

    @property
    def first_time(self) -> Optional[datetime]:
        return self.first.time if self.first is not None else None

    @property
    def last_time(self) -> Optional[datetime]:
        return self.last.time if self.last is not None else None

    def add(self, record: Any, match: "re.Match[str]") -> None:
        self.count += 1
        if self.first is None:
            self.first = record
        self.last = record
        if len(self.samples) < self.SAMPLE:
            self.samples.append(record)
        for group, value in match.groupdict().items():
            if value is None:
                continue
            seen = self.values.setdefault(group, {})
            if value in seen or len(seen) < self.MAX_VALUES:
                seen[value] = seen.get(value, 0) + 1
            try:
                number = float(value)
            except ValueError:
                continue
            stats = self.numbers.get(group)
            if stats is None:
                self.numbers[group] = [number, number, number, 1]
            else:
                stats[0] = min(stats[0], number)
                stats[1] = max(stats[1], number)
                stats[2] += number
                stats[3] += 1

    def add_grouped(self, key: str, record: Any, match: "re.Match[str]") -> None:
        """Count a hit in the total and under ``key``."""
        self.add(record, match)
        group = self.groups.get(key)
        if group is None:
            if len(self.groups) >= self.MAX_GROUPS:
                self.groups_dropped += 1
                return
            group = self.groups[key] = Hits()
        group.add(record, match)

    def evidence(self, node: Any, limit: int = 3) -> List[Evidence]:
        """Evidence from the first samples and the last record."""
        records = list(self.samples[:limit])
        if self.last is not None and all(self.last is not r for r in records):
            records.append(self.last)
        return [from_record(node, r) for r in records]


#: heartbeat's own start line: everything after the last one is the current run.
START_PATTERN = _msg.pattern("hb.start", "hb.restart_exec")


def in_current_run(hits: Dict[str, "Hits"], name: str, start: str = "start") -> bool:
    """Whether the last hit of ``name`` came after heartbeat's last (re)start (or no start was logged)."""
    last = hits[name].last
    started = hits.get(start)
    if last is None:
        return False
    if started is None or started.last is None:
        return True
    if last.time is not None and started.last.time is not None:
        return last.time >= started.last.time
    return (last.file, last.line) >= (started.last.file, started.last.line)


class NodeView:
    """What a node-scoped rule sees: ``node.ha_cf``, ``node.name``, ``node.peers``."""

    def __init__(self, snapshot: Any, cluster: "ClusterView") -> None:
        self._snapshot = snapshot
        self.cluster = cluster
        self.name: str = snapshot.name
        #: derivation name -> Datum, filled by the engine for the derivations the selected rules name
        self.derived: Dict[str, Any] = {}

    def __getattr__(self, datum: str) -> Any:
        from hadoctor.datums import DATUMS

        if datum.startswith("_") or datum == "derived":
            raise AttributeError(datum)
        if datum in self.derived:
            found = self.derived[datum]
            return found.value if found.present else None
        if datum not in DATUMS and datum != "suppressions":  # a typo must not read as "missing data"
            raise AttributeError(f"no datum {datum!r} (known: {', '.join(sorted(DATUMS))}), and no derivation of "
                                 "that name was computed: a rule lists every derivation it reads in needs or wants")
        return self._snapshot.find(datum)

    def has(self, datum: str) -> bool:
        if datum in self.derived:
            return self.derived[datum].present
        return self._snapshot.has(datum)

    def missing_reason(self, datum: str) -> str:
        """Why ``datum`` (a datum or a derivation) is absent on this node."""
        found = self.derived.get(datum) or self._snapshot.data.get(datum)
        return found.missing if found is not None else "not collected"

    def source(self, datum: str) -> str:
        return self._snapshot.source(datum)

    @property
    def peers(self) -> List["NodeView"]:
        return [n for n in self.cluster.nodes if n is not self]

    def __repr__(self) -> str:
        return f"NodeView({self.name!r})"


class ClusterView:
    """What a cluster-scoped rule sees: the nodes of one cluster, each a NodeView; a rule reading the
    engine's own data (``cluster.suppression_use``) sees every node of the target."""

    def __init__(self, snapshot: Any, nodes: Optional[List[NodeView]] = None) -> None:
        self.snapshot = snapshot
        self.nodes: List[NodeView] = nodes if nodes is not None else [NodeView(n, self) for n in snapshot.nodes]
        #: name -> Datum: what the engine says about the run (hadoctor.engine.runner.ENGINE_DATA), for the
        #: rules that name it
        self.derived: Dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "derived":
            raise AttributeError(name)
        if name in self.derived:
            return self.derived[name].value
        raise AttributeError(f"a cluster view has no {name!r}: a rule lists the engine data it reads in needs")

    def split_clusters(self) -> List["ClusterView"]:
        """Group the nodes into clusters by membership (a node declared in another's ha.cf belongs with it).

        A target can hold two clusters (a foreign cluster on the same segment, captured alongside); cross-node
        rules must compare only nodes of one cluster. Each NodeView's ``cluster`` is set to its group.
        """
        root = {id(n): id(n) for n in self.nodes}

        def find(key: int) -> int:
            while root[key] != key:
                root[key] = root[root[key]]
                key = root[key]
            return key

        declared = {id(n): {m.name for m in n.ha_cf.nodes} if n.ha_cf is not None else None for n in self.nodes}
        for a in self.nodes:
            for b in self.nodes:
                da, db = declared[id(a)], declared[id(b)]
                if a is b or (da is not None and db is not None and not (b.name in da or a.name in db)):
                    continue
                if da is None and db is None or (da is not None and b.name in da) or (db is not None and a.name in db):
                    root[find(id(a))] = find(id(b))
        groups: Dict[int, List[NodeView]] = {}
        for n in self.nodes:
            groups.setdefault(find(id(n)), []).append(n)
        views = []
        for members in groups.values():
            view = ClusterView(self.snapshot, members)
            for n in members:
                n.cluster = view
            views.append(view)
        return views

    def with_data(self, *names: str) -> List[NodeView]:
        return [n for n in self.nodes if all(n.has(d) for d in names)]

    def node(self, name: str) -> Optional[NodeView]:
        for n in self.nodes:
            if n.name == name:
                return n
        return None
