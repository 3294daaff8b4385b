"""The heartbeat log's record model (:mod:`hadoctor.parsers.hblog`): one :class:`LogRecord` per message,
its size bounds, and how a record takes its continuation lines (an authentication failure dumps raw
packet bytes over several lines, docs/heartbeat/logs.md#rejected-packets).

>>> rec = LogRecord(None, "nodea", "heartbeat", None, 2129, "error", "netstring authentication failed, s=###",
...                 "ha-log", 1, "syslog", False, 1)
>>> close_record(rec, ["11:(0)t=status,8:(0)st=up,%%%", ""], False).nlines, rec.message
(3, 'netstring authentication failed, s=###\\n11:(0)t=status,8:(0)st=up,%%%')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import List, Optional, Union

from hadoctor.parsers.base import Problem, shorten

#: Longest line kept; the rest of a longer line is skipped and the record marked truncated.
MAX_LOG_LINE = 64 * 1024
#: Continuation lines attached to one record at most ...
MAX_CONTINUATION_LINES = 64
#: ... and their bytes at most (each line counts its length plus one).
MAX_CONTINUATION_BYTES = 64 * 1024

Reference = Union[datetime, date, None]


@dataclass
class LogRecord:
    """One log message: a line in one of the layouts above plus its continuation lines.

    ``time`` is naive local time as written (None when the line has none or it is
    impossible, like Feb 30); ``level`` is one of emerg, alert, crit, error, warn,
    notice, info, debug or None; ``line`` is the first physical line (1-based) and
    ``nlines`` the number of physical lines the record spans.
    """

    __slots__ = ("time", "host", "component", "instance", "pid", "level", "message",
                 "file", "line", "layout", "truncated", "nlines")
    time: Optional[datetime]
    host: Optional[str]
    component: Optional[str]
    instance: Optional[str]
    pid: Optional[int]
    level: Optional[str]
    message: str
    file: str
    line: int
    layout: str
    truncated: bool
    nlines: int

    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def to_dict(self) -> dict:
        return {
            "time": self.time.isoformat() if self.time is not None else None,
            "host": self.host, "component": self.component, "instance": self.instance,
            "pid": self.pid, "level": self.level,
            "message": shorten(self.message, MAX_LOG_LINE + MAX_CONTINUATION_BYTES),
            "file": self.file, "line": self.line, "nlines": self.nlines,
            "layout": self.layout, "truncated": self.truncated,
        }


@dataclass
class HbLog:
    """A whole (small) log parsed at once; see :func:`parse_hblog`. Large logs are streamed instead."""

    path: str
    records: List[LogRecord] = field(default_factory=list)
    problems: List[Problem] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"path": self.path, "records": [r.to_dict() for r in self.records],
                "problems": [vars(p) for p in self.problems]}


def unknown_record(text: str, path: str, lineno: int, trunc: bool) -> LogRecord:
    return LogRecord(None, None, None, None, None, None, text, path, lineno, "unknown", trunc, 1)


def close_record(rec: LogRecord, cont: List[str], trunc: bool) -> LogRecord:
    """Attach continuation lines; trailing blank ones are counted but not added to the message."""
    rec.nlines = 1 + len(cont)
    keep = len(cont)
    while keep and not cont[keep - 1].strip():
        keep -= 1
    if keep:
        rec.message = rec.message + "\n" + "\n".join(cont[:keep])
    if trunc:
        rec.truncated = True
    return rec
