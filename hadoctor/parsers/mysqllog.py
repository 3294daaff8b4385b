"""MySQL/MariaDB error log: the replication threads' starts, stops and errors, with their times.

The server writes one line per event: MariaDB ``2026-12-04  4:19:56 6 [ERROR] Slave SQL: ...``,
MySQL 5.6 ``2016-11-25 07:20:01 1234 [ERROR] ...``, MySQL 5.7/8.0 ``2026-11-25T07:20:01.123456Z 5 [ERROR]
[MY-010584] [Repl] Replica SQL for channel '': ...``, MySQL 5.0/5.1 ``161125  7:20:01 [ERROR] ...``. A time
ending in ``Z`` is UTC (MySQL's default ``log_timestamps``); the others are the server's local time, like
heartbeat's log. The collector's ``### PATH (node time UTC+0100)`` line says the node's offset from UTC
when it collected (``date +%z``): a UTC time is then shifted to the node's time, the one heartbeat's log
is written in (without that line it stays UTC and says so). Lines that are not about replication are
skipped; the sample is a real MariaDB 10.11 replica (tests/fixtures/mysql/capture.sh) stopped by a
duplicate key:

>>> log = parse_mysql_log(
...     b"2026-12-04  4:19:56 6 [ERROR] Slave SQL: Error 'Duplicate entry '7' for key 'PRIMARY'' on query. "
...     b"Default database: ''. Gtid 0-1-7, Internal MariaDB error code: 1062\\n"
...     b"2026-12-04  4:19:56 6 [Note] Slave SQL thread exiting, replication stopped in log 'a-bin.000001' at "
...     b"position 1432, master: 127.0.0.1:33061\\n"
...     b"2026-12-04  4:19:57 0 [Note] InnoDB: Buffer pool(s) dump completed\\n", "error.log")
>>> [(e.time.strftime("%H:%M:%S"), e.kind, e.thread, e.errno) for e in log.entries]
[('04:19:56', 'error', 'SQL', 1062), ('04:19:56', 'stopped', 'SQL', None)]
>>> log.entries[1].position
'a-bin.000001:1432'

MySQL 8.0 (``log_timestamps=UTC``, its default) on a node one hour east of UTC, in the collector's form:

>>> log = parse_mysql_log(
...     b"### /var/log/mysql/error.log (node time UTC+0100)\\n"
...     b"2026-11-25T07:20:01.123456Z 12 [ERROR] [MY-010584] [Repl] Replica SQL for channel '': Worker 1 failed "
...     b"executing transaction 'ANONYMOUS' at source log binlog.000012, end_log_pos 4711; Could not execute "
...     b"Write_rows event on table mor.calls; Duplicate entry '7' for key 'calls.PRIMARY', Error_code: 1062\\n",
...     "mysql-error-log.txt")
>>> e = log.entries[0]
>>> e.time.isoformat(), e.utc, e.shifted, e.errno
('2026-11-25T08:20:01', False, '+01:00', 1062)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import List, Optional

from hadoctor.parsers.base import MAX_CONFIG_LINE, Problem, numbered_lines, shorten
from hadoctor.parsers.mysql_collect import NODE_TIME

_LINE = re.compile(r"^(\d{4}-\d\d-\d\d|\d{6})[ T] ?(\d?\d:\d\d:\d\d)(?:\.\d{1,9})?(Z|[+-]\d\d:\d\d)? +(?:\d+ +)?"
                   r"\[(\w{1,12})\] ?(.*)$")
_THREAD = re.compile(r"\b(?:Slave|Replica|slave|replica) (SQL|I/O)\b")
_ERRNO = re.compile(r"(?:error code|Error_code): (?:MY-)?(\d{1,6})")
_POSITION = re.compile(r"(?:in log|read up to log) '([^']{1,512})',? at position (\d{1,20})|"
                       r"read up to log '([^']{1,512})', position (\d{1,20})")
#: what a Note line says about a thread (MariaDB and MySQL 5.x "Slave SQL thread exiting", MySQL 8 "Replica SQL
#: thread for channel '' exiting")
_STOPPED = (" exiting",)
_HEADER = re.compile(r"^### .* \(" + NODE_TIME + r"([+-])(\d\d)(\d\d)\)\s*$")
_STARTED = ("starting replication", "connected to master", "connected to source")


@dataclass
class ReplicationLogEntry:
    time: datetime  # the node's local time (naive), or UTC when utc says so
    utc: bool
    shifted: str  # "+01:00": written in UTC, shifted by the node's offset; "" when written in local time
    kind: str  # error | stopped | started
    thread: str  # SQL | IO | "" (not named)
    errno: Optional[int]
    position: str  # "binlog:pos" where the line names it
    text: str
    line: int

    def to_dict(self) -> dict:
        return {"time": self.time.isoformat(), "utc": self.utc, "shifted": self.shifted or None,
                "kind": self.kind, "thread": self.thread,
                "errno": self.errno, "position": self.position, "text": self.text, "line": self.line}


@dataclass
class MysqlLog:
    path: str
    entries: List[ReplicationLogEntry] = field(default_factory=list)
    problems: List[Problem] = field(default_factory=list)

    def summary(self) -> str:
        errors = sum(1 for e in self.entries if e.kind == "error")
        return f"{len(self.entries)} replication line(s), {errors} error(s)"

    def to_dict(self) -> dict:
        return {"path": self.path, "entries": [e.to_dict() for e in self.entries],
                "problems": [str(p) for p in self.problems]}


def parse_mysql_log(data: bytes, path: str) -> MysqlLog:
    """The replication lines of a MySQL/MariaDB error log (``### PATH`` lines name the file it came from)."""
    out = MysqlLog(path)
    offset: Optional[timedelta] = None  # the node's offset from UTC, when the collector said it
    for number, text in numbered_lines(data):
        if text.startswith("### "):
            h = _HEADER.match(text)
            offset = None if h is None else (1 if h.group(1) == "+" else -1) * timedelta(
                hours=int(h.group(2)), minutes=int(h.group(3)))
            continue
        if len(text) > MAX_CONFIG_LINE * 4:
            out.problems.append(Problem(path, number, "line too long", severity="warning", code="line-too-long"))
            continue
        m = _LINE.match(text)
        if m is None:
            continue
        day, clock, zone, level, message = m.groups()
        entry = _entry(message, level.upper())
        if entry is None:
            continue
        try:
            when = datetime.strptime(f"{day} {clock}", "%Y-%m-%d %H:%M:%S" if "-" in day else "%y%m%d %H:%M:%S")
        except ValueError:
            out.problems.append(Problem(path, number, "bad time", shorten(text), severity="warning",
                                        code="mysqllog-bad-time"))
            continue
        kind, thread = entry
        errno = _ERRNO.search(message)
        pos = _POSITION.search(message)
        position = ""
        if pos is not None:
            position = f"{pos.group(1) or pos.group(3)}:{pos.group(2) or pos.group(4)}"
        utc, shifted = zone == "Z", ""
        if utc and offset is not None:
            when, utc = when + offset, False
            sign, minutes = ("-" if offset < timedelta(0) else "+"), abs(int(offset.total_seconds())) // 60
            shifted = f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
        out.entries.append(ReplicationLogEntry(when, utc, shifted, kind, thread,
                                               int(errno.group(1)) if errno else None, position,
                                               shorten(message, 300), number))
    return out


def _entry(message: str, level: str):
    """(kind, thread) of a replication line, else None."""
    m = _THREAD.search(message)
    thread = "" if m is None else ("IO" if m.group(1) == "I/O" else "SQL")
    lowered = message.lower()
    if level == "ERROR" and (m is not None or "slave" in lowered or "replica" in lowered):
        return "error", thread
    if m is None:
        return None
    if any(s in message for s in _STOPPED):
        return "stopped", thread
    if any(s in message for s in _STARTED):
        return "started", thread
    return None
