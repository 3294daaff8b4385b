"""Snapshots: everything known about one node, and about the cluster.

A :class:`NodeSnapshot` maps each logical datum name (``ha_cf``, ``haresources``,
``authkeys``, ``log``, ``addresses``, ...; see :mod:`hadoctor.datums`)
to a :class:`Datum` holding either a parsed value and where it came from, or the
reason it is missing. Rules ask for data by name; a missing datum makes them skip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


class MissingData(LookupError):
    """Raised by :meth:`NodeSnapshot.get` for a datum that could not be collected."""

    def __init__(self, node: str, name: str, reason: str) -> None:
        super().__init__(f"{node}: {name} is missing: {reason}")
        self.node = node
        self.name = name
        self.reason = reason


@dataclass
class Datum:
    name: str
    value: Any = None
    source: str = ""  # a path, "netlink", or a command line
    missing: str = ""  # why the value is absent; empty when present
    kind: str = ""  # when missing: registry.ABSENT, UNREADABLE or FAILED

    @property
    def present(self) -> bool:
        return not self.missing


@dataclass
class NodeSnapshot:
    name: str
    origin: str  # "live host", "folder /x/node01", "bundle x.tar.gz:node01"
    data: Dict[str, Datum] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)

    def put(self, name: str, value: Any, source: str) -> None:
        self.data[name] = Datum(name, value, source)

    def mark_missing(self, name: str, reason: str, source: str = "", kind: str = "absent") -> None:
        """Record why ``name`` is missing; ``kind`` is absent, unreadable or failed (hadoctor.datums)."""
        self.data[name] = Datum(name, None, source, reason or "not collected", kind)

    def has(self, name: str) -> bool:
        datum = self.data.get(name)
        return datum is not None and datum.present

    def get(self, name: str) -> Any:
        datum = self.data.get(name)
        if datum is None:
            raise MissingData(self.name, name, "not collected in this context")
        if not datum.present:
            raise MissingData(self.name, name, datum.missing)
        return datum.value

    def find(self, name: str) -> Optional[Any]:
        return self.data[name].value if self.has(name) else None

    def source(self, name: str) -> str:
        datum = self.data.get(name)
        return datum.source if datum else ""

    def missing(self) -> Dict[str, str]:
        return {n: d.missing for n, d in self.data.items() if not d.present}


@dataclass
class ClusterSnapshot:
    target: str  # what the user named
    context: str  # "live", "folder", "bundle"
    nodes: List[NodeSnapshot] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)

    def node(self, name: str) -> Optional[NodeSnapshot]:
        for node in self.nodes:
            if node.name == name:
                return node
        return None

    @property
    def node_names(self) -> List[str]:
        return [n.name for n in self.nodes]
