"""Timeline events: what one heartbeat log line means for the cluster's history.

Each node's log is streamed once with a prefilter built from :data:`KINDS`; every
matching record becomes an :class:`Event` (the messages: docs/heartbeat/logs.md#resources and the
sections after it).

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
from typing import Iterator, List, Optional, Pattern, Tuple

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


# kind, literal gate (must occur in the message), regex on the message, severity
_SPECS: List[Tuple[str, str, str, str]] = [
    ("hb_start", "Starting heartbeat", r"Configuration validated\. Starting heartbeat ?(?P<d>\S*)", "info"),
    ("config_error", "heartbeat not started",
     r"Configuration error, heartbeat not started|Heartbeat not started: configuration error", "error"),
    ("hb_stopping", "shutdown in progress", r"Heartbeat shutdown in progress", "info"),
    ("hb_stop", "shutdown complete", r"(?:^|\s)Heartbeat shutdown complete", "info"),
    ("peer_shutdown", "Received shutdown notice", r"Received shutdown notice from '(?P<s>[^']+)'", "info"),
    ("link_up", "Link ", r"^Link (?P<s>(?P<d>[^:\s]+):\S+) up\.", "info"),
    ("link_dead", "Link ", r"^Link (?P<s>(?P<d>[^:\s]+):\S+) dead\.", "warn"),
    ("node_dead", ": is dead", r"node (?P<s>\S+): is dead", "warn"),
    ("status", "Status update for node", r"Status update for node (?P<s>\S+): status (?P<d>\S+)", "info"),
    ("local_status", "Local status now set to", r"Local status now set to: '(?P<d>[^']+)'", "info"),
    ("acquire", "Acquiring resource group", r"Acquiring resource group: (?P<o>\S+) (?P<d>(?P<s>\S+).*)", "info"),
    ("release", "Releasing resource group", r"Releasing resource group: (?P<o>\S+) (?P<d>(?P<s>\S+).*)", "info"),
    ("takeover_group", "Taking over resource group", r"Taking over resource group (?P<s>\S+)", "warn"),
    ("giving_up", "Giving up resources due to failure", r"Giving up resources due to failure of (?P<s>\S+)", "error"),
    ("takeover_complete", "mach_down takeover complete", r"mach_down takeover complete(?: for node (?P<s>\S+?)\.?$)?",
     "warn"),
    ("resources_from", "Resources being acquired from", r"Resources being acquired from (?P<s>\S+?)\.?$", "warn"),
    ("release_all", "Giving up all HA resources", r"Giving up all HA resources", "info"),
    ("relinquished", "All HA resources relinquished", r"All HA resources relinquished", "info"),
    ("standby", "standby",
     r"(?P<s>\S+) wants to go standby(?: \[(?P<d>\w+)\])?|standby: (?P<d2>.+)|(?P<d3>(?:give up|acquire) \w+ HA "
     r"resources \(standby\))|(?P<d4>Standby resource acquisition done.*)|(?P<d5>Other node completed standby.*)",
     "info"),
    ("partition_return", "returning after partition", r"Cluster node (?P<s>\S+) returning after partition", "error"),
    ("both_own", "Both machines own", r"Both machines own (?P<s>our|foreign) resources", "error"),
    ("auth_failure", "uthenticat",
     r"Invalid authentication(?: type)? \[(?P<d>\d+)\]|node \[(?P<s>[^\]]+)\] failed authentication"
     r"|(?P<d2>authtoken does not match|netstring authentication failed)", "error"),
    ("foreign_sender", "bad node [", r"bad node \[(?P<s>[^\]]+)\] in message", "error"),
    ("late_heartbeat", "Late heartbeat", r"Late heartbeat: Node (?P<s>\S+): interval (?P<d>\d+) ms", "warn"),
    ("dispatch_delay", "Dispatch function for",
     r"Dispatch function for (?P<s>.+?) (?:was delayed (?P<d>\d+) ms|took too long to execute: (?P<d2>\d+) ms)",
     "warn"),
    ("emergency_shutdown", "Emergency Shutdown", r"Emergency Shutdown(?P<d>.*)", "error"),
    ("respawn", "espawn", r"Respawning client \"(?P<s>[^\"]+)\"|Client (?P<s2>\S+) \"respawning too fast\"", "warn"),
    ("restart", "estart", r"Heartbeat restart on node (?P<s>\S+)|(?P<d>Performing heartbeat restart exec)", "warn"),
]

#: kind -> severity (info, warn, error)
SEVERITY = {k: sev for k, _, _, sev in _SPECS}
#: kinds in extraction order
KINDS = [k for k, _, _, _ in _SPECS]
_COMPILED: List[Tuple[str, str, Pattern[str]]] = [(k, lit, re.compile(rx)) for k, lit, rx, _ in _SPECS]


def prefilter_patterns() -> List[str]:
    """Line patterns (literals) for :func:`hadoctor.parsers.hblog.compile_prefilter`."""
    lits = []
    for _, lit, _, _ in _SPECS:
        esc = re.escape(lit)
        if esc not in lits:
            lits.append(esc)
    return lits


def events_of(record, node: str, when: Optional[datetime] = None) -> Iterator[Event]:
    """The events one parsed log record stands for (usually none or one)."""
    msg = record.message
    if "\n" in msg:
        msg = msg.split("\n", 1)[0]
    t = record.time or when
    if t is None:
        return
    for kind, lit, rx in _COMPILED:
        if lit not in msg:
            continue
        m = rx.search(msg)
        if m is None:
            continue
        g = m.groupdict()
        subject = g.get("s") or g.get("s2") or ""
        detail = (g.get("d") or g.get("d2") or g.get("d3") or g.get("d4") or g.get("d5") or "")
        if kind in ("acquire", "release") and g.get("o"):
            detail = f"{detail} (owner {g['o']})"
        elif kind == "late_heartbeat":
            detail = f"interval {detail} ms"
        elif kind == "dispatch_delay":
            detail = f"{detail} ms"
        elif kind == "auth_failure" and not detail and subject:
            detail = "failed authentication"
        yield Event(t, node, kind, subject, detail.strip(), record.file, record.line)
        return          # one event per record: the first kind that matches
