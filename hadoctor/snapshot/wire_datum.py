"""The ``wire`` datum: what heartbeat traffic looked like, from a capture or a ``probe listen`` report.

Sources (node folder): ``probe-listen.json`` (``hadoctor probe listen --format json``) or
``heartbeat.pcap`` in the node's folder, else ``heartbeat.pcap`` in the target folder (one capture
of the shared segment serves every node, each judged with its own authkeys and ha.cf).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

from hadoctor.errors import InputError
from hadoctor.jsondoc import ListOf, MapOf, Obj, load
from hadoctor.parsers.hacf import DEFAULT_UDPPORT

#: What :func:`from_listen_json` relies on in a ``probe listen --format json`` report.
LISTEN_SHAPE = Obj({
    "schema": str,
    "summary": Obj({
        "packets": int,
        "senders": ListOf(Obj({"node": str, "address": str, "packets": int, "auth_results": MapOf(int),
                               "status_interval_ms": (Obj({"max": (float, None)}), None)},
                              required=("node", "address", "packets"))),
        "foreign": ListOf(Obj({"node": str, "address": str, "packets": int, "auth_indexes": ListOf(int)},
                              required=("node", "address", "packets"))),
    }, required=("packets",)),
}, required=("schema", "summary"))


@dataclass
class WireSender:
    node: str
    address: str
    packets: int
    auth_results: Dict[str, int]
    interval_max_ms: Optional[float] = None


@dataclass
class WireObservation:
    source: str
    packets: int
    senders: List[WireSender] = field(default_factory=list)
    foreign: List[dict] = field(default_factory=list)  # node, address, packets, auth_indexes, methods
    problems: list = field(default_factory=list)

    def heard(self, node: str) -> List[WireSender]:
        return [s for s in self.senders if s.node == node]

    def to_dict(self) -> dict:
        return {"source": self.source, "packets": self.packets, "senders": [s.__dict__ for s in self.senders],
                "foreign": self.foreign}


def from_summary(summary, source: str) -> WireObservation:
    doc = summary.to_dict() if hasattr(summary, "to_dict") else summary
    senders = []
    for s in doc.get("senders", []):
        interval = s.get("status_interval_ms") or {}
        senders.append(WireSender(s["node"], s["address"], s["packets"], dict(s.get("auth_results", {})),
                                  interval.get("max")))
    foreign = [dict(f) for f in doc.get("foreign", [])]
    return WireObservation(source, doc.get("packets", 0), senders, foreign)


def from_listen_json(data: bytes, path: str) -> WireObservation:
    """A saved ``probe listen --format json`` report; InputError when it is not one or is damaged."""
    hint = "save it again with hadoctor probe listen --format json"
    doc = load(data, path, LISTEN_SHAPE, hint)
    if doc["schema"] != "hadoctor-listen/1":
        raise InputError(path, "not a `hadoctor probe listen --format json` report", hint)
    return from_summary(doc["summary"], path)


def from_pcap(path: str, authkeys=None, hacf=None) -> WireObservation:
    from hadoctor.wire.pcap import heartbeat_packets
    from hadoctor.wire.summary import summarize

    ports = set(hacf.ports() if hacf is not None else [DEFAULT_UDPPORT])
    nodes = None
    if hacf is not None:
        nodes = [n.name for n in hacf.nodes] or None
    packets = heartbeat_packets(path, ports)  # heartbeat messages on any port count: a capture is a recording
    return from_summary(summarize(packets, authkeys, nodes), path)
