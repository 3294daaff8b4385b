"""Heartbeat log parser: ``ha-log``, ``ha-debug`` and syslog files, streamed into :class:`LogRecord` objects.

One heartbeat log mixes several line layouts (docs/heartbeat/logs.md#line-layouts): the daemon writes
syslog-style lines, the shell scripts (ResourceManager, harc, mach_down, IPaddr)
write their own timestamp first or last, syslog and journald add their prefixes,
and an authentication failure dumps raw packet bytes over several lines
(docs/heartbeat/logs.md#rejected-packets).

================  ===========================================================================
layout            line start (example)
================  ===========================================================================
``syslog``        ``Nov 25 07:34:40 nodea heartbeat: [2129]: WARN: ...`` (3.0.x file, zero-padded
                  day), ``May  9 12:10:40 gw2 ResourceManager[26976]: info: ...`` (syslog)
``journal``       ``Feb 08 03:19:48 master1 heartbeat[38569]: [38569]: info: ...``
``rfc3339``       ``2026-11-25T07:34:40.123456+01:00 nodea heartbeat: [2129]: info: ...``
``tag-date``      ``heartbeat[10236]: 2026/11/25_07:38:18 info: ...`` (2.x, ``syslogmsgfmt false``),
                  ``harc(default)[65199]:<TAB>2018/02/09_01:05:32 info: ...`` (scripts, 3.9),
                  ``harc[14349][14355]: ...`` (via logd)
``date-tag``      ``2026/11/25_07:36:14  ResourceManager(default)[6153]:    info: ...`` (scripts, 4.x)
``tag``           ``IPaddr(IPaddr_192.0.2.50)[9238]:    ERROR: ...`` (script line, timestamp cut off)
``bare``          ``ERROR: Configuration error, heartbeat not started.`` (prefix cut off)
``stderr``        ``heartbeat: udpport setting must precede media statements`` (no newline: the next
                  message is glued to it and becomes a record of its own on the same line)
``unknown``       anything else that cannot continue a record; the raw text is the message
================  ===========================================================================

A line in no layout continues the record before it (message joined with ``\\n``)
for up to :data:`MAX_CONTINUATION_LINES` lines and :data:`MAX_CONTINUATION_BYTES`
bytes; past that, or before the first record, it is an ``unknown`` record of its
own (an ``unknown`` record takes no continuation lines). No line is dropped:
``line`` and ``nlines`` of the records cover the file.

Year inference for year-less (``syslog``/``journal``) timestamps:

1. Start: if the first MiB of the file holds a record with a full date, start from
   it; otherwise from ``reference`` (the file's mtime for files; now if None), with
   records assumed not to lie in the future: a month later than the reference's
   month means the previous year.
2. Every record with a full date sets the current year and month.
3. A year-less record takes the year that puts its month nearest (at most six
   months away) to the previous record's: Dec → Jan rolls into the next year,
   while a line one month out of order (interleaved writers) does not.

With a ``prefilter`` the parser does not see every line, so the current month
follows the records it does parse (the file's first record, the matches and their
neighbours, the last record of each block). With a reference not older than the
log (its mtime), the result differs from a full parse only if one 1 MiB block
spans more than six months or holds full-date records that disagree with the
year inferred so far (clocks changed).

Lines are bytes: the daemon writes raw binary into some records, so text is
decoded as UTF-8 with ``surrogateescape`` (never raises; every byte recoverable).
Lines longer than :data:`MAX_LOG_LINE` keep their head, are marked ``truncated``,
and the rest is skipped without being buffered.

>>> rec = parse_line(b"Nov 25 07:34:40 nodea heartbeat: [2129]: WARN: Late heartbeat: Node nodeb: interval 6000 ms",
...                  reference=datetime(2026, 11, 30))
>>> rec.time, rec.host, rec.component, rec.pid, rec.level, rec.layout
(datetime.datetime(2026, 11, 25, 7, 34, 40), 'nodea', 'heartbeat', 2129, 'warn', 'syslog')
>>> rec.message
'Late heartbeat: Node nodeb: interval 6000 ms'
>>> rec = parse_line(b"2026/11/25_07:36:14  /usr/lib/ocf/resource.d//heartbeat/IPaddr(IPaddr_10.77.0.100)[6191]:"
...                  b"    INFO:  Running OK")
>>> rec.component, rec.instance, rec.pid, rec.level, rec.message, rec.layout
('IPaddr', 'IPaddr_10.77.0.100', 6191, 'info', 'Running OK', 'date-tag')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable, Iterator, List, Optional, Pattern, Tuple, Union

from hadoctor.parsers.base import Problem, decode, shorten, to_int
from hadoctor.parsers.hblog_prefilter import as_bytes_pattern, compile_prefilter, scanner_for

__all__ = [
    "LogRecord", "HbLog", "parse_line", "iter_records", "iter_candidates", "parse_hblog", "compile_prefilter",
    "MAX_LOG_LINE", "MAX_CONTINUATION_LINES", "MAX_CONTINUATION_BYTES",
    "HEARTBEAT_TAGS", "CLUSTER_KERNEL", "is_cluster_record",
]

#: Longest line kept; the rest of a longer line is skipped and the record marked truncated.
MAX_LOG_LINE = 64 * 1024
#: Continuation lines attached to one record at most ...
MAX_CONTINUATION_LINES = 64
#: ... and their bytes at most (each line counts its length plus one).
MAX_CONTINUATION_BYTES = 64 * 1024
#: How far ahead the parser looks for a full date to start year inference from.
LOOKAHEAD_BYTES = 1 << 20
#: With a prefilter, a block with a candidate line every this many bytes or more is parsed line by line
#: (cheaper than looking at each match and its neighbours when about a third of the lines match).
DENSE_BYTES_PER_CANDIDATE = 320

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


# ---------------------------------------------------------------------------------------------
# Line layouts. Patterns run on decoded text of one line, without the newline.

_LEVELS = {}
for _word, _norm in (("emerg", "emerg"), ("emergency", "emerg"), ("alert", "alert"), ("crit", "crit"),
                     ("critical", "crit"), ("err", "error"), ("error", "error"), ("warn", "warn"),
                     ("warning", "warn"), ("notice", "notice"), ("info", "info"), ("debug", "debug")):
    for _variant in (_word, _word.upper(), _word.capitalize()):
        _LEVELS[_variant] = _norm
_LEVEL_WORDS = "|".join(sorted({w.lower() for w in _LEVELS}, key=lambda w: (-len(w), w)))
# a word and its colon, a level if _LEVELS knows it (checked in Python: cheaper than a case-insensitive
# alternation); the spaces after it (two after ra_execocf's "INFO:") are not message
_LEVEL = r"[ \t]*(?:([A-Za-z]{3,9}):(?:[ \t]+|$))?"
_SYSLOG_TS = r"[A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d"
_FULL_TS = r"\d{4}/\d\d/\d\d_\d\d:\d\d:\d\d"
# script name or path, "(instance)": harc(default), /usr/lib/ocf/resource.d//heartbeat/IPaddr(IPaddr_x)
_TAG = r"([^\s\[(:]+)(?:\(([^)\s]*)\))?"
# "[pid]", or "[pid][pid]" when logged through logd; the first is the script's
_PIDS = r"(?:\[(\d+)\](?:\[\d+\])*)"
_HOST_IDENT = (
    r" (?:([^\s:\[\]()]+) )? *"     # host (empty in some exports)
    r"(?:" + _TAG + _PIDS + r"?: ?)?"  # ident: heartbeat:, ResourceManager[26976]:, IPaddr2(prm)[31269]:
    r"(?:\[(\d+)\]: ?)?"             # heartbeat's own "[pid]: "
)

# groups: ts host ident instance pid innerpid level message
_SYSLOG = re.compile("(" + _SYSLOG_TS + r")(?:\.\d+)?" + _HOST_IDENT + _LEVEL + "(.*)")
# groups: Y M D h m s fraction host ident instance pid innerpid level message
_RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d+))?(?:Z|[+-]\d\d(?::?\d\d)?)?"
                      + _HOST_IDENT + _LEVEL + "(.*)")
# groups: ts script instance pid level message
_DATETAG = re.compile("(" + _FULL_TS + r")(?:[ \t]+|$)(?:" + _TAG + _PIDS + r":(?:[ \t]+|$))?" + _LEVEL + "(.*)")
# groups: script instance pid ts level message
_TAGDATE = re.compile(_TAG + _PIDS + r"?:[ \t]*(" + _FULL_TS + r")(?:[ \t]+|$)" + _LEVEL + "(.*)")
# groups: script instance pid level message (a script line with its timestamp cut off)
_TAGONLY = re.compile(_TAG + _PIDS + r":[ \t]*((?i:" + _LEVEL_WORDS + r")):(?:[ \t]+|$)(.*)")
# groups: level message
_BARE = re.compile(r"((?i:" + _LEVEL_WORDS + r")):(?:[ \t]+|$)(.*)")
# stderr text printed without a newline ends where the next message starts, glued to it
_STDERR = re.compile(r"heartbeat: (.*?)(?:(?<=\S)(?=heartbeat(?:\[\d+\])?: |" + _SYSLOG_TS + " )|$)")
# where to look for the first full date (to start year inference)
_FULL_DATE_HINT = re.compile(rb"\d{4}/\d\d/\d\d_\d\d:\d\d:\d\d|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d")

_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
_DISPATCH = dict.fromkeys("JFMASOND", 1)
_DISPATCH.update(dict.fromkeys("0123456789", 2))
_FULL_DATE_LAYOUTS = frozenset(("tag-date", "date-tag", "rfc3339"))
_MAX_NESTING = 4
_MAX_GLUED = 16

# ---------------------------------------------------------------------------------------------
# Which records are the cluster's (a record's ``component`` is the tag these patterns parse: the
# syslog ident or script name, the basename of a path like /usr/lib/ocf/resource.d//heartbeat/IPaddr)

#: Program tags of heartbeat, its daemons (R1 and the 2.x CRM), its scripts and the resource agents it
#: ships (docs/heartbeat/logs.md#line-layouts). ``hadoctor bundle create`` keeps only these records (plus
#: :data:`CLUSTER_KERNEL` lines) from syslog files.
HEARTBEAT_TAGS = frozenset((
    # daemons and their children
    "heartbeat", "ipfail", "ccm", "ha_logd", "logd", "ha_logger", "apphbd", "recoverymgrd", "dopd", "mgmtd",
    "cib", "crmd", "lrmd", "attrd", "pengine", "tengine", "stonithd", "stonith-ng", "stonith", "pingd",
    # scripts (ha_log through ocf-shellfuncs)
    "ResourceManager", "harc", "mach_down", "req_resource", "hb_standby", "hb_takeover", "hb_addnode",
    "hb_delnode", "ip-request", "ip-request-resp", "findif", "send_arp", "SendArp",
    # resource agents heartbeat ships in resource.d (R1) and their OCF counterparts
    "IPaddr", "IPaddr2", "IPsrcaddr", "IPv6addr", "Filesystem", "drbddisk", "LVM", "Raid1", "MailTo",
    "AudibleAlarm", "Delay", "portblock", "LinuxSCSI", "ServeRAID", "WAS", "WinPopup", "Xinetd", "ICP", "db2",
    "OCF", "LVSSyncDaemonSwap", "ids",
))

#: Kernel lines (component ``kernel``) that matter to a cluster: NIC link up/down (e1000, e1000e, igb,
#: ixgbe, tg3, bnx2, r8169...: "Link is Up", "link up", "link becomes ready"), ``NETDEV WATCHDOG``
#: transmit timeouts, bonding, watchdog/softdog (heartbeat's ``watchdog``), soft lockups and DRBD.
#: Everything else the kernel says (OOM kills, USB, file systems, firewall LOG lines...) is not kept.
CLUSTER_KERNEL = re.compile(r"NETDEV WATCHDOG|(?i:\blink (?:is )?(?:up|down)\b|link becomes ready|\bbonding\b"
                            r"|\bbond\d+:|watchdog|softdog|soft lockup|\bdrbd)")


def is_cluster_record(rec: "LogRecord", extra_tags: Iterable[str] = ()) -> Optional[bool]:
    """True for a record of heartbeat or its helpers (:data:`HEARTBEAT_TAGS`, or ``extra_tags``: a node's
    own resource scripts, logd.cf's ``entity``/``syslogprefix``) or a :data:`CLUSTER_KERNEL` line;
    False for any other program's; None when the record has no program tag (``last message repeated 3
    times``, a level-only or unknown line): it belongs with the record before it.

    >>> is_cluster_record(parse_line(b"May  9 12:10:40 gw2 ResourceManager[26976]: info: Acquiring resource group"))
    True
    >>> is_cluster_record(parse_line(b"Nov 25 07:34:40 nodea kernel: [ 12.3] e1000e: eth1 NIC Link is Down"))
    True
    >>> is_cluster_record(parse_line(b"Nov 25 07:34:40 nodea sshd[123]: Accepted publickey for root"))
    False
    """
    comp = rec.component
    if comp is None:
        return None
    if comp in HEARTBEAT_TAGS or comp in extra_tags:
        return True
    return comp == "kernel" and CLUSTER_KERNEL.search(rec.message) is not None



def _component(ident: Optional[str]) -> Optional[str]:
    if ident and "/" in ident:
        return ident.rpartition("/")[2] or ident
    return ident


def _level(word: Optional[str]) -> Optional[str]:
    if not word:
        return None
    return _LEVELS.get(word) or _LEVELS.get(word.lower())


class _Parser:
    """Turns one line of text into a LogRecord (or None when no layout matches); keeps the year state."""

    __slots__ = ("path", "year", "month", "fresh", "ref_year", "ref_month", "sys_key", "sys_val",
                 "sys_ts", "sys_dt", "full_key", "full_val", "full_ts", "full_dt", "pre")

    def __init__(self, path: str, reference: Reference) -> None:
        ref = reference if reference is not None else datetime.now()
        self.path = path
        self.ref_year, self.ref_month = ref.year, ref.month
        self.year, self.month = ref.year, ref.month
        self.fresh = True  # no record seen yet: apply the "not in the future" rule
        # caches per minute: "Nov 25 07:34" -> (year, month, day, hour, minute); "2026/11/25_07:34" -> same
        self.sys_key: Optional[str] = None
        self.sys_val: Tuple = ()
        self.full_key: Optional[str] = None
        self.full_val: Tuple = ()
        # and per second (bursts of lines share one): the whole timestamp -> datetime
        self.sys_ts: Optional[str] = None
        self.sys_dt: Optional[datetime] = None
        self.full_ts: Optional[str] = None
        self.full_dt: Optional[datetime] = None
        #: records that precede the returned one on the same physical line (glued stderr text)
        self.pre: List[LogRecord] = []

    def anchor(self, when: datetime) -> None:
        self.year, self.month, self.fresh = when.year, when.month, False

    # -- time ------------------------------------------------------------------------------
    def _syslog_time(self, ts: str):
        """Datetime of ``Mmm DD HH:MM:SS``; False when the month is not a month name."""
        key = ts[:-3]
        if key == self.sys_key:
            val = self.sys_val
        else:
            parts = ts.split()
            month = _MONTHS.get(parts[0])
            if month is None:
                return False
            if self.fresh:
                self.fresh = False
                self.year = self.ref_year if month <= self.ref_month else self.ref_year - 1
            else:
                step = month - self.month
                if step < -6:
                    self.year += 1
                elif step > 6:
                    self.year -= 1
            self.month = month
            hms = parts[2]
            val = (self.year, month, int(parts[1]), int(hms[0:2]), int(hms[3:5]))
            self.sys_key, self.sys_val = key, val
        try:
            when: Optional[datetime] = datetime(val[0], val[1], val[2], val[3], val[4], int(ts[-2:]))
        except ValueError:  # Feb 30, second 60, a year out of range
            when = None
        self.sys_ts, self.sys_dt = ts, when
        return when

    def _full_time(self, ts: str) -> Optional[datetime]:
        """Datetime of ``YYYY/MM/DD_HH:MM:SS``; a valid one sets the current year and month."""
        key = ts[:-3]
        if key == self.full_key:
            val = self.full_val
        else:
            val = (int(ts[0:4]), int(ts[5:7]), int(ts[8:10]), int(ts[11:13]), int(ts[14:16]))
            self.full_key, self.full_val = key, val
        try:
            when = datetime(val[0], val[1], val[2], val[3], val[4], int(ts[17:19]))
        except ValueError:
            return None
        if val[0] != self.year or val[1] != self.month:
            self._set_full(val[0], val[1])
        self.fresh = False
        self.full_ts, self.full_dt = ts, when
        return when

    def _set_full(self, year: int, month: int) -> None:
        self.year, self.month, self.fresh = year, month, False
        self.sys_key = self.sys_ts = None  # the year of the next year-less line may change

    # -- layouts ---------------------------------------------------------------------------
    def parse(self, text: str, lineno: int, trunc: bool, depth: int = 0) -> Optional[LogRecord]:
        kind = _DISPATCH.get(text[:1], 0)
        if kind == 1:
            m = _SYSLOG.match(text)
            if m is not None:
                ts, host, ident, inst, pid, inner, lvl, msg = m.groups()
                when = self.sys_dt if ts == self.sys_ts else self._syslog_time(ts)
                if when is not False:
                    if lvl is not None:
                        level = _LEVELS.get(lvl) or _LEVELS.get(lvl.lower())
                        if level is None:
                            msg = text[m.start(7):]
                    else:
                        level = None
                    if level is None and msg and depth < _MAX_NESTING and (
                            msg.startswith("heartbeat: ") or _DISPATCH.get(msg[:1]) == 1):
                        nested = self._nested(msg, when, host, ident, inst, pid or inner, lineno, trunc, depth)
                        if nested is not None:
                            return nested
                    if ident is not None and "/" in ident:
                        ident = _component(ident)
                    return LogRecord(when, host, ident, inst,
                                     to_int(inner or pid or ""),
                                     level, msg, self.path, lineno,
                                     "journal" if (pid and inner) else "syslog", trunc, 1)
        elif kind == 2:
            m = _DATETAG.match(text)
            if m is not None:
                ts, script, inst, pid, lvl, msg = m.groups()
                if lvl is not None:
                    level = _LEVELS.get(lvl) or _LEVELS.get(lvl.lower())
                    if level is None:
                        msg = text[m.start(5):]
                else:
                    level = None
                if script is not None and "/" in script:
                    script = _component(script)
                # the same second again needs no work unless a year-less line moved the month meanwhile
                if ts == self.full_ts and self.full_dt.month == self.month and self.full_dt.year == self.year:
                    when = self.full_dt
                else:
                    when = self._full_time(ts)
                return LogRecord(when, None, script, inst, to_int(pid or ""),
                                 level, msg, self.path, lineno, "date-tag", trunc, 1)
            m = _RFC3339.match(text)
            if m is not None:
                return self._rfc3339(m, text, lineno, trunc)
        m = _TAGDATE.match(text)
        if m is not None:
            script, inst, pid, ts, lvl, msg = m.groups()
            level = _level(lvl)
            if lvl is not None and level is None:
                msg = text[m.start(5):]
            return LogRecord(self._full_time(ts), None, _component(script), inst,
                             to_int(pid or ""), level, msg, self.path, lineno, "tag-date", trunc, 1)
        m = _BARE.match(text)
        if m is not None:
            return LogRecord(None, None, None, None, None, _level(m.group(1)), m.group(2), self.path, lineno,
                             "bare", trunc, 1)
        m = _TAGONLY.match(text)
        if m is not None:
            script, inst, pid, lvl, msg = m.groups()
            return LogRecord(None, None, _component(script), inst, to_int(pid), _level(lvl), msg, self.path, lineno,
                             "tag", trunc, 1)
        if text.startswith("heartbeat: "):
            return self._stderr(text, None, None, None, lineno, trunc, depth)
        return None

    def _rfc3339(self, m, text: str, lineno: int, trunc: bool) -> LogRecord:
        y, mo, d, hh, mi, ss, frac, host, ident, inst, pid, inner, lvl, msg = m.groups()
        try:
            when: Optional[datetime] = datetime(int(y), int(mo), int(d), int(hh), int(mi), int(ss),
                                                int(frac[:6].ljust(6, "0")) if frac else 0)
        except ValueError:
            when = None
        if when is not None:
            self._set_full(when.year, when.month)
        level = _level(lvl)
        if lvl is not None and level is None:
            msg = text[m.start(13):]
        return LogRecord(when, host, _component(ident), inst, to_int(inner or pid or ""),
                         level, msg, self.path, lineno, "rfc3339", trunc, 1)

    def _nested(self, msg: str, when, host, ident, inst, pid, lineno: int, trunc: bool,
                depth: int) -> Optional[LogRecord]:
        """A syslog/journal line whose message is heartbeat's stderr: a whole log line, or glued stderr text."""
        if msg.startswith("heartbeat: "):
            return self._stderr(msg, when, host, pid, lineno, trunc, depth + 1)
        mark = len(self.pre)
        inner = self.parse(msg, lineno, trunc, depth + 1)
        if inner is None or inner.layout not in ("syslog", "journal", "stderr"):
            del self.pre[mark:]
            return None
        return inner

    def _stderr(self, text: str, when, host, pid, lineno: int, trunc: bool, depth: int) -> LogRecord:
        """``heartbeat: msg`` on stderr; a message printed without newline has the next one glued to it."""
        pieces: List[str] = []
        rest = text
        while rest.startswith("heartbeat: ") and len(pieces) < _MAX_GLUED:
            m = _STDERR.match(rest)
            pieces.append(m.group(1))  # type: ignore[union-attr] - always matches (|$)
            rest = rest[m.end():]  # type: ignore[union-attr]
        last = None
        if rest:
            last = self.parse(rest, lineno, trunc, depth + 1) if depth < _MAX_NESTING else None
            if last is None:
                pieces[-1] += rest
        records = []
        for piece in pieces:
            bare = _BARE.match(piece)
            records.append(LogRecord(when, host, "heartbeat", None, to_int(pid or ""),
                                     _level(bare.group(1)) if bare else None,
                                     bare.group(2) if bare else piece, self.path, lineno, "stderr", trunc, 1))
        if last is None:
            last = records.pop()
        # glued records of the parsed remainder (already in self.pre) come after ours
        self.pre[:0] = records
        return last


def _unknown(text: str, path: str, lineno: int, trunc: bool) -> LogRecord:
    return LogRecord(None, None, None, None, None, None, text, path, lineno, "unknown", trunc, 1)


def _close(rec: LogRecord, cont: List[str], trunc: bool) -> LogRecord:
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


def _decode_line(raw: bytes) -> str:
    text = decode(raw)
    return text[:-1] if text.endswith("\r") else text


def parse_line(line: Union[bytes, str], *, path: str = "", lineno: int = 1,
               reference: Reference = None) -> Optional[LogRecord]:
    """Parse one physical line; None when it starts no record (a continuation or unknown line).

    A line that glues several messages together gives the last one (:func:`iter_records` yields all).

    >>> parse_line(b"heartbeat[10236]: 2026/11/25_07:38:18 info: Configuration validated. Starting heartbeat 3.0.6")
    ... # doctest: +NORMALIZE_WHITESPACE
    LogRecord(time=datetime.datetime(2026, 11, 25, 7, 38, 18), host=None, component='heartbeat', instance=None,
              pid=10236, level='info', message='Configuration validated. Starting heartbeat 3.0.6', file='',
              line=1, layout='tag-date', truncated=False, nlines=1)
    >>> parse_line(b"11:(0)t=status,8:(0)st=up,%%%") is None
    True
    """
    raw = line.encode("utf-8", "surrogateescape") if isinstance(line, str) else bytes(line)
    raw = raw.rstrip(b"\n")
    trunc = len(raw) > MAX_LOG_LINE
    return _Parser(path, reference).parse(_decode_line(raw[:MAX_LOG_LINE]), lineno, trunc)


# ---------------------------------------------------------------------------------------------
# Streaming

Block = Tuple[bytes, int, int]


def _blocks(chunks: Iterable[bytes]) -> Iterator[Block]:
    """Yield ``(buf, start, end)``: ``buf[start:end]`` holds whole lines, each ending in ``\\n``.

    A line longer than MAX_LOG_LINE spanning chunks is cut to MAX_LOG_LINE + 1 bytes
    (so its length still says "truncated") and the rest is skipped unbuffered.
    """
    cap = MAX_LOG_LINE
    carry = b""
    skipping = False
    for chunk in chunks:
        if not chunk:
            continue
        start = 0
        if skipping:
            nl = chunk.find(b"\n")
            if nl < 0:
                continue
            skipping = False
            yield carry + b"\n", 0, len(carry) + 1
            carry = b""
            start = nl + 1
        last = chunk.rfind(b"\n", start)
        if last < 0:
            carry += chunk[start:] if start else chunk
            if len(carry) > cap:
                carry, skipping = carry[:cap + 1], True
            continue
        if carry:
            nl = chunk.find(b"\n", start)
            head = carry + chunk[start:nl + 1]
            carry = b""
            yield head, 0, len(head)
            start = nl + 1
        if last + 1 > start:
            yield chunk, start, last + 1
        carry = chunk[last + 1:]
        if len(carry) > cap:
            carry, skipping = carry[:cap + 1], True
    if carry:
        yield carry + b"\n", 0, len(carry) + 1


def _anchored(blocks: Iterator[Block], parser: _Parser) -> Iterator[Block]:
    """Look through the first LOOKAHEAD_BYTES for a full date and start year inference from it."""
    held: List[Block] = []
    size = 0
    failure: Optional[Exception] = None
    try:
        for block in blocks:
            held.append(block)
            size += block[2] - block[1]
            if size >= LOOKAHEAD_BYTES:
                break
    except Exception as exc:  # noqa: BLE001 - e.g. a truncated .gz: the lines read so far still count
        failure = exc
    probe = _Parser("", None)
    probes = 0
    for buf, start, end in held:
        for m in _FULL_DATE_HINT.finditer(buf, start, end):
            probes += 1
            if probes > 64:
                break
            nl = buf.rfind(b"\n", start, m.start())
            line_start = start if nl < 0 else nl + 1
            line_end = buf.find(b"\n", m.start(), end)
            text = _decode_line(buf[line_start:min(line_end, line_start + MAX_LOG_LINE)])
            rec = probe.parse(text, 0, False)
            if rec is not None and rec.layout in _FULL_DATE_LAYOUTS and rec.time is not None:
                parser.anchor(rec.time)
                probes = 1 << 30
                break
        if probes > 64:
            break
    yield from held
    del held
    if failure is not None:
        raise failure
    yield from blocks


def _run_lines(lines: List[bytes], lineno: int, parser: _Parser, tail: Optional["_Open"],
               matched: Optional[set], has_cr: bool) -> Iterator[LogRecord]:
    """Parse whole lines (the first is line ``lineno``) continuing the record ``tail`` left open before them.

    Yields the records that end here and are selected: all of them when ``matched`` is None,
    else those with a line whose index is in ``matched``. Returns the record still open.
    """
    parse, pre, path = parser.parse, parser.pre, parser.path
    cap, max_lines, max_bytes = MAX_LOG_LINE, MAX_CONTINUATION_LINES, MAX_CONTINUATION_BYTES
    if tail is not None:
        pend, cont, cbytes, ctrunc, sel = tail.rec, tail.cont, tail.nbytes, tail.trunc, tail.selected
    else:
        pend, cont, cbytes, ctrunc, sel = None, [], 0, False, False
    everything = matched is None
    index = -1
    for raw in lines:
        index += 1
        n = len(raw)
        if n > cap:
            raw, n, trunc = raw[:cap], cap, True
        else:
            trunc = False
        text = raw.decode("utf-8", "surrogateescape")  # = base.decode, inlined: hot loop
        if has_cr and text[-1:] == "\r":
            text = text[:-1]
        hit = everything or index in matched  # type: ignore[operator]
        rec = parse(text, lineno + index, trunc)
        if rec is not None:
            if pend is not None and sel:
                yield _close(pend, cont, ctrunc) if cont else pend
            if pre:
                if hit:
                    yield from pre
                pre.clear()
            pend, sel = rec, hit
            if cont:
                cont = []
            cbytes, ctrunc = 0, False
        elif pend is not None and len(cont) < max_lines and cbytes + n + 1 <= max_bytes:
            cont.append(text)
            cbytes += n + 1
            if trunc:
                ctrunc = True
            if hit:
                sel = True
        else:
            if pend is not None:
                if sel:
                    yield _close(pend, cont, ctrunc) if cont else pend
                pend, cont = None, []
            if hit:
                yield _unknown(text, path, lineno + index, trunc)
    return _Open(pend, cont, cbytes, ctrunc, sel) if pend is not None else None


def _iter_full(blocks: Iterator[Block], parser: _Parser) -> Iterator[LogRecord]:
    lineno = 1
    tail: Optional[_Open] = None
    for buf, start, end in blocks:
        data = buf if (start == 0 and end == len(buf)) else buf[start:end]
        lines = data.split(b"\n")
        lines.pop()
        tail = yield from _run_lines(lines, lineno, parser, tail, None, b"\r" in data)
        lineno += len(lines)
    if tail is not None:
        yield tail.close()


class _Open:
    """A record whose continuation lines may go on in the next block (prefilter path)."""

    __slots__ = ("rec", "cont", "nbytes", "trunc", "selected")

    def __init__(self, rec: LogRecord, cont: List[str], nbytes: int, trunc: bool, selected: bool) -> None:
        self.rec, self.cont, self.nbytes, self.trunc, self.selected = rec, cont, nbytes, trunc, selected

    def fits(self, n: int) -> bool:
        return len(self.cont) < MAX_CONTINUATION_LINES and self.nbytes + n + 1 <= MAX_CONTINUATION_BYTES

    def add(self, text: str, n: int, trunc: bool) -> None:
        self.cont.append(text)
        self.nbytes += n + 1
        self.trunc = self.trunc or trunc

    def close(self) -> LogRecord:
        return _close(self.rec, self.cont, self.trunc)


def _take(buf: bytes, pos: int, end: int) -> Tuple[bytes, str, int, bool, int]:
    """The line at ``pos``: (raw bytes kept, text, kept length, truncated, next line's start)."""
    nl = buf.find(b"\n", pos, end)
    if nl - pos > MAX_LOG_LINE:
        raw, trunc = buf[pos:pos + MAX_LOG_LINE], True
    else:
        raw, trunc = buf[pos:nl], False
    return raw, _decode_line(raw), len(raw), trunc, nl + 1


def _drain(pre: List[LogRecord]) -> List[LogRecord]:
    if not pre:
        return []
    out = pre[:]
    pre.clear()
    return out


def _dense_block(buf: bytes, s: int, e: int, lineno: int, found: List[Tuple[int, int]], parser: _Parser,
                 confirm) -> Iterator[LogRecord]:
    """Prefilter path for a block where many lines match: parse every line, as the full path does.

    Yields the selected records that end in this block; returns the record still open at its end.
    """
    data = buf[s:e]
    lines = data.split(b"\n")
    lines.pop()
    cap = MAX_LOG_LINE
    matched = set()
    offset, index = s, 0
    for line_start, key in found:
        while offset < line_start:
            offset += len(lines[index]) + 1
            index += 1
        raw = lines[index]
        if confirm(raw if len(raw) <= cap else raw[:cap], key):
            matched.add(index)
    return (yield from _run_lines(lines, lineno, parser, None, matched, b"\r" in data))


def _walk_back(buf: bytes, s: int, e: int, done: int, q: int, qln: int, walked: List[str], nbytes: int,
               ctrunc: bool, parse, pre: List[LogRecord]):
    """From the line before position ``q`` (line ``qln``) walk back, within the continuation limits and not
    before ``done``, to the record those lines continue: (its head record or None, the lines walked, last
    first, their bytes, whether one was truncated). The head's glued records are dropped."""
    while len(walked) <= MAX_CONTINUATION_LINES and nbytes <= MAX_CONTINUATION_BYTES and q > done:
        nl = buf.rfind(b"\n", s, q - 1)
        pq = s if nl < 0 else nl + 1
        if pq < done:
            break
        _, ptext, pn, ptrunc, _ = _take(buf, pq, e)
        prec = parse(ptext, qln - 1, ptrunc)
        if prec is not None:
            pre.clear()  # its glued records are not selected by these lines
            return prec, walked, nbytes, ctrunc
        walked.append(ptext)
        nbytes += pn + 1
        ctrunc = ctrunc or ptrunc
        q, qln = pq, qln - 1
    return None, walked, nbytes, ctrunc


def _iter_filtered(blocks: Iterator[Block], parser: _Parser, prefilter: Pattern[bytes]) -> Iterator[LogRecord]:
    """Yield the records one of whose kept lines ``prefilter`` matches, parsing only those and their neighbours.

    Same records, in the same order, as the full parse filtered that way; see the module docs for the year.
    """
    scanner = scanner_for(prefilter)
    verify, candidates, confirm = prefilter.search, scanner.candidates, scanner.confirm
    parse = parser.parse
    pre = parser.pre
    path = parser.path
    max_lines, max_bytes = MAX_CONTINUATION_LINES, MAX_CONTINUATION_BYTES
    next_ln = 1
    tail: Optional[_Open] = None
    for buf, s, e in blocks:
        pos, ln = s, next_ln
        # a start line parsed ahead: (position, line number, _take() of it, record, glued records)
        cached = None
        if parser.fresh and tail is None:
            # the file's first record starts year inference, as in a full parse
            q, qln = s, ln
            while q < e and qln - ln <= max_lines:
                took = _take(buf, q, e)
                rec = parse(took[1], qln, took[3])
                if rec is not None:
                    cached = (q, qln, took, rec, _drain(pre))
                    break
                q, qln = took[4], qln + 1
        # (A) lines that continue the record left open by the previous block
        if tail is not None:
            while pos < e:
                took = raw, text, n, trunc, nxt = _take(buf, pos, e)
                rec = parse(text, ln, trunc)
                if rec is not None:
                    cached = (pos, ln, took, rec, _drain(pre))
                    break
                if not tail.fits(n):
                    break
                tail.add(text, n, trunc)
                if not tail.selected and verify(raw) is not None:
                    tail.selected = True
                pos, ln = nxt, ln + 1
            if pos >= e:
                next_ln = ln
                continue
            if tail.selected:
                yield tail.close()
            tail = None
        found = candidates(buf, pos, e)
        if len(found) * DENSE_BYTES_PER_CANDIDATE > e - pos:
            tail = yield from _dense_block(buf, pos, e, ln, found, parser, confirm)
            next_ln = ln + buf.count(b"\n", pos, e)
            continue
        done = pos  # lines before this are handled
        cnt_pos, cnt_ln = pos, ln
        # (B) the lines the prefilter matches, with the record each belongs to
        for ls, key in found:
            if ls < done:
                continue
            if cached is not None and cached[0] == ls:
                raw, text, n, trunc, after = cached[2]
                if not confirm(raw, key):
                    continue
                lnum, rec, frags = cached[1], cached[3], cached[4]
            else:
                raw, text, n, trunc, after = _take(buf, ls, e)
                if not confirm(raw, key):
                    continue
                lnum = cnt_ln + buf.count(b"\n", cnt_pos, ls)
                rec = parse(text, lnum, trunc)
                frags = _drain(pre) if rec is not None else []
            cnt_pos, cnt_ln = ls, lnum
            cont: List[str] = []
            nbytes, ctrunc = 0, False
            if rec is not None:
                head = rec
            else:
                # walk back to the record this line continues, within the continuation limits
                head, walked, nbytes, ctrunc = _walk_back(buf, s, e, done, ls, lnum, [text], n + 1, trunc, parse, pre)
                if head is None:
                    yield _unknown(text, path, lnum, trunc)
                    done = after
                    continue
                walked.reverse()
                cont = walked
            # forward: the rest of the record
            q, qln = after, lnum + 1
            cached = None
            while q < e:
                took = raw2, text2, n2, trunc2, nxt2 = _take(buf, q, e)
                rec2 = parse(text2, qln, trunc2)
                if rec2 is not None:
                    cached = (q, qln, took, rec2, _drain(pre))
                    break
                if len(cont) >= max_lines or nbytes + n2 + 1 > max_bytes:
                    break
                cont.append(text2)
                nbytes += n2 + 1
                ctrunc = ctrunc or trunc2
                q, qln = nxt2, qln + 1
            yield from frags
            if q >= e:
                tail = _Open(head, cont, nbytes, ctrunc, True)
                done, cnt_pos, cnt_ln = e, e, qln
                break
            yield _close(head, cont, ctrunc) if cont else head
            done, cnt_pos, cnt_ln = q, q, qln
        next_ln = cnt_ln + buf.count(b"\n", cnt_pos, e)
        # (C) the block's last record may go on in the next block; parsing it also keeps the year current
        if tail is None:
            prec, walked, nbytes, ctrunc = _walk_back(buf, s, e, done, e, next_ln, [], 0, False, parse, pre)
            if prec is not None:
                walked.reverse()
                tail = _Open(prec, walked, nbytes, ctrunc, False)
    if tail is not None and tail.selected:
        yield tail.close()


def iter_records(chunks: Iterable[bytes], path: str, *, reference: Reference = None,
                 prefilter: Optional[Pattern] = None) -> Iterator[LogRecord]:
    """Stream the records of a log given as byte chunks, in file order, in constant memory.

    ``reference`` starts year inference (module docs). ``prefilter`` (a compiled regex,
    see :func:`compile_prefilter`; each match must lie within one line) keeps only the
    records one of whose physical lines (head cut to MAX_LOG_LINE) it matches; only
    those lines and their neighbours are decoded (every line of a 1 MiB block where
    about a third of the lines match). Exceptions come only from ``chunks`` (e.g.
    InputError from :func:`hadoctor.inputs.safe_chunks`).

    >>> log = (b"Nov 25 07:34:40 nodea heartbeat: [2129]: ERROR: netstring authentication failed, s=###\\n"
    ...        b"11:(0)t=status,8:(0)st=up,%%%\\n"
    ...        b"Nov 25 07:34:41 nodea heartbeat: [2129]: info: Link nodeb:eth1 up.\\n")
    >>> [(r.line, r.nlines, r.level) for r in iter_records([log], "ha-log", reference=datetime(2026, 11, 30))]
    [(1, 2, 'error'), (3, 1, 'info')]
    >>> rx = compile_prefilter([rb"Link \\S+ up"])
    >>> [r.message for r in iter_records([log], "ha-log", prefilter=rx)]
    ['Link nodeb:eth1 up.']
    """
    parser = _Parser(path, reference)
    blocks = _anchored(_blocks(chunks), parser)
    if prefilter is None:
        return _iter_full(blocks, parser)
    return _iter_filtered(blocks, parser, as_bytes_pattern(prefilter))


def iter_candidates(head: bytes, lines: Iterable[Tuple[int, bytes, bool]], path: str, *,
                    reference: Reference = None) -> Iterator[LogRecord]:
    """The records of candidate lines another scanner found (the grep fast path of
    :mod:`hadoctor.snapshot.logsource`): ``lines`` gives (line number, raw bytes cut to MAX_LOG_LINE,
    truncated) in file order; ``head`` (the file's first LOOKAHEAD_BYTES) starts year inference as a
    full parse would. A candidate that continues a record stands alone as an ``unknown`` record (its
    text is what rules search) and a record's continuation lines are not attached.

    >>> head = b"2026/11/20_10:00:00  ResourceManager(default)[9]:    info: Acquiring resource group: x\\n"
    >>> [(r.line, r.time.year) for r in iter_candidates(head, [(7, b"Jan  3 07:00:00 n1 heartbeat: [1]: "
    ...   b"WARN: node n2: is dead", False)], "ha-log", reference=datetime(2027, 1, 5))]
    [(7, 2027)]
    """
    parser = _Parser(path, reference)
    pre = parser.pre
    for _ in _anchored(_blocks([head]), parser):
        pass
    for lineno, raw, truncated in lines:
        text = _decode_line(raw)
        rec = parser.parse(text, lineno, truncated)
        if rec is None:
            yield _unknown(text, path, lineno, truncated)
            continue
        yield from _drain(pre)
        yield rec


def parse_hblog(data: bytes, path: str, *, reference: Reference = None) -> HbLog:
    """Parse a whole log held in memory (small logs, tests); truncated lines become warnings.

    >>> log = parse_hblog(b"ERROR: Configuration error, heartbeat not started.\\n", "ha-log")
    >>> [(r.layout, r.level, r.message) for r in log.records]
    [('bare', 'error', 'Configuration error, heartbeat not started.')]
    """
    model = HbLog(path)
    for rec in iter_records([data], path, reference=reference):
        model.records.append(rec)
        if rec.truncated:
            model.problems.append(Problem(path, rec.line, f"line longer than {MAX_LOG_LINE} bytes, cut",
                                          shorten(rec.message, 60), "warning"))
    return model
