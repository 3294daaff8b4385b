"""One cluster's check, reduced to what monitoring and fleet reporters need.

A :class:`ClusterResult` is plain picklable data (no rule functions), so fleet workers can return
it from another process. A single ``check`` is a fleet of one: the Nagios, Prometheus and fleet
reporters all take a list of them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from hadoctor.errors import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK
from hadoctor.rulemodel import SEVERITY_RANK, Finding

_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")


def one_line(text: str) -> str:
    """Text from the input on one line: whitespace runs become one space, any other control character
    is shown as its escape (hadoctor.terminal.visible)."""
    from hadoctor.terminal import visible

    return visible(" ".join(str(text).split()))


@dataclass
class ClusterResult:
    name: str  # the cluster label: the folder or bundle name, or the live cluster's node list
    target: str
    findings: List[Finding] = field(default_factory=list)  # fail/info only (passes and skips dropped)
    nodes: List[str] = field(default_factory=list)
    incomplete: Dict[str, List[str]] = field(default_factory=dict)  # node -> core data it lacks
    notes: List[str] = field(default_factory=list)
    rules: int = 0
    seconds: float = 0.0
    exit_code: int = 0
    error: Optional[str] = None  # the input error that stopped the check (then nothing else is known)
    data_time: Optional[float] = None  # epoch seconds: when the data was collected (bundle) or last written
    log_states: list = field(default_factory=list)  # hadoctor.timeline.state.LogState per node, when asked

    @property
    def counted(self) -> List[Finding]:
        return [f for f in self.findings if f.counts]

    def count(self, severity: str) -> int:
        return sum(1 for f in self.counted if f.severity == severity)

    def worst(self) -> Optional[str]:
        """The worst severity among counted findings, None when there is none."""
        counted = self.counted
        return max((f.severity for f in counted), key=SEVERITY_RANK.__getitem__) if counted else None

    def rank(self) -> int:
        """For sorting worst first: an input error, then errors, warnings, incomplete, info, clean."""
        if self.error:
            return 5
        worst = self.worst()
        if worst == "error":
            return 4
        if worst == "warning":
            return 3
        if self.incomplete:
            return 2
        return 1 if worst == "info" else 0


def cluster_label(target: Optional[str], node_names: List[str]) -> str:
    """A stable, bounded name: the target's base name, or for the live host its ha.cf node list."""
    if target is None:
        return ",".join(sorted(node_names)) or "localhost"
    base = os.path.basename(os.path.normpath(target)) or target
    for suffix in _ARCHIVE_SUFFIXES:
        if base.endswith(suffix) and len(base) > len(suffix):
            return base[:-len(suffix)]
    return base


def from_report(report, cluster, *, target: Optional[str], exit_code: int, log_states: Optional[list] = None,
                data_time: Optional[float] = None) -> ClusterResult:
    from hadoctor.datums import CORE_DATA

    names = []
    for node in cluster.nodes:
        cf = node.find("ha_cf")
        names.extend(cf.node_names if cf is not None else [])
    label = cluster_label(target, sorted(set(names)) or [n.name for n in cluster.nodes])
    incomplete = {n["name"]: [d for d in CORE_DATA if d in n["missing"]] for n in report.nodes}
    return ClusterResult(
        name=label, target=report.target, findings=[f for f in report.findings if f.status in ("fail", "info")],
        nodes=[n["name"] for n in report.nodes], incomplete={k: v for k, v in incomplete.items() if v},
        notes=list(report.notes), rules=len(report.rules), seconds=report.seconds, exit_code=exit_code,
        log_states=log_states or [], data_time=data_time)


def from_error(target: Optional[str], message: str, exit_code: int) -> ClusterResult:
    return ClusterResult(name=cluster_label(target, []), target=target or "this host", error=message,
                         exit_code=exit_code)


def exit_code(report, fail_on: str) -> int:
    """1 for a finding at or above ``fail_on``; else 3 when a node lacks core data; else 0."""
    from hadoctor.datums import CORE_DATA

    if report.at_or_above(fail_on):
        return EXIT_FINDINGS
    if any(name in n["missing"] for n in report.nodes for name in CORE_DATA):
        return EXIT_INCOMPLETE
    return EXIT_OK
