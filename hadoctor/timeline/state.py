"""What a node's log says about the cluster at its end: links, peers, the last takeover.

One prefiltered pass over the log with the timeline's own event patterns (events.py), keeping
only the latest state: memory does not grow with the log. Monitoring output (Prometheus) reads
it; a heartbeat restart or stop clears what the previous run had seen.

>>> import os, tempfile
>>> from hadoctor.snapshot.logsource import LogSource
>>> d = tempfile.mkdtemp(); p = os.path.join(d, "heartbeat.log")
>>> _ = open(p, "wb").write(b"Nov 25 09:19:09 node01 heartbeat: [11]: info: Link node02:eth0 up.\\n"
...     b"Nov 25 09:19:09 node01 heartbeat: [11]: info: Status update for node node02: status active\\n"
...     b"Nov 25 09:19:27 node01 heartbeat: [11]: WARN: node node02: is dead\\n"
...     b"Nov 25 09:19:27 node01 heartbeat: [11]: info: Link node02:eth0 dead.\\n")
>>> s = log_state("node01", LogSource([p]))
>>> s.links, s.peers
({('node02', 'eth0'): False}, {'node02': 'dead'})
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Dict, Optional, Tuple

from hadoctor.timeline.events import events_of

#: the event kinds this pass keeps (a subset of events.KINDS)
_KINDS = ("hb_start", "hb_stop", "link_up", "link_dead", "node_dead", "status", "takeover_group",
          "takeover_complete")
_LITERALS = ("Starting heartbeat", "shutdown complete", "Link ", ": is dead", "Status update for node",
             "Taking over resource group", "mach_down takeover complete")


@dataclass
class LogState:
    node: str
    links: Dict[Tuple[str, str], bool] = field(default_factory=dict)  # (peer, interface) -> up
    peers: Dict[str, str] = field(default_factory=dict)  # peer -> last status ("active", "dead", ...)
    running: Optional[bool] = None  # heartbeat's last start/stop in the log; None when neither is seen
    last_takeover: Optional[datetime] = None  # node's own clock (naive local time)
    end: Optional[datetime] = None  # the last dated record


def log_state(node: str, source) -> LogState:
    """Stream ``source`` (a LogSource) once; raises InputError like any log read."""
    import re

    from hadoctor.parsers.hblog import compile_prefilter

    state = LogState(node)
    prefilter = compile_prefilter([re.escape(lit) for lit in _LITERALS])
    last_time = None
    for record in source.records(prefilter=prefilter):
        if record.time is not None:
            last_time = record.time
        for ev in events_of(record, node, last_time):
            if ev.kind in _KINDS:
                _apply(state, ev)
    state.end = source.end_time() or last_time
    return state


def _apply(state: LogState, ev) -> None:
    kind = ev.kind
    if kind in ("hb_start", "hb_stop"):
        state.links.clear()
        state.peers.clear()
        state.running = kind == "hb_start"
    elif kind in ("link_up", "link_dead"):
        peer, _, iface = ev.subject.partition(":")
        if peer != state.node and iface:
            state.links[(peer, iface)] = kind == "link_up"
    elif kind == "node_dead":
        if ev.subject != state.node:
            state.peers[ev.subject] = "dead"
    elif kind == "status":
        if ev.subject != state.node and ev.detail:
            state.peers[ev.subject] = ev.detail
    elif kind in ("takeover_group", "takeover_complete"):
        state.last_takeover = ev.time
