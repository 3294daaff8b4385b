"""Rules, outcomes, evidence and findings: the vocabulary the rule kit, the engine and the reporters share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional, Tuple

SEVERITIES = ("info", "warning", "error")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
FAMILIES = {
    "CFG": "configuration (ha.cf, haresources)",
    "LOG": "heartbeat's log",
    "NET": "network: addresses, interfaces, firewall",
    "XND": "cross-node: what must be equal or mirrored on both nodes",
    "PKG": "package versions",
    "SEC": "security: authkeys and secrets",
    "SVC": "services behind the VIP",
    "MYS": "MySQL/MariaDB replication between the nodes",
    "HDR": "hadoctor itself: suppressions",
}


@dataclass(frozen=True)
class RuleDoc:
    meaning: str  # what the finding means
    why: str  # why it matters
    fix: str  # how to fix it
    links: Tuple[str, ...] = ()


@dataclass
class Rule:
    code: str
    title: str
    severity: str
    scope: str  # "node" or "cluster"
    needs: Tuple[str, ...]
    doc: RuleDoc
    func: Callable[..., Any]
    wants: Tuple[str, ...] = ()  # optional data: passed as None when missing
    patterns: Dict[str, str] = field(default_factory=dict)  # log rules: name -> regex on the message
    components: Tuple[str, ...] = ()  # log rules: only records from these components (empty = any)
    levels: Tuple[str, ...] = ()  # log rules: only records at these levels (empty = any)
    context: Dict[str, str] = field(default_factory=dict)  # log rules: tracked patterns that do not trigger
    min_hits: int = 1
    within: Optional[float] = None  # seconds: min_hits must fall inside one such window
    max_age: Optional[float] = None  # seconds before the end of the log; older hits are ignored
    #: log rules: pattern name -> function(record, match) giving the key its hits are also grouped by
    #: (Hits.groups); None drops the record
    group_by: Dict[str, Callable[..., Optional[str]]] = field(default_factory=dict)
    #: log rules: a line regex the log's prefilter uses instead of the trigger patterns (for a rule whose
    #: patterns match any message: it narrows by level words, which only the line shows)
    line_prefilter: Optional[str] = None
    opt_in: bool = False  # only runs when selected explicitly
    origin: str = "builtin"

    @property
    def family(self) -> str:
        return self.code.rstrip("0123456789")

    @property
    def is_log_rule(self) -> bool:
        return bool(self.patterns)


@dataclass
class Derivation:
    """A shared derivation (insights-core's combiner): data computed from the snapshot that several rules
    read by name in ``needs``/``wants``, exactly as they read a datum.

    The engine computes every derivation a selected rule names, whatever else is selected, so a rule's
    verdict never depends on another rule running. A *log* derivation (``pattern`` set) is the
    :class:`hadoctor.rulekit.Hits` of one regex over every record of the node's log, gathered in the same
    single pass as the log rules; any other derivation is ``func(node)`` once its ``needs`` are present.
    """

    name: str
    description: str
    needs: Tuple[str, ...] = ("log",)
    pattern: str = ""  # log derivations: a regex searched in each record's message
    func: Optional[Callable[..., Any]] = None  # other derivations: func(node_view) -> value
    origin: str = ""

    @property
    def is_log_derivation(self) -> bool:
        return bool(self.pattern)


@dataclass
class Evidence:
    node: Optional[str] = None
    file: Optional[str] = None
    line: Optional[int] = None
    text: str = ""
    time: Optional[datetime] = None
    observed: Optional[str] = None
    expected: Optional[str] = None

    def where(self) -> str:
        if self.file and self.line:
            return f"{self.file}:{self.line}"
        return self.file or ""

    def to_dict(self) -> dict:
        return {"node": self.node, "file": self.file, "line": self.line, "text": self.text,
                "time": self.time.isoformat() if self.time else None,
                "observed": self.observed, "expected": self.expected}


@dataclass
class Outcome:
    """What a rule function yields."""

    status: str  # "fail" or "info" or "skip"
    message: str
    evidence: List[Evidence] = field(default_factory=list)
    fix: str = ""
    severity: Optional[str] = None  # overrides the rule's severity for this outcome
    when: str = "now"  # "now": describes the cluster now; "past": an event in the log's history
    node: Optional[str] = None  # cluster rules: the node the outcome is about


@dataclass
class Finding:
    code: str
    title: str
    severity: str
    status: str  # fail, pass, skip, info
    message: str
    node: Optional[str]  # None for a cluster-wide finding
    evidence: List[Evidence] = field(default_factory=list)
    fix: str = ""
    when: str = "now"
    first_seen: Optional[datetime] = None
    last_seen: Optional[datetime] = None
    suppressed: Optional[str] = None  # the suppression's reason and where it is

    @property
    def counts(self) -> bool:
        """Whether this finding weighs on the exit code."""
        return self.status in ("fail", "info") and self.suppressed is None

    def to_dict(self) -> dict:
        return {
            "code": self.code, "title": self.title, "severity": self.severity, "status": self.status,
            "message": self.message, "node": self.node, "when": self.when,
            "first_seen": self.first_seen.isoformat() if self.first_seen else None,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "evidence": [e.to_dict() for e in self.evidence], "fix": self.fix, "suppressed": self.suppressed,
        }
