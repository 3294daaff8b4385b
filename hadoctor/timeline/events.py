"""Timeline events: what one heartbeat log line means for the cluster's history.

Each node's log is streamed once with a prefilter built from :data:`KINDS`; every
matching record becomes an :class:`Event`. The messages are the catalogue's (:mod:`hadoctor.catalogue`;
what they mean: docs/heartbeat/logs.md#resources and the sections after it).

>>> from datetime import datetime
>>> from hadoctor.parsers.hblog import parse_line
>>> rec = parse_line(b"Nov 25 09:19:26 node02 heartbeat: [11]: info: Link node01:eth0 dead.",
...                  reference=datetime(2026, 11, 30))
>>> [(e.kind, e.subject, e.detail) for e in events_of(rec, "node02")]
[('link_dead', 'node01:eth0', 'node01')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Dict, Iterator, List, Optional, Pattern, Tuple

from hadoctor.linear import compile_bounded

__all__ = ["Event", "KINDS", "SEVERITY", "events_of", "prefilter_patterns"]


@dataclass
class Event:
    """One thing that happened on a node, as its log says.

    ``time`` is the node's own clock (naive local time); ``subject`` names what the
    event is about (a peer, ``peer:iface``, a resource group key); ``detail`` is free
    text (a status, an interval in ms, the group's full resource line).
    """

    __slots__ = ("time", "node", "kind", "subject", "detail", "file", "line")
    time: datetime
    node: str
    kind: str
    subject: str
    detail: str
    file: str
    line: int

    def to_tuple(self) -> Tuple:
        return (self.time, self.node, self.kind, self.subject, self.detail, self.file, self.line)


# kind, severity, [(catalogue message, narrowed groups, subject, detail)]: subject and detail are format strings
# over the message's named groups ("{_}" is the whole match; a group that did not take part is "")
_SPECS: List[Tuple[str, str, List[Tuple[str, Dict[str, str], str, str]]]] = [
    ("hb_start", "info", [("hb.start", {}, "", "{version}")]),
    ("config_error", "error", [("hb.config_error", {}, "", ""), ("hb.parse_refused", {}, "", "")]),
    ("hb_stopping", "info", [("hb.shutdown_in_progress", {}, "", "")]),
    ("hb_stop", "info", [("hb.shutdown_complete", {}, "", "")]),
    ("peer_shutdown", "info", [("hb.shutdown_notice", {}, "{node}", "")]),
    ("link_up", "info", [("hb.link_status", {"status": "up"}, "{node}:{iface}", "{node}")]),
    ("link_dead", "warn", [("hb.link_status", {"status": "dead"}, "{node}:{iface}", "{node}")]),
    ("node_dead", "warn", [("hb.node_dead", {}, "{node}", "")]),
    ("status", "info", [("hb.status_update", {}, "{node}", "{status}")]),
    ("local_status", "info", [("hb.local_status", {}, "", "{status}")]),
    ("acquire", "info", [("rm.acquire", {}, "{first}", "{group} (owner {owner})")]),
    ("release", "info", [("rm.release", {}, "{first}", "{group} (owner {owner})")]),
    ("takeover_group", "warn", [("md.takeover_group", {}, "{group}", "")]),
    ("giving_up", "error", [("rm.giving_up", {}, "{rsc}", "")]),
    ("takeover_complete", "warn", [("md.takeover_complete", {}, "{node}", "")]),
    ("resources_from", "warn", [("hb.resources_from", {}, "{node}", "")]),
    ("release_all", "info", [("hb.release_all", {}, "", "")]),
    ("relinquished", "info", [("hb.relinquished", {}, "", "")]),
    ("standby", "info", [("hb.wants_standby", {}, "{node}", "{which}"), ("hb.standby_step", {}, "", "{step}"),
                         ("hb.standby_action", {}, "", "{action} (standby)"), ("hb.standby_done", {}, "", "{_}"),
                         ("hb.standby_other_done", {}, "", "{_}")]),
    ("partition_return", "error", [("hb.partition_return", {}, "{node}", "")]),
    ("both_own", "error", [("hb.both_own", {}, "{which}", "")]),
    ("auth_failure", "error", [("hb.auth_invalid_index", {}, "", "{index}"),
                               ("glue.failed_auth", {}, "{src}", "failed authentication"),
                               ("glue.authtoken_mismatch", {}, "", "{_}"),
                               ("glue.netstring_auth_failed", {}, "", "{_}")]),
    ("foreign_sender", "error", [("hb.bad_node", {}, "{src}", "")]),
    ("late_heartbeat", "warn", [("hb.late_heartbeat", {}, "{node}", "interval {ms} ms")]),
    ("dispatch_delay", "warn", [("glue.dispatch_delayed", {}, "{what}", "{ms} ms"),
                                ("glue.dispatch_too_long", {}, "{what}", "{ms} ms")]),
    ("emergency_shutdown", "error", [("hb.emergency", {}, "", "{detail}")]),
    ("respawn", "warn", [("hb.respawn", {}, "{client}", ""), ("hb.respawn_too_fast", {}, "{client}", "")]),
    ("restart", "warn", [("hb.peer_restart", {}, "{node}", ""), ("hb.restart_exec", {}, "", "{_}")]),
]

#: MySQL/MariaDB replication (hadoctor.timeline.replication: from the server's data, not heartbeat's log)
REPLICATION_KINDS = {"repl_error": "error", "repl_stopped": "warn", "repl_started": "info"}
#: kind -> severity (info, warn, error)
SEVERITY = {**{k: sev for k, sev, _ in _SPECS}, **REPLICATION_KINDS}
#: kinds in extraction order
KINDS = [k for k, _, _ in _SPECS]
_COMPILED: Optional[List[Tuple[str, str, Pattern[str], str, str]]] = None


def _compiled() -> List[Tuple[str, str, Pattern[str], str, str]]:
    """(kind, literal gate, regex, subject, detail) in extraction order, built once from the catalogue."""
    global _COMPILED
    if _COMPILED is None:
        from hadoctor.catalogue import gate, pattern

        _COMPILED = [(kind, gate(name), compile_bounded(pattern(name, **narrow)), subject, detail)
                     for kind, _, messages in _SPECS for name, narrow, subject, detail in messages]
    return _COMPILED


def prefilter_patterns() -> List[str]:
    """Line patterns (literals) for :func:`hadoctor.parsers.hblog.compile_prefilter`."""
    lits = []
    for _, lit, _, _, _ in _compiled():
        esc = re.escape(lit)
        if esc not in lits:
            lits.append(esc)
    return lits


class _Groups(dict):
    def __missing__(self, key: str) -> str:
        return ""


def events_of(record, node: str, when: Optional[datetime] = None) -> Iterator[Event]:
    """The events one parsed log record stands for (usually none or one)."""
    msg = record.message
    if "\n" in msg:
        msg = msg.split("\n", 1)[0]
    t = record.time or when
    if t is None:
        return
    for kind, lit, rx, subject, detail in _compiled():
        if lit not in msg:
            continue
        m = rx.search(msg)
        if m is None:
            continue
        groups = _Groups((k, v) for k, v in m.groupdict().items() if v is not None)
        groups["_"] = m.group(0)
        yield Event(t, node, kind, subject.format_map(groups), detail.format_map(groups).strip(), record.file,
                    record.line)
        return          # one event per record: the first kind that matches
