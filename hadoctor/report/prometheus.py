"""Prometheus text exposition format 0.0.4, for node_exporter's textfile collector or a scrape.

Naming follows the Prometheus conventions: ``hadoctor_`` prefix, base units in the name
(``_seconds``), ``_info`` for constant-1 metadata; every series is a gauge (a check is a snapshot,
it counts nothing across runs, so no ``_total``). Label values are bounded: cluster, node, peer and
interface names, rule codes, severities; never a message, a path or a time. No sample carries a
timestamp (the textfile collector refuses them); staleness is node_exporter's
``node_textfile_mtime_seconds``.

Findings are ``hadoctor_finding{cluster,node,code,severity,when} N`` (N findings of that code on
that node, usually 1); a cluster-wide finding is reported once per node its evidence names, or
with ``node=""`` when it names none. Absent series mean "no such finding", as with ALERTS.

>>> from hadoctor.report.result import ClusterResult
>>> print(render_prometheus([ClusterResult("c1", "c1", nodes=["a"], rules=3)], "0.1").splitlines()[0])
# HELP hadoctor_check_success 1 when the check ran on complete data (every node has ha.cf, haresources, authkeys, log and addresses), 0 otherwise.
"""

from __future__ import annotations

from collections import Counter
from typing import Dict, List, Tuple

from hadoctor.report.result import ClusterResult

_FAMILIES: List[Tuple[str, str]] = [
    ("hadoctor_check_success", "1 when the check ran on complete data (every node has ha.cf, haresources, "
                               "authkeys, log and addresses), 0 otherwise."),
    ("hadoctor_check_duration_seconds", "Seconds the rules took."),
    ("hadoctor_check_rules", "Rules the check ran."),
    ("hadoctor_findings", "Findings by severity (suppressed ones excluded)."),
    ("hadoctor_finding", "Findings by rule code, severity and node; when is now or past (history in the log)."),
    ("hadoctor_node_core_data_present", "1 when the node's core datum could be read, 0 when it is missing."),
    ("hadoctor_heartbeat_running", "1 when the node's log ends in a running heartbeat (last start after the last "
                                   "stop), 0 when it ends stopped."),
    ("hadoctor_heartbeat_link_up", "Each heartbeat link to a peer as the node's log last reported it "
                                   "(Link peer:interface up/dead)."),
    ("hadoctor_heartbeat_peer_up", "Each peer as the node's log last reported it: 0 after 'is dead' or "
                                   "status dead, 1 after any other status."),
    ("hadoctor_last_takeover_timestamp_seconds", "When the node last took over resources from a dead peer "
                                                 "(log time read as this host's local time)."),
    ("hadoctor_log_last_record_timestamp_seconds", "Time of the node's last dated log record "
                                                   "(log time read as this host's local time)."),
    ("hadoctor_build_info", "The hadoctor version that wrote these metrics."),
]


def escape_label(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items()) + "}"


def _num(value: float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return repr(round(float(value), 6))


def render_prometheus(results: List[ClusterResult], version: str) -> str:
    from hadoctor.datums import CORE_DATA

    samples: Dict[str, List[str]] = {name: [] for name, _ in _FAMILIES}

    def add(name: str, value, **labels: str) -> None:
        samples[name].append(f"{name}{_labels(**labels)} {_num(value)}")

    for r in results:
        c = r.name
        add("hadoctor_check_success", not r.error and not r.incomplete, cluster=c)
        if r.error:
            continue
        add("hadoctor_check_duration_seconds", r.seconds, cluster=c)
        add("hadoctor_check_rules", r.rules, cluster=c)
        for severity in ("error", "warning", "info"):
            add("hadoctor_findings", r.count(severity), cluster=c, severity=severity)
        per: Counter = Counter()
        for f in r.counted:
            nodes = [f.node] if f.node else sorted({e.node for e in f.evidence if e.node}) or [""]
            for node in nodes:
                per[(node, f.code, f.severity, f.when)] += 1
        for (node, code, severity, when), n in sorted(per.items()):
            add("hadoctor_finding", n, cluster=c, node=node, code=code, severity=severity, when=when)
        for node in r.nodes:
            lacking = r.incomplete.get(node, [])
            for datum in CORE_DATA:
                add("hadoctor_node_core_data_present", datum not in lacking, cluster=c, node=node, datum=datum)
        for s in r.log_states:
            if s.running is not None:
                add("hadoctor_heartbeat_running", s.running, cluster=c, node=s.node)
            for (peer, iface), up in sorted(s.links.items()):
                add("hadoctor_heartbeat_link_up", up, cluster=c, node=s.node, peer=peer, interface=iface)
            for peer, status in sorted(s.peers.items()):
                add("hadoctor_heartbeat_peer_up", status != "dead", cluster=c, node=s.node, peer=peer)
            if s.last_takeover is not None:
                add("hadoctor_last_takeover_timestamp_seconds", s.last_takeover.timestamp(), cluster=c, node=s.node)
            if s.end is not None:
                add("hadoctor_log_last_record_timestamp_seconds", s.end.timestamp(), cluster=c, node=s.node)
    add("hadoctor_build_info", 1, version=version)
    out: List[str] = []
    for name, text in _FAMILIES:
        if samples[name]:
            out += [f"# HELP {name} {_help(text)}", f"# TYPE {name} gauge"] + samples[name]
    return "\n".join(out) + "\n"

