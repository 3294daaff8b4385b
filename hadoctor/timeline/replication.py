"""MySQL/MariaDB replication events beside heartbeat's: what the replica's error log says (threads started,
stopped, errors; :mod:`hadoctor.parsers.mysqllog`) and the error times SHOW SLAVE STATUS gives (MySQL's
``Last_*_Error_Timestamp``). Both are in the server's local time, like heartbeat's log; a MySQL 8 error log
in UTC is shifted to the node's time where the collection said the node's offset (the detail says so), and
says it is UTC where not."""

from __future__ import annotations

from typing import List

from hadoctor.parsers.base import shorten
from hadoctor.timeline.events import Event

#: the data these events come from (build_timeline loads them beside the log)
DATA = ("mysql_log", "mysql_replica")


def replication_events(node, name: str) -> List[Event]:
    """Every replication event of ``node`` (a NodeSnapshot), in time order."""
    out: List[Event] = []
    log = node.find("mysql_log")
    for e in (log.entries if log is not None else []):
        thread = f"mysql {e.thread} thread" if e.thread else "mysql replication"
        if e.kind == "error":
            detail = (f"error {e.errno}: " if e.errno else "") + shorten(e.text, 160)
        else:
            detail = (f"at {e.position}" if e.position else shorten(e.text, 160))
        zone = " (time in UTC)" if e.utc else f" (UTC in the log; node time UTC{e.shifted})" if e.shifted else ""
        out.append(Event(e.time, name, "repl_" + e.kind, thread, detail + zone,
                         log.path, e.line))
    status = node.find("mysql_replica")
    for ch in (status.channels if status is not None else []):
        for thread, errno, when in ch.error_times():
            text = ch.text(f"Last_{thread}_Error") or ch.text("Last_Error")
            out.append(Event(when, name, "repl_error", f"mysql {thread} thread",
                             f"error {errno}: {shorten(text, 160)} (SHOW SLAVE STATUS)", status.path, ch.line))
    out.sort(key=lambda ev: ev.time)
    return out
